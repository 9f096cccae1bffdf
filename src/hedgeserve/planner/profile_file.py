"""Profile files written by `hedge profile` and read by `hedge plan --profile`.

Schema `hedgeserve.profile/v1` (JSON; documented in docs/planner.md):

    {"schema": "hedgeserve.profile/v1",
     "labels": {"gpu": "L4", "model": "llama-2-7b", "gpus_per_replica": 1,
                "engine": "...", "endpoint": "...", "created_utc": "..."},
     "slo": {"tpot_s": 0.04, "ttft_s": null, "percentile": 50},   # the SLO the search targeted
     "settings": {...},                                             # how it was measured
     "input_edges": [...], "output_edges": [...],
     "buckets": [{"input_tokens": 25, "output_tokens": 25, "capacity_per_s": 12.0,
                  "points": [{"rate_per_s": 8.0, "requests": 80, "errors": 0,
                              "throughput_per_s": 7.9,
                              "ttft_s": {"p50": ..., "p90": ..., "p99": ...},
                              "tpot_s": {"p50": ..., "p90": ..., "p99": ...}}, ...]}]}

Every measured point is kept, so a plan may use an SLO other than the one profiled: a bucket's
capacity is the highest measured rate that meets the plan's SLO with every lower measured rate
meeting it too (conservative against noise). Errors at a point fail it.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeFloat,
    NonNegativeInt,
    PositiveInt,
    ValidationError,
)

from hedgeserve.errors import InputError
from hedgeserve.planner.buckets import BucketGrid
from hedgeserve.planner.capacity import CapacityCell, CapacityTable, Limit, Slo
from hedgeserve.planner.data_files import first_error

SCHEMA = "hedgeserve.profile/v1"


class LatencyStats(BaseModel):
    model_config = ConfigDict(extra="forbid")
    p50: NonNegativeFloat
    p90: NonNegativeFloat
    p99: NonNegativeFloat

    def at(self, percentile: int) -> float:
        return {50: self.p50, 90: self.p90, 99: self.p99}[percentile]


class ProfilePoint(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rate_per_s: NonNegativeFloat
    requests: NonNegativeInt
    errors: NonNegativeInt
    throughput_per_s: NonNegativeFloat
    ttft_s: LatencyStats | None  # None when no request completed
    tpot_s: LatencyStats | None


class ProfileBucket(BaseModel):
    model_config = ConfigDict(extra="forbid")
    input_tokens: PositiveInt
    output_tokens: PositiveInt
    capacity_per_s: NonNegativeFloat
    points: list[ProfilePoint]


class ProfileSlo(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tpot_s: float = Field(gt=0)
    ttft_s: float | None = Field(default=None, gt=0)
    percentile: int = 50


class ProfileLabels(BaseModel):
    model_config = ConfigDict(extra="allow")
    gpu: str
    model: str
    gpus_per_replica: PositiveInt = 1
    engine: str = "unknown"
    endpoint: str = ""
    created_utc: str = ""


class Profile(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    schema_id: str = Field(alias="schema", default=SCHEMA)
    labels: ProfileLabels
    slo: ProfileSlo
    settings: dict[str, float | int | str] = Field(default_factory=dict)
    input_edges: list[PositiveInt]
    output_edges: list[PositiveInt]
    buckets: list[ProfileBucket]


def point_meets(point: ProfilePoint, slo: Slo) -> bool:
    """Whether a measured point meets `slo` at its percentile (any error fails it)."""
    if point.errors > 0 or point.tpot_s is None or point.ttft_s is None:
        return False
    if point.tpot_s.at(slo.percentile) > slo.tpot_s:
        return False
    return slo.ttft_s is None or point.ttft_s.at(slo.percentile) <= slo.ttft_s


def capacity_from_points(points: list[ProfilePoint], slo: Slo) -> float:
    """Highest measured rate meeting `slo` with every lower measured rate meeting it too."""
    capacity = 0.0
    for point in sorted(points, key=lambda p: p.rate_per_s):
        if not point_meets(point, slo):
            break
        capacity = point.rate_per_s
    return capacity


def write_profile(path: Path, profile: Profile) -> None:
    path.write_text(json.dumps(profile.model_dump(by_alias=True), indent=2) + "\n",
                    encoding="utf-8")


def read_profile(path: Path) -> Profile:
    if not path.is_file():
        raise InputError("no such file", where=str(path), fix="write one with `hedge profile`")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise InputError(f"not JSON: {err.msg}", where=str(path)) from None
    except UnicodeDecodeError:
        raise InputError("not a text file (expected a JSON profile)", where=str(path),
                         fix="write one with `hedge profile`") from None
    except OSError as err:
        raise InputError(f"cannot read: {err.strerror}", where=str(path)) from None
    try:
        profile = Profile.model_validate(raw)
    except ValidationError as err:
        raise InputError(f"not a profile: {first_error(err)}", where=str(path)) from None
    if profile.schema_id != SCHEMA:
        raise InputError(f"unknown profile schema {profile.schema_id!r}", where=str(path),
                         fix=f"expected {SCHEMA}")
    return profile


def capacity_from_profile(profile: Profile, grid: BucketGrid, slo: Slo,
                          where: str) -> CapacityTable:
    """The profile's capacities on `grid` under `slo`; every bucket must have been profiled."""
    by_size = {(b.input_tokens, b.output_tokens): b for b in profile.buckets}
    cells: list[CapacityCell] = []
    for bucket in grid.buckets:
        measured = by_size.get((bucket.input_tokens, bucket.output_tokens))
        if measured is None:
            raise InputError(
                f"the profile has no bucket {bucket.name}", where=where,
                fix=f"plan with the profile's edges (--input-edges "
                    f"{','.join(map(str, profile.input_edges))} --output-edges "
                    f"{','.join(map(str, profile.output_edges))}) or profile these buckets")
        rate = capacity_from_points(measured.points, slo)
        slowest = [p for p in sorted(measured.points, key=lambda p: p.rate_per_s)
                   if p.tpot_s is not None and p.ttft_s is not None]
        best_tpot = slowest[0].tpot_s.at(slo.percentile) if slowest and slowest[0].tpot_s \
            else math.inf
        best_ttft = slowest[0].ttft_s.at(slo.percentile) if slowest and slowest[0].ttft_s \
            else math.inf
        cells.append(CapacityCell(rate, Limit.MEASURED, best_tpot, best_ttft))
    return CapacityTable(profile.labels.gpu, profile.labels.gpus_per_replica,
                         f"profile {where}", tuple(cells))
