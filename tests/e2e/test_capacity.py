"""(c) A zone with no spot capacity at all: the launch into it fails (CapacityUnavailable), the
zone goes to the preempted set, and the replica is launched in another zone instead; requests
sent meanwhile are served (by the on-demand fallback, then by spot replicas).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.e2e.harness import (
    RequestLoop,
    hedge,
    service_processes,
    status,
    timeline,
    wait_for,
    write_spec,
    write_trace,
)

from hedgeserve.control.records import EventKind

A, B, C = "local/east/zone-a", "local/east/zone-b", "local/west/zone-c"


@pytest.mark.timeout(120)
def test_launch_into_empty_zone_fails_and_goes_elsewhere(hedge_home: Path,
                                                         tmp_path: Path) -> None:
    trace = write_trace(tmp_path / "trace.csv", {A: [0] * 40, B: [1] * 40, C: [1] * 40})
    spec = write_spec(tmp_path / "svc.yaml", trace=trace, zones=["zone-a", "zone-b", "zone-c"])
    up = hedge("up", str(spec), "--name", "svc", "--detach", "--timeout", "0")
    endpoint = next(line.split()[-1] for line in up.stdout.splitlines()
                    if line.startswith("endpoint:"))
    with RequestLoop(endpoint) as load:
        def settled() -> bool:
            live = sorted((r["zone"], r["spot"], r["state"]) for r in status("svc")["replicas"])
            return live == [(B, True, "ready"), (C, True, "ready")]

        wait_for(settled, timeout=60, what="spot replicas ready in zone-b and zone-c")
    events = timeline("svc")
    failed = [e for e in events if e.kind is EventKind.LAUNCH_FAILED]
    assert failed and all(e.zone == A and e.is_spot for e in failed)
    assert "no spot capacity" in failed[0].detail
    spot_launches = [e.zone for e in events if e.kind is EventKind.LAUNCH and e.is_spot]
    assert spot_launches[0] == A  # cheapest by list order: tried first ...
    assert C in spot_launches[spot_launches.index(A):]  # ... then elsewhere
    assert any(e.kind is EventKind.ZONES and f"preempted: {A}" in e.detail for e in events)
    # Requests before the first replica is ready wait in the gateway's queue; none may fail.
    assert load.results and load.failures == []

    hedge("down", "svc")
    assert service_processes("svc") == []
