"""The policy contract: `decide(observation, state) -> Decision`.

Everything a policy may know arrives in one frozen `Observation`; everything it wants done
leaves in one `Decision` (actions + its next state). Policies are level-triggered: they compare
what should run with what runs and emit the difference, so applying a decision's actions and
deciding again yields no actions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from hedgeserve.core.replicas import ReplicaId, ReplicaView, ZoneEvent
from hedgeserve.core.zones import ZoneId, ZoneOffer


@dataclass(frozen=True, slots=True)
class Observation:
    now: float  # seconds on the caller's clock (trace time in the simulator)
    target: int  # N_tar: how many ready replicas the service needs now
    zones: tuple[ZoneOffer, ...]  # enabled zones; their order breaks price ties
    replicas: tuple[ReplicaView, ...]  # live replicas only (launching or ready)
    events: tuple[ZoneEvent, ...] = ()  # zone events since the previous decision


@dataclass(frozen=True, slots=True)
class Launch:
    zone: ZoneId
    is_spot: bool
    reason: str


@dataclass(frozen=True, slots=True)
class Terminate:
    replica: ReplicaId
    reason: str


Action = Launch | Terminate

S = TypeVar("S")


@dataclass(frozen=True, slots=True)
class Decision(Generic[S]):
    actions: tuple[Action, ...]
    state: S
    next_check_at: float | None = None  # ask to be called again by then, even if nothing happens


class Policy(Protocol[S]):
    """A replica policy. Implementations are plain frozen dataclasses holding their config."""

    @property
    def name(self) -> str: ...

    def initial_state(self, zones: Sequence[ZoneOffer]) -> S: ...

    def decide(self, obs: Observation, state: S) -> Decision[S]: ...
