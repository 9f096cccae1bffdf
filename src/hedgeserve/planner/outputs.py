"""`hedge plan` outputs: the rich table on the terminal, the service spec YAML and the plot.

Shell code (terminal and files); the content comes from the pure `report` and `service_spec`.
`check_outputs` runs before any planning, so a plan is never computed only to find that its
output cannot be written; a write that still fails (disk full) is an `InputError` naming the
flag, not a traceback.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import yaml
from rich.console import Console
from rich.table import Table

from hedgeserve.errors import InputError
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


SPEC_SUFFIXES = (".yaml", ".yml")


def check_outputs(*, json_out: Path | None, plot: Path | None, emit_spec: Path | None) -> None:
    """Refuse output paths that cannot be written, before any work (`-` is stdout for JSON)."""
    if json_out is not None and str(json_out) != "-":
        _check_writable(json_out, "--json")
    if emit_spec is not None:
        _check_writable(emit_spec, "--emit-spec")
        if emit_spec.suffix.lower() not in SPEC_SUFFIXES:
            raise InputError(f"{emit_spec.name!r} does not end in .yaml or .yml",
                             where="--emit-spec", fix=f"e.g. --emit-spec {emit_spec.stem}.yaml")
    if plot is not None:
        from hedgeserve.planner.plot import plot_formats

        _check_writable(plot, "--plot")
        formats = plot_formats()
        if plot.suffix.lower().lstrip(".") not in formats:
            raise InputError(f"{plot.name!r} does not end in an image format matplotlib writes",
                             where="--plot",
                             fix=f"end it in .png (or {', '.join(sorted(formats - {'png'}))})")


def _check_writable(path: Path, flag: str) -> None:
    folder = path.parent
    if path.is_dir():
        raise InputError(f"{path} is a folder", where=flag, fix="name a file")
    if not folder.is_dir():
        raise InputError(f"folder {folder} does not exist", where=flag,
                         fix=f"create it first (mkdir -p {folder}) or write elsewhere")
    if not os.access(folder, os.W_OK | os.X_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise InputError(f"cannot write {path}: permission denied", where=flag)


def write_text(path: Path, text: str, flag: str) -> None:
    """Write an output file; an OS error (disk full, folder removed) is the user's to fix."""
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as err:
        raise InputError(f"cannot write {path}: {err.strerror}", where=flag) from None


def write_outputs(outcome: PlanOutcome, model: ModelSpec, *, spot: bool, plot: Path | None,
                  emit_spec: Path | None, rates: Sequence[float]) -> None:
    if emit_spec is not None:
        spec = service_spec(outcome, model, spot=spot)
        write_text(emit_spec, spec_header(outcome, model) + yaml.safe_dump(spec, sort_keys=False),
                   "--emit-spec")
    if plot is not None:
        from hedgeserve.planner.plot import plot_cost_vs_rate

        request: PlanRequest = outcome.request
        points = sweep_rates(request, rates)
        title = (f"{model.name}, {request.workload.source.split(' (')[0]}, "
                 f"{request.slo.describe()}")
        try:
            plot_cost_vs_rate(points, plot, title)
        except OSError as err:
            raise InputError(f"cannot write {plot}: {err.strerror}", where="--plot") from None

