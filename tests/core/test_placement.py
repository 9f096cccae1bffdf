"""Where replicas go: SpotHedge's zone choice and the on-demand zone choice."""

from __future__ import annotations

from collections import Counter

import pytest

from hedgeserve.core.placement import choose_on_demand_zone, choose_spot_zone
from hedgeserve.core.zones import ZoneId, ZoneOffer

A, B, C = (ZoneId(f"gcp/r/{z}") for z in "abc")


def offers(*prices: tuple[ZoneId, float, float]) -> list[ZoneOffer]:
    return [ZoneOffer(z, spot, od) for z, spot, od in prices]


ZONES = offers((A, 3.0, 9.0), (B, 1.0, 8.0), (C, 2.0, 8.0))


@pytest.mark.parametrize(
    ("active", "per_zone", "expected"),
    [
        pytest.param({A, B, C}, {}, B, id="cheapest-active-zone"),
        pytest.param({A, B, C}, {B: 1}, C, id="cheapest-active-zone-without-a-replica"),
        pytest.param({A, C}, {}, C, id="preempted-zone-skipped-even-if-cheapest"),
        pytest.param({A, B, C}, {A: 1, B: 1, C: 1}, B, id="all-occupied-cheapest-active"),
        pytest.param({A, C}, {A: 1, C: 2}, C, id="all-occupied-price-beats-count"),
    ],
)
def test_spot_zone(active: set[ZoneId], per_zone: dict[ZoneId, int], expected: ZoneId) -> None:
    assert choose_spot_zone(ZONES, active, Counter(per_zone)) == expected


def test_price_ties_go_to_the_zone_with_fewer_replicas_then_list_order() -> None:
    flat = offers((A, 1.0, 3.0), (B, 1.0, 3.0), (C, 1.0, 3.0))
    assert choose_spot_zone(flat, {A, B, C}, Counter({A: 2, B: 1, C: 1})) == B
    assert choose_spot_zone(flat, {A, B, C}, Counter()) == A


def test_no_active_zone_is_an_error() -> None:
    with pytest.raises(ValueError, match="no active zone"):
        choose_spot_zone(ZONES, set(), Counter())


def test_on_demand_goes_to_the_cheapest_on_demand_zone_and_spreads_over_ties() -> None:
    assert choose_on_demand_zone(ZONES, set()) == B  # B and C tie at 8.0; list order
    assert choose_on_demand_zone(ZONES, {B}) == C
    assert choose_on_demand_zone(ZONES, {B, C}) == B  # all cheapest taken: stay cheapest
