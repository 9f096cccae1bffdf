"""SpotHedge's view of failure domains: the active set Z_A and the preempted set Z_P.

Rules, exactly as the SkyServe paper (EuroSys'25, Algorithm 1) states them:
- initially every enabled zone is active;
- a preemption in zone z moves z to Z_P; then, if fewer than two zones stay active, all of Z_P
  returns to Z_A — otherwise every spot replica would pile into one zone;
- a spot replica that becomes ready in z moves z back to Z_A.

The paper defines no rule for a launch that fails for lack of spot capacity. We move that zone
to Z_P too (SkyServe's implementation and the paper's simulator both treat it as a preemption;
otherwise a zone without capacity would be retried forever), but such a failure returns Z_P to
Z_A only when no active zone is left. Resetting on launch failures as on preemptions makes the
placement cycle: with one zone full and another empty, each failure re-activates the other one
and a third zone that has free capacity is never tried (docs/spothedge.md shows the trace).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from hedgeserve.core.replicas import ZoneEvent, ZoneSignal
from hedgeserve.core.zones import ZoneId, ZoneOffer

MIN_ACTIVE_ZONES = 2


@dataclass(frozen=True, slots=True)
class ZoneSets:
    active: frozenset[ZoneId]
    preempted: frozenset[ZoneId]

    @classmethod
    def all_active(cls, zones: Iterable[ZoneId]) -> ZoneSets:
        return cls(active=frozenset(zones), preempted=frozenset())

    def to_dict(self) -> dict[str, list[str]]:
        """Plain data (sorted lists) for a store to keep; `from_dict` reads it back."""
        return {"active": sorted(self.active), "preempted": sorted(self.preempted)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Iterable[str]]) -> ZoneSets:
        return cls(
            active=frozenset(ZoneId(z) for z in data.get("active", [])),
            preempted=frozenset(ZoneId(z) for z in data.get("preempted", [])),
        )

    def describe(self) -> str:
        return (f"active: {', '.join(sorted(self.active)) or '-'}; "
                f"preempted: {', '.join(sorted(self.preempted)) or '-'}")


def mark_preempted(sets: ZoneSets, zone: ZoneId, min_active: int = MIN_ACTIVE_ZONES) -> ZoneSets:
    if zone not in sets.active:
        return sets
    active = sets.active - {zone}
    preempted = sets.preempted | {zone}
    if len(active) < min_active:
        return ZoneSets(active | preempted, frozenset())
    return ZoneSets(active, preempted)


def mark_ready(sets: ZoneSets, zone: ZoneId) -> ZoneSets:
    if zone not in sets.preempted:
        return sets
    return ZoneSets(sets.active | {zone}, sets.preempted - {zone})


def mark_launch_failed(sets: ZoneSets, zone: ZoneId) -> ZoneSets:
    if zone not in sets.active:
        return sets
    if len(sets.active) == 1:  # nothing else to try: start over with every zone
        return ZoneSets(sets.active | sets.preempted, frozenset())
    return ZoneSets(sets.active - {zone}, sets.preempted | {zone})


def apply_zone_events(
    sets: ZoneSets,
    events: Iterable[ZoneEvent],
    min_active: int = MIN_ACTIVE_ZONES,
    launch_failure_as_preemption: bool = False,
) -> ZoneSets:
    """Fold zone events into the sets. `launch_failure_as_preemption` restores SkyServe's
    behaviour (a failed launch resets like a preemption); kept for comparison only."""
    for event in events:
        if event.signal is ZoneSignal.READY:
            sets = mark_ready(sets, event.zone)
        elif event.signal is ZoneSignal.PREEMPTED or launch_failure_as_preemption:
            sets = mark_preempted(sets, event.zone, min_active)
        else:
            sets = mark_launch_failed(sets, event.zone)
    return sets


def sync_enabled_zones(sets: ZoneSets, zones: Sequence[ZoneOffer]) -> ZoneSets:
    """Follow a change of the enabled zones (a spec update): forget removed zones, start new
    ones as active."""
    enabled = frozenset(offer.zone for offer in zones)
    known = sets.active | sets.preempted
    if known == enabled:
        return sets
    return ZoneSets(
        active=(sets.active & enabled) | (enabled - known),
        preempted=sets.preempted & enabled,
    )
