"""A tiny in-memory world for policy tests: apply a decision's actions to replica views."""

from __future__ import annotations

from dataclasses import replace

from hedgeserve.core.decisions import Action, Launch, Observation
from hedgeserve.core.replicas import ReplicaId, ReplicaState, ReplicaView


def apply(obs: Observation, actions: tuple[Action, ...]) -> Observation:
    """The observation after the actions took effect (launches appear as launching replicas)."""
    replicas = list(obs.replicas)
    next_id = max((r.id for r in replicas), default=-1) + 1
    for action in actions:
        if isinstance(action, Launch):
            replicas.append(
                ReplicaView(
                    ReplicaId(next_id), action.zone, action.is_spot, ReplicaState.LAUNCHING, obs.now
                )
            )
            next_id += 1
        else:
            replicas = [r for r in replicas if r.id != action.replica]
    return replace(obs, replicas=tuple(replicas), events=())


def make_ready(obs: Observation) -> Observation:
    replicas = tuple(replace(r, state=ReplicaState.READY) for r in obs.replicas)
    return replace(obs, replicas=replicas)
