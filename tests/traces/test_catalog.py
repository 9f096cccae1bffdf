"""`load_trace`: names, paths, folders and globs; where paper traces are looked for; bad refs."""

from __future__ import annotations

from pathlib import Path

import pytest

from hedgeserve.errors import InputError
from hedgeserve.traces import catalog
from hedgeserve.traces.catalog import list_bundled, list_paper_traces, load_trace
from hedgeserve.traces.formats import TraceFormat, sniff_format
from hedgeserve.traces.model import UNLIMITED

from .conftest import ZoneJsonWriter


@pytest.fixture
def no_shared_data(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Hide every shared data folder: the env var points at an empty folder, no checkout root."""
    empty = tmp_path / "empty-shared"
    empty.mkdir()
    monkeypatch.setenv(catalog.SHARED_DATA_ENV, str(empty))
    monkeypatch.setattr(catalog, "_checkout_root", lambda: None)
    monkeypatch.chdir(tmp_path)
    return empty


def test_help_text_lists_the_bundled_default_first_and_the_paper_names() -> None:
    (name, description), *_ = list_bundled()
    assert name == "gcp-h100" and "13 zones" in description
    assert [n for n, _ in list_paper_traces()] == ["AWS1", "AWS2", "AWS3", "GCP1"]


def test_a_missing_paper_trace_says_where_it_looked_and_why_it_is_not_shipped(
    no_shared_data: Path,
) -> None:
    with pytest.raises(InputError) as err:
        load_trace("AWS1")
    line = err.value.one_line()
    assert str(no_shared_data / "traces/spothedge-ae/data/AWS1") in line
    assert "not redistributed" in line and "HEDGE_SHARED_DATA" in line


def test_the_env_var_points_at_the_shared_data_folder(
    no_shared_data: Path, write_zone_json: ZoneJsonWriter
) -> None:
    folder = no_shared_data / "traces/spothedge-ae/data/AWS3"
    write_zone_json("us-east-1a_v100_1.json", [0, 1, 1], gap=300, folder=folder)
    write_zone_json("us-west-2b_v100_1.json", [1, 1, 0], gap=300, folder=folder)
    t = load_trace("aws3")
    assert t.name == "AWS3" and t.instance == "p3.2xlarge" and t.gap_s == 300
    assert t.capacity.tolist() == [[0, UNLIMITED, UNLIMITED],
                                   [UNLIMITED, UNLIMITED, 0]]
    assert load_trace("AWS3", unlimited_when_positive=False).capacity.max() == 1
    assert load_trace("AWS3", gap_s=195).gap_s == 195


def test_the_bundled_trace_takes_the_overrides_too() -> None:
    t = load_trace("gcp-h100", unlimited_when_positive=True, gap_s=300)
    assert t.gap_s == 300 and set(t.capacity.ravel().tolist()) <= {0, UNLIMITED}


@pytest.mark.parametrize(
    ("content", "fmt"),
    [
        ('{"metadata": {"gap_seconds": 1}, "data": [1]}', TraceFormat.ZONE_JSON),
        ('#[0, "add", {"nodes": []}]\n[0, "add", {"nodes": ["a"]}]', TraceFormat.REPLAY_SCRIPT),
        ("run_id,scheduled_at_utc,zone,instances_created\n", TraceFormat.PROBE_CSV),
        ("# note: x\ntime_utc,us-east4-a\n", TraceFormat.CAPACITY_CSV),
        ("date,availability\n", TraceFormat.AVAILABILITY_CSV),
        ("480000,add,node1\n", TraceFormat.EVENT_CSV),
    ],
    ids=["json", "replay", "probe", "capacity", "availability", "events"],
)
def test_formats_are_recognised_by_content(tmp_path: Path, content: str, fmt: TraceFormat) -> None:
    path = tmp_path / "trace.dat"  # the name says nothing
    path.write_text(content)
    assert sniff_format(path) is fmt


@pytest.mark.parametrize(
    ("ref", "setup", "message"),
    [
        ("nope.json", None, "unknown trace 'nope.json': not a trace name, file or folder"),
        ("empty.csv", "", "empty file"),
        ("blank.csv", "\n  \n", "empty file"),
        ("words.txt", "hello, world\n", "unrecognised trace format"),
        ("binary.bin", "\x00\x01\x02", "not a text file"),
        ("comments.csv", "# only\n# comments\n", "only comments"),
        ("no-match-*.json", None, "the pattern matches no files"),
    ],
    ids=["missing", "empty", "blank", "wrong-format", "binary", "comments", "glob"],
)
def test_bad_refs_are_one_line_input_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ref: str, setup: str | None, message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    if setup is not None:
        (tmp_path / ref).write_text(setup)
    with pytest.raises(InputError) as err:
        load_trace(ref)
    assert message in err.value.one_line() and "\n" not in err.value.one_line()


def test_an_empty_folder_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no trace files in this folder"):
        load_trace(str(tmp_path))


def test_a_non_positive_gap_is_an_input_error() -> None:
    with pytest.raises(InputError, match="gap_s must be positive"):
        load_trace("gcp-h100", gap_s=0)


def test_a_glob_of_mixed_formats_is_refused(
    tmp_path: Path, write_zone_json: ZoneJsonWriter
) -> None:
    write_zone_json("us-east-1a_v100_1.json", [1])
    (tmp_path / "us-east-1c_v100_1.csv").write_text("date,availability\n2023-01-01 00:00:00,1\n")
    with pytest.raises(InputError, match="different formats"):
        load_trace(str(tmp_path / "us-east-1*"))


@pytest.mark.paper_traces
def test_the_shared_folder_is_found_relative_to_the_checkout(shared_traces: Path) -> None:
    assert (shared_traces / "spothedge-ae/data/GCP1").is_dir()
    assert load_trace("GCP1").source.endswith("spothedge-ae/data/GCP1")
