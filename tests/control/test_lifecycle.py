"""The replica lifecycle table and the core's view of each state."""

from __future__ import annotations

import pytest

from hedgeserve.control.lifecycle import (
    ALLOWED,
    LIVE,
    TERMINAL,
    ReplicaStatus,
    core_state,
    is_allowed,
    moved,
)
from hedgeserve.core.replicas import ReplicaState

S = ReplicaStatus


@pytest.mark.parametrize(("current", "new"), [
    (S.PENDING, S.PROVISIONING),
    (S.PROVISIONING, S.STARTING),
    (S.STARTING, S.READY),
    (S.READY, S.NOT_READY),
    (S.NOT_READY, S.READY),
    (S.READY, S.DRAINING),
    (S.DRAINING, S.TERMINATED),
    (S.DRAINING, S.PREEMPTED),  # a notice after the scale-down decision
    (S.STARTING, S.PREEMPTED),
    (S.PROVISIONING, S.FAILED),  # no capacity
    (S.PENDING, S.TERMINATED),  # never launched
], ids=lambda s: s.value)
def test_allowed_moves(current: ReplicaStatus, new: ReplicaStatus) -> None:
    assert is_allowed(current, new)
    assert moved(current, new) is new


@pytest.mark.parametrize(("current", "new"), [
    (S.PENDING, S.READY),  # must be launched and probed first
    (S.STARTING, S.NOT_READY),  # not_ready means "was ready"
    (S.DRAINING, S.READY),  # leaving is final
    (S.TERMINATED, S.PENDING),
    (S.PREEMPTED, S.READY),
    (S.FAILED, S.STARTING),
    (S.READY, S.TERMINATED),  # only through draining
], ids=lambda s: s.value)
def test_forbidden_moves_raise(current: ReplicaStatus, new: ReplicaStatus) -> None:
    assert not is_allowed(current, new)
    with pytest.raises(ValueError, match=f"from {current.value} to {new.value}"):
        moved(current, new)


def test_terminal_states_have_no_way_out_and_every_live_state_can_end() -> None:
    assert {S.TERMINATED, S.PREEMPTED, S.FAILED} == TERMINAL
    assert set(ReplicaStatus) == LIVE | TERMINAL
    for status in LIVE:
        assert ALLOWED[status] & TERMINAL or S.DRAINING in ALLOWED[status]


@pytest.mark.parametrize(("status", "view"), [
    (S.PENDING, ReplicaState.LAUNCHING),
    (S.PROVISIONING, ReplicaState.LAUNCHING),
    (S.STARTING, ReplicaState.LAUNCHING),
    (S.READY, ReplicaState.READY),
    (S.NOT_READY, ReplicaState.LAUNCHING),  # holds an instance, serves nothing: fallback covers
    (S.DRAINING, None),  # leaving: the policy must not count it
    (S.TERMINATED, None),
    (S.PREEMPTED, None),
    (S.FAILED, None),
], ids=lambda s: getattr(s, "value", str(s)))
def test_core_view(status: ReplicaStatus, view: ReplicaState | None) -> None:
    assert core_state(status) is view
