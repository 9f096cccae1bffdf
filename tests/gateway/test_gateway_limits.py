"""Edges of the public port: API keys, body limits, slow clients, TLS."""

from __future__ import annotations

import asyncio
import json
import shutil
import ssl
import subprocess
import time
from pathlib import Path

import aiohttp
import pytest

from hedgeserve.gateway.failures import Cause

pytestmark = pytest.mark.timeout(30)


async def test_api_keys_reject_bad_keys_and_stay_private(replicas, gateway, client) -> None:
    (r,) = await replicas("r1")
    gw = await gateway([r.url], api_keys=("key-one", "key-two"))
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic key-one"}):
        async with client.post(gw.url + "/echo", data=b"x", headers=headers) as resp:
            assert resp.status == 401
            assert resp.headers["WWW-Authenticate"] == "Bearer"
            assert (await resp.json())["error"]["code"] == "unauthorized"
    assert r.hits == 0
    async with client.post(
        gw.url + "/echo", data=b"x", headers={"Authorization": "Bearer key-two"}
    ) as resp:
        assert resp.status == 200
        echo = await resp.json()
    # The gateway's key is not passed on to the replica.
    assert not any(k.lower() == "authorization" for k, _ in echo["headers"])
    assert gw.stats.errors_by_cause[Cause.UNAUTHORIZED] == 3


async def test_body_limit_413_by_length_and_by_chunks(replicas, gateway, client) -> None:
    (r,) = await replicas("r1")
    gw = await gateway([r.url], max_body_bytes=1000)
    async with client.post(gw.url + "/echo", data=b"a" * 1000) as resp:
        assert resp.status == 200 and len((await resp.json())["body"]) == 1000

    async def chunks():  # no Content-Length: sent chunked
        for _ in range(5):
            yield b"b" * 400

    for data in (b"a" * 1001, chunks()):
        async with client.post(gw.url + "/echo", data=data) as resp:
            assert resp.status == 413
            assert (await resp.json())["error"]["code"] == "body_too_large"
    assert r.hits == 1 and gw.stats.errors_by_cause[Cause.BODY_TOO_LARGE] == 2


async def test_chunked_request_body_within_limit_is_forwarded_whole(
    replicas, gateway, client
) -> None:
    (r,) = await replicas("r1")
    gw = await gateway([r.url], max_body_bytes=10_000)

    async def chunks():
        for i in range(10):
            yield f"part{i};".encode()

    async with client.post(gw.url + "/echo", data=chunks()) as resp:
        assert (await resp.json())["body"] == "".join(f"part{i};" for i in range(10))


async def timed_requests(client: aiohttp.ClientSession, url: str, n: int) -> float:
    started = time.monotonic()
    for _ in range(n):
        async with client.post(url, data=b"{}") as resp:
            assert resp.status == 200
    return time.monotonic() - started


async def test_slow_clients_do_not_stall_others(replicas, gateway, client) -> None:
    (r,) = await replicas("r1")
    gw = await gateway([r.url])
    # A reader that never reads a 50 MB answer: its socket buffers fill, the gateway's writes
    # to it wait, and with them only its own upstream read.
    reader, writer = await asyncio.open_connection("127.0.0.1", gw.port)
    writer.write(b"GET /bytes?n=50000000 HTTP/1.1\r\nHost: x\r\n\r\n")
    # An uploader that trickles its body: its handler waits for bytes, nothing else does.
    _, uploader = await asyncio.open_connection("127.0.0.1", gw.port)
    uploader.write(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nxx")
    await asyncio.sleep(0.3)
    assert r.inflight == 1  # the slow reader's stream is open upstream, paused
    elapsed = await timed_requests(client, gw.url + "/echo", 50)
    assert elapsed < 3.0, f"50 requests took {elapsed:.2f} s next to slow clients"
    assert gw.stats.active == 2  # both slow clients are still being served
    writer.close()
    uploader.close()
    for _ in range(100):
        if gw.stats.active == 0:
            break
        await asyncio.sleep(0.02)
    assert gw.stats.active == 0 and r.inflight == 0
    del reader


def make_cert(tmp_path: Path) -> tuple[Path, Path]:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
async def test_tls_on_the_public_port(replicas, gateway, tmp_path: Path) -> None:
    (r,) = await replicas("r1")
    cert, key = make_cert(tmp_path)
    gw = await gateway([r.url], tls_cert=cert, tls_key=key)
    assert gw.url.startswith("https://")
    context = ssl.create_default_context(cafile=str(cert))
    async with aiohttp.ClientSession() as session:
        async with session.post(gw.url + "/echo", data=b"secret", ssl=context) as resp:
            echo = json.loads(await resp.text())
        assert echo["body"] == "secret"
        assert ("X-Forwarded-Proto", "https") in [tuple(h) for h in echo["headers"]]
        with pytest.raises(aiohttp.ClientError):
            async with session.get(gw.url.replace("https", "http") + "/echo") as resp:
                await resp.read()
