"""One planning run: workload + SLO + candidate replica types -> the cheapest mix and baselines.

`make_plan` is pure: it takes capacity tables and prices already resolved (from the catalog,
the analytical model or profiles) and returns the mix, every single-type baseline and the
problem they were solved on. When some bucket's load cannot be served by any candidate it
raises `InputError` naming that bucket and the GPU that comes closest, so the CLI prints one
line with a fix.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from hedgeserve.errors import InputError
from hedgeserve.planner.capacity import CapacityTable, Slo, closest_miss
from hedgeserve.planner.solver import NoPlan, Option, Plan, Problem, single_type_plan, solve_mix
from hedgeserve.planner.workload import Workload


@dataclass(frozen=True, slots=True)
class ReplicaType:
    """A candidate replica: GPU type x GPUs per replica, its price and its capacities."""

    gpu: str  # catalog name, e.g. "A100-80GB"
    accelerator: str  # SkyPilot accelerator name, e.g. "A100-80GB" ("A100" for A100-40GB)
    price_per_hour: float  # per replica (all its GPUs)
    price_source: str  # "aws us-east-1 p4de.24xlarge on-demand", ...
    table: CapacityTable
    max_replicas: int | None = None

    @property
    def gpus_per_replica(self) -> int:
        return self.table.gpus_per_replica


@dataclass(frozen=True, slots=True)
class PlanRequest:
    workload: Workload
    slo: Slo
    types: tuple[ReplicaType, ...]
    headroom: float = 0.1
    min_replicas: int = 0

    def problem(self) -> Problem:
        options = tuple(Option(t.gpu, t.price_per_hour, t.table.rates_per_s, t.max_replicas)
                        for t in self.types)
        return Problem(self.workload.loads_per_s, options, self.headroom, self.min_replicas)


@dataclass(frozen=True, slots=True)
class PlanOutcome:
    request: PlanRequest
    problem: Problem
    mix: Plan
    baselines: tuple[Plan | None, ...]  # per type: all load on that type, None if it cannot

    @property
    def best_baseline(self) -> Plan | None:
        feasible = [p for p in self.baselines if p is not None]
        return min(feasible, key=lambda p: p.cost_per_hour) if feasible else None


def _unservable_error(request: PlanRequest) -> InputError | None:
    grid, tables = request.workload.grid, [t.table for t in request.types]
    missing = [b for b, lam in enumerate(request.workload.loads_per_s)
               if lam > 0 and all(t.cells[b].rate_per_s <= 0 for t in tables)]
    if not missing:
        return None
    worst = max(missing, key=lambda b: request.workload.shares[b])
    bucket = grid.buckets[worst]
    gpu, detail = closest_miss(worst, bucket, tables, request.slo)
    share = sum(request.workload.shares[b] for b in missing)
    others = f" and {len(missing) - 1} more bucket(s)" if len(missing) > 1 else ""
    return InputError(
        f"no GPU type can meet the SLO ({request.slo.describe()}) for bucket {bucket.name} "
        f"(input <= {bucket.input_tokens}, output <= {bucket.output_tokens} tokens){others}, "
        f"{share:.2%} of requests; closest is {gpu}: {detail}",
        where="--slo-tpot/--slo-ttft",
        fix="loosen the SLO, add a faster or larger GPU to --gpus, or lower the last bucket "
            "edges (--input-edges/--output-edges)")


def make_plan(request: PlanRequest) -> PlanOutcome:
    """Solve the mix and every single-type baseline; raises `InputError` when no plan exists."""
    error = _unservable_error(request)
    if error is not None:
        raise error
    problem = request.problem()
    try:
        mix = solve_mix(problem)
    except NoPlan as no_plan:
        raise InputError(no_plan.reason, where="--max-replicas",
                         fix="raise the quotas or allow more GPU types") from None
    baselines = tuple(single_type_plan(problem, g) for g in range(len(request.types)))
    return PlanOutcome(request, problem, mix, baselines)


@dataclass(frozen=True, slots=True)
class SweepPoint:
    rate_per_s: float
    mix_cost_per_hour: float
    baseline_cost_per_hour: Mapping[str, float | None]  # per GPU type


def sweep_rates(request: PlanRequest, rates_per_s: Sequence[float]) -> list[SweepPoint]:
    """Mix and single-type costs at each total rate (same shares, SLO and capacities)."""
    points: list[SweepPoint] = []
    for rate in rates_per_s:
        outcome = make_plan(PlanRequest(request.workload.with_rate(rate), request.slo,
                                        request.types, request.headroom, request.min_replicas))
        baselines = {t.gpu: (None if p is None else p.cost_per_hour)
                     for t, p in zip(request.types, outcome.baselines, strict=True)}
        points.append(SweepPoint(rate, outcome.mix.cost_per_hour, baselines))
    return points
