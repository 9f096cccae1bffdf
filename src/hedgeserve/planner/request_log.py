"""Request logs: (input tokens, output tokens[, arrival time]) per request, from CSV or JSONL.

Accepted shapes (the first that fits wins):
- CSV with a header naming an input column (`input_tokens`, `prompt_tokens` or `input`), an output
  column (`output_tokens`, `completion_tokens` or `output`) and optionally an arrival column
  (`arrival_s`, `timestamp` or `time`, in seconds);
- headerless CSV whose first two columns are integers (input, output), like the Arena length file;
- JSONL, one object per line with the same key names (OpenAI `usage` objects work as they are).

Invariants: token counts are non-negative integers; arrival times, when present for every row,
are seconds on any clock. Bad rows raise `InputError` naming the file and line.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from hedgeserve.errors import InputError

_INPUT_KEYS = ("input_tokens", "prompt_tokens", "input")
_OUTPUT_KEYS = ("output_tokens", "completion_tokens", "output")
_ARRIVAL_KEYS = ("arrival_s", "timestamp", "time")
_FIX = ("give input_tokens and output_tokens columns (CSV header or JSONL keys), "
        "or a headerless CSV of two integer columns")


@dataclass(frozen=True, slots=True)
class RequestLog:
    sizes: tuple[tuple[int, int], ...]  # (input_tokens, output_tokens) per request
    arrivals_s: tuple[float, ...] | None  # one per request when every row had one

    @property
    def observed_rate_per_s(self) -> float | None:
        """Requests per second over the logged span, or None without arrival times."""
        if self.arrivals_s is None or len(self.arrivals_s) < 2:
            return None
        span = max(self.arrivals_s) - min(self.arrivals_s)
        return (len(self.arrivals_s) - 1) / span if span > 0 else None


def _pick(row: Mapping[str, object], keys: tuple[str, ...]) -> object | None:
    for key in keys:
        if key in row and row[key] not in (None, ""):
            return row[key]
    return None


def _tokens(value: object, where: str) -> int:
    try:
        number = float(str(value))
    except ValueError:
        raise InputError(f"{value!r} is not a token count", where=where, fix=_FIX) from None
    if number < 0 or number != int(number):
        raise InputError(f"{value!r} is not a non-negative whole number", where=where, fix=_FIX)
    return int(number)


def _rows(path: Path) -> Iterator[tuple[int, Mapping[str, object] | list[str]]]:
    text = path.read_text(encoding="utf-8")
    first = text.lstrip()[:1]
    if first == "{":
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as err:
                raise InputError(f"not JSON: {err.msg}", where=f"{path}:{number}") from None
            if not isinstance(row, dict):
                raise InputError("each line must be a JSON object", where=f"{path}:{number}")
            yield number, row
        return
    lines = text.splitlines()
    reader = csv.reader(lines)
    header = next(reader, None)
    if header is None:
        return
    names = [h.strip().lower() for h in header]
    if any(k in names for k in _INPUT_KEYS):
        for number, values in enumerate(reader, start=2):
            if values:
                yield number, dict(zip(names, values, strict=False))
        return
    for number, values in enumerate(csv.reader(lines), start=1):
        if values:
            yield number, values


def read_request_log(path: Path) -> RequestLog:
    """Read a CSV or JSONL request log; raises `InputError` on a missing file or a bad row."""
    if not path.is_file():
        raise InputError("no such file", where=str(path),
                         fix="pass a request log (CSV/JSONL) or a named workload like arena-like")
    sizes: list[tuple[int, int]] = []
    arrivals: list[float] = []
    for number, row in _rows(path):
        where = f"{path}:{number}"
        if isinstance(row, list):
            if len(row) < 2:
                raise InputError("need two columns (input, output)", where=where, fix=_FIX)
            sizes.append((_tokens(row[0], where), _tokens(row[1], where)))
            continue
        usage = row.get("usage")
        source = usage if isinstance(usage, dict) else row
        input_value, output_value = _pick(source, _INPUT_KEYS), _pick(source, _OUTPUT_KEYS)
        if input_value is None or output_value is None:
            raise InputError("missing input or output token count", where=where, fix=_FIX)
        sizes.append((_tokens(input_value, where), _tokens(output_value, where)))
        arrival = _pick(row, _ARRIVAL_KEYS)
        if arrival is not None:
            try:
                arrivals.append(float(str(arrival)))
            except ValueError:
                raise InputError(f"arrival time {arrival!r} is not a number of seconds",
                                 where=where) from None
    if not sizes:
        raise InputError("the request log has no requests", where=str(path), fix=_FIX)
    has_arrivals = len(arrivals) == len(sizes)
    return RequestLog(tuple(sizes), tuple(arrivals) if has_arrivals else None)
