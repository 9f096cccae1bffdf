"""Connections to replicas: a small HTTP/1.1 client built for proxying, with keep-alive pools.

The gateway's hot path is "bytes in from a replica, bytes out to a client". aiohttp's client
wraps each chunk in a `StreamReader`, a future and a task wake-up, and builds a full
`ClientRequest` per attempt; measured under SSE load that was most of the gateway's CPU. Here a
replica connection is an `asyncio.Protocol`: the request goes out as one prepared byte string,
the response head is parsed once (`response_framing.py`), and body bytes are handed straight
from `data_received` to a `BodySink` (the relay to the client) with no task switch.

Invariants:
- One exchange at a time per connection; a connection returns to its pool only after a
  complete response that allows keep-alive and left no stray bytes. Anything else (an error,
  a cancelled request, a client that left mid-body) aborts it, so the replica sees the
  disconnect and can stop generating.
- Body bytes are delivered in order, exactly once: those that arrive before a sink is attached
  are held (reading pauses above `HOLD_BYTES`) and handed over on `attach`.
- Every failure is one `UpstreamError` subclass, which `proxy.py` maps onto a `Cause`.
- Idle pooled connections expire after `keepalive_s`, below the replicas' own keep-alive, so
  the gateway rarely sends into a socket the replica is closing.
"""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

from hedgeserve.gateway.response_framing import (
    MAX_HEAD_BYTES,
    BodyDecoder,
    MalformedResponse,
    ResponseHead,
    decoder_for,
    head_end,
    parse_head,
)
from hedgeserve.gateway.upstream_errors import (
    BadResponse,
    BodyBroken,
    ConnectFailed,
    ConnectTimedOut,
    FirstByteTimedOut,
    ResetBeforeAnswer,
    UpstreamError,
)

HOLD_BYTES = 64 * 1024  # body bytes held for a sink not attached yet before reading pauses


class BodySink(Protocol):
    def on_body(self, pieces: list[bytes], framed: bytes | None) -> None:
        """Payload `pieces` in order; `framed`: the same as the chunks that carried them,
        when the delivery was exactly whole chunks (else None)."""

    def on_body_end(self, error: UpstreamError | None) -> None: ...


@dataclass(frozen=True, slots=True, eq=False)  # one object per URL (the pool caches it)
class Origin:
    """Where a replica's requests go: address, TLS, `Host` header and base path."""

    host: str
    port: int
    tls: bool
    host_header: bytes
    path_prefix: str  # the replica URL's path, without a trailing slash

    @classmethod
    def from_url(cls, url: str) -> Origin:
        parts = urlsplit(url)
        tls = parts.scheme == "https"
        host = parts.hostname or ""
        port = parts.port or (443 if tls else 80)
        shown = f"[{host}]" if ":" in host else host.encode("idna").decode("ascii")
        if parts.port is not None and parts.port != (443 if tls else 80):
            shown = f"{shown}:{port}"
        return cls(host, port, tls, shown.encode("ascii"), parts.path.rstrip("/"))


class UpstreamConnection(asyncio.Protocol):
    __slots__ = (
        "_pool", "_origin", "_loop", "transport", "closed", "idle_since",
        "_method", "_waiter", "_head_buf", "_head", "_decoder", "_sink", "_pending",
        "_pending_bytes", "_held", "_end", "_finished", "parked",
    )  # fmt: skip

    def __init__(self, pool: UpstreamPool, origin: Origin, loop: asyncio.AbstractEventLoop):
        self._pool = pool
        self._origin = origin
        self._loop = loop
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.parked = False  # idle in the pool, ready for the next exchange
        self.idle_since = 0.0
        self._reset_exchange("")

    def _reset_exchange(self, method: str) -> None:
        self._method = method
        self._waiter: asyncio.Future[ResponseHead] | None = None
        self._head_buf = b""
        self._head: ResponseHead | None = None
        self._decoder: BodyDecoder | None = None
        self._sink: BodySink | None = None
        self._pending: list[bytes] = []
        self._pending_bytes = 0
        self._held = False  # reading paused for pending bytes
        self._end: UpstreamError | None = None
        self._finished = False  # the body ended (cleanly if _end is None)

    @property
    def origin(self) -> Origin:
        return self._origin

    @property
    def reusable(self) -> bool:
        """The last exchange completed and the connection may carry another."""
        head = self._head
        decoder = self._decoder
        return (
            not self.closed
            and self._finished
            and self._end is None
            and head is not None
            and head.keep_alive
            and decoder is not None
            and not decoder.extra
        )

    # --- the exchange, called by the proxy -------------------------------------------------

    def park(self) -> None:
        """Idle between exchanges. The last one's state is dropped: its sink holds the whole
        request, and sink and connection refer to each other."""
        self._reset_exchange("")
        self.parked = True

    def discard(self) -> None:
        """Close it mid-exchange; nobody waits for the exchange any more (see `park`)."""
        self.abort()
        self._reset_exchange("")

    def send(self, method: str, head: bytes, body: bytes | None) -> None:
        """Start an exchange: write the request (head already serialised) and its body."""
        self.parked = False
        self._reset_exchange(method)
        self._waiter = self._loop.create_future()
        transport = self.transport
        if transport is None or self.closed:
            self._waiter.set_exception(ResetBeforeAnswer("connection closed"))
            return
        if body and len(body) > HOLD_BYTES:
            transport.write(head)
            transport.write(body)
        else:
            transport.write(head + body if body else head)

    async def response_head(self, timeout_s: float) -> ResponseHead:
        """The response head, skipping 1xx; FirstByteTimedOut after `timeout_s` without it."""
        waiter = self._waiter
        if waiter is None:
            raise RuntimeError("response_head() before send()")
        timer = self._loop.call_later(timeout_s, self._head_timed_out)
        try:
            return await waiter
        finally:
            timer.cancel()

    def attach(self, sink: BodySink) -> None:
        """Deliver the body (held bytes first) and its end to `sink` from now on."""
        self._sink = sink
        if self._held:  # even when the body is complete: the connection may be reused
            self._held = False
            self.resume_reading()  # first: the sink may pause reading again right away
        if self._pending:
            pieces = self._pending
            self._pending = []
            self._pending_bytes = 0
            sink.on_body(pieces, None)
        if self._finished:
            sink.on_body_end(self._end)

    def pause_reading(self) -> None:
        if self.transport is not None and not self.closed:
            self.transport.pause_reading()

    def resume_reading(self) -> None:
        if self.transport is not None and not self.closed:
            self.transport.resume_reading()

    def abort(self) -> None:
        if self.transport is not None and not self.closed:
            self.transport.abort()

    # --- asyncio.Protocol --------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # a TCP (or TLS) transport

    def data_received(self, data: bytes) -> None:
        decoder = self._decoder
        if decoder is None:
            self._head_data(data)
            return
        try:
            pieces = decoder.feed(data)
        except MalformedResponse as err:
            self._body_failed(BodyBroken(str(err)))
            return
        sink = self._sink
        if sink is not None:
            if pieces:
                sink.on_body(pieces, data if decoder.whole else None)
        elif pieces:
            self._hold(pieces)
        if decoder.done and not self._finished:
            self._body_finished(None)

    def eof_received(self) -> bool | None:
        return None  # close the transport; connection_lost follows

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._pool.forget(self)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_exception(ResetBeforeAnswer(str(exc) if exc else "closed by the replica"))
            return
        decoder = self._decoder
        if decoder is not None and not self._finished:
            if decoder.at_close():
                self._body_finished(None)
            else:
                self._body_finished(BodyBroken(str(exc) if exc else "closed inside the body"))

    # --- internals ---------------------------------------------------------------------------

    def _head_data(self, data: bytes) -> None:
        waiter = self._waiter
        if waiter is None or waiter.done():
            self.abort()  # bytes nobody asked for (or after a timeout): not reusable
            return
        buf = self._head_buf + data if self._head_buf else data
        while True:
            end = head_end(buf)
            if end < 0:
                if len(buf) > MAX_HEAD_BYTES:
                    self._head_failed(BadResponse("response head too large"))
                else:
                    self._head_buf = buf
                return
            try:
                head = parse_head(buf[:end], request_method=self._method)
            except MalformedResponse as err:
                self._head_failed(BadResponse(str(err)))
                return
            buf = buf[end:]
            if head.status >= 200:
                break
            if head.status == 101:
                self._head_failed(BadResponse("protocol upgrades are not proxied"))
                return
            # 100 Continue, 103 Early Hints: informational, the real head follows.
        self._head_buf = b""
        self._head = head
        decoder = self._decoder = decoder_for(head)
        if buf:
            try:
                pieces = decoder.feed(buf)
            except MalformedResponse as err:
                waiter.set_result(head)
                self._body_failed(BodyBroken(str(err)))
                return
            if pieces:
                self._hold(pieces)
        if decoder.done:
            self._finished = True
        waiter.set_result(head)

    def _head_failed(self, error: UpstreamError) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(error)
        self.abort()

    def _head_timed_out(self) -> None:
        self._head_failed(FirstByteTimedOut("no response head in time"))

    def _hold(self, pieces: list[bytes]) -> None:
        self._pending.extend(pieces)
        self._pending_bytes += sum(map(len, pieces))
        if self._pending_bytes > HOLD_BYTES and not self._held:
            self._held = True
            self.pause_reading()

    def _body_failed(self, error: UpstreamError) -> None:
        self.abort()
        if not self._finished:
            self._body_finished(error)

    def _body_finished(self, error: UpstreamError | None) -> None:
        self._finished = True
        self._end = error
        if self._sink is not None:
            self._sink.on_body_end(error)


class UpstreamPool:
    """Keep-alive connections per replica origin, most recently used first."""

    def __init__(self, *, connect_timeout_s: float, keepalive_s: float) -> None:
        self._connect_timeout_s = connect_timeout_s
        self._keepalive_s = keepalive_s
        self._idle: dict[Origin, list[UpstreamConnection]] = {}
        self._live: set[UpstreamConnection] = set()
        self._origins: dict[str, Origin] = {}
        self._tls: ssl.SSLContext | None = None
        self._sweep: asyncio.TimerHandle | None = None

    def origin(self, url: str) -> Origin:
        origin = self._origins.get(url)
        if origin is None:
            origin = self._origins[url] = Origin.from_url(url)
        return origin

    async def connect(self, origin: Origin) -> UpstreamConnection:
        """An idle pooled connection to `origin`, or a new one."""
        loop = asyncio.get_running_loop()
        idle = self._idle.get(origin)
        if idle:
            expired_before = loop.time() - self._keepalive_s
            while idle:
                conn = idle.pop()
                if conn.idle_since > expired_before and conn.parked and not conn.closed:
                    return conn
                conn.abort()
        tls = self._tls_context() if origin.tls else None
        try:
            async with asyncio.timeout(self._connect_timeout_s):
                _, conn = await loop.create_connection(
                    lambda: UpstreamConnection(self, origin, loop),
                    origin.host,
                    origin.port,
                    ssl=tls,
                    server_hostname=origin.host if tls else None,
                )
        except TimeoutError as err:
            raise ConnectTimedOut(f"connect to {origin.host}:{origin.port} timed out") from err
        except (OSError, ssl.SSLError) as err:  # refused, unreachable, DNS, TLS handshake
            raise ConnectFailed(f"connect to {origin.host}:{origin.port}: {err}") from err
        self._live.add(conn)
        return conn

    def release(self, conn: UpstreamConnection) -> None:
        """Back to the pool after a complete exchange; closed otherwise."""
        if not conn.reusable:
            conn.discard()
            return
        conn.park()
        loop = asyncio.get_running_loop()
        conn.idle_since = loop.time()
        self._idle.setdefault(conn.origin, []).append(conn)
        if self._sweep is None:
            self._sweep = loop.call_later(self._keepalive_s, self._expire, loop)

    def forget(self, conn: UpstreamConnection) -> None:
        """A connection closed: drop it from the pool."""
        self._live.discard(conn)
        idle = self._idle.get(conn.origin)
        if idle and conn in idle:
            idle.remove(conn)

    def close(self) -> None:
        if self._sweep is not None:
            self._sweep.cancel()
            self._sweep = None
        for conn in list(self._live):
            conn.abort()
        self._idle.clear()

    def _expire(self, loop: asyncio.AbstractEventLoop) -> None:
        self._sweep = None
        expired_before = loop.time() - self._keepalive_s
        for idle in self._idle.values():
            while idle and idle[0].idle_since <= expired_before:
                idle.pop(0).abort()
        if any(self._idle.values()):
            self._sweep = loop.call_later(self._keepalive_s, self._expire, loop)

    def _tls_context(self) -> ssl.SSLContext:
        if self._tls is None:
            self._tls = ssl.create_default_context()
        return self._tls
