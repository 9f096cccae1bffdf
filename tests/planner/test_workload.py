"""Buckets and workloads (samples and fitted lognormals); request logs: tests/traces."""

from __future__ import annotations

import pytest

from hedgeserve.planner.buckets import DEFAULT_GRID, BucketGrid, parse_edges
from hedgeserve.planner.workload import (
    LengthQuantiles,
    named_workload,
    workload_from_samples,
)

GRID = BucketGrid((25, 100), (10, 50))


@pytest.mark.parametrize(
    ("sizes", "index"),
    [((1, 1), 0), ((25, 10), 0), ((26, 10), 2), ((25, 11), 1), ((100, 50), 3),
     ((5000, 5000), 3)],  # above both last edges: clamped into the last bucket
    ids=["smallest", "on-edges", "input-over-edge", "output-over-edge", "last", "clamped"])
def test_index_of_uses_upper_edges_and_clamps(sizes: tuple[int, int], index: int) -> None:
    assert GRID.index_of(*sizes) == index


def test_grid_rejects_unsorted_edges() -> None:
    with pytest.raises(ValueError, match="increasing"):
        BucketGrid((100, 25), (10,))


def test_parse_edges_accepts_k_suffix() -> None:
    assert parse_edges("25, 100,1k,2.5k") == (25, 100, 1000, 2500)
    with pytest.raises(ValueError):
        parse_edges("25,abc")


def test_samples_fill_shares_and_count_clamped() -> None:
    workload = workload_from_samples(GRID, [(10, 5), (10, 5), (90, 40), (999, 5)], 8.0, "test")
    # (10,5) x2 -> bucket 0; (90,40) -> bucket 3; (999,5) -> input clamped into bucket 2
    assert workload.shares == (0.5, 0.0, 0.25, 0.25)
    assert workload.clamped_share == 0.25
    assert workload.loads_per_s == (4.0, 0.0, 2.0, 2.0)


def test_lognormal_fit_reproduces_its_quantiles() -> None:
    lengths = LengthQuantiles(p50=143, p99=5587)
    assert lengths.cdf(143) == pytest.approx(0.5)
    assert lengths.cdf(5587) == pytest.approx(0.99)


def test_arena_like_shares_sum_to_one_and_follow_the_fit() -> None:
    workload = named_workload("arena-like", DEFAULT_GRID, 4.0)
    assert sum(workload.shares) == pytest.approx(1.0)
    assert sum(workload.loads_per_s) == pytest.approx(4.0)
    # The share with both lengths <= 250 is P(in <= 250) * P(out <= 250) under independence.
    small = sum(s for b, s in zip(DEFAULT_GRID.buckets, workload.shares, strict=True)
                if b.input_tokens <= 250 and b.output_tokens <= 250)
    expected = LengthQuantiles(143, 5587).cdf(250) * LengthQuantiles(143, 769).cdf(250)
    assert small == pytest.approx(expected)
    assert 0 < workload.clamped_share < 0.01  # inputs above 16k tokens are rare
