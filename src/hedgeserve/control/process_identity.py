"""Knowing a local process again after a restart: pid + start time, process groups, env tags.

A pid alone is not an identity: after a crash the pid may belong to another program. We store
the pid with its start time (field 22 of /proc/<pid>/stat, clock ticks since boot), and a process
counts as ours only while both match. Replicas and the gateway run in their own session, so their
process group id is the leader's pid and `os.killpg` reaches the whole tree (bash and the server
it started). Zombies count as gone: they hold no port and no memory.

Instances are also tagged through their environment (`HEDGE_INSTANCE_TAG`), so a restarted
controller can find a process whose pid it never stored (it crashed between spawn and write).
Linux /proc is required for tags and start times; elsewhere only `os.kill(pid, 0)` is used.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")


@dataclass(frozen=True, slots=True)
class ProcessIdentity:
    pid: int
    started: str | None  # /proc start time; None where /proc is unavailable

    @classmethod
    def of(cls, pid: int) -> ProcessIdentity:
        return cls(pid, start_time(pid))

    def is_alive(self) -> bool:
        """The same process (not a reused pid) still exists and is not a zombie."""
        stat = _stat_fields(self.pid)
        if stat is None:
            return _exists(self.pid) if not PROC.is_dir() else False
        if stat[0] == "Z":
            return False
        return self.started is None or stat[19] == self.started


def process_group(pid: int) -> int | None:
    stat = _stat_fields(pid)
    return None if stat is None else int(stat[2])


def start_time(pid: int) -> str | None:
    stat = _stat_fields(pid)
    return None if stat is None else stat[19]


def group_members(pgid: int) -> list[int]:
    """Live (non-zombie) processes of process group `pgid`."""
    if not PROC.is_dir():
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return []
        except PermissionError:
            pass
        return [pgid]
    members = []
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        stat = _stat_fields(int(entry.name))
        if stat is not None and stat[0] != "Z" and stat[2] == str(pgid):
            members.append(int(entry.name))
    return members


async def wait_group_gone(
    pgid: int, timeout_s: float, *, reap: Callable[[], object] | None = None
) -> bool:
    """Wait up to `timeout_s` for every process of group `pgid` to exit; True if they did.
    `reap` (e.g. `Popen.poll`) collects our own child so it does not linger as a zombie."""
    deadline = time.monotonic() + timeout_s
    while group_members(pgid):
        if time.monotonic() >= deadline:
            return False
        if reap is not None:
            reap()
        await asyncio.sleep(0.05)
    return True


def signal_group(pgid: int, sig: signal.Signals) -> bool:
    """Send `sig` to a process group; False if no process of it is left."""
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        return False
    return True


def tagged_processes(var: str, value: str) -> list[tuple[int, dict[str, str]]]:
    """(pid, environment) of every process of ours whose environment has var=value."""
    if not PROC.is_dir():
        return []
    needle = f"{var}={value}".encode()
    found = []
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "environ").read_bytes()
        except OSError:  # gone, or not ours
            continue
        if needle not in raw:
            continue
        env = dict(
            item.split("=", 1) for item in raw.decode(errors="replace").split("\0") if "=" in item
        )
        if env.get(var) == value:
            stat = _stat_fields(int(entry.name))
            if stat is not None and stat[0] != "Z":
                found.append((int(entry.name), env))
    return found


def _stat_fields(pid: int) -> list[str] | None:
    """Fields of /proc/<pid>/stat after the command name: [state, ppid, pgrp, ...]."""
    try:
        text = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # The command name may contain spaces and parentheses; it ends at the last ')'.
    return text[text.rindex(")") + 2 :].split()


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
