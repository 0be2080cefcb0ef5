"""Shards of a run (``--shard K/N``): every property in exactly one shard, the same cut on every
machine, and with an earlier run's timings shards that take about the same time."""

import pytest

from convspec._frontends.scoreboard import joined
from convspec._frontends.shards import share

NAMES = [f"p{i:02d}" for i in range(23)]


@pytest.mark.parametrize("count", [1, 2, 3, 7, 30])
@pytest.mark.parametrize("timed", [False, True])
def test_every_property_is_in_exactly_one_shard(count, timed):
    durations = {n: float((i * 37) % 11) for i, n in enumerate(NAMES)} if timed else None
    shards = [share(NAMES, k, count, durations) for k in range(1, count + 1)]
    assert sorted(n for s in shards for n in s) == NAMES
    for s in shards:  # each in catalogue order
        assert s == sorted(s)
    assert shards == [share(list(NAMES), k, count, dict(durations or {})) for k in range(1, count + 1)]


def test_timings_balance_the_shards():
    """One long property and many short ones: every N-th puts the long one beside a full share of
    short ones; the timings give it a shard nearly alone, and no shard exceeds the longest
    property plus the mean share."""
    durations = {n: 1.0 for n in NAMES}
    durations["p00"] = 20.0
    plain = [sum(durations[n] for n in share(NAMES, k, 3)) for k in (1, 2, 3)]
    timed = [sum(durations[n] for n in share(NAMES, k, 3, durations)) for k in (1, 2, 3)]
    assert max(timed) < max(plain)
    assert max(timed) <= 20.0 + sum(durations.values()) / 3
    assert max(timed) - min(timed) <= max(durations.values())


def test_unknown_properties_count_as_the_median():
    durations = {n: 5.0 for n in NAMES[:10]}  # an earlier run without the newer properties
    shards = [share(NAMES, k, 2, durations) for k in (1, 2)]
    assert sorted(n for s in shards for n in s) == NAMES
    assert abs(len(shards[0]) - len(shards[1])) <= 1


def _board(shard, results, seed=0):
    return {"convspec_version": "x", "profile": "default", "seed": seed, "duration": 10.0 * shard[0], "shard": shard,
            "balanced_by": None, "load_errors": {}, "adapters": {"naive": {"profile": "default"}},
            "results": results}


def test_scoreboard_shards_join_into_one_run():
    a = _board([1, 2], [{"backend": "naive", "property": "p1"}])
    b = _board([2, 2], [{"backend": "naive", "property": "p2"}])
    run = joined([a, b], ["a.json", "b.json"])
    assert [r["property"] for r in run["results"]] == ["p1", "p2"] and run["duration"] == 20.0
    assert run["shards"] == {"a.json": [1, 2], "b.json": [2, 2]} and run["shard"] is None
    with pytest.raises(ValueError, match="1/2 again"):
        joined([a, _board([1, 2], [])], ["a.json", "c.json"])
    with pytest.raises(ValueError, match="3/3 missing"):
        joined([_board([1, 3], []), _board([2, 3], [])], ["a.json", "b.json"])
    with pytest.raises(ValueError, match="seed"):
        joined([a, _board([2, 2], [], seed=1)], ["a.json", "d.json"])
    with pytest.raises(ValueError, match="not a shard"):
        joined([a, {**b, "shard": None}], ["a.json", "e.json"])
    assert joined([a], ["a.json"])["shard"] == [1, 2]  # one shard alone is a board of its share
