"""Loader for SkyNomad's GCP H100 probe CSV (`gcp_h100_16_probe_counts.csv`).

Every 10 minutes the prober requested 16 x a3-highgpu-1g spot VMs in each of 13 zones and
recorded how many were created. One CSV row per (round, zone); the columns used are
`scheduled_at_utc` (round start, ISO-8601), `zone` and `instances_created` (0..16), and, when
present, `run_status` (rows other than "success" count as not observed) and
`instances_requested` (an upper bound checked on every row). Capacity at a tick is the number
created in that round. Rounds the prober missed are filled by `timeline.Fill` (default: carry
the last value forward) and marked in `Trace.filled`.
"""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from hedgeserve.errors import InputError
from hedgeserve.traces.model import Trace
from hedgeserve.traces.timeline import MISSING, Fill, Observations, to_trace

REQUIRED_COLUMNS = ("scheduled_at_utc", "zone", "instances_created")
PROBED_INSTANCE = "a3-highgpu-1g"


def parse_utc(text: str, *, where: str) -> datetime:
    """ISO-8601 with a zone (Z or +hh:mm) -> aware UTC datetime."""
    try:
        t = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise InputError(f"bad timestamp {text!r}", where=where) from None
    if t.tzinfo is None:
        raise InputError(f"timestamp {text!r} has no time zone", where=where, fix="add Z")
    return t.astimezone(UTC)


def read_probe_observations(path: Path) -> Observations:
    """What the prober saw, round by round, without filling anything."""
    where = str(path)
    try:
        with path.open(newline="") as fh:
            reader = csv.DictReader(fh)
            header = reader.fieldnames or []
            missing = [c for c in REQUIRED_COLUMNS if c not in header]
            if missing:
                raise InputError(
                    f"not a probe CSV: no column {', '.join(missing)}", where=where,
                    fix=f"expected a header with {', '.join(REQUIRED_COLUMNS)}",
                )
            cells: dict[tuple[datetime, str], int] = {}
            rounds: set[datetime] = set()
            for line_no, row in enumerate(reader, start=2):
                at = f"{where}:{line_no}"
                when = parse_utc(row["scheduled_at_utc"] or "", where=at)
                rounds.add(when)  # a failed round still fixes the grid; it observed nothing
                if row.get("run_status", "success") != "success":
                    continue
                key = (when, row["zone"] or "")
                if key in cells:
                    raise InputError(f"zone {key[1]} appears twice in one round", where=at)
                cells[key] = _count(row, at)
    except FileNotFoundError:
        raise InputError("file not found", where=where) from None
    except UnicodeDecodeError:
        raise InputError("not a text file", where=where) from None
    if not cells:
        raise InputError("no probe rows", where=where)
    times = tuple(sorted(rounds))
    zones = tuple(sorted({z for _, z in cells}))
    col = {t: i for i, t in enumerate(times)}
    zrow = {z: i for i, z in enumerate(zones)}
    counts = np.full((len(zones), len(times)), MISSING, dtype=np.int64)
    for (t, z), n in cells.items():
        counts[zrow[z], col[t]] = n
    return Observations(zones=zones, times=times, counts=counts)


def _count(row: dict[str, str | None], at: str) -> int:
    try:
        created = int(row["instances_created"] or "")
        requested = int(row.get("instances_requested") or created)
    except ValueError:
        raise InputError("instance counts must be integers", where=at) from None
    if not row["zone"]:
        raise InputError("empty zone", where=at)
    if created < 0 or created > requested:
        raise InputError(
            f"instances_created={created} is outside 0..instances_requested={requested}", where=at
        )
    return created


def load_probe_csv(
    path: Path,
    *,
    name: str | None = None,
    gap_s: float | None = None,
    fill: Fill = Fill.CARRY,
) -> Trace:
    """The probe CSV as a trace: capacity = instances created per zone per round."""
    return to_trace(
        read_probe_observations(path),
        name=name or path.stem,
        source=str(path),
        gap_s=gap_s,
        fill=fill,
        cloud="gcp",
        instance=PROBED_INSTANCE,
    )
