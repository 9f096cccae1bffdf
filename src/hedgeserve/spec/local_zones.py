"""Failure domains for the local provider: declared by hand (`zones:`) or replayed from a spot
trace (`spot_emulation:`).

`zones:` lists zone names, optionally with $/h prices, so a user can run replicas "in" several
emulated failure domains without a trace. `spot_emulation:` replays a real spot-capacity trace,
time-compressed: launches into a zone with no capacity fail, and when capacity drops below the
spot replicas running there, the excess gets `notice_seconds` of warning and is then killed.
The trace loader lives in `hedgeserve.traces`; here the trace is only a name or a path.

Invariant: zone ids are "cloud/region/zone"; a bare name `a` is `local/local/a`, and
`region/a` is `local/region/a`.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import Field, ValidationInfo, field_validator, model_validator

from hedgeserve.core.zones import ZoneId
from hedgeserve.spec.paths import resolve_path
from hedgeserve.spec.strict_model import (
    Count,
    PositiveSeconds,
    Price,
    Seconds,
    StrictModel,
    rule_error,
)

LOCAL_CLOUD = "local"
DEFAULT_TIME_SCALE = 60.0  # trace seconds per wall second: one trace-hour per minute
DEFAULT_NOTICE_S = 2.0  # wall seconds between a preemption notice and the kill
_ZONE_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_TRACE_FILE_SUFFIXES = (".json", ".csv", ".npz", ".parquet", ".txt")


def local_zone_id(name: str) -> ZoneId:
    parts = name.split("/")
    if len(parts) == 1:
        return ZoneId(f"{LOCAL_CLOUD}/{LOCAL_CLOUD}/{name}")
    if len(parts) == 2:
        return ZoneId(f"{LOCAL_CLOUD}/{name}")
    return ZoneId(name)


def is_trace_path(trace: str) -> bool:
    """A bundled trace is a bare name (`gcp-h100`); anything that looks like a file is a path."""
    return "/" in trace or trace.startswith((".", "~")) or trace.endswith(_TRACE_FILE_SUFFIXES)


class LocalZoneConfig(StrictModel):
    name: str = Field(description="a zone name: zone, region/zone or cloud/region/zone")
    spot_per_hour: Price | None = None
    on_demand_per_hour: Price | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_name(cls, data: Any) -> Any:
        return {"name": data} if isinstance(data, str) else data

    @field_validator("name")
    @classmethod
    def _check_name(cls, name: str) -> str:
        parts = name.split("/")
        if len(parts) > 3 or not all(_ZONE_PART.match(p) for p in parts):
            raise rule_error(
                f"zone name {name!r} is not zone, region/zone or cloud/region/zone",
                fix="use letters, digits, '-', '_' or '.', e.g. zone-a or us-east/zone-a",
            )
        return name

    @property
    def zone_id(self) -> ZoneId:
        return local_zone_id(self.name)


class SpotEmulationConfig(StrictModel):
    trace: str = Field(
        description="a bundled trace name such as gcp-h100, or a path to a trace file or folder"
    )
    zones: tuple[str, ...] | None = Field(
        default=None, description="a list of the trace's zone names to use (default: all)"
    )
    time_scale: PositiveSeconds = Field(
        default=DEFAULT_TIME_SCALE, description="trace seconds per wall second, > 0 (60 = 1 h/min)"
    )
    start_hour: Seconds = Field(
        default=0.0, description="hours into the trace where replay starts, ≥ 0"
    )
    notice_seconds: Seconds = DEFAULT_NOTICE_S
    seed: Count = 0
    cold_start_seconds: Seconds = 0.0

    @field_validator("trace", mode="before")
    @classmethod
    def _trace(cls, value: Any, info: ValidationInfo) -> Any:
        if isinstance(value, str):
            if not value.strip():
                raise rule_error(
                    "trace is empty", fix="name a bundled trace (e.g. gcp-h100) or a trace path"
                )
            value = value.strip()
            if is_trace_path(value):
                return resolve_path(value, info)
        return value

    @field_validator("zones")
    @classmethod
    def _distinct_zones(cls, zones: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if zones is None:
            return None
        if not zones:
            raise rule_error("zones is an empty list", fix="list zones, or remove zones to use all")
        _reject_duplicates([(z, z) for z in zones])
        return zones

    @property
    def trace_is_path(self) -> bool:
        return is_trace_path(self.trace)


def check_distinct_zones(zones: tuple[LocalZoneConfig, ...]) -> None:
    if not zones:
        raise rule_error("zones is an empty list", fix="list at least one zone, or remove zones")
    _reject_duplicates([(z.name, z.zone_id) for z in zones])


def _reject_duplicates(names: list[tuple[str, str]]) -> None:
    """`names` holds (as written, identity) pairs; `a` and `local/local/a` are the same zone."""
    seen: set[str] = set()
    for i, (written, identity) in enumerate(names):
        if identity in seen:
            same = f" (as {identity})" if identity != written else ""
            raise rule_error(
                f"zone {written!r} is listed twice{same}", fix="list each zone once", field=str(i)
            )
        seen.add(identity)
