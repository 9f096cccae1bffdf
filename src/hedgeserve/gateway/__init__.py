"""The HTTP data path: an OpenAI-compatible, failure-aware load balancer in front of replicas.

Public surface: `GatewayConfig`, `Gateway` (in-process start/stop), `run_gateway` (process
entry), `ReplicaSpec` / `parse_replica_set` (the controller's wire format) and the routing
policy names in `POLICIES`. Module map: `proxy` (hot path), `routing` (pure policies),
`failures` (pure retry rules), `forwarding` (headers, bodies, error answers), `replica_set`
(live set, exact in-flight counts), `replica_sync` (probes, pull mode), `sse` (token-event seam
for mid-stream failover), `stats`/`metrics` (counters, /metrics, /stats), `admin` (admin API),
`auth`, `server`. See docs/gateway.md.
"""

from hedgeserve.gateway.config import GatewayConfig
from hedgeserve.gateway.replica_spec import ReplicaSpec, parse_replica_set
from hedgeserve.gateway.routing import POLICIES
from hedgeserve.gateway.server import Gateway, run_gateway

__all__ = [
    "POLICIES",
    "Gateway",
    "GatewayConfig",
    "ReplicaSpec",
    "parse_replica_set",
    "run_gateway",
]
