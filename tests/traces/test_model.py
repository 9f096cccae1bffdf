"""Trace invariants and the window/select operations the simulator relies on."""

from __future__ import annotations

import numpy as np
import pytest

from hedgeserve.core.zones import ZoneId
from hedgeserve.errors import InputError
from hedgeserve.traces.model import Trace


def _trace() -> Trace:
    capacity = np.array([[0, 1, 2, 3], [4, 5, 6, 7]], dtype=np.int64)
    return Trace(
        name="t",
        zones=(ZoneId("gcp/us-central1/us-central1-a"), ZoneId("gcp/us-east4/us-east4-a")),
        gap_s=600,
        capacity=capacity,
        spot_price=capacity.astype(np.float64) / 10,
        on_demand_price=np.array([10.0, 11.0]),
        filled=np.array([[False, True, True, False], [False, True, False, False]]),
    )


def test_window_wraps_and_keeps_every_per_tick_array_aligned() -> None:
    w = _trace().window(3, 3)  # ticks 3, 0, 1
    assert w.capacity.tolist() == [[3, 0, 1], [7, 4, 5]]
    assert w.spot_price is not None and w.spot_price.tolist() == [[0.3, 0.0, 0.1], [0.7, 0.4, 0.5]]
    assert w.filled is not None and w.filled_ticks == (2,)


def test_select_reorders_zones_with_their_prices_and_fill_marks() -> None:
    s = _trace().select(["us-east4-a", "gcp/us-central1/us-central1-a"])
    assert s.zones == ("gcp/us-east4/us-east4-a", "gcp/us-central1/us-central1-a")
    assert s.capacity[0].tolist() == [4, 5, 6, 7]
    assert s.on_demand_price is not None and s.on_demand_price.tolist() == [11.0, 10.0]
    assert s.filled is not None and s.filled[1].tolist() == [False, True, True, False]


def test_filled_ticks_lists_ticks_where_any_zone_was_filled() -> None:
    assert _trace().filled_ticks == (1, 2)


def test_select_of_an_unknown_zone_is_an_input_error_naming_the_known_ones() -> None:
    with pytest.raises(InputError) as err:
        _trace().select(["europe-west4-a"])
    line = err.value.one_line()
    assert "'europe-west4-a' is not in the trace" in line
    assert "us-central1-a, us-east4-a" in line
    assert "\n" not in line


def test_filled_mask_must_match_capacity() -> None:
    with pytest.raises(ValueError, match="filled"):
        Trace(name="t", zones=(ZoneId("a/b/c"),), gap_s=1, capacity=np.zeros((1, 3), np.int64),
              filled=np.zeros((1, 2), bool))
