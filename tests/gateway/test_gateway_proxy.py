"""The proxy path: bytes identical to direct, streaming without buffering, exact headers."""

from __future__ import annotations

import asyncio
import json
import time

import aiohttp
import pytest
from gateway_fake_replica import payload_bytes

pytestmark = pytest.mark.timeout(30)


async def fetch(client: aiohttp.ClientSession, method: str, url: str, **kw: object) -> bytes:
    async with client.request(method, url, **kw) as resp:  # type: ignore[arg-type]
        assert resp.status == 200, await resp.text()
        return await resp.read()


@pytest.mark.parametrize(
    "path",
    ["/bytes?n=3000000", "/sized?n=200000", "/sized?n=1000", "/sse?n=50", "/sse?n=5&delay=0.01"],
    ids=["chunked-3MB", "sized-200k", "sized-1k", "sse", "sse-delayed"],
)
async def test_bytes_identical_to_direct(replicas, gateway, client, path: str) -> None:
    (r,) = await replicas("r1")
    gw = await gateway([r.url])
    direct = await fetch(client, "GET", r.url + path)
    proxied = await fetch(client, "GET", gw.url + path)
    assert proxied == direct
    if path.startswith("/bytes") or path.startswith("/sized"):
        assert proxied == payload_bytes(len(proxied))


async def test_sse_is_forwarded_event_by_event(replicas, gateway, client) -> None:
    (r,) = await replicas("r1")
    gw = await gateway([r.url])
    started = time.monotonic()
    arrivals: list[float] = []
    async with client.get(gw.url + "/sse?n=4&delay=0.25") as resp:
        assert resp.headers["Content-Type"] == "text/event-stream"
        async for _chunk in resp.content.iter_any():
            arrivals.append(time.monotonic() - started)
    # A buffering proxy would deliver everything after ~1 s; the first event comes at once.
    assert arrivals[0] < 0.2
    assert arrivals[-1] > 0.7
    assert gw.stats.sse_events_total == 5  # 4 tokens + [DONE]
    assert gw.stats.first_byte.count == 1


async def test_completion_streaming_and_not(replicas, gateway, client) -> None:
    (r,) = await replicas("r1")
    gw = await gateway([r.url])
    async with client.post(gw.url + "/v1/completions", json={"max_tokens": 3}) as resp:
        assert (await resp.json())["choices"][0]["text"] == "tok0 tok1 tok2"
    async with client.post(
        gw.url + "/v1/chat/completions", json={"max_tokens": 3, "stream": True}
    ) as resp:
        text = await resp.text()
    assert text.count("data: ") == 4 and text.endswith("data: [DONE]\n\n")


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
async def test_any_method_path_and_query(replicas, gateway, client, method: str) -> None:
    (r,) = await replicas("r1")
    gw = await gateway([r.url])
    async with client.request(method, gw.url + "/echo?a=1&b=%20x", data=b"payload") as resp:
        echo = await resp.json()
    assert (echo["method"], echo["path"], echo["query"]) == (method, "/echo", "a=1&b=%20x")
    assert echo["body"] == "payload"


async def test_head_keeps_content_length_without_a_body(replicas, gateway, client) -> None:
    (r,) = await replicas("r1")
    gw = await gateway([r.url])
    async with client.head(gw.url + "/sized?n=1234") as resp:
        assert resp.status == 200
        assert resp.headers["Content-Length"] == "1234"
        assert await resp.read() == b""


async def test_upstream_status_and_body_pass_through(replicas, gateway, client) -> None:
    (r,) = await replicas("r1")
    gw = await gateway([r.url])
    for status in (201, 204, 400, 404, 429, 500):
        async with client.get(gw.url + f"/status/{status}") as resp:
            assert resp.status == status
            assert await resp.read() == (b"" if status == 204 else b"r1")
    assert r.hits == 6  # 4xx/5xx other than 502/503 are answers, not replica failures


async def raw_request(port: int, request: bytes) -> tuple[str, dict[str, str], bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(request)
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:] if line)
    body = await reader.readexactly(int(headers["Content-Length"]))
    writer.close()
    return lines[0], headers, body


async def test_forwarded_headers_are_exactly_the_clients_minus_hop_by_hop(
    replicas, gateway
) -> None:
    (r,) = await replicas("r1")
    gw = await gateway([r.url])
    request = (
        b"POST /echo HTTP/1.1\r\n"
        b"Host: public.example\r\n"
        b"Connection: keep-alive, X-Hop\r\n"
        b"X-Hop: per-connection\r\n"
        b"Keep-Alive: timeout=5\r\n"
        b"TE: trailers\r\n"
        b"Proxy-Authorization: Basic c2VjcmV0\r\n"
        b"Authorization: Bearer replica-key\r\n"
        b"X-Custom: Value\r\n"
        b"X-Forwarded-For: 10.1.1.1\r\n"
        b"Content-Length: 2\r\n"
        b"\r\n"
        b"hi"
    )
    status, _, body = await raw_request(gw.port, request)
    assert status == "HTTP/1.1 200 OK"
    echo = json.loads(body)
    got = {k.lower(): v for k, v in echo["headers"]}
    assert got == {
        "host": f"127.0.0.1:{r.port}",
        "authorization": "Bearer replica-key",  # no gateway auth: the replica's own key passes
        "x-custom": "Value",
        "x-forwarded-for": "10.1.1.1, 127.0.0.1",
        "x-forwarded-proto": "http",
        "content-length": "2",
    }
    assert echo["body"] == "hi"


async def test_cookies_are_not_kept_by_the_gateway(replicas, gateway, client) -> None:
    (r,) = await replicas("r1")
    gw = await gateway([r.url])
    async with client.get(gw.url + "/cookie") as resp:
        assert "session=secret-of-client-a" in resp.headers["Set-Cookie"]
    async with aiohttp.ClientSession() as other, other.get(gw.url + "/echo") as resp:
        echo = await resp.json()  # another user
    assert not any(k.lower() == "cookie" for k, _ in echo["headers"])


async def test_responses_are_not_recompressed_or_decoded(replicas, gateway) -> None:
    (r,) = await replicas("r1")
    gw = await gateway([r.url])
    # The client asks for no encoding; the gateway must not add Accept-Encoding upstream.
    _, _, body = await raw_request(gw.port, b"GET /echo HTTP/1.1\r\nHost: x\r\n\r\n")
    names = {k.lower() for k, _ in json.loads(body)["headers"]}
    assert names == {"host", "x-forwarded-for", "x-forwarded-proto"}


async def test_expect_100_continue(replicas, gateway) -> None:
    (r,) = await replicas("r1")
    gw = await gateway([r.url])
    reader, writer = await asyncio.open_connection("127.0.0.1", gw.port)
    writer.write(
        b"POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n"
    )
    assert await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 2) == (
        b"HTTP/1.1 100 Continue\r\n\r\n"
    )
    writer.write(b"hello")
    head = await reader.readuntil(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    length = int(head.split(b"Content-Length: ")[1].split(b"\r\n")[0])
    echo = json.loads(await reader.readexactly(length))
    writer.close()
    assert echo["body"] == "hello"
    assert "expect" not in {k.lower() for k, _ in echo["headers"]}
