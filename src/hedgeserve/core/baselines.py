"""The baselines SpotHedge is measured against (SkyServe paper §5.2).

- `OnDemandOnly`: N_tar on-demand replicas; the cost reference.
- `EvenSpread`: N_tar spot replicas spread evenly over all zones with no fallback — what an
  autoscaling group, Ray Serve or MArk do. A lost replica is relaunched in the zone with the
  fewest replicas, which is usually the zone that just lost it.
- `RoundRobin`: N_tar spot replicas, each launch going to the next zone in turn; no fallback.

Spot baselines take an optional `extra` (default 0, as in the paper) so that over-provisioning
alone can be compared with SpotHedge.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from hedgeserve.core.decisions import Action, Decision, Launch, Observation, Terminate
from hedgeserve.core.scale_down import trim_to
from hedgeserve.core.spothedge import reconcile_on_demand
from hedgeserve.core.zones import ZoneId, ZoneOffer


@dataclass(frozen=True, slots=True)
class OnDemandOnly:
    @property
    def name(self) -> str:
        return "on_demand"

    def initial_state(self, zones: Sequence[ZoneOffer]) -> None:
        return None

    def decide(self, obs: Observation, state: None) -> Decision[None]:
        on_demand = [r for r in obs.replicas if not r.is_spot]
        actions = reconcile_on_demand(obs.zones, on_demand, obs.target, "on-demand only")
        stray = [Terminate(r.id, "spot not used") for r in obs.replicas if r.is_spot]
        return Decision(tuple(stray + actions), None)


@dataclass(frozen=True, slots=True)
class EvenSpread:
    extra: int = 0

    @property
    def name(self) -> str:
        return "even_spread"

    def initial_state(self, zones: Sequence[ZoneOffer]) -> None:
        return None

    def decide(self, obs: Observation, state: None) -> Decision[None]:
        spot = [r for r in obs.replicas if r.is_spot]
        wanted = obs.target + self.extra
        if len(spot) > wanted:
            return Decision(tuple(trim_to(spot, wanted, "spot above target")), None)
        per_zone: dict[ZoneId, int] = {z.zone: 0 for z in obs.zones}
        for r in spot:
            if r.zone in per_zone:
                per_zone[r.zone] += 1
        actions: list[Action] = []
        for _ in range(wanted - len(spot)):
            zone = min(per_zone, key=per_zone.__getitem__)  # first of the emptiest zones
            per_zone[zone] += 1
            actions.append(Launch(zone, is_spot=True, reason="even spread"))
        return Decision(tuple(actions), None)


@dataclass(frozen=True, slots=True)
class RoundRobin:
    extra: int = 0

    @property
    def name(self) -> str:
        return "round_robin"

    def initial_state(self, zones: Sequence[ZoneOffer]) -> int:
        return 0  # index of the zone the next launch goes to

    def decide(self, obs: Observation, state: int) -> Decision[int]:
        spot = [r for r in obs.replicas if r.is_spot]
        wanted = obs.target + self.extra
        if len(spot) > wanted:
            return Decision(tuple(trim_to(spot, wanted, "spot above target")), state)
        actions: list[Action] = []
        for _ in range(wanted - len(spot)):
            zone = obs.zones[state % len(obs.zones)].zone
            state = (state + 1) % len(obs.zones)
            actions.append(Launch(zone, is_spot=True, reason="round robin"))
        return Decision(tuple(actions), state)
