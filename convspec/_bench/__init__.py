"""``convspec bench``: performance reports for any implementation (docs/results/performance.md).

``problems`` -- one readable line per problem; ``suites`` -- the suites as data; ``engine`` --
checking and timing; ``peers`` -- library entry points timed beside a target; ``report`` --
Markdown, PNG and JSON.
"""
