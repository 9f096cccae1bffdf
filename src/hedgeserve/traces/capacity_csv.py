"""The capacity table: hedgeserve's own compact CSV for timestamped per-zone capacity.

    # instance: a3-highgpu-1g
    # cloud: gcp
    # source: ...            (any other "# key: value" lines are kept as notes)
    time_utc,asia-south2-b,us-central1-a,...
    2025-10-04T00:10:00Z,16,14,...

One row per observed round (rows the source never had are simply absent), one column per zone,
each cell the number of spot instances obtainable in that round; an empty cell means the zone
was not observed. The bundled `gcp-h100` trace ships in this form: it is the SkyNomad probe CSV
with the per-row bookkeeping dropped (`write_capacity_csv(read_probe_observations(...))`), about
a sixteenth of the size, and reads back to the identical trace.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from itertools import takewhile
from pathlib import Path

import numpy as np

from hedgeserve.errors import InputError
from hedgeserve.traces.model import Trace
from hedgeserve.traces.probe_csv import parse_utc
from hedgeserve.traces.timeline import MISSING, Fill, Observations, to_trace

TIME_COLUMN = "time_utc"


def write_capacity_csv(obs: Observations, path: Path, *, notes: Mapping[str, str]) -> None:
    """Write observations as a capacity table; `notes` become leading "# key: value" lines."""
    with path.open("w", newline="") as fh:
        for key, value in notes.items():
            fh.write(f"# {key}: {value}\n")
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow([TIME_COLUMN, *obs.zones])
        for i, t in enumerate(obs.times):
            cells = ["" if n == MISSING else str(int(n)) for n in obs.counts[:, i]]
            writer.writerow([t.strftime("%Y-%m-%dT%H:%M:%SZ"), *cells])


def read_capacity_csv(path: Path) -> tuple[Observations, dict[str, str]]:
    """(observations, notes) of a capacity table."""
    where = str(path)
    try:
        lines = path.read_text().splitlines()
    except FileNotFoundError:
        raise InputError("file not found", where=where) from None
    except UnicodeDecodeError:
        raise InputError("not a text file", where=where) from None
    note_lines = list(takewhile(lambda line: line.startswith("#"), lines))
    notes = {k.strip(): v.strip() for k, _, v in (n[1:].partition(":") for n in note_lines)}
    body_start = len(note_lines)
    rows = list(csv.reader(lines[body_start:]))
    if not rows or not rows[0] or rows[0][0] != TIME_COLUMN:
        raise InputError(f"not a capacity table: first column must be {TIME_COLUMN}", where=where)
    zones = tuple(rows[0][1:])
    if not zones or len(set(zones)) != len(zones) or not all(zones):
        raise InputError("the header must name each zone once", where=where)
    times, columns = [], []
    for offset, row in enumerate(rows[1:], start=body_start + 2):
        at = f"{where}:{offset}"
        if len(row) != len(zones) + 1:
            raise InputError(f"expected {len(zones) + 1} cells, got {len(row)}", where=at)
        times.append(parse_utc(row[0], where=at))
        columns.append([_cell(c, at) for c in row[1:]])
    if not times:
        raise InputError("no rows", where=where)
    if any(b <= a for a, b in zip(times, times[1:], strict=False)):
        raise InputError("rows must be in strictly increasing time order", where=where)
    counts = np.array(columns, dtype=np.int64).T.reshape(len(zones), len(times))
    return Observations(zones=zones, times=tuple(times), counts=counts), notes


def _cell(text: str, at: str) -> int:
    if text == "":
        return MISSING
    try:
        n = int(text)
    except ValueError:
        raise InputError(f"capacity {text!r} is not an integer", where=at) from None
    if n < 0:
        raise InputError(f"capacity {n} is negative", where=at)
    return n


def load_capacity_csv(
    path: Path,
    *,
    name: str | None = None,
    gap_s: float | None = None,
    fill: Fill = Fill.CARRY,
) -> Trace:
    """A capacity table as a trace; holes are filled by `fill` and marked in `Trace.filled`."""
    obs, notes = read_capacity_csv(path)
    return to_trace(
        obs,
        name=name or path.stem,
        source=str(path),
        gap_s=gap_s,
        fill=fill,
        cloud=notes.get("cloud") or None,
        instance=notes.get("instance") or None,
    )
