"""The simulated cloud: spot capacity per zone from a trace, replicas, cost and an event log.

Model (documented in docs/simulator.md):
- A spot launch into a zone whose held spot instances already reach its capacity fails after
  `launch_failure_s` (the time a cloud takes to answer "no capacity"); otherwise it holds an
  instance at once and becomes ready after `cold_start_s`. On-demand launches always succeed.
- When a zone's capacity drops below the spot instances held there, randomly chosen ones
  (seeded) are preempted at that instant — launching ones included, they hold instances too.
  With a preemption notice (`notice_s` > 0) ready ones are *noticed* at that instant instead:
  they no longer count against the zone's capacity and the policy no longer sees them, but
  they keep their instance (and cost) until the cloud kills them `notice_s` later, as with the
  live spot emulator; ones still in their cold start end at once (the controller stops them).
- A replica costs its zone's price from the moment it holds an instance until it is preempted
  or terminated; a terminated ready replica drains first (the serving model says until when).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import numpy as np

from hedgeserve.core.replicas import ReplicaId, ReplicaState, ReplicaView
from hedgeserve.core.zones import ZoneId, ZoneOffer
from hedgeserve.sim.event_queue import EventQueue, Kind
from hedgeserve.sim.pricing import PriceBook


@dataclass(slots=True)
class SimReplica:
    id: ReplicaId
    zone: int  # index into the cloud's zones
    is_spot: bool
    launched_at: float
    state: ReplicaState = ReplicaState.LAUNCHING
    holds_instance: bool = False
    ready_at: float | None = None
    kill_at: float | None = None  # set by a preemption notice
    draining: bool = False  # noticed, and no longer taking new requests
    # serving state, owned by `serving.Serving`
    slots: list[float] = field(default_factory=list)
    outstanding: list[tuple[float, int, bool]] = field(default_factory=list)


# One row of the event log: (t, event, zone index or -1, replica id or -1, spot (1/0/-1),
# capacity — or the new N_tar on "target" rows — or -1)
LogRow = tuple[float, str, int, int, int, int]


class SimCloud:
    def __init__(
        self,
        *,
        zones: tuple[ZoneId, ...],
        capacity: np.ndarray,
        gap_s: float,
        prices: PriceBook,
        queue: EventQueue,
        rng: random.Random,
        cold_start_s: float,
        launch_failure_s: float,
        notice_s: float = 0.0,
    ) -> None:
        self.zones = zones
        self.gap_s = gap_s
        self.prices = prices
        self.queue = queue
        self.rng = rng
        self.cold_start_s = cold_start_s
        self.launch_failure_s = launch_failure_s
        self.notice_s = notice_s
        self.capacity = [int(c) for c in capacity[:, 0]]
        self.held = [0] * len(zones)  # spot instances held per zone
        self.replicas: dict[ReplicaId, SimReplica] = {}  # live replicas only
        self.noticed: dict[ReplicaId, SimReplica] = {}  # under a preemption notice
        self.log: list[LogRow] = []
        self.cost_usd = 0.0
        self.on_demand_cost_usd = 0.0
        self.launches = 0
        self.launch_failures = 0
        self.preemptions = 0
        self._next_id = 0
        for z, cap in enumerate(self.capacity):
            self.log.append((0.0, "capacity", z, -1, -1, cap))
        for z in range(len(zones)):
            row = capacity[z]
            for tick in np.flatnonzero(row[1:] != row[:-1]) + 1:
                queue.push(float(tick) * gap_s, Kind.CAPACITY, (z, int(row[tick])))

    # -- views for the policy -------------------------------------------------------------
    def offers(self, now: float) -> tuple[ZoneOffer, ...]:
        return tuple(
            ZoneOffer(z, self.prices.spot_at(i, now), self.prices.on_demand[i])
            for i, z in enumerate(self.zones)
        )

    def views(self) -> tuple[ReplicaView, ...]:
        return tuple(
            ReplicaView(r.id, self.zones[r.zone], r.is_spot, r.state, r.launched_at)
            for r in self.replicas.values()
        )

    # -- actions --------------------------------------------------------------------------
    def launch(self, now: float, zone: int, is_spot: bool) -> SimReplica:
        rid = ReplicaId(self._next_id)
        self._next_id += 1
        replica = SimReplica(rid, zone, is_spot, now)
        self.replicas[rid] = replica
        self.launches += 1
        self._log(now, "launch", replica)
        if is_spot and self.held[zone] >= self.capacity[zone]:
            self.queue.push(now + self.launch_failure_s, Kind.LAUNCH_FAILED, rid)
        else:
            replica.holds_instance = True
            if is_spot:
                self.held[zone] += 1
            self.queue.push(now + self.cold_start_s, Kind.READY, rid)
        return replica

    def terminate(self, now: float, replica: SimReplica, billed_until: float) -> None:
        """End a replica by decision; it is billed until `billed_until` (>= now when draining)."""
        self._end(now, replica, ReplicaState.TERMINATED, billed_until)
        self._log(now, "terminated", replica)

    # -- cloud events ---------------------------------------------------------------------
    def mark_ready(self, now: float, rid: ReplicaId) -> SimReplica | None:
        replica = self.replicas.get(rid)
        if replica is None or replica.state is not ReplicaState.LAUNCHING:
            return None  # preempted or terminated during its cold start
        replica.state = ReplicaState.READY
        replica.ready_at = now
        self._log(now, "ready", replica)
        return replica

    def fail_launch(self, now: float, rid: ReplicaId) -> SimReplica | None:
        replica = self.replicas.pop(rid, None)
        if replica is None:
            return None  # terminated while the launch was pending
        replica.state = ReplicaState.TERMINATED
        self.launch_failures += 1
        self._log(now, "launch_failed", replica)
        return replica

    def set_capacity(self, now: float, zone: int, capacity: int) -> list[SimReplica]:
        """Apply a capacity change; returns the replicas it preempts (or notices: those have
        `kill_at` set)."""
        self.capacity[zone] = capacity
        self.log.append((now, "capacity", zone, -1, -1, capacity))
        excess = self.held[zone] - capacity
        if excess <= 0:
            return []
        holders = [
            r for r in self.replicas.values() if r.zone == zone and r.is_spot and r.holds_instance
        ]
        victims = self.rng.sample(holders, excess)
        for replica in victims:
            self.preemptions += 1
            # one still in its cold start has nothing to serve: the controller stops it at once
            if self.notice_s > 0 and replica.state is ReplicaState.READY:
                self._notice(now, replica)
            else:
                self._end(now, replica, ReplicaState.PREEMPTED, now)
                self._log(now, "preempted", replica)
        return victims

    def kill(self, now: float, rid: ReplicaId) -> SimReplica:
        """A noticed replica's notice ran out: the cloud takes its instance."""
        replica = self.noticed.pop(rid)
        replica.state = ReplicaState.PREEMPTED
        self._bill(replica, now)
        replica.holds_instance = False
        self._log(now, "preempted", replica)
        return replica

    def log_draining(self, now: float, replica: SimReplica) -> None:
        """A noticed ready replica stopped taking new requests (it no longer counts as ready)."""
        self._log(now, "draining", replica)

    def log_target(self, now: float, target: int) -> None:
        """The service's N_tar changed (autoscaling); kept in the log for availability replays."""
        self.log.append((now, "target", -1, -1, -1, target))

    def close(self, horizon: float) -> None:
        """Bill every replica still alive at the end of the run up to the horizon."""
        for replica in [*self.replicas.values(), *self.noticed.values()]:
            if replica.holds_instance:
                self._bill(replica, horizon)
        self.replicas.clear()
        self.noticed.clear()

    # -- internals ------------------------------------------------------------------------
    def _notice(self, now: float, replica: SimReplica) -> None:
        del self.replicas[replica.id]
        self.noticed[replica.id] = replica
        self.held[replica.zone] -= 1  # the capacity is the cloud's again; the instance leaves
        replica.kill_at = now + self.notice_s
        self.queue.push(replica.kill_at, Kind.KILL, replica.id)
        self._log(now, "notice", replica)

    def _end(
        self, now: float, replica: SimReplica, state: ReplicaState, billed_until: float
    ) -> None:
        del self.replicas[replica.id]
        replica.state = state
        if replica.holds_instance:
            if replica.is_spot:
                self.held[replica.zone] -= 1
            self._bill(replica, billed_until)
            replica.holds_instance = False

    def _bill(self, replica: SimReplica, until: float) -> None:
        if replica.is_spot:
            self.cost_usd += self.prices.spot_cost(replica.zone, replica.launched_at, until)
        else:
            amount = self.prices.on_demand[replica.zone] * (until - replica.launched_at) / 3600.0
            self.cost_usd += amount
            self.on_demand_cost_usd += amount

    def _log(self, now: float, event: str, replica: SimReplica) -> None:
        self.log.append((now, event, replica.zone, replica.id, int(replica.is_spot), -1))
