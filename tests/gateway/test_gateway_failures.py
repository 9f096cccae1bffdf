"""Failure handling: retries before the first byte only, suspects and probes, timeouts,
queueing with Retry-After, client disconnects, and SkyServe's 503-retry hang."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from gateway_fake_replica import FakeReplica, dead_url
from sse_recorder import Recorder

from hedgeserve.gateway.failures import Cause
from hedgeserve.gateway.replica_spec import ReplicaSpec

pytestmark = pytest.mark.timeout(30)


async def test_connect_failure_is_retried_on_another_replica(replicas, gateway, client) -> None:
    (live,) = await replicas("live")
    gw = await gateway([dead_url(), live.url], policy="round_robin")
    for _ in range(20):
        async with client.post(gw.url + "/echo", data=b"x") as resp:
            assert resp.status == 200
            assert (await resp.json())["replica"] == "live"
    dead = gw.replicas.get(0)
    assert dead is not None and dead.suspect  # no more traffic after the first failure
    assert dead.requests_total == 1 and gw.stats.errors_by_cause[Cause.CONNECT] == 1
    assert live.hits == 20 and gw.stats.retries_total == 1


@pytest.mark.parametrize("status", [502, 503])
async def test_502_503_are_retried_on_another_replica(
    replicas, gateway, client, status: int
) -> None:
    (broken,) = await replicas("broken", fail_status=status)
    (good,) = await replicas("good")
    gw = await gateway([broken.url, good.url], policy="round_robin")
    for _ in range(10):
        async with client.post(gw.url + "/v1/completions", json={"max_tokens": 2}) as resp:
            assert resp.status == 200
            assert (await resp.json())["replica"] == "good"
    assert broken.hits >= 1 and good.hits == 10
    # (It answers /health, so a probe may bring it back meanwhile: hits may be more than one.)
    assert gw.stats.errors_by_cause[f"upstream_{status}"] == broken.hits


async def test_gives_up_after_max_attempts_with_the_cause(replicas, gateway, client) -> None:
    reps = await replicas("a", "b", "c", fail_status=502)
    gw = await gateway([r.url for r in reps], max_attempts=3)
    async with client.get(gw.url + "/echo") as resp:
        assert resp.status == 502
        body = await resp.json()
    assert body["error"]["code"] == "upstream_502"
    assert sorted(r.hits for r in reps) == [1, 1, 1]  # each tried once: retries go elsewhere
    assert gw.stats.errors_by_cause[Cause.ATTEMPTS_EXHAUSTED] == 1


async def test_suspect_replica_returns_after_its_probe_passes(replicas, gateway, client) -> None:
    (flaky,) = await replicas("flaky", fail_status=502)
    (good,) = await replicas("good")
    gw = await gateway([flaky.url, good.url], policy="round_robin")
    async with client.get(gw.url + "/echo") as resp:
        assert resp.status == 200
    replica = gw.replicas.get(0)
    assert replica is not None and replica.suspect
    flaky.fail_status = None  # repaired; its /health answered 200 all along
    for _ in range(100):
        if not replica.suspect:
            break
        await asyncio.sleep(0.02)
    assert not replica.suspect and gw.stats.probes_total >= 1
    for _ in range(4):
        async with client.get(gw.url + "/echo") as resp:
            assert resp.status == 200
    assert flaky.hits >= 3  # round robin includes it again


async def test_no_retry_once_bytes_reached_the_client(replicas, gateway, client) -> None:
    (r,) = await replicas("r1")
    (other,) = await replicas("r2")
    taps: list[Recorder] = []

    def tap_factory(request: object) -> Recorder:
        taps.append(Recorder())
        return taps[-1]

    gw = await gateway([r.url], tap_factory=tap_factory)
    gw.set_replicas([ReplicaSpec(0, r.url), ReplicaSpec(1, other.url, draining=True)])
    received = b""
    with pytest.raises(aiohttp.ClientPayloadError):
        async with client.get(gw.url + "/sse?n=10&cut=3") as resp:
            assert resp.status == 200
            async for chunk in resp.content.iter_any():
                received += chunk
    assert received.count(b"data: ") == 3  # what was sent before the replica died
    assert r.hits == 1 and other.hits == 0  # not re-sent
    assert gw.stats.errors_by_cause[Cause.MIDSTREAM] == 1
    # The failover seam saw exactly the delivered token events, then an unclean end.
    (tap,) = taps
    assert [e.id for e in tap.events] == [b"0", b"1", b"2"] and tap.ended == [False]


async def test_first_byte_timeout_is_504_and_never_resent(replicas, gateway, client) -> None:
    reps = await replicas("a", "b")
    gw = await gateway([r.url for r in reps], first_byte_timeout_s=0.2)
    async with client.get(gw.url + "/slow?s=1") as resp:
        assert resp.status == 504
    assert sum(r.hits for r in reps) == 1  # a slow generation is not run twice
    assert gw.stats.errors_by_cause[Cause.FIRST_BYTE_TIMEOUT] == 1


async def test_idle_stream_is_cut(replicas, gateway, client) -> None:
    (r,) = await replicas("r1")
    gw = await gateway([r.url], idle_timeout_s=0.2)
    with pytest.raises(aiohttp.ClientPayloadError):
        async with client.get(gw.url + "/sse?n=3&delay=1") as resp:
            await resp.read()
    assert gw.stats.errors_by_cause[Cause.IDLE_TIMEOUT] == 1
    for _ in range(50):  # the gateway closed the upstream connection, the replica notices
        if r.cancelled:
            break
        await asyncio.sleep(0.02)
    assert r.cancelled == 1


async def test_client_disconnect_reaches_the_replica(replicas, gateway, client) -> None:
    (r,) = await replicas("r1")
    gw = await gateway([r.url])
    async with client.get(gw.url + "/sse?n=1000&delay=0.01") as resp:
        await resp.content.readany()
        assert r.inflight == 1
    # Leaving the block without reading closes the client connection.
    for _ in range(100):
        if r.cancelled:
            break
        await asyncio.sleep(0.02)
    assert r.cancelled == 1 and r.inflight == 0
    assert gw.replicas.get(0).inflight == 0  # type: ignore[union-attr]
    assert gw.stats.errors_by_cause[Cause.CLIENT_DISCONNECT] == 1


async def test_no_ready_replica_waits_then_503_with_retry_after(gateway, client) -> None:
    gw = await gateway([], queue_timeout_s=0.3, retry_after_s=7)
    loop = asyncio.get_running_loop()
    started = loop.time()
    async with client.post(gw.url + "/v1/completions", json={}) as resp:
        assert resp.status == 503
        assert resp.headers["Retry-After"] == "7"
        assert (await resp.json())["error"]["code"] == "no_replica"
    assert 0.25 < loop.time() - started < 2
    assert gw.stats.queue_wait.count == 1 and gw.stats.queued == 0


async def test_queue_is_bounded(gateway, client) -> None:
    gw = await gateway([], queue_timeout_s=1, max_queued=1)
    first = asyncio.create_task(client.get(gw.url + "/echo"))
    await asyncio.sleep(0.1)
    loop = asyncio.get_running_loop()
    started = loop.time()
    async with client.get(gw.url + "/echo") as resp:  # no room: answered at once
        assert resp.status == 503 and "Retry-After" in resp.headers
    assert loop.time() - started < 0.5
    (await first).release()


async def test_queued_request_proceeds_when_a_replica_is_pushed(replicas, gateway, client) -> None:
    (r,) = await replicas("late")
    gw = await gateway([], queue_timeout_s=5)
    task = asyncio.create_task(client.post(gw.url + "/echo", data=b"body kept for later"))
    await asyncio.sleep(0.2)
    assert gw.stats.queued == 1
    gw.set_replicas([ReplicaSpec("late", r.url)])
    resp = await asyncio.wait_for(task, 3)
    assert resp.status == 200 and (await resp.json())["body"] == "body kept for later"
    resp.release()


async def test_skyserve_hang_503_retry_then_replica_becomes_ready(
    replicas, gateway, client
) -> None:
    # SkyServe 0.14.1 hangs forever here: the request is retried after a 503 and lands on a
    # replica that just became ready, but its disconnect check has consumed the body.
    (r,) = await replicas("warming", ready=False)
    gw = await gateway([r.url], queue_timeout_s=10, max_attempts=5)
    body = {"prompt": "x" * 5000, "max_tokens": 2}

    async def become_ready() -> None:
        await asyncio.sleep(0.3)
        r.ready = True

    readiness = asyncio.create_task(become_ready())
    async with asyncio.timeout(5):
        async with client.post(gw.url + "/echo", json=body) as resp:
            assert resp.status == 200
            echo = await resp.json()
    await readiness
    assert echo["body"] == __import__("json").dumps(body)  # the body survived the retry
    assert gw.stats.errors_by_cause[Cause.UPSTREAM_503] >= 1
    assert r.hits >= 2


async def test_draining_replica_finishes_in_flight_but_gets_nothing_new(
    replicas, gateway, client
) -> None:
    a, b = await replicas("a", "b")
    specs = [ReplicaSpec("a", a.url), ReplicaSpec("b", b.url, draining=True)]
    gw = await gateway(replica_specs=specs)
    stream = await client.get(gw.url + "/sse?n=5&delay=0.1")  # lands on a (b is draining)
    assert stream.status == 200
    # a gets a preemption notice; b is back.
    gw.set_replicas([ReplicaSpec("a", a.url, draining=True), ReplicaSpec("b", b.url)])
    for _ in range(10):
        async with client.get(gw.url + "/echo") as resp:
            assert (await resp.json())["replica"] == "b"
    text = await stream.text()
    assert text.count("data: ") == 6 and text.endswith("data: [DONE]\n\n")
    assert a.hits == 1 and b.hits == 10
    assert gw.replicas.get("a").inflight == 0  # type: ignore[union-attr]


async def test_push_without_a_replica_keeps_its_in_flight_stream(replicas, gateway, client) -> None:
    a, b = await replicas("a", "b")
    gw = await gateway([a.url])
    direct = await (await client.get(a.url + "/sse?n=5&delay=0.05")).read()
    stream = await client.get(gw.url + "/sse?n=5&delay=0.05")
    old = gw.replicas.get(0)
    gw.set_replicas([ReplicaSpec(1, b.url)])  # a removed while streaming
    assert await stream.read() == direct
    assert old is not None and old.retired and old.inflight == 0
    async with client.get(gw.url + "/echo") as resp:
        assert (await resp.json())["replica"] == "b"


async def test_all_replicas_gone_mid_queue_then_back(gateway, client) -> None:
    replica = FakeReplica("r")
    gw = await gateway([], queue_timeout_s=5)
    task = asyncio.create_task(client.get(gw.url + "/echo"))
    await asyncio.sleep(0.1)
    await replica.start()
    gw.set_replicas([ReplicaSpec(0, replica.url)])
    try:
        resp = await asyncio.wait_for(task, 3)
        assert resp.status == 200
        resp.release()
    finally:
        await replica.stop()
