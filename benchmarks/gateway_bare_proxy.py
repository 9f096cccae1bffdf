"""The ceiling for benchmarks/gateway.py: the least a streaming aiohttp proxy can do.

One upstream, no routing, retries, timeouts, auth, stats or header filtering: aiohttp's
low-level `web.Server` (as our gateway uses), one pooled `ClientSession`, and `iter_any()` →
`write()` per chunk. uvloop when importable, as `hedge gateway` does. Our gateway's req/s over
this one's, measured side by side, is the share of the achievable rate we keep.

    python benchmarks/gateway_bare_proxy.py --port P --upstream http://127.0.0.1:U
"""

from __future__ import annotations

import argparse
import asyncio

import aiohttp
from aiohttp import web


async def serve(port: int, upstream: str) -> None:
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0), auto_decompress=False)

    async def handle(request: web.BaseRequest) -> web.StreamResponse:
        body = await request.read()
        async with session.request(
            request.method, upstream + request.raw_path, data=body, headers=request.headers
        ) as resp:
            out = web.StreamResponse(status=resp.status, headers=resp.headers)
            out.headers.popall("Transfer-Encoding", None)
            await out.prepare(request)
            async for chunk in resp.content.iter_any():
                await out.write(chunk)
            await out.write_eof()
            return out

    runner = web.ServerRunner(web.Server(handle, access_log=None))
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port, backlog=4096).start()
    await asyncio.Event().wait()  # until the benchmark kills the process


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", required=True)
    args = parser.parse_args()
    try:
        import uvloop
    except ImportError:
        asyncio.run(serve(args.port, args.upstream))
    else:
        uvloop.run(serve(args.port, args.upstream))


if __name__ == "__main__":
    main()
