"""One tick's observations folded into replica rows: a pure function, no clock, no I/O.

Inputs: the live replica rows, the provider's view of each instance (from `observe`), the
provider events since the last tick, and the probe results that arrived. Outputs: the rows that
changed, the zone events for the policy (in the order they happened), and timeline entries.

Rules, in order:
1. Provider events. A preemption notice moves the replica to draining (hidden from the policy;
   the gateway keeps routing to it until `grace_s` before the kill, see
   `ReplicaRecord.serves_through_notice`) and gives the policy a PREEMPTED zone event at once,
   so the replacement starts during the notice. The kill that follows ends it as preempted without a
   second zone event. A launch refused after the fact fails it with a LAUNCH_FAILED zone event.
2. Instance states. provisioning + running -> starting. An instance that exited or is gone ends
   the replica: terminated if it was draining on purpose, preempted if it was draining under a
   notice, failed otherwise.
3. Probe results, by `probe.judge`; a spot replica that becomes ready gives a READY zone event.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from hedgeserve.control.lifecycle import ReplicaStatus
from hedgeserve.control.probe import judge
from hedgeserve.control.provider import EventKind as ProviderEventKind
from hedgeserve.control.provider import InstanceState, InstanceStatus, ProviderEvent
from hedgeserve.control.records import (
    NOTICE_REASON,
    EventKind,
    EventRecord,
    ReplicaRecord,
    replica_event,
)
from hedgeserve.core.replicas import ReplicaId, ZoneEvent, ZoneSignal
from hedgeserve.spec.probe import ProbeTimings

S = ReplicaStatus
_NOTICEABLE = frozenset({S.PROVISIONING, S.STARTING, S.READY, S.NOT_READY, S.DRAINING})


@dataclass(slots=True)
class Folded:
    changed: dict[ReplicaId, ReplicaRecord] = field(default_factory=dict)
    zone_events: list[ZoneEvent] = field(default_factory=list)
    timeline: list[EventRecord] = field(default_factory=list)


def fold(
    records: Sequence[ReplicaRecord],
    *,
    instances: Mapping[ReplicaId, InstanceState],
    events: Sequence[ProviderEvent],
    probes: Mapping[ReplicaId, bool],
    now: float,
    timings: ProbeTimings,
) -> Folded:
    out = _Fold(records, now)
    for event in events:
        out.provider_event(event)
    for rid, state in instances.items():
        out.instance_state(rid, state)
    for rid, ok in probes.items():
        out.probe(rid, ok, timings)
    return out.result


class _Fold:
    def __init__(self, records: Sequence[ReplicaRecord], now: float) -> None:
        self.now = now
        self.current = {r.id: r for r in records}
        self.result = Folded()

    def provider_event(self, event: ProviderEvent) -> None:
        r = self.current.get(event.replica)
        if r is None or not r.is_live:
            return  # late news about a replica that already ended
        kind = event.kind
        if kind is ProviderEventKind.PREEMPTION_NOTICE:
            if r.status not in _NOTICEABLE or r.notice_deadline is not None:
                return
            deadline = event.deadline if event.deadline is not None else self.now
            if r.status is S.DRAINING:  # leaving anyway (scale-down); the zone news still counts
                new = replace(r, notice_deadline=deadline)
            else:
                new = r.moved_to(S.DRAINING, notice_deadline=deadline, reason=NOTICE_REASON)
            self._set(new, EventKind.NOTICE, f"will be preempted in {deadline - self.now:.1f} s")
            self._zone(new, ZoneSignal.PREEMPTED)
        elif kind is ProviderEventKind.PREEMPTED:
            self._end(r, S.PREEMPTED, EventKind.PREEMPTED, event.detail or "preempted")
            if r.notice_deadline is None:
                self._zone(r, ZoneSignal.PREEMPTED)
        elif kind is ProviderEventKind.LAUNCH_FAILED:
            self._end(r, S.FAILED, EventKind.LAUNCH_FAILED, event.detail or "no spot capacity")
            self._zone(r, ZoneSignal.LAUNCH_FAILED)
        else:
            self._gone(r, event.detail or "exited")

    def instance_state(self, rid: ReplicaId, state: InstanceState) -> None:
        r = self.current.get(rid)
        if r is None or not r.is_live:
            return
        if state.status is InstanceStatus.RUNNING:
            if r.status is S.PROVISIONING:
                self._set(r.moved_to(S.STARTING), EventKind.STATE, "running; probing readiness")
        elif state.status in (InstanceStatus.EXITED, InstanceStatus.GONE):
            self._gone(r, state.detail or state.status.value)

    def probe(self, rid: ReplicaId, ok: bool, timings: ProbeTimings) -> None:
        r = self.current.get(rid)
        if r is None or not r.is_live:
            return
        if ok and r.status is S.READY and r.failing_since is None:
            return  # the common case: ready and still passing
        new = judge(r, ok, self.now, timings)
        if new == r:
            return
        if new.status is r.status:  # only the failing streak moved
            self.current[rid] = new
            self.result.changed[rid] = new
            return
        detail = new.status.value if new.status is not S.FAILED else new.reason
        self._set(new, EventKind.ENDED if new.status is S.FAILED else EventKind.STATE, detail)
        if new.status is S.READY:
            self._zone(new, ZoneSignal.READY)

    def _gone(self, r: ReplicaRecord, detail: str) -> None:
        if r.status is S.DRAINING and r.notice_deadline is not None:
            self._end(r, S.PREEMPTED, EventKind.PREEMPTED, f"preempted ({detail})")
        elif r.status is S.DRAINING:
            self._end(r, S.TERMINATED, EventKind.ENDED, f"terminated ({detail})", keep_reason=True)
        elif r.status is not S.PENDING:
            self._end(r, S.FAILED, EventKind.ENDED, f"instance {detail}")

    def _end(
        self,
        r: ReplicaRecord,
        status: ReplicaStatus,
        kind: EventKind,
        detail: str,
        *,
        keep_reason: bool = False,
    ) -> None:
        reason = r.reason if keep_reason and r.reason else detail
        self._set(r.moved_to(status, ended_at=self.now, reason=reason), kind, detail)

    def _set(self, new: ReplicaRecord, kind: EventKind, detail: str) -> None:
        self.current[new.id] = new
        self.result.changed[new.id] = new
        self.result.timeline.append(replica_event(self.now, kind, new, detail))

    def _zone(self, r: ReplicaRecord, signal: ZoneSignal) -> None:
        if r.is_spot:
            self.result.zone_events.append(ZoneEvent(r.zone, signal, self.now))
