"""`hedge check` as a user runs it: a real `hedge` process, exit codes and output."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def hedge(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hedgeserve", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
        check=False,
    )


@pytest.mark.timeout(60)
def test_check_quickstart_prints_the_resolved_spec() -> None:
    result = hedge("check", str(EXAMPLES / "quickstart.yaml"))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "valid service spec" in out
    assert "SpotHedge" in out and "3 (fixed), +1 overprovisioned" in out
    assert "gcp-h100" in out and "us-central1-a" in out
    assert "GET /health" in out
    assert result.stderr == ""


@pytest.mark.timeout(60)
def test_check_bad_spec_exits_2_with_one_line(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text(
        "service:\n  replica_policy:\n    min_replicas: 3\n    max_replicas: 1\n"
        "    target_qps_per_replica: 1\nrun: x\n"
    )
    result = hedge("check", "bad.yaml", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == (
        "hedge: error: bad.yaml:4: service.replica_policy.max_replicas: max_replicas (1) is "
        "less than min_replicas (3) — fix: set max_replicas to at least 3\n"
    )


@pytest.mark.timeout(60)
def test_check_all_lists_every_problem(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("servce: {}\ngateway: {port: x}\nnum_nodes: 2\n")
    result = hedge("check", "--all", "bad.yaml", cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 4, lines  # the typo, the port, num_nodes and the missing run
    assert all(line.startswith("hedge: error: bad.yaml:") for line in lines)
    assert "'servce'" in lines[0] and "did you mean 'service'" in lines[0]
    assert any("required key 'run'" in line for line in lines)
    assert "Traceback" not in result.stderr


@pytest.mark.timeout(60)
def test_check_without_argument_is_a_usage_error() -> None:
    result = hedge("check")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(("old", "new", "message"), [
    ("trace: gcp-h100", "trace: nosuch", "unknown trace 'nosuch'"),
    ("us-west1-a]", "nosuch-zone]", "zone 'nosuch-zone' is not in the trace"),
    ("start_hour: 24 ", "start_hour: 9999 ",
     "spot_emulation.start_hour: start_hour 9999 is past the end of trace gcp-h100"),
], ids=["unknown-trace", "unknown-zone", "start-past-the-end"])
@pytest.mark.timeout(60)
def test_check_refuses_what_up_would_refuse(tmp_path: Path, old: str, new: str,
                                            message: str) -> None:
    """`check` runs the zone planning of `hedge up`: the trace, its zones, the start hour."""
    text = (EXAMPLES / "quickstart.yaml").read_text()
    assert old in text
    (tmp_path / "svc.yaml").write_text(text.replace(old, new))
    result = hedge("check", "svc.yaml", cwd=tmp_path)
    assert result.returncode == 2 and result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith("hedge: error:") and message in line


@pytest.mark.timeout(60)
def test_check_warns_that_a_cloud_provider_cannot_run_yet(tmp_path: Path) -> None:
    text = (EXAMPLES / "skyserve-vllm.yaml").read_text() + "\nprovider: skypilot\n"
    (tmp_path / "svc.yaml").write_text(text)
    result = hedge("check", "svc.yaml", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "hedge up cannot run provider 'skypilot' yet" in " ".join(result.stdout.split())
