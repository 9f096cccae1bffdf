"""One controller process: everything a running service needs, wired together, for its life.

Start (in this order, so a crash at any step is recoverable by starting again):
1. take the writer lock on the store (a second controller for the service refuses to start);
2. read the spec `hedge up` left in the service folder and record it;
3. build the provider (through the factory the CLI passes in: this layer never imports
   providers) and adopt or start the gateway (same port as before);
4. recover: adopt live replicas, end rows whose instance is gone, terminate orphans;
5. serve the control API on 127.0.0.1 and publish its port in `control.json`;
6. run the reconcile loop until SIGTERM/SIGINT (the controller stops; replicas and gateway keep
   serving and the next controller adopts them) or `POST /down` (everything is torn down).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hedgeserve.control.api import ControlApi
from hedgeserve.control.clock import Wakeup, WallClock
from hedgeserve.control.gateway_link import GatewayError, GatewayProcess
from hedgeserve.control.policy_setup import build_autoscaler, build_policy
from hedgeserve.control.probe import HttpProber
from hedgeserve.control.process_identity import ProcessIdentity
from hedgeserve.control.provider import Provider
from hedgeserve.control.reconcile import LoopSettings, Reconciler
from hedgeserve.control.records import (
    EventKind,
    EventRecord,
    GatewayRecord,
    ServiceRecord,
    ServiceStatus,
)
from hedgeserve.control.state_dir import ServiceDir, read_json, write_json
from hedgeserve.control.status import status_document
from hedgeserve.control.store import Store, StoreBusy
from hedgeserve.control.teardown import TeardownReport, tear_down
from hedgeserve.spec.loader import parse_spec
from hedgeserve.spec.service_spec import ServiceSpec

log = logging.getLogger("hedgeserve.control")

# (spec, folder, wakeup, fresh) -> provider; `fresh` is a new run (not a restart).
ProviderFactory = Callable[[ServiceSpec, ServiceDir, Wakeup, bool], Provider]
GATEWAY_CHECK_S = 2.0


@dataclass(frozen=True, slots=True)
class LaunchedSpec:
    spec: ServiceSpec
    text: str  # the spec file as `hedge up` copied it into the folder
    spec_dir: str  # where it came from ("" if unknown): relative paths resolve there
    spec_path: str


def load_launch_spec(folder: ServiceDir) -> LaunchedSpec:
    """The spec `hedge up` copied into the folder, with relative paths resolved as in its
    original place."""
    launch = read_json(folder.launch_file) or {}
    text = folder.spec_copy.read_text()
    spec_dir, spec_path = str(launch.get("spec_dir", "")), str(launch.get("spec_path", ""))
    spec = parse_spec(text, source=spec_path or str(folder.spec_copy),
                      base_dir=Path(spec_dir or folder.root))
    return LaunchedSpec(spec, text, spec_dir, spec_path)


async def serve_service(folder: ServiceDir, *, make_provider: ProviderFactory) -> int:
    try:
        store = Store.writer(folder.db, folder.writer_lock)
    except StoreBusy:
        log.error("another controller already runs service %s", folder.name)
        return 1
    try:
        return await _Controller(folder, store, make_provider).run()
    finally:
        store.close()


class _Controller:
    def __init__(self, folder: ServiceDir, store: Store, make_provider: ProviderFactory) -> None:
        self.folder = folder
        self.store = store
        self.make_provider = make_provider
        self.stop = asyncio.Event()
        self.down_requested = False
        self.down_done: asyncio.Future[TeardownReport] | None = None

    async def run(self) -> int:
        folder, store = self.folder, self.store
        launched = load_launch_spec(folder)
        spec = launched.spec
        previous = store.service()
        fresh = previous is None or previous.status in (ServiceStatus.DOWN, ServiceStatus.FAILED)
        now = time.time()
        store.create_service(ServiceRecord(
            name=folder.name, status=ServiceStatus.STARTING, spec_text=launched.text,
            spec_dir=launched.spec_dir, spec_path=launched.spec_path,
            created_at=now, updated_at=now,
        ))  # fmt: skip
        me = ProcessIdentity.of(os.getpid())
        fields: dict[str, Any] = {"controller_pid": me.pid, "controller_started": me.started}
        if fresh:  # a new run: the policy and autoscaler start over
            fields.update(policy_state=None, autoscaler_state=None, failure=None)
        what = "started" if fresh else "restarted (continuing the previous run)"
        started = EventRecord(now, EventKind.SERVICE, f"controller {what}, pid {me.pid}")
        store.commit(events=[started], service=fields)
        self.down_done = asyncio.get_running_loop().create_future()
        wakeup = Wakeup()
        provider = self.make_provider(spec, folder, wakeup, fresh)
        await provider.start()
        folder.token(folder.gateway_token_file)
        gateway = GatewayProcess(spec=spec, token_file=folder.gateway_token_file,
                                 log_file=folder.gateway_log)
        prober = HttpProber(spec.probe, wakeup=wakeup)
        api: ControlApi | None = None
        try:
            await self._gateway_up(gateway, None if previous is None else previous.gateway)
            accelerators = [a.name for c in spec.candidates for a in c.accelerators]
            reconciler = Reconciler(
                store=store, provider=provider, prober=prober, policy=build_policy(spec.policy),
                autoscaler=build_autoscaler(spec.policy, accelerators), timings=spec.probe.timings,
                clock=WallClock(), wakeup=wakeup, gateway=gateway,
                settings=LoopSettings(tick_s=spec.controller.tick_seconds,
                                      grace_s=spec.controller.grace_seconds),
            )  # fmt: skip
            await reconciler.recover()
            api = self._api(me.pid, wakeup)
            port = await api.start()
            write_json(folder.control_file, {"pid": me.pid, "started": me.started, "port": port})
            store.commit(service={"api_port": port})
            self._on_signals(wakeup)
            watchdog = asyncio.get_running_loop().create_task(
                self._watch_gateway(gateway, reconciler))
            try:
                await reconciler.run(self.stop)
            finally:
                watchdog.cancel()
                await asyncio.gather(watchdog, return_exceptions=True)
            if self.down_requested:
                report = await tear_down(store, provider, gateway=gateway.record,
                                         grace_s=reconciler.settings.grace_s)
                self.down_done.set_result(report)
                return 0 if report.ok else 1
            store.commit(events=[EventRecord(time.time(), EventKind.SERVICE,
                                             "controller stopped; replicas keep serving")])
            return 0
        except GatewayError as err:
            store.commit(
                events=[EventRecord(time.time(), EventKind.SERVICE, f"gateway failed: {err}")],
                service={"status": ServiceStatus.FAILED, "failure": f"gateway: {err}"},
            )
            log.error("gateway failed: %s", err)
            return 1
        finally:
            if self.down_done is not None and not self.down_done.done():
                self.down_done.cancel()
            if api is not None:
                await api.stop()
            with contextlib.suppress(FileNotFoundError):
                folder.control_file.unlink()
            await prober.close()
            await provider.close()
            await gateway.close()

    async def _gateway_up(self, gateway: GatewayProcess, stored: GatewayRecord | None) -> None:
        adopted = await gateway.adopt_or_start(stored or GatewayRecord(None, None, None, None,
                                                                       None))
        r = gateway.record
        what = "adopted" if adopted else "started"
        self.store.commit(
            events=[EventRecord(time.time(), EventKind.GATEWAY,
                                f"gateway {what}: pid {r.pid}, endpoint {r.endpoint}")],
            service={"gateway_pid": r.pid, "gateway_started": r.pid_started,
                     "gateway_port": r.port, "gateway_admin_port": r.admin_port,
                     "endpoint": r.endpoint},
        )  # fmt: skip

    async def _watch_gateway(self, gateway: GatewayProcess, reconciler: Reconciler) -> None:
        """A gateway that died is started again on the same port (the endpoint stays)."""
        while True:
            await asyncio.sleep(GATEWAY_CHECK_S)
            if not gateway.is_alive() and not self.stop.is_set():
                log.warning("the gateway process is gone; starting a new one")
                try:
                    await self._gateway_up(gateway, gateway.record)
                except GatewayError as err:
                    log.error("cannot restart the gateway: %s", err)
                else:
                    reconciler.gateway_replaced()

    def _api(self, pid: int, wakeup: Wakeup) -> ControlApi:
        store, folder = self.store, self.folder

        def status() -> dict[str, Any]:
            service = store.service()
            if service is None:
                raise RuntimeError("service row vanished")
            return status_document(service, store.live_replicas(), now=time.time(),
                                   controller_alive=True)

        async def down() -> dict[str, Any]:
            if self.down_done is None:
                raise RuntimeError("controller not running")
            self.down_requested = True
            self.stop.set()
            wakeup.set()
            return (await asyncio.shield(self.down_done)).as_dict()

        return ControlApi(
            name=folder.name, pid=pid, token=folder.token(folder.control_token_file),
            status=status, events=lambda after, limit: store.events(after=after, limit=limit),
            last_events=store.last_events, down=down,
        )  # fmt: skip

    def _on_signals(self, wakeup: Wakeup) -> None:
        def stop() -> None:
            self.stop.set()
            wakeup.set()

        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop)

