"""`hedge plan` outputs: the rich table on the terminal, the service spec YAML and the plot.

Shell code (terminal and files); the content comes from the pure `report` and `service_spec`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import yaml
from rich.console import Console
from rich.table import Table

from hedgeserve.planner.models import ModelSpec
from hedgeserve.planner.planning import PlanOutcome, PlanRequest, sweep_rates
from hedgeserve.planner.report import savings
from hedgeserve.planner.service_spec import service_spec, spec_header


def plan_table(outcome: PlanOutcome) -> Table:
    request, mix = outcome.request, outcome.mix
    served = mix.served_per_s(outcome.problem)
    busy = mix.utilisation(outcome.problem)
    total = sum(served) or 1.0
    table = Table(title=f"Plan: ${mix.cost_per_hour:.2f}/h for "
                        f"{request.workload.rate_per_s:g} req/s ({request.slo.describe()})")
    for column in ("GPU type", "replicas", "GPUs/replica", "$/h", "share of load", "busy",
                   "capacity from", "price from"):
        table.add_column(column, justify="left" if column in ("GPU type", "price from",
                                                              "capacity from") else "right")
    for t, n, s, u in zip(request.types, mix.replicas, served, busy, strict=True):
        if n == 0:
            continue
        table.add_row(t.gpu, str(n), str(t.gpus_per_replica), f"{n * t.price_per_hour:.2f}",
                      f"{s / total:.1%}", f"{u:.0%}", t.table.source, t.price_source)
    return table


def savings_lines(outcome: PlanOutcome) -> list[str]:
    gain = savings(outcome)
    lines = []
    for t, base in zip(outcome.request.types, outcome.baselines, strict=True):
        if base is None:
            lines.append(f"  {t.gpu}-only: cannot meet the SLO for every bucket")
            continue
        share = gain.vs_type[t.gpu]
        count = base.replicas[outcome.request.types.index(t)]
        lines.append(f"  {t.gpu}-only: {count} x = ${base.cost_per_hour:.2f}/h -> the mix saves "
                     f"{0.0 if share is None else share:.1%}")
    if gain.vs_best is not None:
        lines.append(f"  vs the best single type ({gain.best_type}): {gain.vs_best:.1%}")
    return lines


def print_plan(outcome: PlanOutcome, *, quiet: bool) -> None:
    """The table and savings on the terminal (stderr when stdout carries JSON)."""
    console = Console(stderr=quiet, width=140)
    console.print(plan_table(outcome))
    console.print("Savings against single-type plans:")
    for line in savings_lines(outcome):
        console.print(line, highlight=False)
    clamped = outcome.request.workload.clamped_share
    if clamped > 0.01:
        console.print(f"note: {clamped:.1%} of requests are longer than the last bucket edges "
                      "and are costed as the last bucket", highlight=False)


def write_outputs(outcome: PlanOutcome, model: ModelSpec, *, spot: bool, plot: Path | None,
                  emit_spec: Path | None, rates: Sequence[float]) -> None:
    if emit_spec is not None:
        spec = service_spec(outcome, model, spot=spot)
        emit_spec.write_text(spec_header(outcome, model) + yaml.safe_dump(spec, sort_keys=False),
                             encoding="utf-8")
    if plot is not None:
        from hedgeserve.planner.plot import plot_cost_vs_rate

        request: PlanRequest = outcome.request
        points = sweep_rates(request, rates)
        title = (f"{model.name}, {request.workload.source.split(' (')[0]}, "
                 f"{request.slo.describe()}")
        plot_cost_vs_rate(points, plot, title)

