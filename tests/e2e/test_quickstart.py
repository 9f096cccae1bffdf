"""The README's run command on the shipped quickstart: 3 target replicas over at least 3
emulated zones, a completion through the endpoint, `hedge status` listing them, `hedge down`
leaving no process behind. And a spec whose run command is broken fails fast with a pointer to
the replica's log instead of relaunching forever."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import pytest
from tests.e2e.harness import (
    group_gone,
    hedge,
    service_processes,
    status_cli,
    wait_for,
)

QUICKSTART = Path(__file__).resolve().parents[2] / "examples" / "quickstart.yaml"


@pytest.mark.timeout(120)
def test_quickstart_up_curl_status_down(hedge_home: Path) -> None:
    up = hedge("up", str(QUICKSTART), "--detach", "--timeout", "90")
    assert "endpoint: http://127.0.0.1:" in up.stdout
    doc = wait_for(lambda: (d := status_cli("quickstart"))["status"] == "ready" and d,
                   timeout=30, what="the quickstart ready")
    ready = [r for r in doc["replicas"] if r["state"] == "ready"]
    assert len(ready) >= 3
    assert len({r["zone"] for r in doc["replicas"] if r["spot"]}) >= 3  # spread over zones
    assert doc["cost_per_hour"] > 0 and doc["on_demand_cost_per_hour"] > 0

    body = json.dumps({"model": "hedgeserve/emulated-llm", "prompt": "Say hi",
                       "max_tokens": 5}).encode()
    request = urllib.request.Request(doc["endpoint"] + "/v1/completions", data=body,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as resp:
        answer = json.loads(resp.read())
    assert answer["object"] == "text_completion" and answer["choices"][0]["text"]

    table = hedge("status", "quickstart").stdout
    assert all(str(r["id"]) in table for r in ready)
    pids = [r["pid"] for r in doc["replicas"]]
    assert "no process left" in hedge("down", "quickstart").stdout
    assert service_processes("quickstart") == []
    assert all(group_gone(pid) for pid in pids)


@pytest.mark.timeout(90)
def test_a_broken_run_command_fails_fast(hedge_home: Path, tmp_path: Path) -> None:
    spec = tmp_path / "broken.yaml"
    spec.write_text("service:\n  readiness_probe: /health\n"
                    "run: echo 'model not found' >&2; exit 3\n")
    up = hedge("up", str(spec), "--detach", "--timeout", "60", check=False)
    assert up.returncode == 1
    assert "failed before any became ready" in up.stderr
    assert "hedge logs broken --replica" in up.stderr
    log = hedge("logs", "broken", "--replica", "1").stdout
    assert "model not found" in log
    assert status_cli("broken")["status"] == "failed"
    hedge("down", "broken")
    assert service_processes("broken") == []
