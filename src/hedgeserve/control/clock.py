"""Time for the reconcile loop: a `Clock` (now + an interruptible sleep) and the `Wakeup` that
ends a sleep early.

The loop never reads the wall clock itself; it asks its clock. `WallClock` is Unix time (stored
times must survive a restart, so not a monotonic clock) and sleeps on the loop; a test's fake
clock jumps straight to the next thing that can happen, so hours of trace run in milliseconds.
Whoever learns news the loop should act on — a provider event, a probe result, a control API
request — sets the shared `Wakeup`.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Protocol


class Wakeup:
    """A one-bit mailbox: `set` from anywhere on the loop; `wait` returns early if set."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def set(self) -> None:
        self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set()

    async def wait(self, timeout_s: float) -> None:
        """Return after `timeout_s`, or as soon as `set` is (or already was) called."""
        if timeout_s > 0 and not self._event.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._event.wait(), timeout_s)
        # Cleared before the tick runs: a `set` during the tick survives and ends the next sleep.
        self._event.clear()


class Clock(Protocol):
    def now(self) -> float: ...

    async def sleep(self, seconds: float, wakeup: Wakeup) -> None:
        """Sleep up to `seconds`, less if `wakeup` is set."""
        ...


class WallClock:
    def now(self) -> float:
        return time.time()

    async def sleep(self, seconds: float, wakeup: Wakeup) -> None:
        await wakeup.wait(seconds)


class ManualClock:
    """Time that moves only when slept on (or set): for tests, benchmarks and replays."""

    def __init__(self, start: float = 1000.0) -> None:
        self.t = start

    def now(self) -> float:
        return self.t

    async def sleep(self, seconds: float, wakeup: Wakeup) -> None:
        self.t += seconds
        await asyncio.sleep(0)  # let other tasks run, as a real sleep would
