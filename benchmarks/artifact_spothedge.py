"""The SkyServe artifact's SpotHedge rules, re-expressed as a hedgeserve policy — for comparison
only (benchmarks/spothedge_paper.py --ablation), never shipped in the product.

Our own reading of MaoZiming/spothedge_ae:policies/policies/spot_hedge.py (no code copied):
- every decision (the artifact runs on a 30 s tick; we ask to be woken every 30 s) compares each
  zone's spot count with the previous decision: a drop moves the zone to the preempted set, an
  unchanged non-zero count moves it back to the active set;
- the active set is reset when it has at most min(1, |Z| - 3) zones;
- a new spot replica goes to a *random* active zone without a replica, else a random active zone.
The fallback is the paper's (our `plan_mix`). Randomness is seeded per policy instance, so the
policy is deterministic per run but not pure — which is why it stays out of `hedgeserve.core`.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from hedgeserve.core.decisions import Action, Decision, Launch, Observation
from hedgeserve.core.fallback import plan_mix
from hedgeserve.core.scale_down import trim_to
from hedgeserve.core.spothedge import reconcile_on_demand
from hedgeserve.core.zones import ZoneId, ZoneOffer

TICK_S = 30.0


@dataclass(frozen=True)
class ArtifactState:
    active: tuple[ZoneId, ...]
    preempted: tuple[ZoneId, ...]
    last_counts: tuple[tuple[ZoneId, int], ...] = ()


@dataclass
class ArtifactSpotHedge:
    extra: int = 1
    seed: int = 0
    rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    @property
    def name(self) -> str:
        return "artifact_rules"

    def initial_state(self, zones: Sequence[ZoneOffer]) -> ArtifactState:
        return ArtifactState(active=tuple(z.zone for z in zones), preempted=())

    def decide(self, obs: Observation, state: ArtifactState) -> Decision[ArtifactState]:
        zones = [z.zone for z in obs.zones]
        spot = [r for r in obs.replicas if r.is_spot]
        counts = Counter(r.zone for r in spot)
        active, preempted = list(state.active), list(state.preempted)
        for zone, before in state.last_counts:
            now = counts[zone]
            if now < before and zone in active:
                active.remove(zone)
                preempted.append(zone)
            elif now == before > 0 and zone in preempted:
                preempted.remove(zone)
                active.append(zone)
        if len(active) <= min(1, len(zones) - 3):
            active, preempted = list(zones), []
        mix = plan_mix(
            target=obs.target, extra=self.extra, ready_spot=sum(r.is_ready for r in spot)
        )
        actions: list[Action] = []
        if len(spot) > mix.spot:
            actions += trim_to(spot, mix.spot, "spot above target")
        for _ in range(mix.spot - len(spot)):
            free = [z for z in active if not counts[z]]
            zone = self.rng.choice(free or active)
            counts[zone] += 1
            actions.append(Launch(zone, is_spot=True, reason="artifact rules"))
        on_demand = [r for r in obs.replicas if not r.is_spot]
        actions += reconcile_on_demand(obs.zones, on_demand, mix.on_demand, "fallback")
        new_state = ArtifactState(tuple(active), tuple(preempted), tuple(sorted(counts.items())))
        return Decision(tuple(actions), new_state, next_check_at=obs.now + TICK_S)
