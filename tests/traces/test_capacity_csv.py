"""The capacity table and the bundled gcp-h100 trace stored in it."""

from __future__ import annotations

from datetime import UTC, datetime
from importlib.resources import files
from pathlib import Path

import numpy as np
import pytest

from hedgeserve.errors import InputError
from hedgeserve.traces.bundled import GCP_H100_RESOURCE, derive_gcp_h100
from hedgeserve.traces.capacity_csv import load_capacity_csv, read_capacity_csv, write_capacity_csv
from hedgeserve.traces.catalog import list_bundled, load_trace
from hedgeserve.traces.timeline import MISSING, Observations


def _obs() -> Observations:
    times = tuple(datetime(2025, 1, 1, 0, m, tzinfo=UTC) for m in (0, 5, 15, 20))
    counts = np.array([[3, MISSING, 1, 4], [0, 2, 2, 5]], dtype=np.int64)
    return Observations(zones=("us-east4-a", "europe-west1-c"), times=times, counts=counts)


def test_a_table_reads_back_what_was_written(tmp_path: Path) -> None:
    path = tmp_path / "cap.csv"
    write_capacity_csv(_obs(), path, notes={"instance": "a3-highgpu-1g", "cloud": "gcp"})
    obs, notes = read_capacity_csv(path)
    assert notes == {"instance": "a3-highgpu-1g", "cloud": "gcp"}
    assert obs.zones == _obs().zones and obs.times == _obs().times
    assert obs.counts.tolist() == _obs().counts.tolist()


def test_a_table_becomes_a_trace_with_its_holes_marked(tmp_path: Path) -> None:
    path = tmp_path / "cap.csv"
    write_capacity_csv(_obs(), path, notes={"instance": "a3-highgpu-1g", "cloud": "gcp"})
    t = load_capacity_csv(path)
    # 5-minute ticks: 00:00, 00:05, (00:10 missing), 00:15, 00:20
    assert t.gap_s == 300 and t.instance == "a3-highgpu-1g"
    assert t.zones == ("gcp/us-east4/us-east4-a", "gcp/europe-west1/europe-west1-c")
    assert t.capacity.tolist() == [[3, 3, 3, 1, 4], [0, 2, 2, 2, 5]]
    assert t.filled is not None and t.filled.tolist() == [[False, True, True, False, False],
                                                          [False, False, True, False, False]]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("zone,a\n", "first column must be time_utc"),
        ("time_utc,us-east4-a\n2025-01-01T00:00:00Z,-3\n", "negative"),
        ("time_utc,us-east4-a\n2025-01-01T00:00:00Z,x\n", "not an integer"),
        ("time_utc,us-east4-a\n2025-01-01T00:00:00Z,1,2\n", "expected 2 cells"),
        ("time_utc,a,a\n2025-01-01T00:00:00Z,1,2\n", "each zone once"),
        ("time_utc,a\n2025-01-01T00:10:00Z,1\n2025-01-01T00:00:00Z,1\n", "increasing"),
        ("time_utc,a\n", "no rows"),
    ],
    ids=["header", "negative", "not-int", "width", "dup-zone", "order", "no-rows"],
)
def test_bad_tables_are_input_errors(tmp_path: Path, body: str, message: str) -> None:
    path = tmp_path / "cap.csv"
    path.write_text(body)
    with pytest.raises(InputError, match=message):
        load_capacity_csv(path)


def test_the_bundled_default_loads_without_the_shared_folder() -> None:
    assert list_bundled()[0][0] == "gcp-h100"
    t = load_trace()
    assert t.name == "gcp-h100" and t.instance == "a3-highgpu-1g"
    assert (len(t.zones), t.gap_s, t.n_ticks) == (13, 600, 2114)
    assert t.filled_ticks == tuple(range(746, 756))
    assert int(t.capacity.max()) == 16 and int(t.capacity.min()) == 0
    # prices: per zone, constant over time, spot below on-demand everywhere
    assert t.spot_price is not None and t.on_demand_price is not None
    assert np.all(t.spot_price == t.spot_price[:, :1])
    assert np.all(t.spot_price[:, 0] < t.on_demand_price)
    central = t.select(["us-central1-a"])
    assert central.spot_price is not None and central.on_demand_price is not None
    assert central.spot_price[0, 0] == pytest.approx(18.979008 / 8)
    assert central.on_demand_price[0] == pytest.approx(82.52543396 / 8, abs=1e-6)


def test_the_bundled_folder_carries_the_license_and_notice() -> None:
    folder = files("hedgeserve").joinpath("data/traces/gcp-h100")
    assert "Apache License" in folder.joinpath("LICENSE-Apache-2.0.txt").read_text()
    assert "SkyNomad" in folder.joinpath("NOTICE.txt").read_text()
    assert "capacity.csv" in folder.joinpath("README.md").read_text()


@pytest.mark.paper_traces
def test_the_bundled_table_is_exactly_the_derivation_from_the_probe_csv(
    shared_traces: Path, tmp_path: Path
) -> None:
    out = tmp_path / "capacity.csv"
    derive_gcp_h100(shared_traces / "skynomad-artifact/gcp-h100-16/gcp_h100_16_probe_counts.csv",
                    out)
    shipped = files("hedgeserve").joinpath(GCP_H100_RESOURCE).read_bytes()
    assert out.read_bytes() == shipped
