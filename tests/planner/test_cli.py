"""`hedge plan` and `hedge profile` as a user runs them: real processes, real files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from hedgeserve.spec import load_spec

HEDGE = [sys.executable, "-m", "hedgeserve"]


def hedge(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "160"}
    return subprocess.run([*HEDGE, *args], capture_output=True, text=True, timeout=timeout,
                          env=env, check=False)


@pytest.mark.timeout(180)
def test_plan_writes_json_spec_and_plot(tmp_path: Path) -> None:
    out, spec, png = tmp_path / "plan.json", tmp_path / "spec.yaml", tmp_path / "cost.png"
    result = hedge("plan", "--workload", "arena-like", "--rate", "8", "--slo-tpot", "120ms",
                   "--model", "llama-2-7b", "--gpus", "L4,A10G,A100-80GB,H100",
                   "--json", str(out), "--emit-spec", str(spec), "--plot", str(png))
    assert result.returncode == 0, result.stderr
    assert "Savings against single-type plans" in result.stdout
    doc = json.loads(out.read_text())
    assert set(doc["replicas"]) == {"L4", "A10G", "A100-80GB", "H100"}
    assert doc["cost_per_hour"] == pytest.approx(
        sum(doc["replicas"][g] * doc["prices"][g] for g in doc["replicas"]))
    assert doc["cost_per_hour"] <= min(b for b in doc["baselines"].values() if b is not None)
    document = yaml.safe_load(spec.read_text())
    in_use = {g for g, n in doc["replicas"].items() if n}
    assert set(document["planner"]["replicas"]) == in_use  # these GPUs' SkyPilot names match
    assert png.stat().st_size > 10_000 and png.read_bytes()[:4] == b"\x89PNG"
    load_spec(spec)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--rate", "8", "--slo-tpot", "5ms"], "no GPU type can meet the SLO"),
        (["--rate", "8", "--slo-tpot", "40"], "is not a duration"),
        (["--workload", "no-such-log.csv", "--rate", "1"], "neither a named workload"),
        (["--rate", "8", "--gpus", "L4,B300"], "unknown GPU type 'B300'"),
        (["--rate", "8", "--max-replicas", "L4:3"], "is not GPU=COUNT"),
        (["--rate", "inf"], "--rate: must be a finite number > 0, got inf"),
        (["--workload", "{tmp}/binary.log", "--rate", "1"], "binary.log: not a text file"),
        (["--rate", "1", "--model", "{tmp}/bad.yaml"], "bad.yaml:2:7: YAML syntax error"),
        (["--rate", "1", "--gpus", "L4", "--profile", "{tmp}/binary.log"],
         "binary.log: not a text file"),
        (["--rate", "1", "--plot", "{tmp}/cost.txt"], "--plot: 'cost.txt' does not end in"),
        (["--rate", "1", "--plot", "{tmp}"], "is a folder"),
        (["--rate", "1", "--emit-spec", "/nonexistent/x.yaml"],
         "--emit-spec: folder /nonexistent does not exist"),
        (["--rate", "1", "--emit-spec", "{tmp}/svc.json"], "does not end in .yaml or .yml"),
        (["--rate", "1", "--json", "/nonexistent/x.json"],
         "--json: folder /nonexistent does not exist"),
    ],
    ids=["impossible-slo", "unitless-slo", "missing-log", "unknown-gpu", "bad-quota",
         "infinite-rate", "binary-log", "bad-model-yaml", "binary-profile", "plot-suffix",
         "plot-folder", "spec-folder-missing", "spec-suffix", "json-folder-missing"])
@pytest.mark.timeout(60)
def test_plan_bad_input_is_one_line_and_exit_2(args: list[str], message: str,
                                               tmp_path: Path) -> None:
    (tmp_path / "binary.log").write_bytes(bytes(range(256)) * 4)
    (tmp_path / "bad.yaml").write_text("params_b: [1\nlayers: 2\n")
    result = hedge("plan", *(a.replace("{tmp}", str(tmp_path)) for a in args))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("hedge: error:") and message in lines[0]
    assert "Traceback" not in result.stderr


@pytest.mark.timeout(60)
def test_plan_checks_every_output_before_planning(tmp_path: Path) -> None:
    """A bad --plot is refused before the plan runs, so --json is not written either."""
    out = tmp_path / "plan.json"
    result = hedge("plan", "--rate", "8", "--json", str(out), "--plot", str(tmp_path / "x.txt"))
    assert result.returncode == 2 and "--plot" in result.stderr
    assert "Plan:" not in result.stdout and not out.exists()


@pytest.mark.timeout(60)
def test_profile_against_nothing_listening_is_a_clear_error(tmp_path: Path) -> None:
    result = hedge("profile", "--endpoint", "http://127.0.0.1:9", "--gpu", "L4",
                   "--out", str(tmp_path / "p.json"))
    assert result.returncode == 2
    assert "cannot list models" in result.stderr and "Traceback" not in result.stderr
