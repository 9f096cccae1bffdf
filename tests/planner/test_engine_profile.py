"""`hedge profile` against the real `hedge engine` emulator, then `hedge plan --profile`."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

HEDGE = [sys.executable, "-m", "hedgeserve"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def engine_url() -> Iterator[str]:
    port = free_port()
    # 5 ms per token alone, +2% per extra request in the batch, 5 ms prefill.
    process = subprocess.Popen([*HEDGE, "engine", "--port", str(port), "--tpot-ms", "5",
                                "--ttft-ms", "5", "--batch-slowdown", "0.02"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=1) as response:
                    if response.status == 200:
                        break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.1)
        yield url
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.mark.timeout(120)
def test_profile_of_the_engine_feeds_the_plan(engine_url: str, tmp_path: Path) -> None:
    profile_path, plan_path = tmp_path / "profile.json", tmp_path / "plan.json"
    env = {**os.environ, "COLUMNS": "160"}
    profiled = subprocess.run(
        [*HEDGE, "profile", "--endpoint", engine_url, "--gpu", "L4", "--model", "emulated",
         "--input-edges", "25", "--output-edges", "16", "--slo-tpot", "8ms",
         "--duration", "0.5", "--min-requests", "10", "--start-rate", "8", "--max-rate", "1024",
         "--refine-steps", "1", "--drain", "10", "--out", str(profile_path)],
        capture_output=True, text=True, timeout=100, env=env, check=False)
    assert profiled.returncode == 0, profiled.stderr
    profile = json.loads(profile_path.read_text())
    assert profile["schema"] == "hedgeserve.profile/v1" and profile["labels"]["gpu"] == "L4"
    (bucket,) = profile["buckets"]
    assert bucket["capacity_per_s"] >= 8  # a lone request gets 5 ms per token, well under 8 ms
    assert any(p["tpot_s"] is None or p["tpot_s"]["p50"] > 0.008 for p in bucket["points"])

    planned = subprocess.run(
        [*HEDGE, "plan", "--profile", str(profile_path), "--gpus", "L4", "--input-edges", "25",
         "--output-edges", "16", "--workload", "arena-like", "--rate", "20",
         "--slo-tpot", "8ms", "--headroom", "0", "--json", str(plan_path)],
        capture_output=True, text=True, timeout=100, env=env, check=False)
    assert planned.returncode == 0, planned.stderr
    plan = json.loads(plan_path.read_text())
    capacity = bucket["capacity_per_s"]
    assert plan["capacity"]["L4"]["25x16"] == pytest.approx(capacity)
    # All 20 req/s land in the one bucket: ceil(20 / capacity) replicas of L4.
    expected = -(-20 // capacity) if capacity else None
    assert plan["replicas"]["L4"] == expected
    assert plan["capacity_sources"]["L4"] == f"profile {profile_path}"
