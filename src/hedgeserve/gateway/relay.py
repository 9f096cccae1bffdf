"""Body sinks: where a replica's response body goes once its head has arrived.

- `Relay` streams it to the client as it arrives. It runs inside the upstream connection's
  `data_received`: each delivery is framed for the client (chunked, or as is when the length
  is known) and written to the client's transport in one call, with no task switch. The
  handler task only waits for the end, or for the client's socket to drain.
- `BodyCollector` reads a small body whole before anything is sent, so a replica that dies
  halfway through it can still be retried.

Invariants:
- Back-pressure: when the client's transport stops taking writes (its buffer is over the
  high-water mark), reading from the replica pauses until it drains; a slow client slows only
  its own stream.
- The first outcome wins and is final: the body ended, the replica failed, the stream went
  silent for the idle timeout, or the client left. The relay never writes after it.
- An `SseWatch` (the mid-stream failover seam) sees every payload byte the client was sent,
  in order; none when no event stream is watched.
- One idle timer per body, re-armed from a timestamp, not one timer per chunk.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from enum import Enum

from aiohttp import web

from hedgeserve.gateway.sse import SseWatch
from hedgeserve.gateway.upstream import UpstreamConnection
from hedgeserve.gateway.upstream_errors import UpstreamError


class Outcome(Enum):
    DONE = "done"  # the replica's body ended cleanly
    BROKEN = "broken"  # the replica failed inside the body
    IDLE = "idle"  # no body bytes for the idle timeout
    CLIENT_GONE = "client_gone"


class Watchdog:
    """Calls `on_idle` once nothing was stamped in `last` for `timeout` seconds.

    `cancel` drops the callback: the sink and its watchdog refer to each other, and a cycle
    would leave every finished request's objects to the cyclic garbage collector.
    """

    __slots__ = ("_loop", "_timeout", "_on_idle", "_handle", "last")

    def __init__(
        self, loop: asyncio.AbstractEventLoop, timeout: float, on_idle: Callable[[], None]
    ) -> None:
        self._loop = loop
        self._timeout = timeout
        self._on_idle: Callable[[], None] | None = on_idle
        self.last = loop.time()
        self._handle: asyncio.TimerHandle | None = loop.call_at(self.last + timeout, self._check)

    def _check(self) -> None:
        on_idle = self._on_idle
        if on_idle is None:
            return
        due = self.last + self._timeout
        if self._loop.time() >= due:
            self.cancel()
            on_idle()
        else:
            self._handle = self._loop.call_at(due, self._check)

    def cancel(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        self._on_idle = None


class _Sink:
    """What both sinks share: a first-wins outcome and a waiter for the handler task."""

    __slots__ = ("_loop", "_conn", "_waiter", "outcome")

    def __init__(self, loop: asyncio.AbstractEventLoop, conn: UpstreamConnection) -> None:
        self._loop = loop
        self._conn = conn
        self._waiter: asyncio.Future[None] | None = None
        self.outcome: Outcome | None = None

    def on_body_end(self, error: UpstreamError | None) -> None:
        self._finish(Outcome.DONE if error is None else Outcome.BROKEN)

    def _finish(self, outcome: Outcome) -> None:
        if self.outcome is not None:
            return
        self.outcome = outcome
        if outcome is not Outcome.DONE:
            self._conn.abort()  # the replica sees the disconnect and stops generating
        self._wake()

    def _idle(self) -> None:
        self._finish(Outcome.IDLE)

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def _wait(self) -> None:
        self._waiter = self._loop.create_future()
        try:
            await self._waiter
        finally:
            self._waiter = None


class Relay(_Sink):
    __slots__ = (
        "_request", "_transport", "_protocol", "_chunked", "_watch", "_dog", "_paused", "first_at",
    )  # fmt: skip

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        conn: UpstreamConnection,
        request: web.BaseRequest,
        *,
        chunked: bool,
        watch: SseWatch | None,
        idle_timeout_s: float,
    ) -> None:
        super().__init__(loop, conn)
        transport = request.transport
        if transport is None:
            raise ConnectionResetError("client left before the body")
        self._request = request
        self._transport = transport
        self._protocol = request.protocol
        self._chunked = chunked  # the client response uses chunked framing
        self._watch = watch
        self._dog = Watchdog(loop, idle_timeout_s, self._idle)
        self._paused = False
        self.first_at: float | None = None  # loop time the first body bytes went out

    async def run(self) -> Outcome:
        """Relay the whole body; the outcome says how it ended."""
        conn = self._conn
        try:
            conn.attach(self)
            while True:
                outcome = self.outcome
                if outcome is not None:
                    return outcome
                if self._paused:
                    try:
                        await self._request.writer.drain()
                    except ConnectionResetError:
                        self._finish(Outcome.CLIENT_GONE)
                        continue
                    self._paused = False
                    conn.resume_reading()
                    continue
                await self._wait()
        finally:
            self._dog.cancel()

    def on_body(self, pieces: list[bytes], framed: bytes | None) -> None:
        if self.outcome is not None:
            return
        transport = self._transport
        if transport.is_closing():
            self._finish(Outcome.CLIENT_GONE)
            return
        watch = self._watch
        if watch is not None:
            for piece in pieces:
                watch.feed(piece)
        if not self._chunked:
            out = pieces[0] if len(pieces) == 1 else b"".join(pieces)
        elif framed is not None:
            out = framed  # the replica's chunks are already what the client needs
        elif len(pieces) == 1:
            out = b"%x\r\n%b\r\n" % (len(pieces[0]), pieces[0])
        else:
            out = b"".join([b"%x\r\n%b\r\n" % (len(p), p) for p in pieces if p])
        transport.write(out)
        now = self._dog.last = self._loop.time()
        if self.first_at is None:
            self.first_at = now
        if self._protocol.writing_paused and not self._paused:
            self._paused = True
            self._conn.pause_reading()
            self._wake()


class BodyCollector(_Sink):
    """Reads a body whole; silence longer than the timeout ends it with Outcome.IDLE."""

    __slots__ = ("_parts", "_dog")

    def __init__(
        self, loop: asyncio.AbstractEventLoop, conn: UpstreamConnection, *, timeout_s: float
    ) -> None:
        super().__init__(loop, conn)
        self._parts: list[bytes] = []
        self._dog = Watchdog(loop, timeout_s, self._idle)

    async def read(self) -> bytes | Outcome:
        """The whole body, or the outcome that stopped it."""
        try:
            self._conn.attach(self)
            if self.outcome is None:
                await self._wait()
        finally:
            self._dog.cancel()
        if self.outcome is Outcome.DONE:
            return b"".join(self._parts)
        return self.outcome if self.outcome is not None else Outcome.BROKEN

    def on_body(self, pieces: list[bytes], framed: bytes | None) -> None:
        self._parts.extend(pieces)
        self._dog.last = self._loop.time()
