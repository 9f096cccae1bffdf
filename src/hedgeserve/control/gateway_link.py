"""The controller's side of the gateway: its process, its replica set, its request counter.

The gateway (`hedge gateway`) is its own process in its own session, started by the controller
with an admin port and an admin token file. It outlives a crashed controller and keeps serving
the last replica set it was given; a restarted controller re-adopts it (same pid and start
time, admin API answering with the stored token), so the endpoint never changes. If it is
gone, a new one starts on the same public port.

Wire format (the gateway's admin API, docs/gateway.md): `PUT /replicas` with
`{"replicas": [{"id", "url", "draining"}]}`; `GET /stats` gives `requests_total` and
`started_at`. This module talks JSON only and never imports the gateway package.
"""

from __future__ import annotations

import asyncio
import logging
import re
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import aiohttp

from hedgeserve.control.process_identity import (
    ProcessIdentity,
    signal_group,
    wait_group_gone,
)
from hedgeserve.control.records import GatewayRecord
from hedgeserve.control.request_rate import CounterSample
from hedgeserve.spec.service_spec import ServiceSpec

log = logging.getLogger("hedgeserve.control")

_ANNOUNCE = re.compile(r"hedge gateway: listening on (\S+?)(?:, admin on (\S+))?$")
START_TIMEOUT_S = 30.0


class GatewayError(Exception):
    """The gateway process could not be started (the message carries its log's last lines)."""


@dataclass(frozen=True, slots=True)
class GatewayReplica:
    id: int
    url: str
    draining: bool = False


class GatewayLink(Protocol):
    async def push(self, replicas: Sequence[GatewayReplica]) -> bool:
        """Replace the gateway's replica set; False if the gateway did not take it."""
        ...

    async def counters(self, now: float) -> CounterSample | None: ...


class GatewayProcess:
    def __init__(self, *, spec: ServiceSpec, token_file: Path, log_file: Path) -> None:
        self._spec = spec
        self._token_file = token_file
        self._token = token_file.read_text().strip()
        self._log_file = log_file
        self._popen: subprocess.Popen[bytes] | None = None
        self._session: aiohttp.ClientSession | None = None
        self.record = GatewayRecord(None, None, None, None, None)

    @property
    def _admin_url(self) -> str:
        return f"http://127.0.0.1:{self.record.admin_port}"

    def is_alive(self) -> bool:
        if self._popen is not None and self._popen.poll() is not None:
            return False
        pid = self.record.pid
        return pid is not None and ProcessIdentity(pid, self.record.pid_started).is_alive()

    async def adopt_or_start(self, stored: GatewayRecord) -> bool:
        """Adopt the stored gateway if it still runs and answers; else start one (on the stored
        port when there is one). True if adopted."""
        self.record = stored
        if stored.pid is not None and self.is_alive() and await self._answers():
            log.info("adopted gateway pid %s at %s", stored.pid, stored.endpoint)
            return True
        if stored.pid is not None and self.is_alive():
            await self.stop()  # alive but deaf: replace it rather than run two
        await self.start(port=stored.port or self._spec.gateway.port)
        return False

    async def start(self, *, port: int) -> None:
        self._log_file.parent.mkdir(parents=True, exist_ok=True)
        offset = self._log_file.stat().st_size if self._log_file.exists() else 0
        with self._log_file.open("ab") as out:
            self._popen = subprocess.Popen(
                self._command(port), stdout=out, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True,
            )  # fmt: skip
        identity = ProcessIdentity.of(self._popen.pid)
        public, admin = await self._wait_for_announce(offset)
        admin_port = int(admin.rsplit(":", 1)[1])
        port_now = int(public.rsplit(":", 1)[1])
        self.record = GatewayRecord(identity.pid, identity.started, port_now, admin_port, public)
        log.info("gateway pid %s serving %s", identity.pid, public)

    async def stop(self, timeout_s: float = 10.0) -> None:
        """SIGTERM (the gateway lets in-flight requests finish), SIGKILL after `timeout_s`."""
        if self.record.pid is None or not self.is_alive():
            return
        await stop_gateway(self.record, timeout_s=timeout_s, popen=self._popen)

    async def push(self, replicas: Sequence[GatewayReplica]) -> bool:
        body = {"replicas": [{"id": r.id, "url": r.url, "draining": r.draining} for r in replicas]}
        try:
            async with self._http().put(self._admin_url + "/replicas", json=body) as resp:
                if resp.status != 200:
                    log.warning("gateway refused the replica set: HTTP %s %s", resp.status,
                                (await resp.text())[:200])
                    return False
                return True
        except (aiohttp.ClientError, TimeoutError) as err:
            log.warning("cannot push the replica set to the gateway: %s", err)
            return False

    async def counters(self, now: float) -> CounterSample | None:
        try:
            async with self._http().get(self._admin_url + "/stats") as resp:
                if resp.status != 200:
                    return None
                stats = await resp.json()
        except (aiohttp.ClientError, TimeoutError, ValueError):
            return None
        return CounterSample(now, float(stats["started_at"]), int(stats["requests_total"]))

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    # --- internals -----------------------------------------------------------------------

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=3.0),
                headers={"Authorization": f"Bearer {self._token}"},
            )
        return self._session

    async def _answers(self) -> bool:
        try:
            async with self._http().get(self._admin_url + "/replicas") as resp:
                return resp.status == 200
        except (aiohttp.ClientError, TimeoutError):
            return False

    def _command(self, port: int) -> list[str]:
        spec = self._spec
        g = spec.gateway
        cmd = [
            sys.executable, "-m", "hedgeserve", "gateway",
            "--host", g.host, "--port", str(port),
            "--admin-port", "0", "--admin-token-file", str(self._token_file),
            "--policy", spec.service.load_balancing_policy.value,
            "--queue-timeout", f"{g.queue_timeout_seconds:g}",
            "--max-body-bytes", str(g.max_body_bytes),
            "--idle-timeout", f"{spec.service.load_balancer.stream_timeout_seconds:g}",
        ]  # fmt: skip
        if spec.probe.method == "GET":
            cmd += ["--probe-path", spec.probe.path]
        if g.api_keys_env:
            cmd += ["--api-key-env", g.api_keys_env]
        elif g.api_keys_file:
            cmd += ["--api-key-file", g.api_keys_file]
        if spec.service.tls is not None:
            cmd += ["--tls-cert", spec.service.tls.certfile, "--tls-key", spec.service.tls.keyfile]
        return cmd

    async def _wait_for_announce(self, offset: int) -> tuple[str, str]:
        if self._popen is None:
            raise RuntimeError("no gateway process to wait for")
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            with self._log_file.open("rb") as fh:
                fh.seek(offset)
                text = fh.read().decode(errors="replace")
            for line in text.splitlines():
                found = _ANNOUNCE.search(line.strip())
                if found and found.group(2):
                    return found.group(1), found.group(2)
            if self._popen.poll() is not None:
                raise GatewayError(f"the gateway exited at start: {_tail(text)}")
            await asyncio.sleep(0.05)
        await self.stop(timeout_s=1.0)
        raise GatewayError(f"the gateway did not start within {START_TIMEOUT_S:g} s")


async def stop_gateway(
    record: GatewayRecord, *, timeout_s: float, popen: subprocess.Popen[bytes] | None = None
) -> None:
    """Stop the gateway process a record names (if it is still that process)."""
    pid = record.pid
    if pid is None or not ProcessIdentity(pid, record.pid_started).is_alive():
        return
    signal_group(pid, signal.SIGTERM)
    await wait_group_gone(pid, timeout_s, reap=None if popen is None else popen.poll)
    signal_group(pid, signal.SIGKILL)
    if popen is not None:
        popen.wait()


def _tail(text: str, lines: int = 3) -> str:
    return " | ".join(line.strip() for line in text.strip().splitlines()[-lines:]) or "(no output)"
