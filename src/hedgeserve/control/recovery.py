"""After a controller restart: match stored replica rows with the instances the provider finds.

Pure (`plan_recovery`): rows of live replicas and the provider's tagged instances in, a plan out.
- A live row whose instance exists is adopted. A `pending` row (the intent was written, the
  controller died before storing the handle) takes the found instance's handle.
- A live row without an instance ended while nobody watched: a `pending` one was never launched
  (terminated), a draining one finished leaving (terminated or preempted, as `transitions`
  decides), any other failed ("instance gone while the controller was down").
- An instance without a live row is an orphan (its row ended, or it has none at all) and is
  terminated. That is the "never leak a replica" half; adoption is the "never lose the service"
  half.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from hedgeserve.control.lifecycle import ReplicaStatus
from hedgeserve.control.provider import Instance
from hedgeserve.control.records import EventKind, EventRecord, ReplicaRecord, replica_event

S = ReplicaStatus


@dataclass(slots=True)
class RecoveryPlan:
    adopted: list[ReplicaRecord] = field(default_factory=list)
    ended: list[ReplicaRecord] = field(default_factory=list)
    orphans: list[Instance] = field(default_factory=list)
    timeline: list[EventRecord] = field(default_factory=list)

    def summary(self) -> str:
        return (f"adopted {len(self.adopted)} replica(s), {len(self.ended)} ended while the "
                f"controller was down, {len(self.orphans)} orphan instance(s) terminated")


def plan_recovery(
    rows: Sequence[ReplicaRecord], instances: Sequence[Instance], *, now: float
) -> RecoveryPlan:
    plan = RecoveryPlan()
    found = {i.replica: i for i in instances}
    for row in rows:
        if not row.is_live:
            continue
        inst = found.pop(row.id, None)
        if inst is not None:
            adopted = row
            if row.status is S.PENDING:
                adopted = row.moved_to(
                    S.PROVISIONING, handle=inst.handle, pid=inst.pid, port=inst.port, url=inst.url
                )
            plan.adopted.append(adopted)
            plan.timeline.append(replica_event(now, EventKind.ADOPTED, adopted,
                                        f"{adopted.status.value}, pid {inst.pid}"))
            continue
        ended = _ended(row, now)
        plan.ended.append(ended)
        plan.timeline.append(replica_event(now, EventKind.ENDED, ended, ended.reason))
    for inst in found.values():
        plan.orphans.append(inst)
        plan.timeline.append(EventRecord(
            now, EventKind.ORPHAN, f"instance of replica {inst.replica} (pid {inst.pid}) has no "
            "live row; terminating it", inst.replica,
        ))  # fmt: skip
    return plan


def _ended(row: ReplicaRecord, now: float) -> ReplicaRecord:
    if row.status is S.PENDING:
        return row.moved_to(S.TERMINATED, ended_at=now,
                            reason="never launched: the controller stopped first")
    if row.status is S.DRAINING:
        return row.drained_end(now)
    return row.moved_to(S.FAILED, ended_at=now,
                        reason="instance gone while the controller was down")
