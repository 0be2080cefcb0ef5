"""The engine (private): loading targets, running properties, and the isolated command-line run.

``backend`` -- resolving a TARGET and calling it in this process; ``runner`` -- one property
on one backend with hypothesis, and the command line's run over judge processes; ``judge``,
``executor``, ``remote``, ``wire``, ``processes`` -- the judge/executor split, its plain-data
protocol and process lifetimes; ``reproduction`` -- copy-pasteable reproductions;
``known_failures`` -- known failures and skips as data.
"""
