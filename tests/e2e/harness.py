"""Running real services in tests: `hedge` as a subprocess, a tiny trace and spec on disk,
a request loop through the endpoint, and a check that no process of the service is left.

Every helper works in the test's own `HEDGE_HOME` (a tmp folder), and the `service` fixture
tears the service down even when a test fails, so a failing test never leaks processes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hedgeserve.cli.control_client import status_of
from hedgeserve.control.process_identity import ProcessIdentity, tagged_processes
from hedgeserve.control.state_dir import ServiceDir
from hedgeserve.control.store import Store
from hedgeserve.providers.factory import instance_tag
from hedgeserve.providers.local import TAG_VAR

RUN = ("hedge engine --port $HEDGE_REPLICA_PORT --ttft-ms 5 --tpot-ms 1 --drain-timeout-s 5")


def hedge(*args: str, timeout: float = 120.0, check: bool = True
          ) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([sys.executable, "-m", "hedgeserve", *args], capture_output=True,
                          text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    if check and done.returncode != 0:
        raise AssertionError(f"hedge {' '.join(args)} exited {done.returncode}:\n"
                             f"{done.stdout}\n{done.stderr}")
    return done


def write_trace(path: Path, capacity: dict[str, list[int]], gap_s: int = 60) -> Path:
    """A capacity table: one column per zone ("local/<region>/<zone>"), one row per tick."""
    zones = list(capacity)
    n = len(next(iter(capacity.values())))
    lines = ["time_utc," + ",".join(zones)]
    for k in range(n):
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(1_700_000_000 + k * gap_s))
        lines.append(stamp + "," + ",".join(str(capacity[z][k]) for z in zones))
    path.write_text("\n".join(lines) + "\n")
    return path


def write_spec(path: Path, *, trace: Path, zones: list[str], min_replicas: int = 2,
               extra: int = 0, time_scale: float = 6.0, notice_s: float = 2.0,
               seed: int = 0, grace_s: float = 30.0) -> Path:
    path.write_text(f"""
service:
  readiness_probe:
    path: /health
    period_seconds: 0.5
    timeout_seconds: 2
    initial_delay_seconds: 60
  replica_policy:
    min_replicas: {min_replicas}
    num_overprovision: {extra}
    dynamic_ondemand_fallback: true
    spot_placer: dynamic_fallback
resources:
  use_spot: true
provider: local
spot_emulation:
  trace: {trace}
  zones: [{", ".join(zones)}]
  time_scale: {time_scale}
  notice_seconds: {notice_s}
  seed: {seed}
controller:
  tick_seconds: 0.5
  grace_seconds: {grace_s}
run: {RUN}
""")
    return path


def wait_for(predicate: Callable[[], Any], *, timeout: float, what: str,
             every: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(every)


def status(name: str) -> dict[str, Any]:
    """The status document, in process (a `hedge status` subprocess per poll would eat the CPU
    the replicas need on a 2-core runner)."""
    return status_of(ServiceDir.named(name))


def status_cli(name: str) -> dict[str, Any]:
    return json.loads(hedge("status", name, "--json").stdout)  # type: ignore[no-any-return]


def timeline(name: str) -> list[Any]:
    store = Store.reader(ServiceDir.named(name).db)
    try:
        return store.events(limit=100_000)
    finally:
        store.close()


def replica_requests(name: str, replica: int) -> float:
    """Attempts the gateway has sent to `replica`, from its /metrics."""
    store = Store.reader(ServiceDir.named(name).db)
    try:
        service = store.service()
    finally:
        store.close()
    assert service is not None and service.gateway.admin_port is not None
    url = f"http://127.0.0.1:{service.gateway.admin_port}/metrics"
    with urllib.request.urlopen(url, timeout=5) as resp:
        text = resp.read().decode()
    for line in text.splitlines():
        if line.startswith("hedge_gateway_replica_requests") and f'replica="{replica}"' in line:
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def service_processes(name: str) -> list[str]:
    """Every process of the service still alive: replicas (by tag), gateway, controller."""
    folder = ServiceDir.named(name)
    left = [f"replica pid {pid}" for pid, _ in tagged_processes(TAG_VAR, instance_tag(folder))]
    store = Store.reader(folder.db)
    try:
        service = store.service()
    finally:
        store.close()
    if service is not None:
        for role, pid, started in (
            ("gateway", service.gateway.pid, service.gateway.pid_started),
            ("controller", service.controller_pid, service.controller_started),
        ):
            if pid is not None and ProcessIdentity(pid, started).is_alive():
                left.append(f"{role} pid {pid}")
    return left


def group_gone(pgid: int) -> bool:
    """No live process of group `pgid` is left (what `hedge down` promises)."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return True
    # killpg also reaches zombies (exited, not yet reaped by init): those hold nothing.
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                text = (entry / "stat").read_text()
            except OSError:
                continue
            state, _ppid, group = text[text.rindex(")") + 2:].split()[:3]
            if group == str(pgid) and state != "Z":
                return False
    return True


@dataclass
class RequestLoop:
    """Completions through the endpoint, one after another, from a background thread."""

    endpoint: str
    results: list[tuple[float, int]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> RequestLoop:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        body = json.dumps({"model": "hedgeserve/emulated-llm", "prompt": "hello",
                           "max_tokens": 4}).encode()
        while not self._stop.is_set():
            request = urllib.request.Request(self.endpoint + "/v1/completions", data=body,
                                             headers={"Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(request, timeout=10) as resp:
                    resp.read()
                    code = resp.status
            except urllib.error.HTTPError as err:
                code = err.code
            except (urllib.error.URLError, TimeoutError, ConnectionError):
                code = 0
            self.results.append((time.time(), code))
            time.sleep(0.05)

    @property
    def failures(self) -> list[tuple[float, int]]:
        return [r for r in self.results if r[1] != 200]
