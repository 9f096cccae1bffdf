"""`load_trace(ref)`: one entry point from a name, file, folder or glob to a `Trace`.

A ref is tried, in order, as:
1. a bundled trace name (`gcp-h100`, the default; see `bundled`);
2. a SkyServe paper trace name (`AWS1`, `AWS2`, `AWS3`, `GCP1`; any case), read from the
   shared data folder, never shipped: the SpotHedge artifact has no license, so hedgeserve
   does not redistribute it. Looked up in `$HEDGE_SHARED_DATA/traces/spothedge-ae/data/<NAME>`,
   then `<project root>/../shared/data/...` for the source checkout and for the working folder;
3. a path: a file (format sniffed from its content, see `formats`), a folder (per-zone JSON
   files, availability CSVs, or one probe/capacity CSV) or a quoted glob of per-zone files.

Prices (see `prices`): a trace of a catalogued instance type gets the catalog's on-demand list
prices when it has spot prices of its own (AWS V100 CSVs), or both spot and on-demand list prices
when it has none and the catalog has both (GCP H100). Otherwise it stays without prices: the
AWS p3.2xlarge catalog entry has no spot price on purpose, so the SkyServe paper traces are
replayed with the simulator's uniform price, as the paper does.
"""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from hedgeserve.errors import InputError
from hedgeserve.traces.availability_csv import find_price_file, load_availability_csvs
from hedgeserve.traces.bundled import BUNDLED, DEFAULT_TRACE
from hedgeserve.traces.capacity_csv import load_capacity_csv
from hedgeserve.traces.event_log import load_event_csv, load_replay_script
from hedgeserve.traces.formats import TraceFormat, sniff_format
from hedgeserve.traces.json_folder import (
    json_trace_files,
    load_json_folder,
)
from hedgeserve.traces.model import UNLIMITED, Trace
from hedgeserve.traces.prices import attach_catalog_prices, load_price_catalog, region_of
from hedgeserve.traces.probe_csv import load_probe_csv

SHARED_DATA_ENV = "HEDGE_SHARED_DATA"
PAPER_SUBDIR = Path("traces/spothedge-ae/data")


@dataclass(frozen=True, slots=True)
class PaperTrace:
    name: str
    description: str
    instance: str | None
    unlimited_when_positive: bool


# Facts from shared/data/traces/PROVENANCE.md; GCP1's hardware label is uncertain (paper:
# 4 x a2-ultragpu-4g, files: a100_40gb_8), so it gets no instance type.
PAPER_TRACES: dict[str, PaperTrace] = {
    "AWS1": PaperTrace("AWS1", "4 x p3.2xlarge, 3 zones, 300 s, 11 days", "p3.2xlarge", False),
    "AWS2": PaperTrace("AWS2", "16 x p3.2xlarge, 3 zones, 300 s, 11 days", "p3.2xlarge", False),
    "AWS3": PaperTrace("AWS3", "1-node p3.2xlarge availability, 9 zones, 0/1 -> unlimited; "
                       "file says 300 s, true cadence 195 s", "p3.2xlarge", True),
    "GCP1": PaperTrace("GCP1", "4 x A100 (label uncertain), 6 zones, 150 s, 32 hours", None, False),
}


def list_bundled() -> list[tuple[str, str]]:
    """(name, one-line description) of every trace shipped with hedgeserve, default first."""
    return [(b.name, b.description) for b in sorted(BUNDLED.values(),
                                                       key=lambda b: b.name != DEFAULT_TRACE)]


def list_paper_traces() -> list[tuple[str, str]]:
    """(name, description) of the SkyServe paper traces, which need the shared data folder."""
    return [(p.name, p.description) for p in PAPER_TRACES.values()]


def load_trace(
    ref: str = DEFAULT_TRACE,
    *,
    unlimited_when_positive: bool | None = None,
    gap_s: float | None = None,
) -> Trace:
    """Resolve `ref` (see module docstring) to a trace.

    Args:
        unlimited_when_positive: treat every positive capacity as UNLIMITED (1-node
            availability traces, where 1 means "obtainable"). None: decided per source
            (True for AWS3, availability/1-node folders and availability CSVs).
        gap_s: override the tick length. AWS3's artifact copy says 300 s, which the paper's
            simulator used; the probes really ran every 195 s.
    """
    if gap_s is not None and not gap_s > 0:
        raise InputError(f"gap_s must be positive, got {gap_s}", where=f"trace {ref}")
    if not ref or not ref.strip():
        raise InputError("empty trace reference", fix=_names_fix())
    if ref.lower() in BUNDLED:
        trace = BUNDLED[ref.lower()].load()
        return _adjust(trace, unlimited_when_positive, gap_s)
    if ref.upper() in PAPER_TRACES:
        trace = _load_paper(PAPER_TRACES[ref.upper()], unlimited_when_positive, gap_s)
    else:
        trace = _load_path(ref, unlimited_when_positive, gap_s)
    return _with_catalog_prices(trace)


def shared_data_candidates() -> list[Path]:
    """Where the shared data folder (the one holding `traces/`) may be, in lookup order."""
    found: list[Path] = []
    if env := os.environ.get(SHARED_DATA_ENV):
        found.append(Path(env).expanduser())
    for root in (_checkout_root(), _project_root(Path.cwd())):
        if root is not None:
            found.append((root.parent / "shared" / "data").resolve())
    return list(dict.fromkeys(found))


def find_shared_data() -> Path | None:
    """The first shared data folder that exists, or None."""
    return next((p for p in shared_data_candidates() if (p / "traces").is_dir()), None)


def _load_paper(paper: PaperTrace, unlimited: bool | None, gap_s: float | None) -> Trace:
    looked = [p / PAPER_SUBDIR / paper.name for p in shared_data_candidates()]
    folder = next((p for p in looked if p.is_dir()), None)
    if folder is None:
        places = ", ".join(str(p) for p in looked) or (
            f"nowhere (${SHARED_DATA_ENV} is unset and no project root holds the working folder)"
        )
        raise InputError(
            f"paper trace {paper.name} not found; looked in: {places}",
            fix=f"set {SHARED_DATA_ENV} to the folder holding traces/spothedge-ae/ (these traces "
            "have no license and are not redistributed with hedgeserve; get them from "
            "MaoZiming/spothedge_ae data/)",
        )
    trace = load_json_folder(
        folder,
        name=paper.name,
        unlimited_when_positive=(paper.unlimited_when_positive if unlimited is None else unlimited),
        gap_s=gap_s,
    )
    return replace(trace, instance=paper.instance)


def _load_path(ref: str, unlimited: bool | None, gap_s: float | None) -> Trace:
    if glob.has_magic(ref):
        matches = sorted(Path(p) for p in glob.glob(os.path.expanduser(ref)))
        files = [p for p in matches if p.is_file()]
        if not files:
            raise InputError("the pattern matches no files", where=ref)
        return _load_files(files, Path(os.path.expanduser(ref)).parent, unlimited, gap_s)
    path = Path(ref).expanduser()
    if path.is_dir():
        return _load_folder(path, unlimited, gap_s)
    if not path.exists():
        raise InputError(f"unknown trace {ref!r}: not a trace name, file or folder",
                         fix=_names_fix())
    return _load_files([path], path.parent, unlimited, gap_s, name=path.stem)


def _load_files(files: list[Path], folder: Path, unlimited: bool | None, gap_s: float | None,
                *, name: str | None = None) -> Trace:
    formats = {f: sniff_format(f) for f in files}
    kinds = set(formats.values())
    if len(kinds) > 1:
        raise InputError("the files are of different formats: "
                         + ", ".join(sorted(k.value for k in kinds)), where=str(folder))
    kind = kinds.pop()
    if kind is TraceFormat.ZONE_JSON:
        return load_json_folder(folder, files=files, name=name,
                                unlimited_when_positive=unlimited, gap_s=gap_s)
    if kind is TraceFormat.AVAILABILITY_CSV:
        return load_availability_csvs(
            files, name=name or folder.name, prices=find_price_file(folder),
            unlimited_when_positive=True if unlimited is None else unlimited, gap_s=gap_s,
        )
    if len(files) > 1:
        raise InputError(f"a {kind.value} holds a whole trace; give one file", where=str(folder))
    trace = _load_single(files[0], kind, name or files[0].stem, gap_s)
    return _adjust(trace, unlimited, None)


def _load_single(path: Path, kind: TraceFormat, name: str, gap_s: float | None) -> Trace:
    if kind is TraceFormat.PROBE_CSV:
        return load_probe_csv(path, name=name, gap_s=gap_s)
    if kind is TraceFormat.CAPACITY_CSV:
        return load_capacity_csv(path, name=name, gap_s=gap_s)
    if kind is TraceFormat.EVENT_CSV:
        return load_event_csv(path, name=name, gap_s=gap_s)
    return load_replay_script(path, name=name, gap_s=gap_s)


def _load_folder(folder: Path, unlimited: bool | None, gap_s: float | None) -> Trace:
    """Folder rules, first match wins: an `availability-csv/` subfolder (prices beside it);
    one probe or capacity CSV; availability CSVs; per-zone JSON files."""
    if (folder / "availability-csv").is_dir():
        files = sorted((folder / "availability-csv").glob("*.csv"))
        return _load_files(files, folder / "availability-csv", unlimited, gap_s, name=folder.name)
    csvs = sorted(folder.glob("*.csv"))
    by_kind: dict[TraceFormat, list[Path]] = {}
    for f in csvs:
        try:
            by_kind.setdefault(sniff_format(f), []).append(f)
        except InputError:
            continue  # side files (summaries, notes) are not traces
    tables = by_kind.get(TraceFormat.PROBE_CSV, []) + by_kind.get(TraceFormat.CAPACITY_CSV, [])
    if len(tables) == 1:
        return _load_files(tables, folder, unlimited, gap_s, name=folder.name)
    if TraceFormat.AVAILABILITY_CSV in by_kind:
        return _load_files(by_kind[TraceFormat.AVAILABILITY_CSV], folder, unlimited, gap_s,
                           name=folder.name)
    if json_trace_files(folder):
        return load_json_folder(folder, name=folder.name, gap_s=gap_s,
                                unlimited_when_positive=unlimited)
    raise InputError(
        "no trace files in this folder", where=str(folder),
        fix="point at per-zone <zone>_<tag>.json files, availability CSVs or one probe CSV",
    )


def _adjust(trace: Trace, unlimited: bool | None, gap_s: float | None) -> Trace:
    if unlimited:
        capacity = np.where(trace.capacity > 0, UNLIMITED, 0).astype(np.int64)
        trace = replace(trace, capacity=capacity)
    if gap_s is not None:
        trace = replace(trace, gap_s=gap_s)
    return trace


def _with_catalog_prices(trace: Trace) -> Trace:
    """List prices where the catalog covers every zone and the result has spot prices."""
    if trace.instance is None or trace.on_demand_price is not None:
        return trace
    entry = load_price_catalog().get(trace.instance)
    if entry is None or not all(region_of(z) in entry.regions for z in trace.zones):
        return trace
    priced = attach_catalog_prices(trace, {trace.instance: entry})
    # On-demand prices without spot prices would mix list prices with the uniform model.
    return priced if priced.spot_price is not None else trace



def _names_fix() -> str:
    names = [n for n, _ in list_bundled()] + list(PAPER_TRACES)
    return f"use a trace name ({', '.join(names)}), a trace file, a folder or a quoted glob"


def _checkout_root() -> Path | None:
    # src/hedgeserve/traces/catalog.py -> the checkout root, when running from a source tree.
    root = Path(__file__).resolve().parents[3]
    return root if (root / "pyproject.toml").is_file() else None


def _project_root(start: Path) -> Path | None:
    for folder in (start, *start.parents):
        if (folder / "pyproject.toml").is_file():
            return folder
    return None
