"""Simulator invariants, checked by replaying the event log independently of the simulator."""

from __future__ import annotations

import functools
import hashlib
import json
from collections import defaultdict

import pytest

from hedgeserve.sim.experiment import Experiment, ExperimentResult, run_experiment
from hedgeserve.sim.workload import Poisson
from tests.sim.synthetic import markov_trace

SPOT_POLICIES = ("spothedge", "even_spread", "round_robin")
ALL = (*SPOT_POLICIES, "on_demand", "optimal")


@functools.cache
def run(
    seed: int, policies: tuple[str, ...] = ALL, cold_start_s: float = 120.0
) -> tuple[ExperimentResult, Experiment]:
    trace = markov_trace(seed, prices=bool(seed % 2))
    exp = Experiment(policies=policies, hours=8, repeats=2, seed=seed, cold_start_s=cold_start_s,
                     workload=Poisson(0.2))
    return run_experiment(trace, exp, keep_logs=True), exp


def replay(log: list[tuple]) -> dict[str, object]:  # type: ignore[type-arg]
    """Walk the log: held spot per zone vs capacity, cold starts, ready-count timeline."""
    holds: set[int] = set()  # replicas that got an instance
    launched_at: dict[int, float] = {}
    held: dict[int, int] = defaultdict(int)
    capacity: dict[int, int] = {}
    zone_of: dict[int, int] = {}
    spot_of: dict[int, bool] = {}
    ready: set[int] = set()
    timeline: list[tuple[float, int]] = []
    overflow = []
    cold_starts = []
    times = sorted({row[0] for row in log})
    by_time: dict[float, list[tuple]] = defaultdict(list)  # type: ignore[type-arg]
    for row in log:
        by_time[row[0]].append(row)
    for t in times:
        for _, ev, zone, rid, spot, cap in by_time[t]:
            if ev == "capacity":
                capacity[zone] = cap
            elif ev == "launch":
                launched_at[rid], zone_of[rid], spot_of[rid] = t, zone, bool(spot)
                # the model: a spot launch holds an instance iff the zone has free capacity
                if not spot or held[zone] < capacity[zone]:
                    holds.add(rid)
                    held[zone] += int(bool(spot))
            elif ev == "ready":
                cold_starts.append(t - launched_at[rid])
                ready.add(rid)
            elif ev == "launch_failed":
                assert rid not in holds, f"replica {rid} held an instance yet failed to launch"
            elif ev in ("preempted", "terminated"):
                ready.discard(rid)
                if spot_of[rid] and rid in holds:
                    held[zone_of[rid]] -= 1
                    holds.discard(rid)
        for zone, n in held.items():
            if n > capacity[zone]:
                overflow.append((t, zone, n, capacity[zone]))
        timeline.append((t, len(ready)))
    return {"overflow": overflow, "cold_starts": cold_starts, "timeline": timeline}


def availability_from(timeline: list[tuple[float, int]], target: int, start: float, end: float) -> float:
    ok = 0.0
    for (t0, n), (t1, _) in zip(timeline, [*timeline[1:], (end, 0)], strict=True):
        lo, hi = max(t0, start), min(t1, end)
        if n >= target and hi > lo:
            ok += hi - lo
    return 100.0 * ok / (end - start)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_spot_held_never_exceeds_capacity(seed: int) -> None:
    result, _ = run(seed)
    for key, log in result.logs.items():
        assert replay(log)["overflow"] == [], key


@pytest.mark.parametrize("seed", [1, 4])
def test_no_replica_is_ready_before_its_cold_start(seed: int) -> None:
    result, exp = run(seed, SPOT_POLICIES, cold_start_s=240.0)
    for key, log in result.logs.items():
        starts = replay(log)["cold_starts"]
        assert starts, key
        assert min(starts) >= exp.cold_start_s - 1e-9, key  # type: ignore[type-var]


@pytest.mark.parametrize("seed", [1, 2])
def test_availability_recomputed_from_the_event_log_equals_the_reported_one(seed: int) -> None:
    result, exp = run(seed)
    horizon = exp.hours * 3600
    for r in result.runs:
        timeline = replay(result.logs[(r.policy, r.repeat)])["timeline"]
        recomputed = availability_from(timeline, exp.target, exp.cold_start_s, horizon)  # type: ignore[arg-type]
        assert recomputed == pytest.approx(r.availability, abs=1e-9), r.policy


def test_same_seed_same_events_other_seed_other_events() -> None:
    def digest(seed: int) -> str:
        trace = markov_trace(7)
        exp = Experiment(policies=SPOT_POLICIES, hours=12, repeats=2, seed=seed)
        res = run_experiment(trace, exp, keep_logs=True)
        payload = json.dumps([sorted(res.logs.items()), [r.to_dict() for r in res.runs]])
        return hashlib.sha256(payload.encode()).hexdigest()

    assert digest(3) == digest(3)
    assert digest(3) != digest(4)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_optimal_never_costs_more_than_a_policy_with_the_same_availability(seed: int) -> None:
    result, _ = run(seed)
    by_repeat: dict[int, dict[str, object]] = defaultdict(dict)
    for r in result.runs:
        by_repeat[r.repeat][r.policy] = r
    for repeat, runs in by_repeat.items():
        optimal = runs["optimal"]
        assert optimal.availability == pytest.approx(100.0)  # type: ignore[attr-defined]
        for name, other in runs.items():
            if other.availability >= optimal.availability - 1e-9:  # type: ignore[attr-defined]
                assert optimal.cost <= other.cost * (1 + 1e-6), (repeat, name)  # type: ignore[attr-defined]


def test_on_demand_policy_pays_exactly_the_on_demand_reference() -> None:
    result, _ = run(3, policies=("on_demand",))
    for r in result.runs:
        assert r.cost_vs_on_demand == pytest.approx(100.0)
        assert r.availability == pytest.approx(100.0)
        assert r.preemptions == 0 and r.on_demand_share == pytest.approx(100.0)


def test_spothedge_beats_even_spread_on_availability_at_a_fraction_of_on_demand() -> None:
    result, _ = run(8, policies=("spothedge", "even_spread", "on_demand"))
    means = {m["policy"]: m for m in result.means()}
    assert means["spothedge"]["availability"] > means["even_spread"]["availability"]
    assert means["spothedge"]["cost_vs_on_demand"] < 100.0  # type: ignore[operator]
