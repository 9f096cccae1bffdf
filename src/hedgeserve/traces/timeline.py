"""Timestamped per-zone observations, and putting them on a regular tick grid.

Probers record rounds at wall-clock times and sometimes miss rounds (the SkyNomad H100 prober
was down 2025-10-09 04:20 -> 06:10 UTC). `Observations` keeps exactly what was seen, with
`MISSING` where a zone was not observed in a round; `to_trace` lays it on ticks
start + k * gap_s and fills the holes by a named rule, marking every filled cell in
`Trace.filled` so a report can tell measured from guessed.

Invariants: `times` are timezone-aware UTC, strictly increasing; `counts` has shape
(zones, rounds) with values >= 0 or MISSING; every round lies on the grid (within a quarter
tick), else the input is refused rather than silently snapped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import numpy as np

from hedgeserve.errors import InputError
from hedgeserve.traces.model import BoolArray, IntArray, Trace
from hedgeserve.traces.zone_names import infer_zone_id

MISSING = -1  # no observation of that zone in that round


class Fill(StrEnum):
    """How to fill ticks with no observation."""

    CARRY = "carry"  # repeat the zone's last observed value (0 before its first observation)
    ZERO = "zero"  # assume no spot capacity: the pessimistic reading of a prober outage


@dataclass(frozen=True, eq=False)
class Observations:
    zones: tuple[str, ...]  # zone names as the source spells them
    times: tuple[datetime, ...]  # round start times, UTC, strictly increasing
    counts: IntArray  # (zones, rounds); MISSING where not observed

    def __post_init__(self) -> None:
        if self.counts.shape != (len(self.zones), len(self.times)):
            raise ValueError(f"counts shape {self.counts.shape} does not match zones x rounds")


def typical_gap_s(times: tuple[datetime, ...]) -> float:
    """The median spacing of rounds, in whole seconds: robust to a few missing rounds."""
    if len(times) < 2:
        raise ValueError("need two rounds to infer a tick length")
    diffs = np.diff([t.timestamp() for t in times])
    return float(round(float(np.median(diffs))))


def to_trace(
    obs: Observations,
    *,
    name: str,
    source: str,
    gap_s: float | None = None,
    fill: Fill = Fill.CARRY,
    cloud: str | None = None,
    instance: str | None = None,
) -> Trace:
    """Lay observations on a regular grid starting at the first round.

    Args:
        gap_s: tick length; default is the median spacing of the rounds.
        fill: how to fill ticks (or single zones) that were not observed.
    """
    if not obs.times:
        raise InputError("no observations", where=source)
    gap = gap_s if gap_s is not None else (typical_gap_s(obs.times) if len(obs.times) > 1 else 1.0)
    offsets = np.array([(t - obs.times[0]).total_seconds() for t in obs.times]) / gap
    ticks = np.rint(offsets).astype(np.int64)
    off_grid = np.abs(offsets - ticks) > 0.25
    if off_grid.any():
        bad = obs.times[int(np.flatnonzero(off_grid)[0])]
        raise InputError(
            f"round at {bad.isoformat()} is not on the {gap:g} s grid", where=source,
            fix="pass the right tick length (gap_s)",
        )
    if (np.diff(ticks) == 0).any():
        raise InputError(f"two rounds fall into one {gap:g} s tick", where=source)
    seen = np.full((len(obs.zones), int(ticks[-1]) + 1), MISSING, dtype=np.int64)
    seen[:, ticks] = obs.counts
    capacity, filled = fill_missing(seen, fill)
    return Trace(
        name=name,
        zones=tuple(infer_zone_id(z, cloud) for z in obs.zones),
        gap_s=gap,
        capacity=capacity,
        instance=instance,
        source=source,
        filled=filled if filled.any() else None,
    )


def fill_missing(seen: IntArray, fill: Fill) -> tuple[IntArray, BoolArray]:
    """(capacity, filled mask) from a grid with MISSING holes."""
    filled = seen == MISSING
    if fill is Fill.ZERO:
        return np.where(filled, 0, seen).astype(np.int64), filled
    # Carry forward: index of the last observed tick at or before each tick, per zone.
    n = seen.shape[1]
    last = np.where(filled, -1, np.arange(n))
    np.maximum.accumulate(last, axis=1, out=last)
    carried = np.take_along_axis(seen, np.maximum(last, 0), axis=1)
    capacity = np.where(last < 0, 0, carried).astype(np.int64)
    return capacity, filled
