"""One core, two bodies: the controller's decisions over a trace window equal the simulator's.

The controller runs its real loop (`Reconciler.run`: observe, fold, decide, record in SQLite,
act) against the simulator's own cloud behind the Provider protocol and a fake clock that jumps
from one cloud event to the next. The simulator runs `simulate_run` on the same window, seed,
cold start and target. Both must launch and terminate the same kinds of replica in the same
zones at the same instants.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest
from tests.control.sim_provider import JumpClock, SimProber, SimProvider

from hedgeserve.control.clock import Wakeup
from hedgeserve.control.reconcile import LoopSettings, Reconciler
from hedgeserve.control.records import EventKind, ServiceRecord, ServiceStatus
from hedgeserve.control.store import Store
from hedgeserve.core.autoscale import AutoscalerConfig
from hedgeserve.core.spothedge import SpotHedge
from hedgeserve.sim.experiment import price_book
from hedgeserve.sim.run import RunConfig, simulate_run
from hedgeserve.sim.workload import Poisson, ServiceModel, make_workload
from hedgeserve.spec.probe import ProbeTimings
from hedgeserve.traces.catalog import load_trace

ZONES = ["us-central1-a", "us-central1-b", "us-east4-a", "us-east5-a", "us-west1-a"]
# Probing never fails a replica here: the simulator has no readiness failures.
NEVER_FAIL = ProbeTimings(initial_delay_s=1e9, timeout_s=1.0, period_s=0.0,
                          failure_threshold_s=1e9)


def new_store(tmp_path: Path) -> Store:
    store = Store.writer(tmp_path / "state.db", tmp_path / "writer.lock")
    store.create_service(ServiceRecord(
        name="parity", status=ServiceStatus.STARTING, spec_text="", spec_dir="", spec_path="",
        created_at=0.0, updated_at=0.0,
    ))
    return store


def controller_actions(store: Store) -> list[tuple[float, str, str, bool]]:
    out = []
    for e in store.events(limit=100_000):
        if e.kind in (EventKind.LAUNCH, EventKind.TERMINATE):
            assert e.zone is not None and e.is_spot is not None
            out.append((e.at, "launch" if e.kind is EventKind.LAUNCH else "terminate",
                        e.zone, e.is_spot))
    return out


@pytest.mark.parametrize(("start_hour", "hours", "seed", "cold_start_s", "notice_s"), [
    (24, 12, 0, 120.0, 0.0),
    (100, 24, 3, 300.0, 0.0),
    (24, 12, 0, 120.0, 120.0),
], ids=["day2-12h-cold120", "hour100-24h-cold300", "day2-12h-cold120-notice120"])
def test_controller_decides_like_the_simulator(
    tmp_path: Path, start_hour: int, hours: int, seed: int, cold_start_s: float, notice_s: float
) -> None:
    trace = load_trace("gcp-h100").select(ZONES)
    n_ticks = int(hours * 3600 // trace.gap_s)
    window = trace.window(int(start_hour * 3600 // trace.gap_s), n_ticks)
    horizon = hours * 3600.0
    policy = SpotHedge(extra=1)
    config = RunConfig(target=3, cold_start_s=cold_start_s, launch_failure_s=30.0,
                       notice_s=notice_s)
    workload = make_workload(Poisson(0.01), ServiceModel(), np.random.default_rng(seed), horizon)
    sim = simulate_run(policy, window=window, prices=price_book(window, 3.0), workload=workload,
                       config=config, seed=seed, horizon_s=horizon)
    sim_actions = [
        (t, "launch" if event == "launch" else "terminate", window.zones[z], bool(spot))
        for t, event, z, _rid, spot, _cap in sim.log
        if event in ("launch", "terminated")
    ]

    store = new_store(tmp_path)
    wakeup = Wakeup()
    provider = SimProvider(window, price_book(window, 3.0), seed=seed, cold_start_s=cold_start_s,
                           launch_failure_s=30.0, wakeup=wakeup, notice_s=notice_s)
    clock = JumpClock(provider, horizon)
    reconciler = Reconciler(
        store=store, provider=provider, prober=SimProber(provider), policy=policy,
        autoscaler=AutoscalerConfig(min_replicas=3, max_replicas=3), timings=NEVER_FAIL,
        clock=clock, wakeup=wakeup, settings=LoopSettings(tick_s=600.0),
    )
    asyncio.run(reconciler.run(clock.stop))
    ours = controller_actions(store)

    preemptions = sum(1 for row in sim.log if row[1] == "preempted")
    assert preemptions > 0, "the window must exercise preemptions"
    assert any(row[1] == "notice" for row in sim.log) == (notice_s > 0)
    assert any(not spot for _, kind, _, spot in sim_actions if kind == "launch"), \
        "the window must exercise on-demand fallback"
    assert ours == sim_actions
