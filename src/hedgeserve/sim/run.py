"""One simulated run: one policy, one trace window, one workload.

The loop merges two sorted streams — cloud events (capacity changes, replicas becoming ready,
failed launches, policy and autoscaler wake-ups) from the event queue and request arrivals from
the workload — and calls the policy once after every batch of cloud events at the same instant.
The policy sees exactly what the live controller would show it: an `Observation` of live
replicas, zone offers and the zone events since its last call. With an autoscaler, N_tar comes
from `core.autoscale` on the request rate over the last minute, as in the controller.
"""

from __future__ import annotations

import bisect
import random
from dataclasses import dataclass
from typing import Any

from hedgeserve.core.autoscale import (
    AutoscalerConfig,
    AutoscalerState,
    autoscale,
    initial_autoscaler_state,
)
from hedgeserve.core.decisions import Launch, Observation, Policy
from hedgeserve.core.notice import DEFAULT_GRACE_S, notice_drain_at
from hedgeserve.core.replicas import ReplicaId, ReplicaState, ZoneEvent, ZoneSignal
from hedgeserve.sim.cloud import LogRow, SimCloud, SimReplica
from hedgeserve.sim.event_queue import EventQueue, Kind
from hedgeserve.sim.metrics import RunResult, summarize
from hedgeserve.sim.pricing import PriceBook
from hedgeserve.sim.serving import Serving
from hedgeserve.sim.workload import Workload
from hedgeserve.traces.model import Trace


@dataclass(frozen=True, slots=True)
class RunConfig:
    target: int = 3  # N_tar, fixed unless an autoscaler is given
    autoscaler: AutoscalerConfig | None = None  # N_tar from the request rate (core.autoscale)
    autoscale_every_s: float = 20.0  # how often the autoscaler looks (the decision is timed
    # by its own delays; this only bounds how late a change can be noticed)
    qps_window_s: float = 60.0  # request rate = arrivals in the last window / window
    cold_start_s: float = 120.0
    launch_failure_s: float = 30.0  # how long a cloud takes to refuse a spot launch
    # A preemption notice (AWS: 120 s, GCP/Azure: 30 s; 0 = none, the SkyServe paper's model):
    # the policy hears of the preemption at once and replaces the replica, which keeps serving
    # until `notice_drain_s` before the kill, then drains (the live controller's grace_s).
    notice_s: float = 0.0
    notice_drain_s: float = DEFAULT_GRACE_S
    warmup_s: float | None = None  # excluded from availability; default: the cold start
    timeout_s: float = 100.0
    concurrency: int = 1  # requests a replica serves at once
    routing: str = "least_load"


@dataclass(frozen=True, slots=True)
class RunOutcome:
    result: RunResult
    log: list[LogRow]


def simulate_run(
    policy: Policy[Any],
    *,
    window: Trace,
    prices: PriceBook,
    workload: Workload,
    config: RunConfig,
    seed: int,
    horizon_s: float,
    repeat: int = 0,
    label: str | None = None,
) -> RunOutcome:
    """Simulate one run; results are reported under `label` (default: the policy's name)."""
    run = _Run(policy, window, prices, workload, config, seed, horizon_s)
    return run.execute(repeat, label or policy.name)


class _Run:
    def __init__(
        self,
        policy: Policy[Any],
        window: Trace,
        prices: PriceBook,
        workload: Workload,
        config: RunConfig,
        seed: int,
        horizon_s: float,
    ) -> None:
        self.policy = policy
        self.config = config
        self.horizon = horizon_s
        self.workload = workload
        self.queue = EventQueue()
        self.cloud = SimCloud(
            zones=window.zones,
            capacity=window.capacity,
            gap_s=window.gap_s,
            prices=prices,
            queue=self.queue,
            rng=random.Random(seed),
            cold_start_s=config.cold_start_s,
            launch_failure_s=config.launch_failure_s,
            notice_s=config.notice_s,
        )
        self.serving = Serving(
            arrival_s=workload.arrival_s,
            service_s=workload.service_s,
            timeout_s=config.timeout_s,
            concurrency=config.concurrency,
            routing=config.routing,
        )
        self.zone_index = {z: i for i, z in enumerate(window.zones)}
        self.target = config.target
        self.autoscaler_state: AutoscalerState | None = None
        if config.autoscaler is not None:
            self.autoscaler_state = initial_autoscaler_state(config.autoscaler)
            self.target = self.autoscaler_state.target
            self.queue.push(0.0, Kind.AUTOSCALE)
        self.arrivals = workload.arrival_s.tolist()
        self.target_s = 0.0  # ∫ N_tar dt, for the on-demand reference cost
        self.state = policy.initial_state(self.cloud.offers(0.0))
        self.zone_events: list[ZoneEvent] = []
        self.wakes: set[float] = set()
        # availability: time with >= target ready replicas inside [warmup, horizon]
        self.warmup = config.cold_start_s if config.warmup_s is None else config.warmup_s
        self.ready = 0
        self.last_t = 0.0
        self.ok_s = 0.0

    def execute(self, repeat: int, label: str) -> RunOutcome:
        arrivals = self.arrivals
        n, i = len(arrivals), 0
        queue, serving, horizon = self.queue, self.serving, self.horizon
        self._decide(0.0)
        while True:
            t_next = min(queue.peek_time(), horizon)
            while i < n and arrivals[i] < t_next:
                serving.dispatch(i, arrivals[i])
                i += 1
            if t_next >= horizon:
                break
            self._advance(t_next)
            while queue.peek_time() == t_next:
                _, kind, payload = queue.pop()
                self._handle(t_next, kind, payload)
            self._decide(t_next)
        self._advance(horizon)
        self.cloud.close(horizon)
        serving.finish()
        span = max(horizon - self.warmup, 1e-9)
        result = summarize(
            policy=label,
            repeat=repeat,
            availability=100.0 * self.ok_s / span,
            cloud=self.cloud,
            serving=serving,
            on_demand_reference=self.target_s * self.cloud.prices.cheapest_on_demand / 3600,
            requests=i,
        )
        return RunOutcome(result, self.cloud.log)

    def _handle(self, now: float, kind: Kind, payload: Any) -> None:
        if kind is Kind.CAPACITY:
            zone, capacity = payload
            for replica in self.cloud.set_capacity(now, zone, capacity):
                if replica.kill_at is None:
                    self._lost(replica, now)
                else:
                    self._noticed(replica, now)
        elif kind is Kind.DRAIN:
            noticed = self.cloud.noticed.get(ReplicaId(payload))
            if noticed is not None:
                self._drain_noticed(noticed, now)
        elif kind is Kind.KILL:
            killed = self.cloud.kill(now, ReplicaId(payload))
            self._drain_noticed(killed, now)
            self.serving.replica_lost(killed, now)  # requests still running are retried
        elif kind is Kind.READY:
            ready = self.cloud.mark_ready(now, ReplicaId(payload))
            if ready is not None:
                self.ready += 1
                self.serving.replica_ready(ready, now)
                if ready.is_spot:
                    self._zone_event(ready, ZoneSignal.READY, now)
        elif kind is Kind.LAUNCH_FAILED:
            failed = self.cloud.fail_launch(now, ReplicaId(payload))
            if failed is not None:
                self._zone_event(failed, ZoneSignal.LAUNCH_FAILED, now)
        elif kind is Kind.AUTOSCALE:
            self._autoscale(now)
        else:  # Kind.WAKE: nothing to do but the decision that follows every batch
            self.wakes.discard(now)

    def _lost(self, replica: SimReplica, now: float) -> None:
        if replica.ready_at is not None:
            self.ready -= 1
        self.serving.replica_lost(replica, now)
        self._zone_event(replica, ZoneSignal.PREEMPTED, now)

    def _noticed(self, replica: SimReplica, now: float) -> None:
        """Under a preemption notice: the policy hears of it now (as the live controller tells
        it), and the replica serves on until `notice_drain_s` before its kill."""
        self._zone_event(replica, ZoneSignal.PREEMPTED, now)
        assert replica.kill_at is not None
        drain_at = notice_drain_at(replica.kill_at, self.config.notice_drain_s)
        if drain_at <= now:
            self._drain_noticed(replica, now)
        else:
            self.queue.push(drain_at, Kind.DRAIN, replica.id)

    def _drain_noticed(self, replica: SimReplica, now: float) -> None:
        if replica.draining:
            return
        replica.draining = True  # only ready replicas are noticed (`SimCloud.set_capacity`)
        self.ready -= 1
        self.serving.replica_draining(replica, now)
        self.cloud.log_draining(now, replica)

    def _zone_event(self, replica: SimReplica, signal: ZoneSignal, now: float) -> None:
        self.zone_events.append(ZoneEvent(self.cloud.zones[replica.zone], signal, now))

    def _decide(self, now: float) -> None:
        obs = Observation(
            now=now,
            target=self.target,
            zones=self.cloud.offers(now),
            replicas=self.cloud.views(),
            events=tuple(self.zone_events),
        )
        self.zone_events.clear()
        decision = self.policy.decide(obs, self.state)
        self.state = decision.state
        for action in decision.actions:
            if isinstance(action, Launch):
                self.cloud.launch(now, self.zone_index[action.zone], action.is_spot)
            else:
                self._terminate(self.cloud.replicas[action.replica], now)
        wake = decision.next_check_at
        if wake is not None and wake > now and wake not in self.wakes:
            self.wakes.add(wake)  # one queue entry per instant; a stale wake-up only re-decides
            self.queue.push(wake, Kind.WAKE)

    def _terminate(self, replica: SimReplica, now: float) -> None:
        billed_until = now
        if replica.state is ReplicaState.READY:
            self.ready -= 1
            billed_until = min(self.serving.replica_draining(replica, now), self.horizon)
        self.cloud.terminate(now, replica, billed_until)

    def _autoscale(self, now: float) -> None:
        config, state = self.config.autoscaler, self.autoscaler_state
        if config is None or state is None:
            return
        window = self.config.qps_window_s
        start = max(0.0, now - window)
        count = bisect.bisect_right(self.arrivals, now) - bisect.bisect_right(self.arrivals, start)
        qps = count / max(now - start, 1e-9) if now > start else 0.0
        self.autoscaler_state = autoscale(config, state, now=now, qps=qps)
        if self.autoscaler_state.target != self.target:
            self.target = self.autoscaler_state.target
            self.cloud.log_target(now, self.target)
        self.queue.push(now + self.config.autoscale_every_s, Kind.AUTOSCALE)

    def _advance(self, now: float) -> None:
        self.target_s += max(0.0, min(now, self.horizon) - self.last_t) * self.target
        if self.ready >= self.target:
            lo, hi = max(self.last_t, self.warmup), min(now, self.horizon)
            if hi > lo:
                self.ok_s += hi - lo
        self.last_t = now
