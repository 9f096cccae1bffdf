"""Workloads: the share of requests in each size bucket, and the total request rate.

A workload is filled either from observed (input, output) token counts (a request log) or from a
named length distribution given by quantiles. The named "arena-like" distribution is two
*independent lognormals fitted to published quantiles* of Chatbot Arena request sizes
(input p50 143 / p99 5,587, output p50 143 / p99 769 Llama-2 tokens); it is not the dataset: the
real input/output lengths are correlated and heavier-tailed than a lognormal.

Invariants: shares are non-negative and sum to 1 (a workload with no requests is rejected); the
rate is in requests per second; `clamped_share` is the share of requests above the grid's last
edges, counted in the last bucket.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from hedgeserve.planner.buckets import BucketGrid

_Z99 = 2.3263478740408408  # standard normal quantile of 0.99


@dataclass(frozen=True, slots=True)
class Workload:
    grid: BucketGrid
    shares: tuple[float, ...]  # per bucket, in grid order; sums to 1
    rate_per_s: float
    clamped_share: float  # share of requests longer than the grid's last edges
    source: str  # where the shares came from, for reports

    def __post_init__(self) -> None:
        if len(self.shares) != self.grid.size:
            raise ValueError(f"{len(self.shares)} shares for {self.grid.size} buckets")
        if any(s < 0 for s in self.shares) or abs(sum(self.shares) - 1.0) > 1e-9:
            raise ValueError("shares must be non-negative and sum to 1")
        if not self.rate_per_s >= 0:
            raise ValueError(f"rate must be >= 0, got {self.rate_per_s}")

    @property
    def loads_per_s(self) -> tuple[float, ...]:
        """Request rate of each bucket (req/s)."""
        return tuple(s * self.rate_per_s for s in self.shares)

    def with_rate(self, rate_per_s: float) -> Workload:
        return Workload(self.grid, self.shares, rate_per_s, self.clamped_share, self.source)


def workload_from_samples(grid: BucketGrid, sizes: Iterable[tuple[int, int]], rate_per_s: float,
                          source: str) -> Workload:
    """Histogram (input_tokens, output_tokens) pairs onto the grid; raises ValueError if empty."""
    counts = [0] * grid.size
    clamped = 0
    for input_tokens, output_tokens in sizes:
        counts[grid.index_of(input_tokens, output_tokens)] += 1
        clamped += grid.is_clamped(input_tokens, output_tokens)
    total = sum(counts)
    if total == 0:
        raise ValueError("no requests to build a workload from")
    return Workload(grid, tuple(c / total for c in counts), rate_per_s, clamped / total, source)


@dataclass(frozen=True, slots=True)
class LengthQuantiles:
    """A length distribution given by its median and 99th percentile (tokens)."""

    p50: float
    p99: float

    def __post_init__(self) -> None:
        if not 0 < self.p50 < self.p99:
            raise ValueError(f"need 0 < p50 < p99, got p50={self.p50} p99={self.p99}")

    @property
    def lognormal(self) -> tuple[float, float]:
        """(mu, sigma) of the lognormal with this median and 99th percentile."""
        mu = math.log(self.p50)
        return mu, (math.log(self.p99) - mu) / _Z99

    def cdf(self, tokens: float) -> float:
        mu, sigma = self.lognormal
        return 0.5 * (1.0 + math.erf((math.log(tokens) - mu) / (sigma * math.sqrt(2.0))))


def _axis_shares(edges: tuple[int, ...], lengths: LengthQuantiles) -> tuple[list[float], float]:
    """Probability of each bucket of one axis (the tail beyond the last edge joins the last)."""
    cdfs = [lengths.cdf(e) for e in edges]
    shares = [cdfs[0]] + [b - a for a, b in zip(cdfs, cdfs[1:], strict=False)]
    tail = 1.0 - cdfs[-1]
    shares[-1] += tail
    return shares, tail


def workload_from_quantiles(grid: BucketGrid, input_lengths: LengthQuantiles,
                            output_lengths: LengthQuantiles, rate_per_s: float,
                            source: str) -> Workload:
    """Shares from independent lognormal input and output lengths fitted to the quantiles."""
    input_shares, input_tail = _axis_shares(grid.input_edges, input_lengths)
    output_shares, output_tail = _axis_shares(grid.output_edges, output_lengths)
    shares = [i * o for i in input_shares for o in output_shares]
    total = sum(shares)
    clamped = 1.0 - (1.0 - input_tail) * (1.0 - output_tail)
    return Workload(grid, tuple(s / total for s in shares), rate_per_s, clamped, source)


# name -> (input lengths, output lengths). Quantiles of LMSYS-Chat-1M request sizes in Llama-2
# tokens as aggregated in shared/notes/melange.md (input includes earlier turns of the chat).
NAMED_DISTRIBUTIONS: Mapping[str, tuple[LengthQuantiles, LengthQuantiles]] = {
    "arena-like": (LengthQuantiles(p50=143, p99=5587), LengthQuantiles(p50=143, p99=769)),
}


def named_workload(name: str, grid: BucketGrid, rate_per_s: float) -> Workload:
    """A named distribution on the grid; raises KeyError for an unknown name."""
    input_lengths, output_lengths = NAMED_DISTRIBUTIONS[name]
    source = (f"{name} (lognormals fitted to input p50 {input_lengths.p50:g}/p99 "
              f"{input_lengths.p99:g}, output p50 {output_lengths.p50:g}/p99 "
              f"{output_lengths.p99:g} tokens)")
    return workload_from_quantiles(grid, input_lengths, output_lengths, rate_per_s, source)
