"""Preemption notices in the simulator: the policy replaces a noticed replica at once, the
replica serves on until `notice_drain_s` before its kill and is billed until the kill."""

from __future__ import annotations

import numpy as np
import pytest

from hedgeserve.core.spothedge import SpotHedge
from hedgeserve.core.zones import ZoneId
from hedgeserve.sim.pricing import PriceBook
from hedgeserve.sim.run import RunConfig, RunOutcome, simulate_run
from hedgeserve.sim.workload import Workload
from hedgeserve.traces.model import Trace

GAP_S = 600.0
HORIZON_S = 4 * 3600.0
DROP_S = 2 * 3600.0  # zone 0 loses all its capacity here
SPOT = (1.0, 2.0, 3.0)  # zone 0 is cheapest, so SpotHedge puts its 4th spot replica there too


def _trace() -> Trace:
    ticks = int(HORIZON_S / GAP_S)
    capacity = np.full((3, ticks), 4, dtype=np.int64)
    capacity[0, int(DROP_S / GAP_S) :] = 0
    return Trace(
        name="one-drop",
        zones=tuple(ZoneId(f"test/r{i}/z{i}") for i in range(3)),
        gap_s=GAP_S,
        capacity=capacity,
    )


def _run(notice_s: float, *, drain_s: float = 30.0, requests: int = 0) -> RunOutcome:
    trace = _trace()
    prices = PriceBook(
        gap_s=GAP_S,
        spot=np.array(SPOT)[:, None] * np.ones((1, trace.n_ticks)),
        on_demand=[3 * p for p in SPOT],
    )
    arrivals = np.linspace(DROP_S - 60.0, DROP_S + 600.0, requests)
    workload = Workload(arrival_s=arrivals, service_s=np.full(requests, 5.0))
    config = RunConfig(target=3, cold_start_s=120.0, notice_s=notice_s, notice_drain_s=drain_s)
    return simulate_run(
        SpotHedge(extra=1), window=trace, prices=prices, workload=workload, config=config,
        seed=0, horizon_s=HORIZON_S,
    )  # fmt: skip


def _events(outcome: RunOutcome, event: str) -> list[tuple[float, int]]:
    return [(t, rid) for t, ev, _, rid, _, _ in outcome.log if ev == event]


def _outage_s(outcome: RunOutcome) -> float:
    return (100.0 - outcome.result.availability) / 100.0 * (HORIZON_S - 120.0)


def test_without_a_notice_losing_two_spot_replicas_costs_one_on_demand_cold_start() -> None:
    outcome = _run(0.0)
    preempted = _events(outcome, "preempted")
    assert [t for t, _ in preempted] == [DROP_S, DROP_S]
    assert _events(outcome, "notice") == []
    assert _outage_s(outcome) == pytest.approx(120.0)


@pytest.mark.parametrize(
    ("notice_s", "drain_s", "outage_s"),
    [
        (120.0, 30.0, 30.0),  # AWS: serves 90 s of its notice, fallback ready 30 s later
        (150.0, 30.0, 0.0),  # serves until the fallback is ready
        (30.0, 30.0, 120.0),  # GCP-length notice: drains at once, like no notice
        (120.0, 0.0, 0.0),  # serves until the kill
    ],
)
def test_a_noticed_replica_serves_until_it_drains(
    notice_s: float, drain_s: float, outage_s: float
) -> None:
    outcome = _run(notice_s, drain_s=drain_s)
    assert [t for t, _ in _events(outcome, "notice")] == [DROP_S, DROP_S]
    assert [t for t, _ in _events(outcome, "preempted")] == [DROP_S + notice_s] * 2
    assert _outage_s(outcome) == pytest.approx(outage_s)
    assert outcome.result.preemptions == 2


def test_the_policy_replaces_a_noticed_replica_when_the_notice_arrives() -> None:
    outcome = _run(120.0)
    launched_at_drop = [
        (zone, spot) for t, ev, zone, _, spot, _ in outcome.log if ev == "launch" and t == DROP_S
    ]
    # two spot replacements in the cheapest zone still active, and two on-demand replicas to
    # cover them until they are ready (on-demand goes to the cheapest on-demand zone)
    assert launched_at_drop == [(1, 1), (1, 1), (0, 0), (0, 0)]


def test_a_noticed_replica_is_billed_until_its_kill() -> None:
    without, with_notice = _run(0.0), _run(120.0)
    extra_usd = 2 * SPOT[0] * 120.0 / 3600.0  # two zone-0 spot replicas, 120 s longer
    assert with_notice.result.cost - without.result.cost == pytest.approx(extra_usd)


def test_requests_finish_on_a_noticed_replica_instead_of_being_retried() -> None:
    without, with_notice = _run(0.0, requests=400), _run(120.0, requests=400)
    assert without.result.retries > 0  # requests running at the kill moved elsewhere
    assert with_notice.result.retries == 0  # 5 s requests all end within the 30 s drain


def test_a_replica_noticed_in_its_cold_start_ends_at_once() -> None:
    # Zone 0 loses its capacity 60 s after the first launches, before any replica is ready.
    capacity = np.full((3, 24), 4, dtype=np.int64)
    capacity[0, 1:] = 0
    trace = Trace(name="early-drop", zones=tuple(ZoneId(f"test/r{i}/z{i}") for i in range(3)),
                  gap_s=60.0, capacity=capacity)
    prices = PriceBook(gap_s=60.0, spot=np.ones((3, 24)), on_demand=[3.0] * 3)
    config = RunConfig(target=3, cold_start_s=120.0, notice_s=120.0)
    outcome = simulate_run(
        SpotHedge(extra=1), window=trace, prices=prices,
        workload=Workload(arrival_s=np.zeros(0), service_s=np.zeros(0)), config=config,
        seed=0, horizon_s=24 * 60.0,
    )  # fmt: skip
    assert _events(outcome, "notice") == []
    assert [t for t, _ in _events(outcome, "preempted")] == [60.0, 60.0]
