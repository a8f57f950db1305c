"""Latency percentiles (tools/lattice/engines/perf/stats.py) against values worked by hand: linear
interpolation between the closest ranks, numpy's default."""

from __future__ import annotations

import pytest

from tools.lattice.engines.perf.stats import LatencySummary, percentile


def test_percentiles_interpolate_between_the_closest_ranks() -> None:
    samples = [40.0, 10.0, 30.0, 20.0, 50.0]  # sorted: 10 20 30 40 50; rank = 4 * p / 100
    assert percentile(samples, 50) == 30.0
    assert percentile(samples, 95) == pytest.approx(48.0)  # rank 3.8: 40 + 0.8 * 10
    assert percentile(samples, 99) == pytest.approx(49.6)
    assert percentile(samples, 1) == pytest.approx(10.4)
    assert (percentile(samples, 0), percentile(samples, 100)) == (10.0, 50.0)
    assert percentile([7.0], 95) == 7.0


@pytest.mark.parametrize("p", [-1, 101, 99.9])
def test_a_percentile_outside_0_to_100_or_not_whole_is_refused(p: float) -> None:
    with pytest.raises(ValueError, match=r"not an integer in 0\.\.100"):
        percentile([1.0, 2.0], p)  # type: ignore[arg-type]


def test_a_summary_is_in_milliseconds() -> None:
    summary = LatencySummary.of([0.010, 0.020, 0.030, 0.040, 0.050], wall_s=0.5)
    assert summary.as_dict() == {
        "n": 5, "p50_ms": 30.0, "p95_ms": 48.0, "p99_ms": 49.6, "max_ms": 50.0, "rps": 10.0,
    }  # fmt: skip
