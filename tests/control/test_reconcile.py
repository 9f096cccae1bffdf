"""The reconcile tick against fakes: intents before effects, restart without duplicates, error
classes, fail-fast, the autoscaler fed by the gateway's counter, and what the gateway gets."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from tests.control.fakes import FakeGateway, FakeProber, FakeProvider, StepClock

from hedgeserve.control.clock import Wakeup
from hedgeserve.control.lifecycle import ReplicaStatus
from hedgeserve.control.provider import (
    CapacityUnavailable,
    LaunchRequest,
    PermanentProviderError,
    TransientProviderError,
)
from hedgeserve.control.reconcile import LoopSettings, Reconciler
from hedgeserve.control.records import EventKind, ServiceRecord, ServiceStatus
from hedgeserve.control.store import Store
from hedgeserve.core.autoscale import AutoscalerConfig
from hedgeserve.core.spothedge import SpotHedge
from hedgeserve.core.zones import ZoneId
from hedgeserve.spec.probe import ProbeTimings

S = ReplicaStatus
T = ProbeTimings(initial_delay_s=60.0, timeout_s=1.0, period_s=1.0, failure_threshold_s=10.0)
A, B = ZoneId("local/east/a"), ZoneId("local/east/b")


def make(tmp_path: Path, provider: FakeProvider, prober: FakeProber, *, target: int = 2,
         extra: int = 0, gateway: FakeGateway | None = None,
         autoscaler: AutoscalerConfig | None = None,
         clock: StepClock | None = None) -> Reconciler:
    store = Store.writer(tmp_path / "state.db", tmp_path / "writer.lock")
    if store.service() is None:
        store.create_service(ServiceRecord("svc", ServiceStatus.STARTING, "", "", "", 0.0, 0.0))
    return Reconciler(
        store=store, provider=provider, prober=prober, policy=SpotHedge(extra=extra),
        autoscaler=autoscaler or AutoscalerConfig(target, target), timings=T,
        clock=clock or StepClock(), wakeup=Wakeup(), gateway=gateway,
        settings=LoopSettings(tick_s=1.0),
    )


class Spy(FakeProvider):
    """Checks, at the moment of each launch, that its intent is already stored."""

    store: Store | None = None

    async def launch(self, request: LaunchRequest):  # type: ignore[no-untyped-def]
        assert self.store is not None
        row = self.store.replica(request.replica)
        assert row is not None and row.status is S.PENDING, "launch before its intent"
        return await super().launch(request)


async def test_intent_is_stored_before_the_provider_is_called(tmp_path: Path) -> None:
    provider = Spy()
    r = make(tmp_path, provider, FakeProber())
    provider.store = r.store
    await r.tick()
    assert len(provider.launched) == 4  # 2 spot + 2 on-demand fallback while none is ready
    assert {row.status for row in r.store.live_replicas()} == {S.PROVISIONING}


async def test_restart_adopts_and_launches_nothing_twice(tmp_path: Path) -> None:
    provider, prober = FakeProvider(), FakeProber()
    first = make(tmp_path, provider, prober)
    await first.tick()
    prober.ready = {int(q.replica) for q in provider.launched}
    await first.tick()  # ready: the on-demand fallback is released
    await first.tick()
    before = {(r.id, r.status) for r in first.store.live_replicas()}
    assert len(before) == 2 and provider.running.keys() == {r for r, _ in before}
    first.store.close()  # the controller dies; the instances do not

    second = make(tmp_path, provider, prober)
    plan = await second.recover()
    assert len(plan.adopted) == 2 and not plan.orphans and not plan.ended
    launched = len(provider.launched)
    for _ in range(3):
        await second.tick()
    assert len(provider.launched) == launched
    assert {(r.id, r.status) for r in second.store.live_replicas()} == before


async def test_capacity_refusal_moves_the_zone_and_retries_elsewhere(tmp_path: Path) -> None:
    provider, prober = FakeProvider(), FakeProber()
    provider.fail_next = [CapacityUnavailable(A)]  # the first spot launch goes to A (cheapest)
    r = make(tmp_path, provider, prober, target=1)
    await r.tick()
    await r.tick()
    spot = [q.zone for q in provider.launched if q.is_spot]
    assert spot == [B]
    events = r.store.events()
    assert any(e.kind is EventKind.LAUNCH_FAILED and e.zone == A for e in events)
    assert any(e.kind is EventKind.ZONES and f"preempted: {A}" in e.detail for e in events)


async def test_transient_error_fails_the_row_and_backs_off(tmp_path: Path) -> None:
    provider = FakeProvider(fail_next=[TransientProviderError("busy")])
    r = make(tmp_path, provider, FakeProber(), target=1)
    with pytest.raises(TransientProviderError, match="busy"):
        await r.tick()
    failed = [row for row in r.store.replicas() if row.status is S.FAILED]
    assert len(failed) == 1 and "retrying" in failed[0].reason
    await r.tick()  # level-triggered: the next tick simply launches again
    assert r.failure is None and len(r.store.live_replicas()) == 2


async def test_permanent_error_fails_the_service_and_stops_launching(tmp_path: Path) -> None:
    provider = FakeProvider(fail_next=[PermanentProviderError("no such folder")] * 2)
    clock = StepClock()
    r = make(tmp_path, provider, FakeProber(), target=1, clock=clock)
    stop = asyncio.Event()

    async def stop_soon() -> None:
        while clock.t < 1005:
            await asyncio.sleep(0)
        stop.set()

    await asyncio.gather(r.run(stop), stop_soon())
    service = r.store.service()
    assert service is not None and service.status is ServiceStatus.FAILED
    assert "no such folder" in (service.failure or "")
    assert len(provider.launched) <= 1  # only the one that was not refused


async def test_replicas_dying_before_ever_ready_fail_the_service(tmp_path: Path) -> None:
    provider = FakeProvider()
    r = make(tmp_path, provider, FakeProber(), target=1)
    await r.tick()
    for _ in range(3):
        for rid in list(provider.running):
            provider.crash(int(rid), r.clock.now())
        await r.tick()
        if r.failure:
            break
    assert r.failure is not None and "failed before any became ready" in r.failure
    assert "hedge logs svc --replica" in r.failure
    assert r.store.service().status is ServiceStatus.FAILED  # type: ignore[union-attr]


async def test_autoscaler_follows_the_gateway_counter(tmp_path: Path) -> None:
    gateway, clock = FakeGateway(), StepClock()
    config = AutoscalerConfig(min_replicas=1, max_replicas=4, target_qps_per_replica=2.0,
                              upscale_delay_s=5.0, downscale_delay_s=60.0)
    r = make(tmp_path, FakeProvider(), FakeProber(), gateway=gateway, autoscaler=config,
             clock=clock)
    for _ in range(12):  # 7 requests/s: ceil(7 / 2) = 4 replicas, after the 5 s delay
        gateway.requests_total += 7
        await r.tick()
        clock.t += 1.0
    assert r.scaler.target == 4
    targets = [e.detail for e in r.store.events() if e.kind is EventKind.TARGET]
    assert targets == ["N_tar 1 -> 4 at 7.00 requests/s"]


async def test_gateway_gets_ready_replicas_and_draining_ones_marked(tmp_path: Path) -> None:
    provider, prober, gateway = FakeProvider(), FakeProber(), FakeGateway()
    r = make(tmp_path, provider, prober, target=1, gateway=gateway)
    await r.tick()
    assert gateway.pushes == [()]  # nothing ready yet
    prober.ready = {int(q.replica) for q in provider.launched}
    await r.tick()  # both ready; the on-demand one is no longer needed and drains
    last = {(g.id, g.draining) for g in gateway.pushes[-1]}
    spot = next(int(q.replica) for q in provider.launched if q.is_spot)
    on_demand = next(int(q.replica) for q in provider.launched if not q.is_spot)
    assert last == {(spot, False), (on_demand, True)}
    await r.tick()  # the on-demand instance is gone now
    assert {g.id for g in gateway.pushes[-1]} == {spot}
