"""Recognise a trace file's format from its content, not its name.

The first line that is neither blank nor a `#` comment decides:
`{` per-zone JSON; `[` SpotServe replay script; a CSV header with `scheduled_at_utc`, `zone`
and `instances_created` the SkyNomad probe CSV; `time_utc,...` a capacity table;
`date,availability` an availability CSV; `<int>,add|remove,<id>` a SpotServe event log.
A `#` line directly followed by a JSON list is a commented-out replay line, so a file whose
first line is `#[...` is a replay script too.
"""

from __future__ import annotations

import re
from enum import StrEnum
from pathlib import Path

from hedgeserve.errors import InputError


class TraceFormat(StrEnum):
    ZONE_JSON = "per-zone JSON (skypilot spot-traces / SkyServe artifact)"
    REPLAY_SCRIPT = "SpotServe JSON-lines replay script"
    PROBE_CSV = "SkyNomad probe CSV"
    CAPACITY_CSV = "hedgeserve capacity table CSV"
    AVAILABILITY_CSV = "timestamped availability CSV (date,availability)"
    EVENT_CSV = "SpotServe add/remove event log (t_ms,op,node_id)"


_EVENT_ROW = re.compile(r"^\d+,(add|remove),\S+$")
_PROBE_COLUMNS = {"scheduled_at_utc", "zone", "instances_created"}
_SNIFF_BYTES = 8192


def sniff_format(path: Path) -> TraceFormat:
    """The format of the trace file at `path`; InputError if missing, empty or unknown."""
    where = str(path)
    try:
        with path.open("rb") as fh:
            head = fh.read(_SNIFF_BYTES)
    except FileNotFoundError:
        raise InputError("file not found", where=where) from None
    except IsADirectoryError:
        raise InputError("is a folder, not a file", where=where) from None
    if not head.strip():
        raise InputError("empty file", where=where, fix="point at a trace file with data")
    if b"\x00" in head:
        raise InputError("not a text file", where=where)
    # "replace": the 8 kB cut may split a multi-byte character; only the first lines matter.
    text = head.decode("utf-8", errors="replace")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if lines[0].startswith("#["):
        return TraceFormat.REPLAY_SCRIPT
    body = [line for line in lines if not line.startswith("#")]
    if not body:
        raise InputError("only comments, no data", where=where)
    first = body[0]
    fmt = _by_first_line(first)
    if fmt is None:
        raise InputError(
            f"unrecognised trace format (first line {first[:60]!r})", where=where,
            fix="use one of: " + "; ".join(f.value for f in TraceFormat),
        )
    return fmt


def _by_first_line(first: str) -> TraceFormat | None:
    if first.startswith("{"):
        return TraceFormat.ZONE_JSON
    if first.startswith("["):
        return TraceFormat.REPLAY_SCRIPT
    columns = [c.strip() for c in first.split(",")]
    if set(columns) >= _PROBE_COLUMNS:
        return TraceFormat.PROBE_CSV
    if columns[0] == "time_utc":
        return TraceFormat.CAPACITY_CSV
    if columns == ["date", "availability"]:
        return TraceFormat.AVAILABILITY_CSV
    if _EVENT_ROW.match(first):
        return TraceFormat.EVENT_CSV
    return None
