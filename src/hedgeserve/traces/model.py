"""`Trace`: per-zone spot capacity (and optionally prices) on a fixed tick.

Invariants: `capacity` is an int64 array of shape (zones, ticks), values >= 0, where
`UNLIMITED` stands for "as many as you ask" (1-node availability traces: 1 means obtainable).
`spot_price`, when present, is float64 $/h per replica with the same shape. `filled`, when
present, is a bool mask of the same shape marking cells a loader filled in because the source had
no observation there (e.g. a prober outage); their capacity is the loader's documented guess.
Zone order is the trace's own; simulations shuffle it per repeat, never here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from hedgeserve.core.zones import ZoneId
from hedgeserve.errors import InputError

UNLIMITED = 1_000_000  # capacity value meaning "no limit at our scale"
UNIFORM_SPOT_PER_HOUR = 1.0  # spot price of a trace without prices: every zone costs the same

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, eq=False)
class Trace:
    name: str
    zones: tuple[ZoneId, ...]
    gap_s: float
    capacity: IntArray  # (zones, ticks)
    spot_price: FloatArray | None = None  # (zones, ticks), $/h per replica
    on_demand_price: FloatArray | None = None  # (zones,), $/h per replica
    instance: str | None = None  # instance type the trace was collected with, if known
    source: str = ""  # where it was loaded from, for reports
    filled: BoolArray | None = None  # (zones, ticks), True where the loader filled a gap

    def __post_init__(self) -> None:
        if self.capacity.ndim != 2 or self.capacity.shape[0] != len(self.zones):
            raise ValueError(
                f"capacity shape {self.capacity.shape} does not match {len(self.zones)} zones"
            )
        if self.gap_s <= 0:
            raise ValueError(f"gap_s must be positive, got {self.gap_s}")
        if self.spot_price is not None and self.spot_price.shape != self.capacity.shape:
            raise ValueError("spot_price must have the same shape as capacity")
        if self.on_demand_price is not None and self.on_demand_price.shape != (len(self.zones),):
            raise ValueError("on_demand_price must have one value per zone")
        if self.filled is not None and self.filled.shape != self.capacity.shape:
            raise ValueError("filled must have the same shape as capacity")

    @property
    def n_ticks(self) -> int:
        return int(self.capacity.shape[1])

    @property
    def duration_s(self) -> float:
        return self.n_ticks * self.gap_s

    @property
    def filled_ticks(self) -> tuple[int, ...]:
        """Ticks where at least one zone's capacity was filled in rather than observed."""
        if self.filled is None:
            return ()
        return tuple(int(t) for t in np.flatnonzero(self.filled.any(axis=0)))

    def resolved_prices(self, on_demand_ratio: float | None) -> tuple[FloatArray, FloatArray]:
        """Spot $/h per zone per tick and on-demand $/h per zone, for one replica.

        Spot: the trace's own prices, else a uniform price (the paper's simulator counts
        replica-ticks). On-demand: `on_demand_ratio` × the zone's mean spot price when a ratio
        is given (k = 3 in the paper), else the trace's on-demand list prices."""
        spot = self.spot_price
        if spot is None:
            spot = np.full(self.capacity.shape, UNIFORM_SPOT_PER_HOUR, dtype=np.float64)
        if on_demand_ratio is not None:
            return spot, on_demand_ratio * spot.mean(axis=1)
        if self.on_demand_price is None:
            raise InputError(
                "the trace carries no on-demand prices",
                where=f"trace {self.name}",
                fix="give an on-demand/spot price ratio (--k, e.g. 3)",
            )
        return spot, self.on_demand_price.astype(np.float64)

    def window(self, start_tick: int, n_ticks: int) -> Trace:
        """Ticks [start_tick, start_tick + n_ticks), wrapping around the end like the paper's
        simulator does when a random offset lands near the end."""
        if n_ticks <= 0:
            raise ValueError("a window needs at least one tick")
        idx = (start_tick + np.arange(n_ticks)) % self.n_ticks
        return replace(
            self,
            capacity=self.capacity[:, idx],
            spot_price=None if self.spot_price is None else self.spot_price[:, idx],
            filled=None if self.filled is None else self.filled[:, idx],
        )

    def select(self, zones: Sequence[str]) -> Trace:
        """The same trace restricted to (and reordered as) `zones`. Each name may be a full id
        or a suffix of one ("us-central1-a")."""
        rows = [self.zone_index(z) for z in zones]
        return replace(
            self,
            zones=tuple(self.zones[r] for r in rows),
            capacity=self.capacity[rows],
            spot_price=None if self.spot_price is None else self.spot_price[rows],
            on_demand_price=None if self.on_demand_price is None else self.on_demand_price[rows],
            filled=None if self.filled is None else self.filled[rows],
        )

    def zone_index(self, name: str) -> int:
        matches = [i for i, z in enumerate(self.zones) if z == name or z.endswith("/" + name)]
        if len(matches) != 1:
            known = ", ".join(z.rsplit("/", 1)[-1] for z in self.zones)
            what = "is ambiguous" if matches else "is not in the trace"
            raise InputError(
                f"zone {name!r} {what}",
                where=f"trace {self.name}",
                fix=f"use one of: {known}",
            )
        return matches[0]
