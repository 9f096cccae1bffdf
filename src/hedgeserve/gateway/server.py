"""`Gateway`: wires config, replica set, proxy, admin API and background tasks into sockets.

In process (tests, a controller's own tests):

    async with Gateway(GatewayConfig(port=0, replicas=specs)) as gw:
        ...  # gw.url, gw.admin_url, gw.set_replicas(specs), gw.stats

As a process: `run_gateway(config)` (what `hedge gateway` calls) serves until SIGTERM/SIGINT,
then stops accepting, lets in-flight requests finish for up to `shutdown_timeout_s`, and exits.

The public port runs aiohttp's low-level `web.Server` with the proxy as its only handler: no
router, no middleware on the hot path. One `UpstreamPool` (`upstream.py`) holds keep-alive
connections to every replica, with no cap; bodies pass through undecoded and nothing keeps
cookies, since they belong to the clients, not to the gateway. The prober and the puller,
which are off the hot path, use an aiohttp `ClientSession`.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import random
import signal
import ssl
import time
from collections.abc import Callable, Iterable
from types import TracebackType

import aiohttp
from aiohttp import web

from hedgeserve.errors import InputError
from hedgeserve.gateway.admin import build_admin_app
from hedgeserve.gateway.config import GatewayConfig
from hedgeserve.gateway.metrics import make_registry
from hedgeserve.gateway.proxy import Proxy
from hedgeserve.gateway.replica_set import Replica, ReplicaSet, SetChange, replace_set
from hedgeserve.gateway.replica_spec import ReplicaSpec
from hedgeserve.gateway.replica_sync import Prober, ReplicaPuller
from hedgeserve.gateway.routing import make_policy
from hedgeserve.gateway.sse import StreamTap
from hedgeserve.gateway.stats import GatewayStats
from hedgeserve.gateway.upstream import UpstreamPool

log = logging.getLogger("hedgeserve.gateway")

# CPython collects its youngest generation after 700 net new container objects: every few
# requests under load, and each pass walks the state of every stream in flight. Measured at
# 256 SSE streams that was ~15-20 % of the gateway's CPU; at 10,000 it is ~3 %, with passes of
# a few ms. (The gateway itself creates no reference cycles per request; see relay.Watchdog.)
GC_YOUNG_THRESHOLD = 10_000

# Below the 5 s keep-alive of uvicorn (vLLM) and aiohttp servers, so the gateway drops an idle
# pooled connection before the replica does and rarely sends into a closing socket.
UPSTREAM_KEEPALIVE_S = 4.0


class Gateway:
    def __init__(
        self,
        config: GatewayConfig,
        *,
        tap_factory: Callable[[web.BaseRequest], StreamTap | None] | None = None,
    ) -> None:
        self.config = config
        self.stats = GatewayStats(started_at_unix=time.time())
        self.replicas = ReplicaSet()
        self.registry = make_registry(self.stats, self.replicas)
        self._tap_factory = tap_factory
        self._session: aiohttp.ClientSession | None = None
        self._pool: UpstreamPool | None = None
        self._prober: Prober | None = None
        self._pull_task: asyncio.Task[None] | None = None
        self._runners: list[web.BaseRunner] = []
        self._port: int | None = None
        self._admin_port: int | None = None

    # --- addresses -------------------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("gateway not started")
        return self._port

    @property
    def admin_port(self) -> int | None:
        return self._admin_port

    @property
    def url(self) -> str:
        scheme = "https" if self.config.is_tls else "http"
        return f"{scheme}://{_host_for_url(self.config.host)}:{self.port}"

    @property
    def admin_url(self) -> str | None:
        if self._admin_port is None:
            return None
        return f"http://{_host_for_url(self.config.admin_host)}:{self._admin_port}"

    # --- control ---------------------------------------------------------------------------

    def set_replicas(self, specs: Iterable[ReplicaSpec]) -> SetChange:
        """Replace the replica set in process; same semantics as the admin `PUT /replicas`."""
        return replace_set(self.replicas, specs, stats=self.stats, how="replaced")

    async def start(self) -> None:
        cfg = self.config
        ssl_context = _server_ssl(cfg)
        self._pool = UpstreamPool(
            connect_timeout_s=cfg.connect_timeout_s, keepalive_s=UPSTREAM_KEEPALIVE_S
        )
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0, keepalive_timeout=UPSTREAM_KEEPALIVE_S),
            cookie_jar=aiohttp.DummyCookieJar(),
            timeout=aiohttp.ClientTimeout(total=None),
        )
        self._prober = Prober(
            config=cfg, replicas=self.replicas, session=self._session, stats=self.stats
        )
        self.replicas.on_suspect = self._on_suspect
        self.replicas.apply(cfg.replicas)
        proxy = Proxy(
            config=cfg,
            replicas=self.replicas,
            policy=make_policy(cfg.policy),
            pool=self._pool,
            stats=self.stats,
            rng=random.Random(cfg.seed),
            tap_factory=self._tap_factory,
        )
        try:
            server = web.Server(proxy, handler_cancellation=True, access_log=None)
            runner: web.BaseRunner = web.ServerRunner(
                server, shutdown_timeout=cfg.shutdown_timeout_s
            )
            self._port = await self._listen(runner, cfg.host, cfg.port, ssl_context, "--port")
            if cfg.admin_port is not None and cfg.admin_token:
                admin = build_admin_app(
                    token=cfg.admin_token,
                    replicas=self.replicas,
                    stats=self.stats,
                    registry=self.registry,
                )
                admin_runner = web.AppRunner(admin, access_log=None, shutdown_timeout=2.0)
                self._admin_port = await self._listen(
                    admin_runner, cfg.admin_host, cfg.admin_port, None, "--admin-port"
                )
            if cfg.pull_url is not None:
                puller = ReplicaPuller(
                    config=cfg, replicas=self.replicas, session=self._session, stats=self.stats
                )
                await puller.pull_once()  # serve with the controller's set from the start
                self._pull_task = asyncio.get_running_loop().create_task(puller.run())
        except BaseException:
            await self.stop()
            raise

    async def stop(self) -> None:
        """Stop accepting, let in-flight requests finish (bounded), release everything."""
        for runner in reversed(self._runners):
            await runner.cleanup()
        self._runners.clear()
        if self._pull_task is not None:
            self._pull_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pull_task
            self._pull_task = None
        if self._prober is not None:
            await self._prober.close()
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._pool is not None:
            self._pool.close()
            self._pool = None

    async def __aenter__(self) -> Gateway:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # --- internals -------------------------------------------------------------------------

    def _on_suspect(self, replica: Replica) -> None:
        if self._prober is not None:
            log.info("replica %s is suspect; no traffic until it answers a probe", replica.id)
            self._prober.watch(replica)

    async def _listen(
        self,
        runner: web.BaseRunner,
        host: str,
        port: int,
        ssl_context: ssl.SSLContext | None,
        flag: str,
    ) -> int:
        await runner.setup()
        self._runners.append(runner)
        # A large backlog: hundreds of clients connecting at once must not overflow the
        # accept queue (an overflow costs a 1 s SYN retransmit, which wrecks p99).
        site = web.TCPSite(runner, host, port, ssl_context=ssl_context, backlog=4096)
        try:
            await site.start()
        except OSError as err:
            raise InputError(
                f"cannot listen on {host}:{port}: {err.strerror}",
                where=flag,
                fix="choose a free port (0 picks one)",
            ) from err
        return int(runner.addresses[0][1])


def _host_for_url(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _server_ssl(cfg: GatewayConfig) -> ssl.SSLContext | None:
    if cfg.tls_cert is None or cfg.tls_key is None:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(cfg.tls_cert, cfg.tls_key)
    except (OSError, ssl.SSLError) as err:
        raise InputError(
            f"cannot load TLS certificate/key: {err}", where=f"--tls-cert {cfg.tls_cert}"
        ) from err
    return context


def _new_event_loop() -> asyncio.AbstractEventLoop:
    """uvloop when installed (`hedgeserve[fast]`, ~+9 % req/s), else the stdlib loop."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def _tune_gc() -> None:
    """For a gateway process only (never in process: the GC is the host's to tune).

    The startup heap (modules, the app) lives as long as the process: `gc.freeze` takes it
    out of every later collection; young collections become rarer (GC_YOUNG_THRESHOLD).
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_YOUNG_THRESHOLD)


def run_gateway(config: GatewayConfig, *, announce: Callable[[Gateway], None]) -> None:
    """Serve until SIGTERM or SIGINT. `announce` is called once the ports are bound."""

    async def serve() -> None:
        gateway = Gateway(config)
        await gateway.start()
        _tune_gc()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        try:
            announce(gateway)
            await stop.wait()
        finally:
            await gateway.stop()

    with asyncio.Runner(loop_factory=_new_event_loop) as runner:
        runner.run(serve())
