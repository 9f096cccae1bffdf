"""The plan as a SkyServe-compatible service spec, with our `planner:` section (pure).

Shape:

    service:   readiness_probe, replica_policy {min_replicas, max_replicas},
               load_balancing_policy: instance_aware
    resources: use_spot, any_of: [{accelerators: "NAME:COUNT"}, ...]   (one per type in use)
    planner:   replicas {ACCEL: n}, weights {ACCEL: w}, split {bucket: {ACCEL: share}}
    run:       the engine command (vLLM by default)

`resources.any_of` and `planner.replicas` describe the plan: `replicas[ACCEL]` replicas of each
accelerator; `weights[ACCEL]` is the planned req/s of one such replica relative to the least
loaded type, so weighting each replica by it reproduces the plan; `split` is the routing by
request size. Keys are SkyPilot accelerator names. Nothing acts on the section yet: `hedge up`
runs one replica type and sends no weights to the gateway (docs/live.md, "Not built").
"""

from __future__ import annotations

from hedgeserve.planner.models import ModelSpec
from hedgeserve.planner.planning import PlanOutcome
from hedgeserve.planner.report import routing_weights

DEFAULT_PORT = 8080


def vllm_command(model: ModelSpec, port: int = DEFAULT_PORT) -> str:
    # SkyPilot sets SKYPILOT_NUM_GPUS_PER_NODE on every node, so one command fits every type.
    return (f"vllm serve {model.hf_id} --host 0.0.0.0 --port {port} "
            "--tensor-parallel-size $SKYPILOT_NUM_GPUS_PER_NODE")


def spec_header(outcome: PlanOutcome, model: ModelSpec) -> str:
    """YAML comment lines saying what the plan is for (the schema has no keys for it)."""
    request = outcome.request
    return (f"# Written by `hedge plan`: {model.name}, {request.workload.rate_per_s:g} req/s, "
            f"{request.slo.describe()}, headroom {request.headroom:g}\n"
            f"# Planned cost: ${outcome.mix.cost_per_hour:.2f}/h. planner.weights are planned "
            f"req/s per replica, relative to the least loaded type.\n")


def service_spec(outcome: PlanOutcome, model: ModelSpec, *, spot: bool,
                 run: str | None = None) -> dict[str, object]:
    """The service spec document for the plan (dump it with yaml.safe_dump)."""
    request, mix = outcome.request, outcome.mix
    in_use = [(t, n) for t, n in zip(request.types, mix.replicas, strict=True) if n > 0]
    by_gpu = {t.gpu: t.accelerator for t, _ in in_use}
    total = sum(n for _, n in in_use)
    split: dict[str, dict[str, float]] = {}
    for bucket, lam, row in zip(request.workload.grid.buckets, request.workload.loads_per_s,
                                mix.split, strict=True):
        if lam > 0:
            split[bucket.name] = {t.accelerator: share
                                  for t, share in zip(request.types, row, strict=True)
                                  if share > 0}
    return {
        "service": {
            "readiness_probe": "/health",
            "replica_policy": {"min_replicas": total, "max_replicas": total},
            "load_balancing_policy": "instance_aware",
        },
        "resources": {
            "use_spot": spot,
            "ports": DEFAULT_PORT,
            "any_of": [{"accelerators": f"{t.accelerator}:{t.gpus_per_replica}"}
                       for t, _ in in_use],
        },
        "planner": {
            "replicas": {t.accelerator: n for t, n in in_use},
            "weights": {by_gpu[g]: w for g, w in routing_weights(outcome).items()},
            "split": split,
        },
        "run": run or vllm_command(model),
    }
