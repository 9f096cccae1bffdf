"""Readiness rules: initial delay, not_ready after one failure, failed after the threshold."""

from __future__ import annotations

import pytest

from hedgeserve.control.lifecycle import ReplicaStatus
from hedgeserve.control.probe import judge
from hedgeserve.control.records import ReplicaRecord
from hedgeserve.core.replicas import ReplicaId
from hedgeserve.core.zones import ZoneId
from hedgeserve.spec.probe import ProbeTimings

S = ReplicaStatus
T = ProbeTimings(initial_delay_s=30.0, timeout_s=1.0, period_s=1.0, failure_threshold_s=10.0)


def rec(status: ReplicaStatus, **kw: object) -> ReplicaRecord:
    return ReplicaRecord(ReplicaId(1), ZoneId("local/local/a"), True, status, launched_at=100.0,
                         **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(("before", "ok", "now", "after", "failing_since"), [
    # starting: failures are expected until 100 + 30
    (rec(S.STARTING), False, 110.0, S.STARTING, 110.0),
    (rec(S.STARTING, failing_since=110.0), False, 129.9, S.STARTING, 110.0),
    (rec(S.STARTING, failing_since=110.0), False, 130.0, S.FAILED, 110.0),
    (rec(S.STARTING, failing_since=110.0), True, 120.0, S.READY, None),
    # ready: one failure -> not_ready (the gateway stops routing to it)
    (rec(S.READY, ready_at=105.0), False, 200.0, S.NOT_READY, 200.0),
    (rec(S.READY, ready_at=105.0), True, 200.0, S.READY, None),
    # not_ready: back to ready, or failed after failing 10 s (200 + 10)
    (rec(S.NOT_READY, ready_at=105.0, failing_since=200.0), True, 205.0, S.READY, None),
    (rec(S.NOT_READY, ready_at=105.0, failing_since=200.0), False, 209.0, S.NOT_READY, 200.0),
    (rec(S.NOT_READY, ready_at=105.0, failing_since=200.0), False, 210.0, S.FAILED, 200.0),
], ids=["start-fail", "start-still-in-delay", "start-delay-over", "start-ok", "ready-fail",
        "ready-ok", "recovered", "not-ready-within", "not-ready-over"])
def test_judge(before: ReplicaRecord, ok: bool, now: float, after: ReplicaStatus,
               failing_since: float | None) -> None:
    out = judge(before, ok, now, T)
    assert out.status is after
    if after is not S.FAILED:
        assert out.failing_since == failing_since
    else:
        assert out.ended_at == now and out.reason


def test_first_ready_time_is_kept() -> None:
    back = judge(rec(S.NOT_READY, ready_at=105.0, failing_since=200.0), True, 205.0, T)
    assert back.ready_at == 105.0


@pytest.mark.parametrize("status", [S.PENDING, S.PROVISIONING, S.DRAINING, S.TERMINATED])
def test_unprobed_states_are_left_alone(status: ReplicaStatus) -> None:
    r = rec(status)
    assert judge(r, False, 1e9, T) is r
