"""Synthetic spot traces for simulator tests: zones whose capacity flips on a Markov chain."""

from __future__ import annotations

import numpy as np

from hedgeserve.core.zones import ZoneId
from hedgeserve.traces.model import Trace


def markov_trace(
    seed: int,
    *,
    zones: int = 4,
    ticks: int = 300,
    gap_s: float = 300.0,
    max_cap: int = 3,
    stay: float = 0.93,
    prices: bool = False,
) -> Trace:
    rng = np.random.default_rng(seed)
    cap = np.zeros((zones, ticks), dtype=np.int64)
    cap[:, 0] = rng.integers(0, max_cap + 1, zones)
    for t in range(1, ticks):
        move = rng.random(zones) > stay
        cap[:, t] = np.where(move, rng.integers(0, max_cap + 1, zones), cap[:, t - 1])
    spot = None
    if prices:
        spot = np.round(rng.uniform(0.5, 2.0, (zones, 1)) * np.ones((1, ticks)), 3)
        spot = spot * (1 + 0.2 * np.sin(np.arange(ticks) / 17.0))[None, :]
    return Trace(
        name=f"markov{seed}",
        zones=tuple(ZoneId(f"test/r{i}/z{i}") for i in range(zones)),
        gap_s=gap_s,
        capacity=cap,
        spot_price=spot,
    )
