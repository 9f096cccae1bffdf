"""The spot emulator over real processes: refused launches, notice then kill, a seeded choice
of victims that a restart repeats, and trace time that continues across restarts."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import numpy as np
import pytest

from hedgeserve.control.clock import Wakeup
from hedgeserve.control.process_identity import group_members
from hedgeserve.control.provider import CapacityUnavailable, EventKind, LaunchRequest
from hedgeserve.control.state_dir import ServiceDir
from hedgeserve.core.replicas import ReplicaId
from hedgeserve.core.zones import ZoneId
from hedgeserve.providers.factory import _trace_clock, plan_zones
from hedgeserve.providers.local import LocalProvider
from hedgeserve.providers.spot_emulator import CapacityTable, EmulatedSpotProvider, TraceClock
from hedgeserve.spec import parse_spec
from hedgeserve.traces.model import Trace

pytestmark = pytest.mark.timeout(60)
A, B = ZoneId("local/east/a"), ZoneId("local/east/b")


def trace(a: list[int], b: list[int]) -> Trace:
    return Trace(name="t", zones=(A, B), gap_s=60.0, capacity=np.array([a, b], dtype=np.int64))


def emulated(tmp_path: Path, tr: Trace, *, epoch: float, notice_s: float = 0.5, seed: int = 0,
             time_scale: float = 60.0, notices_file: Path | None = None,
             ) -> tuple[EmulatedSpotProvider, Wakeup]:
    wakeup = Wakeup()
    local = LocalProvider(tag=f"emu-{tmp_path.name}", run="exec sleep 60", env=dict(os.environ),
                          log_dir=tmp_path / "logs", zones=(), wakeup=wakeup)
    clock = TraceClock(epoch_unix=epoch, start_s=0.0, time_scale=time_scale)
    return EmulatedSpotProvider(local, table=CapacityTable(tr), clock=clock, notice_s=notice_s,
                                seed=seed, wakeup=wakeup, notices_file=notices_file), wakeup


def test_prices_come_from_the_trace_or_three_times_spot() -> None:
    tr = Trace(name="p", zones=(A, B), gap_s=60.0, capacity=np.ones((2, 2), dtype=np.int64),
               spot_price=np.array([[1.0, 2.0], [3.0, 3.0]]))
    table = CapacityTable(tr)
    assert [(o.spot_per_hour, o.on_demand_per_hour) for o in table.offers(1)] == [
        (2.0, 4.5), (3.0, 9.0)]
    assert table.offers(3) == table.offers(1)  # the trace wraps around


async def test_full_zone_refuses_spot_but_never_on_demand(tmp_path: Path) -> None:
    emu, _ = emulated(tmp_path, trace([1] * 10, [0] * 10), epoch=time.time())
    await emu.start()
    first = await emu.launch(LaunchRequest(ReplicaId(1), A, True))
    try:
        with pytest.raises(CapacityUnavailable, match="trace: 1, held: 1"):
            await emu.launch(LaunchRequest(ReplicaId(2), A, True))
        with pytest.raises(CapacityUnavailable):
            await emu.launch(LaunchRequest(ReplicaId(3), B, True))
        on_demand = await emu.launch(LaunchRequest(ReplicaId(4), B, False))
        await emu.terminate(on_demand.handle, grace_s=0.5)
    finally:
        await emu.terminate(first.handle, grace_s=0.5)
        await asyncio.sleep(0.6)
        await emu.close()


async def test_capacity_drop_gives_a_notice_then_kills(tmp_path: Path) -> None:
    # 1 trace minute per wall second: zone a drops to 0 at tick 1, 1 s after the epoch.
    emu, wakeup = emulated(tmp_path, trace([1, 0, 0, 0], [1] * 4), epoch=time.time())
    await emu.start()
    inst = await emu.launch(LaunchRequest(ReplicaId(1), A, True))
    events: list = []
    deadline = time.monotonic() + 10
    while not any(e.kind is EventKind.PREEMPTED for e in events):
        assert time.monotonic() < deadline, events
        await wakeup.wait(0.5)
        events += emu.poll_events()
    notice, killed = events[0], events[-1]
    assert notice.kind is EventKind.PREEMPTION_NOTICE and notice.replica == 1
    assert notice.deadline == pytest.approx(notice.at + 0.5)
    assert killed.replica == 1 and killed.at >= notice.at
    await asyncio.sleep(0.2)
    assert not group_members(inst.pid or 0)
    await emu.close()


async def test_victims_are_the_same_after_a_restart(tmp_path: Path) -> None:
    """Two emulators (a controller and its restarted successor) pick the same victims."""
    epoch = time.time() - 90.0  # already in tick 1, where zone a holds only one replica
    tr = trace([3, 1, 1, 1], [3] * 4)
    chosen = []
    for run in range(2):
        emu, _ = emulated(tmp_path / f"run{run}", tr, epoch=time.time(), time_scale=60.0)
        await emu.inner.start()  # processes only: this test drives `enforce` itself
        started = [await emu.launch(LaunchRequest(ReplicaId(i), A, True)) for i in (1, 2, 3)]
        emu.clock = TraceClock(epoch, 0.0, 60.0)
        emu.enforce(time.time())
        chosen.append(sorted(e.replica for e in emu.poll_events()
                             if e.kind is EventKind.PREEMPTION_NOTICE))
        for inst in started:
            emu.inner.kill(inst.handle)
        await emu.close()
    assert len(chosen[0]) == 2 and chosen[0] == chosen[1]


async def test_a_restart_keeps_the_notices_given(tmp_path: Path) -> None:
    """A controller restarted during a notice: its emulator kills the replica already noticed,
    at the same deadline, and notices no other one."""
    notices = tmp_path / "notices.json"
    epoch = time.time() - 90.0  # tick 1, where zone a holds only one replica
    tr = trace([3, 1, 1, 1], [3] * 4)
    first, _ = emulated(tmp_path, tr, epoch=time.time(), notice_s=300.0, notices_file=notices)
    await first.inner.start()
    started = [await first.launch(LaunchRequest(ReplicaId(i), A, True)) for i in (1, 2, 3)]
    try:
        first.clock = TraceClock(epoch, 0.0, 60.0)
        first.enforce(time.time())
        noticed = {e.replica: e.deadline for e in first.poll_events()
                   if e.kind is EventKind.PREEMPTION_NOTICE}
        assert len(noticed) == 2
        await first.close()
        second, _ = emulated(tmp_path, tr, epoch=epoch, notice_s=300.0, notices_file=notices)
        await second.inner.start()
        assert len(await second.instances()) == 3  # adopted, all still running
        second.enforce(time.time())
        assert [e for e in second.poll_events() if e.kind is EventKind.PREEMPTION_NOTICE] == []
        assert dict(second._noticed) == noticed  # same replicas, same deadlines
        await second.close()
    finally:
        for inst in started:
            first.inner.kill(inst.handle)


def test_trace_time_continues_across_restarts(tmp_path: Path) -> None:
    spec = parse_spec("""
run: exec sleep 60
resources: {use_spot: true}
spot_emulation: {trace: gcp-h100, zones: [us-east4-a, us-west1-a], time_scale: 60,
                 start_hour: 2}
""")
    folder = ServiceDir(tmp_path / "svc")
    folder.create()
    first = _trace_clock(folder, spec, fresh=True)
    time.sleep(0.01)
    again = _trace_clock(folder, spec, fresh=False)
    assert again == first  # same epoch: trace time goes on
    assert first.trace_s(first.epoch_unix) == 7200.0
    assert _trace_clock(folder, spec, fresh=True).epoch_unix > first.epoch_unix  # a new run
    zones = plan_zones(spec)
    assert [o.zone for o in zones.offers] == ["gcp/us-east4/us-east4-a", "gcp/us-west1/us-west1-a"]
