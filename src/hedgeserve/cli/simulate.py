"""`hedge simulate`: replay a real spot trace and compare SpotHedge with its baselines."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TextIO

import typer

from hedgeserve.core.autoscale import AutoscalerConfig
from hedgeserve.core.notice import DEFAULT_GRACE_S
from hedgeserve.errors import InputError

if TYPE_CHECKING:
    from hedgeserve.sim.experiment import Experiment, ExperimentResult
    from hedgeserve.sim.metrics import RunResult
    from hedgeserve.traces.model import Trace

Outputs = tuple[Path | None, Path | None, Path | None]  # --json, --events, --plot

DEFAULT_POLICIES = "spothedge,even_spread,round_robin,on_demand,optimal"


def simulate(
    trace: Annotated[
        str,
        typer.Option(
            help="Bundled trace name (gcp-h100), paper trace (AWS1..3, GCP1), file or folder."
        ),
    ] = "gcp-h100",
    zones: Annotated[
        str | None, typer.Option(help="Comma-separated zones to use (default: all).")
    ] = None,
    policies: Annotated[str, typer.Option(help="Comma-separated policies.")] = DEFAULT_POLICIES,
    target: Annotated[int, typer.Option(help="N_tar: ready replicas the service needs.")] = 3,
    extra: Annotated[int, typer.Option(help="N_extra: spare spot replicas for SpotHedge.")] = 1,
    base_ondemand: Annotated[
        int, typer.Option(help="On-demand replicas SpotHedge always keeps.")
    ] = 0,
    cold_start: Annotated[float, typer.Option(help="Seconds from launch to ready.")] = 120.0,
    hours: Annotated[float, typer.Option(help="Length of each run (trace hours).")] = 24.0,
    repeats: Annotated[
        int, typer.Option(help="Runs, each at a random trace offset and zone order.")
    ] = 10,
    seed: Annotated[int, typer.Option(help="Seed; the same seed gives the same results.")] = 0,
    workload: Annotated[
        str, typer.Option(help="poisson:RATE | counts:PATH[:scale=S][:cap=C] | log:PATH")
    ] = "poisson:0.15",
    mean_service: Annotated[
        float, typer.Option(help="Mean service time (s) without token counts.")
    ] = 10.0,
    timeout: Annotated[
        float, typer.Option(help="A request fails after this many seconds.")
    ] = 100.0,
    k: Annotated[
        str,
        typer.Option(help="On-demand price = k × spot price; 'list' = the trace's list prices."),
    ] = "3",
    gap_seconds: Annotated[
        float | None, typer.Option(help="Override the trace's tick length.")
    ] = None,
    launch_failure: Annotated[
        float, typer.Option(help="Seconds a refused spot launch takes.")
    ] = 30.0,
    notice: Annotated[
        float,
        typer.Option(help="Preemption notice, s (AWS 120, GCP 30); 0 = none (the paper's model)."),
    ] = 0.0,
    notice_drain: Annotated[
        float,
        typer.Option(help="A noticed replica stops taking requests this long before its kill."),
    ] = DEFAULT_GRACE_S,
    concurrency: Annotated[int, typer.Option(help="Requests one replica serves at once.")] = 1,
    autoscale: Annotated[
        str | None,
        typer.Option(
            help="N_tar from the request rate: MIN,MAX,QPS_PER_REPLICA[,UP_DELAY_S,DOWN_DELAY_S]."
        ),
    ] = None,
    sweep: Annotated[
        str | None,
        typer.Option(help="Sweep one parameter, e.g. extra=0,1,2,3 or cold-start=60,120."),
    ] = None,
    json_path: Annotated[Path | None, typer.Option("--json", help="Write results as JSON.")] = None,
    events: Annotated[Path | None, typer.Option(help="Write every event as JSON lines.")] = None,
    plot: Annotated[
        Path | None, typer.Option(help="Write a PNG: bars per policy + zone timeline.")
    ] = None,
) -> None:
    """Replay a spot trace: SpotHedge vs. EvenSpread, RoundRobin, OnDemand and the optimum."""
    from hedgeserve.sim.experiment import Experiment
    from hedgeserve.sim.workload import ServiceModel, parse_workload
    from hedgeserve.traces.catalog import load_trace

    _check_outputs(json_path, events, plot)
    if seed < 0:
        raise InputError(f"must be >= 0, got {seed}", where="--seed")
    loaded = load_trace(trace, gap_s=gap_seconds)
    if zones is not None:
        loaded = loaded.select(_names(zones, "--zones"))
    experiment = Experiment(
        policies=tuple(_names(policies, "--policies")),
        target=target,
        extra=extra,
        base_ondemand=base_ondemand,
        cold_start_s=cold_start,
        hours=hours,
        repeats=repeats,
        seed=seed,
        on_demand_ratio=_ratio(k),
        launch_failure_s=launch_failure,
        notice_s=notice,
        notice_drain_s=notice_drain,
        timeout_s=timeout,
        concurrency=concurrency,
        workload=parse_workload(workload),
        service=ServiceModel(mean_s=_positive(mean_service, "--mean-service")),
        autoscaler=_autoscaler(autoscale) if autoscale else None,
    )
    for flag, value in (
        ("--launch-failure", launch_failure),
        ("--concurrency", concurrency),
        ("--base-ondemand", base_ondemand + 1),
    ):
        _positive(value, flag)
    experiment.validate(loaded)
    if sweep:
        _run_sweep(loaded, experiment, sweep, (json_path, events, plot))
    else:
        _run_once(loaded, experiment, (json_path, events, plot))


def _run_once(trace: Trace, experiment: Experiment, outputs: Outputs) -> None:
    from hedgeserve.sim.experiment import run_experiment
    from hedgeserve.sim.plot import plot_experiment
    from hedgeserve.sim.report import write_events, write_json

    json_path, events, plot = outputs
    with _progress(len(experiment.policies) * experiment.repeats) as advance:
        result = run_experiment(trace, experiment, keep_logs=bool(events or plot), on_run=advance)
    _print_table(result, trace)
    if json_path:
        write_json(json_path, result.to_json())
    if events:
        with _open_out(events) as stream:
            write_events(stream, result)
    if plot:
        spot_first = next((p for p in experiment.policies if p != "on_demand"), None)
        plot_experiment(plot, result, timeline_policy=spot_first)


def _run_sweep(trace: Trace, experiment: Experiment, text: str, outputs: Outputs) -> None:
    from hedgeserve.sim.experiment import sweep
    from hedgeserve.sim.plot import plot_sweep
    from hedgeserve.sim.report import write_events, write_json

    json_path, events, plot = outputs
    name, values = _parse_sweep(text)
    runs = len(values) * len(experiment.policies) * experiment.repeats
    with _progress(runs) as advance:
        results = sweep(trace, experiment, name, values, keep_logs=bool(events), on_run=advance)
    for value, result in results:
        _print_table(result, trace, title=f"{name} = {value:g}")
    if json_path:
        write_json(
            json_path, {"sweep": name, "values": values, "runs": [r.to_json() for _, r in results]}
        )
    if events:
        with _open_out(events) as stream:
            for value, result in results:
                write_events(stream, result, extra={name: value})
    if plot:
        plot_sweep(plot, name, results)


_SWEEPABLE = {
    "extra": "extra",
    "cold-start": "cold_start_s",
    "cold_start": "cold_start_s",
    "target": "target",
    "base-ondemand": "base_ondemand",
}


def _parse_sweep(text: str) -> tuple[str, list[float]]:
    name, eq, raw = text.partition("=")
    if not eq or name not in _SWEEPABLE:
        raise InputError(
            f"cannot read {text!r}",
            where="--sweep",
            fix="use extra=0,1,2,3, cold-start=60,120,240,480 or target=1,2,3",
        )
    try:
        values = [float(v) for v in raw.split(",") if v.strip()]
    except ValueError:
        raise InputError(f"values in {text!r} must be numbers", where="--sweep") from None
    if not values or any(v < 0 for v in values):
        raise InputError("give one or more values >= 0", where="--sweep")
    return _SWEEPABLE[name], values


def _names(text: str, flag: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise InputError("names nothing", where=flag, fix="give a comma-separated list")
    return names


def _autoscaler(text: str) -> AutoscalerConfig:
    fix = "e.g. --autoscale 1,6,0.05 (min, max, req/s per replica[, up delay s, down delay s])"
    try:
        parts = [float(p) for p in text.split(",")]
    except ValueError:
        raise InputError(
            f"{text!r} is not a list of numbers", where="--autoscale", fix=fix
        ) from None
    if len(parts) not in (3, 5) or parts[0] != int(parts[0]) or parts[1] != int(parts[1]):
        raise InputError(f"cannot read {text!r}", where="--autoscale", fix=fix)
    if min(parts) < 0 or parts[2] <= 0 or parts[1] < max(parts[0], 1):
        raise InputError(
            "need 0 <= MIN <= MAX, MAX >= 1, QPS > 0, delays >= 0", where="--autoscale", fix=fix
        )
    config = AutoscalerConfig(
        min_replicas=int(parts[0]), max_replicas=int(parts[1]), target_qps_per_replica=parts[2]
    )
    if len(parts) == 5:
        config = replace(config, upscale_delay_s=parts[3], downscale_delay_s=parts[4])
    return config


_PLOT_SUFFIXES = (".png", ".svg", ".pdf")


def _check_outputs(json_path: Path | None, events: Path | None, plot: Path | None) -> None:
    """Fail before a long run, not after it, when an output cannot be written."""
    for flag, path in (("--json", json_path), ("--events", events), ("--plot", plot)):
        if path is None:
            continue
        if not path.parent.is_dir():
            raise InputError(f"folder {str(path.parent)!r} does not exist", where=flag)
        if path.is_dir():
            raise InputError(f"{str(path)!r} is a folder", where=flag, fix="give a file name")
    if plot is not None and plot.suffix.lower() not in _PLOT_SUFFIXES:
        raise InputError(
            f"cannot draw a {plot.suffix or 'suffix-less'} file",
            where="--plot",
            fix=f"name it {plot.stem}.png (or .svg, .pdf)",
        )


def _ratio(text: str) -> float | None:
    if text == "list":
        return None
    try:
        value = float(text)
    except ValueError:
        raise InputError(
            f"{text!r} is not a number", where="--k", fix="e.g. --k 3, or --k list"
        ) from None
    return _positive(value, "--k")


def _positive(value: float, flag: str) -> float:
    if not value > 0:
        raise InputError(f"must be positive, got {value:g}", where=flag)
    return value


def _open_out(path: Path) -> TextIO:
    try:
        return path.open("w")
    except OSError as err:
        raise InputError(f"cannot write ({err.strerror})", where=str(path)) from None


@contextmanager
def _progress(total: int) -> Iterator[Callable[[RunResult], None]]:
    """A progress bar on stderr (only on a terminal); yields the per-run callback."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    columns = (
        TextColumn("simulating"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} runs"),
        TimeElapsedColumn(),
    )
    with Progress(
        *columns, console=console, transient=True, disable=not console.is_terminal
    ) as progress:
        task = progress.add_task("runs", total=total)
        yield lambda _result: progress.advance(task)


def _print_table(result: ExperimentResult, trace: Trace, title: str | None = None) -> None:
    from rich.console import Console
    from rich.table import Table

    p = result.params
    auto = p.get("autoscaler")
    n_tar = (
        f"N_tar autoscaled {auto['min_replicas']}–{auto['max_replicas']} at "
        f"{auto['target_qps_per_replica']:g} req/s each"
        if auto
        else f"N_tar={p['target']}"
    )
    caption = (
        f"{trace.name}: {len(trace.zones)} zones, tick {trace.gap_s:g} s; "
        f"{n_tar}, N_extra={p['extra']}, cold start {p['cold_start_s']:g} s, "
        + (f"notice {p['notice_s']:g} s, " if p.get("notice_s") else "")
        + f"{p['hours']:g} h × {p['repeats']} repeats, workload {p['workload']}"
    )
    table = Table(title=title, caption=caption)
    for header in (
        "policy",
        "avail %",
        "cost $",
        "cost % OD",
        "OD share %",
        "p50 s",
        "p90 s",
        "p99 s",
        "mean s",
        "fail %",
        "preempt",
        "launches",
    ):
        if header == "policy":
            table.add_column(header, no_wrap=True, min_width=11)
        else:
            table.add_column(header, justify="right")
    for m in result.means():
        table.add_row(
            str(m["policy"]),
            f"{m['availability']:.2f}",
            f"{m['cost']:.2f}",
            f"{m['cost_vs_on_demand']:.1f}",
            f"{m['on_demand_share']:.1f}",
            f"{m['latency_p50']:.1f}",
            f"{m['latency_p90']:.1f}",
            f"{m['latency_p99']:.1f}",
            f"{m['latency_mean']:.1f}",
            f"{m['failure_rate']:.2f}",
            f"{m['preemptions']:.1f}",
            f"{m['launches']:.1f}",
        )
    console = Console()
    if not console.is_terminal:  # piped or captured: do not squeeze to 80 columns
        console = Console(width=160)
    console.print(table)
