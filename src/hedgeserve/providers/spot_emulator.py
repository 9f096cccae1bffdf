"""The spot emulator: a real spot-capacity trace replayed, time-compressed, over local replicas.

`TraceClock` maps wall time to trace time: trace_s = start_s + (wall - epoch) x time_scale. Its
epoch is kept in the state dir (`emulator.json`), so after a controller restart trace time goes
on where it was instead of starting over.

`EmulatedSpotProvider` wraps a `LocalProvider` and enforces the trace, as the simulator's cloud
does (docs/live.md):
- a spot launch into a zone whose spot instances already reach its current capacity fails with
  `CapacityUnavailable`; on-demand launches always succeed;
- when a zone's capacity drops below its spot instances, the excess — chosen at random, seeded
  by (seed, zone, trace tick), so a restart picks the same ones — gets a preemption notice:
  a PREEMPTION_NOTICE event with the deadline, while the instance runs on as on AWS (the
  controller decides when it drains); at the deadline (`notice_seconds` later) the replica's
  group is SIGKILLed and PREEMPTED is sent. A noticed replica that exits before the deadline
  (the controller stopped it) is reported preempted too.
- notices given are kept in `notices_file`, so a restarted controller's emulator kills the
  same replica at the same deadline instead of drawing another victim;
- prices: the trace's spot price at the current tick (1.0 when it has none) and its on-demand
  list price (else 3x the zone's mean spot price, the SkyServe paper's k).
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from hedgeserve.control.clock import Wakeup
from hedgeserve.control.provider import (
    CapacityUnavailable,
    EventKind,
    Instance,
    InstanceHandle,
    InstanceState,
    InstanceStatus,
    LaunchRequest,
    ProviderEvent,
)
from hedgeserve.control.state_dir import read_json, write_json
from hedgeserve.core.replicas import ReplicaId
from hedgeserve.core.zones import ZoneId, ZoneOffer
from hedgeserve.providers.local import LocalHandle, LocalProvider
from hedgeserve.traces.model import Trace

log = logging.getLogger("hedgeserve.providers")
ON_DEMAND_RATIO = 3.0  # on-demand / mean spot price when the trace has no list prices


@dataclass(frozen=True, slots=True)
class TraceClock:
    epoch_unix: float  # the wall time at which trace time is `start_s`
    start_s: float
    time_scale: float  # trace seconds per wall second

    def trace_s(self, wall: float) -> float:
        return self.start_s + (wall - self.epoch_unix) * self.time_scale

    def wall(self, trace_s: float) -> float:
        return self.epoch_unix + (trace_s - self.start_s) / self.time_scale


class CapacityTable:
    """Capacity and prices per zone over trace time (the trace wraps around at its end)."""

    def __init__(self, trace: Trace) -> None:
        self.trace = trace
        self.zones = trace.zones
        # the trace's list prices where it has them, else ON_DEMAND_RATIO × its mean spot price
        ratio = None if trace.on_demand_price is not None else ON_DEMAND_RATIO
        self._spot, on_demand = trace.resolved_prices(ratio)
        self._on_demand = [float(p) for p in on_demand]

    def tick(self, trace_s: float) -> int:
        return int(trace_s // self.trace.gap_s)

    def capacity(self, zone: int, tick: int) -> int:
        return int(self.trace.capacity[zone, tick % self.trace.n_ticks])

    def offers(self, tick: int) -> tuple[ZoneOffer, ...]:
        k = tick % self.trace.n_ticks
        return tuple(
            ZoneOffer(z, float(self._spot[i, k]), self._on_demand[i])
            for i, z in enumerate(self.zones)
        )


class EmulatedSpotProvider:
    def __init__(
        self,
        inner: LocalProvider,
        *,
        table: CapacityTable,
        clock: TraceClock,
        notice_s: float,
        seed: int,
        wakeup: Wakeup,
        now: Callable[[], float] = time.time,
        notices_file: Path | None = None,
    ) -> None:
        self.inner = inner
        self.table = table
        self.clock = clock
        self.notice_s = notice_s
        self.seed = seed
        self._wakeup = wakeup
        self._now = now
        self._zone_index = {z: i for i, z in enumerate(table.zones)}
        self._spot: dict[ReplicaId, LocalHandle] = {}  # live spot instances we know of
        self._handles: dict[ReplicaId, InstanceHandle] = {}
        self._notices_file = notices_file
        self._noticed: dict[ReplicaId, float] = self._load_notices()  # replica -> deadline (wall)
        self._events: list[ProviderEvent] = []
        self._task: asyncio.Task[None] | None = None

    # --- Provider ------------------------------------------------------------------------

    def offers(self) -> tuple[ZoneOffer, ...]:
        return self.table.offers(self._tick())

    async def start(self) -> None:
        await self.inner.start()
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._replay())

    async def launch(self, request: LaunchRequest) -> Instance:
        if request.is_spot:
            zone = self._zone_index.get(request.zone)
            if zone is None:
                raise CapacityUnavailable(request.zone, "not a zone of the emulated trace")
            capacity = self.table.capacity(zone, self._tick())
            held = len(self._calm(request.zone))
            if held >= capacity:
                raise CapacityUnavailable(
                    request.zone, f"no spot capacity (trace: {capacity}, held: {held})")
        instance = await self.inner.launch(request)
        self._remember(instance.replica, instance.handle)
        return instance

    async def terminate(self, handle: InstanceHandle, *, grace_s: float) -> None:
        await self.inner.terminate(handle, grace_s=grace_s)

    async def observe(self, handles: Mapping[ReplicaId, InstanceHandle]
                      ) -> dict[ReplicaId, InstanceState]:
        for rid, handle in handles.items():
            self._remember(rid, handle)
        states = await self.inner.observe(handles)
        for rid, state in states.items():
            if state.status in (InstanceStatus.EXITED, InstanceStatus.GONE):
                self._ended(rid, state.detail or state.status.value)
        return states

    async def instances(self) -> tuple[Instance, ...]:
        found = await self.inner.instances()
        for inst in found:
            self._remember(inst.replica, inst.handle)
        return found

    def poll_events(self) -> list[ProviderEvent]:
        for event in self.inner.poll_events():
            if event.kind is EventKind.EXITED and event.replica in self._noticed:
                self._ended(event.replica, event.detail)  # leaving under notice = preempted
            else:
                if event.kind is EventKind.EXITED:
                    self._forget(event.replica)
                self._events.append(event)
        out, self._events = self._events, []
        return out

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        await self.inner.close()

    # --- the replay ----------------------------------------------------------------------

    def enforce(self, now: float) -> None:
        """Notice the excess spot replicas of every zone over capacity; kill those whose
        notice ran out. Called at each trace tick and each deadline."""
        for rid, deadline in sorted(self._noticed.items()):
            if deadline <= now and rid in self._handles:
                self.inner.kill(self._handles[rid])
                self._ended(rid, f"killed at the end of its {self.notice_s:g} s notice")
        tick = self._tick(now)
        for zone, index in self._zone_index.items():
            calm = self._calm(zone)
            excess = len(calm) - self.table.capacity(index, tick)
            if excess <= 0:
                continue
            rng = random.Random(f"{self.seed}/{zone}/{tick}")
            for rid in rng.sample(calm, excess):
                self._notice(rid, now)

    def _notice(self, rid: ReplicaId, now: float) -> None:
        deadline = now + self.notice_s
        self._noticed[rid] = deadline
        self._save_notices()
        log.info("replica %s: preemption notice, killed at +%.1f s", rid, self.notice_s)
        self._events.append(ProviderEvent(EventKind.PREEMPTION_NOTICE, rid, now, deadline=deadline))
        if self.notice_s <= 0:
            self.inner.kill(self._handles[rid])
            self._ended(rid, "preempted without notice")
        self._wakeup.set()

    async def _replay(self) -> None:
        while True:
            now = self._now()
            self.enforce(now)
            next_tick = self.clock.wall((self._tick(now) + 1) * self.table.trace.gap_s)
            wake = min([next_tick, *self._noticed.values()])
            await asyncio.sleep(max(0.01, wake - self._now()))

    # --- bookkeeping ---------------------------------------------------------------------

    def _calm(self, zone: ZoneId) -> list[ReplicaId]:
        """The spot replicas of `zone` not under a notice (those count against its capacity),
        in id order so that a seeded sample picks the same victims after a restart."""
        return sorted(r for r, h in self._spot.items() if h.zone == zone and r not in self._noticed)

    def _tick(self, now: float | None = None) -> int:
        return self.table.tick(self.clock.trace_s(self._now() if now is None else now))

    def _remember(self, rid: ReplicaId, handle: InstanceHandle) -> None:
        if rid in self._handles:
            return
        h = LocalHandle.decode(handle)
        self._handles[rid] = handle
        if h.is_spot:
            self._spot[rid] = h

    def _ended(self, rid: ReplicaId, detail: str) -> None:
        if rid in self._noticed:
            self._events.append(ProviderEvent(EventKind.PREEMPTED, rid, self._now(), detail=detail))
            self._wakeup.set()
        self._forget(rid)

    def _forget(self, rid: ReplicaId) -> None:
        if self._noticed.pop(rid, None) is not None:
            self._save_notices()
        self._spot.pop(rid, None)
        self._handles.pop(rid, None)

    def _load_notices(self) -> dict[ReplicaId, float]:
        data = read_json(self._notices_file) if self._notices_file is not None else None
        return {  # none, or unreadable: the replay goes on from the trace
            ReplicaId(int(rid)): float(deadline)
            for rid, deadline in (data or {}).items()
            if rid.isdigit() and isinstance(deadline, int | float)
        }

    def _save_notices(self) -> None:
        if self._notices_file is not None:
            write_json(self._notices_file, {str(r): d for r, d in sorted(self._noticed.items())})
