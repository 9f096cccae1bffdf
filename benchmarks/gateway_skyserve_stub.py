"""Stand-in for SkyServe's controller, so its load balancer runs alone for benchmarks/gateway.py.

The load balancer POSTs `/controller/load_balancer_sync` 5 s after start and every 20 s after
that; the stub answers with a fixed set of ready replicas.

    python benchmarks/gateway_skyserve_stub.py --port P --replica http://127.0.0.1:U
"""

from __future__ import annotations

import argparse

from aiohttp import web


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--replica", action="append", required=True)
    args = parser.parse_args()
    answer = {"replica_info": {url: {} for url in args.replica}}

    async def sync(request: web.Request) -> web.Response:
        await request.read()  # the LB's request timestamps; not needed here
        return web.json_response(answer)

    app = web.Application()
    app.router.add_post("/controller/load_balancer_sync", sync)
    web.run_app(app, host="127.0.0.1", port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
