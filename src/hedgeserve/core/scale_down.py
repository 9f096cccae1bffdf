"""Which replicas to terminate when there are too many of a kind.

Replicas that do not serve yet go first (terminating them loses no capacity), then the newest
(the oldest have proven their zone holds). Ties break on the replica id, highest first, so the
choice is deterministic.
"""

from __future__ import annotations

from collections.abc import Sequence

from hedgeserve.core.decisions import Action, Terminate
from hedgeserve.core.replicas import ReplicaView


def choose_victims(replicas: Sequence[ReplicaView], count: int) -> list[ReplicaView]:
    if count <= 0:
        return []
    order = sorted(replicas, key=lambda r: (r.is_ready, -r.launched_at, -r.id))
    return order[:count]


def trim_to(replicas: Sequence[ReplicaView], wanted: int, reason: str) -> list[Action]:
    """Terminate actions that bring `replicas` down to `wanted` (none if already at or below)."""
    return [Terminate(r.id, reason) for r in choose_victims(replicas, len(replicas) - wanted)]
