"""The omniscient Optimal baseline: a time-indexed integer program over a known capacity trace.

`solve_optimal` sees the whole future (capacity per zone per tick) and returns the cheapest
schedule of held spot replicas per zone and on-demand replicas that keeps at least N_tar replicas
*ready* at every tick after the first cold-start window (or at a given fraction of those ticks).
The formulation and why each constraint exists are in docs/optimal.md.

Invariants of a returned `OptimalPlan`:
- `spot[z, t] <= capacity` at every *fine* tick merged into coarse tick t, so a policy that
  follows the plan is never preempted by the trace;
- a replica counts as ready at tick t only if it was held through ticks t-d .. t, where
  d = ceil(cold_start_s / gap_s); holding a replica since tick start t-d covers its cold start;
- `ready` is recomputed from the integer schedule, not read from the solver's relaxation,
  and idle holds (replicas dropped before they serve) are removed from the solver's answer.

Pure: numpy only at import; SciPy (HiGHS) is imported inside `solve_optimal`. No clock: the
caller times the solve and may store it with `dataclasses.replace(plan, solve_s=...)`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from hedgeserve.core.optimal_plan import (
    OptimalPlan,
    aggregate_ticks,
    drop_idle_holds,
    ready_counts,
)
from hedgeserve.errors import InputError

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
ArrayLike = npt.ArrayLike

_WHERE = "optimal baseline"


def solve_optimal(
    capacity: ArrayLike,
    *,
    gap_s: float,
    spot_price: ArrayLike,
    on_demand_price: ArrayLike,
    target: ArrayLike,
    cold_start_s: float,
    availability_target: float = 1.0,
    aggregate: int = 1,
    max_ticks: int | None = None,
    subdivide: int = 1,
    time_limit_s: float | None = None,
    mip_rel_gap: float = 1e-4,
) -> OptimalPlan:
    """Cheapest spot/on-demand schedule meeting the availability target on a known trace.

    Args:
        capacity: (zones, ticks) spot replicas each zone can hold; huge values mean unlimited.
        gap_s: seconds per trace tick.
        spot_price: $/h per spot replica: scalar, per zone (zones,), or (zones, ticks).
        on_demand_price: $/h per on-demand replica: scalar or per zone (the cheapest is used;
            on-demand is always available).
        target: N_tar, an int or one value per trace tick.
        cold_start_s: seconds from launch until a replica serves.
        availability_target: 1.0 = ready >= N_tar at every tick after the warm-up; below 1.0 =
            at least this fraction of the time after the warm-up.
        aggregate: merge this many trace ticks into one plan tick (fewer variables, coarser).
        max_ticks: raise `aggregate` until the plan has at most this many ticks.
        subdivide: split each trace tick into this many plan ticks first, so launches can be
            timed closer to when they are needed when the cold start is shorter than a tick.
        time_limit_s, mip_rel_gap: passed to HiGHS.

    Raises:
        InputError (a ValueError) on malformed inputs or when no schedule is feasible.
    """
    cap = _capacity(capacity)
    n_zones, n_trace = cap.shape
    if not (math.isfinite(gap_s) and gap_s > 0):
        raise InputError(f"gap_s must be a positive number of seconds, got {gap_s}", where=_WHERE)
    if not (math.isfinite(cold_start_s) and cold_start_s >= 0):
        raise InputError(f"cold start must be >= 0 s, got {cold_start_s}", where=_WHERE)
    if not 0.0 < availability_target <= 1.0:
        raise InputError(
            f"availability target must be in (0, 1], got {availability_target}",
            where=_WHERE,
            fix="pass a fraction such as 0.99",
        )
    spot = _spot_prices(spot_price, n_zones, n_trace)
    od_price, od_zone = _on_demand(on_demand_price, n_zones)
    need_trace = _targets(target, n_trace)
    if subdivide < 1:
        raise InputError(f"subdivide must be >= 1, got {subdivide}", where=_WHERE)
    # Sub-ticks repeat their trace tick: same capacity, price and target.
    fine_gap = gap_s / subdivide
    cap = np.repeat(cap, subdivide, axis=1)
    spot = np.repeat(spot, subdivide, axis=1)
    need_fine = np.repeat(need_trace, subdivide)
    factor = _factor(aggregate, max_ticks, cap.shape[1])

    cap_c, starts, sizes = aggregate_ticks(cap, factor)
    spot_cost = np.add.reduceat(spot, starts, axis=1) * (fine_gap / 3600.0)
    od_cost = (od_price * sizes * fine_gap / 3600.0).astype(np.float64)
    need = np.maximum.reduceat(need_fine, starts)
    plan_gap = fine_gap * factor
    d = math.ceil(cold_start_s / plan_gap - 1e-9)
    n = cap_c.shape[1]
    # A cost-minimal schedule holds at most (d + 1) * max N_tar replicas at any tick
    # (docs/optimal.md); the bound keeps "unlimited" capacities from bloating the search.
    bound = (d + 1) * int(need.max(initial=0))

    model = _Model(n_zones, n, d, weights=sizes, indicators=availability_target < 1.0)
    x = model.solve(
        cost_s=spot_cost,
        cost_o=od_cost,
        cap_s=np.minimum(cap_c, bound),
        cap_o=bound,
        need=need,
        availability=availability_target,
        time_limit_s=time_limit_s,
        mip_rel_gap=mip_rel_gap,
    )
    s_plan = drop_idle_holds(np.rint(x.s).astype(np.int64).reshape(n_zones, n), d)
    o_plan = drop_idle_holds(np.rint(x.o).astype(np.int64)[None, :], d)[0]
    ready = ready_counts(s_plan, d).sum(axis=0) + ready_counts(o_plan[None, :], d)[0]
    cost = float((spot_cost * s_plan).sum() + (od_cost * o_plan).sum())
    return OptimalPlan(
        gap_s=plan_gap,
        spot=s_plan,
        on_demand=o_plan,
        on_demand_zone=od_zone,
        ready=ready.astype(np.int64),
        target=need,
        warmup_ticks=min(d, n),
        cost_usd=cost,
        status=x.status,
        aggregate=factor,
        subdivide=subdivide,
        lower_bound_usd=min(x.lower_bound, cost),
    )


@dataclass(frozen=True, slots=True)
class _Solution:
    s: FloatArray
    o: FloatArray
    status: str
    lower_bound: float


class _Model:
    """Variable layout and constraint matrix of the integer program.

    Variables, in order: s[z,t] (int), o[t] (int), r_s[z,t], r_o[t] (continuous ready counts),
    then y[t] (binary "tick t is covered") only when the availability target is below 1.
    """

    def __init__(
        self, zones: int, ticks: int, d: int, *, weights: IntArray, indicators: bool
    ) -> None:
        self.z, self.t, self.d = zones, ticks, d
        self.weights = weights
        self.indicators = indicators
        held = zones * ticks + ticks  # s and o together; r_s and r_o mirror them
        self.s0, self.o0 = 0, zones * ticks
        self.rs0, self.ro0 = held, held + zones * ticks
        self.y0 = 2 * held
        self.n = self.y0 + (ticks if indicators else 0)

    def solve(
        self,
        *,
        cost_s: FloatArray,
        cost_o: FloatArray,
        cap_s: IntArray,
        cap_o: int,
        need: IntArray,
        availability: float,
        time_limit_s: float | None,
        mip_rel_gap: float,
    ) -> _Solution:
        from scipy.optimize import Bounds, LinearConstraint, milp  # type: ignore[import-untyped]
        from scipy.sparse import coo_array  # type: ignore[import-untyped]

        z, t, d = self.z, self.t, self.d
        c = np.zeros(self.n)
        c[: self.o0] = cost_s.ravel()
        c[self.o0 : self.rs0] = cost_o
        lower = np.zeros(self.n)
        upper = np.empty(self.n)
        upper[: self.o0] = cap_s.ravel()
        upper[self.o0 : self.rs0] = cap_o
        # Ready counts are capped by what is held; before tick d nothing can be ready.
        ready_ub = np.full((z + 1, t), float(cap_o))
        ready_ub[:, : min(d, t)] = 0.0
        upper[self.rs0 : self.y0] = np.concatenate([ready_ub[:z].ravel(), ready_ub[z]])
        integrality = np.zeros(self.n, dtype=np.int64)
        integrality[: self.rs0] = 1
        if self.indicators:
            upper[self.y0 :] = 1.0
            upper[self.y0 : self.y0 + min(d, t)] = 0.0
            integrality[self.y0 :] = 1

        rows: list[IntArray] = []
        cols: list[IntArray] = []
        vals: list[FloatArray] = []
        lo: list[FloatArray] = []
        hi: list[FloatArray] = []
        row = 0

        def add(r: IntArray, col: IntArray, v: float) -> None:
            rows.append(r)
            cols.append(col)
            vals.append(np.full(r.size, v))

        # Window: r[., t] <= held[., tau] for tau in t-d .. t (only t >= d; earlier r are 0).
        # One row per lag keeps the matrix sparse (2 nonzeros a row) and exact for integers.
        ticks = np.arange(d, t)
        held_rows = np.arange(z + 1)
        for lag in range(d + 1):
            k = held_rows.size * ticks.size
            if k == 0:
                break
            zz = np.repeat(held_rows, ticks.size)
            tt = np.tile(ticks, held_rows.size)
            spot_row = zz < z
            r_col = np.where(spot_row, self.rs0 + zz * t + tt, self.ro0 + tt)
            h_col = np.where(spot_row, self.s0 + zz * t + (tt - lag), self.o0 + (tt - lag))
            idx = row + np.arange(k)
            add(idx, r_col, 1.0)
            add(idx, h_col, -1.0)
            lo.append(np.full(k, -np.inf))
            hi.append(np.zeros(k))
            row += k

        # Coverage: sum_z r_s[z,t] + r_o[t] >= need[t]  (or >= need[t] * y[t]).
        k = ticks.size
        if k:
            idx = row + np.arange(k)
            for zone in range(z):
                add(idx, self.rs0 + zone * t + ticks, 1.0)
            add(idx, self.ro0 + ticks, 1.0)
            if self.indicators:
                rows.append(idx)
                cols.append(self.y0 + ticks)
                vals.append(-need[ticks].astype(np.float64))
                lo.append(np.zeros(k))
            else:
                lo.append(need[ticks].astype(np.float64))
            hi.append(np.full(k, np.inf))
            row += k
            if self.indicators:
                # Fraction of fine ticks covered: each plan tick weighs the fine ticks it merges.
                w = self.weights[ticks].astype(np.float64)
                rows.append(np.full(k, row))
                cols.append(self.y0 + ticks)
                vals.append(w)
                lo.append(np.array([math.ceil(availability * w.sum() - 1e-9)], dtype=np.float64))
                hi.append(np.array([np.inf]))
                row += 1

        options: dict[str, float | bool] = {"mip_rel_gap": mip_rel_gap, "disp": False}
        if time_limit_s is not None:
            options["time_limit"] = float(time_limit_s)
        constraints = []
        if row:
            a = coo_array(
                (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                shape=(row, self.n),
            ).tocsr()
            constraints.append(LinearConstraint(a, np.concatenate(lo), np.concatenate(hi)))
        res = milp(
            c,
            integrality=integrality,
            bounds=Bounds(lower, upper),
            constraints=constraints,
            options=options,
        )
        if res.x is None:
            raise InputError(
                f"no feasible schedule: {res.message}",
                where=_WHERE,
                fix="lower the availability target or the number of replicas",
            )
        status = "optimal" if res.status == 0 else "time_limit"
        # HiGHS proves no schedule costs less than its dual bound; a plan that stopped at the
        # time limit is only known to lie between the two.
        bound = getattr(res, "mip_dual_bound", None)
        x = np.asarray(res.x, dtype=np.float64)
        proven = float(res.fun) if bound is None or not np.isfinite(bound) else float(bound)
        return _Solution(x[: self.o0], x[self.o0 : self.rs0], status, proven)


def _capacity(capacity: ArrayLike) -> IntArray:
    cap = np.asarray(capacity)
    if cap.ndim != 2 or cap.shape[0] == 0 or cap.shape[1] == 0:
        raise InputError(
            f"capacity must be a (zones, ticks) array with at least one of each, got shape "
            f"{cap.shape}",
            where=_WHERE,
        )
    whole = np.issubdtype(cap.dtype, np.integer) or (
        np.isfinite(cap).all() and (cap == np.floor(cap)).all()
    )
    if not whole:
        raise InputError("capacity must hold whole numbers", where=_WHERE)
    if (cap < 0).any():
        raise InputError("capacity must be >= 0", where=_WHERE)
    return cap.astype(np.int64)


def _spot_prices(price: ArrayLike, zones: int, ticks: int) -> FloatArray:
    p = np.asarray(price, dtype=np.float64)
    if p.ndim == 1 and p.shape == (zones,):
        p = p[:, None]
    try:
        p = np.broadcast_to(p, (zones, ticks))
    except ValueError:
        raise InputError(
            f"spot price shape {np.shape(price)} fits neither (), ({zones},) nor "
            f"({zones}, {ticks})",
            where=_WHERE,
        ) from None
    if not (np.isfinite(p).all() and (p >= 0).all()):
        raise InputError("spot prices must be finite and >= 0", where=_WHERE)
    return p


def _on_demand(price: ArrayLike, zones: int) -> tuple[float, int]:
    p = np.asarray(price, dtype=np.float64)
    if p.ndim == 0:
        p = np.full(zones, float(p))
    if p.shape != (zones,):
        raise InputError(
            f"on-demand price must be a scalar or one value per zone ({zones}), got shape "
            f"{p.shape}",
            where=_WHERE,
        )
    if not (np.isfinite(p).all() and (p >= 0).all()):
        raise InputError("on-demand prices must be finite and >= 0", where=_WHERE)
    zone = int(np.argmin(p))
    return float(p[zone]), zone


def _targets(target: ArrayLike, ticks: int) -> IntArray:
    n = np.asarray(target)
    if n.ndim == 0:
        n = np.full(ticks, n)
    if n.shape != (ticks,):
        raise InputError(
            f"target must be an int or one value per tick ({ticks}), got shape {n.shape}",
            where=_WHERE,
        )
    if not (np.isfinite(n).all() and (n >= 0).all() and (n == np.floor(n)).all()):
        raise InputError("target replicas must be whole numbers >= 0", where=_WHERE)
    return n.astype(np.int64)


def _factor(aggregate: int, max_ticks: int | None, ticks: int) -> int:
    if aggregate < 1:
        raise InputError(f"aggregation factor must be >= 1, got {aggregate}", where=_WHERE)
    if max_ticks is None:
        return aggregate
    if max_ticks < 1:
        raise InputError(f"max_ticks must be >= 1, got {max_ticks}", where=_WHERE)
    return max(aggregate, math.ceil(ticks / max_ticks))
