"""The gateway's own HTTP/1.1 client against scripted replicas on raw sockets: keep-alive
reuse, framings a replica may choose, informational heads, malformed answers, stale
connections, and what an HTTP/1.0 client gets."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator, Awaitable, Callable

import aiohttp
import pytest

from hedgeserve.gateway.failures import Cause
from hedgeserve.gateway.replica_spec import ReplicaSpec
from hedgeserve.gateway.upstream import UpstreamPool
from hedgeserve.gateway.upstream_errors import ConnectFailed, FirstByteTimedOut, ResetBeforeAnswer

pytestmark = pytest.mark.timeout(30)

Answer = Callable[[bytes, asyncio.StreamWriter], Awaitable[bool]]  # True: keep the connection


class ScriptedReplica:
    """Reads each request head (and a Content-Length body), lets `answer` write raw bytes."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.connections = 0
        self.requests: list[bytes] = []
        self._server: asyncio.Server | None = None

    async def start(self) -> ScriptedReplica:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        head += await reader.readexactly(int(line.split(b":")[1]))
                self.requests.append(head)
                if not await self.answer(head, writer):
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@pytest.fixture
async def scripted() -> AsyncIterator[Callable[[Answer], Awaitable[ScriptedReplica]]]:
    started: list[ScriptedReplica] = []

    async def make(answer: Answer) -> ScriptedReplica:
        started.append(await ScriptedReplica(answer).start())
        return started[-1]

    yield make
    for replica in started:
        await replica.stop()


def fixed(raw: bytes, *, keep: bool = True) -> Answer:
    async def answer(request: bytes, writer: asyncio.StreamWriter) -> bool:
        writer.write(raw)
        await writer.drain()
        return keep

    return answer


async def test_keep_alive_connections_are_reused(scripted, gateway, client) -> None:
    replica = await scripted(fixed(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
    gw = await gateway([replica.url])
    for _ in range(5):
        async with client.post(gw.url + "/v1/x", data=b"{}") as resp:
            assert await resp.read() == b"ok"
    assert replica.connections == 1 and len(replica.requests) == 5


async def test_connection_close_is_not_reused(scripted, gateway, client) -> None:
    answer = b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok"
    replica = await scripted(fixed(answer, keep=False))
    gw = await gateway([replica.url])
    for _ in range(3):
        async with client.get(gw.url + "/") as resp:
            assert await resp.read() == b"ok"
    assert replica.connections == 3


async def test_informational_heads_are_skipped(scripted, gateway, client) -> None:
    replica = await scripted(
        fixed(
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
            b"HTTP/1.1 201 Created\r\nContent-Length: 4\r\nX-Id: 7\r\n\r\ndone"
        )
    )
    gw = await gateway([replica.url])
    async with client.post(gw.url + "/items", data=b"x") as resp:
        assert (resp.status, resp.headers["X-Id"], await resp.read()) == (201, "7", b"done")
        assert "Link" not in resp.headers


async def test_chunk_extensions_trailers_and_split_writes(scripted, gateway, client) -> None:
    async def answer(request: bytes, writer: asyncio.StreamWriter) -> bool:
        raw = (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"5;ext=1\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\nX-Trailer: t\r\n\r\n"
        )
        for i in range(0, len(raw), 3):  # the head and every chunk arrive in pieces
            writer.write(raw[i : i + 3])
            await writer.drain()
            await asyncio.sleep(0.001)
        return True

    replica = await scripted(answer)
    gw = await gateway([replica.url])
    for _ in range(2):
        async with client.get(gw.url + "/") as resp:
            assert await resp.read() == b"hello world"
    assert replica.connections == 1  # the trailer was read: the connection stays usable


async def test_a_large_answer_arriving_at_once_leaves_the_connection_usable(
    scripted, gateway, client
) -> None:
    # More than the held-bytes limit arrives with the head, before the relay is attached:
    # reading pauses, and must resume even though the body is already complete.
    body = bytes(range(256)) * 800
    raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n0\r\n\r\n"
    replica = await scripted(fixed(raw % (len(body), body)))
    gw = await gateway([replica.url])
    for _ in range(3):
        async with client.get(gw.url + "/") as resp:
            assert await resp.read() == body
    assert replica.connections == 1


async def test_body_until_close_reaches_the_client_whole(scripted, gateway, client) -> None:
    async def answer(request: bytes, writer: asyncio.StreamWriter) -> bool:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n")
        for part in (b"no ", b"length ", b"given"):
            writer.write(part)
            await writer.drain()
            await asyncio.sleep(0.01)
        return False  # closing ends the body

    replica = await scripted(answer)
    gw = await gateway([replica.url])
    async with client.get(gw.url + "/") as resp:
        assert resp.headers.get("Transfer-Encoding") == "chunked"
        assert await resp.read() == b"no length given"
    assert gw.stats.errors_by_cause == {}


async def test_http10_client_gets_the_payload_without_chunks(scripted, gateway) -> None:
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    replica = await scripted(fixed(head + b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"))
    gw = await gateway([replica.url])
    reader, writer = await asyncio.open_connection("127.0.0.1", gw.port)
    writer.write(b"GET /x HTTP/1.0\r\n\r\n")
    raw = await asyncio.wait_for(reader.read(), 5)  # the gateway closes: end of body
    writer.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.0 200") and b"chunked" not in head.lower()
    assert body == b"abcde"


@pytest.mark.parametrize(
    "raw",
    [b"HTTP/1.1 2x0 OK\r\n\r\n", b"HTTP/1.1 200 OK\r\nBad Header: x\r\n\r\n", b"garbage\r\n\r\n"],
    ids=["status", "header", "garbage"],
)
async def test_malformed_answers_are_a_protocol_error(scripted, gateway, client, raw) -> None:
    replica = await scripted(fixed(raw, keep=False))
    gw = await gateway([replica.url], max_attempts=1)
    async with client.get(gw.url + "/") as resp:
        assert resp.status == 502
        assert (await resp.json())["error"]["code"] == "protocol"
    assert gw.stats.errors_by_cause[Cause.PROTOCOL] == 1


async def test_broken_chunk_framing_mid_stream_truncates(scripted, gateway, client) -> None:
    replica = await scripted(
        fixed(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\nzz\r\n")
    )
    gw = await gateway([replica.url])
    with pytest.raises(aiohttp.ClientPayloadError):
        async with client.get(gw.url + "/") as resp:
            await resp.read()
    assert gw.stats.errors_by_cause[Cause.MIDSTREAM] == 1


async def test_a_stale_pooled_connection_is_retried(scripted, gateway, client) -> None:
    # The replica answers once per connection, then closes it without saying so: the next
    # request goes into a dead pooled connection, is reset, and is retried elsewhere.
    answer = fixed(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", keep=False)
    first, second = await scripted(answer), await scripted(answer)
    gw = await gateway(
        replica_specs=[ReplicaSpec("a", first.url), ReplicaSpec("b", second.url)],
        policy="round_robin",
    )
    for _ in range(6):
        async with client.get(gw.url + "/") as resp:
            assert resp.status == 200 and await resp.read() == b"ok"
    assert gw.stats.responses_by_class[2] == 6


async def test_pool_errors_and_expiry(scripted) -> None:
    replica = await scripted(fixed(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"))
    pool = UpstreamPool(connect_timeout_s=1.0, keepalive_s=0.2)
    try:
        origin = pool.origin(replica.url)
        assert pool.origin(replica.url) is origin  # one object per URL
        conn = await pool.connect(origin)
        conn.send("GET", b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", None)
        head = await conn.response_head(1.0)
        assert head.status == 200 and conn.reusable
        pool.release(conn)
        assert await pool.connect(origin) is conn  # reused while fresh
        pool.release(conn)
        await asyncio.sleep(0.5)  # expired: closed by the sweep
        assert conn.closed and await pool.connect(origin) is not conn

        silent = await scripted(fixed(b"", keep=True))
        slow = await pool.connect(pool.origin(silent.url))
        slow.send("GET", b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", None)
        with pytest.raises(FirstByteTimedOut):
            await slow.response_head(0.1)

        closing = await scripted(fixed(b"HTTP/1.1 200 OK\r\n", keep=False))  # half a head
        cut = await pool.connect(pool.origin(closing.url))
        cut.send("GET", b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", None)
        with pytest.raises(ResetBeforeAnswer):
            await cut.response_head(1.0)

        gone = pool.origin(replica.url)
        await replica.stop()
        with pytest.raises(ConnectFailed):
            await pool.connect(gone)
    finally:
        pool.close()


def test_origin_from_url() -> None:
    pool = UpstreamPool(connect_timeout_s=1.0, keepalive_s=1.0)
    plain = pool.origin("http://10.0.0.5:8080/base")
    assert (plain.host, plain.port, plain.tls) == ("10.0.0.5", 8080, False)
    assert (plain.host_header, plain.path_prefix) == (b"10.0.0.5:8080", "/base")
    tls = pool.origin("https://replica.example")
    assert (tls.port, tls.tls, tls.host_header) == (443, True, b"replica.example")
    v6 = pool.origin("http://[::1]:9000")
    assert (v6.host, v6.host_header) == ("::1", b"[::1]:9000")


async def test_finished_requests_leave_no_reference_cycles(replicas, gateway, client) -> None:
    # Cyclic garbage per request would make the collector walk every request's objects,
    # which cost the gateway ~15 % of its CPU under load; refcounting must free them.
    (r,) = await replicas("r1")
    gw = await gateway([r.url])
    paths = ["/sse?n=3", "/echo", "/bytes?n=200000", "/sized?n=100", "/status/204"]
    for path in paths:  # warm up: pools, caches
        async with client.get(gw.url + path) as resp:
            await resp.read()
    gc.collect()
    gc.disable()
    try:
        gc.set_debug(gc.DEBUG_SAVEALL)
        for path in paths * 4:
            async with client.get(gw.url + path) as resp:
                await resp.read()
        await asyncio.sleep(0.05)
        gc.collect()
        ours = [o for o in gc.garbage if type(o).__module__.startswith("hedgeserve.gateway")]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
    assert ours == []
