"""SkyNomad's probe CSV: rounds to ticks, the prober outage filled and marked, bad rows refused."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from hedgeserve.errors import InputError
from hedgeserve.traces.catalog import load_trace
from hedgeserve.traces.probe_csv import load_probe_csv
from hedgeserve.traces.timeline import Fill

HEADER = "run_id,scheduled_at_utc,run_status,zone,instances_requested,instances_created," \
         "capacity_exhausted_detected\n"


def _probe_csv(tmp_path: Path, rows: list[tuple[str, str, str, int]]) -> Path:
    """rows: (time, status, zone, created); 16 requested each."""
    path = tmp_path / "probe.csv"
    body = "".join(f"r{i},{t},{status},{zone},16,{n},{16 - n}\n"
                   for i, (t, status, zone, n) in enumerate(rows))
    path.write_text(HEADER + body)
    return path


ROUNDS = [  # 10-minute rounds, 00:30 missing, zone b not observed at 00:20
    ("2025-10-04T00:00:00Z", "success", "us-east4-a", 16),
    ("2025-10-04T00:00:00Z", "success", "us-west1-b", 3),
    ("2025-10-04T00:10:00Z", "success", "us-east4-a", 9),
    ("2025-10-04T00:10:00Z", "success", "us-west1-b", 0),
    ("2025-10-04T00:20:00Z", "success", "us-east4-a", 7),
    ("2025-10-04T00:40:00Z", "success", "us-east4-a", 2),
    ("2025-10-04T00:40:00Z", "success", "us-west1-b", 5),
]


def test_rounds_become_ticks_and_holes_carry_the_last_value_forward(tmp_path: Path) -> None:
    t = load_probe_csv(_probe_csv(tmp_path, ROUNDS))
    assert t.gap_s == 600 and t.instance == "a3-highgpu-1g"
    assert t.zones == ("gcp/us-east4/us-east4-a", "gcp/us-west1/us-west1-b")
    assert t.capacity.tolist() == [[16, 9, 7, 7, 2], [3, 0, 0, 0, 5]]
    assert t.filled is not None
    assert t.filled.tolist() == [[False, False, False, True, False],
                                 [False, False, True, True, False]]
    assert t.filled_ticks == (2, 3)


def test_the_pessimistic_fill_assumes_no_capacity(tmp_path: Path) -> None:
    t = load_probe_csv(_probe_csv(tmp_path, ROUNDS), fill=Fill.ZERO)
    assert t.capacity.tolist() == [[16, 9, 7, 0, 2], [3, 0, 0, 0, 5]]


def test_failed_rounds_count_as_not_observed(tmp_path: Path) -> None:
    rows = [("2025-10-04T00:00:00Z", "success", "us-east4-a", 4),
            ("2025-10-04T00:10:00Z", "failed", "us-east4-a", 0),
            ("2025-10-04T00:20:00Z", "success", "us-east4-a", 6)]
    t = load_probe_csv(_probe_csv(tmp_path, rows))
    assert t.capacity.tolist() == [[4, 4, 6]] and t.filled_ticks == (1,)


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([("2025-10-04T00:00:00Z", "success", "us-east4-a", -1)], "outside 0..instances_requested"),
        ([("2025-10-04T00:00:00Z", "success", "us-east4-a", 17)], "outside 0..instances_requested"),
        ([("2025-10-04T00:00:00Z", "success", "us-east4-a", 1),
          ("2025-10-04T00:00:00Z", "success", "us-east4-a", 2)], "appears twice"),
        ([("yesterday", "success", "us-east4-a", 1)], "bad timestamp"),
        ([("2025-10-04T00:00:00", "success", "us-east4-a", 1)], "no time zone"),
        ([("2025-10-04T00:00:00Z", "success", "us-east4-a", 1),
          ("2025-10-04T00:10:00Z", "success", "us-east4-a", 1),
          ("2025-10-04T00:20:00Z", "success", "us-east4-a", 1),
          ("2025-10-04T00:25:00Z", "success", "us-east4-a", 1)], "not on the 600 s grid"),
    ],
    ids=["negative", "over-requested", "duplicate", "bad-time", "naive-time", "off-grid"],
)
def test_bad_rows_are_input_errors_with_the_line(
    tmp_path: Path, rows: list[tuple[str, str, str, int]], message: str
) -> None:
    with pytest.raises(InputError, match=message):
        load_probe_csv(_probe_csv(tmp_path, rows))


def test_a_csv_without_the_probe_columns_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("zone,instances_created\nus-east4-a,3\n")
    with pytest.raises(InputError, match="no column scheduled_at_utc"):
        load_probe_csv(path)


# ---- the real file ------------------------------------------------------------------------------

# Share of rounds with >= 1 launched, per zone (shared/data/traces/PROVENANCE.md, section 3a).
PROVENANCE_SHARES = {
    "asia-south2-b": 1.00, "asia-southeast1-b": 0.78, "asia-southeast1-c": 0.55,
    "europe-west1-c": 0.88, "europe-west3-c": 0.48, "us-central1-a": 0.98, "us-central1-b": 0.93,
    "us-central1-c": 0.94, "us-east4-a": 0.86, "us-east4-b": 0.87, "us-east5-a": 0.88,
    "us-west1-a": 0.59, "us-west1-b": 0.24,
}


@pytest.mark.paper_traces
def test_the_h100_probe_matches_the_provenance_table(shared_traces: Path) -> None:
    path = shared_traces / "skynomad-artifact/gcp-h100-16/gcp_h100_16_probe_counts.csv"
    t = load_trace(str(path))
    assert (len(t.zones), t.gap_s, t.n_ticks) == (13, 600, 2114)  # 2104 rounds + 10 filled
    assert t.filled_ticks == tuple(range(746, 756))  # 2025-10-09 04:30 .. 06:00 UTC
    observed = ~t.filled[0] if t.filled is not None else None
    assert observed is not None and int(observed.sum()) == 2104
    shares = (t.capacity[:, observed] > 0).mean(axis=1)
    for zone, share in zip(t.zones, shares, strict=True):
        # the table rounds half up (0.925 -> .93), hence the half-percent tolerance
        assert float(share) == pytest.approx(PROVENANCE_SHARES[zone.rsplit("/", 1)[1]],
                                             abs=0.0051), zone
    assert round(float((t.capacity[:, observed] > 0).mean()), 3) == 0.767
    with path.open() as fh:
        assert sum(1 for _ in csv.reader(fh)) - 1 == 13 * 2104
