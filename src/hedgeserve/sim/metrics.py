"""What a run reports, and means over repeats.

Availability is the share of time (after the warm-up) with at least N_tar ready replicas, in
percent. Cost is in $ and relative to running N_tar on-demand replicas in the cheapest zone for
the whole run — exactly what the `on_demand` policy pays. Latency percentiles count failed
requests at the timeout, as the SkyServe paper does.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from hedgeserve.sim.cloud import SimCloud
    from hedgeserve.sim.serving import Serving


@dataclass(frozen=True, slots=True)
class RunResult:
    policy: str
    repeat: int
    availability: float  # % of time with >= N_tar ready replicas
    cost: float  # $
    cost_vs_on_demand: float  # % of the all-on-demand cost of the same run
    on_demand_share: float  # % of this policy's cost spent on on-demand replicas
    latency_p50: float  # s
    latency_p90: float
    latency_p99: float
    latency_mean: float
    failure_rate: float  # % of requests that timed out
    preemptions: int
    launches: int
    launch_failures: int
    retries: int  # requests re-sent after their replica was preempted
    requests: int

    def to_dict(self) -> dict[str, float | int | str]:
        return asdict(self)


def summarize(
    *,
    policy: str,
    repeat: int,
    availability: float,
    cloud: SimCloud,
    serving: Serving,
    on_demand_reference: float,
    requests: int,
) -> RunResult:
    latency = serving.latency[:requests]
    if requests:
        p50, p90, p99 = (float(x) for x in np.percentile(latency, [50, 90, 99]))
        mean = float(latency.mean())
        failure_rate = 100.0 * float(serving.failed[:requests].mean())
    else:
        p50 = p90 = p99 = mean = failure_rate = float("nan")
    cost = cloud.cost_usd
    return RunResult(
        policy=policy,
        repeat=repeat,
        availability=availability,
        cost=cost,
        cost_vs_on_demand=100.0 * cost / on_demand_reference if on_demand_reference else 0.0,
        on_demand_share=100.0 * cloud.on_demand_cost_usd / cost if cost else 0.0,
        latency_p50=p50,
        latency_p90=p90,
        latency_p99=p99,
        latency_mean=mean,
        failure_rate=failure_rate,
        preemptions=cloud.preemptions,
        launches=cloud.launches,
        launch_failures=cloud.launch_failures,
        retries=serving.retries,
        requests=requests,
    )


def mean_result(runs: list[RunResult]) -> dict[str, float | int | str]:
    """Field-wise mean over repeats (counts stay means too, as floats)."""
    if not runs:
        raise ValueError("no runs to average")
    out: dict[str, float | int | str] = {"policy": runs[0].policy}
    for f in fields(RunResult):
        if f.name in ("policy", "repeat"):
            continue
        values = [float(getattr(r, f.name)) for r in runs]
        out[f.name] = float(np.nanmean(values)) if not all(np.isnan(values)) else float("nan")
    return out
