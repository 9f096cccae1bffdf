"""Request rate from counters, policy and state codecs, the status document, the control API."""

from __future__ import annotations

import json
from types import MappingProxyType

import pytest
from aiohttp.test_utils import TestClient, TestServer

from hedgeserve.control.api import ControlApi
from hedgeserve.control.lifecycle import ReplicaStatus
from hedgeserve.control.policy_setup import (
    build_autoscaler,
    build_policy,
    decode_autoscaler_state,
    decode_policy_state,
    encode_autoscaler_state,
    encode_policy_state,
)
from hedgeserve.control.records import (
    EventKind,
    EventRecord,
    GatewayRecord,
    ReplicaRecord,
    ServiceRecord,
    ServiceStatus,
)
from hedgeserve.control.request_rate import CounterSample, RequestRate
from hedgeserve.control.status import public_view, service_status, status_document
from hedgeserve.core.autoscale import AutoscalerState
from hedgeserve.core.baselines import OnDemandOnly
from hedgeserve.core.replicas import ReplicaId
from hedgeserve.core.spothedge import SpotHedge
from hedgeserve.core.zone_sets import ZoneSets
from hedgeserve.core.zones import ZoneId, ZoneOffer
from hedgeserve.spec.replica_policy import ReplicaPolicy, SpotPlacer

ZONES = (ZoneOffer(ZoneId("local/e/a"), 1.0, 3.0), ZoneOffer(ZoneId("local/e/b"), 2.0, 4.0))


def test_request_rate_over_a_window_and_across_a_gateway_restart() -> None:
    rate = RequestRate(window_s=10.0)
    assert rate.qps() is None
    for t in range(0, 21):  # 5 requests/s
        rate.add(CounterSample(float(t), 1.0, 5 * t))
    assert rate.qps() == pytest.approx(5.0)
    rate.add(CounterSample(21.0, 2.0, 3))  # new gateway process: counter restarted
    assert rate.qps() is None


def policy(**kw: object) -> ReplicaPolicy:
    base = dict(min_replicas=2, max_replicas=5, target_qps_per_replica=None,
                target_qps_per_accelerator=MappingProxyType({"H100": 8.0, "L4": 2.0}),
                upscale_delay_s=30.0, downscale_delay_s=60.0, num_overprovision=1,
                base_ondemand_replicas=1, dynamic_ondemand_fallback=True,
                spot_placer=SpotPlacer.DYNAMIC_FALLBACK, use_spot=True)
    return ReplicaPolicy(**{**base, **kw})  # type: ignore[arg-type]


def test_spec_policy_to_core() -> None:
    assert build_policy(policy()) == SpotHedge(extra=1, base_ondemand=1, dynamic_fallback=True)
    assert build_policy(policy(use_spot=False)) == OnDemandOnly()
    assert build_autoscaler(policy(), ["l4"]).target_qps_per_replica == 2.0  # named GPU
    assert build_autoscaler(policy(), []).target_qps_per_replica == 2.0  # smallest entry
    scaler = build_autoscaler(policy(target_qps_per_replica=3.0), [])
    assert (scaler.min_replicas, scaler.max_replicas, scaler.upscale_delay_s) == (2, 5, 30.0)


def test_states_round_trip_as_json() -> None:
    spot = SpotHedge()
    sets = ZoneSets(active=frozenset({ZoneId("local/e/a")}),
                    preempted=frozenset({ZoneId("local/e/b")}))
    assert decode_policy_state(encode_policy_state(sets), spot, ZONES) == sets
    assert decode_policy_state(None, spot, ZONES) == ZoneSets.all_active(z.zone for z in ZONES)
    assert decode_policy_state("null", OnDemandOnly(), ZONES) is None
    config = build_autoscaler(policy(target_qps_per_replica=3.0), [])
    state = AutoscalerState(target=4, up_since=None, down_since=12.5)
    assert decode_autoscaler_state(encode_autoscaler_state(state), config) == state
    big = AutoscalerState(target=50)  # the spec's max shrank since: clamp
    assert decode_autoscaler_state(encode_autoscaler_state(big), config).target == 5


@pytest.mark.parametrize(("ready", "target", "ever", "failed", "expected"), [
    (0, 3, False, False, ServiceStatus.STARTING),
    (3, 3, True, False, ServiceStatus.READY),
    (4, 3, True, False, ServiceStatus.READY),
    (1, 3, True, False, ServiceStatus.DEGRADED),
    (0, 3, True, False, ServiceStatus.NO_REPLICA),
    (3, 3, True, True, ServiceStatus.FAILED),
    (0, 0, False, False, ServiceStatus.READY),  # scaled to zero on purpose
])
def test_service_status(ready: int, target: int, ever: bool, failed: bool,
                        expected: ServiceStatus) -> None:
    assert service_status(ready=ready, target=target, ever_ready=ever, failed=failed) is expected


def service(**kw: object) -> ServiceRecord:
    base = ServiceRecord("svc", ServiceStatus.READY, "", "", "", 0.0, 0.0, target=2,
                         on_demand_reference_per_hour=6.0,
                         gateway=GatewayRecord(10, "1", 8000, 8001, "http://127.0.0.1:8000"))
    return ServiceRecord(**{**base.__dict__, **kw}) if kw else base  # type: ignore[arg-type]


def test_status_document_costs_and_exact_public_keys() -> None:
    rows = [
        ReplicaRecord(ReplicaId(1), ZoneId("local/e/a"), True, ReplicaStatus.READY, 0.0,
                      price_per_hour=1.0, pid=11, url="http://127.0.0.1:1"),
        ReplicaRecord(ReplicaId(2), ZoneId("local/e/b"), False, ReplicaStatus.DRAINING, 0.0,
                      price_per_hour=4.0, pid=12, url="http://127.0.0.1:2"),
        ReplicaRecord(ReplicaId(3), ZoneId("local/e/b"), True, ReplicaStatus.PREEMPTED, 0.0,
                      price_per_hour=2.0, ended_at=5.0),
    ]
    doc = status_document(service(), rows, now=100.0, controller_alive=True)
    assert doc["cost_per_hour"] == 5.0  # live replicas only, draining included
    assert doc["on_demand_cost_per_hour"] == 6.0
    assert [r["id"] for r in doc["replicas"]] == [1, 2]
    public = public_view(doc)
    assert list(public) == ["name", "status", "endpoint", "cost_per_hour",
                            "on_demand_cost_per_hour", "replicas"]
    assert list(public["replicas"][0]) == ["id", "zone", "spot", "state", "pid", "url"]
    dead = status_document(service(), rows, now=100.0, controller_alive=False)
    assert dead["status"] == "controller_down"


async def test_control_api_needs_the_token() -> None:
    downs = []

    async def down() -> dict[str, object]:
        downs.append(1)
        return {"ok": True, "terminated": [1], "left": []}

    events = [EventRecord(1.0, EventKind.LAUNCH, "spot below target", ReplicaId(1),
                          ZoneId("local/e/a"), True, seq=1)]
    api = ControlApi(name="svc", pid=42, token="s3cret", status=lambda: {"name": "svc"},
                     events=lambda after, limit: events[after:after + limit],
                     last_events=lambda n: events[-n:], down=down)
    async with TestClient(TestServer(api.app)) as client:
        assert (await client.get("/healthz")).status == 200
        assert (await client.get("/status")).status == 401
        assert (await client.get("/status", headers={"Authorization": "Bearer nope"})).status == 401
        auth = {"Authorization": "Bearer s3cret"}
        assert await (await client.get("/status", headers=auth)).json() == {"name": "svc"}
        body = await (await client.get("/events?last=5", headers=auth)).json()
        assert body["events"][0]["detail"] == "spot below target"
        assert (await client.get("/events?after=x", headers=auth)).status == 400
        assert (await client.post("/down")).status == 401 and downs == []
        assert json.loads(await (await client.post("/down", headers=auth)).text())["ok"]
        assert downs == [1]
