"""The one request-log reader: every shape the planner and the simulator accept, and the
errors (file and line) for the shapes neither should."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hedgeserve.errors import InputError
from hedgeserve.traces.request_log import read_request_log


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_csv_with_header_and_arrivals(tmp_path: Path) -> None:
    path = write(tmp_path, "log.csv",
                 "arrival_s,prompt_tokens,completion_tokens\n0,10,5\n0.5,90,40\n2,30,30\n")
    log = read_request_log(path, need_sizes=True, need_arrivals=True)
    assert log.sizes == ((10, 5), (90, 40), (30, 30))
    assert log.arrivals_s == (0.0, 0.5, 2.0)
    assert log.observed_rate_per_s == pytest.approx(1.0)  # 2 gaps over 2 s
    assert log.count == 3


@pytest.mark.parametrize(("header", "row"), [
    ("t,input_len,output_len", "4,12,7"),  # the simulator's short names
    ("Timestamp,Input,Output", "4,12,7"),  # any case
    ("arrival,input_tokens,output_tokens,user", "4,12,7,alice"),  # extra columns are ignored
    ("time, prompt_tokens , completion_tokens", "4, 12, 7"),  # spaces around names and values
], ids=["short-names", "any-case", "extra-column", "spaces"])
def test_every_column_spelling(tmp_path: Path, header: str, row: str) -> None:
    log = read_request_log(write(tmp_path, "log.csv", f"{header}\n{row}\n"))
    assert (log.arrivals_s, log.sizes) == ((4.0,), ((12, 7),))


def test_headerless_pairs_like_the_arena_length_file(tmp_path: Path) -> None:
    log = read_request_log(write(tmp_path, "pairs.csv", "143,200\n\n12,7\n"), need_sizes=True)
    assert log.sizes == ((143, 200), (12, 7)) and log.arrivals_s is None
    assert log.observed_rate_per_s is None


def test_jsonl_with_usage_objects_and_flat_keys(tmp_path: Path) -> None:
    rows = [{"usage": {"prompt_tokens": 5, "completion_tokens": 6}, "timestamp": 1.0},
            {"input_tokens": 7, "output_tokens": 8, "timestamp": 3.0},
            {"input_len": "9", "output_len": 10.0, "t": 5}]
    path = write(tmp_path, "log.jsonl", "\n".join(json.dumps(r) for r in rows) + "\n")
    log = read_request_log(path, need_sizes=True)
    assert log.sizes == ((5, 6), (7, 8), (9, 10))
    assert log.arrivals_s == (1.0, 3.0, 5.0)  # file order: sorting is the caller's
    assert log.observed_rate_per_s == pytest.approx(0.5)


def test_arrivals_only_for_the_simulator(tmp_path: Path) -> None:
    path = write(tmp_path, "log.jsonl", '{"timestamp": 6}\n{"timestamp": 5}\n')
    log = read_request_log(path, need_arrivals=True)
    assert log.arrivals_s == (6.0, 5.0) and log.sizes is None
    with pytest.raises(InputError, match="no input and output token counts"):
        read_request_log(path, need_sizes=True)
    sizes_only = write(tmp_path, "pairs.csv", "1,2\n")
    with pytest.raises(InputError, match="no arrival time"):
        read_request_log(sizes_only, need_arrivals=True)


@pytest.mark.parametrize(("name", "text", "message", "line"), [
    ("bad.csv", "input_tokens,output_tokens\n10,5\nten,5\n", "'ten' is not a token count", 3),
    ("frac.csv", "input_tokens,output_tokens\n10.5,5\n", "is not a token count", 2),
    ("neg.csv", "1,2\n-1,2\n", "is not a token count", 2),
    ("nan.jsonl", '{"t": NaN}\n', "is not a number of seconds", 1),
    ("bool.jsonl", '{"input": true, "output": 1}\n', "is not a token count", 1),
    ("mixed.jsonl", '{"t": 5, "prompt_tokens": 3, "completion_tokens": 4}\n{"t": 6}\n',
     "line 1 has token counts but line 2 has none", 2),
    ("gap.csv", "t,input,output\n1,2,3\n,2,3\n",
     "line 2 has an arrival time but line 3 has none", 3),
    ("half.jsonl", '{"input_tokens": 3}\n', "output token count is missing", 1),
    ("text.jsonl", '{"t": 1}\nnot json\n', "not JSON", 2),
    ("list.jsonl", '{"t": 1}\n[1, 2]\n', "must be a JSON object", 2),
    ("one.csv", "12\n", "need two columns", 1),
    ("header.csv", "a,b\n1,2\n", "the header names no known column (a, b)", 1),
], ids=["word", "fraction", "negative", "nan", "bool", "mixed-tokens", "missing-arrival",
        "half-size", "not-json", "not-object", "one-column", "unknown-header"])
def test_bad_rows_name_the_file_and_line(tmp_path: Path, name: str, text: str, message: str,
                                         line: int) -> None:
    path = write(tmp_path, name, text)
    with pytest.raises(InputError) as err:
        read_request_log(path)
    assert message in err.value.one_line() and err.value.where == f"{path}:{line}"


def test_files_that_are_not_logs(tmp_path: Path) -> None:
    binary = tmp_path / "model.bin"
    binary.write_bytes(bytes(range(256)) * 8)
    with pytest.raises(InputError, match="not a text file"):
        read_request_log(binary)
    with pytest.raises(InputError, match="no such file"):
        read_request_log(tmp_path / "nope.csv")
    with pytest.raises(InputError, match="is a folder"):
        read_request_log(tmp_path)
    with pytest.raises(InputError, match="no requests"):
        read_request_log(write(tmp_path, "empty.csv", "\n\n"))
    with pytest.raises(InputError, match="no requests"):
        read_request_log(write(tmp_path, "header-only.csv", "input_tokens,output_tokens\n"))
