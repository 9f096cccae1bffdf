"""`LocalProvider`: replicas as processes on this machine.

Each replica is `bash -c "<run>"` in its own session (so its process group id is its pid and a
signal to the group reaches bash and the server it started), with stdout and stderr appended to
`logs/replica-<id>.log`, and in its environment: the spec's envs, `HEDGE_REPLICA_PORT` (a free
port on 127.0.0.1), `HEDGE_ZONE`, `HEDGE_REPLICA_ID`, `HEDGE_SPOT` (true/false), and
`HEDGE_INSTANCE_TAG` — the tag `instances()` looks for, so a restarted controller finds replicas
whose handle it never stored. `PATH` starts with this Python's bin folder, so `hedge engine` in
a spec runs the same installation as the controller.

The handle is JSON: {"pgid", "started", "port", "zone", "spot", "replica"}. A handle names the
same process only while the leader's start time matches (`process_identity`), so a recycled pid
is never signalled. Terminate = SIGTERM to the group, SIGKILL after the grace period.

Invariant: the provider's bookkeeping (children, their replica ids and ports, watchers) holds
only replicas that are still running; `_watch` forgets a replica when its process exits, so a
long-running controller that sees many crashes and preemptions does not grow.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from hedgeserve.control.clock import Wakeup
from hedgeserve.control.process_identity import (
    ProcessIdentity,
    group_members,
    process_group,
    signal_group,
    start_time,
    tagged_processes,
    wait_group_gone,
)
from hedgeserve.control.provider import (
    EventKind,
    Instance,
    InstanceHandle,
    InstanceState,
    InstanceStatus,
    LaunchRequest,
    PermanentProviderError,
    ProviderEvent,
    TransientProviderError,
)
from hedgeserve.core.replicas import ReplicaId
from hedgeserve.core.zones import ZoneId, ZoneOffer

log = logging.getLogger("hedgeserve.providers")
TAG_VAR = "HEDGE_INSTANCE_TAG"


@dataclass(frozen=True, slots=True)
class LocalHandle:
    pgid: int
    started: str | None
    port: int
    zone: ZoneId
    is_spot: bool
    replica: ReplicaId

    def encode(self) -> InstanceHandle:
        return InstanceHandle(json.dumps({
            "pgid": self.pgid, "started": self.started, "port": self.port, "zone": self.zone,
            "spot": self.is_spot, "replica": int(self.replica),
        }, separators=(",", ":")))  # fmt: skip

    @classmethod
    def decode(cls, handle: InstanceHandle) -> LocalHandle:
        d = json.loads(handle)
        return cls(int(d["pgid"]), d["started"], int(d["port"]), ZoneId(d["zone"]),
                   bool(d["spot"]), ReplicaId(int(d["replica"])))


class LocalProvider:
    def __init__(
        self,
        *,
        tag: str,
        run: str,
        env: Mapping[str, str],
        log_dir: Path,
        zones: Sequence[ZoneOffer],
        wakeup: Wakeup,
        workdir: str | None = None,
        host: str = "127.0.0.1",
        boot_delay_s: float = 0.0,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.tag = tag
        self._run = run if boot_delay_s <= 0 else f"sleep {boot_delay_s:g}\n{run}"
        self._env = dict(env)
        self._log_dir = log_dir
        self._zones = tuple(zones)
        self._wakeup = wakeup
        self._workdir = workdir
        self._host = host
        self._now = now
        self._children: dict[int, asyncio.subprocess.Process] = {}  # pgid -> our child
        self._watchers: dict[int, asyncio.Task[None]] = {}
        self._stopping: dict[int, asyncio.Task[None]] = {}
        self._replica_of: dict[int, ReplicaId] = {}
        # Groups already sent SIGTERM: a second one makes a draining server stop at once.
        self._asked_to_stop: set[int] = set()
        self._events: list[ProviderEvent] = []
        # pgid -> port, for replicas still alive: a port is never handed out twice at once.
        self._issued_ports: dict[int, int] = {}

    # --- Provider ------------------------------------------------------------------------

    def offers(self) -> tuple[ZoneOffer, ...]:
        return self._zones

    async def start(self) -> None:
        self._log_dir.mkdir(parents=True, exist_ok=True)

    async def launch(self, request: LaunchRequest) -> Instance:
        port = self._free_port()
        env = {
            **self._env,
            "HEDGE_REPLICA_PORT": str(port),
            "HEDGE_ZONE": request.zone,
            "HEDGE_REPLICA_ID": str(int(request.replica)),
            "HEDGE_SPOT": "true" if request.is_spot else "false",
            TAG_VAR: self.tag,
            "PATH": os.pathsep.join([str(Path(sys.executable).parent),
                                     self._env.get("PATH", os.defpath)]),
        }
        log_path = self._log_dir / f"replica-{int(request.replica)}.log"
        try:
            with log_path.open("ab") as out:
                proc = await asyncio.create_subprocess_exec(
                    "bash", "-c", self._run, stdin=subprocess.DEVNULL, stdout=out,
                    stderr=subprocess.STDOUT, env=env, cwd=self._workdir,
                    start_new_session=True,
                )  # fmt: skip
        except (FileNotFoundError, NotADirectoryError, PermissionError) as err:
            where = f" in {self._workdir}" if self._workdir else ""
            raise PermanentProviderError(f"cannot start the run command{where}: {err}") from err
        except OSError as err:  # out of processes or file handles: may pass
            raise TransientProviderError(f"cannot start the run command: {err}") from err
        handle = LocalHandle(proc.pid, start_time(proc.pid), port, request.zone, request.is_spot,
                             request.replica)
        self._children[proc.pid] = proc
        self._replica_of[proc.pid] = request.replica
        self._issued_ports[proc.pid] = port
        self._watchers[proc.pid] = asyncio.get_running_loop().create_task(self._watch(proc))
        log.info("replica %s: pid %s, port %s, %s in %s", request.replica, proc.pid, port,
                 "spot" if request.is_spot else "on-demand", request.zone)
        return Instance(request.replica, handle.encode(), f"http://{self._host}:{port}",
                        pid=proc.pid, port=port)

    async def terminate(self, handle: InstanceHandle, *, grace_s: float) -> None:
        h = LocalHandle.decode(handle)
        if h.pgid in self._stopping or not self._is_ours(h):
            return
        self._stopping[h.pgid] = asyncio.get_running_loop().create_task(self._stop(h, grace_s))

    async def observe(self, handles: Mapping[ReplicaId, InstanceHandle]
                      ) -> dict[ReplicaId, InstanceState]:
        out: dict[ReplicaId, InstanceState] = {}
        for rid, handle in handles.items():
            h = LocalHandle.decode(handle)
            child = self._children.get(h.pgid)
            if child is not None and child.returncode is not None:
                out[rid] = InstanceState(InstanceStatus.EXITED, describe_exit(child.returncode))
            elif ProcessIdentity(h.pgid, h.started).is_alive():
                out[rid] = InstanceState(InstanceStatus.RUNNING)
            else:
                out[rid] = InstanceState(InstanceStatus.GONE)
        return out

    async def instances(self) -> tuple[Instance, ...]:
        groups: dict[int, dict[str, str]] = {}
        for pid, env in tagged_processes(TAG_VAR, self.tag):
            pgid = process_group(pid)
            if pgid is not None and (pgid not in groups or pid == pgid):
                groups[pgid] = env  # the leader's environment when we see it
        found = []
        for pgid, env in sorted(groups.items()):
            try:
                replica = ReplicaId(int(env["HEDGE_REPLICA_ID"]))
                port = int(env["HEDGE_REPLICA_PORT"])
            except (KeyError, ValueError):
                continue
            handle = LocalHandle(pgid, start_time(pgid), port, ZoneId(env.get("HEDGE_ZONE", "")),
                                 env.get("HEDGE_SPOT") == "true", replica)
            found.append(Instance(replica, handle.encode(), f"http://{self._host}:{port}",
                                  pid=pgid, port=port))
        return tuple(found)

    def poll_events(self) -> list[ProviderEvent]:
        out, self._events = self._events, []
        return out

    async def close(self) -> None:
        """Stop watching; replicas keep running (a restarted controller adopts them)."""
        tasks = [*self._watchers.values(), *self._stopping.values()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._watchers.clear()
        self._stopping.clear()

    # --- what the spot emulator needs ----------------------------------------------------

    def kill(self, handle: InstanceHandle) -> None:
        h = LocalHandle.decode(handle)
        if self._is_ours(h):
            signal_group(h.pgid, signal.SIGKILL)

    # --- internals -----------------------------------------------------------------------

    def _is_ours(self, h: LocalHandle) -> bool:
        """The group still exists and is the one we started (leader's start time matches, or
        the leader is gone and only its group remains)."""
        if ProcessIdentity(h.pgid, h.started).is_alive():
            return True
        return start_time(h.pgid) is None and bool(group_members(h.pgid))

    async def _watch(self, proc: asyncio.subprocess.Process) -> None:
        code = await proc.wait()
        pgid = proc.pid
        # The run command's leader ended; nothing of its group may outlive it.
        signal_group(pgid, signal.SIGKILL)
        self._asked_to_stop.discard(pgid)
        # The exit is news from here on (the event below); nothing else needs the child.
        self._children.pop(pgid, None)
        self._issued_ports.pop(pgid, None)
        self._watchers.pop(pgid, None)
        replica = self._replica_of.pop(pgid, None)
        if replica is not None:
            self._events.append(ProviderEvent(EventKind.EXITED, replica, self._now(),
                                              detail=describe_exit(code)))
            self._wakeup.set()

    async def _stop(self, h: LocalHandle, grace_s: float) -> None:
        try:
            self._ask_to_stop(h.pgid)
            await wait_group_gone(h.pgid, grace_s)
            if signal_group(h.pgid, signal.SIGKILL):
                log.info("replica %s: killed after %.0f s grace", h.replica, grace_s)
        finally:
            self._stopping.pop(h.pgid, None)
            self._issued_ports.pop(h.pgid, None)
            if not group_members(h.pgid):
                self._asked_to_stop.discard(h.pgid)  # the pid may be reused later

    def _ask_to_stop(self, pgid: int) -> None:
        if pgid not in self._asked_to_stop:
            self._asked_to_stop.add(pgid)
            signal_group(pgid, signal.SIGTERM)

    def _free_port(self) -> int:
        for _ in range(50):
            with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as s:
                s.bind((self._host, 0))
                port = int(s.getsockname()[1])
            if port not in self._issued_ports.values():
                return port
        raise TransientProviderError("no free port on this machine")


def describe_exit(code: int) -> str:
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"
