"""A heapq event queue. Events at the same time keep insertion order (a running sequence
number breaks ties), so a run is deterministic without comparing payloads."""

from __future__ import annotations

import heapq
import itertools
from enum import IntEnum


class Kind(IntEnum):
    CAPACITY = 0  # a zone's capacity changes (payload: zone index, new capacity)
    READY = 1  # a replica finished its cold start (payload: replica id)
    LAUNCH_FAILED = 2  # the cloud answers a launch with "no capacity" (payload: replica id)
    WAKE = 3  # a policy asked to be called again (payload: None)
    AUTOSCALE = 4  # time for the autoscaler to look at the request rate (payload: None)
    DRAIN = 5  # a noticed replica stops taking new requests (payload: replica id)
    KILL = 6  # a noticed replica's notice ran out: the cloud takes it (payload: replica id)


class EventQueue:
    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Kind, object]] = []
        self._seq = itertools.count()

    def push(self, at: float, kind: Kind, payload: object = None) -> None:
        heapq.heappush(self._heap, (at, next(self._seq), kind, payload))

    def peek_time(self) -> float:
        return self._heap[0][0] if self._heap else float("inf")

    def pop(self) -> tuple[float, Kind, object]:
        at, _, kind, payload = heapq.heappop(self._heap)
        return at, kind, payload

    def __len__(self) -> int:
        return len(self._heap)
