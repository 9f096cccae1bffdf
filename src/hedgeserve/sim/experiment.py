"""Experiments: several policies × several repeats on one trace, as the SkyServe paper runs them.

Each repeat draws a random offset into the trace and a shuffled zone order (zone order breaks
price ties, so shuffling removes the bias of the file order); every policy of a repeat sees the
same trace window, prices and requests, so differences come from the policies alone.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np

from hedgeserve.core.autoscale import AutoscalerConfig
from hedgeserve.core.decisions import Policy
from hedgeserve.core.notice import DEFAULT_GRACE_S
from hedgeserve.errors import InputError
from hedgeserve.sim.cloud import LogRow
from hedgeserve.sim.metrics import RunResult, mean_result
from hedgeserve.sim.policies import POLICY_NAMES, build_policy
from hedgeserve.sim.pricing import PriceBook
from hedgeserve.sim.run import RunConfig, simulate_run
from hedgeserve.sim.workload import Poisson, ServiceModel, WorkloadSource, make_workload
from hedgeserve.traces.model import Trace


@dataclass(frozen=True)
class Experiment:
    policies: tuple[str, ...] = POLICY_NAMES
    target: int = 3
    extra: int = 1  # N_extra for SpotHedge
    base_ondemand: int = 0
    cold_start_s: float = 120.0
    hours: float = 24.0
    repeats: int = 10
    seed: int = 0
    on_demand_ratio: float | None = 3.0  # k; None = the trace's on-demand list prices
    launch_failure_s: float = 30.0
    notice_s: float = 0.0  # preemption notice; 0 = none (the SkyServe paper's model)
    notice_drain_s: float = DEFAULT_GRACE_S  # it stops taking requests this long before its kill
    timeout_s: float = 100.0
    concurrency: int = 1
    routing: str = "least_load"
    workload: WorkloadSource = field(default_factory=lambda: Poisson(0.15))
    service: ServiceModel = field(default_factory=ServiceModel)
    autoscaler: AutoscalerConfig | None = None  # None: N_tar fixed at `target`

    def validate(self, trace: Trace, custom: Collection[str] = ()) -> None:
        for name in self.policies:
            if name not in POLICY_NAMES and name not in custom:
                raise InputError(
                    f"unknown policy {name!r}",
                    where="--policies",
                    fix=f"choose from {', '.join(POLICY_NAMES)}",
                )
        checks = [
            ("--target", self.target >= 1, "at least 1"),
            ("--extra", self.extra >= 0, ">= 0"),
            ("--cold-start", self.cold_start_s >= 0, ">= 0 seconds"),
            ("--hours", self.hours > 0, "> 0"),
            ("--repeats", self.repeats >= 1, "at least 1"),
            ("--k", self.on_demand_ratio is None or self.on_demand_ratio > 0, "> 0"),
            ("--timeout", self.timeout_s > 0, "> 0"),
            ("--notice", self.notice_s >= 0, ">= 0 seconds"),
            ("--notice-drain", self.notice_drain_s >= 0, ">= 0 seconds"),
        ]
        for flag, ok, rule in checks:
            if not ok:
                raise InputError(f"must be {rule}", where=flag)
        if self.hours * 3600 <= self.cold_start_s:
            raise InputError(
                f"a {self.hours:g} h run ends before the first replica is ready "
                f"({self.cold_start_s:g} s cold start)",
                where="--hours",
                fix="run longer than the cold start",
            )
        if self.hours * 3600 > trace.duration_s * 1.0001:
            raise InputError(
                f"{self.hours:g} h is longer than the trace ({trace.duration_s / 3600:.1f} h)",
                where="--hours",
                fix=f"use at most {trace.duration_s / 3600:.1f}",
            )

    def params(self) -> dict[str, Any]:
        out = asdict(self)
        out["policies"] = list(self.policies)
        out["workload"] = self.workload.describe()
        return out


@dataclass(frozen=True)
class RepeatWindow:
    repeat: int
    offset_tick: int
    trace: Trace  # the window, zones in this repeat's shuffled order


@dataclass
class ExperimentResult:
    params: dict[str, Any]
    runs: list[RunResult] = field(default_factory=list)
    windows: list[RepeatWindow] = field(default_factory=list)
    logs: dict[tuple[str, int], list[LogRow]] = field(default_factory=dict)

    def means(self) -> list[dict[str, float | int | str]]:
        names = list(dict.fromkeys(r.policy for r in self.runs))
        return [mean_result([r for r in self.runs if r.policy == n]) for n in names]

    def to_json(self) -> dict[str, Any]:
        return {
            "params": self.params,
            "results": [
                {**m, "repeats": [r.to_dict() for r in self.runs if r.policy == m["policy"]]}
                for m in self.means()
            ],
        }


PolicyBuilder = Callable[["Experiment", Trace, PriceBook], Policy[Any]]


def run_experiment(
    trace: Trace,
    experiment: Experiment,
    *,
    keep_logs: bool = False,
    on_run: Callable[[RunResult], None] | None = None,
    custom: Mapping[str, PolicyBuilder] | None = None,
) -> ExperimentResult:
    """Run every policy of `experiment` on every repeat. `custom` adds named policies (e.g.
    ablations of SpotHedge) next to the built-in ones."""
    custom = custom or {}
    experiment.validate(trace, custom)
    horizon = experiment.hours * 3600.0
    n_ticks = min(math.ceil(horizon / trace.gap_s - 1e-9), trace.n_ticks)
    config = RunConfig(
        target=experiment.target,
        autoscaler=experiment.autoscaler,
        cold_start_s=experiment.cold_start_s,
        launch_failure_s=experiment.launch_failure_s,
        notice_s=experiment.notice_s,
        notice_drain_s=experiment.notice_drain_s,
        timeout_s=experiment.timeout_s,
        concurrency=experiment.concurrency,
        routing=experiment.routing,
    )
    out = ExperimentResult(params={**experiment.params(), "trace": trace.name})
    for repeat in range(experiment.repeats):
        rng = np.random.default_rng([experiment.seed, repeat])
        offset = int(rng.integers(0, trace.n_ticks - n_ticks + 1))
        order = [trace.zones[i] for i in rng.permutation(len(trace.zones))]
        window = trace.select(order).window(offset, n_ticks)
        out.windows.append(RepeatWindow(repeat, offset, window))
        prices = price_book(window, experiment.on_demand_ratio)
        workload = make_workload(experiment.workload, experiment.service, rng, horizon)
        for name in experiment.policies:
            if name in custom:
                policy: Policy[Any] = custom[name](experiment, window, prices)
            else:
                policy = build_policy(name, experiment, window, prices)
            outcome = simulate_run(
                policy,
                window=window,
                prices=prices,
                workload=workload,
                config=config,
                seed=experiment.seed * 1_000_003 + repeat,
                horizon_s=horizon,
                repeat=repeat,
                label=name,
            )
            out.runs.append(outcome.result)
            if keep_logs:
                out.logs[(name, repeat)] = outcome.log
            if on_run is not None:
                on_run(outcome.result)
    return out


def price_book(window: Trace, on_demand_ratio: float | None) -> PriceBook:
    spot, on_demand = window.resolved_prices(on_demand_ratio)
    return PriceBook(gap_s=window.gap_s, spot=spot, on_demand=on_demand)


def sweep(
    trace: Trace, experiment: Experiment, parameter: str, values: list[float], **kwargs: Any
) -> list[tuple[float, ExperimentResult]]:
    """Re-run the experiment for each value of one parameter (extra, cold_start_s, target)."""
    if parameter not in ("extra", "cold_start_s", "target", "base_ondemand"):
        raise InputError(
            f"cannot sweep {parameter!r}", where="--sweep", fix="sweep extra, cold-start or target"
        )
    if parameter != "cold_start_s" and any(v != int(v) for v in values):
        raise InputError(f"{parameter} takes whole numbers, got {values}", where="--sweep")
    results = []
    for value in values:
        if parameter == "cold_start_s":
            changed = replace(experiment, cold_start_s=float(value))
        else:
            changed = replace(experiment, **{parameter: int(value)})  # type: ignore[arg-type]
        results.append((value, run_experiment(trace, changed, **kwargs)))
    return results
