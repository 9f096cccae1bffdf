"""Capacities: the highest request rate one replica sustains per bucket while meeting the SLO.

A `CapacityTable` holds one `CapacityCell` per bucket of a grid for one GPU type (one replica
shape). A rate of 0 means the replica cannot serve that bucket within the SLO at all; the cell
then says why (`limit`) and how close it came (`best_tpot_s`, `best_ttft_s`: the latencies of a
lone request), so an infeasible plan can name the GPU that comes closest.

Invariants: rates are >= 0 req/s; cells are in grid order; latencies are seconds (inf when the
replica cannot hold even one request).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from hedgeserve.planner.buckets import Bucket


class Limit(StrEnum):
    """What caps a replica's rate for a bucket."""

    TPOT = "tpot"  # time per output token reaches the SLO
    TTFT = "ttft"  # time to first token reaches the SLO
    KV_MEMORY = "kv_memory"  # the KV cache is full
    WEIGHTS = "weights"  # the weights do not fit (rate 0)
    CONTEXT = "context"  # one request needs more KV cache than the replica has (rate 0)
    BATCH = "batch"  # the engine's maximum number of running sequences
    REQUESTS = "requests"  # the API server's request-handling rate
    MEASURED = "measured"  # from a profile: the highest measured rate that met the SLO


@dataclass(frozen=True, slots=True)
class Slo:
    tpot_s: float  # time per output token, seconds
    ttft_s: float | None = None  # time to first token, seconds (None: not constrained)
    percentile: int = 50  # which percentile must meet it (profiles record 50, 90 and 99)

    def __post_init__(self) -> None:
        if not self.tpot_s > 0 or (self.ttft_s is not None and not self.ttft_s > 0):
            raise ValueError("SLO latencies must be positive")
        if self.percentile not in (50, 90, 99):
            raise ValueError(f"percentile must be 50, 90 or 99, got {self.percentile}")

    def describe(self) -> str:
        parts = [f"TPOT p{self.percentile} <= {self.tpot_s * 1000:g} ms"]
        if self.ttft_s is not None:
            parts.append(f"TTFT p{self.percentile} <= {self.ttft_s:g} s")
        return ", ".join(parts)


@dataclass(frozen=True, slots=True)
class CapacityCell:
    rate_per_s: float
    limit: Limit
    best_tpot_s: float  # a lone request's time per output token (inf: cannot run)
    best_ttft_s: float  # a lone request's time to first token (inf: cannot run)


@dataclass(frozen=True, slots=True)
class CapacityTable:
    gpu: str  # GPU type name (catalog key)
    gpus_per_replica: int  # tensor-parallel degree of one replica
    source: str  # "analytical" or the profile file it came from
    cells: tuple[CapacityCell, ...]

    @property
    def rates_per_s(self) -> tuple[float, ...]:
        return tuple(c.rate_per_s for c in self.cells)


def closest_miss(index: int, bucket: Bucket, tables: Sequence[CapacityTable],
                 slo: Slo) -> tuple[str, str]:
    """The GPU that comes closest to serving bucket `index`, and how far off it is, in words.

    Closeness is the worst ratio of a lone request's latency to the SLO (TPOT, and TTFT when set).
    """
    def miss_ratio(cell: CapacityCell) -> float:
        ratio = cell.best_tpot_s / slo.tpot_s
        if slo.ttft_s is not None:
            ratio = max(ratio, cell.best_ttft_s / slo.ttft_s)
        return ratio

    table = min(tables, key=lambda t: miss_ratio(t.cells[index]))
    cell = table.cells[index]
    if not math.isfinite(cell.best_tpot_s):
        return table.gpu, (f"even one {bucket.input_tokens}+{bucket.output_tokens}-token request "
                           f"does not fit ({cell.limit})")
    detail = f"a lone request gets TPOT {cell.best_tpot_s * 1000:.0f} ms"
    if slo.ttft_s is not None:
        detail += f" and TTFT {cell.best_ttft_s:.2f} s"
    return table.gpu, detail
