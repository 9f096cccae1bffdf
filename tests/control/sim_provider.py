"""The simulator's cloud behind the `Provider` protocol, with a fake clock that jumps to its
next event: the controller's loop runs over hours of trace in milliseconds, and sees exactly
what the simulator's policy sees (same capacity changes, same seeded preemption victims, same
cold starts and launch refusals)."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Mapping, Sequence

from hedgeserve.control.clock import Wakeup
from hedgeserve.control.probe import ProbeTarget
from hedgeserve.control.provider import (
    EventKind,
    Instance,
    InstanceHandle,
    InstanceState,
    InstanceStatus,
    LaunchRequest,
    ProviderEvent,
)
from hedgeserve.core.replicas import ReplicaId, ReplicaState
from hedgeserve.core.zones import ZoneOffer
from hedgeserve.sim.cloud import SimCloud
from hedgeserve.sim.event_queue import EventQueue, Kind
from hedgeserve.sim.pricing import PriceBook
from hedgeserve.traces.model import Trace


class SimProvider:
    def __init__(self, window: Trace, prices: PriceBook, *, seed: int, cold_start_s: float,
                 launch_failure_s: float, wakeup: Wakeup, notice_s: float = 0.0) -> None:
        self.queue = EventQueue()
        self.cloud = SimCloud(
            zones=window.zones, capacity=window.capacity, gap_s=window.gap_s, prices=prices,
            queue=self.queue, rng=random.Random(seed), cold_start_s=cold_start_s,
            launch_failure_s=launch_failure_s, notice_s=notice_s,
        )
        self.zone_index = {z: i for i, z in enumerate(window.zones)}
        self.now = 0.0
        self.wakeup = wakeup
        self.sim_id: dict[ReplicaId, int] = {}
        self.ours: dict[int, ReplicaId] = {}
        self._events: list[ProviderEvent] = []

    # --- Provider ------------------------------------------------------------------------
    def offers(self) -> tuple[ZoneOffer, ...]:
        return self.cloud.offers(self.now)

    async def start(self) -> None:
        return None

    async def launch(self, request: LaunchRequest) -> Instance:
        sim = self.cloud.launch(self.now, self.zone_index[request.zone], request.is_spot)
        self.sim_id[request.replica] = int(sim.id)
        self.ours[int(sim.id)] = request.replica
        return Instance(request.replica, InstanceHandle(str(sim.id)), f"http://sim/{sim.id}")

    async def terminate(self, handle: InstanceHandle, *, grace_s: float) -> None:
        replica = self.cloud.replicas.get(ReplicaId(int(handle)))
        if replica is not None:
            self.cloud.terminate(self.now, replica, self.now)

    async def observe(self, handles: Mapping[ReplicaId, InstanceHandle]
                      ) -> dict[ReplicaId, InstanceState]:
        out = {}
        for rid, handle in handles.items():
            sid = ReplicaId(int(handle))
            sim = self.cloud.replicas.get(sid) or self.cloud.noticed.get(sid)
            if sim is None:
                out[rid] = InstanceState(InstanceStatus.GONE)
            elif sim.holds_instance:
                out[rid] = InstanceState(InstanceStatus.RUNNING)
            else:
                out[rid] = InstanceState(InstanceStatus.PROVISIONING)
        return out

    async def instances(self) -> tuple[Instance, ...]:
        return tuple(
            Instance(self.ours[int(sid)], InstanceHandle(str(sid)), f"http://sim/{sid}")
            for sid in [*self.cloud.replicas, *self.cloud.noticed]
        )

    def poll_events(self) -> list[ProviderEvent]:
        out, self._events = self._events, []
        return out

    async def close(self) -> None:
        return None

    # --- the simulated world ---------------------------------------------------------------
    def next_event_at(self) -> float:
        return self.queue.peek_time()

    def advance(self, t: float) -> None:
        """Process the cloud's events up to and including time `t` (the simulator's order)."""
        self.now = t
        while self.queue.peek_time() <= t:
            at, kind, payload = self.queue.pop()
            if kind is Kind.CAPACITY:
                zone, capacity = payload  # type: ignore[misc]
                for victim in self.cloud.set_capacity(at, zone, capacity):
                    if victim.kill_at is None:
                        self._emit(EventKind.PREEMPTED, int(victim.id), at)
                    else:
                        self._emit(EventKind.PREEMPTION_NOTICE, int(victim.id), at,
                                   deadline=victim.kill_at)
            elif kind is Kind.KILL:
                victim = self.cloud.kill(at, ReplicaId(int(payload)))  # type: ignore[call-overload]
                self._emit(EventKind.PREEMPTED, int(victim.id), at)
            elif kind is Kind.READY:
                self.cloud.mark_ready(at, ReplicaId(int(payload)))  # type: ignore[arg-type]
            elif kind is Kind.LAUNCH_FAILED:
                sim_id = int(payload)  # type: ignore[call-overload]
                if self.cloud.fail_launch(at, ReplicaId(sim_id)) is not None:
                    self._emit(EventKind.LAUNCH_FAILED, sim_id, at)

    def _emit(self, kind: EventKind, sim_id: int, at: float,
              deadline: float | None = None) -> None:
        if sim_id in self.ours:
            self._events.append(ProviderEvent(kind, self.ours[sim_id], at, deadline=deadline))
            self.wakeup.set()


class SimProber:
    """Readiness as the simulated cloud knows it: ready once the cold start is over."""

    def __init__(self, provider: SimProvider) -> None:
        self.provider = provider

    async def results(self, targets: Sequence[ProbeTarget]) -> dict[ReplicaId, bool]:
        out = {}
        for t in targets:
            sim = self.provider.cloud.replicas.get(ReplicaId(self.provider.sim_id[t.replica]))
            out[t.replica] = sim is not None and sim.state is ReplicaState.READY
        return out

    async def close(self) -> None:
        return None


class JumpClock:
    """Fake time: a sleep ends at the provider's next event (or the sleep's end, or at once if
    woken), and the provider's world advances to that instant first."""

    def __init__(self, provider: SimProvider, horizon_s: float) -> None:
        self.provider = provider
        self.horizon_s = horizon_s
        self.t = 0.0
        self.stop = asyncio.Event()  # set once the horizon is reached

    def now(self) -> float:
        return self.t

    async def sleep(self, seconds: float, wakeup: Wakeup) -> None:
        target = self.t if wakeup.is_set() else self.t + seconds
        target = min(target, self.provider.next_event_at())
        if target >= self.horizon_s:
            self.stop.set()
            target = self.horizon_s
        self.t = target
        await wakeup.wait(0)
        self.provider.advance(target)
