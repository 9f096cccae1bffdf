"""Rows of the state store as frozen dataclasses: a replica, a timeline event, the service.

These are what the pure steps (`transitions`, `recovery`, `status`) take and return; the store
maps them to explicit SQLite columns (never pickles). Times are seconds on the controller's
clock (Unix time when live).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from hedgeserve.control.lifecycle import LIVE, ReplicaStatus, moved
from hedgeserve.control.provider import InstanceHandle
from hedgeserve.core.notice import notice_drain_at
from hedgeserve.core.replicas import ReplicaId
from hedgeserve.core.zones import ZoneId

NOTICE_REASON = "preemption notice"  # the reason of a replica moved to draining by a notice


@dataclass(frozen=True, slots=True)
class ReplicaRecord:
    id: ReplicaId
    zone: ZoneId
    is_spot: bool
    status: ReplicaStatus
    launched_at: float  # when the launch intent was written
    price_per_hour: float = 0.0  # the zone's price when launched
    handle: InstanceHandle | None = None
    pid: int | None = None
    port: int | None = None
    url: str | None = None
    ready_at: float | None = None  # first time it passed its readiness probe
    ended_at: float | None = None
    reason: str = ""  # why it was launched, or why it ended
    failing_since: float | None = None  # first failed probe of the current failing streak
    notice_deadline: float | None = None  # when a preemption notice says it will be killed

    @property
    def is_live(self) -> bool:
        return self.status in LIVE

    def notice_drain_at(self, grace_s: float) -> float | None:
        """When a replica serving through a preemption notice stops taking requests
        (`core.notice`); None for every other replica. Only one that was serving (ready,
        probes passing) when the notice came serves through it: one still starting, or already
        leaving for a scale-down, is never routed again."""
        if (
            self.status is ReplicaStatus.DRAINING
            and self.notice_deadline is not None
            and self.reason == NOTICE_REASON
            and self.ready_at is not None
            and self.failing_since is None
        ):
            return notice_drain_at(self.notice_deadline, grace_s)
        return None

    def serves_through_notice(self, now: float, grace_s: float) -> bool:
        drain_at = self.notice_drain_at(grace_s)
        return drain_at is not None and now < drain_at

    def drained_end(self, now: float) -> ReplicaRecord:
        """A draining replica whose instance is gone: preempted if a notice drained it,
        terminated if we stopped it."""
        noticed = self.notice_deadline is not None
        return self.moved_to(
            ReplicaStatus.PREEMPTED if noticed else ReplicaStatus.TERMINATED, ended_at=now)

    def stopped(self, now: float, reason: str) -> ReplicaRecord:
        """Stopped on purpose: one never launched ends at once, any other drains first."""
        if self.status is ReplicaStatus.PENDING:
            return self.moved_to(ReplicaStatus.TERMINATED, ended_at=now, reason=reason)
        return self.moved_to(ReplicaStatus.DRAINING, reason=reason)

    def moved_to(self, status: ReplicaStatus, **changes: Any) -> ReplicaRecord:
        """This record in `status` (checked against the lifecycle table), with other changes."""
        return replace(self, status=moved(self.status, status), **changes)


class EventKind(StrEnum):
    """Timeline entries, as `hedge events` lists them."""

    SERVICE = "service"  # controller started, recovered, failed, down
    TARGET = "target"  # the autoscaler changed N_tar
    ZONES = "zones"  # SpotHedge's active/preempted zone sets changed
    LAUNCH = "launch"  # a launch intent, with the policy's reason (fallback shows here)
    LAUNCH_FAILED = "launch_failed"
    STATE = "state"  # a replica changed state (ready, not_ready, ...)
    NOTICE = "preemption_notice"
    PREEMPTED = "preempted"
    TERMINATE = "terminate"  # a terminate decision, with its reason
    ENDED = "ended"  # terminated or failed
    ADOPTED = "adopted"  # found alive after a controller restart
    ORPHAN = "orphan"  # an instance nothing owned, terminated after a restart
    GATEWAY = "gateway"


@dataclass(frozen=True, slots=True)
class EventRecord:
    at: float
    kind: EventKind
    detail: str
    replica: ReplicaId | None = None
    zone: ZoneId | None = None
    is_spot: bool | None = None
    seq: int | None = None  # assigned by the store


def replica_event(at: float, kind: EventKind, row: ReplicaRecord, detail: str) -> EventRecord:
    """A timeline entry about one replica, carrying its zone and spot flag for `hedge events`."""
    return EventRecord(at, kind, detail, row.id, row.zone, row.is_spot)


@dataclass(frozen=True, slots=True)
class GatewayRecord:
    pid: int | None
    pid_started: str | None  # the process's start time, so a reused pid is not mistaken for it
    port: int | None
    admin_port: int | None
    endpoint: str | None


class ServiceStatus(StrEnum):
    STARTING = "starting"  # no replica has been ready yet
    READY = "ready"  # at least N_tar replicas are ready
    DEGRADED = "degraded"  # some, but fewer than N_tar, replicas are ready
    NO_REPLICA = "no_replica"  # none ready, after some had been
    FAILED = "failed"  # a terminal error; see `failure`
    SHUTTING_DOWN = "shutting_down"
    DOWN = "down"  # every replica terminated by `hedge down`
    CONTROLLER_DOWN = "controller_down"  # derived by readers: the controller process is gone


@dataclass(frozen=True, slots=True)
class ServiceRecord:
    name: str
    status: ServiceStatus
    spec_text: str
    spec_dir: str  # relative paths in the spec resolve against this folder
    spec_path: str
    created_at: float
    updated_at: float
    target: int = 0
    on_demand_reference_per_hour: float = 0.0  # N_tar x the cheapest on-demand price
    next_replica_id: int = 1
    policy_state: str | None = None  # JSON
    autoscaler_state: str | None = None  # JSON
    failure: str | None = None
    controller_pid: int | None = None
    controller_started: str | None = None
    api_port: int | None = None
    gateway: GatewayRecord = GatewayRecord(None, None, None, None, None)
