"""Prices for a simulated run: spot $/h per zone per trace tick, on-demand $/h per zone.

Spot prices come from the trace when it carries them, else a uniform price (the paper's
simulator counts replica-ticks, i.e. every zone costs the same). On-demand = k × the zone's mean
spot price (k = 3 in the paper), unless k is None and the trace carries on-demand list prices.
Billing integrates the per-tick spot price exactly over a replica's lifetime.
"""

from __future__ import annotations

import numpy as np

from hedgeserve.errors import InputError


class PriceBook:
    def __init__(
        self,
        *,
        n_zones: int,
        n_ticks: int,
        gap_s: float,
        spot: np.ndarray | None,
        on_demand: np.ndarray | None,
        on_demand_ratio: float | None,
        uniform_spot_per_hour: float = 1.0,
    ) -> None:
        if spot is None:
            spot = np.full((n_zones, n_ticks), uniform_spot_per_hour, dtype=np.float64)
        self.gap_s = gap_s
        self.spot = spot.astype(np.float64)  # (zones, ticks) $/h, for planners that see ahead
        self._spot = [list(map(float, row)) for row in spot]
        # cumulative $ at each tick boundary, per zone: _cum[z][k] = cost of [0, k*gap)
        self._cum: list[list[float]] = [
            [0.0, *map(float, np.cumsum(row * gap_s / 3600.0))] for row in spot.astype(np.float64)
        ]
        if on_demand_ratio is not None:
            self.on_demand = [float(on_demand_ratio * row.mean()) for row in spot]
        elif on_demand is not None:
            self.on_demand = [float(p) for p in on_demand]
        else:
            raise InputError(
                "the trace carries no on-demand prices",
                fix="give an on-demand/spot price ratio (--k, e.g. 3)",
            )
        self.n_ticks = n_ticks

    def _tick(self, t: float) -> int:
        return min(max(int(t // self.gap_s), 0), self.n_ticks - 1)

    def spot_at(self, zone: int, t: float) -> float:
        return self._spot[zone][self._tick(t)]

    def _spot_integral(self, zone: int, t: float) -> float:
        k = self._tick(t)
        return self._cum[zone][k] + (t - k * self.gap_s) * self._spot[zone][k] / 3600.0

    def spot_cost(self, zone: int, start: float, end: float) -> float:
        if end <= start:
            return 0.0
        return self._spot_integral(zone, end) - self._spot_integral(zone, start)

    @property
    def cheapest_on_demand(self) -> float:
        return min(self.on_demand)
