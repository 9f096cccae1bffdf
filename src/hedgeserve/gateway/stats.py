"""Request counters and latency histograms, cheap enough for the hot path.

The proxy bumps plain integers here (a few attribute increments per request); `/metrics`
(prometheus-client collector in `metrics.py`) and the autoscaler's `/stats` JSON read them
only when asked. Counters only grow while the process lives; `started_at_unix` changes on a
restart, which tells a reader that differentiates counters over time to start afresh.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter
from dataclasses import dataclass, field

# Seconds. Spans a sub-millisecond proxy hop up to a long non-streamed generation.
LATENCY_BOUNDS_S: tuple[float, ...] = (
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
    1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0,
)  # fmt: skip


class LatencyHistogram:
    """Fixed-bucket histogram: `counts[i]` holds observations <= bounds[i]; the last is +Inf."""

    __slots__ = ("bounds", "counts", "sum_s", "count")

    def __init__(self, bounds: tuple[float, ...] = LATENCY_BOUNDS_S) -> None:
        self.bounds = bounds
        self.counts = [0] * (len(bounds) + 1)
        self.sum_s = 0.0
        self.count = 0

    def observe(self, seconds: float) -> None:
        self.counts[bisect_left(self.bounds, seconds)] += 1
        self.sum_s += seconds
        self.count += 1

    def cumulative(self) -> list[tuple[float, int]]:
        """(upper bound, observations <= bound) pairs, ending with (inf, count)."""
        out: list[tuple[float, int]] = []
        running = 0
        for bound, n in zip((*self.bounds, float("inf")), self.counts, strict=True):
            running += n
            out.append((bound, running))
        return out


@dataclass(slots=True)
class GatewayStats:
    started_at_unix: float
    requests_total: int = 0  # every request the gateway accepted, whatever its outcome
    responses_by_class: list[int] = field(default_factory=lambda: [0] * 6)  # index = status // 100
    errors_by_cause: Counter[str] = field(default_factory=Counter)
    retries_total: int = 0
    active: int = 0  # requests now inside the gateway (waiting, in flight or streaming)
    queued: int = 0  # of those, requests waiting for a ready replica
    sse_events_total: int = 0
    replica_set_updates_total: int = 0  # pushes and pulls that changed the set
    pull_failures_total: int = 0  # pull-mode polls that failed (last good set kept)
    probes_total: int = 0
    # From arrival to the last byte, to the first body byte, and waiting (only those that waited).
    latency: LatencyHistogram = field(default_factory=LatencyHistogram)
    first_byte: LatencyHistogram = field(default_factory=LatencyHistogram)
    queue_wait: LatencyHistogram = field(default_factory=LatencyHistogram)

    def count_response(self, status: int) -> None:
        self.responses_by_class[min(status // 100, 5)] += 1

    def count_error(self, cause: str) -> None:
        self.errors_by_cause[cause] += 1

    def responses(self) -> dict[str, int]:
        return {f"{i}xx": n for i, n in enumerate(self.responses_by_class) if i >= 1}
