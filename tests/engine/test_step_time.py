"""The continuous-batching step-time model, exactly (pure)."""

from __future__ import annotations

from itertools import pairwise

import pytest

from hedgeserve.engine.step_time import StepTimeModel, admit_count

MODEL = StepTimeModel(ttft_s=0.05, prefill_s_per_token=0.001, tpot_s=0.02, batch_slowdown=0.1)


@pytest.mark.parametrize(
    ("decoding", "admitted", "expected_s"),
    [
        pytest.param(0, [], 0.0, id="idle"),
        pytest.param(1, [], 0.02, id="lone-decode"),  # 0.02 * (1 + 0.1 * 0)
        pytest.param(8, [], 0.034, id="batch-of-8"),  # 0.02 * (1 + 0.1 * 7)
        pytest.param(0, [100], 0.15, id="lone-prefill"),  # 0.05 + 0.001 * 100
        pytest.param(0, [10, 30], 0.09, id="two-prefills-one-step"),  # 0.05 + 0.001 * 40
        pytest.param(4, [20], 0.096, id="decode-plus-prefill"),  # 0.026 + (0.05 + 0.02)
    ],
)
def test_step_time(decoding: int, admitted: list[int], expected_s: float) -> None:
    assert MODEL.step_s(decoding, admitted) == pytest.approx(expected_s)


def test_tpot_grows_with_the_batch() -> None:
    times = [MODEL.decode_s(batch) for batch in range(1, 65)]
    assert all(a < b for a, b in pairwise(times))


def test_no_slowdown_means_flat_tpot() -> None:
    flat = StepTimeModel(0.05, 0.0, 0.02, batch_slowdown=0.0)
    assert {flat.decode_s(b) for b in (1, 16, 256)} == {0.02}


@pytest.mark.parametrize(
    ("running", "waiting", "max_batch", "admitted"),
    [
        pytest.param(0, 0, 4, 0, id="nothing-waits"),
        pytest.param(0, 3, 4, 3, id="all-fit"),
        pytest.param(2, 5, 4, 2, id="fill-to-max"),  # 4 - 2
        pytest.param(4, 5, 4, 0, id="full"),
        pytest.param(6, 1, 4, 0, id="over-full-after-shrink"),
    ],
)
def test_admit_count(running: int, waiting: int, max_batch: int, admitted: int) -> None:
    assert admit_count(running, waiting, max_batch) == admitted
