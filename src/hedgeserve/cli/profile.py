"""`hedge profile`: measure per-bucket capacities of a live OpenAI-compatible endpoint.

Shell only: parses flags, runs `hedgeserve.planner.profiler.profile_endpoint` (aiohttp, imported
inside the command), prints one line per measured point and writes the profile JSON that
`hedge plan --profile` reads.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from hedgeserve.cli.plan import parse_duration_s
from hedgeserve.errors import InputError

_SEARCH = "Rate search"
_SIZES = "Request-size buckets"


def profile(
    endpoint: Annotated[str, typer.Option(
        help="Base URL of the server, e.g. http://127.0.0.1:8000 (vLLM or `hedge engine`).")],
    gpu: Annotated[str, typer.Option(help="GPU type label for the profile, e.g. L4.")],
    model: Annotated[str, typer.Option(help="Model label for the profile, e.g. llama-2-7b.")
                     ] = "llama-2-7b",
    model_name: Annotated[str | None, typer.Option(
        help="Model name to send in requests (default: the first of /v1/models).",
        show_default=False)] = None,
    gpus_per_replica: Annotated[int, typer.Option(
        help="GPUs behind the endpoint (tensor parallel).")] = 1,
    slo_tpot: Annotated[str, typer.Option(help="TPOT SLO the search targets, e.g. 40ms.")
                        ] = "40ms",
    slo_ttft: Annotated[str | None, typer.Option(
        help="TTFT SLO the search targets (default: none).", show_default=False)] = None,
    percentile: Annotated[int, typer.Option(help="SLO percentile: 50, 90 or 99.")] = 50,
    input_edges: Annotated[str, typer.Option(
        help="Input-token bucket edges to profile.", rich_help_panel=_SIZES)
    ] = "25,100,250,500,1k,2k",
    output_edges: Annotated[str, typer.Option(
        help="Output-token bucket edges to profile.", rich_help_panel=_SIZES)
    ] = "25,100,250,500,1k,2k",
    duration: Annotated[float, typer.Option(
        help="Seconds of arrivals per measured rate.", rich_help_panel=_SEARCH)] = 10.0,
    min_requests: Annotated[int, typer.Option(
        help="At least this many requests per rate.", rich_help_panel=_SEARCH)] = 20,
    start_rate: Annotated[float, typer.Option(
        help="First rate tried (req/s).", rich_help_panel=_SEARCH)] = 1.0,
    max_rate: Annotated[float, typer.Option(
        help="Highest rate tried (req/s).", rich_help_panel=_SEARCH)] = 64.0,
    refine_steps: Annotated[int, typer.Option(
        help="Bisection steps after bracketing the capacity.", rich_help_panel=_SEARCH)] = 4,
    drain: Annotated[float, typer.Option(
        help="Seconds in-flight requests may take after the last send.",
        rich_help_panel=_SEARCH)] = 30.0,
    api: Annotated[str, typer.Option(help="completions or chat.")] = "completions",
    seed: Annotated[int, typer.Option(help="Seed of the Poisson arrivals.")] = 0,
    out: Annotated[Path, typer.Option(help="Profile JSON to write.")] = Path("profile.json"),
) -> None:
    """Measure the highest rate per request-size bucket that meets the SLO; write a profile."""
    import asyncio

    from rich.console import Console

    from hedgeserve.planner.buckets import BucketGrid, parse_edges
    from hedgeserve.planner.capacity import Slo
    from hedgeserve.planner.loadgen import PointSettings
    from hedgeserve.planner.profile_file import ProfileLabels, ProfilePoint, write_profile
    from hedgeserve.planner.profiler import ProfileRequest, SearchSettings, profile_endpoint

    if api not in ("completions", "chat"):
        raise InputError(f"unknown API {api!r}", where="--api", fix="use completions or chat")
    if percentile not in (50, 90, 99):
        raise InputError(f"must be 50, 90 or 99, got {percentile}", where="--percentile")
    if duration <= 0 or min_requests < 1 or gpus_per_replica < 1 or refine_steps < 0:
        raise InputError("--duration, --min-requests and --gpus-per-replica must be positive",
                         where="--duration/--min-requests/--gpus-per-replica")
    try:
        grid = BucketGrid(parse_edges(input_edges), parse_edges(output_edges))
        search = SearchSettings(start_rate_per_s=start_rate, max_rate_per_s=max_rate,
                                min_rate_per_s=min(0.05, start_rate), refine_steps=refine_steps)
    except ValueError as err:
        raise InputError(str(err), where="--input-edges/--output-edges/--start-rate/--max-rate"
                         ) from None
    slo = Slo(parse_duration_s(slo_tpot, "--slo-tpot"),
              None if slo_ttft is None else parse_duration_s(slo_ttft, "--slo-ttft"), percentile)
    request = ProfileRequest(
        endpoint=endpoint, model_name=model_name,
        labels=ProfileLabels(gpu=gpu, model=model, gpus_per_replica=gpus_per_replica,
                             engine="openai-compatible"),
        grid=grid, slo=slo, search=search,
        point=PointSettings(duration_s=duration, min_requests=min_requests, drain_s=drain,
                            api=api),
        seed=seed)
    console = Console(width=120)

    def progress(bucket: str, point: ProfilePoint, met: bool) -> None:
        tpot = "-" if point.tpot_s is None else f"{point.tpot_s.at(percentile) * 1000:.1f} ms"
        ttft = "-" if point.ttft_s is None else f"{point.ttft_s.at(percentile) * 1000:.0f} ms"
        console.print(f"{bucket:>11}  {point.rate_per_s:8.3f} req/s  TPOT p{percentile} {tpot:>9}"
                      f"  TTFT p{percentile} {ttft:>8}  errors {point.errors:3d}  "
                      f"{'meets' if met else 'MISSES'} SLO", highlight=False)

    result = asyncio.run(profile_endpoint(request, progress))
    write_profile(out, result)
    console.print(f"wrote {out}: capacities (req/s) "
                  + ", ".join(f"{b.input_tokens}x{b.output_tokens}={b.capacity_per_s:.3g}"
                              for b in result.buckets), highlight=False)
