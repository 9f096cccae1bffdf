"""Folding a tick's observations into replica rows and zone events (pure)."""

from __future__ import annotations

from hedgeserve.control.lifecycle import ReplicaStatus
from hedgeserve.control.provider import (
    EventKind,
    InstanceHandle,
    InstanceState,
    InstanceStatus,
    ProviderEvent,
)
from hedgeserve.control.records import EventKind as Timeline
from hedgeserve.control.records import ReplicaRecord
from hedgeserve.control.transitions import fold
from hedgeserve.core.replicas import ReplicaId, ZoneEvent, ZoneSignal
from hedgeserve.core.zones import ZoneId
from hedgeserve.spec.probe import ProbeTimings

S = ReplicaStatus
Z = ZoneId("local/east/a")
T = ProbeTimings(initial_delay_s=60.0, timeout_s=1.0, period_s=1.0, failure_threshold_s=10.0)


def row(rid: int, status: ReplicaStatus, *, spot: bool = True, **kw: object) -> ReplicaRecord:
    return ReplicaRecord(ReplicaId(rid), Z, spot, status, launched_at=0.0,
                         handle=InstanceHandle(f"h{rid}"), url=f"http://r{rid}",
                         **kw)  # type: ignore[arg-type]


def test_notice_drains_at_once_and_tells_the_policy_once() -> None:
    r = row(1, S.READY, ready_at=5.0)
    notice = ProviderEvent(EventKind.PREEMPTION_NOTICE, r.id, 100.0, deadline=102.0)
    first = fold([r], instances={}, events=[notice], probes={}, now=100.0, timings=T)
    drained = first.changed[r.id]
    assert drained.status is S.DRAINING and drained.notice_deadline == 102.0
    assert first.zone_events == [ZoneEvent(Z, ZoneSignal.PREEMPTED, 100.0)]
    # The kill that follows ends it as preempted, without a second zone event.
    killed = ProviderEvent(EventKind.PREEMPTED, r.id, 102.0)
    second = fold([drained], instances={}, events=[killed], probes={}, now=102.0, timings=T)
    assert second.changed[r.id].status is S.PREEMPTED
    assert second.zone_events == []
    assert [e.kind for e in second.timeline] == [Timeline.PREEMPTED]


def test_only_a_replica_serving_when_noticed_serves_through_its_notice() -> None:
    serving = row(1, S.READY, ready_at=5.0)
    starting = row(2, S.STARTING)
    leaving = row(3, S.DRAINING, ready_at=5.0, reason="spot above target")  # scale-down first
    failing = row(4, S.READY, ready_at=5.0, failing_since=90.0)
    notices = [ProviderEvent(EventKind.PREEMPTION_NOTICE, r.id, 100.0, deadline=220.0)
               for r in (serving, starting, leaving, failing)]
    out = fold([serving, starting, leaving, failing], instances={}, events=notices, probes={},
               now=100.0, timings=T)
    serves = {rid: r.serves_through_notice(100.0, grace_s=30.0) for rid, r in out.changed.items()}
    assert serves == {serving.id: True, starting.id: False, leaving.id: False, failing.id: False}
    assert out.changed[serving.id].serves_through_notice(189.0, grace_s=30.0)
    assert not out.changed[serving.id].serves_through_notice(190.0, grace_s=30.0)


def test_exit_under_notice_is_a_preemption_and_exit_after_scale_down_a_termination() -> None:
    noticed = row(1, S.DRAINING, notice_deadline=50.0)
    scaled_down = row(2, S.DRAINING, reason="spot above target")
    gone = {noticed.id: InstanceState(InstanceStatus.EXITED, "exit code 0"),
            scaled_down.id: InstanceState(InstanceStatus.GONE)}
    out = fold([noticed, scaled_down], instances=gone, events=[], probes={}, now=49.0, timings=T)
    assert out.changed[noticed.id].status is S.PREEMPTED
    assert out.changed[scaled_down.id].status is S.TERMINATED
    assert out.changed[scaled_down.id].reason == "spot above target"  # why it was stopped


def test_crash_of_a_serving_replica_fails_it() -> None:
    r = row(3, S.READY, ready_at=1.0)
    out = fold([r], instances={r.id: InstanceState(InstanceStatus.EXITED, "exit code 1")},
               events=[], probes={}, now=9.0, timings=T)
    assert out.changed[r.id].status is S.FAILED
    assert out.changed[r.id].reason == "instance exit code 1"
    assert out.zone_events == []  # a crash says nothing about the zone's capacity


def test_launch_refused_later_fails_it_with_a_zone_event() -> None:
    r = row(4, S.PROVISIONING)
    refused = ProviderEvent(EventKind.LAUNCH_FAILED, r.id, 30.0)
    out = fold([r], instances={}, events=[refused], probes={}, now=30.0, timings=T)
    assert out.changed[r.id].status is S.FAILED
    assert out.zone_events == [ZoneEvent(Z, ZoneSignal.LAUNCH_FAILED, 30.0)]


def test_running_then_probe_passes_in_one_tick_gives_ready_and_a_zone_event() -> None:
    r = row(5, S.PROVISIONING)
    out = fold([r], instances={r.id: InstanceState(InstanceStatus.RUNNING)}, events=[],
               probes={r.id: True}, now=3.0, timings=T)
    ready = out.changed[r.id]
    assert ready.status is S.READY and ready.ready_at == 3.0
    assert out.zone_events == [ZoneEvent(Z, ZoneSignal.READY, 3.0)]
    assert [e.detail for e in out.timeline] == ["running; probing readiness", "ready"]


def test_on_demand_replicas_give_no_zone_events() -> None:
    r = row(6, S.STARTING, spot=False)
    out = fold([r], instances={}, events=[], probes={r.id: True}, now=3.0, timings=T)
    assert out.changed[r.id].status is S.READY
    assert out.zone_events == []


def test_late_news_about_an_ended_replica_is_ignored() -> None:
    r = row(7, S.TERMINATED, ended_at=1.0)
    news = ProviderEvent(EventKind.PREEMPTED, r.id, 5.0)
    out = fold([r], instances={}, events=[news], probes={r.id: False}, now=5.0, timings=T)
    assert out.changed == {} and out.zone_events == [] and out.timeline == []


def test_a_failing_probe_ends_serving_through_a_notice() -> None:
    r = row(1, S.READY, ready_at=5.0)
    notice = ProviderEvent(EventKind.PREEMPTION_NOTICE, r.id, 100.0, deadline=220.0)
    noticed = fold([r], instances={}, events=[notice], probes={}, now=100.0, timings=T)
    serving = noticed.changed[r.id]
    passing = fold([serving], instances={}, events=[], probes={r.id: True}, now=101.0, timings=T)
    assert passing.changed == {}  # still serving
    failing = fold([serving], instances={}, events=[], probes={r.id: False}, now=102.0, timings=T)
    hung = failing.changed[r.id]
    assert hung.status is S.DRAINING and hung.failing_since == 102.0
    assert not hung.serves_through_notice(102.0, grace_s=30.0)
