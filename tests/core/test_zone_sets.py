"""SpotHedge's zone-set rules, each pinned (SkyServe paper, Algorithm 1)."""

from __future__ import annotations

from hedgeserve.core.replicas import ZoneEvent, ZoneSignal
from hedgeserve.core.zone_sets import (
    ZoneSets,
    apply_zone_events,
    mark_launch_failed,
    mark_preempted,
    mark_ready,
    sync_enabled_zones,
)
from hedgeserve.core.zones import ZoneId, ZoneOffer

A, B, C, D = (ZoneId(f"aws/r/{z}") for z in "abcd")


def test_initially_every_enabled_zone_is_active() -> None:
    sets = ZoneSets.all_active([A, B, C])
    assert sets.active == {A, B, C} and sets.preempted == set()


def test_preemption_moves_the_zone_to_the_preempted_set() -> None:
    sets = mark_preempted(ZoneSets.all_active([A, B, C]), A)
    assert sets.active == {B, C} and sets.preempted == {A}


def test_fewer_than_two_active_zones_returns_every_preempted_zone() -> None:
    sets = mark_preempted(ZoneSets.all_active([A, B, C]), A)  # Z_A = {B, C}
    sets = mark_preempted(sets, B)  # Z_A would be {C}: |Z_A| = 1 < 2 -> rebalance
    assert sets.active == {A, B, C} and sets.preempted == set()


def test_two_active_zones_left_is_not_a_rebalance() -> None:
    sets = mark_preempted(ZoneSets.all_active([A, B, C, D]), A)
    sets = mark_preempted(sets, B)  # |Z_A| = 2, not < 2
    assert sets.active == {C, D} and sets.preempted == {A, B}


def test_ready_replica_moves_its_zone_back_to_active() -> None:
    sets = mark_preempted(ZoneSets.all_active([A, B, C]), A)
    assert mark_ready(sets, A) == ZoneSets(active=frozenset({A, B, C}), preempted=frozenset())


def test_ready_in_an_active_zone_changes_nothing() -> None:
    sets = ZoneSets.all_active([A, B])
    assert mark_ready(sets, A) is sets


def test_preemption_in_an_already_preempted_zone_changes_nothing() -> None:
    sets = mark_preempted(ZoneSets.all_active([A, B, C]), A)
    assert mark_preempted(sets, A) is sets


def test_launch_failure_moves_the_zone_out_but_resets_only_when_none_is_left() -> None:
    sets = mark_launch_failed(ZoneSets.all_active([A, B, C]), A)
    sets = mark_launch_failed(sets, B)  # one active zone left: no reset, unlike a preemption
    assert sets.active == {C} and sets.preempted == {A, B}
    sets = mark_launch_failed(sets, C)  # nothing left to try: start over
    assert sets.active == {A, B, C} and sets.preempted == set()


def test_events_apply_in_order() -> None:
    events = [
        ZoneEvent(A, ZoneSignal.PREEMPTED, 1.0),
        ZoneEvent(B, ZoneSignal.LAUNCH_FAILED, 2.0),
        ZoneEvent(A, ZoneSignal.READY, 3.0),
    ]
    sets = apply_zone_events(ZoneSets.all_active([A, B, C, D]), events)
    assert sets.active == {A, C, D} and sets.preempted == {B}


def test_enabled_zone_changes_are_followed() -> None:
    sets = mark_preempted(ZoneSets.all_active([A, B, C]), A)
    offers = [ZoneOffer(z, 1.0, 3.0) for z in (A, B, D)]  # C removed, D added
    synced = sync_enabled_zones(sets, offers)
    assert synced.active == {B, D} and synced.preempted == {A}
