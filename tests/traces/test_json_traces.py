"""Per-zone JSON traces: single files, folders, known zone offsets, and the paper traces."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from hedgeserve.errors import InputError
from hedgeserve.traces.catalog import load_trace
from hedgeserve.traces.json_folder import KNOWN_OFFSETS, ZoneOffsets, load_json_folder
from hedgeserve.traces.model import UNLIMITED
from hedgeserve.traces.skypilot_json import load_json_traces

from .conftest import ZoneJsonWriter


def test_folder_is_cut_to_the_shortest_file_aligned_at_the_start(
    tmp_path: Path, write_zone_json: ZoneJsonWriter
) -> None:
    write_zone_json("us-east-1a_v100_1.json", [0, 1, 2, 3, 4])
    write_zone_json("us-west-2b_v100_1.json", [4, 3, 2])
    t = load_json_folder(tmp_path)
    assert t.zones == ("aws/us-east-1/us-east-1a", "aws/us-west-2/us-west-2b")
    assert t.capacity.tolist() == [[0, 1, 2], [4, 3, 2]]
    assert t.gap_s == 60 and t.instance == "p3.2xlarge" and t.spot_price is None


def test_known_offsets_align_zones_that_started_at_different_times(
    tmp_path: Path, write_zone_json: ZoneJsonWriter, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "exp-1"
    write_zone_json("us-east-1f_v100_1.json", [7, 8, 9, 1], folder=folder)
    write_zone_json("us-east-2a_v100_1.json", [0, 0, 5, 6, 7], folder=folder)
    monkeypatch.setitem(KNOWN_OFFSETS, "exp-1", ZoneOffsets(
        lengths={"us-east-1f_v100_1": 4, "us-east-2a_v100_1": 5},
        skip_ticks={"us-east-2a_v100_1": 2}, evidence="test"))
    t = load_json_folder(folder)
    # us-east-2a's tick 2 is us-east-1f's tick 0; the window ends with the shorter remainder.
    assert t.capacity.tolist() == [[7, 8, 9], [5, 6, 7]]


def test_known_offsets_are_ignored_when_the_files_are_not_the_recorded_ones(
    tmp_path: Path, write_zone_json: ZoneJsonWriter
) -> None:
    folder = tmp_path / "aws-08-03-2023"  # the name of a known experiment, other lengths
    write_zone_json("us-east-1f_v100_1.json", [1, 2, 3], folder=folder)
    write_zone_json("us-east-2a_v100_1.json", [4, 5, 6], folder=folder)
    assert load_json_folder(folder).capacity.tolist() == [[1, 2, 3], [4, 5, 6]]


def test_prices_are_kept_only_when_every_zone_has_them(
    tmp_path: Path, write_zone_json: ZoneJsonWriter
) -> None:
    a = write_zone_json("us-east-1c_v100_1.json", [1, 1], prices=[0.9, 1.0])
    b = write_zone_json("us-east-1f_v100_1.json", [0, 1], prices=[1.1, 1.2])
    c = write_zone_json("us-west-2b_v100_1.json", [1, 0])
    both = load_json_traces([a, b], name="x")
    assert both.spot_price is not None and both.spot_price.tolist() == [[0.9, 1.0], [1.1, 1.2]]
    assert load_json_traces([a, b, c], name="x").spot_price is None


def test_unlimited_when_positive_turns_one_into_unlimited(
    tmp_path: Path, write_zone_json: ZoneJsonWriter
) -> None:
    f = write_zone_json("us-east-1a_v100_1.json", [0, 1, 1, 0])
    t = load_json_traces([f], name="x", unlimited_when_positive=True)
    assert t.capacity.tolist() == [[0, UNLIMITED, UNLIMITED, 0]]


def test_a_folder_of_one_node_availability_is_unlimited_by_default(
    tmp_path: Path, write_zone_json: ZoneJsonWriter
) -> None:
    folder = tmp_path / "availability" / "1-node" / "aws-x"
    write_zone_json("us-east-1a_v100_1.json", [0, 1], folder=folder)
    assert load_trace(str(folder)).capacity.tolist() == [[0, UNLIMITED]]
    assert load_trace(str(folder), unlimited_when_positive=False).capacity.tolist() == [[0, 1]]


def test_a_folder_mixing_instance_tags_asks_for_a_glob(
    tmp_path: Path, write_zone_json: ZoneJsonWriter
) -> None:
    write_zone_json("us-west-2a_k80_1.json", [1, 0])
    write_zone_json("us-west-2a_v100_1.json", [0, 1])
    with pytest.raises(InputError, match="mixes instance tags k80_1, v100_1"):
        load_trace(str(tmp_path))
    t = load_trace(str(tmp_path / "*_v100_1.json"))
    assert t.zones == ("aws/us-west-2/us-west-2a",) and t.capacity.tolist() == [[0, 1]]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"metadata": {"gap_seconds": 60}, "data": [1, -2]}', "counts >= 0"),
        ('{"metadata": {"gap_seconds": 60}, "data": []}', "non-empty"),
        ('{"metadata": {"gap_seconds": 0}, "data": [1]}', "gap_seconds > 0"),
        ('{"data": [1]}', "not a spot trace"),
        ('{"metadata": {"gap_seconds": 60}, "data": [1, 2], "prices": [1.0]}',
         "one value per tick"),
        ('{"metadata": {"gap_seconds": 60}, "data": [1', "not valid JSON"),
    ],
    ids=["negative", "empty-data", "zero-gap", "no-metadata", "short-prices", "broken-json"],
)
def test_bad_json_files_are_input_errors(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "us-east-1a_v100_1.json"
    path.write_text(content)
    with pytest.raises(InputError, match=message):
        load_trace(str(path))


def test_skynomad_converted_files_are_refused_because_they_are_inverted(
    tmp_path: Path, write_zone_json: ZoneJsonWriter
) -> None:
    path = write_zone_json("us-west1-b_h100_16.full.json", [1, 0], gap=600,
                           gap_filled={"gap_points": 0})
    with pytest.raises(InputError, match=r"inverted \(1 = no spot\)"):
        load_trace(str(path))


# ---- the real files (shared data folder) ------------------------------------------------------

@pytest.mark.paper_traces
@pytest.mark.parametrize(
    ("name", "zones", "gap_s", "ticks", "max_capacity"),
    [("AWS1", 3, 300, 3156, 4), ("AWS2", 3, 300, 3247, 16), ("AWS3", 9, 300, 20158, UNLIMITED),
     ("GCP1", 6, 150, 770, 4)],
)
def test_paper_traces_have_the_documented_shape(
    shared_traces: Path, name: str, zones: int, gap_s: float, ticks: int, max_capacity: int
) -> None:
    t = load_trace(name)
    assert (len(t.zones), t.gap_s, t.n_ticks, int(t.capacity.max())) == (
        zones, gap_s, ticks, max_capacity)
    assert t.spot_price is None and t.on_demand_price is None  # the paper's uniform price


@pytest.mark.paper_traces
def test_aws3_is_zero_or_unlimited_with_the_provenance_shares(shared_traces: Path) -> None:
    t = load_trace("AWS3")
    assert set(np.unique(t.capacity).tolist()) == {0, UNLIMITED}
    shares = dict(zip((z.rsplit("/", 1)[1] for z in t.zones),
                      (t.capacity > 0).mean(axis=1).round(3), strict=True))
    assert shares == {"us-east-1a": 0.167, "us-east-1c": 0.467, "us-east-1d": 0.447,
                      "us-east-1f": 0.591, "us-east-2a": 0.759, "us-east-2b": 0.682,
                      "us-west-2a": 0.883, "us-west-2b": 0.905, "us-west-2c": 0.891}
    assert load_trace("aws3", gap_s=195).gap_s == 195  # the true cadence, on request


@pytest.mark.paper_traces
def test_gcp1_us_east1_b_never_has_spot(shared_traces: Path) -> None:
    t = load_trace("GCP1")
    east = t.select(["us-east1-b"])
    assert east.capacity.max() == 0
    assert t.select(["asia-northeast1-a"]).capacity.max() == 1
    shares = (t.capacity > 0).mean(axis=1).round(2).tolist()
    assert shares == [0.96, 1.0, 0.86, 0.96, 0.0, 0.48]


@pytest.mark.paper_traces
@pytest.mark.parametrize(("raw", "paper"), [
    ("preemption/4-node/aws-08-03-2023", "AWS1"),
    ("availability/16-node/aws-08-27-2023", "AWS2"),
])
def test_known_offsets_reproduce_the_artifacts_aligned_cut(
    shared_traces: Path, raw: str, paper: str
) -> None:
    aligned = load_trace(str(shared_traces / "skypilot-spot-traces" / raw))
    assert np.array_equal(aligned.capacity, load_trace(paper).capacity)


@pytest.mark.paper_traces
def test_raw_files_are_the_data_the_offsets_were_read_from(shared_traces: Path) -> None:
    raw = shared_traces / "skypilot-spot-traces/preemption/4-node/aws-08-03-2023"
    for stem, skip in KNOWN_OFFSETS["aws-08-03-2023"].skip_ticks.items():
        data = json.loads((raw / f"{stem}.json").read_text())["data"]
        paper = json.loads(
            (shared_traces / "spothedge-ae/data/AWS1" / f"{stem}.json").read_text())["data"]
        assert data[skip:skip + len(paper)] == paper
