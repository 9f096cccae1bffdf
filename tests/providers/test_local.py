"""LocalProvider with real processes: environment, logs, process groups, re-adoption by tag,
pid reuse, grace then SIGKILL, exits reported as events, nothing left behind."""

from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path

import pytest

from hedgeserve.control.clock import Wakeup
from hedgeserve.control.process_identity import group_members
from hedgeserve.control.provider import (
    EventKind,
    InstanceStatus,
    LaunchRequest,
    PermanentProviderError,
)
from hedgeserve.core.replicas import ReplicaId
from hedgeserve.core.zones import ZoneId, ZoneOffer
from hedgeserve.providers.local import LocalHandle, LocalProvider

pytestmark = pytest.mark.timeout(60)
ZONE = ZoneId("local/east/a")


def provider(tmp_path: Path, run: str, *, tag: str = "t1", **kw: object) -> LocalProvider:
    return LocalProvider(tag=tag, run=run, env={**os.environ, "MY_VAR": "hello"},
                         log_dir=tmp_path / "logs", zones=(ZoneOffer(ZONE, 1.0, 3.0),),
                         wakeup=Wakeup(), **kw)  # type: ignore[arg-type]


async def wait_gone(pgid: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while group_members(pgid):
        assert time.monotonic() < deadline, f"group {pgid} still alive"
        await asyncio.sleep(0.05)


async def test_launch_sets_the_environment_and_logs(tmp_path: Path) -> None:
    out = tmp_path / "env.json"
    p = provider(tmp_path, f"""python3 -c 'import json, os; json.dump({{k: os.environ.get(k)
      for k in ("HEDGE_REPLICA_PORT", "HEDGE_ZONE", "HEDGE_REPLICA_ID", "HEDGE_SPOT",
                "MY_VAR")}}, open("{out}", "w"))'
echo started; exec sleep 60""")
    await p.start()
    inst = await p.launch(LaunchRequest(ReplicaId(4), ZONE, True))
    try:
        while not out.exists() or not out.read_text():
            await asyncio.sleep(0.05)
        env = json.loads(out.read_text())
        assert env == {"HEDGE_REPLICA_PORT": str(inst.port), "HEDGE_ZONE": ZONE,
                       "HEDGE_REPLICA_ID": "4", "HEDGE_SPOT": "true", "MY_VAR": "hello"}
        assert inst.url == f"http://127.0.0.1:{inst.port}" and inst.pid is not None
        assert os.getpgid(inst.pid) == inst.pid  # its own process group
        states = await p.observe({inst.replica: inst.handle})
        assert states[inst.replica].status is InstanceStatus.RUNNING
        deadline = time.monotonic() + 5
        while "started" not in (tmp_path / "logs" / "replica-4.log").read_text():
            assert time.monotonic() < deadline
            await asyncio.sleep(0.05)
    finally:
        await p.terminate(inst.handle, grace_s=1.0)
        await wait_gone(inst.pid or 0)
        await p.close()


async def test_a_new_provider_finds_and_adopts_by_tag_only(tmp_path: Path) -> None:
    # Tags unique to this run: another test run on the machine may adopt at the same time.
    tag = f"adopt-{os.getpid()}"
    first = provider(tmp_path, "exec sleep 60", tag=tag)
    await first.start()
    inst = await first.launch(LaunchRequest(ReplicaId(9), ZONE, False))
    await first.close()  # the controller goes away; the process stays
    second = provider(tmp_path, "exec sleep 60", tag=tag)
    other_tag = provider(tmp_path, "exec sleep 60", tag=f"someone-else-{os.getpid()}")
    try:
        (found,) = await second.instances()
        assert (found.replica, found.pid, found.port) == (9, inst.pid, inst.port)
        assert await other_tag.instances() == ()
        state = await second.observe({found.replica: inst.handle})
        assert state[found.replica].status is InstanceStatus.RUNNING
    finally:
        await second.terminate(inst.handle, grace_s=1.0)
        await wait_gone(inst.pid or 0)
        assert await second.instances() == ()
        await second.close()


async def test_a_recycled_pid_is_not_ours(tmp_path: Path) -> None:
    p = provider(tmp_path, "exec sleep 60")
    await p.start()
    inst = await p.launch(LaunchRequest(ReplicaId(1), ZONE, True))
    try:
        real = LocalHandle.decode(inst.handle)
        impostor = LocalHandle(real.pgid, "1", real.port, real.zone, real.is_spot, real.replica)
        state = await p.observe({inst.replica: impostor.encode()})
        assert state[inst.replica].status is InstanceStatus.GONE
        await p.terminate(impostor.encode(), grace_s=0.0)
        await asyncio.sleep(0.2)
        assert group_members(real.pgid)  # untouched
    finally:
        await p.terminate(inst.handle, grace_s=1.0)
        await wait_gone(inst.pid or 0)
        await p.close()


async def test_terminate_sigkills_after_the_grace_period(tmp_path: Path) -> None:
    # bash ignores TERM and keeps a child: only the group SIGKILL ends both.
    p = provider(tmp_path, "trap '' TERM; sleep 60 & wait")
    await p.start()
    inst = await p.launch(LaunchRequest(ReplicaId(2), ZONE, True))
    await asyncio.sleep(0.3)
    started = time.monotonic()
    await p.terminate(inst.handle, grace_s=0.7)
    await p.terminate(inst.handle, grace_s=0.7)  # repeats are ignored
    await wait_gone(inst.pid or 0)
    assert time.monotonic() - started >= 0.6
    await asyncio.sleep(0.1)
    (event,) = p.poll_events()
    assert event.kind is EventKind.EXITED and event.detail == "killed by SIGKILL"
    await p.close()


async def test_exit_is_an_event_and_leaves_no_straggler(tmp_path: Path) -> None:
    wakeup = Wakeup()
    p = LocalProvider(tag="exit", run="sleep 60 & sleep 0.3; exit 3", env=dict(os.environ),
                      log_dir=tmp_path, zones=(), wakeup=wakeup)
    await p.start()
    inst = await p.launch(LaunchRequest(ReplicaId(5), ZONE, False))
    await wakeup.wait(10.0)
    (event,) = p.poll_events()
    assert (event.kind, event.replica, event.detail) == (EventKind.EXITED, 5, "exit code 3")
    await wait_gone(inst.pid or 0, timeout=2.0)  # the background `sleep 60` went with it
    # The exit code went out with the event; the provider then forgets the process.
    state = await p.observe({inst.replica: inst.handle})
    assert state[inst.replica].status is InstanceStatus.GONE
    await p.close()


async def test_ended_replicas_are_forgotten(tmp_path: Path) -> None:
    """Replicas that exit, are killed or are terminated leave nothing in the provider's
    bookkeeping, so a controller running for weeks does not grow with every crash."""
    wakeup = Wakeup()
    run = 'if [ "$HEDGE_REPLICA_ID" = 1 ]; then sleep 0.2; exit 3; fi; exec sleep 60'
    p = LocalProvider(tag="forget", run=run, env=dict(os.environ), log_dir=tmp_path,
                      zones=(), wakeup=wakeup)
    await p.start()
    exits, killed, stopped = [await p.launch(LaunchRequest(ReplicaId(i), ZONE, True))
                              for i in (1, 2, 3)]
    await asyncio.sleep(0.1)
    p.kill(killed.handle)  # a crash, or the spot emulator's preemption
    await p.terminate(stopped.handle, grace_s=5.0)
    events = []
    deadline = time.monotonic() + 10
    while len(events) < 3:
        assert time.monotonic() < deadline, f"only {events} so far"
        await wakeup.wait(0.5)
        events += p.poll_events()
    assert {(e.replica, e.detail) for e in events} == {
        (1, "exit code 3"), (2, "killed by SIGKILL"), (3, "killed by SIGTERM")}
    # Private state, checked directly: what must not grow is exactly this bookkeeping.
    assert p._children == {} and p._replica_of == {} and p._issued_ports == {}
    assert p._watchers == {} and p._asked_to_stop == set()
    while p._stopping:  # the terminate task notices the empty group within 50 ms
        assert time.monotonic() < deadline
        await asyncio.sleep(0.05)
    await p.close()


async def test_missing_workdir_is_permanent(tmp_path: Path) -> None:
    p = provider(tmp_path, "true", workdir=str(tmp_path / "nope"))
    await p.start()
    with pytest.raises(PermanentProviderError, match="cannot start the run command"):
        await p.launch(LaunchRequest(ReplicaId(1), ZONE, True))
    await p.close()


def test_handle_round_trip() -> None:
    h = LocalHandle(123, "4567", 8000, ZONE, True, ReplicaId(3))
    assert LocalHandle.decode(h.encode()) == h
    assert json.loads(h.encode())["replica"] == 3
