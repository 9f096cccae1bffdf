"""The admin API, served on its own loopback port so no proxied path is reserved.

    PUT  /replicas   set the whole replica set (body: see replica_spec.py)   token
    GET  /replicas   the set with in-flight counts and suspect marks          token
    GET  /stats      counters for the autoscaler (see metrics.stats_document) token
    GET  /metrics    Prometheus text format                                   open
    GET  /healthz    {"ok": true, "replicas": n, "routable": k}               open

Token: `Authorization: Bearer <admin token>`. `/metrics` and `/healthz` stay open so a
scraper needs no secret; they carry replica ids and counts, never URLs or keys.
A PUT applies atomically (`ReplicaSet.apply`); in-flight requests are not disturbed.
"""

from __future__ import annotations

import json

from aiohttp import hdrs, web
from prometheus_client import CollectorRegistry

from hedgeserve.errors import InputError
from hedgeserve.gateway.auth import BearerKeys
from hedgeserve.gateway.metrics import CONTENT_TYPE, render_metrics, stats_document
from hedgeserve.gateway.replica_set import ReplicaSet, replace_set
from hedgeserve.gateway.replica_spec import parse_replica_set
from hedgeserve.gateway.stats import GatewayStats


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": {"message": message, "type": "admin_error"}}, status=status)


def build_admin_app(
    *,
    token: str,
    replicas: ReplicaSet,
    stats: GatewayStats,
    registry: CollectorRegistry,
) -> web.Application:
    keys = BearerKeys([token])

    def authorized(request: web.Request) -> bool:
        return keys.allows(request.headers.get(hdrs.AUTHORIZATION))

    def replica_state() -> dict[str, object]:
        return {"replicas": [r.as_dict() for r in replicas]}

    async def put_replicas(request: web.Request) -> web.Response:
        if not authorized(request):
            return _error(401, "missing or invalid admin token")
        try:
            payload = await request.json()
            specs = parse_replica_set(payload, where="PUT /replicas")
        except json.JSONDecodeError as err:
            return _error(400, f"body is not JSON: {err}")
        except InputError as err:
            return _error(400, err.one_line())
        replace_set(replicas, specs, stats=stats, how="pushed")
        return web.json_response(replica_state())

    async def get_replicas(request: web.Request) -> web.Response:
        if not authorized(request):
            return _error(401, "missing or invalid admin token")
        return web.json_response(replica_state())

    async def get_stats(request: web.Request) -> web.Response:
        if not authorized(request):
            return _error(401, "missing or invalid admin token")
        return web.json_response(stats_document(stats, replicas))

    async def get_metrics(request: web.Request) -> web.Response:
        resp = web.Response(body=render_metrics(registry))
        resp.headers[hdrs.CONTENT_TYPE] = CONTENT_TYPE
        return resp

    async def get_healthz(request: web.Request) -> web.Response:
        routable = len(replicas.eligible)
        return web.json_response({"ok": True, "replicas": len(replicas), "routable": routable})

    app = web.Application(client_max_size=4 * 1024 * 1024)
    app.router.add_put("/replicas", put_replicas)
    app.router.add_get("/replicas", get_replicas)
    app.router.add_get("/stats", get_stats)
    app.router.add_get("/metrics", get_metrics)
    app.router.add_get("/healthz", get_healthz)
    return app
