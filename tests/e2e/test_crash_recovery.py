"""(b) kill -9 of the controller mid-run, then `hedge up` again: the new controller adopts the
running replicas and the gateway (same pids, same endpoint), launches nothing twice, ends the
row of a replica that died while nobody watched (and replaces it), and terminates an instance
that carries the service's tag but has no row (what a crash between spawn and write leaves).
Requests keep flowing through the gateway the whole time.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from tests.e2e.harness import (
    RequestLoop,
    group_gone,
    hedge,
    service_processes,
    status,
    timeline,
    wait_for,
    write_spec,
    write_trace,
)

from hedgeserve.control.records import EventKind
from hedgeserve.control.state_dir import ServiceDir
from hedgeserve.providers.factory import instance_tag
from hedgeserve.providers.local import TAG_VAR

ZONES = {"local/east/zone-a": [2] * 40, "local/east/zone-b": [2] * 40,
         "local/west/zone-c": [2] * 40}


def live(doc: dict) -> dict[int, int]:
    return {r["id"]: r["pid"] for r in doc["replicas"]}


@pytest.mark.timeout(150)
def test_kill_9_controller_then_restart_adopts_everything(hedge_home: Path,
                                                          tmp_path: Path) -> None:
    trace = write_trace(tmp_path / "trace.csv", ZONES)
    spec = write_spec(tmp_path / "svc.yaml", trace=trace, zones=["zone-a", "zone-b", "zone-c"],
                      min_replicas=2, extra=1)
    hedge("up", str(spec), "--name", "svc", "--detach", "--timeout", "60")
    wait_for(lambda: len(status("svc")["replicas"]) == 3, timeout=30, what="3 spot replicas")
    before = status("svc")
    folder = ServiceDir.named("svc")
    controller_pid = before["details"]["controller_pid"]

    with RequestLoop(before["endpoint"]) as load:
        os.kill(controller_pid, signal.SIGKILL)
        wait_for(lambda: group_gone(controller_pid), timeout=10, what="the controller to die")
        assert status("svc")["status"] == "controller_down"
        # While nobody watches: one replica dies, and a stray tagged instance appears.
        victim_id, victim_pid = sorted(live(before).items())[0]
        os.killpg(victim_pid, signal.SIGKILL)
        stray = subprocess.Popen(
            ["sleep", "300"], start_new_session=True, stdin=subprocess.DEVNULL,
            env={**os.environ, TAG_VAR: instance_tag(folder), "HEDGE_REPLICA_ID": "999",
                 "HEDGE_REPLICA_PORT": "1", "HEDGE_ZONE": "local/east/zone-a",
                 "HEDGE_SPOT": "true"},
        )
        time.sleep(1.0)  # the gateway serves on its own meanwhile
        restarted_at = time.time()
        hedge("up", str(spec), "--name", "svc", "--detach", "--timeout", "60")
        stray.wait(timeout=40)  # the new controller terminated it
        after = wait_for(lambda: (d := status("svc"))["status"] == "ready"
                         and len(d["replicas"]) == 3 and d, timeout=40, what="3 ready again")

    assert after["endpoint"] == before["endpoint"]
    assert after["details"]["controller_pid"] != controller_pid
    survivors = {k: v for k, v in live(before).items() if k != victim_id}
    assert {k: v for k, v in live(after).items() if k in survivors} == survivors  # adopted
    assert len(live(after)) == 3  # no duplicate: one spot replacement for the one that died
    events = [e for e in timeline("svc") if e.at >= restarted_at]
    adopted = {e.replica for e in events if e.kind is EventKind.ADOPTED}
    assert adopted == set(survivors)
    assert any(e.kind is EventKind.ORPHAN and e.replica == 999 for e in events)
    assert any(e.kind is EventKind.ENDED and e.replica == victim_id for e in events)
    launches = [e for e in events if e.kind is EventKind.LAUNCH]
    # One spot replacement; on-demand only as SpotHedge's fallback while it starts.
    assert sum(bool(e.is_spot) for e in launches) == 1
    assert all("fallback" in e.detail for e in launches if not e.is_spot)
    assert any(e.kind is EventKind.GATEWAY and "adopted" in e.detail for e in events)
    assert load.failures == [], f"{len(load.failures)} of {len(load.results)} requests failed"

    hedge("down", "svc")
    assert service_processes("svc") == []
    assert all(group_gone(pid) for pid in live(after).values())
