"""Prices for a simulated run: spot $/h per zone per trace tick, on-demand $/h per zone.

Which prices apply is the trace's rule (`Trace.resolved_prices`, shared with the spot
emulator); this module bills with them, integrating the per-tick spot price exactly over a
replica's lifetime.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np


class PriceBook:
    def __init__(self, *, gap_s: float, spot: np.ndarray, on_demand: Iterable[float]) -> None:
        self.gap_s = gap_s
        self.spot = spot.astype(np.float64)  # (zones, ticks) $/h, for planners that see ahead
        self._spot = [list(map(float, row)) for row in self.spot]  # lists: faster to index
        # cumulative $ at each tick boundary, per zone: _cum[z][k] = cost of [0, k*gap)
        self._cum: list[list[float]] = [
            [0.0, *map(float, np.cumsum(row * gap_s / 3600.0))] for row in self.spot
        ]
        self.on_demand = [float(p) for p in on_demand]
        self.n_ticks = int(self.spot.shape[1])

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
