"""`OptimalPolicy`: follow a precomputed `OptimalPlan` tick by tick.

The policy is omniscient only through its plan; `decide` itself is a level-triggered diff: map
`obs.now` to the plan's tick, compare the replicas held per zone (spot) and in total (on-demand)
with the plan, and launch or terminate the difference. Termination order matters for the
plan's promise: the plan counts a replica ready only if it was held through its cold start, which
holds when the *oldest* replicas survive, so not-yet-ready replicas go first, newest first.

It asks to be called again at the start of the next tick (`next_check_at`), because the plan
changes at tick boundaries whether or not anything happens in the cloud. Before the plan starts
it holds nothing; after its last tick it keeps the last tick's holdings.

Stateless (`None` state): the plan is configuration, and `obs.target` is ignored because the
plan's targets were fixed when it was solved.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from hedgeserve.core.decisions import Action, Decision, Launch, Observation
from hedgeserve.core.optimal_plan import OptimalPlan
from hedgeserve.core.replicas import ReplicaView
from hedgeserve.core.scale_down import trim_to
from hedgeserve.core.zones import ZoneId, ZoneOffer

# A call a hair before a tick boundary (float error in the caller's clock) belongs to the next
# tick; a millionth of a tick is far below any real event spacing.
_TICK_EPS = 1e-6


@dataclass(frozen=True, slots=True, eq=False)
class OptimalPolicy:
    plan: OptimalPlan
    start: float  # caller's time of the plan's tick 0
    zones: tuple[ZoneId, ...]  # zone id of each row of `plan.spot`
    name: str = "optimal"

    def __post_init__(self) -> None:
        if len(self.zones) != self.plan.spot.shape[0]:
            raise ValueError(
                f"{len(self.zones)} zone ids for a plan over {self.plan.spot.shape[0]} zones"
            )
        if len(set(self.zones)) != len(self.zones):
            raise ValueError("zone ids of an optimal plan must be distinct")

    def initial_state(self, zones: Sequence[ZoneOffer]) -> None:
        return None

    def tick_at(self, now: float) -> int:
        """The plan tick `now` falls in (negative before the start, unclamped after the end)."""
        return math.floor((now - self.start) / self.plan.gap_s + _TICK_EPS)

    def decide(self, obs: Observation, state: None) -> Decision[None]:
        tick = self.tick_at(obs.now)
        last = self.plan.n_ticks - 1
        if tick < 0:
            want_spot = dict.fromkeys(self.zones, 0)
            want_od = 0
            next_at: float | None = self.start
        else:
            t = min(tick, last)
            want_spot = {z: int(self.plan.spot[i, t]) for i, z in enumerate(self.zones)}
            want_od = int(self.plan.on_demand[t])
            next_at = self.start + (tick + 1) * self.plan.gap_s if tick < last else None

        actions: list[Action] = []
        launches: list[Action] = []
        spot_by_zone: dict[ZoneId, list[ReplicaView]] = {}
        on_demand: list[ReplicaView] = []
        for r in obs.replicas:
            if r.is_spot:
                spot_by_zone.setdefault(r.zone, []).append(r)
            else:
                on_demand.append(r)

        for zone, held in spot_by_zone.items():
            if zone not in want_spot:
                actions += trim_to(held, 0, "optimal: zone not in the plan")
        for zone, want in want_spot.items():
            have = len(spot_by_zone.get(zone, ()))
            reason = f"optimal: plan holds {want} spot in {zone} at tick {tick}"
            actions += trim_to(spot_by_zone.get(zone, []), want, reason)
            launches += [Launch(zone, True, reason) for _ in range(want - have)]

        reason = f"optimal: plan holds {want_od} on-demand at tick {tick}"
        actions += trim_to(on_demand, want_od, reason)
        od_zone = self.zones[self.plan.on_demand_zone]
        launches += [Launch(od_zone, False, reason) for _ in range(want_od - len(on_demand))]

        # Terminations first, so a zone's freed capacity is there for the launches. `trim_to`
        # drops not-ready replicas first, then the newest: the survivors are the oldest, which
        # is what the plan's held-through-cold-start count assumes.
        return Decision(tuple(actions + launches), None, next_at)
