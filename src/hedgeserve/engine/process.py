"""The engine as a process: bind, serve, and drain on SIGTERM/SIGINT.

SIGTERM is a preemption notice or a scale-down: the engine stops admitting (health and new
requests answer 503), lets accepted requests finish for up to `drain_timeout_s`, then closes and
returns exit status 0. A second signal while draining stops at once (still status 0). SIGKILL
needs no handling: the process just dies, which is what a spot preemption without notice is.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

from aiohttp import web

from hedgeserve.engine.config import EngineConfig, ReplicaIdentity
from hedgeserve.engine.lifecycle import Lifecycle
from hedgeserve.engine.server import LIFECYCLE, build_app
from hedgeserve.errors import InputError

log = logging.getLogger("hedgeserve.engine")

# After the drain, open connections get this long before they are closed.
_CLOSE_GRACE_S = 1.0
_SIGNALS = (signal.SIGTERM, signal.SIGINT)


async def serve(config: EngineConfig, identity: ReplicaIdentity) -> int:
    """Serve until a signal drains the engine; returns the exit status."""
    # Handlers first: a notice that arrives while starting up must drain, not kill.
    signals: asyncio.Queue[int] = asyncio.Queue()
    loop = asyncio.get_running_loop()
    for signum in _SIGNALS:
        loop.add_signal_handler(signum, signals.put_nowait, signum)
    app = build_app(config, identity)
    runner = web.AppRunner(app, access_log=None, handle_signals=False,
                           shutdown_timeout=_CLOSE_GRACE_S)
    await runner.setup()
    try:
        await _listen(runner, config)
        await signals.get()
        await _drain(app[LIFECYCLE], signals, config.drain_timeout_s)
    finally:
        await runner.cleanup()
        for signum in _SIGNALS:
            loop.remove_signal_handler(signum)
    return 0


async def _listen(runner: web.AppRunner, config: EngineConfig) -> None:
    site = web.TCPSite(runner, config.host, config.port)
    try:
        await site.start()
    except OSError as err:
        raise InputError(f"cannot listen on {config.host}:{config.port}: {err.strerror}",
                         where="--port", fix="pick a free port (0 picks one)") from None
    # One line a launcher can wait for (and parse the port from, with --port 0).
    log.info("emulated LLM %r listening on http://%s:%d", config.model_name, config.host,
             runner.addresses[0][1])


async def _drain(lifecycle: Lifecycle, signals: asyncio.Queue[int], timeout_s: float) -> None:
    """Refuse new work and wait for the in-flight requests, a timeout, or a second signal."""
    lifecycle.begin_drain()
    log.info("draining: %d request(s) in flight, up to %.1fs", lifecycle.in_flight, timeout_s)
    idle = asyncio.create_task(lifecycle.wait_idle())
    second_signal = asyncio.create_task(signals.get())
    done, _ = await asyncio.wait({idle, second_signal}, timeout=timeout_s,
                                 return_when=asyncio.FIRST_COMPLETED)
    idle.cancel()
    second_signal.cancel()
    if idle in done:
        log.info("drained; exiting")
    else:
        log.warning("drain cut short: %d request(s) still in flight", lifecycle.in_flight)


def run_engine(config: EngineConfig, identity: ReplicaIdentity) -> int:
    """Run the engine in this process (the `hedge engine` command); returns the exit status."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("hedge engine: %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
    return asyncio.run(serve(config, identity))
