"""Loader for the JSON trace format of skypilot-org/spot-traces and the SkyServe artifact.

One file per zone: {"metadata": {"gap_seconds": int}, "data": [int, ...], "prices"?: [float]}.
`data[t]` is how many of the requested spot instances were up (or obtainable) at tick t. Files
of one experiment may differ in length; they are cut to the shortest, aligned at the start
(the SkyServe artifact already aligned its copies), unless the caller says how many leading
ticks of each file to skip (`skip_ticks`, see `json_folder` for the known upstream offsets).

SkyNomad's converted H100 files use the same schema with the *inverted* meaning (1 = no spot);
they are refused here so that nobody replays them upside down.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from hedgeserve.errors import InputError
from hedgeserve.traces.file_names import instance_for_tag, split_file_name
from hedgeserve.traces.model import UNLIMITED, FloatArray, IntArray, Trace
from hedgeserve.traces.zone_names import infer_zone_id


def zone_name_from_file(path: Path) -> str:
    """`us-east-1a_v100_1.json` -> `us-east-1a`."""
    return split_file_name(path)[0]


def read_zone_file(path: Path) -> tuple[float, IntArray, FloatArray | None]:
    """(gap_s, capacity per tick, spot price per tick or None) of one per-zone JSON file."""
    try:
        doc = json.loads(path.read_text())
    except FileNotFoundError:
        raise InputError("file not found", where=str(path)) from None
    except IsADirectoryError:
        raise InputError("is a folder, not a trace file", where=str(path)) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise InputError(f"not valid JSON ({err})", where=str(path)) from None
    try:
        meta = doc["metadata"]
        gap = float(meta["gap_seconds"])
        data = np.asarray(doc["data"], dtype=np.int64)
        prices = doc.get("prices")
    except (KeyError, TypeError, ValueError) as err:
        raise InputError(
            f"not a spot trace ({type(err).__name__}: {err})",
            where=str(path),
            fix='expected {"metadata": {"gap_seconds": N}, "data": [counts...]}',
        ) from None
    if "gap_filled" in meta or "price_info" in meta:
        raise InputError(
            "this is a SkyNomad converted trace, whose data is inverted (1 = no spot)",
            where=str(path),
            fix="load gcp_h100_16_probe_counts.csv instead, or the bundled trace 'gcp-h100'",
        )
    if data.ndim != 1 or data.size == 0 or gap <= 0 or (data < 0).any():
        raise InputError(
            "trace data must be a non-empty list of counts >= 0 with gap_seconds > 0",
            where=str(path),
        )
    price = None
    if prices is not None:
        try:
            price = np.asarray(prices, dtype=np.float64)
        except (TypeError, ValueError):
            raise InputError("'prices' must be a list of numbers", where=str(path)) from None
        if price.shape != data.shape:
            raise InputError("'prices' must have one value per tick of 'data'", where=str(path))
        if not np.isfinite(price).all() or (price < 0).any():
            raise InputError("'prices' must be finite and >= 0", where=str(path))
    return gap, data, price


def load_json_traces(
    files: list[Path],
    *,
    name: str,
    unlimited_when_positive: bool = False,
    gap_s: float | None = None,
    skip_ticks: Mapping[str, int] | None = None,
) -> Trace:
    """Combine per-zone JSON files into one trace.

    Args:
        unlimited_when_positive: for 1-node availability traces, where 1 means "spot is
            obtainable here", not "exactly one instance".
        gap_s: override the files' tick length (e.g. the SkyServe artifact's AWS3 copy says
            300 s although the real cadence was 195 s).
        skip_ticks: leading ticks to drop per file (keyed by file stem) before cutting all
            files to the shortest, for experiments whose zones started at different times.
    """
    if not files:
        raise InputError("no trace files given", where=name)
    skip = skip_ticks or {}
    ordered = sorted(files)
    gaps, rows, prices = [], [], []
    for f in ordered:
        gap, data, price = read_zone_file(f)
        start = skip.get(f.name.split(".", 1)[0], 0)
        if not 0 <= start < data.size:
            raise InputError(f"cannot skip {start} of {data.size} ticks", where=str(f))
        gaps.append(gap)
        rows.append(data[start:])
        prices.append(None if price is None else price[start:])
    if len(set(gaps)) != 1:
        raise InputError(
            f"zone files disagree on gap_seconds ({sorted(set(gaps))})", where=name,
            fix="load them as separate traces",
        )
    n = min(r.size for r in rows)
    capacity = np.stack([r[:n] for r in rows])
    if unlimited_when_positive:
        capacity = np.where(capacity > 0, UNLIMITED, 0).astype(np.int64)
    spot_price = None
    if all(p is not None for p in prices):
        spot_price = np.stack([p[:n] for p in prices if p is not None])
    zones = tuple(infer_zone_id(zone_name_from_file(f)) for f in ordered)
    if len(set(zones)) != len(zones):
        tags = sorted({split_file_name(f)[1] for f in ordered})
        raise InputError(
            "two files map to the same zone", where=name,
            fix=f"pick one instance tag ({', '.join(tags)}) with a quoted glob 'FOLDER/*_TAG.json'",
        )
    instances = {instance_for_tag(split_file_name(f)[1]) for f in ordered}
    return Trace(
        name=name,
        zones=zones,
        gap_s=gap_s if gap_s is not None else gaps[0],
        capacity=capacity,
        spot_price=spot_price,
        instance=instances.pop() if len(instances) == 1 else None,
        source=str(ordered[0].parent),
    )
