"""The mix solver against brute force, and its invariants (hypothesis)."""

from __future__ import annotations

import itertools
import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hedgeserve.planner.solver import (
    NoPlan,
    Option,
    Problem,
    check_plan,
    single_type_plan,
    solve_mix,
)

TOL = 1e-6


def _fits_two_types(problem: Problem, n: tuple[int, ...]) -> bool:
    """Exact feasibility for two types: a fractional knapsack, solved greedily.

    Fill type 0 with the buckets where it is relatively strongest (highest T0/T1 first); what is
    left must fit type 1. Greedy by ratio is optimal for a fractional knapsack.
    """
    cap = [n[g] * (1 - problem.headroom) for g in range(2)]
    t0 = [o for o in problem.options[0].capacity_per_s]
    t1 = [o for o in problem.options[1].capacity_per_s]
    need1 = 0.0
    order = sorted((b for b, lam in enumerate(problem.loads_per_s) if lam > 0),
                   key=lambda b: (math.inf if t1[b] == 0 else t0[b] / t1[b]), reverse=True)
    for b in order:
        lam = problem.loads_per_s[b]
        if t0[b] > 0:
            take = min(1.0, cap[0] * t0[b] / lam) if lam else 1.0
            cap[0] -= take * lam / t0[b]
        else:
            take = 0.0
        rest = 1.0 - take
        if rest > 1e-12:
            if t1[b] == 0:
                return False
            need1 += rest * lam / t1[b]
    return need1 <= cap[1] + 1e-9


def _fits_by_lp(problem: Problem, n: tuple[int, ...]) -> bool:
    """Feasibility of a fixed replica vector: a pure LP (no integers) over the split."""
    from scipy.optimize import linprog

    pairs = [(b, g) for b, lam in enumerate(problem.loads_per_s) if lam > 0
             for g in range(len(n)) if problem.options[g].capacity_per_s[b] > 0]
    buckets = sorted({b for b, _ in pairs})
    if not pairs:
        return not any(lam > 0 for lam in problem.loads_per_s)
    if len(buckets) < sum(1 for lam in problem.loads_per_s if lam > 0):
        return False
    a_eq = [[1.0 if pb == b else 0.0 for pb, _ in pairs] for b in buckets]
    a_ub = [[problem.loads_per_s[b] / problem.options[g].capacity_per_s[b] if pg == g else 0.0
             for b, pg in pairs] for g in range(len(n))]
    b_ub = [n[g] * (1 - problem.headroom) for g in range(len(n))]
    result = linprog([0.0] * len(pairs), A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=[1.0] * len(buckets),
                     bounds=[(0, 1)] * len(pairs), method="highs")
    return bool(result.status == 0)


def brute_force_cost(problem: Problem, max_count: int) -> float | None:
    """Cheapest replica vector by enumeration: every vector up to max_count, in cost order."""
    counts = range(max_count + 1)
    def cost(n: tuple[int, ...]) -> float:
        return sum(o.price_per_hour * k for o, k in zip(problem.options, n, strict=True))

    vectors = sorted(itertools.product(counts, repeat=len(problem.options)), key=cost)
    fits = _fits_two_types if len(problem.options) == 2 else _fits_by_lp
    for n in vectors:
        if sum(n) < problem.min_replicas:
            continue
        if fits(problem, n):
            return cost(n)
    return None


def random_problem(rng: random.Random, n_types: int) -> Problem:
    n_buckets = rng.randint(1, 5)
    loads = tuple(round(rng.uniform(0, 3), 3) if rng.random() > 0.15 else 0.0
                  for _ in range(n_buckets))
    options = []
    for g in range(n_types):
        caps = tuple(0.0 if rng.random() < 0.15 else round(rng.uniform(0.3, 6), 3)
                     for _ in range(n_buckets))
        options.append(Option(f"gpu{g}", round(rng.uniform(0.5, 8), 2), caps))
    # Every loaded bucket must be servable by someone, else there is nothing to compare.
    for b, lam in enumerate(loads):
        if lam > 0 and all(o.capacity_per_s[b] == 0 for o in options):
            caps = list(options[0].capacity_per_s)
            caps[b] = 1.0
            options[0] = Option(options[0].name, options[0].price_per_hour, tuple(caps))
    return Problem(loads, tuple(options), headroom=rng.choice([0.0, 0.1, 0.25]),
                   min_replicas=rng.choice([0, 0, 1, 2]))


@pytest.mark.parametrize("seed", range(60))
def test_cost_equals_brute_force_optimum(seed: int) -> None:
    rng = random.Random(seed)
    problem = random_problem(rng, n_types=2 if seed < 35 else 3)
    # Enough replicas of any type that can serve everything; bounded to keep enumeration small.
    max_count = 14 if len(problem.options) == 2 else 8
    expected = brute_force_cost(problem, max_count)
    assert expected is not None, "instance generator made an instance beyond the enumeration"
    plan = solve_mix(problem)
    assert plan.cost_per_hour == pytest.approx(expected, abs=TOL)
    assert check_plan(problem, plan) == []


def test_two_type_oracle_agrees_with_lp_oracle() -> None:
    # The greedy knapsack oracle is only trusted because it matches the LP on the same inputs.
    rng = random.Random(1234)
    for _ in range(15):
        problem = random_problem(rng, n_types=2)
        for n in itertools.product(range(3), repeat=2):
            assert _fits_two_types(problem, n) == _fits_by_lp(problem, n), (problem, n)


problems = st.builds(
    lambda seed, types: random_problem(random.Random(seed), types),
    st.integers(0, 10_000), st.integers(1, 4))


@settings(max_examples=60, deadline=None)
@given(problems)
def test_mix_never_costs_more_than_any_single_type(problem: Problem) -> None:
    plan = solve_mix(problem)
    for g in range(len(problem.options)):
        base = single_type_plan(problem, g)
        if base is not None:
            assert plan.cost_per_hour <= base.cost_per_hour + TOL


@settings(max_examples=60, deadline=None)
@given(problems)
def test_every_bucket_served_and_capacity_respected(problem: Problem) -> None:
    plan = solve_mix(problem)
    for lam, row in zip(problem.loads_per_s, plan.split, strict=True):
        if lam > 0:
            assert sum(row) == pytest.approx(1.0, abs=1e-9)
            assert all(share >= 0 for share in row)
    for g, n in enumerate(plan.replicas):
        used = sum(lam * row[g] / problem.options[g].capacity_per_s[b]
                   for b, (lam, row) in enumerate(zip(problem.loads_per_s, plan.split, strict=True))
                   if row[g] > 0)
        assert used <= n * (1 - problem.headroom) + 1e-6
    assert sum(plan.replicas) >= problem.min_replicas


@pytest.mark.parametrize(
    ("loads", "capacity", "headroom", "expected"),
    [
        # 3 + 1 req/s at 2 and 4 req/s per replica: 1.5 + 0.25 = 1.75 -> 2 replicas
        ((3.0, 1.0), (2.0, 4.0), 0.0, 2),
        # with 20% headroom: 1.75 / 0.8 = 2.1875 -> 3
        ((3.0, 1.0), (2.0, 4.0), 0.2, 3),
        # exactly full: 4 req/s at 2 req/s -> 2 replicas, not 3 (no round-off creep)
        ((4.0,), (2.0,), 0.0, 2),
    ],
    ids=["plain", "headroom", "exact-fit"],
)
def test_single_type_baseline_is_ceiling_of_load(loads: tuple[float, ...],
                                                 capacity: tuple[float, ...], headroom: float,
                                                 expected: int) -> None:
    problem = Problem(loads, (Option("g", 1.0, capacity),), headroom)
    plan = single_type_plan(problem, 0)
    assert plan is not None and plan.replicas == (expected,)
    assert solve_mix(problem).replicas == (expected,)


def test_single_type_baseline_is_none_when_a_bucket_is_out_of_reach() -> None:
    problem = Problem((4.0, 1.0), (Option("small", 1.0, (5.0, 0.0)), Option("big", 4.0, (3, 2))))
    assert single_type_plan(problem, 0) is None
    # big alone: 4/3 + 1/2 = 1.83 replicas -> 2 x $4 = $8; small cannot serve bucket 1.
    assert single_type_plan(problem, 1).cost_per_hour == pytest.approx(8.0)  # type: ignore[union-attr]
    plan = solve_mix(problem)
    # small takes bucket 0 (4/5 = 0.8 replica), big bucket 1 (1/2 replica): $1 + $4 = $5
    assert plan.replicas == (1, 1) and plan.cost_per_hour == pytest.approx(5.0)


def test_quota_too_small_raises_no_plan() -> None:
    problem = Problem((10.0,), (Option("g", 1.0, (2.0,), max_replicas=3),))
    with pytest.raises(NoPlan, match="quotas"):
        solve_mix(problem)


def test_unservable_bucket_raises_no_plan() -> None:
    problem = Problem((1.0, 1.0), (Option("g", 1.0, (2.0, 0.0)),))
    with pytest.raises(NoPlan, match="bucket #1"):
        solve_mix(problem)


def test_zero_load_needs_only_min_replicas_of_the_cheapest() -> None:
    problem = Problem((0.0, 0.0), (Option("a", 3.0, (1, 1)), Option("b", 1.0, (1, 1))),
                      min_replicas=2)
    plan = solve_mix(problem)
    assert plan.replicas == (0, 2) and plan.cost_per_hour == pytest.approx(2.0)
