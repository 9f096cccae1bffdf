"""Turning a decision into rows and provider calls: intents first, then effects.

`plan_intents` (pure) turns the policy's actions into rows: a `pending` row per launch (with a
fresh id, the zone's price and the policy's reason) and a draining row per terminate. The caller
commits them before `launch_all` calls the provider, so a crash in between leaves an intent that
recovery resolves, never an instance nobody knows about.

`launch_all` launches concurrently and classes each outcome: accepted -> provisioning;
`CapacityUnavailable` -> failed, plus a LAUNCH_FAILED zone event for the next decision;
`TransientProviderError` -> failed, and the loop backs off; `PermanentProviderError` -> failed,
and the service fails (a person must act). Anything else is a bug and propagates.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from hedgeserve.control.lifecycle import ReplicaStatus
from hedgeserve.control.provider import (
    CapacityUnavailable,
    Instance,
    LaunchRequest,
    PermanentProviderError,
    Provider,
    TransientProviderError,
)
from hedgeserve.control.records import EventKind, EventRecord, ReplicaRecord, replica_event
from hedgeserve.core.decisions import Action, Launch
from hedgeserve.core.replicas import ReplicaId, ZoneEvent, ZoneSignal
from hedgeserve.core.zones import ZoneOffer

log = logging.getLogger("hedgeserve.control")
S = ReplicaStatus


@dataclass(slots=True)
class Intents:
    launches: list[ReplicaRecord] = field(default_factory=list)  # pending rows
    stops: list[ReplicaRecord] = field(default_factory=list)  # draining (or never-launched) rows
    timeline: list[EventRecord] = field(default_factory=list)


@dataclass(slots=True)
class LaunchOutcome:
    changed: list[ReplicaRecord] = field(default_factory=list)
    timeline: list[EventRecord] = field(default_factory=list)
    zone_events: list[ZoneEvent] = field(default_factory=list)
    transient: list[str] = field(default_factory=list)
    permanent: str | None = None


def plan_intents(
    actions: Sequence[Action],
    *,
    records: Mapping[ReplicaId, ReplicaRecord],
    offers: Sequence[ZoneOffer],
    next_id: int,
    now: float,
) -> Intents:
    prices = {o.zone: o for o in offers}
    out = Intents()
    for action in actions:
        if isinstance(action, Launch):
            offer = prices.get(action.zone)
            price = 0.0 if offer is None else (
                offer.spot_per_hour if action.is_spot else offer.on_demand_per_hour)
            row = ReplicaRecord(
                id=ReplicaId(next_id), zone=action.zone, is_spot=action.is_spot,
                status=S.PENDING, launched_at=now, price_per_hour=price, reason=action.reason,
            )  # fmt: skip
            next_id += 1
            out.launches.append(row)
            out.timeline.append(replica_event(now, EventKind.LAUNCH, row, action.reason))
            continue
        current = records.get(action.replica)
        if current is None or not current.is_live:
            raise ValueError(f"policy terminated replica {action.replica}, which is not live")
        stopped = current.stopped(now, action.reason)
        out.stops.append(stopped)
        out.timeline.append(replica_event(now, EventKind.TERMINATE, stopped, action.reason))
    return out


async def launch_all(
    provider: Provider, pending: Sequence[ReplicaRecord], *, now: float
) -> LaunchOutcome:
    results = await asyncio.gather(
        *(provider.launch(LaunchRequest(r.id, r.zone, r.is_spot)) for r in pending),
        return_exceptions=True,
    )
    out = LaunchOutcome()
    for row, result in zip(pending, results, strict=True):
        if isinstance(result, Instance):
            out.changed.append(row.moved_to(
                S.PROVISIONING, handle=result.handle, pid=result.pid, port=result.port,
                url=result.url,
            ))  # fmt: skip
            continue
        if isinstance(result, CapacityUnavailable):
            detail = f"no spot capacity in {row.zone}"
            out.zone_events.append(ZoneEvent(row.zone, ZoneSignal.LAUNCH_FAILED, now))
            kind = EventKind.LAUNCH_FAILED
        elif isinstance(result, TransientProviderError):
            detail = f"launch error (retrying): {result}"
            out.transient.append(detail)
            kind = EventKind.LAUNCH_FAILED
        elif isinstance(result, PermanentProviderError):
            detail = f"launch error: {result}"
            out.permanent = detail
            kind = EventKind.LAUNCH_FAILED
        elif isinstance(result, BaseException):
            raise result  # a bug or a cancellation: never swallowed
        else:
            raise TypeError(f"provider.launch returned {type(result).__name__}")
        log.info("replica %s: %s", row.id, detail)
        failed = row.moved_to(S.FAILED, ended_at=now, reason=detail)
        out.changed.append(failed)
        out.timeline.append(replica_event(now, kind, failed, detail))
    return out


async def stop_draining(
    provider: Provider, draining: Sequence[ReplicaRecord], *, now: float, grace_s: float
) -> None:
    """(Re)issue terminate for every draining replica: providers ignore repeats, and after a
    restart this is what finishes a stop the previous controller began. An instance under a
    preemption notice is left serving until `grace_s` before its kill, then gets the rest of
    its notice as grace."""
    calls = []
    for r in draining:
        if r.handle is None or r.serves_through_notice(now, grace_s):
            continue
        grace = grace_s if r.notice_deadline is None else max(0.0, r.notice_deadline - now)
        calls.append(provider.terminate(r.handle, grace_s=grace))
    results = await asyncio.gather(*calls, return_exceptions=True)
    for result in results:
        if isinstance(result, TransientProviderError | PermanentProviderError):
            log.warning("terminate failed (retried next tick): %s", result)
        elif isinstance(result, BaseException):
            raise result
