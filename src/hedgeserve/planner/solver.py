"""The GPU-mix integer program: replicas per GPU type and each bucket's split across types.

Given per-bucket loads lam_b (req/s), options g (a replica shape: GPU type x tensor-parallel
degree) with hourly price c_g and per-bucket capacity T_gb (req/s one replica sustains), solve

    min  sum_g c_g n_g
    s.t. sum_g y_bg = 1                                   for every bucket with load
         sum_b (lam_b / T_gb) y_bg <= (1 - headroom) n_g   for every option
         lo_g <= n_g <= hi_g integer,  0 <= y_bg <= 1,  y_bg = 0 where T_gb = 0
         sum_g n_g >= min_replicas

with SciPy's `milp` (HiGHS). The split y is continuous: capacity is pooled per type, so a
continuous split is the limit of Mélange's equal slices (never worse, |G| integers only).

Pure: no I/O, no clock; SciPy is imported inside `solve_mix` so importing this module is cheap.
Infeasibility is reported as `NoPlan` with the reason; callers turn it into user-facing errors.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

_CAPACITY_SLACK = 1e-7  # relative tolerance when checking a solver answer against capacity


@dataclass(frozen=True, slots=True)
class Option:
    """One replica shape the plan may rent."""

    name: str
    price_per_hour: float  # per replica
    capacity_per_s: tuple[float, ...]  # per bucket; 0 = cannot serve it
    max_replicas: int | None = None  # quota; None = unlimited
    min_replicas: int = 0


@dataclass(frozen=True, slots=True)
class Problem:
    loads_per_s: tuple[float, ...]  # per bucket
    options: tuple[Option, ...]
    headroom: float = 0.0  # keep this share of every type's capacity free
    min_replicas: int = 0  # at least this many replicas in total

    def __post_init__(self) -> None:
        if not 0 <= self.headroom < 1:
            raise ValueError(f"headroom must be in [0, 1), got {self.headroom}")
        if any(len(o.capacity_per_s) != len(self.loads_per_s) for o in self.options):
            raise ValueError("every option needs one capacity per bucket")
        if any(x < 0 for x in self.loads_per_s):
            raise ValueError("loads must be >= 0")


@dataclass(frozen=True, slots=True)
class Plan:
    replicas: tuple[int, ...]  # per option
    split: tuple[tuple[float, ...], ...]  # split[b][g]: share of bucket b's load sent to option g
    cost_per_hour: float

    def utilisation(self, problem: Problem) -> tuple[float, ...]:
        """Busy share of each option's replicas (load / capacity), 0 where it has none."""
        return tuple(type_load(problem, self.split, g) / n if n else 0.0
                     for g, n in enumerate(self.replicas))

    def served_per_s(self, problem: Problem) -> tuple[float, ...]:
        """Requests per second routed to each option."""
        return tuple(sum(lam * row[g] for lam, row in zip(problem.loads_per_s, self.split,
                                                          strict=True))
                     for g in range(len(self.replicas)))


class NoPlan(Exception):
    """No replica counts within the quotas serve the load; `reason` says why, in words."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def type_load(problem: Problem, split: Sequence[Sequence[float]], g: int) -> float:
    """Replicas' worth of capacity option g needs for its share of every bucket."""
    capacity = problem.options[g].capacity_per_s
    return sum(lam * row[g] / capacity[b]
               for b, (lam, row) in enumerate(zip(problem.loads_per_s, split, strict=True))
               if row[g] > 0)


def _active_buckets(problem: Problem) -> list[int]:
    return [b for b, lam in enumerate(problem.loads_per_s) if lam > 0]


def _check_servable(problem: Problem) -> None:
    for b in _active_buckets(problem):
        if not any(o.capacity_per_s[b] > 0 for o in problem.options):
            raise NoPlan(f"bucket #{b} has load but no option can serve it")


def _replica_bounds(problem: Problem) -> tuple[list[float], list[float]]:
    """Quota bounds, tightened by the cheapest single-type plan: no optimum spends more than it,
    so n_g <= cost / price_g. Fewer candidate counts make branch-and-bound shorter."""
    singles = [single_type_plan(problem, g) for g in range(len(problem.options))]
    best = min((p.cost_per_hour for p in singles if p is not None), default=math.inf)
    lower = [float(o.min_replicas) for o in problem.options]
    upper = []
    for o in problem.options:
        quota = math.inf if o.max_replicas is None else float(o.max_replicas)
        by_cost = math.floor(best / o.price_per_hour + 1e-9) \
            if o.price_per_hour > 0 and math.isfinite(best) else math.inf
        upper.append(max(min(quota, by_cost), o.min_replicas))
    return lower, upper


def solve_mix(problem: Problem, *, time_limit_s: float = 60.0) -> Plan:
    """The cheapest replica mix and split; raises `NoPlan` when none exists."""
    import numpy as np
    from scipy.optimize import Bounds, LinearConstraint, milp

    _check_servable(problem)
    n_opts = len(problem.options)
    if n_opts == 0:
        raise NoPlan("no GPU options to choose from")
    active = _active_buckets(problem)
    # Variables: n_0..n_{G-1}, then one y per (active bucket, option that can serve it).
    pairs = [(b, g) for b in active for g in range(n_opts)
             if problem.options[g].capacity_per_s[b] > 0]
    n_vars = n_opts + len(pairs)
    cost = np.zeros(n_vars)
    cost[:n_opts] = [o.price_per_hour for o in problem.options]
    rows: list[np.ndarray] = []
    lower_rhs: list[float] = []
    upper_rhs: list[float] = []
    for b in active:  # each bucket's load is fully served
        row = np.zeros(n_vars)
        for k, (pb, _) in enumerate(pairs):
            if pb == b:
                row[n_opts + k] = 1.0
        rows.append(row)
        lower_rhs.append(1.0)
        upper_rhs.append(1.0)
    for g in range(n_opts):  # each option's load fits its replicas, with headroom
        row = np.zeros(n_vars)
        row[g] = -(1.0 - problem.headroom)
        for k, (b, pg) in enumerate(pairs):
            if pg == g:
                row[n_opts + k] = problem.loads_per_s[b] / problem.options[g].capacity_per_s[b]
        rows.append(row)
        lower_rhs.append(-np.inf)
        upper_rhs.append(0.0)
    if problem.min_replicas > 0:
        row = np.zeros(n_vars)
        row[:n_opts] = 1.0
        rows.append(row)
        lower_rhs.append(float(problem.min_replicas))
        upper_rhs.append(np.inf)
    n_lower, n_upper = _replica_bounds(problem)
    bounds = Bounds(n_lower + [0.0] * len(pairs), n_upper + [1.0] * len(pairs))
    integrality = np.array([1] * n_opts + [0] * len(pairs))
    result = milp(cost, constraints=LinearConstraint(np.array(rows), lower_rhs, upper_rhs),
                  integrality=integrality, bounds=bounds,
                  options={"mip_rel_gap": 1e-9, "time_limit": time_limit_s})
    if result.status != 0 or result.x is None:
        raise NoPlan(_why_infeasible(problem) if result.status == 2 else
                     f"the solver stopped without an optimal plan: {result.message}")
    return _plan_from(problem, result.x, pairs)


def _plan_from(problem: Problem, x: Sequence[float], pairs: Sequence[tuple[int, int]]) -> Plan:
    n_opts = len(problem.options)
    replicas = tuple(int(round(v)) for v in x[:n_opts])
    split = [[0.0] * n_opts for _ in problem.loads_per_s]
    for k, (b, g) in enumerate(pairs):
        split[b][g] = max(0.0, float(x[n_opts + k]))
    for b in _active_buckets(problem):  # renormalise away solver round-off
        total = sum(split[b])
        split[b] = [v / total for v in split[b]]
    cost = sum(o.price_per_hour * n for o, n in zip(problem.options, replicas, strict=True))
    return Plan(replicas, tuple(tuple(row) for row in split), cost)


def _why_infeasible(problem: Problem) -> str:
    """Explain an infeasible problem whose buckets are each servable: quotas are too small."""
    need = sum(lam / max(o.capacity_per_s[b] for o in problem.options)
               for b, lam in enumerate(problem.loads_per_s) if lam > 0) / (1 - problem.headroom)
    quota = sum(math.inf if o.max_replicas is None else o.max_replicas for o in problem.options)
    return (f"the replica quotas ({quota:g} replicas in all) cannot carry the load, which needs "
            f"at least {need:.1f} replicas even on the fastest type for each bucket")


def single_type_plan(problem: Problem, g: int) -> Plan | None:
    """All load on option g (Mélange's baseline), or None when g cannot serve it all."""
    option = problem.options[g]
    active = _active_buckets(problem)
    if any(option.capacity_per_s[b] <= 0 for b in active):
        return None
    n_opts = len(problem.options)
    split = tuple(tuple(1.0 if (k == g and lam > 0) else 0.0 for k in range(n_opts))
                  for lam in problem.loads_per_s)
    load = sum(problem.loads_per_s[b] / option.capacity_per_s[b] for b in active)
    needed = math.ceil(load / (1 - problem.headroom) * (1 - _CAPACITY_SLACK)) if load else 0
    count = max(needed, option.min_replicas, problem.min_replicas)
    if option.max_replicas is not None and count > option.max_replicas:
        return None
    replicas = tuple(count if k == g else 0 for k in range(n_opts))
    return Plan(replicas, split, count * option.price_per_hour)


def check_plan(problem: Problem, plan: Plan) -> list[str]:
    """Invariant violations of a plan, in words (empty when the plan is sound)."""
    problems: list[str] = []
    for b, lam in enumerate(problem.loads_per_s):
        if lam > 0 and abs(sum(plan.split[b]) - 1.0) > 1e-6:
            problems.append(f"bucket #{b} is {sum(plan.split[b]):.6f} served")
    for g, n in enumerate(plan.replicas):
        used = type_load(problem, plan.split, g)
        if used > n * (1 - problem.headroom) * (1 + _CAPACITY_SLACK) + 1e-9:
            problems.append(f"option {problem.options[g].name} needs {used:.4f} replicas of "
                            f"capacity but has {n} with headroom {problem.headroom}")
    return problems
