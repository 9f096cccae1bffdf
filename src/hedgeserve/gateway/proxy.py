"""The data path: one aiohttp handler that forwards any method and path to a ready replica.

Per request: check the API key, read the body once (bounded, 413 above the limit) and keep it
for retries, pick a replica with the routing policy, send it over a pooled connection
(`upstream.py`), and stream the answer back as it arrives (`relay.py`: each delivery from the
replica is written to the client at once, no buffering; SSE flushes per event). Invariants:

- A request is retried on another replica only while no byte has reached the client, and only
  for the causes in `failures.RETRYABLE` (connect failure, reset, upstream 502/503) — never
  after a first-byte timeout, so a slow generation is not run twice.
- In-flight counts are exact: increment and decrement bracket each attempt in `try/finally`
  on the replica object (see `replica_set.py`).
- When nothing is eligible the request waits for a change of the replica set, at most
  `queue_timeout_s` from arrival, then gets 503 with `Retry-After`.
- A client that disconnects cancels the handler (aiohttp `handler_cancellation`), or the relay
  finds its transport closing first; either way the upstream connection is closed, so the
  replica sees the disconnect and can stop generating.
- Once bytes went out, an upstream failure closes the client connection without the final
  chunk, so the client sees a truncated response rather than a clean end.

Error bodies use OpenAI's shape, {"error": {"message", "type", "code"}}. Nothing is logged per
request; headers and bodies are never logged.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable

from aiohttp import hdrs, web

from hedgeserve.gateway.auth import BearerKeys
from hedgeserve.gateway.config import GatewayConfig
from hedgeserve.gateway.failures import (
    CLIENT_STATUS,
    MARKS_SUSPECT,
    RETRYABLE,
    Cause,
    backoff_s,
    status_cause,
)
from hedgeserve.gateway.forwarding import (
    BodyTooLarge,
    error_response,
    read_body,
    request_head,
    response_headers,
)
from hedgeserve.gateway.relay import BodyCollector, Outcome, Relay
from hedgeserve.gateway.replica_set import Replica, ReplicaSet
from hedgeserve.gateway.response_framing import BodyKind, ResponseHead
from hedgeserve.gateway.routing import RoutingPolicy
from hedgeserve.gateway.sse import SseWatch, StreamTap
from hedgeserve.gateway.stats import GatewayStats
from hedgeserve.gateway.upstream import UpstreamConnection, UpstreamPool
from hedgeserve.gateway.upstream_errors import (
    BadResponse,
    ConnectFailed,
    ConnectTimedOut,
    FirstByteTimedOut,
    ResetBeforeAnswer,
)

SMALL_BODY_BYTES = 256 * 1024  # answers up to this size (with Content-Length) are read whole
_HTTP11 = (1, 1)


class Proxy:
    def __init__(
        self,
        *,
        config: GatewayConfig,
        replicas: ReplicaSet,
        policy: RoutingPolicy,
        pool: UpstreamPool,
        stats: GatewayStats,
        rng: random.Random,
        tap_factory: Callable[[web.BaseRequest], StreamTap | None] | None = None,
    ) -> None:
        self._cfg = config
        self._replicas = replicas
        self._policy = policy
        self._pool = pool
        self._stats = stats
        self._rng = rng
        self._tap_factory = tap_factory
        self._keys = BearerKeys(config.api_keys) if config.api_keys else None
        self._retry_after = str(config.retry_after_s)

    async def __call__(self, request: web.BaseRequest) -> web.StreamResponse:
        stats = self._stats
        stats.requests_total += 1
        stats.active += 1
        try:
            return await self._serve(request, stats)
        finally:
            stats.active -= 1

    async def _serve(self, request: web.BaseRequest, stats: GatewayStats) -> web.StreamResponse:
        loop = asyncio.get_running_loop()
        started = loop.time()
        if self._keys is not None and not self._keys.allows(
            request.headers.get(hdrs.AUTHORIZATION)
        ):
            stats.count_error(Cause.UNAUTHORIZED)
            stats.count_response(401)
            denied = error_response(401, "missing or invalid API key", Cause.UNAUTHORIZED)
            denied.headers[hdrs.WWW_AUTHENTICATE] = "Bearer"
            return denied
        try:
            body = await read_body(request, self._cfg.max_body_bytes)
        except BodyTooLarge:
            stats.count_error(Cause.BODY_TOO_LARGE)
            stats.count_response(413)
            too_large = error_response(
                413, f"request body over {self._cfg.max_body_bytes} bytes", Cause.BODY_TOO_LARGE
            )
            too_large.force_close()  # the unread rest of the body makes the connection unusable
            return too_large
        except asyncio.IncompleteReadError:  # the client left halfway through its body
            stats.count_error(Cause.CLIENT_DISCONNECT)
            cut_short = error_response(400, "request body cut short", Cause.CLIENT_DISCONNECT)
            cut_short.force_close()
            return cut_short
        try:
            answer = await self._route(request, body, started, loop)
        except asyncio.CancelledError:
            stats.count_error(Cause.CLIENT_DISCONNECT)
            raise
        stats.count_response(answer.status)
        stats.latency.observe(loop.time() - started)
        return answer

    async def _route(
        self,
        request: web.BaseRequest,
        body: bytes | None,
        started: float,
        loop: asyncio.AbstractEventLoop,
    ) -> web.StreamResponse:
        deadline = started + self._cfg.queue_timeout_s
        tried: list[Replica] = []
        attempts = 0
        cause = Cause.NO_REPLICA
        while True:
            replica = self._replicas.pick(self._policy, self._rng, tried)
            if replica is None:
                if not await self._wait_for_replica(deadline, loop):
                    return self._give_up(cause if attempts else Cause.NO_REPLICA)
                continue
            attempts += 1
            replica.inflight += 1
            replica.requests_total += 1
            try:
                result = await self._attempt(request, replica, body, started, loop)
            finally:
                replica.inflight -= 1
            if not isinstance(result, Cause):
                return result
            cause = result
            replica.errors_total += 1
            self._stats.count_error(cause)
            if cause in MARKS_SUSPECT:
                self._replicas.mark_suspect(replica)
            if cause not in RETRYABLE:
                return self._give_up(cause)
            if attempts >= self._cfg.max_attempts:
                return self._give_up(cause, exhausted=True)
            tried.append(replica)
            self._stats.retries_total += 1
            delay = backoff_s(
                attempts, self._rng, base_s=self._cfg.backoff_base_s, cap_s=self._cfg.backoff_cap_s
            )
            if loop.time() + delay > deadline:
                return self._give_up(cause, exhausted=True)
            await asyncio.sleep(delay)

    async def _wait_for_replica(self, deadline: float, loop: asyncio.AbstractEventLoop) -> bool:
        stats = self._stats
        if stats.queued >= self._cfg.max_queued:
            return False  # shed load: a flood must not pile up bodies in memory
        stats.queued += 1
        waited_from = loop.time()
        try:
            return await self._replicas.wait_for_change(deadline - waited_from)
        finally:
            stats.queued -= 1
            stats.queue_wait.observe(loop.time() - waited_from)

    def _give_up(self, cause: Cause, *, exhausted: bool = False) -> web.Response:
        if cause is Cause.NO_REPLICA:
            self._stats.count_error(cause)
            return error_response(503, "no replica is ready", cause, retry_after=self._retry_after)
        if exhausted:
            self._stats.count_error(Cause.ATTEMPTS_EXHAUSTED)
        status = CLIENT_STATUS.get(cause, 502)
        retry_after = self._retry_after if status == 503 else None
        return error_response(status, f"upstream failed: {cause}", cause, retry_after=retry_after)

    async def _attempt(
        self,
        request: web.BaseRequest,
        replica: Replica,
        body: bytes | None,
        started: float,
        loop: asyncio.AbstractEventLoop,
    ) -> web.StreamResponse | Cause:
        """One try on one replica: a response already sent or returned, or a failure Cause."""
        pool = self._pool
        origin = pool.origin(replica.url)
        try:
            conn = await pool.connect(origin)
        except ConnectTimedOut:
            return Cause.CONNECT_TIMEOUT
        except ConnectFailed:
            return Cause.CONNECT
        try:
            conn.send(
                request.method,
                request_head(request, origin, body, strip_auth=self._keys is not None),
                body,
            )
            try:
                head = await conn.response_head(self._cfg.first_byte_timeout_s)
            except FirstByteTimedOut:
                return Cause.FIRST_BYTE_TIMEOUT
            except ResetBeforeAnswer:  # disconnected, reset, OS error while sending
                return Cause.RESET
            except BadResponse:  # malformed status line or headers
                return Cause.PROTOCOL
            retry_cause = status_cause(head.status)
            if retry_cause is not None:
                return retry_cause
            is_sse = head.content_type == "text/event-stream"
            if head.body is BodyKind.NONE:
                return await self._forward_empty(request, head, started, loop)
            if (
                head.body is BodyKind.LENGTH
                and head.length is not None
                and head.length <= SMALL_BODY_BYTES
                and not is_sse
            ):
                return await self._forward_small(conn, head, started, loop)
            return await self._forward_stream(request, conn, head, is_sse, started, loop)
        finally:
            pool.release(conn)  # pooled again only after a complete exchange

    async def _forward_empty(
        self,
        request: web.BaseRequest,
        head: ResponseHead,
        started: float,
        loop: asyncio.AbstractEventLoop,
    ) -> web.StreamResponse:
        # HEAD, 204, 304: the head is the whole answer; a HEAD keeps its Content-Length.
        out = web.StreamResponse(
            status=head.status,
            reason=head.reason,
            headers=response_headers(head, keep_length=True),
        )
        try:
            await out.prepare(request)
            await out.write_eof()
        except ConnectionResetError:
            self._stats.count_error(Cause.CLIENT_DISCONNECT)
            return out
        self._stats.first_byte.observe(loop.time() - started)
        return out

    async def _forward_small(
        self,
        conn: UpstreamConnection,
        head: ResponseHead,
        started: float,
        loop: asyncio.AbstractEventLoop,
    ) -> web.Response | Cause:
        # Nothing has gone to the client yet, so a failure here is still retryable.
        collector = BodyCollector(loop, conn, timeout_s=self._cfg.first_byte_timeout_s)
        data = await collector.read()
        if data is Outcome.IDLE:
            return Cause.FIRST_BYTE_TIMEOUT
        if isinstance(data, Outcome):
            return Cause.RESET
        self._stats.first_byte.observe(loop.time() - started)
        return web.Response(
            status=head.status,
            reason=head.reason,
            body=data,
            headers=response_headers(head, keep_length=False),
        )

    async def _forward_stream(
        self,
        request: web.BaseRequest,
        conn: UpstreamConnection,
        head: ResponseHead,
        is_sse: bool,
        started: float,
        loop: asyncio.AbstractEventLoop,
    ) -> web.StreamResponse:
        keep_length = head.body is BodyKind.LENGTH
        out = web.StreamResponse(
            status=head.status,
            reason=head.reason,
            headers=response_headers(head, keep_length=keep_length),
        )
        # Without a length, HTTP/1.1 clients get chunks; HTTP/1.0 ones read until close.
        chunked = not keep_length and request.version == _HTTP11
        if chunked:
            out.enable_chunked_encoding()
        stats = self._stats
        watch = None
        if is_sse:
            tap = self._tap_factory(request) if self._tap_factory is not None else None
            watch = SseWatch(tap)
        try:
            await out.prepare(request)
            relay = Relay(
                loop,
                conn,
                request,
                chunked=chunked,
                watch=watch,
                idle_timeout_s=self._cfg.idle_timeout_s,
            )
        except ConnectionResetError:
            stats.count_error(Cause.CLIENT_DISCONNECT)
            return out
        outcome = await relay.run()
        if relay.first_at is not None:
            stats.first_byte.observe(relay.first_at - started)
        elif outcome is Outcome.DONE:  # an empty body: its end is the first byte
            stats.first_byte.observe(loop.time() - started)
        if watch is not None:
            stats.sse_events_total += watch.events
            watch.end(complete=outcome is Outcome.DONE)
        if outcome is Outcome.DONE:
            try:
                await out.write_eof()
            except ConnectionResetError:
                stats.count_error(Cause.CLIENT_DISCONNECT)
            return out
        if outcome is Outcome.CLIENT_GONE:
            stats.count_error(Cause.CLIENT_DISCONNECT)  # leaving closes the upstream connection
            return out
        stats.count_error(Cause.IDLE_TIMEOUT if outcome is Outcome.IDLE else Cause.MIDSTREAM)
        # Close without the final chunk: the client must see a truncated response.
        if request.transport is not None:
            request.transport.close()
        return out
