"""From `hedge plan` flags to a `PlanRequest`: load the catalog, model, workload and profiles.

This is the planner's input shell (file I/O, flag validation); everything it returns is plain
data for the pure `make_plan`. Bad flags and files raise `InputError` naming the flag.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from hedgeserve.errors import InputError
from hedgeserve.planner.analytical import Assumptions, auto_tensor_parallel, capacity_table
from hedgeserve.planner.buckets import (
    DEFAULT_INPUT_EDGES,
    DEFAULT_OUTPUT_EDGES,
    BucketGrid,
    parse_edges,
)
from hedgeserve.planner.capacity import CapacityTable, Slo
from hedgeserve.planner.catalog import PricedGpu, load_gpu_catalog, price_gpus, select_gpus
from hedgeserve.planner.models import ModelSpec, load_model
from hedgeserve.planner.planning import PlanRequest, ReplicaType
from hedgeserve.planner.profile_file import capacity_from_profile, read_profile
from hedgeserve.planner.workload import (
    NAMED_DISTRIBUTIONS,
    Workload,
    named_workload,
    workload_from_samples,
)
from hedgeserve.traces.request_log import read_request_log


@dataclass(frozen=True, slots=True)
class PlanFlags:
    workload: str
    rate: float | None
    slo_tpot_s: float
    slo_ttft_s: float | None
    slo_percentile: int
    model: str
    gpus: str
    profiles: tuple[Path, ...]
    spot: bool
    cloud: str
    headroom: float
    max_replicas: Mapping[str, int]
    min_replicas: int
    tp: str
    catalog: Path | None
    input_edges: str | None
    output_edges: str | None


def _grid(flags: PlanFlags) -> BucketGrid:
    edges = []
    for flag, text, default in (("--input-edges", flags.input_edges, DEFAULT_INPUT_EDGES),
                                ("--output-edges", flags.output_edges, DEFAULT_OUTPUT_EDGES)):
        try:
            edges.append(default if text is None else parse_edges(text))
        except ValueError as err:
            raise InputError(str(err), where=flag, fix="e.g. 25,100,250,500,1k,2k") from None
    try:
        return BucketGrid(edges[0], edges[1])
    except ValueError as err:
        raise InputError(str(err), where="--input-edges/--output-edges") from None


def _workload(flags: PlanFlags, grid: BucketGrid) -> Workload:
    if flags.rate is not None and not (math.isfinite(flags.rate) and flags.rate > 0):
        raise InputError(f"must be a finite number > 0, got {flags.rate}", where="--rate")
    if flags.workload in NAMED_DISTRIBUTIONS:
        if flags.rate is None:
            raise InputError("a named workload needs a rate", where="--rate", fix="e.g. --rate 8")
        return named_workload(flags.workload, grid, flags.rate)
    path = Path(flags.workload)
    if not path.exists():
        raise InputError(f"{flags.workload!r} is neither a named workload nor a file",
                         where="--workload",
                         fix=f"use {', '.join(NAMED_DISTRIBUTIONS)} or a CSV/JSONL request log")
    log = read_request_log(path, need_sizes=True)
    rate = flags.rate if flags.rate is not None else log.observed_rate_per_s
    if rate is None:
        raise InputError("the request log has no arrival times to take a rate from",
                         where="--rate", fix="pass --rate REQ_PER_S")
    return workload_from_samples(grid, log.sizes or (), rate, f"request log {path}")


def _slo(flags: PlanFlags) -> Slo:
    if flags.slo_percentile not in (50, 90, 99):
        raise InputError(f"must be 50, 90 or 99, got {flags.slo_percentile}",
                         where="--slo-percentile")
    return Slo(flags.slo_tpot_s, flags.slo_ttft_s, flags.slo_percentile)


def _tp(flags: PlanFlags, priced: PricedGpu, model: ModelSpec, a: Assumptions) -> int:
    if flags.tp != "auto":
        if not flags.tp.isdigit() or int(flags.tp) < 1:
            raise InputError(f"{flags.tp!r} is not a GPU count", where="--tp",
                             fix="give a positive integer or 'auto'")
        return int(flags.tp)
    tp = auto_tensor_parallel(priced.gpu, model, a)
    if tp is None:
        raise InputError(f"{model.name} does not fit on 8 x {priced.gpu.name}", where="--gpus",
                         fix=f"drop {priced.gpu.name} or pass --tp explicitly")
    return tp


def _profile_tables(flags: PlanFlags, grid: BucketGrid, slo: Slo) -> dict[str, CapacityTable]:
    tables: dict[str, CapacityTable] = {}
    for path in flags.profiles:
        table = capacity_from_profile(read_profile(path), grid, slo, str(path))
        tables[table.gpu.lower()] = table
    return tables


def build_request(flags: PlanFlags) -> tuple[PlanRequest, ModelSpec]:
    """Resolve every flag into a `PlanRequest` (and the model, for the service spec)."""
    if not 0 <= flags.headroom < 1:
        raise InputError(f"must be in [0, 1), got {flags.headroom}", where="--headroom")
    if flags.min_replicas < 0:
        raise InputError(f"must be >= 0, got {flags.min_replicas}", where="--min-replicas")
    grid = _grid(flags)
    workload, slo, model = _workload(flags, grid), _slo(flags), load_model(flags.model)
    gpus = select_gpus(load_gpu_catalog(flags.catalog), flags.gpus.split(","))
    clouds = None if flags.cloud.strip().lower() == "any" else \
        [c for c in flags.cloud.split(",") if c.strip()]
    priced = price_gpus(gpus, spot=flags.spot, clouds=clouds)
    profiled = _profile_tables(flags, grid, slo)
    unknown = set(profiled) - {g.name.lower() for g in gpus}
    if unknown:
        raise InputError(f"profiles for GPU types not in --gpus: {', '.join(sorted(unknown))}",
                         where="--profile", fix="add them to --gpus")
    unknown_quotas = set(flags.max_replicas) - {g.name.lower() for g in gpus}
    if unknown_quotas:
        raise InputError(f"quota for GPU types not in --gpus: {', '.join(sorted(unknown_quotas))}",
                         where="--max-replicas")
    assumptions = Assumptions()
    types: list[ReplicaType] = []
    for p in priced:
        table = profiled.get(p.gpu.name.lower())
        if table is None:
            table = capacity_table(p.gpu, model, _tp(flags, p, model, assumptions), grid, slo,
                                   assumptions)
        kind = "spot" if flags.spot else "on-demand"
        source = f"{p.offer.cloud} {p.offer.region} {p.offer.instance_type} {kind}"
        types.append(ReplicaType(p.gpu.name, p.gpu.accelerator,
                                 p.price_per_gpu_hour * table.gpus_per_replica, source, table,
                                 flags.max_replicas.get(p.gpu.name.lower())))
    return PlanRequest(workload, slo, tuple(types), flags.headroom, flags.min_replicas), model
