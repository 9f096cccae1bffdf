"""The reconcile tick against fakes: intents before effects, restart without duplicates, error
classes, fail-fast, the autoscaler fed by the gateway's counter, and what the gateway gets."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from tests.control.fakes import ZONES, FakeGateway, FakeProber, FakeProvider

from hedgeserve.control.clock import ManualClock, Wakeup
from hedgeserve.control.lifecycle import ReplicaStatus
from hedgeserve.control.policy_setup import decode_policy_state
from hedgeserve.control.provider import (
    CapacityUnavailable,
    LaunchRequest,
    PermanentProviderError,
    ProviderEvent,
    TransientProviderError,
)
from hedgeserve.control.provider import EventKind as ProviderEventKind
from hedgeserve.control.reconcile import LoopSettings, Reconciler
from hedgeserve.control.records import EventKind, ReplicaRecord, ServiceRecord, ServiceStatus
from hedgeserve.control.store import Store
from hedgeserve.core.autoscale import AutoscalerConfig
from hedgeserve.core.spothedge import SpotHedge
from hedgeserve.core.zones import ZoneId, ZoneOffer
from hedgeserve.spec.probe import ProbeTimings

S = ReplicaStatus
T = ProbeTimings(initial_delay_s=60.0, timeout_s=1.0, period_s=1.0, failure_threshold_s=10.0)
A, B = ZoneId("local/east/a"), ZoneId("local/east/b")


def make(tmp_path: Path, provider: FakeProvider, prober: FakeProber, *, target: int = 2,
         extra: int = 0, gateway: FakeGateway | None = None,
         autoscaler: AutoscalerConfig | None = None,
         clock: ManualClock | None = None) -> Reconciler:
    store = Store.writer(tmp_path / "state.db", tmp_path / "writer.lock")
    if store.service() is None:
        store.create_service(ServiceRecord("svc", ServiceStatus.STARTING, "", "", "", 0.0, 0.0))
    return Reconciler(
        store=store, provider=provider, prober=prober, policy=SpotHedge(extra=extra),
        autoscaler=autoscaler or AutoscalerConfig(target, target), timings=T,
        clock=clock or ManualClock(), wakeup=Wakeup(), gateway=gateway,
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
    clock = ManualClock()
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
    gateway, clock = FakeGateway(), ManualClock()
    config = AutoscalerConfig(min_replicas=1, max_replicas=4, target_qps_per_replica=2.0,
                              upscale_delay_s=5.0, downscale_delay_s=60.0)
    r = make(tmp_path, FakeProvider(), FakeProber(), gateway=gateway, autoscaler=config,
             clock=clock)
    for _ in range(12):  # 7 requests/s: ceil(7 / 2) = 4 replicas, after the 5 s delay
        gateway.requests_total += 7
        await r.tick()
        clock.t += 1.0
    assert r.scaler.target == 4
    assert r.store.service().target == 4  # type: ignore[union-attr]
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


def fail_next_commit(store: Store) -> None:
    """The store's next commit raises (a full disk, say); the one after works again."""
    real = store.commit

    def commit(**rows: Any) -> None:
        store.commit = real  # type: ignore[method-assign]
        raise sqlite3.OperationalError("disk I/O error")

    store.commit = commit  # type: ignore[method-assign]


def stored_state(r: Reconciler) -> object:
    service = r.store.service()
    assert service is not None
    return decode_policy_state(service.policy_state, r.policy, r.provider.offers())


async def test_a_failed_commit_keeps_the_carried_launch_failure(tmp_path: Path) -> None:
    provider = FakeProvider(fail_next=[CapacityUnavailable(A)])  # the spot launch goes to A
    r = make(tmp_path, provider, FakeProber(), target=1)
    await r.tick()  # A refused: a LAUNCH_FAILED zone event carried to the next tick
    before = r.state
    fail_next_commit(r.store)
    with pytest.raises(sqlite3.OperationalError):
        await r.tick()
    assert r.state == before == stored_state(r)  # nothing moved ahead of the store
    await r.tick()  # the retried tick still knows A refused
    assert A in r.state.preempted and r.state == stored_state(r)
    assert [q.zone for q in provider.launched if q.is_spot] == [B]


async def test_a_failed_commit_keeps_the_polled_preemption_notice(tmp_path: Path) -> None:
    # Three zones, so a preempted one stays marked (with two, SpotHedge clears the marks).
    provider = FakeProvider(zones=(*ZONES, ZoneOffer(ZoneId("local/east/c"), 2.0, 3.0)))
    prober = FakeProber()
    r = make(tmp_path, provider, prober, target=1)
    await r.tick()
    prober.ready = {int(q.replica) for q in provider.launched}
    await r.tick()  # ready; the on-demand fallback drains
    await r.tick()
    (spot,) = [row for row in r.store.live_replicas() if row.is_spot]
    now = r.clock.now()
    provider.events.append(ProviderEvent(ProviderEventKind.PREEMPTION_NOTICE, spot.id, now,
                                         deadline=now + 30))
    fail_next_commit(r.store)
    with pytest.raises(sqlite3.OperationalError):
        await r.tick()
    assert provider.events == []  # polled (drained) by the failed tick
    await r.tick()
    row = r.store.replica(spot.id)
    assert row is not None and row.status is S.DRAINING and row.notice_deadline == now + 30
    assert spot.zone in r.state.preempted and r.state == stored_state(r)
    assert any(e.kind is EventKind.NOTICE and e.replica == spot.id for e in r.store.events())


async def notice_served_spot(
    tmp_path: Path, *, serving: bool, notice_s: float
) -> tuple[Reconciler, FakeProvider, FakeGateway, ReplicaRecord, float]:
    """One spot replica (target 1), ready and alone if `serving`, else still starting, gets a
    preemption notice of `notice_s`; returns the loop, its fakes, the replica and the notice
    time. The next tick reads the notice."""
    provider, prober, gateway = FakeProvider(), FakeProber(), FakeGateway()
    r = make(tmp_path, provider, prober, target=1, gateway=gateway)
    await r.tick()
    if serving:
        prober.ready = {int(q.replica) for q in provider.launched}
        await r.tick()
        await r.tick()  # the on-demand fallback is released
    (spot,) = [row for row in r.store.live_replicas() if row.is_spot]
    now = r.clock.now()
    provider.events.append(ProviderEvent(ProviderEventKind.PREEMPTION_NOTICE, spot.id, now,
                                         deadline=now + notice_s))
    return r, provider, gateway, spot, now


def routed(gateway: FakeGateway, replica: ReplicaRecord) -> bool:
    """Whether the last replica set pushed to the gateway takes new requests for `replica`."""
    return {g.id: not g.draining for g in gateway.pushes[-1]}[int(replica.id)]


async def test_a_noticed_replica_serves_until_grace_before_its_kill(tmp_path: Path) -> None:
    # AWS gives 120 s of notice; with a 30 s grace the replica keeps taking requests for 90 s
    # while its replacement starts, then drains with the 30 s left.
    r, provider, gateway, spot, notice_at = await notice_served_spot(
        tmp_path, serving=True, notice_s=120)
    clock = r.clock
    assert isinstance(clock, ManualClock)
    launched_before = len(provider.launched)
    await r.tick()
    assert len(provider.launched) == launched_before + 2  # replacement + on-demand fallback
    assert routed(gateway, spot) is True
    assert spot.id not in provider.terminated
    clock.t = notice_at + 89
    await r.tick()
    assert routed(gateway, spot) is True and spot.id not in provider.terminated
    clock.t = notice_at + 91
    await r.tick()
    assert routed(gateway, spot) is False
    assert spot.id in provider.terminated


async def test_a_notice_shorter_than_the_grace_drains_at_once(tmp_path: Path) -> None:
    # GCP's 30 s would do the same
    r, provider, gateway, spot, _ = await notice_served_spot(tmp_path, serving=True, notice_s=20)
    await r.tick()
    assert routed(gateway, spot) is False
    assert spot.id in provider.terminated


async def test_a_replica_noticed_while_starting_is_never_routed(tmp_path: Path) -> None:
    r, provider, gateway, spot, now = await notice_served_spot(
        tmp_path, serving=False, notice_s=120)
    await r.tick()
    row = r.store.replica(spot.id)
    assert row is not None and row.status is S.DRAINING
    assert not row.serves_through_notice(now, 30.0)
    assert all(g.draining for push in gateway.pushes for g in push if g.id == int(spot.id))
    assert spot.id in provider.terminated
