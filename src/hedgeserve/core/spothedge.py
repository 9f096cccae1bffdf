"""SpotHedge (SkyServe, EuroSys'25): spread spot replicas over failure domains, keep N_extra
spare spot replicas, and fall back to on-demand only while ready spot replicas are short.

The policy is `decide(observation, ZoneSets) -> Decision[ZoneSets]`; the zone sets are its only
state. Each call first folds the zone events since the last call into the sets, then compares
the wanted mix (`fallback.plan_mix`) with the live replicas and emits the difference.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from hedgeserve.core.decisions import Action, Decision, Launch, Observation
from hedgeserve.core.fallback import plan_mix
from hedgeserve.core.placement import choose_on_demand_zone, choose_spot_zone
from hedgeserve.core.replicas import ReplicaView
from hedgeserve.core.scale_down import trim_to
from hedgeserve.core.zone_sets import (
    MIN_ACTIVE_ZONES,
    ZoneSets,
    apply_zone_events,
    sync_enabled_zones,
)
from hedgeserve.core.zones import ZoneId, ZoneOffer


@dataclass(frozen=True, slots=True)
class SpotHedge:
    extra: int = 1  # N_extra: spare spot replicas over the target
    base_ondemand: int = 0  # on-demand replicas kept at all times (count towards the total)
    dynamic_fallback: bool = True  # launch on-demand while ready spot replicas are short
    # Z_P returns to Z_A when fewer than this many zones stay active (the paper: 2)
    min_active_zones: int = MIN_ACTIVE_ZONES
    # SkyServe resets on failed launches as on preemptions; we do not (see zone_sets.py)
    launch_failure_as_preemption: bool = False

    @property
    def name(self) -> str:
        return "spothedge"

    def initial_state(self, zones: Sequence[ZoneOffer]) -> ZoneSets:
        return ZoneSets.all_active(z.zone for z in zones)

    def decide(self, obs: Observation, state: ZoneSets) -> Decision[ZoneSets]:
        sets = apply_zone_events(
            sync_enabled_zones(state, obs.zones),
            obs.events,
            self.min_active_zones,
            self.launch_failure_as_preemption,
        )
        spot = [r for r in obs.replicas if r.is_spot]
        on_demand = [r for r in obs.replicas if not r.is_spot]
        mix = plan_mix(
            target=obs.target,
            extra=self.extra,
            ready_spot=sum(r.is_ready for r in spot),
            base_ondemand=self.base_ondemand,
            dynamic=self.dynamic_fallback,
        )
        actions: list[Action] = []
        actions += _reconcile_spot(obs.zones, sets, spot, mix.spot)
        actions += reconcile_on_demand(obs.zones, on_demand, mix.on_demand, "fallback")
        return Decision(tuple(actions), sets)


def _reconcile_spot(
    zones: Sequence[ZoneOffer], sets: ZoneSets, spot: list[ReplicaView], wanted: int
) -> list[Action]:
    if len(spot) > wanted:
        return trim_to(spot, wanted, "spot above target")
    per_zone = Counter(r.zone for r in spot)
    actions: list[Action] = []
    for _ in range(wanted - len(spot)):
        zone = choose_spot_zone(zones, sets.active, per_zone)
        per_zone[zone] += 1
        actions.append(Launch(zone, is_spot=True, reason="spot below target"))
    return actions


def reconcile_on_demand(
    zones: Sequence[ZoneOffer], on_demand: list[ReplicaView], wanted: int, why: str
) -> list[Action]:
    """Launch or release on-demand replicas so that `wanted` of them run."""
    if len(on_demand) > wanted:
        return trim_to(on_demand, wanted, f"{why}: on-demand no longer needed")
    occupied: set[ZoneId] = {r.zone for r in on_demand}
    actions: list[Action] = []
    for _ in range(wanted - len(on_demand)):
        zone = choose_on_demand_zone(zones, occupied)
        occupied.add(zone)
        actions.append(Launch(zone, is_spot=False, reason=f"{why}: on-demand needed"))
    return actions
