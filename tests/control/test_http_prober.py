"""The HTTP prober against real servers: pass on 2xx, fail on errors, timeouts and refusals,
POST with headers when asked, and a slow replica never stalls the tick."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from types import MappingProxyType

import pytest
from aiohttp import web

from hedgeserve.control.clock import Wakeup
from hedgeserve.control.probe import HttpProber, ProbeTarget
from hedgeserve.core.replicas import ReplicaId
from hedgeserve.spec.probe import ProbeTimings, ReadinessProbe

pytestmark = pytest.mark.timeout(30)
TIMINGS = ProbeTimings(initial_delay_s=60.0, timeout_s=0.5, period_s=0.0, failure_threshold_s=5.0)
seen: list[tuple[str, str, str]] = []


async def handler(request: web.Request) -> web.Response:
    seen.append((request.method, request.headers.get("X-Key", ""), await request.text()))
    mode = request.match_info["mode"]
    if mode == "slow":
        await asyncio.sleep(2.0)
    return web.Response(status=503 if mode == "loading" else 200)


@pytest.fixture
async def server() -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_route("*", "/{mode}/health", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    await runner.cleanup()


def targets(base: str) -> list[ProbeTarget]:
    return [ProbeTarget(ReplicaId(1), f"{base}/ok"), ProbeTarget(ReplicaId(2), f"{base}/loading"),
            ProbeTarget(ReplicaId(3), "http://127.0.0.1:9")]  # nothing listens on port 9


async def test_get_probe_results(server: str) -> None:
    prober = HttpProber(ReadinessProbe("/health", TIMINGS, MappingProxyType({}), None),
                        wakeup=Wakeup(), collect_s=1.0)
    try:
        assert await prober.results(targets(server)) == {1: True, 2: False, 3: False}
    finally:
        await prober.close()


async def test_post_probe_sends_body_and_headers(server: str) -> None:
    seen.clear()
    probe = ReadinessProbe("/health", TIMINGS, MappingProxyType({"X-Key": "k"}),
                           MappingProxyType({"prompt": "hi"}))
    prober = HttpProber(probe, wakeup=Wakeup(), collect_s=1.0)
    try:
        assert await prober.results([ProbeTarget(ReplicaId(1), f"{server}/ok")]) == {1: True}
        assert seen == [("POST", "k", '{"prompt": "hi"}')]
    finally:
        await prober.close()


async def test_a_slow_replica_reports_later_and_wakes_the_loop(server: str) -> None:
    wakeup = Wakeup()
    slow = ReadinessProbe("/health", ProbeTimings(60.0, 5.0, 0.0, 5.0), MappingProxyType({}),
                          None)
    prober = HttpProber(slow, wakeup=wakeup, collect_s=0.1)
    target = [ProbeTarget(ReplicaId(7), f"{server}/slow")]
    try:
        loop = asyncio.get_running_loop()
        started = loop.time()
        assert await prober.results(target) == {}  # the tick does not wait 2 s
        assert loop.time() - started < 0.5
        await wakeup.wait(5.0)
        assert await prober.results(target) == {7: True}
    finally:
        await prober.close()
