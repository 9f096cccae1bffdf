"""Routing policies (pure): who gets the next request."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hedgeserve.errors import InputError
from hedgeserve.gateway.routing import (
    ALIASES,
    POLICIES,
    InstanceAware,
    LeastLoad,
    PowerOfTwo,
    RoundRobin,
    make_policy,
)


@dataclass
class Cand:
    name: str
    inflight: int = 0
    weight: float = 1.0


loads = st.lists(st.integers(min_value=0, max_value=50), min_size=1, max_size=12)


@given(loads, st.integers(min_value=0, max_value=2**32))
def test_least_load_picks_a_minimum(values: list[int], seed: int) -> None:
    cands = [Cand(str(i), v) for i, v in enumerate(values)]
    chosen = LeastLoad().choose(cands, random.Random(seed))
    assert chosen.inflight == min(values)


@given(loads, st.integers(min_value=0, max_value=2**32))
def test_power_of_two_never_picks_the_unique_maximum(values: list[int], seed: int) -> None:
    cands = [Cand(str(i), v) for i, v in enumerate(values)]
    chosen = PowerOfTwo().choose(cands, random.Random(seed))
    top = max(values)
    if len(values) >= 2 and values.count(top) == 1:
        assert chosen.inflight < top
    assert chosen in cands


def test_least_load_breaks_ties_at_random() -> None:
    # SkyServe took the first of the tied replicas, so a burst at an idle service hit one.
    cands = [Cand("a"), Cand("b"), Cand("c"), Cand("d")]
    rng = random.Random(1)
    counts = Counter(LeastLoad().choose(cands, rng).name for _ in range(4000))
    assert set(counts) == {"a", "b", "c", "d"}
    assert all(800 < n < 1200 for n in counts.values()), counts  # 1000 each expected


def test_power_of_two_samples_every_candidate() -> None:
    cands = [Cand(str(i)) for i in range(5)]
    rng = random.Random(3)
    counts = Counter(PowerOfTwo().choose(cands, rng).name for _ in range(5000))
    assert all(800 < n < 1200 for n in counts.values()), counts


def test_round_robin_cycles_in_order() -> None:
    cands = [Cand("a"), Cand("b"), Cand("c")]
    rr = RoundRobin()
    rng = random.Random(0)
    assert [rr.choose(cands, rng).name for _ in range(7)] == list("abcabca")


def test_instance_aware_spreads_load_in_proportion_to_weight() -> None:
    # Weights 3:1 -> filling up one request at a time gives 6 and 2 in flight after 8 picks:
    # scores (in-flight + 1) / weight decide, so the big replica is preferred even when idle.
    big, small = Cand("big", weight=3.0), Cand("small", weight=1.0)
    policy = InstanceAware()
    rng = random.Random(0)
    assert policy.choose([big, small], rng) is big
    for _ in range(8):
        policy.choose([big, small], rng).inflight += 1
    assert (big.inflight, small.inflight) == (6, 2)


@pytest.mark.parametrize(
    ("inflight", "weights", "expected"),
    [
        ((0, 0), (1.0, 2.0), "1"),  # idle: (0+1)/1 = 1 vs (0+1)/2 = 0.5
        ((1, 4), (1.0, 2.0), "0"),  # 2/1 = 2 vs 5/2 = 2.5
        ((3, 3), (2.0, 2.0), "either"),  # tie
    ],
    ids=["idle-prefers-bigger", "loaded-bigger-loses", "tie"],
)
def test_instance_aware_scores(
    inflight: tuple[int, int], weights: tuple[float, float], expected: str
) -> None:
    cands = [Cand(str(i), n, w) for i, (n, w) in enumerate(zip(inflight, weights, strict=True))]
    chosen = InstanceAware().choose(cands, random.Random(0))
    assert expected == "either" or chosen.name == expected


@pytest.mark.parametrize("name", sorted(POLICIES) + sorted(ALIASES))
def test_policy_names_match_the_spec_key(name: str) -> None:
    policy = make_policy(name)
    assert policy.name == ALIASES.get(name, name)


def test_unknown_policy_is_an_input_error_listing_the_names() -> None:
    with pytest.raises(InputError) as err:
        make_policy("fastest")
    assert "least_load" in str(err.value) and "load_balancing_policy" in str(err.value)


def test_the_gateway_routes_by_every_name_the_spec_accepts() -> None:
    # The spec (pydantic) and the gateway (kept free of the spec's imports) each list the names.
    from hedgeserve.spec import LoadBalancingPolicy

    assert set(POLICIES) == {p.value for p in LoadBalancingPolicy}
    assert all(make_policy(alias) for alias in ALIASES)
