"""The front ends (private): the command line, its console output, the conformance report,
the scoreboard, and the pytest route (the ``Conformance`` class and the plugin)."""
