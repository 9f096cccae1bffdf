"""Whether the engine takes requests: loading -> serving -> draining, and what is in flight.

Loading emulates model load (`--startup-delay-s`): /health answers 503 and new requests are
refused until it ends. Draining starts on SIGTERM (preemption notice or scale-down) and never
ends: /health answers 503, new requests are refused with 503, requests already accepted finish.
`wait_idle` lets the process exit as soon as the last accepted request is answered.
"""

from __future__ import annotations

import asyncio
from enum import StrEnum


class Phase(StrEnum):
    LOADING = "loading"
    SERVING = "ok"
    DRAINING = "draining"


class Lifecycle:
    def __init__(self, startup_delay_s: float) -> None:
        self._startup_delay_s = startup_delay_s
        self._ready_at: float | None = None
        self._is_draining = False
        self._in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()

    def start_clock(self, now: float) -> None:
        """Begin the emulated model load at loop time `now`."""
        self._ready_at = now + self._startup_delay_s

    def phase(self, now: float) -> Phase:
        if self._is_draining:
            return Phase.DRAINING
        if self._ready_at is None or now < self._ready_at:
            return Phase.LOADING
        return Phase.SERVING

    def begin_drain(self) -> None:
        self._is_draining = True

    @property
    def in_flight(self) -> int:
        return self._in_flight

    def enter(self) -> None:
        self._in_flight += 1
        self._idle.clear()

    def leave(self) -> None:
        self._in_flight -= 1
        if self._in_flight == 0:
            self._idle.set()

    async def wait_idle(self) -> None:
        await self._idle.wait()
