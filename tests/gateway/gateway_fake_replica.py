"""A small OpenAI-shaped replica for gateway tests: in process, or as its own process.

Routes:
    POST /v1/completions, /v1/chat/completions  JSON answer, or SSE when {"stream": true};
                                                body keys max_tokens (8), token_delay_s (0)
    *    /echo        method, path, query, headers and body (as text) back as JSON
    GET  /bytes?n=N   N deterministic bytes, streamed in uneven chunks, no Content-Length
    GET  /sized?n=N   N deterministic bytes with Content-Length
    GET  /sse?n=N&delay=S&cut=K  N events; with cut, the process closes the socket after K
    GET  /slow?s=S    answers after S seconds
    *    /status/C    answers status C
    GET  /cookie      sets a cookie (the gateway must not keep it)
    GET  /health      200 when ready, else 503 (counted in `probes`, not in `hits`)
Every other request gets 503 while `ready` is false (a replica still loading its model), or
`fail_status` when that is set (a broken replica that still answers its health probe).

Run as a process: `python tests/gateway/gateway_fake_replica.py --name r1` prints `port=<n>`
and serves until killed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import sys

from aiohttp import web


def payload_bytes(n: int) -> bytes:
    """Deterministic, non-repeating-looking bytes (so a reordered chunk would be noticed)."""
    block = bytes((i * 131 + 7) % 256 for i in range(4093))
    return (block * (n // len(block) + 1))[:n]


def dead_url() -> str:
    """A loopback URL with nothing listening: connections are refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


class FakeReplica:
    def __init__(self, name: str, *, ready: bool = True, fail_status: int | None = None) -> None:
        self.name = name
        self.ready = ready
        self.fail_status = fail_status
        self.hits = 0  # requests other than health probes
        self.probes = 0  # GET /health
        self.cancelled = 0  # handlers cancelled because the client (the gateway) went away
        self.inflight = 0
        self.port = 0
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        return app

    async def start(self, port: int = 0) -> FakeReplica:
        self._runner = web.AppRunner(self.app(), handler_cancellation=True, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port, backlog=1024)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        if request.path == "/health":
            self.probes += 1
            return web.Response(status=200 if self.ready else 503, text=self.name)
        self.hits += 1
        self.inflight += 1
        try:
            return await self._route(request)
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        except ConnectionResetError:  # the client left while we wrote; not worth a traceback
            self.cancelled += 1
            return web.Response()
        finally:
            self.inflight -= 1

    async def _route(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        if not self.ready:
            return web.Response(status=503, text="loading")
        if self.fail_status is not None:
            return web.Response(status=self.fail_status, text="broken")
        if path in ("/v1/completions", "/v1/chat/completions"):
            return await self._completion(request)
        if path == "/echo":
            body = await request.read()
            return web.json_response(
                {
                    "replica": self.name,
                    "method": request.method,
                    "path": request.path,
                    "query": request.rel_url.raw_query_string,
                    "headers": list(request.headers.items()),
                    "body": body.decode("latin-1"),
                }
            )
        if path == "/bytes":
            return await self._bytes(request, int(request.query.get("n", "100000")))
        if path == "/sized":
            n = int(request.query.get("n", "100000"))
            return web.Response(body=payload_bytes(n), content_type="application/octet-stream")
        if path == "/sse":
            q = request.query
            return await self._sse(
                request,
                n=int(q.get("n", "8")),
                delay=float(q.get("delay", "0")),
                cut=int(q["cut"]) if "cut" in q else None,
            )
        if path == "/slow":
            await asyncio.sleep(float(request.query.get("s", "1")))
            return web.json_response({"replica": self.name})
        if path == "/cookie":
            resp = web.json_response({"replica": self.name})
            resp.set_cookie("session", "secret-of-client-a")
            return resp
        if path.startswith("/status/"):
            return web.Response(status=int(path.rsplit("/", 1)[1]), text=self.name)
        return web.json_response({"replica": self.name, "path": path})

    async def _completion(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        tokens = int(body.get("max_tokens", 8))
        delay = float(body.get("token_delay_s", 0))
        if body.get("stream"):
            return await self._sse(request, n=tokens, delay=delay, cut=None)
        if delay:
            await asyncio.sleep(delay * tokens)
        text = " ".join(f"tok{i}" for i in range(tokens))
        return web.json_response(
            {"object": "text_completion", "replica": self.name, "choices": [{"text": text}]}
        )

    async def _sse(
        self, request: web.Request, *, n: int, delay: float, cut: int | None
    ) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        for i in range(n):
            if cut is not None and i == cut:
                assert request.transport is not None
                request.transport.abort()  # a preempted replica: the socket just goes
                return resp
            event = {"replica": self.name, "choices": [{"index": 0, "text": f"tok{i}"}]}
            await resp.write(f"id: {i}\ndata: {json.dumps(event)}\n\n".encode())
            if delay:
                await asyncio.sleep(delay)
        await resp.write(b"data: [DONE]\n\n")
        await resp.write_eof()
        return resp

    async def _bytes(self, request: web.Request, n: int) -> web.StreamResponse:
        data = payload_bytes(n)
        resp = web.StreamResponse(headers={"Content-Type": "application/octet-stream"})
        await resp.prepare(request)
        pos, step = 0, 1
        while pos < n:
            await resp.write(data[pos : pos + step])
            pos += step
            step = step * 3 % 65521 + 1  # uneven chunk sizes
        await resp.write_eof()
        return resp


async def _main(name: str, port: int) -> None:
    replica = await FakeReplica(name).start(port)
    print(f"port={replica.port}", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--name", default="replica")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    try:
        asyncio.run(_main(args.name, args.port))
    except KeyboardInterrupt:
        sys.exit(0)
