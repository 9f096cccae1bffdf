"""SpotHedge's decide(): spreading, over-provisioning, fallback and release, level-triggering."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st
from tests.core.world import apply, make_ready

from hedgeserve.core.decisions import Launch, Observation, Terminate
from hedgeserve.core.replicas import ReplicaId, ReplicaState, ReplicaView, ZoneEvent, ZoneSignal
from hedgeserve.core.spothedge import SpotHedge
from hedgeserve.core.zone_sets import ZoneSets
from hedgeserve.core.zones import ZoneId, ZoneOffer

ZONES = tuple(
    ZoneOffer(ZoneId(f"gcp/r{i}/z{i}"), spot_per_hour=1.0 + i / 10, on_demand_per_hour=5.0 + i)
    for i in range(4)
)
Z0, Z1, Z2, Z3 = (z.zone for z in ZONES)


def observe(replicas: tuple[ReplicaView, ...] = (), target: int = 3, **kw: object) -> Observation:
    return Observation(now=0.0, target=target, zones=ZONES, replicas=replicas, **kw)  # type: ignore[arg-type]


def test_fresh_service_launches_target_plus_extra_spot_in_distinct_cheapest_zones() -> None:
    policy = SpotHedge(extra=1)
    decision = policy.decide(observe(), policy.initial_state(ZONES))
    spot = [a for a in decision.actions if isinstance(a, Launch) and a.is_spot]
    on_demand = [a for a in decision.actions if isinstance(a, Launch) and not a.is_spot]
    assert [a.zone for a in spot] == [Z0, Z1, Z2, Z3]  # 3 + 1, cheapest first, one per zone
    # nothing is ready yet: O = min(3, 3 + 1 - 0) = 3 on-demand in the cheapest OD zone(s)
    assert len(on_demand) == 3 and on_demand[0].zone == Z0


def test_more_spot_than_zones_goes_to_the_cheapest_active_zone() -> None:
    policy = SpotHedge(extra=3)
    decision = policy.decide(observe(target=3), policy.initial_state(ZONES))
    zones = Counter(a.zone for a in decision.actions if isinstance(a, Launch) and a.is_spot)
    # 6 over 4 zones: one per zone first, then the cheapest active zone (price beats spreading)
    assert zones == {Z0: 3, Z1: 1, Z2: 1, Z3: 1}


def test_on_demand_is_released_once_spot_is_ready() -> None:
    policy = SpotHedge(extra=1)
    state = policy.initial_state(ZONES)
    obs = apply(observe(), policy.decide(observe(), state).actions)
    obs = make_ready(obs)  # every spot and on-demand replica is ready now
    decision = policy.decide(obs, state)
    assert decision.actions and all(isinstance(a, Terminate) for a in decision.actions)
    released = {a.replica for a in decision.actions if isinstance(a, Terminate)}
    assert released == {r.id for r in obs.replicas if not r.is_spot}


def test_preemption_moves_zone_to_preempted_and_replaces_elsewhere() -> None:
    policy = SpotHedge(extra=1)
    state = policy.initial_state(ZONES)
    obs = make_ready(apply(observe(), policy.decide(observe(), state).actions))
    obs = apply(obs, policy.decide(obs, state).actions)  # on-demand released
    lost = next(r for r in obs.replicas if r.zone == Z0)
    survivors = tuple(r for r in obs.replicas if r.id != lost.id)
    obs = replace(obs, replicas=survivors, events=(ZoneEvent(Z0, ZoneSignal.PREEMPTED, 1.0),))
    decision = policy.decide(obs, state)
    assert decision.state.preempted == {Z0}
    launches = [a for a in decision.actions if isinstance(a, Launch)]
    spot = [a for a in launches if a.is_spot]
    assert len(spot) == 1 and spot[0].zone != Z0  # Z0 is cheapest but preempted
    # 3 ready spot < 3 + 1: one on-demand replica covers the gap while the replacement starts
    assert sum(not a.is_spot for a in launches) == 1


def test_base_ondemand_is_kept_and_counts_towards_the_total() -> None:
    policy = SpotHedge(extra=1, base_ondemand=1)
    obs = make_ready(
        apply(observe(), policy.decide(observe(), policy.initial_state(ZONES)).actions)
    )
    obs = apply(obs, policy.decide(obs, policy.initial_state(ZONES)).actions)
    kinds = Counter(r.is_spot for r in obs.replicas)
    assert kinds == {True: 3, False: 1}


def test_scale_down_terminates_not_ready_and_newest_first() -> None:
    replicas = (
        ReplicaView(ReplicaId(1), Z0, True, ReplicaState.READY, launched_at=0.0),
        ReplicaView(ReplicaId(2), Z1, True, ReplicaState.READY, launched_at=5.0),
        ReplicaView(ReplicaId(3), Z2, True, ReplicaState.LAUNCHING, launched_at=1.0),
    )
    policy = SpotHedge(extra=0, dynamic_fallback=False)
    decision = policy.decide(
        observe(replicas, target=1), ZoneSets.all_active(z.zone for z in ZONES)
    )
    assert [a.replica for a in decision.actions if isinstance(a, Terminate)] == [3, 2]


replica_views = st.builds(
    ReplicaView,
    id=st.integers(0, 10_000).map(ReplicaId),
    zone=st.sampled_from([z.zone for z in ZONES]),
    is_spot=st.booleans(),
    state=st.sampled_from([ReplicaState.LAUNCHING, ReplicaState.READY]),
    launched_at=st.floats(0, 100),
)


@settings(max_examples=200, deadline=None)
@given(
    replicas=st.lists(replica_views, max_size=12, unique_by=lambda r: r.id),
    target=st.integers(0, 6),
    extra=st.integers(0, 3),
    base=st.integers(0, 2),
    preempted=st.sets(st.sampled_from([z.zone for z in ZONES]), max_size=2),
)
def test_level_triggered_applying_a_decision_then_deciding_again_does_nothing(
    replicas: list[ReplicaView], target: int, extra: int, base: int, preempted: set[ZoneId]
) -> None:
    policy = SpotHedge(extra=extra, base_ondemand=base)
    all_zones = frozenset(z.zone for z in ZONES)
    state = ZoneSets(active=all_zones - preempted, preempted=frozenset(preempted))
    obs = observe(tuple(replicas), target=target)
    first = policy.decide(obs, state)
    second = policy.decide(apply(obs, first.actions), first.state)
    # launches are not ready yet, so the on-demand count may only stay the same
    assert second.actions == ()
    after = apply(obs, first.actions)
    spot = sum(r.is_spot for r in after.replicas)
    assert spot == target + extra - min(base, target + extra)
    assert sum(not r.is_spot for r in after.replicas) <= max(target, min(base, target + extra))
