"""Loaders for SpotServe's add/remove event logs: capacity = nodes added - nodes removed so far.

Two forms, one idea (a one-zone trace; the logs record no region or zone):
* `trace_full/g4dn.csv`: rows `t_ms,op,node_id`, op `add` or `remove`, no header. Every time is
  a multiple of 60 000 ms, so the default tick is 60 s. Ticks start at the first event (the
  log's first 8 minutes are the collector starting up, not a lack of spot) and end at the last.
* `trace_seg/*.txt` replay scripts: JSON lines `[t_ms, op, {"nodes": [...]}]`, op `add`,
  `remove`, `other` (only changes the workload target `required_tpt`, ignored here) or `DONE`
  (end of the replay); `#` lines are comments. Ticks start at 0 and end before DONE; the
  default tick is the largest one of at most 60 s that puts every event on a tick boundary
  (30 s for most scripts), so no event is seen late.

Capacity at tick k is the number of nodes up after every event at or before the tick's start,
so with a tick coarser than the events a node added and removed inside one tick never shows.
A remove of a node that is not up, or an add of one that is, is refused: the log is broken.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hedgeserve.core.zones import ZoneId
from hedgeserve.errors import InputError
from hedgeserve.traces.model import IntArray, Trace

ZONE = ZoneId("aws/unknown/g4dn")  # the logs name no region; one failure domain
INSTANCE = "g4dn.12xlarge"  # 4 x T4 per node, per the SpotServe paper
CSV_GAP_S = 60.0
MAX_TICKS = 10_000_000


@dataclass(frozen=True, slots=True)
class NodeEvent:
    t_ms: int
    is_add: bool
    nodes: tuple[str, ...]
    where: str  # file:line, for error messages


def read_event_csv(path: Path) -> list[NodeEvent]:
    """Events of a `t_ms,op,node_id` log."""
    events = []
    for line_no, line in enumerate(_read_lines(path), start=1):
        at = f"{path}:{line_no}"
        if not line.strip():
            continue
        parts = line.strip().split(",")
        if len(parts) != 3 or parts[1] not in ("add", "remove"):
            raise InputError(f"expected t_ms,add|remove,node_id, got {line.strip()!r}", where=at)
        events.append(NodeEvent(_time_ms(parts[0], at), parts[1] == "add", (parts[2],), at))
    if not events:
        raise InputError("no events", where=str(path))
    return events


def read_replay_script(path: Path) -> tuple[list[NodeEvent], int | None]:
    """(events, DONE time in ms or None) of a JSON-lines replay script."""
    events: list[NodeEvent] = []
    for line_no, line in enumerate(_read_lines(path), start=1):
        at = f"{path}:{line_no}"
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        try:
            t_raw, op, info = json.loads(text)
            nodes = tuple(str(n) for n in info.get("nodes", []))
        except (json.JSONDecodeError, TypeError, ValueError, AttributeError):
            raise InputError(
                f"expected [t_ms, op, {{\"nodes\": [...]}}], got {text[:60]!r}", where=at
            ) from None
        t_ms = _time_ms(str(t_raw), at)
        if op == "DONE":
            return events, t_ms
        if op in ("add", "remove"):
            events.append(NodeEvent(t_ms, op == "add", nodes, at))
        elif op != "other":
            raise InputError(f"unknown op {op!r}", where=at, fix="use add, remove, other or DONE")
    if not events:
        raise InputError("no add/remove events", where=str(path))
    return events, None


def capacity_steps(events: Iterable[NodeEvent]) -> list[tuple[int, int]]:
    """(t_ms, nodes up after every event at t_ms), one entry per distinct time, in order."""
    up: set[str] = set()
    steps: list[tuple[int, int]] = []
    last_t = -1
    for ev in events:
        if ev.t_ms < last_t:
            raise InputError("events are not in time order", where=ev.where)
        for node in ev.nodes:
            if ev.is_add == (node in up):
                state = "already up" if ev.is_add else "not up"
                raise InputError(f"{'add' if ev.is_add else 'remove'} of {node}, which is {state}",
                                 where=ev.where)
            (up.add if ev.is_add else up.discard)(node)
        if steps and steps[-1][0] == ev.t_ms:
            steps[-1] = (ev.t_ms, len(up))
        else:
            steps.append((ev.t_ms, len(up)))
        last_t = ev.t_ms
    return steps


def sample_steps(steps: list[tuple[int, int]], *, start_ms: int, gap_s: float,
                 n_ticks: int) -> IntArray:
    """Nodes up at each tick start: the last step at or before start_ms + k * gap."""
    times = np.array([t for t, _ in steps], dtype=np.float64)
    counts = np.array([0] + [n for _, n in steps], dtype=np.int64)
    tick_ms = start_ms + np.arange(n_ticks) * gap_s * 1000.0
    idx = np.searchsorted(times, tick_ms, side="right")
    return counts[idx]


def load_event_csv(path: Path, *, name: str | None = None, gap_s: float | None = None) -> Trace:
    """SpotServe's g4dn add/remove log as a one-zone trace (default tick 60 s)."""
    steps = capacity_steps(read_event_csv(path))
    gap = _check_gap(gap_s if gap_s is not None else CSV_GAP_S, path)
    start, end = steps[0][0], steps[-1][0]
    n_ticks = _tick_count(math.floor((end - start) / (gap * 1000.0)) + 1, path)
    return _one_zone(sample_steps(steps, start_ms=start, gap_s=gap, n_ticks=n_ticks),
                     name or path.stem, gap, path)


def load_replay_script(path: Path, *, name: str | None = None,
                       gap_s: float | None = None) -> Trace:
    """A SpotServe JSON-lines replay script as a one-zone trace starting at t = 0."""
    events, done_ms = read_replay_script(path)
    steps = capacity_steps(events)
    gap = _check_gap(gap_s if gap_s is not None else _boundary_gap_s(steps, done_ms), path)
    if done_ms is None:
        n = math.floor(steps[-1][0] / (gap * 1000.0)) + 1
    else:
        n = math.ceil(done_ms / (gap * 1000.0))
    n_ticks = _tick_count(n, path)
    return _one_zone(sample_steps(steps, start_ms=0, gap_s=gap, n_ticks=n_ticks),
                     name or path.stem, gap, path)


def _boundary_gap_s(steps: list[tuple[int, int]], end_ms: int | None) -> float:
    """The largest tick of at most 60 s (whole seconds, >= 1) dividing every event time."""
    g = int(CSV_GAP_S * 1000)
    for t in [t for t, _ in steps] + ([end_ms] if end_ms is not None else []):
        g = math.gcd(g, t)
    return float(max(g // 1000, 1))


def _one_zone(capacity: IntArray, name: str, gap_s: float, path: Path) -> Trace:
    return Trace(
        name=name,
        zones=(ZONE,),
        gap_s=gap_s,
        capacity=capacity.astype(np.int64).reshape(1, -1),
        instance=INSTANCE,
        source=str(path),
    )


def _read_lines(path: Path) -> list[str]:
    try:
        lines = path.read_text().splitlines()
    except FileNotFoundError:
        raise InputError("file not found", where=str(path)) from None
    except UnicodeDecodeError:
        raise InputError("not a text file", where=str(path)) from None
    if not any(line.strip() for line in lines):
        raise InputError("empty file", where=str(path))
    return lines


def _time_ms(text: str, at: str) -> int:
    try:
        t = int(text)
    except ValueError:
        raise InputError(f"time {text!r} is not whole milliseconds", where=at) from None
    if t < 0:
        raise InputError(f"time {t} ms is negative", where=at)
    return t


def _check_gap(gap_s: float, path: Path) -> float:
    if not gap_s > 0:
        raise InputError(f"tick length {gap_s} s must be positive", where=str(path))
    return gap_s


def _tick_count(n: int, path: Path) -> int:
    if n > MAX_TICKS:
        raise InputError(f"{n} ticks is too many", where=str(path), fix="pass a larger gap_s")
    return max(n, 1)
