"""Where a new replica goes.

SpotHedge places a spot replica in the cheapest active zone that hosts no launched spot
replica yet (Z_A \\ Z_C); when every active zone already hosts one, in the cheapest active zone.
On-demand replicas are never preempted, so they simply go to the cheapest on-demand zone,
preferring one without an on-demand replica so that a zone outage cannot take them all.
The paper leaves price ties open. We break them towards spreading — the zone with the fewest
spot replicas first — then by the order of the observation's zone list (the simulator shuffles
it per repeat), so that equal prices do not always resolve to the same zone.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Sequence

from hedgeserve.core.zones import ZoneId, ZoneOffer


def choose_spot_zone(
    zones: Sequence[ZoneOffer],
    active: Collection[ZoneId],
    spot_per_zone: Counter[ZoneId],
) -> ZoneId:
    """Cheapest zone of `active` without a spot replica, else the cheapest of `active`;
    `spot_per_zone` counts the launched spot replicas per zone (Z_C is its support)."""
    candidates = [z for z in zones if z.zone in active]
    if not candidates:
        raise ValueError("no active zone to place a spot replica in")
    free = [z for z in candidates if not spot_per_zone[z.zone]]
    return min(free or candidates, key=lambda z: (z.spot_per_hour, spot_per_zone[z.zone])).zone


def choose_on_demand_zone(zones: Sequence[ZoneOffer], occupied: Collection[ZoneId]) -> ZoneId:
    if not zones:
        raise ValueError("no zone to place an on-demand replica in")
    cheapest = min(z.on_demand_per_hour for z in zones)
    best = [z for z in zones if z.on_demand_per_hour == cheapest]
    free = [z for z in best if z.zone not in occupied]
    return (free or best)[0].zone
