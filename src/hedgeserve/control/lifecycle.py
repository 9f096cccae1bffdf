"""Replica lifecycle: the states a replica goes through, which moves are allowed, and how each
state looks to the decision core.

    pending ─► provisioning ─► starting ─► ready ⇄ not_ready
       │            │              │          │         │
       └────────────┴──────────────┴──────────┴─────────┴─► draining ─► terminated
    any live state ─► preempted | failed          (pending ─► terminated: never launched)

- pending: the launch intent is stored; the provider has not answered yet.
- provisioning: the provider accepted the launch; the instance is not running yet.
- starting: the instance runs; its readiness probe has not passed yet.
- ready / not_ready: probes pass / a ready replica's probes fail (within the threshold).
- draining: leaving on purpose (scale-down, preemption notice, `hedge down`): no new requests.
- terminated, preempted, failed: terminal; the row stays for `hedge status` and `hedge events`.

Invariant: every change of a replica's state goes through `moved`, which raises ValueError
for a move the table does not allow (a bug, never bad input).
"""

from __future__ import annotations

from enum import StrEnum

from hedgeserve.core.replicas import ReplicaState


class ReplicaStatus(StrEnum):
    PENDING = "pending"
    PROVISIONING = "provisioning"
    STARTING = "starting"
    READY = "ready"
    NOT_READY = "not_ready"
    DRAINING = "draining"
    TERMINATED = "terminated"
    PREEMPTED = "preempted"
    FAILED = "failed"


S = ReplicaStatus
_ENDINGS = frozenset({S.DRAINING, S.PREEMPTED, S.FAILED})

ALLOWED: dict[ReplicaStatus, frozenset[ReplicaStatus]] = {
    S.PENDING: frozenset({S.PROVISIONING, S.DRAINING, S.FAILED, S.TERMINATED}),
    S.PROVISIONING: frozenset({S.STARTING}) | _ENDINGS,
    S.STARTING: frozenset({S.READY}) | _ENDINGS,
    S.READY: frozenset({S.NOT_READY}) | _ENDINGS,
    S.NOT_READY: frozenset({S.READY}) | _ENDINGS,
    # A draining instance can still be taken back (its notice came after the scale-down).
    S.DRAINING: frozenset({S.TERMINATED, S.PREEMPTED}),
    S.TERMINATED: frozenset(),
    S.PREEMPTED: frozenset(),
    S.FAILED: frozenset(),
}

TERMINAL = frozenset(s for s, nxt in ALLOWED.items() if not nxt)
LIVE = frozenset(ReplicaStatus) - TERMINAL

_CORE_VIEW: dict[ReplicaStatus, ReplicaState] = {
    S.PENDING: ReplicaState.LAUNCHING,
    S.PROVISIONING: ReplicaState.LAUNCHING,
    S.STARTING: ReplicaState.LAUNCHING,
    S.READY: ReplicaState.READY,
    # Not serving now but holding an instance: the core treats it like a launching replica, so
    # dynamic fallback covers it with on-demand until it recovers or is replaced.
    S.NOT_READY: ReplicaState.LAUNCHING,
}


def is_allowed(current: ReplicaStatus, new: ReplicaStatus) -> bool:
    return new in ALLOWED[current]


def moved(current: ReplicaStatus, new: ReplicaStatus) -> ReplicaStatus:
    """`new`, after checking the move against the table."""
    if new not in ALLOWED[current]:
        raise ValueError(f"replica cannot go from {current.value} to {new.value}")
    return new


def core_state(status: ReplicaStatus) -> ReplicaState | None:
    """How the decision core sees a replica in `status`; None: not shown to the policy at all
    (leaving on purpose, or ended)."""
    return _CORE_VIEW.get(status)
