"""The plan as data: the `--json` document, routing weights and savings (pure).

JSON shape (documented in docs/planner.md): `replicas`, `cost_per_hour`, `prices`, `headroom`,
`load`, `capacity`, `split`, `baselines` as the issue specifies, plus `savings`, `weights`,
`utilisation`, `gpus_per_replica`, `price_sources`, `capacity_sources`, `rate_per_s`, `slo` and
`workload`. Bucket keys are "INPUTxOUTPUT" upper edges in tokens, e.g. "250x100".
"""

from __future__ import annotations

from dataclasses import dataclass

from hedgeserve.planner.planning import PlanOutcome


def routing_weights(outcome: PlanOutcome) -> dict[str, float]:
    """Planned req/s per replica of each type in use, relative to the least loaded type.

    An `instance_aware` balancer that sends each replica traffic in proportion to its weight
    reproduces the plan's per-type totals.
    """
    served = outcome.mix.served_per_s(outcome.problem)
    per_replica = {t.gpu: served[g] / n
                   for g, (t, n) in enumerate(zip(outcome.request.types, outcome.mix.replicas,
                                                  strict=True)) if n > 0}
    positive = [v for v in per_replica.values() if v > 0]
    floor = min(positive) if positive else 1.0
    return {gpu: round(v / floor, 4) for gpu, v in per_replica.items()}


@dataclass(frozen=True, slots=True)
class Savings:
    vs_type: dict[str, float | None]  # 1 - mix / baseline, None where the baseline is infeasible
    vs_best: float | None
    best_type: str | None


def savings(outcome: PlanOutcome) -> Savings:
    mix = outcome.mix.cost_per_hour
    vs_type: dict[str, float | None] = {}
    for t, base in zip(outcome.request.types, outcome.baselines, strict=True):
        vs_type[t.gpu] = None if base is None or base.cost_per_hour <= 0 else \
            1.0 - mix / base.cost_per_hour
    feasible = [(t.gpu, b.cost_per_hour) for t, b in zip(outcome.request.types,
                                                         outcome.baselines, strict=True)
                if b is not None]
    if not feasible:
        return Savings(vs_type, None, None)
    best_gpu, best_cost = min(feasible, key=lambda gc: gc[1])
    return Savings(vs_type, 1.0 - mix / best_cost if best_cost > 0 else 0.0, best_gpu)


def plan_document(outcome: PlanOutcome) -> dict[str, object]:
    """The `--json` document."""
    request, mix, problem = outcome.request, outcome.mix, outcome.problem
    workload = request.workload
    names = [b.name for b in workload.grid.buckets]
    types = request.types
    split: dict[str, dict[str, float]] = {}
    for name, lam, row in zip(names, workload.loads_per_s, mix.split, strict=True):
        if lam > 0:
            split[name] = {t.gpu: round(share, 6) for t, share in zip(types, row, strict=True)
                           if share > 1e-9}
    gain = savings(outcome)
    return {
        "replicas": {t.gpu: n for t, n in zip(types, mix.replicas, strict=True)},
        "cost_per_hour": round(mix.cost_per_hour, 6),
        "prices": {t.gpu: round(t.price_per_hour, 6) for t in types},
        "headroom": request.headroom,
        "load": {n: round(lam, 9) for n, lam in zip(names, workload.loads_per_s, strict=True)},
        "capacity": {t.gpu: {n: round(c.rate_per_s, 6)
                             for n, c in zip(names, t.table.cells, strict=True)}
                     for t in types},
        "split": split,
        "baselines": {t.gpu: None if b is None else round(b.cost_per_hour, 6)
                      for t, b in zip(types, outcome.baselines, strict=True)},
        "savings": {"vs_best_single": gain.vs_best, "best_single": gain.best_type,
                    "vs": gain.vs_type},
        "weights": routing_weights(outcome),
        "utilisation": {t.gpu: round(u, 6)
                        for t, u in zip(types, mix.utilisation(problem), strict=True)},
        "gpus_per_replica": {t.gpu: t.gpus_per_replica for t in types},
        "price_sources": {t.gpu: t.price_source for t in types},
        "capacity_sources": {t.gpu: t.table.source for t in types},
        "rate_per_s": workload.rate_per_s,
        "slo": {"tpot_s": request.slo.tpot_s, "ttft_s": request.slo.ttft_s,
                "percentile": request.slo.percentile},
        "workload": {"source": workload.source, "clamped_share": workload.clamped_share,
                     "input_edges": list(workload.grid.input_edges),
                     "output_edges": list(workload.grid.output_edges)},
    }
