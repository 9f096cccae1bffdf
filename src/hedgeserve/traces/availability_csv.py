"""Loader for timestamped 1-node availability CSVs plus per-tick spot prices (SkyNomad's AWS V100).

Files `<zone>_<tag>.csv` with header `date,availability`, one row per probe (0 = no spot,
1 = a spot instance was obtainable). A 1 means "obtainable", so by default it becomes
`UNLIMITED` capacity. The probes ran about every 195 s with +-2 s jitter (the true mean is
195.35 s); rows are taken as consecutive ticks of the median spacing, never re-gridded, because
snapping the jitter onto a 195 s grid would drift by ~36 ticks over 45 days.

Zones are cut to the time window all of them cover; inside it every file must list the same
timestamps. Prices come from a companion `*spot_prices.json` ({file stem: [USD/h per row]}) in
the folder or its parent, aligned row for row with the CSVs; without one, `spot_price` is None.
"""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from hedgeserve.errors import InputError
from hedgeserve.traces.file_names import instance_for_tag, split_file_name
from hedgeserve.traces.model import UNLIMITED, FloatArray, IntArray, Trace
from hedgeserve.traces.zone_names import infer_zone_id

HEADER = ["date", "availability"]


def read_availability_csv(path: Path) -> tuple[list[datetime], IntArray]:
    """(timestamps, 0/1 per row) of one zone file."""
    where = str(path)
    try:
        with path.open(newline="") as fh:
            rows = list(csv.reader(fh))
    except FileNotFoundError:
        raise InputError("file not found", where=where) from None
    except UnicodeDecodeError:
        raise InputError("not a text file", where=where) from None
    if not rows or rows[0] != HEADER:
        raise InputError(
            "not an availability CSV", where=where, fix="expected header date,availability"
        )
    times, values = [], []
    for line_no, row in enumerate(rows[1:], start=2):
        at = f"{where}:{line_no}"
        if len(row) != 2:
            raise InputError(f"expected 2 cells, got {len(row)}", where=at)
        try:
            t = datetime.fromisoformat(row[0])
        except ValueError:
            raise InputError(f"bad date {row[0]!r}", where=at) from None
        # The upstream files give no zone; aware stamps are made naive UTC so both compare.
        times.append(t if t.tzinfo is None else t.astimezone(UTC).replace(tzinfo=None))
        if row[1] not in ("0", "1"):
            raise InputError(f"availability must be 0 or 1, got {row[1]!r}", where=at)
        values.append(int(row[1]))
    if not times:
        raise InputError("no rows", where=where)
    if any(b <= a for a, b in zip(times, times[1:], strict=False)):
        raise InputError("dates must be strictly increasing", where=where)
    return times, np.asarray(values, dtype=np.int64)


def find_price_file(folder: Path) -> Path | None:
    """The single `*spot_prices.json` beside the CSVs or one folder up, if there is one."""
    for place in (folder, folder.parent):
        found = sorted(place.glob("*spot_prices.json"))
        if len(found) == 1:
            return found[0]
    return None


def read_price_file(path: Path) -> dict[str, FloatArray]:
    """{file stem: USD/h per row} from a companion price file."""
    try:
        doc = json.loads(path.read_text())
    except FileNotFoundError:
        raise InputError("file not found", where=str(path)) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise InputError(f"not valid JSON ({err})", where=str(path)) from None
    if not isinstance(doc, dict):
        raise InputError("expected {zone file stem: [prices...]}", where=str(path))
    out: dict[str, FloatArray] = {}
    for key, values in doc.items():
        try:
            arr = np.asarray(values, dtype=np.float64)
        except (TypeError, ValueError):
            raise InputError(f"prices of {key} are not numbers", where=str(path)) from None
        if arr.ndim != 1 or not np.isfinite(arr).all() or (arr < 0).any():
            raise InputError(
                f"prices of {key} must be a list of finite numbers >= 0", where=str(path)
            )
        out[str(key)] = arr
    return out


def load_availability_csvs(
    files: list[Path],
    *,
    name: str,
    prices: Path | None = None,
    unlimited_when_positive: bool = True,
    gap_s: float | None = None,
) -> Trace:
    """Combine per-zone availability CSVs (and their price file, if given) into one trace."""
    if not files:
        raise InputError("no availability CSVs given", where=name)
    ordered = sorted(files)
    read = [read_availability_csv(f) for f in ordered]
    start = max(times[0] for times, _ in read)
    end = min(times[-1] for times, _ in read)
    if start > end:
        raise InputError("the zone files do not overlap in time", where=name)
    keep = [[start <= t <= end for t in times] for times, _ in read]
    common = [t for t, k in zip(read[0][0], keep[0], strict=True) if k]
    for f, (times, _), k in zip(ordered, read, keep, strict=True):
        if [t for t, kk in zip(times, k, strict=True) if kk] != common:
            raise InputError(
                "timestamps differ from the other zones inside their common window", where=str(f)
            )
    capacity = np.stack([v[np.asarray(k)] for (_, v), k in zip(read, keep, strict=True)])
    if unlimited_when_positive:
        capacity = np.where(capacity > 0, UNLIMITED, 0).astype(np.int64)
    spot_price = None
    if prices is not None:
        spot_price = _aligned_prices(prices, ordered, read, keep)
    gap = gap_s if gap_s is not None else _median_gap_s(common, name)
    tags = {split_file_name(f)[1] for f in ordered}
    return Trace(
        name=name,
        zones=tuple(infer_zone_id(split_file_name(f)[0]) for f in ordered),
        gap_s=gap,
        capacity=capacity,
        spot_price=spot_price,
        instance=instance_for_tag(tags.pop()) if len(tags) == 1 else None,
        source=str(ordered[0].parent),
    )


def _aligned_prices(
    prices: Path,
    files: list[Path],
    read: list[tuple[list[datetime], IntArray]],
    keep: list[list[bool]],
) -> FloatArray:
    table = read_price_file(prices)
    rows = []
    for f, (times, _), k in zip(files, read, keep, strict=True):
        stem = f.name.split(".", 1)[0]
        if stem not in table:
            raise InputError(f"no prices for {stem}", where=str(prices))
        if table[stem].size != len(times):
            raise InputError(
                f"{stem} has {table[stem].size} prices for {len(times)} rows", where=str(prices)
            )
        rows.append(table[stem][np.asarray(k)])
    return np.stack(rows)


def _median_gap_s(times: list[datetime], name: str) -> float:
    if len(times) < 2:
        raise InputError("need at least two rows to know the tick length", where=name,
                         fix="pass gap_s")
    # Differences of naive datetimes: no local-time (DST) conversion sneaks in.
    diffs = [(b - a).total_seconds() for a, b in zip(times, times[1:], strict=False)]
    return float(round(float(np.median(diffs))))
