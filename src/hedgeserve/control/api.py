"""The control API: what the CLI asks a running controller. HTTP on 127.0.0.1, JSON.

    GET  /healthz   {"ok": true, "name", "pid"}                                 open
    GET  /status    the status document (`status.status_document`)              token
    GET  /events    ?after=SEQ&limit=N (events after SEQ) or ?last=N (the last N):
                    {"events": [{seq, at, kind, replica, zone, spot, detail}]}  token
    POST /down      terminate everything, then the controller exits;
                    answers the teardown report {"ok", "terminated", "left"}    token

Token: `Authorization: Bearer <token>`, the token being the content of `control.token` (0600)
in the service folder, so only the user who started the service can drive it.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import hdrs, web

from hedgeserve.control.records import EventRecord

StatusFn = Callable[[], dict[str, Any]]
EventsFn = Callable[[int, int], list[EventRecord]]  # (after, limit)
LastEventsFn = Callable[[int], list[EventRecord]]  # (count)
DownFn = Callable[[], Awaitable[dict[str, Any]]]


def event_dict(e: EventRecord) -> dict[str, Any]:
    return {"seq": e.seq, "at": e.at, "kind": e.kind.value, "replica": e.replica,
            "zone": e.zone, "spot": e.is_spot, "detail": e.detail}


class ControlApi:
    def __init__(self, *, name: str, pid: int, token: str, status: StatusFn, events: EventsFn,
                 last_events: LastEventsFn, down: DownFn) -> None:
        self._token = token
        self._runner: web.AppRunner | None = None
        app = web.Application()

        def authorized(request: web.Request) -> bool:
            given = request.headers.get(hdrs.AUTHORIZATION, "")
            return hmac.compare_digest(given.encode(), f"Bearer {self._token}".encode())

        def denied() -> web.Response:
            return _json({"error": "missing or invalid token (see control.token)"}, 401)

        async def healthz(request: web.Request) -> web.Response:
            return _json({"ok": True, "name": name, "pid": pid})

        async def get_status(request: web.Request) -> web.Response:
            return _json(status()) if authorized(request) else denied()

        async def get_events(request: web.Request) -> web.Response:
            if not authorized(request):
                return denied()
            try:
                after = int(request.query.get("after", "0"))
                limit = min(int(request.query.get("limit", "1000")), 10_000)
                last = int(request.query["last"]) if "last" in request.query else None
            except ValueError:
                return _json({"error": "after, limit and last must be integers"}, 400)
            found = last_events(min(last, 10_000)) if last is not None else events(after, limit)
            return _json({"events": [event_dict(e) for e in found]})

        async def post_down(request: web.Request) -> web.Response:
            return _json(await down()) if authorized(request) else denied()

        app.router.add_get("/healthz", healthz)
        app.router.add_get("/status", get_status)
        app.router.add_get("/events", get_events)
        app.router.add_post("/down", post_down)
        self.app = app  # for in-process test clients

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        self._runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=5.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        return int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


def _json(data: object, status: int = 200) -> web.Response:
    return web.Response(text=json.dumps(data), status=status, content_type="application/json")
