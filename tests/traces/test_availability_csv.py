"""Timestamped 0/1 availability CSVs with per-tick spot prices (SkyNomad's AWS V100 set)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from hedgeserve.errors import InputError
from hedgeserve.traces.availability_csv import load_availability_csvs
from hedgeserve.traces.catalog import load_trace
from hedgeserve.traces.model import UNLIMITED

STAMPS = ["2023-02-15 22:08:16", "2023-02-15 22:11:31", "2023-02-15 22:14:46",
          "2023-02-15 22:18:01", "2023-02-15 22:21:17"]  # 195, 195, 195, 196 s apart


def _csv(folder: Path, zone: str, rows: list[tuple[str, str]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{zone}_v100_1.csv"
    path.write_text("date,availability\n" + "".join(f"{d},{a}\n" for d, a in rows))
    return path


def _experiment(tmp_path: Path) -> Path:
    """Two zones; us-west-2a starts one probe later and ends one earlier; prices one folder up."""
    csvs = tmp_path / "exp" / "availability-csv"
    _csv(csvs, "us-east-1a", [(d, a) for d, a in zip(STAMPS, "01101", strict=True)])
    _csv(csvs, "us-west-2a", [(d, a) for d, a in zip(STAMPS[1:4], "110", strict=True)])
    (tmp_path / "exp" / "v100_spot_prices.json").write_text(json.dumps({
        "us-east-1a_v100_1": [1.0, 1.1, 1.2, 1.3, 1.4],
        "us-west-2a_v100_1": [2.1, 2.2, 2.3],
    }))
    return tmp_path / "exp"


def test_zones_are_cut_to_their_common_window_with_prices_aligned(tmp_path: Path) -> None:
    t = load_trace(str(_experiment(tmp_path)))
    assert t.name == "exp" and t.gap_s == 195 and t.instance == "p3.2xlarge"
    assert t.zones == ("aws/us-east-1/us-east-1a", "aws/us-west-2/us-west-2a")
    # rows 1..3 of us-east-1a line up with us-west-2a's three rows; 1 means obtainable
    assert t.capacity.tolist() == [[UNLIMITED, UNLIMITED, 0], [UNLIMITED, UNLIMITED, 0]]
    assert t.spot_price is not None
    assert t.spot_price.tolist() == [[1.1, 1.2, 1.3], [2.1, 2.2, 2.3]]
    # on-demand comes from the price catalog (p3.2xlarge list price)
    assert t.on_demand_price is not None and t.on_demand_price.tolist() == [3.06, 3.06]


def test_without_a_price_file_there_are_no_prices(tmp_path: Path) -> None:
    folder = tmp_path / "plain"
    f = _csv(folder, "us-east-1a", [(STAMPS[0], "1"), (STAMPS[1], "0")])
    t = load_availability_csvs([f], name="plain", unlimited_when_positive=False)
    assert t.capacity.tolist() == [[1, 0]] and t.spot_price is None


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([(STAMPS[0], "2")], "must be 0 or 1"),
        ([(STAMPS[0], "-1")], "must be 0 or 1"),
        ([("not a date", "1")], "bad date"),
        ([(STAMPS[1], "1"), (STAMPS[0], "1")], "strictly increasing"),
        ([], "no rows"),
    ],
    ids=["two", "negative", "bad-date", "order", "empty"],
)
def test_bad_rows_are_input_errors(
    tmp_path: Path, rows: list[tuple[str, str]], message: str
) -> None:
    f = _csv(tmp_path, "us-east-1a", rows)
    with pytest.raises(InputError, match=message):
        load_availability_csvs([f], name="x")


def test_zones_with_different_stamps_inside_the_window_are_refused(tmp_path: Path) -> None:
    a = _csv(tmp_path, "us-east-1a", [(STAMPS[0], "1"), (STAMPS[2], "1")])
    b = _csv(tmp_path, "us-east-1c", [(STAMPS[0], "1"), (STAMPS[1], "1"), (STAMPS[2], "1")])
    with pytest.raises(InputError, match="timestamps differ"):
        load_availability_csvs([a, b], name="x")


def test_a_price_file_must_cover_every_row(tmp_path: Path) -> None:
    folder = _experiment(tmp_path)
    (folder / "v100_spot_prices.json").write_text(json.dumps({"us-east-1a_v100_1": [1.0]}))
    with pytest.raises(InputError, match="1 prices for 5 rows"):
        load_trace(str(folder))


@pytest.mark.paper_traces
def test_the_real_v100_set_matches_aws3_with_the_true_cadence_and_prices(
    shared_traces: Path,
) -> None:
    t = load_trace(str(shared_traces / "skynomad-artifact/aws-v100-2023-02-15"))
    aws3 = load_trace("AWS3")
    assert t.zones == aws3.zones and np.array_equal(t.capacity, aws3.capacity)
    assert (t.gap_s, aws3.gap_s) == (195, 300)
    assert t.spot_price is not None and t.spot_price.shape == (9, 20158)
    assert (float(t.spot_price.min()), float(t.spot_price.max())) == (0.918, 1.8464)
    assert t.on_demand_price is not None and set(t.on_demand_price.tolist()) == {3.06}
