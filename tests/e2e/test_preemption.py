"""(a) An emulated zone loses its spot capacity while requests flow through the endpoint.

Trace (60 s ticks, replayed 12x faster: 5 wall seconds per tick), three zones at the same price,
so SpotHedge places the two spot replicas in zone-a and zone-b (list order breaks the tie):

    zone-a  1 1 1 0 0 0 ...   <- capacity drops at tick 3 (15 s; replicas are ready by ~6 s)
    zone-b  1 1 1 1 1 1 ...
    zone-c  1 1 1 1 1 1 ...

Expected, in order: a preemption notice for the zone-a replica; zone-a goes to the preempted
set; a replacement spot replica launches in zone-c and, since ready spot replicas are short,
an on-demand fallback launches too; the zone-a replica is killed at the end of its notice;
once the zone-c replica is ready the on-demand replica is released. Requests keep succeeding
throughout (the noticed replica stops getting new requests; the gateway retries elsewhere).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from tests.e2e.harness import (
    RequestLoop,
    group_gone,
    hedge,
    replica_requests,
    status,
    status_cli,
    timeline,
    wait_for,
    write_spec,
    write_trace,
)

from hedgeserve.control.records import EventKind

A, B, C = "local/east/zone-a", "local/east/zone-b", "local/west/zone-c"


def first(events: list, kind: EventKind, *, after: float = 0.0, zone: str | None = None,
          spot: bool | None = None, detail: str = ""):
    for e in events:
        if (e.kind is kind and e.at >= after and (zone is None or e.zone == zone)
                and (spot is None or e.is_spot == spot) and detail in e.detail):
            return e
    return None


def up_with_zone_a_dropping(tmp_path: Path, **spec: float) -> str:
    """`hedge up` the docstring's service; returns its endpoint once the spot replicas in
    zone-a and zone-b are ready (ready may first mean "the on-demand fallback is ready")."""
    n = 40
    trace = write_trace(tmp_path / "trace.csv", {A: [1] * 3 + [0] * (n - 3), B: [1] * n,
                                                 C: [1] * n})
    path = write_spec(tmp_path / "svc.yaml", trace=trace, zones=["zone-a", "zone-b", "zone-c"],
                      time_scale=12.0, **spec)
    hedge("up", str(path), "--name", "svc", "--detach", "--timeout", "60")
    doc = wait_for(lambda: (d := status("svc"))["status"] == "ready" and sorted(
        r["zone"] for r in d["replicas"] if r["spot"] and r["state"] == "ready") == [A, B] and d,
        timeout=20, what="spot replicas ready in zone-a and zone-b")
    return str(doc["endpoint"])


@pytest.mark.timeout(120)
def test_zone_preemption_replaces_spot_and_falls_back_on_demand(
    hedge_home: Path, tmp_path: Path
) -> None:
    endpoint = up_with_zone_a_dropping(tmp_path)
    with RequestLoop(endpoint) as load:
        notice = wait_for(lambda: first(timeline("svc"), EventKind.NOTICE, zone=A),
                          timeout=60, what="a preemption notice in zone-a")

        def settled() -> bool:
            d = status("svc")
            live = [(r["zone"], r["spot"], r["state"]) for r in d["replicas"]]
            return sorted(live) == [(B, True, "ready"), (C, True, "ready")]

        wait_for(settled, timeout=60, what="spot replicas ready in zone-b and zone-c only")
    events = timeline("svc")

    zones = first(events, EventKind.ZONES, after=notice.at, detail=f"preempted: {A}")
    replacement = first(events, EventKind.LAUNCH, after=notice.at, zone=C, spot=True)
    fallback = first(events, EventKind.LAUNCH, after=notice.at, spot=False)
    killed = first(events, EventKind.PREEMPTED, after=notice.at, zone=A)
    c_ready = first(events, EventKind.STATE, after=notice.at, zone=C, detail="ready")
    assert zones and replacement and fallback and killed and c_ready, [
        (e.kind.value, e.zone, e.is_spot, e.detail) for e in events if e.at >= notice.at]
    released = first(events, EventKind.TERMINATE, after=c_ready.at, spot=False,
                     detail="on-demand no longer needed")
    assert released is not None and released.replica == fallback.replica
    # Killed at the end of its 2 s notice at the latest (it may drain and exit sooner).
    assert killed.at - notice.at <= 2.0 + 1.0
    assert "fallback" in fallback.detail

    assert len(load.results) > 20
    assert load.failures == [], f"{len(load.failures)} of {len(load.results)} requests failed"

    public = status_cli("svc")
    assert set(public) == {"name", "status", "endpoint", "cost_per_hour",
                           "on_demand_cost_per_hour", "replicas"}
    pids = [r["pid"] for r in public["replicas"]]
    down = hedge("down", "svc")
    assert "no process left" in down.stdout
    assert all(group_gone(pid) for pid in pids)


@pytest.mark.timeout(120)
def test_a_noticed_replica_serves_until_grace_before_its_kill(
    hedge_home: Path, tmp_path: Path
) -> None:
    # An AWS-like notice, scaled down: 6 s of notice, 1.5 s of grace. The zone-a replica must
    # keep getting requests for ~4.5 s after its notice while its replacement starts.
    endpoint = up_with_zone_a_dropping(tmp_path, notice_s=6.0, grace_s=1.5)
    with RequestLoop(endpoint) as load:
        notice = wait_for(lambda: first(timeline("svc"), EventKind.NOTICE, zone=A),
                          timeout=60, what="a preemption notice in zone-a")
        assert notice.replica is not None
        at_notice = replica_requests("svc", notice.replica)
        time.sleep(2.5)  # inside the 4.5 s it keeps serving
        after = replica_requests("svc", notice.replica)
        killed = wait_for(lambda: first(timeline("svc"), EventKind.PREEMPTED, zone=A),
                          timeout=30, what="the zone-a replica killed")
    assert after > at_notice, "the noticed replica got no requests after its notice"
    # Stopped at deadline - grace at the earliest (SIGTERM, it drains), killed at the deadline.
    assert 6.0 - 1.5 - 1.0 <= killed.at - notice.at <= 6.0 + 1.0
    assert len(load.results) > 20
    assert load.failures == [], f"{len(load.failures)} of {len(load.results)} requests failed"
    hedge("down", "svc")
