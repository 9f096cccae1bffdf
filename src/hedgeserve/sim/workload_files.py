"""Readers for workload files: per-minute request counts, and request logs (via the shared
reader in `traces.request_log`)."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from hedgeserve.errors import InputError
from hedgeserve.traces import request_log


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
    """Arrival times (sorted, relative to the first) and (input, output) tokens if present;
    the file is read by the one request-log reader, `traces.request_log`."""
    log = request_log.read_request_log(path, need_arrivals=True)
    arrival = np.asarray(log.arrivals_s, dtype=np.float64)
    tokens = None if log.sizes is None else np.asarray(log.sizes, dtype=np.float64)
    order = np.argsort(arrival, kind="stable")
    arrival = arrival[order] - arrival[order][0]
    return arrival, None if tokens is None else tokens[order]
