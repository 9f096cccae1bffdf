"""`hedge down`: terminate every replica, stop the gateway, and check that nothing is left.

Run by the controller (asked through the control API) or, when no controller runs, by the CLI
itself holding the writer lock. What to stop is the union of the live rows' handles and the
instances the provider finds by tag, so an instance the store never heard of (a crash between
spawn and write) is stopped too. The check at the end asks the provider again and looks at the
gateway's process group; whatever is still alive is reported, never hidden.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from hedgeserve.control.gateway_link import stop_gateway
from hedgeserve.control.lifecycle import ReplicaStatus
from hedgeserve.control.process_identity import ProcessIdentity, group_members
from hedgeserve.control.provider import InstanceHandle, Provider
from hedgeserve.control.records import (
    EventKind,
    EventRecord,
    GatewayRecord,
    ReplicaRecord,
    ServiceStatus,
)
from hedgeserve.control.store import Store

S = ReplicaStatus


@dataclass(slots=True)
class TeardownReport:
    terminated: list[int] = field(default_factory=list)  # replica ids
    left: list[int] = field(default_factory=list)  # pids still alive after the wait

    @property
    def ok(self) -> bool:
        return not self.left

    def as_dict(self) -> dict[str, object]:
        return {"ok": self.ok, "terminated": self.terminated, "left": self.left}


async def tear_down(
    store: Store,
    provider: Provider,
    *,
    gateway: GatewayRecord | None,
    grace_s: float,
    now: float | None = None,
) -> TeardownReport:
    at = time.time() if now is None else now
    store.commit(
        events=[EventRecord(at, EventKind.SERVICE, "shutting down (hedge down)")],
        service={"status": ServiceStatus.SHUTTING_DOWN, "updated_at": at},
    )
    rows = store.live_replicas()
    handles: set[InstanceHandle] = {r.handle for r in rows if r.handle}
    handles |= {i.handle for i in await provider.instances()}
    store.commit(replicas=[_draining(r, at) for r in rows])
    await asyncio.gather(*(provider.terminate(h, grace_s=grace_s) for h in handles))
    deadline = time.monotonic() + grace_s + 5.0
    while time.monotonic() < deadline and await provider.instances():
        await asyncio.sleep(0.1)
    if gateway is not None:
        await stop_gateway(gateway, timeout_s=10.0)
    report = TeardownReport(terminated=sorted(int(r.id) for r in rows))
    report.left = sorted(i.pid for i in await provider.instances() if i.pid is not None)
    if gateway is not None and gateway.pid is not None:
        alive = ProcessIdentity(gateway.pid, gateway.pid_started).is_alive()
        report.left += group_members(gateway.pid) if alive else []
    end = time.time() if now is None else now
    ended = [_ended(r, end) for r in store.live_replicas()]
    detail = (f"down: {len(report.terminated)} replica(s) terminated, no process left"
              if report.ok else f"down, but processes are still alive: {report.left}")
    store.commit(
        replicas=ended,
        events=[EventRecord(end, EventKind.SERVICE, detail)],
        service={"status": ServiceStatus.DOWN, "updated_at": end, "endpoint": None},
    )
    return report


def _draining(r: ReplicaRecord, now: float) -> ReplicaRecord:
    return r if r.status is S.DRAINING else r.stopped(now, "hedge down")


def _ended(r: ReplicaRecord, now: float) -> ReplicaRecord:
    if r.status is S.DRAINING:
        return r.drained_end(now)
    return r.moved_to(S.TERMINATED, ended_at=now, reason="hedge down")
