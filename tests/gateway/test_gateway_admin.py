"""The controller's side: admin API (push), pull mode, /stats for the autoscaler, /metrics."""

from __future__ import annotations

import asyncio
import time

import pytest
from aiohttp import web
from prometheus_client.parser import text_string_to_metric_families

pytestmark = pytest.mark.timeout(30)
ADMIN_TOKEN = "admin-token-for-tests"
AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


async def test_push_replica_set_through_the_admin_api(replicas, gateway, client) -> None:
    a, b = await replicas("a", "b")
    gw = await gateway([], admin_port=0, admin_token=ADMIN_TOKEN)
    assert gw.admin_url is not None
    doc = {"replicas": [{"id": 1, "url": a.url, "weight": 2.0}, {"id": "b", "url": b.url}]}
    async with client.put(gw.admin_url + "/replicas", json=doc, headers=AUTH) as resp:
        assert resp.status == 200
        state = await resp.json()
    assert [(r["id"], r["weight"], r["inflight"]) for r in state["replicas"]] == [
        (1, 2.0, 0),
        ("b", 1.0, 0),
    ]
    for _ in range(6):
        async with client.get(gw.url + "/echo") as resp:
            assert resp.status == 200
    assert a.hits + b.hits == 6
    async with client.get(gw.admin_url + "/replicas", headers=AUTH) as resp:
        got = {r["id"]: r["requests_total"] for r in (await resp.json())["replicas"]}
    assert got == {1: a.hits, "b": b.hits}
    assert gw.stats.replica_set_updates_total == 1


@pytest.mark.parametrize(
    ("headers", "body", "status"),
    [
        ({}, {"replicas": []}, 401),
        ({"Authorization": "Bearer wrong"}, {"replicas": []}, 401),
        (AUTH, {"replicas": [{"id": 1, "url": "gopher://x"}]}, 400),
        (AUTH, "not json", 400),
    ],
    ids=["no-token", "bad-token", "bad-url", "not-json"],
)
async def test_admin_rejects_bad_tokens_and_bad_sets(
    replicas, gateway, client, headers: dict[str, str], body: object, status: int
) -> None:
    (a,) = await replicas("a")
    gw = await gateway([a.url], admin_port=0, admin_token=ADMIN_TOKEN)
    kwargs = {"data": body} if isinstance(body, str) else {"json": body}
    async with client.put(gw.admin_url + "/replicas", headers=headers, **kwargs) as resp:
        assert resp.status == status
        assert "error" in await resp.json()
    assert len(gw.replicas) == 1  # the set is unchanged
    for path in ("/replicas", "/stats"):
        async with client.get(gw.admin_url + path) as resp:
            assert resp.status == 401


async def test_stats_give_the_autoscaler_a_rate(replicas, gateway, client) -> None:
    (a,) = await replicas("a")
    gw = await gateway([a.url], admin_port=0, admin_token=ADMIN_TOKEN)

    async def stats() -> dict[str, object]:
        async with client.get(gw.admin_url + "/stats", headers=AUTH) as resp:
            return dict(await resp.json())

    first = await stats()
    for _ in range(30):
        async with client.get(gw.url + "/echo") as resp:
            await resp.read()
    async with client.get(gw.url + "/status/404") as resp:
        await resp.read()
    second = await stats()
    assert second["requests_total"] - first["requests_total"] == 31  # type: ignore[operator]
    qps = 31 / (second["time"] - first["time"])  # type: ignore[operator]
    assert qps > 0 and second["started_at"] == first["started_at"]
    assert second["responses_total"] == {"1xx": 0, "2xx": 30, "3xx": 0, "4xx": 1, "5xx": 0}
    (replica,) = second["replicas"]  # type: ignore[misc]
    assert replica["requests_total"] == 31 and replica["inflight"] == 0
    assert second["active"] == 0 and second["queued"] == 0


async def test_metrics_in_prometheus_format(replicas, gateway, client) -> None:
    a, b = await replicas("a", "b")
    gw = await gateway([a.url, b.url], admin_port=0, admin_token=ADMIN_TOKEN)
    stream = await client.get(gw.url + "/sse?n=3&delay=0.3")  # in flight during the scrape
    for _ in range(5):
        async with client.get(gw.url + "/echo") as resp:
            await resp.read()
    async with client.get(gw.admin_url + "/metrics") as resp:  # open: no token needed
        assert resp.status == 200 and resp.content_type == "text/plain"
        text = await resp.text()
    stream.close()
    families = {f.name: f for f in text_string_to_metric_families(text)}
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value for f in families.values()
               for s in f.samples}  # fmt: skip
    assert samples[("hedge_gateway_requests_total", ())] == 6
    assert samples[("hedge_gateway_responses_total", (("code", "2xx"),))] == 5
    inflight = {lbl: v for (n, lbl), v in samples.items() if n == "hedge_gateway_replica_inflight"}
    assert sorted(inflight.values()) == [0, 1]
    assert samples[("hedge_gateway_request_duration_seconds_count", ())] == 5
    assert ("hedge_gateway_time_to_first_byte_seconds_bucket", (("le", "+Inf"),)) in samples
    assert families["hedge_gateway_queued"].type == "gauge"
    assert "process_resident_memory_bytes" in {s.name for f in families.values() for s in f.samples}
    assert a.url not in text and b.url not in text


async def test_healthz_is_open(replicas, gateway, client) -> None:
    (a,) = await replicas("a")
    gw = await gateway([a.url], admin_port=0, admin_token=ADMIN_TOKEN)
    async with client.get(gw.admin_url + "/healthz") as resp:
        assert await resp.json() == {"ok": True, "replicas": 1, "routable": 1}


class ReplicaSetServer:
    """A controller in pull mode: serves the replica set, or fails as told."""

    def __init__(self) -> None:
        self.doc: object = {"replicas": []}
        self.mode = "ok"  # ok | error | garbage | hang
        self.polls = 0
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> None:
        async def handle(request: web.Request) -> web.StreamResponse:
            self.polls += 1
            assert request.headers.get("Authorization") == f"Bearer {ADMIN_TOKEN}"
            if self.mode == "error":
                return web.Response(status=500)
            if self.mode == "garbage":
                return web.Response(text="{not json")
            if self.mode == "hang":
                await asyncio.sleep(10)
            return web.json_response(self.doc)

        app = web.Application()
        app.router.add_get("/replica-set", handle)
        self._runner = web.AppRunner(app, shutdown_timeout=0.1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}/replica-set"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


async def wait_until(predicate, timeout_s: float = 3.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached"
        await asyncio.sleep(0.02)


async def test_pull_mode_keeps_the_last_good_set(replicas, gateway, client) -> None:
    a, b = await replicas("a", "b")
    controller = ReplicaSetServer()
    await controller.start()
    try:
        controller.doc = {"replicas": [{"id": "a", "url": a.url}]}
        gw = await gateway(
            [], pull_url=controller.url, pull_interval_s=0.05, pull_timeout_s=0.2,
            admin_token=ADMIN_TOKEN,
        )  # fmt: skip
        assert [r.id for r in gw.replicas] == ["a"]  # pulled before serving
        for mode in ("error", "garbage", "hang"):
            controller.mode = mode
            failures = gw.stats.pull_failures_total
            await wait_until(lambda f=failures: gw.stats.pull_failures_total > f)
            async with client.get(gw.url + "/echo") as resp:
                assert (await resp.json())["replica"] == "a"  # last good set still serves
        controller.mode = "ok"
        controller.doc = [{"id": "b", "url": b.url}]
        await wait_until(lambda: [r.id for r in gw.replicas] == ["b"])
        async with client.get(gw.url + "/echo") as resp:
            assert (await resp.json())["replica"] == "b"
    finally:
        await controller.stop()
