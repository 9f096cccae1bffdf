"""The Optimal baseline: the integer program against brute force, its plan's promises on the
trace it was solved for (fine and aggregated), and `OptimalPolicy` following a plan.

Readiness is recomputed here with plain loops (a replica is ready at tick t if held through
ticks t-d .. t), independently of `optimal_plan.ready_counts`.
"""

from __future__ import annotations

import itertools
import math
import random
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hedgeserve.core.decisions import Launch, Observation, Terminate
from hedgeserve.core.optimal_ilp import solve_optimal
from hedgeserve.core.optimal_plan import OptimalPlan, drop_idle_holds, ready_counts
from hedgeserve.core.optimal_policy import OptimalPolicy
from hedgeserve.core.replicas import ReplicaId, ReplicaState, ReplicaView
from hedgeserve.core.zones import ZoneId
from hedgeserve.errors import InputError

UNLIMITED = 1_000_000
ZONES = (
    ZoneId("aws/us-east-1/us-east-1a"),
    ZoneId("aws/us-east-1/us-east-1b"),
    ZoneId("gcp/us-central1/us-central1-a"),
)
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --- independent reference computations ------------------------------------------------------


def ready_loop(held: list[int], d: int) -> list[int]:
    """Replicas held through every tick t-d .. t (nothing is held before tick 0)."""
    return [
        min(held[tau] if tau >= 0 else 0 for tau in range(t - d, t + 1)) for t in range(len(held))
    ]


def brute_force(
    cap: np.ndarray, price: np.ndarray, od: float, need: int, d: int, availability: float
) -> float:
    """Cheapest cost over every integer schedule of 2 zones + on-demand (hours = 1 per tick)."""
    zones, ticks = cap.shape

    def enumerate_rows(limits: list[int]) -> np.ndarray:
        return np.array(list(itertools.product(*(range(c + 1) for c in limits))))

    rows = [enumerate_rows(list(cap[z])) for z in range(zones)]
    rows.append(enumerate_rows([need + 1] * ticks))
    ready = [np.array([ready_loop(list(r), d) for r in sched], dtype=np.int8) for sched in rows]
    cost = [sched @ price[z] for z, sched in enumerate(rows[:zones])] + [rows[-1].sum(1) * od]
    total_ready = (
        ready[0][:, None, None, :] + ready[1][None, :, None, :] + ready[2][None, None, :, :]
    )
    total_cost = cost[0][:, None, None] + cost[1][None, :, None] + cost[2][None, None, :]
    covered = (total_ready[..., d:] >= need).sum(-1)
    needed = ticks - d if availability >= 1.0 else math.ceil(availability * (ticks - d) - 1e-9)
    return float(total_cost[covered >= needed].min())


def replay(
    plan: OptimalPlan,
    fine_cap: np.ndarray,
    fine_gap: float,
    cold_start: float,
    start: float = 1000.0,
) -> list[int]:
    """Follow `OptimalPolicy` from `start`, calling it whenever it asks; launch at the call,
    ready `cold_start` later. Like the simulator, a capacity drop at a tick boundary preempts
    random excess replicas *before* the policy is called. Checks capacity on every fine tick;
    returns ready per plan tick at the tick's start (readiness only grows inside a tick, so
    that is its minimum)."""
    rng = random.Random(int(fine_cap.sum()))
    policy = OptimalPolicy(plan=plan, start=start, zones=ZONES[: plan.spot.shape[0]])
    live: dict[int, tuple[ZoneId, bool, float]] = {}
    next_id = 0
    ready_per_tick = []
    now: float | None = start
    for tick in range(plan.n_ticks):
        assert now is not None and now == pytest.approx(start + tick * plan.gap_s)
        first_fine = int(round((now - start) / fine_gap))
        for z, zone in enumerate(policy.zones):
            held = [i for i, (zz, spot, _) in live.items() if spot and zz == zone]
            for i in rng.sample(held, max(0, len(held) - int(fine_cap[z, first_fine]))):
                del live[i]
        views = tuple(
            ReplicaView(
                ReplicaId(i),
                z,
                spot,
                ReplicaState.READY if at + cold_start <= now else ReplicaState.LAUNCHING,
                at,
            )
            for i, (z, spot, at) in live.items()
        )
        decision = policy.decide(Observation(now, 0, (), views), None)
        for action in decision.actions:
            if isinstance(action, Terminate):
                del live[action.replica]
            else:
                live[next_id] = (action.zone, action.is_spot, now)
                next_id += 1
        ready_per_tick.append(sum(at + cold_start <= now for _, _, at in live.values()))
        for f in range(
            first_fine,
            min(int(round((now - start + plan.gap_s) / fine_gap)), fine_cap.shape[1]),
        ):
            for z, zone in enumerate(policy.zones):
                held = sum(1 for zz, spot, _ in live.values() if spot and zz == zone)
                assert held <= fine_cap[z, f], f"zone {z} holds {held} > capacity at tick {f}"
        now = decision.next_check_at
    assert now is None  # the last tick asks for no further call
    return ready_per_tick


# --- strategies ----------------------------------------------------------------------------


@st.composite
def tiny_instances(draw: st.DrawFn) -> dict:
    cap = np.array(draw(st.lists(st.integers(0, 2), min_size=8, max_size=8))).reshape(2, 4)
    price = np.array(
        draw(st.lists(st.integers(1, 6), min_size=8, max_size=8)), dtype=float
    ).reshape(2, 4)
    return dict(
        cap=cap,
        price=price,
        od=float(draw(st.integers(2, 12))),
        need=draw(st.integers(1, 2)),
        cold=draw(st.sampled_from([0.0, 1800.0, 3600.0, 5400.0])),  # d = 0, 1, 1, 2
        availability=draw(st.sampled_from([1.0, 0.5, 0.75])),
    )


@st.composite
def traces(draw: st.DrawFn, zones: int = 3, ticks: tuple[int, int] = (8, 30)) -> np.ndarray:
    n = draw(st.integers(*ticks))
    values = st.one_of(st.integers(0, 4), st.just(UNLIMITED))
    return np.array(draw(st.lists(values, min_size=zones * n, max_size=zones * n))).reshape(
        zones, n
    )


# --- the integer program ------------------------------------------------------------------


@SETTINGS
@given(tiny_instances())
def test_matches_brute_force_on_two_zones_four_ticks(case: dict) -> None:
    plan = solve_optimal(
        case["cap"],
        gap_s=3600,
        spot_price=case["price"],
        on_demand_price=case["od"],
        target=case["need"],
        cold_start_s=case["cold"],
        availability_target=case["availability"],
        mip_rel_gap=0.0,
    )
    d = math.ceil(case["cold"] / 3600)
    expected = brute_force(
        case["cap"], case["price"], case["od"], case["need"], d, case["availability"]
    )
    assert plan.cost_usd == pytest.approx(expected, abs=1e-6)
    assert plan.availability >= case["availability"] - 1e-9
    assert plan.lower_bound_usd is not None and plan.lower_bound_usd <= expected + 1e-6
    assert plan.mip_gap == pytest.approx(0.0, abs=1e-6)


@SETTINGS
@given(traces(), st.integers(1, 3), st.sampled_from([0.0, 60.0, 120.0, 300.0]))
def test_plan_respects_capacity_and_is_ready_after_warmup(
    cap: np.ndarray, need: int, cold: float
) -> None:
    plan = solve_optimal(
        cap,
        gap_s=60,
        spot_price=[1.0, 1.2, 0.9],
        on_demand_price=3.0,
        target=need,
        cold_start_s=cold,
    )
    d = math.ceil(cold / 60)
    assert plan.status == "optimal" and plan.warmup_ticks == min(d, cap.shape[1])
    assert (plan.spot <= cap).all() and (plan.spot >= 0).all() and (plan.on_demand >= 0).all()
    ready = [
        sum(ready_loop(list(row), d)[t] for row in plan.spot)
        + ready_loop(list(plan.on_demand), d)[t]
        for t in range(cap.shape[1])
    ]
    assert ready == list(plan.ready)
    assert all(r >= need for r in ready[d:])
    # The plan never costs more than the trivial feasible schedule: N_tar on-demand throughout.
    assert plan.cost_usd <= need * 3.0 * cap.shape[1] / 60 + 1e-9


@SETTINGS
@given(traces(zones=2, ticks=(10, 24)), st.sampled_from([0.5, 0.8, 0.95]))
def test_lower_availability_never_costs_more_and_meets_the_fraction(
    cap: np.ndarray, fraction: float
) -> None:
    args = dict(
        gap_s=300, spot_price=1.0, on_demand_price=3.0, target=2, cold_start_s=120, mip_rel_gap=0.0
    )
    full = solve_optimal(cap, **args)
    partial = solve_optimal(cap, availability_target=fraction, **args)
    assert partial.cost_usd <= full.cost_usd + 1e-9
    assert partial.availability >= fraction - 1e-9
    assert full.availability == 1.0


def test_lower_availability_skips_an_outage_instead_of_paying_for_on_demand() -> None:
    cap = np.full((2, 24), UNLIMITED)
    # No spot in ticks 10-12; relaunched spot is ready from tick 14, so 4 of the 23 ticks
    # after warm-up lack ready spot: 80 % availability (19 ticks) can skip them all.
    cap[:, 10:13] = 0
    args = dict(
        gap_s=600, spot_price=1.0, on_demand_price=3.0, target=3, cold_start_s=120, mip_rel_gap=0.0
    )
    full = solve_optimal(cap, **args)
    partial = solve_optimal(cap, availability_target=0.8, **args)
    assert full.on_demand.sum() > 0 and full.availability == 1.0
    assert partial.on_demand.sum() == 0 and partial.cost_usd < full.cost_usd
    assert partial.availability == pytest.approx(19 / 23)


@SETTINGS
@given(traces(ticks=(12, 40)), st.integers(2, 4), st.sampled_from([60.0, 90.0, 150.0]))
def test_aggregated_plan_is_feasible_on_the_fine_trace(
    cap: np.ndarray, factor: int, cold: float
) -> None:
    rng = np.random.default_rng(cap.shape[1])
    price = rng.uniform(0.5, 1.5, cap.shape)
    args = dict(gap_s=60, spot_price=price, on_demand_price=3.0, target=2, cold_start_s=cold)
    coarse = solve_optimal(cap, aggregate=factor, **args)
    fine = solve_optimal(cap, mip_rel_gap=0.0, **args)
    assert coarse.gap_s == 60 * factor and coarse.n_ticks == math.ceil(cap.shape[1] / factor)
    # Expanded onto the fine ticks, the coarse plan stays within every fine tick's capacity
    # and costs exactly what the trace's per-tick prices say.
    spot = np.repeat(coarse.spot, factor, axis=1)[:, : cap.shape[1]]
    od = np.repeat(coarse.on_demand, factor)[: cap.shape[1]]
    assert (spot <= cap).all()
    assert coarse.cost_usd == pytest.approx(((spot * price).sum() + od.sum() * 3.0) / 60)
    # A finer plan can copy a coarser one, so aggregation only ever costs more.
    assert coarse.cost_usd >= fine.cost_usd - 1e-6
    ready = replay(coarse, cap, 60.0, cold)
    assert all(r >= 2 for r in ready[coarse.warmup_ticks :])


def test_max_ticks_picks_the_aggregation_factor() -> None:
    cap = np.full((2, 100), 3)
    plan = solve_optimal(
        cap, gap_s=30, spot_price=1.0, on_demand_price=3.0, target=2, cold_start_s=120, max_ticks=30
    )
    assert plan.aggregate == 4 and plan.n_ticks == 25 and plan.gap_s == 120
    assert plan.warmup_ticks == 1 and plan.availability == 1.0


def test_subdividing_times_launches_closer_to_need() -> None:
    # Spot appears in zone 0 only after 3 h; with 1 h ticks a replica must be held a whole
    # tick to cover a 10 min cold start, with 10 min sub-ticks only 10 min.
    cap = np.array([[0, 0, 0, UNLIMITED, UNLIMITED, UNLIMITED]])
    args = dict(
        gap_s=3600, spot_price=1.0, on_demand_price=3.0, target=1, cold_start_s=600, mip_rel_gap=0.0
    )
    coarse = solve_optimal(cap, **args)
    fine = solve_optimal(cap, subdivide=6, **args)
    assert fine.gap_s == 600 and fine.n_ticks == 36 and fine.warmup_ticks == 1
    assert fine.cost_usd < coarse.cost_usd
    assert all(r >= 1 for r in replay(fine, np.repeat(cap, 6, axis=1), 600.0, 600)[1:])


def test_per_tick_target_and_per_zone_on_demand_price() -> None:
    target = np.array([1, 1, 2, 2, 4, 4, 1, 1])
    plan = solve_optimal(
        np.zeros((3, 8), dtype=int),
        gap_s=3600,
        spot_price=1.0,
        on_demand_price=[5.0, 2.0, 4.0],
        target=target,
        cold_start_s=3600,
    )
    assert plan.on_demand_zone == 1 and plan.spot.sum() == 0
    assert (plan.ready[1:] >= target[1:]).all()
    # Only on-demand: each replica is held one tick before it serves.
    assert plan.cost_usd == pytest.approx(2.0 * plan.on_demand.sum())


def test_cold_start_longer_than_the_horizon_holds_nothing() -> None:
    plan = solve_optimal(
        np.full((1, 3), 5),
        gap_s=60,
        spot_price=1.0,
        on_demand_price=3.0,
        target=2,
        cold_start_s=600,
    )
    assert plan.warmup_ticks == 3 and plan.cost_usd == 0.0 and plan.availability == 1.0


@SETTINGS
@given(traces(ticks=(1, 20)).map(lambda c: np.minimum(c, 5)), st.integers(0, 3))
def test_dropping_idle_holds_keeps_ready_counts_and_never_adds(held: np.ndarray, d: int) -> None:
    trimmed = drop_idle_holds(held, d)
    assert (trimmed <= held).all()
    assert (ready_counts(trimmed, d) == ready_counts(held, d)).all()
    assert (drop_idle_holds(trimmed, d) == trimmed).all()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (dict(capacity=np.zeros(4)), "capacity must be a \\(zones, ticks\\)"),
        (dict(capacity=-np.ones((2, 4))), "capacity must be >= 0"),
        (dict(capacity=np.full((2, 4), 0.5)), "whole numbers"),
        (dict(gap_s=0.0), "gap_s must be a positive"),
        (dict(cold_start_s=-1.0), "cold start must be >= 0"),
        (dict(spot_price=np.ones(3)), "spot price shape"),
        (dict(spot_price=-1.0), "spot prices must be finite"),
        (dict(on_demand_price=[1.0, 2.0, 3.0]), "on-demand price must be a scalar"),
        (dict(target=[1, 2]), "target must be an int or one value per tick"),
        (dict(target=-1), "whole numbers >= 0"),
        (dict(availability_target=0.0), "availability target must be in"),
        (dict(aggregate=0), "aggregation factor"),
        (dict(max_ticks=0), "max_ticks"),
        (dict(subdivide=0), "subdivide"),
    ],
    ids=lambda v: v if isinstance(v, str) else "-".join(v),
)
def test_bad_input_raises_input_error(change: dict, message: str) -> None:
    args = dict(
        capacity=np.ones((2, 4), dtype=int),
        gap_s=60.0,
        spot_price=1.0,
        on_demand_price=3.0,
        target=1,
        cold_start_s=60.0,
    )
    args.update(change)
    with pytest.raises(InputError, match=message):
        solve_optimal(**args)


# --- the policy ---------------------------------------------------------------------------


def hand_plan(
    spot: list[list[int]], od: list[int], od_zone: int = 0, gap: float = 60.0, d: int = 1
) -> OptimalPlan:
    s, o = np.array(spot, dtype=np.int64), np.array(od, dtype=np.int64)
    ready = ready_counts(s, d).sum(0) + ready_counts(o[None, :], d)[0]
    return OptimalPlan(
        gap_s=gap,
        spot=s,
        on_demand=o,
        on_demand_zone=od_zone,
        ready=ready,
        target=np.ones_like(o),
        warmup_ticks=d,
        cost_usd=0.0,
        status="optimal",
    )


def view(i: int, zone: int, spot: bool, ready: bool, at: float) -> ReplicaView:
    state = ReplicaState.READY if ready else ReplicaState.LAUNCHING
    return ReplicaView(ReplicaId(i), ZONES[zone], spot, state, at)


def test_policy_launches_missing_replicas_and_asks_for_the_next_tick() -> None:
    policy = OptimalPolicy(
        plan=hand_plan([[2, 2], [0, 1]], [1, 0], od_zone=1), start=100.0, zones=ZONES[:2]
    )
    decision = policy.decide(Observation(100.0, 3, (), ()), None)
    launches = [(a.zone, a.is_spot) for a in decision.actions if isinstance(a, Launch)]
    assert sorted(launches) == sorted([(ZONES[0], True), (ZONES[0], True), (ZONES[1], False)])
    assert len(decision.actions) == 3 and decision.next_check_at == 160.0


def test_policy_terminates_not_ready_first_then_newest() -> None:
    policy = OptimalPolicy(plan=hand_plan([[1, 1]], [0, 0]), start=0.0, zones=ZONES[:1])
    replicas = (
        view(1, 0, True, True, at=0.0),
        view(2, 0, True, True, at=30.0),  # newest ready
        view(3, 0, True, False, at=50.0),  # launching
        view(4, 0, True, True, at=10.0),
        view(5, 1, True, True, at=0.0),  # a zone the plan does not use
        view(6, 0, False, True, at=0.0),  # on-demand the plan does not hold
    )
    decision = policy.decide(Observation(65.0, 3, (), replicas), None)
    assert all(isinstance(a, Terminate) for a in decision.actions)
    assert [a.replica for a in decision.actions if isinstance(a, Terminate)] == [5, 3, 2, 4, 6]
    assert decision.next_check_at is None  # tick 1 is the plan's last


@SETTINGS
@given(traces(ticks=(4, 16)), st.integers(1, 3))
def test_policy_emits_nothing_when_replicas_match_the_plan(cap: np.ndarray, need: int) -> None:
    plan = solve_optimal(
        cap, gap_s=60, spot_price=[1.0, 0.8, 1.1], on_demand_price=3.0, target=need, cold_start_s=90
    )
    policy = OptimalPolicy(plan=plan, start=7.0, zones=ZONES)
    for tick in range(plan.n_ticks):
        held = [(z, True) for z in range(3) for _ in range(plan.spot[z, tick])]
        held += [(plan.on_demand_zone, False)] * int(plan.on_demand[tick])
        replicas = tuple(view(i, z, spot, False, 0.0) for i, (z, spot) in enumerate(held))
        # A clock a hair before the boundary still lands in this tick.
        now = 7.0 + tick * 60 - 1e-9
        assert policy.decide(Observation(now, need, (), replicas), None).actions == ()


@SETTINGS
@given(traces(ticks=(6, 24)), st.sampled_from([30.0, 60.0, 120.0]))
def test_following_the_plan_reaches_its_availability(cap: np.ndarray, cold: float) -> None:
    plan = solve_optimal(
        cap, gap_s=60, spot_price=[1.0, 0.8, 1.1], on_demand_price=3.0, target=3, cold_start_s=cold
    )
    ready = replay(plan, cap, 60.0, cold)
    assert all(r >= p for r, p in zip(ready, plan.ready, strict=True))
    assert all(r >= 3 for r in ready[plan.warmup_ticks :])


def test_policy_before_start_and_after_end() -> None:
    policy = OptimalPolicy(plan=hand_plan([[1, 2]], [0, 1]), start=600.0, zones=ZONES[:1])
    early = policy.decide(Observation(0.0, 1, (), (view(1, 0, True, True, 0.0),)), None)
    assert [type(a) for a in early.actions] == [Terminate] and early.next_check_at == 600.0
    late = policy.decide(Observation(10_000.0, 1, (), ()), None)  # keeps the last tick
    assert len(late.actions) == 3 and late.next_check_at is None


def test_policy_rejects_zone_ids_that_do_not_fit_the_plan() -> None:
    plan = hand_plan([[1], [1]], [0])
    with pytest.raises(ValueError, match="2 zones"):
        OptimalPolicy(plan=plan, start=0.0, zones=ZONES[:1])
    with pytest.raises(ValueError, match="distinct"):
        OptimalPolicy(plan=plan, start=0.0, zones=(ZONES[0], ZONES[0]))


def test_plan_is_read_only_and_records_solve_time_from_the_caller() -> None:
    plan = solve_optimal(
        np.full((1, 4), 2), gap_s=60, spot_price=1.0, on_demand_price=3.0, target=1, cold_start_s=60
    )
    with pytest.raises(ValueError):
        plan.spot[0, 0] = 5
    assert plan.solve_s is None and replace(plan, solve_s=0.25).solve_s == 0.25
