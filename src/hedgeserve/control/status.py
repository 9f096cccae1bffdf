"""The service's status and the status document (`hedge status`, the control API), both pure.

The document is built from stored rows alone, so it can be shown with the controller running
(through the control API) or not (read from the store, status `controller_down`).

    {"name", "status", "endpoint", "cost_per_hour", "on_demand_cost_per_hour",
     "replicas": [{"id", "zone", "spot", "state", "pid", "url"}]}

`--json` prints exactly these keys; `details` carries what the table shows besides (N_tar,
failure, replica age, price, reason).
Cost: the sum of the $/h of live replicas (each at its zone's price when it was launched);
the reference is what the service would cost all on-demand: N_tar x the cheapest on-demand
price among the service's zones.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hedgeserve.control.records import ReplicaRecord, ServiceRecord, ServiceStatus

STATUS_KEYS = ("name", "status", "endpoint", "cost_per_hour", "on_demand_cost_per_hour",
               "replicas")
REPLICA_KEYS = ("id", "zone", "spot", "state", "pid", "url")


def service_status(*, ready: int, target: int, ever_ready: bool, failed: bool) -> ServiceStatus:
    if failed:
        return ServiceStatus.FAILED
    if ready >= target and (ready > 0 or ever_ready or target == 0):
        return ServiceStatus.READY
    if ready > 0:
        return ServiceStatus.DEGRADED
    return ServiceStatus.NO_REPLICA if ever_ready else ServiceStatus.STARTING


def status_document(
    service: ServiceRecord,
    replicas: Sequence[ReplicaRecord],
    *,
    now: float,
    controller_alive: bool,
) -> dict[str, Any]:
    live = [r for r in replicas if r.is_live]
    status = service.status
    if not controller_alive and status not in (ServiceStatus.DOWN, ServiceStatus.FAILED):
        status = ServiceStatus.CONTROLLER_DOWN
    return {
        "name": service.name,
        "status": status.value,
        "endpoint": service.gateway.endpoint if status is not ServiceStatus.DOWN else None,
        "cost_per_hour": round(sum(r.price_per_hour for r in live), 6),
        "on_demand_cost_per_hour": round(service.on_demand_reference_per_hour, 6),
        "replicas": [
            {"id": int(r.id), "zone": r.zone, "spot": r.is_spot, "state": r.status.value,
             "pid": r.pid, "url": r.url}
            for r in live
        ],
        "details": {
            "target": service.target,
            "ready": sum(r.status.value == "ready" for r in live),
            "failure": service.failure,
            "controller_pid": service.controller_pid if controller_alive else None,
            "updated_at": service.updated_at,
            "replicas": [
                {"id": int(r.id), "age_s": round(max(0.0, now - r.launched_at), 1),
                 "price_per_hour": r.price_per_hour, "reason": r.reason}
                for r in live
            ],
        },
    }


def public_view(document: dict[str, Any]) -> dict[str, Any]:
    """The document with exactly the documented keys (what `hedge status --json` prints)."""
    out = {k: document[k] for k in STATUS_KEYS}
    out["replicas"] = [{k: r[k] for k in REPLICA_KEYS} for r in document["replicas"]]
    return out
