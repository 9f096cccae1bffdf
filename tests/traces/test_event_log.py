"""SpotServe's add/remove event log and JSON-lines replay scripts."""

from __future__ import annotations

import json
from pathlib import Path
from tempfile import TemporaryDirectory

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hedgeserve.errors import InputError
from hedgeserve.traces.catalog import load_trace
from hedgeserve.traces.event_log import load_event_csv, load_replay_script


def _log(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "g4dn.csv"
    path.write_text("".join(line + "\n" for line in lines))
    return path


def test_capacity_is_adds_minus_removes_from_the_first_event(tmp_path: Path) -> None:
    path = _log(tmp_path, ["120000,add,node1", "180000,add,node2", "180000,add,node3",
                           "300000,remove,node2", "330000,add,node4", "360000,remove,node1"])
    t = load_event_csv(path)
    # ticks at 2, 3, 4, 5, 6 min; the add at 5.5 min shows at the 6-min tick with the remove
    assert t.gap_s == 60 and t.capacity.tolist() == [[1, 3, 3, 2, 2]]
    assert t.zones == ("aws/unknown/g4dn",) and t.instance == "g4dn.12xlarge"
    assert load_trace(str(path)).capacity.tolist() == t.capacity.tolist()


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (["60000,remove,node1"], "remove of node1, which is not up"),
        (["60000,add,node1", "60000,add,node1"], "add of node1, which is already up"),
        (["60000,add,node1", "0,add,node2"], "not in time order"),
        (["-60000,add,node1"], "unrecognised trace format"),
        (["60000,launch,node1"], "unrecognised trace format"),
    ],
    ids=["remove-unknown", "double-add", "order", "negative-time", "bad-op"],
)
def test_broken_logs_are_input_errors(tmp_path: Path, lines: list[str], message: str) -> None:
    with pytest.raises(InputError, match=message):
        load_trace(str(_log(tmp_path, lines)))


def test_a_bad_row_after_good_ones_names_its_line(tmp_path: Path) -> None:
    path = _log(tmp_path, ["60000,add,node1", "120000,launch,node2"])
    with pytest.raises(InputError, match=r"g4dn.csv:2: expected t_ms,add\|remove,node_id"):
        load_event_csv(path)


def test_a_replay_script_runs_from_zero_to_done_on_the_finest_tick(tmp_path: Path) -> None:
    path = tmp_path / "trace_x.txt"
    path.write_text("\n".join([
        '#[0, "add", {"nodes": ["node-0"]}]',
        '[0, "add", {"nodes": ["node-0", "node-1", "node-2"]}]',
        '[90000, "remove", {"nodes": ["node-1"], "required_tpt": 0.6}]',
        '[120000, "other", {"nodes": [], "required_tpt": 0.8}]',
        '[150000, "add", {"nodes": ["node-3", "node-4"]}]',
        '[180000, "DONE", {"nodes": []}]',
    ]))
    t = load_trace(str(path))
    assert t.gap_s == 30 and t.n_ticks == 6
    assert t.capacity.tolist() == [[3, 3, 3, 2, 2, 4]]
    # on 60 s ticks the remove at 90 s shows at the 120 s tick: state at each tick start
    assert load_replay_script(path, gap_s=60).capacity.tolist() == [[3, 3, 2]]


def test_a_replay_script_with_an_unknown_op_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "trace_x.txt"
    path.write_text('[0, "add", {"nodes": ["a"]}]\n[60000, "preempt", {"nodes": ["a"]}]\n')
    with pytest.raises(InputError, match="unknown op 'preempt'"):
        load_replay_script(path)


@given(st.lists(st.tuples(st.integers(0, 50), st.booleans()), min_size=1, max_size=40))
def test_capacity_at_each_event_time_is_the_running_balance(
    steps: list[tuple[int, bool]],
) -> None:
    """Any valid log: at the tick of each event time, capacity = adds - removes so far."""
    lines: list[str] = []
    up: list[str] = []
    balance_at: dict[int, int] = {}
    t = next_id = 0
    for dt, want_add in steps:
        t += dt
        if want_add or not up:
            lines.append(f"{t * 60000},add,n{next_id}")
            up.append(f"n{next_id}")
            next_id += 1
        else:
            lines.append(f"{t * 60000},remove,{up.pop(0)}")
        balance_at[t] = len(up)
    events = [json.dumps([int(x.split(",")[0]), x.split(",")[1], {"nodes": [x.split(",")[2]]}])
              for x in lines]
    start = int(lines[0].split(",")[0]) // 60000
    with TemporaryDirectory() as tmp:
        log = Path(tmp) / "log.csv"
        log.write_text("\n".join(lines) + "\n")
        script = Path(tmp) / "script.txt"
        script.write_text("\n".join(events) + "\n")
        csv_trace, script_trace = load_event_csv(log), load_replay_script(script, gap_s=60)
    for minute, balance in balance_at.items():
        assert csv_trace.capacity[0, minute - start] == balance
        assert script_trace.capacity[0, minute] == balance
    assert (csv_trace.capacity >= 0).all()


# ---- the real files ------------------------------------------------------------------------


@pytest.mark.paper_traces
def test_the_g4dn_log_has_the_documented_shape(shared_traces: Path) -> None:
    t = load_trace(str(shared_traces / "spotserve/trace_full/g4dn.csv"))
    # minutes 8 .. 646 inclusive; at most 24 nodes at once; 5 left at the end (right-censored)
    assert (t.n_ticks, t.gap_s, int(t.capacity.max()), int(t.capacity[0, -1])) == (639, 60, 24, 5)
    assert round(float(t.capacity.mean()), 1) == 12.7  # PROVENANCE: "time-average 12.8"


@pytest.mark.paper_traces
def test_replay_script_a_s_matches_its_documented_events(shared_traces: Path) -> None:
    t = load_trace(str(shared_traces / "spotserve/trace_seg/trace_0304_real.txt"))
    # adds at 240, 360, 900 s; removes at 600 and 1200 s; DONE at 1320 s
    assert t.gap_s == 60 and t.n_ticks == 22
    expected = [7] * 4 + [8] * 2 + [10] * 4 + [9] * 5 + [10] * 5 + [8] * 2
    assert t.capacity[0].tolist() == expected


@pytest.mark.paper_traces
def test_every_replay_script_loads(shared_traces: Path) -> None:
    scripts = sorted((shared_traces / "spotserve/trace_seg").glob("*.txt"))
    assert len(scripts) == 21
    for path in scripts:
        assert load_trace(str(path)).capacity.min() >= 0
