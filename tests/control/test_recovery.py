"""After a restart: adopt, end, or terminate (pure plan)."""

from __future__ import annotations

from hedgeserve.control.lifecycle import ReplicaStatus
from hedgeserve.control.provider import Instance, InstanceHandle
from hedgeserve.control.records import ReplicaRecord
from hedgeserve.control.recovery import plan_recovery
from hedgeserve.core.replicas import ReplicaId
from hedgeserve.core.zones import ZoneId

S = ReplicaStatus
Z = ZoneId("local/east/a")


def row(rid: int, status: ReplicaStatus, **kw: object) -> ReplicaRecord:
    handle = None if status is S.PENDING else InstanceHandle(f"h{rid}")
    return ReplicaRecord(ReplicaId(rid), Z, True, status, launched_at=0.0, handle=handle,
                         **kw)  # type: ignore[arg-type]


def inst(rid: int) -> Instance:
    return Instance(ReplicaId(rid), InstanceHandle(f"found{rid}"), f"http://r{rid}", pid=1000 + rid,
                    port=2000 + rid)


def test_plan_covers_every_case() -> None:
    rows = [
        row(1, S.READY),  # alive -> adopted as is
        row(2, S.PENDING),  # intent written, instance started, handle never stored
        row(3, S.PENDING),  # intent written, never launched
        row(4, S.STARTING),  # instance died while nobody watched
        row(5, S.DRAINING, notice_deadline=9.0),  # killed at the end of its notice
        row(6, S.TERMINATED, ended_at=1.0),  # its instance outlived the row: orphan
    ]
    plan = plan_recovery(rows, [inst(1), inst(2), inst(6), inst(42)], now=10.0)
    adopted = {r.id: r for r in plan.adopted}
    assert adopted[ReplicaId(1)] == rows[0]
    assert adopted[ReplicaId(2)].status is S.PROVISIONING
    assert adopted[ReplicaId(2)].handle == "found2" and adopted[ReplicaId(2)].pid == 1002
    ended = {r.id: r.status for r in plan.ended}
    assert ended == {3: S.TERMINATED, 4: S.FAILED, 5: S.PREEMPTED}
    assert sorted(i.replica for i in plan.orphans) == [6, 42]
    assert plan.summary().startswith("adopted 2 replica(s), 3 ended")


def test_nothing_to_do_after_a_clean_stop() -> None:
    plan = plan_recovery([row(1, S.READY)], [inst(1)], now=5.0)
    assert plan.ended == [] and plan.orphans == [] and len(plan.adopted) == 1
