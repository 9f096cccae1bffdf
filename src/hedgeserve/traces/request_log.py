"""Request logs: one row per request with its token counts and/or its arrival time.

The one reader of request logs: the planner takes the token counts (request sizes), the
simulator the arrival times. Shapes accepted, told apart by content:

- JSONL, one object per line. Keys, the first present winning:
    arrival  `arrival_s`, `arrival`, `timestamp`, `time`, `t` (seconds, any clock)
    input    `input_tokens`, `prompt_tokens`, `input_len`, `input`
    output   `output_tokens`, `completion_tokens`, `output_len`, `output`
  Token counts may sit in a nested `usage` object (OpenAI responses, logged as they are).
- CSV with a header row naming its columns with the same keys (any case);
- headerless CSV whose first row is all numbers: (input, output) per row, like the Arena
  length file.

Invariants: every request of a log has the same fields — arrival times for all or for none,
token counts for all or for none; token counts are whole numbers >= 0; arrival times are
finite seconds, kept in file order (callers sort). A bad row raises `InputError` naming the
file and line.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from itertools import chain
from pathlib import Path

from hedgeserve.errors import InputError

ARRIVAL_KEYS = ("arrival_s", "arrival", "timestamp", "time", "t")
INPUT_KEYS = ("input_tokens", "prompt_tokens", "input_len", "input")
OUTPUT_KEYS = ("output_tokens", "completion_tokens", "output_len", "output")
_FIX = ("give input_tokens/output_tokens and/or arrival_s columns (CSV header or JSONL keys), "
        "or a headerless CSV of two integer columns (input, output)")


@dataclass(frozen=True, slots=True)
class RequestLog:
    source: str  # the file, for messages and reports
    arrivals_s: tuple[float, ...] | None  # per request, file order; None if the log has none
    sizes: tuple[tuple[int, int], ...] | None  # (input, output) tokens; None if it has none

    @property
    def count(self) -> int:
        return len(self.sizes if self.sizes is not None else self.arrivals_s or ())

    @property
    def observed_rate_per_s(self) -> float | None:
        """Requests per second over the logged span, or None without arrival times."""
        if self.arrivals_s is None or len(self.arrivals_s) < 2:
            return None
        span = max(self.arrivals_s) - min(self.arrivals_s)
        return (len(self.arrivals_s) - 1) / span if span > 0 else None


@dataclass(frozen=True, slots=True)
class _Row:
    line: int
    arrival_s: float | None
    size: tuple[int, int] | None


def read_request_log(path: Path, *, need_sizes: bool = False,
                     need_arrivals: bool = False) -> RequestLog:
    """Read a CSV or JSONL request log.

    Args:
        path: the log file.
        need_sizes: raise `InputError` unless every request has input and output tokens.
        need_arrivals: raise `InputError` unless every request has an arrival time.

    Returns:
        The log, with `sizes` and `arrivals_s` None where the file has no such field.
    """
    rows = list(_rows(path, _read_text(path)))
    if not rows:
        raise InputError("the request log has no requests", where=str(path), fix=_FIX)
    first = rows[0]
    for row in rows[1:]:
        _same_fields(first, row, path)
    if need_sizes and first.size is None:
        raise InputError("no input and output token counts (looked for "
                         f"{', '.join(INPUT_KEYS)} and {', '.join(OUTPUT_KEYS)})",
                         where=f"{path}:{first.line}", fix=_FIX)
    if need_arrivals and first.arrival_s is None:
        raise InputError(f"no arrival time (looked for {', '.join(ARRIVAL_KEYS)})",
                         where=f"{path}:{first.line}", fix="add an arrival_s column, in seconds")
    arrivals = tuple(r.arrival_s for r in rows if r.arrival_s is not None)
    sizes = tuple(r.size for r in rows if r.size is not None)
    return RequestLog(str(path), arrivals if first.arrival_s is not None else None,
                      sizes if first.size is not None else None)


def _read_text(path: Path) -> str:
    if path.is_dir():
        raise InputError("is a folder, not a request log", where=str(path),
                         fix="pass a request log file (CSV or JSONL)")
    if not path.is_file():
        raise InputError("no such file", where=str(path),
                         fix="pass a request log (CSV or JSONL)")
    try:
        return path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError("not a text file (a request log is CSV or JSONL in UTF-8)",
                         where=str(path), fix=_FIX) from None
    except OSError as err:
        raise InputError(f"cannot read: {err.strerror}", where=str(path)) from None


def _same_fields(first: _Row, row: _Row, path: Path) -> None:
    for what, a, b in (("an arrival time", first.arrival_s, row.arrival_s),
                       ("token counts", first.size, row.size)):
        if (a is None) != (b is None):
            has, lacks = (first.line, row.line) if a is not None else (row.line, first.line)
            raise InputError(f"line {has} has {what} but line {lacks} has none",
                             where=f"{path}:{row.line}",
                             fix="give every request the same fields")


def _rows(path: Path, text: str) -> Iterator[_Row]:
    if text.lstrip()[:1] == "{":
        yield from _json_rows(path, text)
        return
    lines = text.splitlines()
    numbered = ((n, values) for n, values in enumerate(csv.reader(lines), start=1)
                if any(v.strip() for v in values))
    head = next(numbered, None)
    if head is None:
        return
    if all(_is_number(v) for v in head[1]):
        for number, values in chain([head], numbered):
            where = f"{path}:{number}"
            if len(values) < 2:
                raise InputError("need two columns (input, output)", where=where, fix=_FIX)
            yield _Row(number, None, (_tokens(values[0], where), _tokens(values[1], where)))
        return
    names = [h.strip().lower() for h in head[1]]
    if not any(k in names for k in (*ARRIVAL_KEYS, *INPUT_KEYS, *OUTPUT_KEYS)):
        raise InputError(f"the header names no known column ({', '.join(names)})",
                         where=f"{path}:{head[0]}", fix=_FIX)
    for number, values in numbered:
        yield _row(dict(zip(names, values, strict=False)), f"{path}:{number}", number)


def _json_rows(path: Path, text: str) -> Iterator[_Row]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            raise InputError(f"not JSON: {err.msg}", where=where, fix=_FIX) from None
        if not isinstance(record, dict):
            raise InputError("each line must be a JSON object", where=where, fix=_FIX)
        yield _row(record, where, number)


def _row(record: Mapping[str, object], where: str, number: int) -> _Row:
    usage = record.get("usage")
    sources = (usage, record) if isinstance(usage, dict) else (record,)
    input_value = next((v for s in sources if (v := _pick(s, INPUT_KEYS)) is not None), None)
    output_value = next((v for s in sources if (v := _pick(s, OUTPUT_KEYS)) is not None), None)
    if (input_value is None) != (output_value is None):
        missing = "output" if output_value is None else "input"
        raise InputError(f"an {missing} token count is missing", where=where, fix=_FIX)
    size = None if input_value is None or output_value is None else (
        _tokens(input_value, where), _tokens(output_value, where))
    arrival = _pick(record, ARRIVAL_KEYS)
    return _Row(number, None if arrival is None else _seconds(arrival, where), size)


def _pick(record: Mapping[str, object], keys: tuple[str, ...]) -> object | None:
    for key in keys:
        value = record.get(key)
        if value is not None and value != "":
            return value
    return None


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _tokens(value: object, where: str) -> int:
    number = _number(value)
    if number is None or number < 0 or not math.isfinite(number) or number != int(number):
        raise InputError(f"{value!r} is not a token count (a whole number >= 0)", where=where,
                         fix=_FIX)
    return int(number)


def _seconds(value: object, where: str) -> float:
    number = _number(value)
    if number is None or not math.isfinite(number):
        raise InputError(f"arrival time {value!r} is not a number of seconds", where=where,
                         fix="write arrival times as seconds, e.g. 12.5")
    return number


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        return float(value)
    except ValueError:
        return None
