"""`hedge up` in the foreground torn down by Ctrl-C; `hedge down` with the controller dead;
the other service commands against a running service; and their one-line errors (exit 2)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from tests.e2e.harness import (
    group_gone,
    hedge,
    service_processes,
    status,
    wait_for,
    write_spec,
    write_trace,
)

from hedgeserve.control.state_dir import ServiceDir
from hedgeserve.control.store import Store

ZONES = {"local/east/zone-a": [1] * 40, "local/west/zone-b": [1] * 40}


def spec_file(tmp_path: Path, **kw: object) -> Path:
    trace = write_trace(tmp_path / "trace.csv", ZONES)
    return write_spec(tmp_path / "svc.yaml", trace=trace, zones=["zone-a", "zone-b"],
                      **kw)  # type: ignore[arg-type]


@pytest.mark.timeout(90)
def test_foreground_up_then_ctrl_c_tears_everything_down(hedge_home: Path,
                                                         tmp_path: Path) -> None:
    spec = spec_file(tmp_path)
    up = subprocess.Popen([sys.executable, "-m", "hedgeserve", "up", str(spec), "--name", "fg"],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_for(lambda: (hedge_home / "fg" / "control.json").exists()
                 and status("fg")["status"] == "ready", timeout=60, what="the service ready")
        pids = [r["pid"] for r in status("fg")["replicas"]]
        up.send_signal(signal.SIGINT)
        out, _ = up.communicate(timeout=60)
    finally:
        if up.poll() is None:
            up.kill()
    assert up.returncode == 0, out
    assert "endpoint: http://127.0.0.1:" in out
    assert "no process left" in out
    assert service_processes("fg") == []
    assert all(group_gone(pid) for pid in pids)
    assert status("fg")["status"] == "down"


@pytest.mark.timeout(90)
def test_down_without_controller_and_the_read_commands(hedge_home: Path,
                                                       tmp_path: Path) -> None:
    spec = spec_file(tmp_path)
    hedge("up", str(spec), "--name", "svc", "--detach", "--timeout", "60")
    again = hedge("up", str(spec), "--name", "svc", "--detach", check=False)
    assert again.returncode == 2 and "already up" in again.stderr
    assert len(again.stderr.strip().splitlines()) == 1

    doc = status("svc")
    table = hedge("status", "svc").stdout
    assert "ready" in table and doc["endpoint"] in table
    assert "svc" in hedge("status").stdout
    first = doc["replicas"][0]["id"]
    assert "listening on" in hedge("logs", "svc", "--replica", str(first)).stdout
    assert "decision: Launch" in hedge("logs", "svc", "--controller").stdout
    assert "hedge gateway: listening" in hedge("logs", "svc", "--gateway").stdout
    assert "launch" in hedge("events", "svc").stdout

    # A gateway that dies is started again by the controller, on the same endpoint.
    store = Store.reader(ServiceDir.named("svc").db)
    old_gateway = store.service().gateway  # type: ignore[union-attr]
    store.close()
    os.killpg(old_gateway.pid, signal.SIGKILL)

    def gateway_back() -> bool:
        reader = Store.reader(ServiceDir.named("svc").db)
        try:
            record = reader.service().gateway  # type: ignore[union-attr]
        finally:
            reader.close()
        return record.pid != old_gateway.pid and record.endpoint == old_gateway.endpoint

    wait_for(gateway_back, timeout=20, what="a new gateway on the same endpoint")
    assert urllib.request.urlopen(doc["endpoint"] + "/v1/models", timeout=5).status == 200

    controller = doc["details"]["controller_pid"]
    os.kill(controller, signal.SIGKILL)
    wait_for(lambda: group_gone(controller), timeout=10, what="the controller to die")
    pids = [r["pid"] for r in doc["replicas"]]
    down = hedge("down", "svc")
    assert "no process left" in down.stdout
    assert service_processes("svc") == []
    assert all(group_gone(pid) for pid in pids)
    time.sleep(0.1)
    assert status("svc")["status"] == "down"


@pytest.mark.timeout(120)
def test_foreground_up_with_a_hung_controller_tears_down_without_it(
        hedge_home: Path, tmp_path: Path) -> None:
    spec = spec_file(tmp_path)
    up = subprocess.Popen([sys.executable, "-m", "hedgeserve", "up", str(spec), "--name", "fg"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: (hedge_home / "fg" / "control.json").exists()
                 and status("fg")["status"] == "ready", timeout=60, what="the service ready")
        doc = status("fg")
        pids = [r["pid"] for r in doc["replicas"]]
        os.kill(doc["details"]["controller_pid"], signal.SIGSTOP)  # alive, but deaf
        out, err = up.communicate(timeout=90)
    finally:
        if up.poll() is None:
            up.kill()
    assert up.returncode == 1, out + err
    assert "Traceback" not in err
    (line,) = err.strip().splitlines()
    assert "stopped answering" in line and "tearing fg down without it" in line
    assert "no process left" in out
    assert service_processes("fg") == []
    assert all(group_gone(pid) for pid in pids)


@pytest.mark.parametrize(("args", "needle", "home"), [
    (["status", "nope"], "no service named 'nope'", None),
    (["down", "nope"], "no service named 'nope'", None),
    (["events", "nope"], "no service named 'nope'", None),
    (["logs", "nope"], "no service named 'nope'", None),
    (["up", "/does/not/exist.yaml"], "spec file not found", None),
    (["up", "{spec}"], "cannot create the service folder: Not a directory", "/dev/null/x"),
], ids=["status", "down", "events", "logs", "up-missing-spec", "up-home-under-a-file"])
def test_bad_input_is_one_line_exit_2(hedge_home: Path, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch, args: list[str],
                                      needle: str, home: str | None) -> None:
    if home is not None:
        monkeypatch.setenv("HEDGE_HOME", home)
    spec = spec_file(tmp_path)
    done = hedge(*(a.replace("{spec}", str(spec)) for a in args), check=False, timeout=30)
    assert done.returncode == 2
    assert needle in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
