"""The spot / on-demand mix: O = min(N_tar, N_tar + N_extra - ready spot), floored at 0."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hedgeserve.core.fallback import Mix, plan_mix


@pytest.mark.parametrize(
    ("target", "extra", "ready", "base", "dynamic", "expected"),
    [
        pytest.param(3, 1, 4, 0, True, Mix(4, 0), id="all-spot-ready-no-fallback"),
        # O = min(3, 3 + 1 - 3) = 1: losing only the spare already triggers fallback
        pytest.param(3, 1, 3, 0, True, Mix(4, 1), id="spare-missing"),
        pytest.param(3, 1, 0, 0, True, Mix(4, 3), id="no-spot-ready-capped-at-target"),
        pytest.param(3, 0, 1, 0, True, Mix(3, 2), id="no-extra"),  # min(3, 3 - 1) = 2
        pytest.param(3, 1, 0, 0, False, Mix(4, 0), id="static-no-fallback"),
        pytest.param(3, 1, 3, 1, True, Mix(3, 1), id="base-counts-towards-total"),
        # spot wanted 4 - 1 = 3, O = max(1, min(3, 1 + 3 - 0)) = 3
        pytest.param(3, 1, 0, 1, True, Mix(3, 3), id="base-plus-fallback-capped"),
        pytest.param(3, 1, 0, 2, False, Mix(2, 2), id="static-base"),
        pytest.param(0, 0, 0, 0, True, Mix(0, 0), id="scaled-to-zero"),
    ],
)
def test_plan_mix(
    target: int, extra: int, ready: int, base: int, dynamic: bool, expected: Mix
) -> None:
    mix = plan_mix(
        target=target, extra=extra, ready_spot=ready, base_ondemand=base, dynamic=dynamic
    )
    assert mix == expected


@given(
    target=st.integers(0, 20),
    extra=st.integers(0, 5),
    ready=st.integers(0, 30),
)
def test_paper_formula_holds(target: int, extra: int, ready: int) -> None:
    mix = plan_mix(target=target, extra=extra, ready_spot=ready)
    assert mix.spot == target + extra
    assert mix.on_demand == max(0, min(target, target + extra - ready))
    # while enough spot is ready, nothing on demand; ready spot + on-demand always covers N_tar
    assert min(ready, mix.spot) + mix.on_demand >= target


def test_negative_counts_are_rejected() -> None:
    with pytest.raises(ValueError):
        plan_mix(target=-1, extra=0, ready_spot=0)
