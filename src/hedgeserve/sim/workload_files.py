"""Readers for workload files: per-minute request counts and request logs."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np

from hedgeserve.errors import InputError

_ARRIVAL_KEYS = ("arrival_s", "arrival", "timestamp", "time", "t")
_INPUT_KEYS = ("input_tokens", "prompt_tokens", "input_len", "input")
_OUTPUT_KEYS = ("output_tokens", "completion_tokens", "output_len", "output")


def _open_text(path: Path) -> str:
    try:
        return path.read_text()
    except FileNotFoundError:
        raise InputError("file not found", where=str(path)) from None
    except (UnicodeDecodeError, IsADirectoryError) as err:
        raise InputError(f"cannot read as text ({err})", where=str(path)) from None


def read_per_minute_counts(path: Path) -> np.ndarray:
    """The last column of a CSV, one row per minute (a header row is skipped)."""
    rows = list(csv.reader(_open_text(path).splitlines()))
    values = []
    for i, row in enumerate(rows):
        if not row:
            continue
        try:
            values.append(float(row[-1]))
        except ValueError:
            if i == 0:
                continue  # header
            raise InputError(f"line {i + 1}: {row[-1]!r} is not a count", where=str(path)) from None
    counts = np.asarray(values, dtype=np.float64)
    if counts.size == 0 or (counts < 0).any():
        raise InputError("needs one non-negative count per minute", where=str(path))
    return counts


def read_request_log(path: Path) -> tuple[np.ndarray, np.ndarray | None]:
    """Arrival times (sorted, relative to the first) and (input, output) tokens if present."""
    text = _open_text(path)
    records = _json_lines(text, path) if text.lstrip().startswith("{") else _csv_rows(text, path)
    if not records:
        raise InputError("the request log has no requests", where=str(path))
    first = records[0]
    arrival_key = _pick(first, _ARRIVAL_KEYS, path, "an arrival time column")
    in_key = next((k for k in _INPUT_KEYS if k in first), None)
    out_key = next((k for k in _OUTPUT_KEYS if k in first), None)
    try:
        arrival = np.asarray([_number(r[arrival_key]) for r in records])
        tokens = None
        if in_key and out_key:
            tokens = np.asarray([[_number(r[in_key]), _number(r[out_key])] for r in records])
    except (KeyError, ValueError, TypeError) as err:
        raise InputError(f"bad value in the request log ({err})", where=str(path)) from None
    if (arrival < 0).any() or (tokens is not None and (tokens < 0).any()):
        raise InputError("times and token counts must be >= 0", where=str(path))
    order = np.argsort(arrival, kind="stable")
    arrival = arrival[order] - arrival[order][0]
    return arrival, None if tokens is None else tokens[order]


def _json_lines(text: str, path: Path) -> list[dict[str, object]]:
    out = []
    for i, line in enumerate(text.splitlines()):
        if line.strip():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError as err:
                raise InputError(f"line {i + 1}: not JSON ({err})", where=str(path)) from None
    return out


def _csv_rows(text: str, path: Path) -> list[dict[str, object]]:
    reader = csv.DictReader(text.splitlines())
    if not reader.fieldnames:
        raise InputError("empty CSV", where=str(path))
    return list(reader)


def _pick(record: dict[str, object], keys: tuple[str, ...], path: Path, what: str) -> str:
    for key in keys:
        if key in record:
            return key
    raise InputError(
        f"no {what} (looked for {', '.join(keys)})",
        where=str(path),
        fix="add a header row naming the columns",
    )


def _number(value: object) -> float:
    if isinstance(value, (int, float, str)):
        return float(value)
    raise ValueError(f"{value!r} is not a number")
