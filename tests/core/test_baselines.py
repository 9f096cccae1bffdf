"""The baselines: on-demand only, even spread (no failure awareness), round robin."""

from __future__ import annotations

from collections import Counter

from tests.core.world import apply

from hedgeserve.core.baselines import EvenSpread, OnDemandOnly, RoundRobin
from hedgeserve.core.decisions import Launch, Observation, Terminate
from hedgeserve.core.replicas import ReplicaId, ReplicaState, ReplicaView
from hedgeserve.core.zones import ZoneId, ZoneOffer

ZONES = tuple(ZoneOffer(ZoneId(f"aws/r/z{i}"), 1.0, 3.0) for i in range(3))
Z0, Z1, Z2 = (z.zone for z in ZONES)


def observe(replicas: tuple[ReplicaView, ...] = (), target: int = 3) -> Observation:
    return Observation(now=0.0, target=target, zones=ZONES, replicas=replicas)


def spot(rid: int, zone: ZoneId) -> ReplicaView:
    return ReplicaView(ReplicaId(rid), zone, True, ReplicaState.READY, 0.0)


def test_on_demand_only_keeps_target_on_demand_replicas() -> None:
    policy = OnDemandOnly()
    decision = policy.decide(observe(target=2), None)
    assert [(a.is_spot) for a in decision.actions if isinstance(a, Launch)] == [False, False]
    assert policy.decide(apply(observe(target=2), decision.actions), None).actions == ()


def test_even_spread_fills_the_emptiest_zone_even_right_after_it_lost_a_replica() -> None:
    policy = EvenSpread()
    decision = policy.decide(observe(), None)
    assert Counter(a.zone for a in decision.actions if isinstance(a, Launch)) == {
        Z0: 1,
        Z1: 1,
        Z2: 1,
    }
    # Z0's replica was preempted: even spread relaunches there, the zone with fewest replicas
    decision = policy.decide(observe((spot(1, Z1), spot(2, Z2))), None)
    assert [a.zone for a in decision.actions if isinstance(a, Launch)] == [Z0]


def test_round_robin_relaunches_in_the_next_zone() -> None:
    policy = RoundRobin()
    state = policy.initial_state(ZONES)
    decision = policy.decide(observe(), state)
    assert [a.zone for a in decision.actions if isinstance(a, Launch)] == [Z0, Z1, Z2]
    decision = policy.decide(observe((spot(1, Z1), spot(2, Z2))), decision.state)
    assert [a.zone for a in decision.actions if isinstance(a, Launch)] == [Z0]
    decision = policy.decide(observe((spot(1, Z1), spot(2, Z2))), decision.state)
    assert [a.zone for a in decision.actions if isinstance(a, Launch)] == [Z1]


def test_spot_baselines_trim_extra_replicas() -> None:
    many = tuple(spot(i, Z0) for i in range(5))
    for policy in (EvenSpread(), RoundRobin()):
        state = policy.initial_state(ZONES)
        actions = policy.decide(observe(many), state).actions  # type: ignore[arg-type]
        assert sum(isinstance(a, Terminate) for a in actions) == 2
