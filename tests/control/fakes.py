"""Small in-memory stand-ins for the controller's collaborators: a provider whose launches can
be made to fail, a prober that answers from a set, a gateway that records pushes and counts
requests. (The clock that only moves when told is `control.clock.ManualClock`.)"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from hedgeserve.control.gateway_link import GatewayReplica
from hedgeserve.control.probe import ProbeTarget
from hedgeserve.control.provider import (
    EventKind,
    Instance,
    InstanceHandle,
    InstanceState,
    InstanceStatus,
    LaunchRequest,
    ProviderError,
    ProviderEvent,
)
from hedgeserve.control.request_rate import CounterSample
from hedgeserve.core.replicas import ReplicaId
from hedgeserve.core.zones import ZoneId, ZoneOffer

ZONES = (ZoneOffer(ZoneId("local/east/a"), 1.0, 3.0), ZoneOffer(ZoneId("local/east/b"), 1.5, 3.0))


@dataclass
class FakeProvider:
    zones: tuple[ZoneOffer, ...] = ZONES
    running: dict[ReplicaId, LaunchRequest] = field(default_factory=dict)
    fail_next: list[ProviderError] = field(default_factory=list)  # raised by the next launches
    launched: list[LaunchRequest] = field(default_factory=list)
    terminated: list[ReplicaId] = field(default_factory=list)
    events: list[ProviderEvent] = field(default_factory=list)

    def offers(self) -> tuple[ZoneOffer, ...]:
        return self.zones

    async def start(self) -> None:
        return None

    async def launch(self, request: LaunchRequest) -> Instance:
        if self.fail_next:
            raise self.fail_next.pop(0)
        self.launched.append(request)
        self.running[request.replica] = request
        rid = int(request.replica)
        return Instance(request.replica, InstanceHandle(str(rid)), f"http://r{rid}", pid=rid)

    async def terminate(self, handle: InstanceHandle, *, grace_s: float) -> None:
        rid = ReplicaId(int(handle))
        if self.running.pop(rid, None) is not None:
            self.terminated.append(rid)

    async def observe(self, handles: Mapping[ReplicaId, InstanceHandle]
                      ) -> dict[ReplicaId, InstanceState]:
        return {rid: InstanceState(InstanceStatus.RUNNING if ReplicaId(int(h)) in self.running
                                   else InstanceStatus.GONE) for rid, h in handles.items()}

    async def instances(self) -> tuple[Instance, ...]:
        return tuple(Instance(rid, InstanceHandle(str(int(rid))), f"http://r{int(rid)}")
                     for rid in self.running)

    def poll_events(self) -> list[ProviderEvent]:
        out, self.events = self.events, []
        return out

    async def close(self) -> None:
        return None

    def crash(self, rid: int, at: float) -> None:
        """The replica's process exits on its own."""
        self.running.pop(ReplicaId(rid), None)
        self.events.append(
            ProviderEvent(EventKind.EXITED, ReplicaId(rid), at, detail="exit code 1"))


@dataclass
class FakeProber:
    ready: set[int] = field(default_factory=set)

    async def results(self, targets: Sequence[ProbeTarget]) -> dict[ReplicaId, bool]:
        return {t.replica: int(t.replica) in self.ready for t in targets}

    async def close(self) -> None:
        return None


@dataclass
class FakeGateway:
    requests_total: int = 0
    pushes: list[tuple[GatewayReplica, ...]] = field(default_factory=list)

    async def push(self, replicas: Sequence[GatewayReplica]) -> bool:
        self.pushes.append(tuple(replicas))
        return True

    async def counters(self, now: float) -> CounterSample | None:
        return CounterSample(now, 1.0, self.requests_total)

