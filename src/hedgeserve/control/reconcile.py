"""The reconcile loop: level-triggered, one tick at a time, over one service.

Each tick re-reads the world rather than trusting what it remembers (controller-runtime's
contract), so a missed event or a restart costs nothing:

1. observe: provider events, live rows from the store, instance states, probe results;
   fold them into rows (`transitions.fold`), which also yields the zone events;
2. N_tar: the gateway's request counter -> request rate -> `core.autoscale`;
3. decide: `policy.decide(Observation(now, N_tar, offers, replicas, zone events), state)`;
4. record: changed rows, launch intents, drains, the new policy state and timeline entries —
   one transaction — and log each decision once, with its reason;
5. act: launch (`actuate.launch_all`), (re)terminate draining replicas;
6. push the routable set (ready, plus draining ones marked draining) to the gateway.

Nothing a tick learns moves the in-memory state (policy and autoscaler state, next id, status)
before its commit succeeds, and the news it consumes — provider events (`poll_events` drains
them) and the zone events carried over from the last act phase — stays in a pending buffer
until then: a tick that raises before its commit is retried with the same news and the same
state, so the store and this object never disagree.

The tick reads time only from its `Clock` and touches the world only through the `Provider`,
`Prober` and `GatewayLink` it was given, so a test can drive it with a fake clock and the
simulator's cloud behind a fake provider, and compare its decisions with the simulator's.

Errors: `TransientProviderError` and unexpected exceptions back off exponentially (the tick
is retried from scratch — it is level-triggered); `PermanentProviderError`, or replicas that
keep failing before any was ever ready, mark the service failed and stop new launches until a
person acts. `CancelledError` is never caught.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from hedgeserve.control.actuate import launch_all, plan_intents, stop_draining
from hedgeserve.control.clock import Clock, Wakeup
from hedgeserve.control.gateway_link import GatewayLink, GatewayReplica
from hedgeserve.control.lifecycle import ReplicaStatus, core_state
from hedgeserve.control.policy_setup import (
    decode_autoscaler_state,
    decode_policy_state,
    encode_autoscaler_state,
    encode_policy_state,
)
from hedgeserve.control.probe import PROBED, Prober, ProbeTarget
from hedgeserve.control.provider import (
    PermanentProviderError,
    Provider,
    ProviderEvent,
    TransientProviderError,
)
from hedgeserve.control.records import EventKind, EventRecord, ReplicaRecord, ServiceStatus
from hedgeserve.control.recovery import RecoveryPlan, plan_recovery
from hedgeserve.control.request_rate import RequestRate
from hedgeserve.control.status import service_status
from hedgeserve.control.store import Store
from hedgeserve.control.transitions import fold
from hedgeserve.core.autoscale import AutoscalerConfig, AutoscalerState, autoscale, next_change_at
from hedgeserve.core.decisions import Observation, Policy
from hedgeserve.core.notice import DEFAULT_GRACE_S
from hedgeserve.core.replicas import ReplicaId, ReplicaView, ZoneEvent
from hedgeserve.core.zone_sets import ZoneSets
from hedgeserve.core.zones import ZoneOffer
from hedgeserve.spec.probe import ProbeTimings

log = logging.getLogger("hedgeserve.control")
S = ReplicaStatus


@dataclass(frozen=True, slots=True)
class LoopSettings:
    tick_s: float = 2.0
    grace_s: float = DEFAULT_GRACE_S  # a draining replica's time to finish in-flight requests
    push_every_s: float = 30.0  # re-send an unchanged replica set this often (gateway restarts)
    max_backoff_s: float = 60.0
    fail_fast_after: int = 3  # replicas failing before any was ever ready -> service failed


class Reconciler:
    def __init__(
        self,
        *,
        store: Store,
        provider: Provider,
        prober: Prober,
        policy: Policy[Any],
        autoscaler: AutoscalerConfig,
        timings: ProbeTimings,
        clock: Clock,
        wakeup: Wakeup,
        gateway: GatewayLink | None = None,
        settings: LoopSettings = LoopSettings(),
    ) -> None:
        self.store = store
        self.provider = provider
        self.prober = prober
        self.policy = policy
        self.autoscaler = autoscaler
        self.timings = timings
        self.clock = clock
        self.wakeup = wakeup
        self.gateway = gateway
        self.settings = settings
        self.rate = RequestRate()
        service = store.service()
        if service is None:
            raise ValueError("the store holds no service; create it before reconciling")
        self.state = decode_policy_state(service.policy_state, policy, provider.offers())
        self.scaler = decode_autoscaler_state(service.autoscaler_state, autoscaler)
        self.name = service.name
        self.next_id = service.next_replica_id
        self.status = service.status
        self.failure = service.failure if service.status is ServiceStatus.FAILED else None
        self.ever_ready = store.any_ever_ready()
        self._stored_target = service.target
        # Live rows, written through: this process is the store's only writer, so what it
        # committed is what the store holds, and a tick need not read 1,000 rows back.
        self._live: dict[ReplicaId, ReplicaRecord] = {r.id: r for r in store.live_replicas()}
        self.early_failures = 0
        # News not yet recorded by a commit: polled provider events, and zone events from the
        # last act phase. Cleared only once the tick that consumed them has committed.
        self._pending: list[ProviderEvent] = []
        self._carried: list[ZoneEvent] = []
        self._pushed: tuple[GatewayReplica, ...] | None = None
        self._pushed_at = float("-inf")
        self._od_reference: float | None = None

    # --- recovery ------------------------------------------------------------------------

    async def recover(self) -> RecoveryPlan:
        """Adopt live instances, end rows whose instance is gone, terminate orphans."""
        now = self.clock.now()
        plan = plan_recovery(list(self._live.values()), await self.provider.instances(), now=now)
        self._commit(
            replicas=plan.adopted + plan.ended,
            events=[*plan.timeline, EventRecord(now, EventKind.SERVICE, plan.summary())],
        )
        for orphan in plan.orphans:
            await self.provider.terminate(orphan.handle, grace_s=self.settings.grace_s)
        log.info("recovery: %s", plan.summary())
        return plan

    # --- one tick ------------------------------------------------------------------------

    async def tick(self) -> float:
        """Observe, decide, record, act; returns when the next tick is due."""
        now = self.clock.now()
        self._pending += self.provider.poll_events()
        rows = list(self._live.values())
        instances = await self.provider.observe({r.id: r.handle for r in rows if r.handle})
        seen = fold(rows, instances=instances, events=self._pending, probes={}, now=now,
                    timings=self.timings)
        current = {r.id: seen.changed.get(r.id, r) for r in rows}
        # Probe what runs now, including instances that started running this very tick.
        targets = [ProbeTarget(r.id, r.url) for r in current.values() if r.url and (
            r.status in PROBED or r.serves_through_notice(now, self.settings.grace_s))]
        probed = fold(list(current.values()), instances={}, events=[],
                      probes=await self.prober.results(targets), now=now, timings=self.timings)
        current.update(probed.changed)
        changed_by_id = {**seen.changed, **probed.changed}
        zone_events = [*self._carried, *seen.zone_events, *probed.zone_events]
        failures = self._count_failures(changed_by_id.values())
        live = [r for r in current.values() if r.is_live]
        timeline = seen.timeline + probed.timeline
        service: dict[str, Any] = {}
        changed = list(changed_by_id.values())

        target, scaler = await self._target(now, timeline, service)
        offers = self.provider.offers()
        actions_next: float | None = None
        launches: list[ReplicaRecord] = []
        state, next_id = self.state, self.next_id
        if self.failure is None:
            views = tuple(
                ReplicaView(r.id, r.zone, r.is_spot, view, r.launched_at)
                for r in live if (view := core_state(r.status)) is not None
            )  # fmt: skip
            decision = self.policy.decide(
                Observation(now, target, offers, views, tuple(zone_events)), self.state
            )
            actions_next = decision.next_check_at
            self._note_zone_sets(decision.state, now, timeline)
            state = decision.state
            if state != self.state:
                service["policy_state"] = encode_policy_state(state)
            intents = plan_intents(decision.actions, records=current, offers=offers,
                                   next_id=next_id, now=now)
            for action in decision.actions:
                log.info("decision: %s", action)
            launches = intents.launches
            if launches:
                next_id += len(launches)
                service["next_replica_id"] = next_id
            changed += intents.stops
            current.update({r.id: r for r in intents.stops})
            timeline += intents.timeline
        status, reference = self._refresh_status(list(current.values()), target, offers, service,
                                                 ever_ready=failures[0])
        self._commit(replicas=changed, new_replicas=launches, events=timeline,
                     service=self._stamped(service, now))
        # Recorded: the news may leave the buffers, and the in-memory state catch up.
        self._pending.clear()
        self._carried = []
        self.state, self.scaler, self.next_id = state, scaler, next_id
        self.status, self._od_reference, self._stored_target = status, reference, target
        self.ever_ready, self.early_failures = failures

        backoff = await self._act(launches, current, now)
        await self._push(list(current.values()), now)
        next_at = now + self.settings.tick_s
        drains = [r.notice_drain_at(self.settings.grace_s) for r in current.values()
                  if r.status is S.DRAINING]
        for candidate in (actions_next, next_change_at(self.autoscaler, self.scaler), *drains):
            if candidate is not None and candidate > now:
                next_at = min(next_at, candidate)
        if backoff:
            raise TransientProviderError(backoff)
        return next_at

    # --- the loop ------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Tick until `stop` is set, backing off after errors."""
        failures = 0
        while not stop.is_set():
            next_at = self.clock.now() + self.settings.tick_s
            try:
                next_at = await self.tick()
                failures = 0
            except PermanentProviderError as err:
                self.fail(f"provider error: {err}")
            except Exception as err:  # retryable: the tick starts from the stored state again
                failures += 1
                delay = min(self.settings.tick_s * 2**failures, self.settings.max_backoff_s)
                next_at = self.clock.now() + delay
                if isinstance(err, TransientProviderError):
                    log.warning("tick failed (retry in %.0f s): %s", delay, err)
                else:
                    log.exception("tick failed (retry in %.0f s)", delay)
            if stop.is_set():
                break
            await self.clock.sleep(max(0.0, next_at - self.clock.now()), self.wakeup)

    def gateway_replaced(self) -> None:
        """A new gateway process knows no replicas: push the set at the next tick."""
        self._pushed = None
        self.wakeup.set()

    def fail(self, reason: str) -> None:
        """Mark the service failed: no new launches until a person acts."""
        if self.failure is not None:
            return
        now = self.clock.now()
        log.error("service failed: %s", reason)
        self.store.commit(
            events=[EventRecord(now, EventKind.SERVICE, f"service failed: {reason}")],
            service={"status": ServiceStatus.FAILED, "failure": reason, "updated_at": now},
        )
        self.failure = reason
        self.status = ServiceStatus.FAILED

    # --- internals -----------------------------------------------------------------------

    def _commit(self, *, replicas: Sequence[ReplicaRecord] = (),
                new_replicas: Sequence[ReplicaRecord] = (),
                events: Sequence[EventRecord] = (),
                service: dict[str, Any] | None = None) -> None:
        """Write to the store, then (only once that succeeded) to the live-row cache."""
        self.store.commit(replicas=replicas, new_replicas=new_replicas, events=events,
                          service=service)
        for r in [*new_replicas, *replicas]:
            if r.is_live:
                self._live[r.id] = r
            else:
                self._live.pop(r.id, None)

    async def _target(self, now: float, timeline: list[EventRecord],
                      service: dict[str, Any]) -> tuple[int, AutoscalerState]:
        """N_tar and the autoscaler state it comes with (the caller keeps it after commit)."""
        qps = 0.0
        if self.autoscaler.target_qps_per_replica is not None and self.gateway is not None:
            sample = await self.gateway.counters(now)
            if sample is not None:
                self.rate.add(sample)
            measured = self.rate.qps()
            if measured is None:
                return self.scaler.target, self.scaler
            qps = measured
        new = autoscale(self.autoscaler, self.scaler, now=now, qps=qps)
        if new != self.scaler:
            if new.target != self.scaler.target:
                detail = f"N_tar {self.scaler.target} -> {new.target} at {qps:.2f} requests/s"
                log.info("autoscaler: %s", detail)
                timeline.append(EventRecord(now, EventKind.TARGET, detail))
            service["autoscaler_state"] = encode_autoscaler_state(new)
        return new.target, new

    async def _act(self, launches: Sequence[ReplicaRecord],
                   current: dict[Any, ReplicaRecord], now: float) -> str | None:
        draining = [r for r in current.values() if r.status is S.DRAINING]
        await stop_draining(self.provider, draining, now=now, grace_s=self.settings.grace_s)
        if not launches:
            return None
        outcome = await launch_all(self.provider, launches, now=now)
        self._carried += outcome.zone_events  # news for the next tick's decision
        failures = self._count_failures(outcome.changed)
        current.update({r.id: r for r in outcome.changed})
        self._commit(replicas=outcome.changed, events=outcome.timeline)
        self.ever_ready, self.early_failures = failures
        self.wakeup.set()  # observe the new instances soon, and retry refused spot launches
        if outcome.permanent is not None:
            raise PermanentProviderError(outcome.permanent)
        return "; ".join(outcome.transient) or None

    async def _push(self, rows: Sequence[ReplicaRecord], now: float) -> None:
        if self.gateway is None:
            return
        routable = tuple(
            GatewayReplica(
                int(r.id), r.url,
                draining=r.status is S.DRAINING
                and not r.serves_through_notice(now, self.settings.grace_s),
            )
            for r in rows
            if r.url and r.status in (S.READY, S.DRAINING)
        )
        due = now - self._pushed_at >= self.settings.push_every_s
        if routable == self._pushed and not due:
            return
        if await self.gateway.push(routable):
            self._pushed, self._pushed_at = routable, now

    def _count_failures(self, rows: Iterable[ReplicaRecord]) -> tuple[bool, int]:
        """(ever ready, early failures) once `rows` are recorded; fails the service when
        replicas keep failing before any was ever ready. The caller keeps the counts only
        after its commit, so a retried tick does not count the same failure twice."""
        ever_ready, early = self.ever_ready, self.early_failures
        for r in rows:
            if r.status is S.READY:
                ever_ready = True
            elif (r.status is S.FAILED and r.ready_at is None and not ever_ready
                  and not r.reason.startswith("no spot capacity")):
                early += 1
                if early >= self.settings.fail_fast_after:
                    self.fail(
                        f"{early} replicas failed before any became ready "
                        f"(last: replica {r.id}: {r.reason}); see `hedge logs "
                        f"{self.name} --replica {r.id}`"
                    )
        return ever_ready, early

    def _note_zone_sets(self, new: object, now: float, timeline: list[EventRecord]) -> None:
        if not isinstance(new, ZoneSets) or new == self.state:
            return
        detail = new.describe()
        log.info("zone sets: %s", detail)
        timeline.append(EventRecord(now, EventKind.ZONES, detail))

    def _refresh_status(self, rows: Sequence[ReplicaRecord], target: int,
                        offers: Sequence[ZoneOffer], service: dict[str, Any], *,
                        ever_ready: bool) -> tuple[ServiceStatus, float]:
        """Write the status, N_tar and on-demand reference into `service` where they changed;
        returns (status, reference) for the caller to keep once committed."""
        ready = sum(r.status is S.READY for r in rows)
        status = service_status(ready=ready, target=target, ever_ready=ever_ready,
                                failed=self.failure is not None)
        if status is not self.status:
            service["status"] = status
        if target != self._stored_target:
            service["target"] = target
        cheapest = min((o.on_demand_per_hour for o in offers), default=0.0)
        reference = target * cheapest
        if reference != self._od_reference:
            service["on_demand_reference_per_hour"] = reference
        return status, reference

    @staticmethod
    def _stamped(service: dict[str, Any], now: float) -> dict[str, Any] | None:
        return {**service, "updated_at": now} if service else None

