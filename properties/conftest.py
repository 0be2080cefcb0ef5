# The parametrization comes from convspec's pytest plugin (--convspec-backend); inside this
# repository the short --backend is kept as well.
#
# CONVSPEC_TESTS=quick (scripts/test.sh without --full): up to six cases of each property (spread
# over its dtypes, dimensions and modes), each on one of the bundled backends it applies to, in
# turn, so every property and every backend is exercised in a few minutes; the full suite
# (scripts/test.sh --full, or plain pytest) runs every case on every backend.
import os
import zlib


def pytest_addoption(parser):
    parser.getgroup("convspec").addoption("--backend", action="append", default=[], metavar="TARGET",
                                          help="same as --convspec-backend (this repository only)")


#: The quick tests run at most this many cases of each property.
CASES = 6


def _applies(prop, target, fixed, loaded):
    from convspec import load_backend

    if target not in loaded:
        loaded[target] = load_backend(target)
    backend = loaded[target]
    if prop.skip_reason(backend) is not None:
        return False
    allowed = prop.allowed(backend)
    return all(v in allowed.get(a, (v,)) for a, v in fixed.items())


def pytest_collection_modifyitems(config, items):
    if os.environ.get("CONVSPEC_TESTS", "full") != "quick":
        return
    loaded, turn, keep, drop = {}, {}, [], []
    groups: dict = {}
    for item in items:
        prop = getattr(getattr(item, "function", None), "convspec_property", None)
        params = getattr(getattr(item, "callspec", None), "params", {})
        if prop is None or "convspec_backend" not in params:
            keep.append(item)
            continue
        groups.setdefault((prop.name, str(params.get("convspec_case"))), []).append((item, prop, params))
    cases: dict = {}
    for name, case in groups:
        cases.setdefault(name, []).append(case)
    for (name, case), members in groups.items():
        fitting = [m for m in members if _applies(m[1], m[2]["convspec_backend"], m[2]["convspec_case"], loaded)]
        # at most CASES cases of a property (spread over them), each on one backend it applies to
        mine = cases[name]
        every = max(1, -(-len(mine) // CASES))
        if not fitting or mine.index(case) % every:
            drop.extend(m[0] for m in members)
            continue
        start = turn.setdefault(name, zlib.crc32(name.encode()))  # each property starts on its own backend
        chosen = fitting[start % len(fitting)]
        turn[name] = start + 1
        keep.append(chosen[0])
        drop.extend(m[0] for m in members if m is not chosen)
    if drop:
        config.hook.pytest_deselected(items=drop)
        dropped = set(map(id, drop))
        items[:] = [i for i in items if id(i) not in dropped]
