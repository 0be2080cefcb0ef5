import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
MUTANTS = os.path.join(HERE, "mutants")
TRUSTED = os.path.join(HERE, "trusted")
sys.path.insert(0, HERE)


# CONVSPEC_TESTS=quick (scripts/test.sh without --full) runs the tests marked quick_only
# instead of their full_only counterparts: the same corpora, judged on fewer examples.  The
# full suite (scripts/test.sh --full, or plain pytest) runs the full_only ones.
SUITE = os.environ.get("CONVSPEC_TESTS", "full")


def pytest_collection_modifyitems(config, items):
    unwanted = "full_only" if SUITE == "quick" else "quick_only"
    drop = [item for item in items if item.get_closest_marker(unwanted)]
    if drop:
        config.hook.pytest_deselected(items=drop)
        dropped = set(map(id, drop))
        items[:] = [item for item in items if id(item) not in dropped]
