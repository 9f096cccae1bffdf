"""`OptimalPlan` and the schedule arithmetic shared by the Optimal solver and its tests.

A schedule is a count of replicas *held* per row (a zone, or on-demand) per tick. Replicas are
treated as a stack: a decrease drops the newest ones. Under that rule, the replicas in a row that
are ready at tick t are the ones held through every tick t-d .. t, where d is the cold start in
ticks. The minimum of the held counts over that window gives their number (`ready_counts`).

Invariants of an `OptimalPlan`: its arrays are read-only; `ready` equals `ready_counts` of its
schedule; every replica it holds becomes ready before the plan drops it (`drop_idle_holds`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, eq=False)
class OptimalPlan:
    """A schedule on `gap_s` ticks starting at the caller's time origin (tick 0)."""

    gap_s: float  # plan tick length: trace gap x aggregate / subdivide
    spot: IntArray  # (zones, ticks): spot replicas held in each zone during each tick
    on_demand: IntArray  # (ticks,): on-demand replicas held during each tick
    on_demand_zone: int  # index of the zone where on-demand replicas go (the cheapest)
    ready: IntArray  # (ticks,): replicas ready during each tick if the plan is followed
    target: IntArray  # (ticks,): N_tar per tick (max over the trace ticks it covers)
    warmup_ticks: int  # d = ceil(cold_start_s / gap_s): nothing can be ready before it
    cost_usd: float  # cost of holding the schedule, at the trace's per-tick prices
    status: str  # "optimal", or "time_limit" (feasible, optimality not proven)
    aggregate: int = 1  # trace ticks merged into one plan tick
    subdivide: int = 1  # plan ticks per trace tick before merging
    lower_bound_usd: float | None = None  # no schedule costs less (solver's proven bound)
    solve_s: float | None = None  # wall time of the solve, set by the caller

    def __post_init__(self) -> None:
        for arr in (self.spot, self.on_demand, self.ready, self.target):
            arr.setflags(write=False)

    @property
    def n_ticks(self) -> int:
        return int(self.on_demand.shape[0])

    @property
    def mip_gap(self) -> float:
        """Relative distance between the plan's cost and the proven lower bound."""
        if self.lower_bound_usd is None or self.cost_usd <= 0:
            return 0.0
        return max(0.0, (self.cost_usd - self.lower_bound_usd) / self.cost_usd)

    @property
    def availability(self) -> float:
        """Fraction of ticks after the warm-up with ready >= target (1.0 if none remain)."""
        after = slice(self.warmup_ticks, None)
        n = self.ready[after].size
        return float((self.ready[after] >= self.target[after]).sum() / n) if n else 1.0


def ready_counts(held: IntArray, d: int) -> IntArray:
    """Per row and tick t, how many replicas were held through every tick t-d .. t; none
    were held before tick 0, so nothing is ready before tick d."""
    out = held.copy()
    for lag in range(1, d + 1):
        shifted = np.zeros_like(held)
        shifted[:, lag:] = held[:, :-lag]
        out = np.minimum(out, shifted)
    return out


def drop_idle_holds(held: IntArray, d: int) -> IntArray:
    """The same schedule without replicas that are dropped before they ever serve.

    A replica held at t is useful only if it is ready at some tick in t .. t+d, so the
    smallest schedule with the same ready counts holds max(ready[t .. t+d]). A near-optimal
    solver answer may carry such idle holds; removing them lowers cost and guarantees that
    whatever a plan drops is ready, so it does not matter which replicas a preemption hits.
    """
    ready = ready_counts(held, d)
    out = ready.copy()
    for lead in range(1, d + 1):
        shifted = np.zeros_like(ready)
        shifted[:, :-lead] = ready[:, lead:]
        out = np.maximum(out, shifted)
    return out


def aggregate_ticks(
    capacity: IntArray, factor: int
) -> tuple[IntArray, npt.NDArray[np.intp], IntArray]:
    """Merge every `factor` fine ticks into one: (capacity per coarse tick, start index of
    each group, fine ticks per group). The last group may be shorter.

    Capacity takes the per-zone *minimum* over the merged ticks: a coarse plan holds the same
    count through all of them, so only the minimum guarantees it never exceeds the real trace
    (a mean or max would plan replicas that the trace preempts mid-tick).
    """
    n = capacity.shape[1]
    starts = np.arange(0, n, factor)
    sizes = np.diff(np.append(starts, n)).astype(np.int64)
    return np.minimum.reduceat(capacity, starts, axis=1), starts, sizes
