"""Workloads: Poisson, per-minute counts (MAF-like) and request logs; bad files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hedgeserve.errors import InputError
from hedgeserve.sim.workload import (
    PerMinuteCounts,
    Poisson,
    RequestLog,
    ServiceModel,
    make_workload,
    parse_workload,
)


def test_poisson_rate_and_exponential_service() -> None:
    rng = np.random.default_rng(0)
    w = make_workload(Poisson(0.5), ServiceModel(mean_s=10.0), rng, 200_000.0)
    assert w.arrival_s.size == pytest.approx(100_000, rel=0.02)  # 0.5 req/s × 200k s
    assert np.all(np.diff(w.arrival_s) >= 0)
    assert w.service_s.mean() == pytest.approx(10.0, rel=0.03)


def test_per_minute_counts_are_scaled_capped_and_spread(tmp_path: Path) -> None:
    f = tmp_path / "maf.csv"
    f.write_text(
        "Time (min),Requests\n"
        + "".join(f"{i},{c}\n" for i, c in enumerate([300_000, 50_000] * 30))
    )
    source = parse_workload(f"counts:{f}:scale=1e-4:cap=20")
    assert isinstance(source, PerMinuteCounts)
    assert source.counts.tolist()[:2] == [20.0, 5.0]  # 30 capped at 20; 50k × 1e-4 = 5
    w = make_workload(source, ServiceModel(), np.random.default_rng(1), 3600.0)
    assert w.arrival_s.size == 30 * 20 + 30 * 5
    minutes = np.bincount((w.arrival_s // 60).astype(int))
    assert set(minutes.tolist()) == {20, 5}


def test_request_log_csv_with_tokens_gives_token_based_service(tmp_path: Path) -> None:
    f = tmp_path / "log.csv"
    f.write_text("arrival_s,input_tokens,output_tokens\n10,100,50\n12.5,1000,10\n11,0,0\n")
    source = parse_workload(f"log:{f}")
    assert isinstance(source, RequestLog)
    service = ServiceModel(ttft_s=0.5, prefill_s_per_token=0.001, tpot_s=0.02)
    w = make_workload(source, service, np.random.default_rng(0), 100.0)
    assert w.arrival_s.tolist() == [0.0, 1.0, 2.5]  # sorted and relative to the first
    # 0.5 + 100 × 0.001 + 50 × 0.02 = 1.6 ; 0.5 ; 0.5 + 1 + 0.2 = 1.7
    assert w.service_s.tolist() == pytest.approx([1.6, 0.5, 1.7])


def test_request_log_jsonl(tmp_path: Path) -> None:
    f = tmp_path / "log.jsonl"
    f.write_text('{"timestamp": 5, "prompt_tokens": 3, "completion_tokens": 4}\n{"timestamp": 6}\n')
    with pytest.raises(InputError):  # second record lacks token fields
        parse_workload(f"log:{f}")
    f.write_text('{"timestamp": 5}\n{"timestamp": 6}\n')
    w = make_workload(
        parse_workload(f"log:{f}"), ServiceModel(mean_s=2), np.random.default_rng(0), 60
    )
    assert w.arrival_s.tolist() == [0.0, 1.0]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("poisson:-1", "must be positive", id="negative-rate"),
        pytest.param("poisson:abc", "not a number", id="rate-not-a-number"),
        pytest.param("gamma:3", "unknown workload", id="unknown-kind"),
        pytest.param("counts:", "names no file", id="no-file"),
        pytest.param("counts:/nonexistent.csv", "file not found", id="missing-file"),
        pytest.param("log:/nonexistent.csv", "no such file", id="missing-log"),
    ],
)
def test_bad_workloads(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_workload(text)


def test_bad_counts_file(tmp_path: Path) -> None:
    f = tmp_path / "bad.csv"
    f.write_text("minute,count\n0,5\n1,oops\n")
    with pytest.raises(InputError, match="line 3"):
        parse_workload(f"counts:{f}")
