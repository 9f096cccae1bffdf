"""The QPS autoscaler, tick by tick through its delay windows (arithmetic in comments)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hedgeserve.core.autoscale import (
    AutoscalerConfig,
    AutoscalerState,
    autoscale,
    candidate_replicas,
    initial_autoscaler_state,
    next_change_at,
)

CFG = AutoscalerConfig(
    min_replicas=1,
    max_replicas=5,
    target_qps_per_replica=2.0,
    upscale_delay_s=300,
    downscale_delay_s=1200,
)


@pytest.mark.parametrize(
    ("qps", "expected"),
    [
        pytest.param(0.0, 1, id="idle-clamped-to-min"),
        pytest.param(2.0, 1, id="exactly-one-replica"),  # ceil(2 / 2) = 1
        pytest.param(2.1, 2, id="just-above"),  # ceil(2.1 / 2) = 2
        pytest.param(7.0, 4, id="four"),  # ceil(7 / 2) = 4
        pytest.param(100.0, 5, id="clamped-to-max"),
    ],
)
def test_candidate(qps: float, expected: int) -> None:
    assert candidate_replicas(CFG, qps) == expected


def test_fixed_count_without_target_qps() -> None:
    cfg = AutoscalerConfig(min_replicas=3, max_replicas=3)
    assert autoscale(cfg, initial_autoscaler_state(cfg), now=0, qps=1e6).target == 3


def test_scale_up_waits_for_the_upscale_delay_then_jumps_to_the_latest_candidate() -> None:
    s = AutoscalerState(target=1)
    s = autoscale(CFG, s, now=0, qps=5.0)  # candidate 3 > 1: pending since 0
    assert (s.target, s.up_since) == (1, 0)
    s = autoscale(CFG, s, now=299, qps=7.0)  # still pending (299 < 300)
    assert s.target == 1 and next_change_at(CFG, s) == 300
    s = autoscale(CFG, s, now=300, qps=7.0)  # 300 - 0 >= 300: jump to ceil(7 / 2) = 4
    assert s == AutoscalerState(target=4)


def test_a_dip_resets_the_pending_scale_up() -> None:
    s = autoscale(CFG, AutoscalerState(target=1), now=0, qps=5.0)
    s = autoscale(CFG, s, now=200, qps=1.0)  # candidate back to 1: reset
    assert s == AutoscalerState(target=1)
    s = autoscale(CFG, s, now=250, qps=5.0)  # pending again from 250
    assert autoscale(CFG, s, now=500, qps=5.0).target == 1  # 500 - 250 < 300
    assert autoscale(CFG, s, now=550, qps=5.0).target == 3


def test_scale_down_waits_for_the_longer_downscale_delay() -> None:
    s = autoscale(CFG, AutoscalerState(target=4), now=0, qps=0.5)  # candidate 1 < 4
    assert autoscale(CFG, s, now=1199, qps=0.5).target == 4
    assert autoscale(CFG, s, now=1200, qps=0.5).target == 1


def test_scale_from_zero_is_immediate() -> None:
    cfg = AutoscalerConfig(min_replicas=0, max_replicas=3, target_qps_per_replica=1.0)
    assert autoscale(cfg, AutoscalerState(target=0), now=0, qps=0.1).target == 1


@settings(max_examples=60, deadline=None)
@given(
    calls=st.lists(st.tuples(st.integers(1, 30), st.floats(0, 20)), min_size=1, max_size=12),
    step=st.sampled_from([5.0, 20.0, 60.0]),
)
def test_result_does_not_depend_on_how_often_it_is_called(
    calls: list[tuple[int, float]], step: float
) -> None:
    """The same load history, seen every `step` seconds or only when something can change."""
    sparse = AutoscalerState(target=1)
    dense = AutoscalerState(target=1)
    now = 0.0
    for minutes, qps in calls:
        end = now + minutes * 60  # delays and durations are multiples of every step
        sparse = autoscale(CFG, sparse, now=now, qps=qps)
        change = next_change_at(CFG, sparse)
        if change is not None and change < end:
            sparse = autoscale(CFG, sparse, now=change, qps=qps)
        t = now
        while t < end:
            dense = autoscale(CFG, dense, now=t, qps=qps)
            t += step
        now = end
        assert sparse.target == dense.target
