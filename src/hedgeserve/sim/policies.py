"""Policy names the simulator knows, and how to build each for one trace window."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from hedgeserve.core.baselines import EvenSpread, OnDemandOnly, RoundRobin
from hedgeserve.core.decisions import Policy
from hedgeserve.core.optimal_ilp import solve_optimal
from hedgeserve.core.optimal_policy import OptimalPolicy
from hedgeserve.core.spothedge import SpotHedge
from hedgeserve.errors import InputError
from hedgeserve.sim.pricing import PriceBook
from hedgeserve.traces.model import Trace

if TYPE_CHECKING:
    from hedgeserve.sim.experiment import Experiment

POLICY_NAMES = ("spothedge", "even_spread", "round_robin", "on_demand", "optimal")
MAX_PLAN_TICKS = 1500  # keeps a 24 h optimum solving in seconds


def build_policy(
    name: str, experiment: Experiment, window: Trace, prices: PriceBook
) -> Policy[Any]:
    if name == "spothedge":
        return SpotHedge(extra=experiment.extra, base_ondemand=experiment.base_ondemand)
    if name == "even_spread":
        return EvenSpread()
    if name == "round_robin":
        return RoundRobin()
    if name == "on_demand":
        return OnDemandOnly()
    if name == "optimal":
        if experiment.autoscaler is not None:
            raise InputError(
                "the optimal baseline needs a fixed N_tar",
                where="--policies optimal",
                fix="drop --autoscale, or drop optimal from --policies",
            )
        plan = solve_optimal(
            window.capacity,
            gap_s=window.gap_s,
            spot_price=prices.spot,
            on_demand_price=prices.on_demand,
            target=experiment.target,
            cold_start_s=experiment.cold_start_s,
            subdivide=plan_subdivision(window.gap_s, experiment.cold_start_s, window.n_ticks),
            max_ticks=MAX_PLAN_TICKS,  # long runs merge ticks (at the zone's minimum capacity)
        )
        return OptimalPolicy(plan, start=0.0, zones=window.zones)
    raise ValueError(f"unknown policy {name!r}")


def plan_subdivision(gap_s: float, cold_start_s: float, n_ticks: int) -> int:
    """Plan ticks per trace tick for the optimum. A plan launches a replica a whole number of
    plan ticks before it must serve, so a tick as long as the trace's (5–10 min) would make the
    optimum pay for idle lead time a real launch does not need; pick the split whose lead time
    is closest to the cold start, within the tick budget."""
    if cold_start_s <= 0:
        return 1
    best, best_lead = 1, float("inf")
    for sub in range(1, 7):
        if n_ticks * sub > MAX_PLAN_TICKS:
            break
        fine = gap_s / sub
        lead = math.ceil(cold_start_s / fine - 1e-9) * fine
        if lead < best_lead - 1e-9:
            best, best_lead = sub, lead
    return best
