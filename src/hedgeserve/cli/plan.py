"""`hedge plan`: the cheapest mix of GPU types for a workload under a latency SLO (Mélange).

Shell only: parses flags, loads the catalog, model, workload and profiles, calls the pure
planner (`hedgeserve.planner.planning.make_plan`) and writes the table, `--json`, `--plot` and
`--emit-spec` outputs. SciPy and matplotlib load inside the planner functions that need them.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from hedgeserve.errors import InputError

_OUT = "Outputs"
_PLAN = "Plan options"
_SIZES = "Request-size buckets"
SWEEP_RATES = (1.0, 2.0, 4.0, 8.0, 16.0, 32.0)


def parse_duration_s(text: str, flag: str) -> float:
    """'40ms' -> 0.04, '2s' -> 2.0; a bare number is refused (units are easy to mix up)."""
    value = text.strip().lower()
    for suffix, scale in (("ms", 1e-3), ("s", 1.0)):
        if value.endswith(suffix):
            try:
                number = float(value.removesuffix(suffix)) * scale
            except ValueError:
                break
            if number > 0:
                return number
            raise InputError(f"must be positive, got {text!r}", where=flag)
    raise InputError(f"{text!r} is not a duration", where=flag, fix="write e.g. 40ms or 0.5s")


def parse_quotas(text: str | None) -> dict[str, int]:
    """'L4=4,H100=2' -> {'l4': 4, 'h100': 2} (keys lower-cased)."""
    quotas: dict[str, int] = {}
    for part in (text or "").split(","):
        if not part.strip():
            continue
        name, _, count = part.partition("=")
        if not count.strip().isdigit():
            raise InputError(f"{part.strip()!r} is not GPU=COUNT", where="--max-replicas",
                             fix="e.g. --max-replicas L4=4,H100=2")
        quotas[name.strip().lower()] = int(count)
    return quotas


def plan(
    workload: Annotated[str, typer.Option(
        help="Named size distribution (arena-like) or a request log (CSV/JSONL with input "
             "and output token counts).")] = "arena-like",
    rate: Annotated[float | None, typer.Option(
        help="Total request rate, req/s (default: the log's arrival rate).",
        show_default=False)] = None,
    slo_tpot: Annotated[str, typer.Option(help="Time-per-output-token SLO, e.g. 40ms.")] = "40ms",
    slo_ttft: Annotated[str | None, typer.Option(
        help="Time-to-first-token SLO, e.g. 2s (default: none).", show_default=False)] = None,
    slo_percentile: Annotated[int, typer.Option(
        help="Percentile the SLO applies to when capacities come from profiles (50, 90, 99).")
    ] = 50,
    model: Annotated[str, typer.Option(
        help="Model name from the catalog (llama-2-7b, llama-3-8b, ...) or a model YAML file.")
    ] = "llama-2-7b",
    gpus: Annotated[str, typer.Option(help="Candidate GPU types, comma-separated.")
                    ] = "L4,A10G,A100-80GB,H100",
    profile: Annotated[list[Path] | None, typer.Option(
        help="Profile from `hedge profile` (repeatable); its GPU's capacities replace the "
             "analytical model's.", show_default=False)] = None,
    spot: Annotated[bool, typer.Option("--spot", help="Price with spot instead of on-demand.")
                    ] = False,
    cloud: Annotated[str, typer.Option(
        help="Clouds whose offers may price the plan, comma-separated, or 'any'.",
        rich_help_panel=_PLAN)] = "aws",
    headroom: Annotated[float, typer.Option(
        help="Share of each type's capacity kept free.", rich_help_panel=_PLAN)] = 0.1,
    max_replicas: Annotated[str | None, typer.Option(
        help="Quotas, e.g. L4=4,H100=2.", rich_help_panel=_PLAN, show_default=False)] = None,
    min_replicas: Annotated[int, typer.Option(
        help="At least this many replicas in total.", rich_help_panel=_PLAN)] = 1,
    tp: Annotated[str, typer.Option(
        help="GPUs per replica (tensor parallel): a number, or 'auto' per GPU type.",
        rich_help_panel=_PLAN)] = "auto",
    catalog: Annotated[Path | None, typer.Option(
        help="GPU catalog YAML replacing the packaged one.", rich_help_panel=_PLAN,
        show_default=False)] = None,
    input_edges: Annotated[str | None, typer.Option(
        help="Input-token bucket edges (default: 25,100,250,500,1k,2k,4k,8k,16k).",
        rich_help_panel=_SIZES, show_default=False)] = None,
    output_edges: Annotated[str | None, typer.Option(
        help="Output-token bucket edges (default: 25,100,250,500,1k,2k).",
        rich_help_panel=_SIZES, show_default=False)] = None,
    json_out: Annotated[Path | None, typer.Option(
        "--json", help="Write the plan as JSON ('-' for stdout).", rich_help_panel=_OUT,
        show_default=False)] = None,
    plot: Annotated[Path | None, typer.Option(
        help="Write a PNG of cost vs rate (1-32 req/s) for the mix and each single type.",
        rich_help_panel=_OUT, show_default=False)] = None,
    emit_spec: Annotated[Path | None, typer.Option(
        help="Write a service spec YAML that realises the plan.", rich_help_panel=_OUT,
        show_default=False)] = None,
) -> None:
    """Plan the cheapest mix of GPU types (and the split of request sizes) under an SLO."""
    from hedgeserve.planner.outputs import check_outputs, print_plan, write_outputs, write_text
    from hedgeserve.planner.planning import make_plan
    from hedgeserve.planner.setup import PlanFlags, build_request

    check_outputs(json_out=json_out, plot=plot, emit_spec=emit_spec)
    flags = PlanFlags(
        workload=workload, rate=rate, slo_tpot_s=parse_duration_s(slo_tpot, "--slo-tpot"),
        slo_ttft_s=None if slo_ttft is None else parse_duration_s(slo_ttft, "--slo-ttft"),
        slo_percentile=slo_percentile, model=model, gpus=gpus, profiles=tuple(profile or ()),
        spot=spot, cloud=cloud, headroom=headroom, max_replicas=parse_quotas(max_replicas),
        min_replicas=min_replicas, tp=tp, catalog=catalog, input_edges=input_edges,
        output_edges=output_edges)
    request, model_spec = build_request(flags)
    outcome = make_plan(request)
    to_stdout = json_out is not None and str(json_out) == "-"
    print_plan(outcome, quiet=to_stdout)
    if json_out is not None:
        from hedgeserve.planner.report import plan_document

        text = json.dumps(plan_document(outcome), indent=2)
        if to_stdout:
            sys.stdout.write(text + "\n")
        else:
            write_text(json_out, text + "\n", "--json")
    write_outputs(outcome, model_spec, spot=spot, plot=plot, emit_spec=emit_spec,
                  rates=SWEEP_RATES)
