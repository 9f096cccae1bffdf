"""`hedge down NAME`: terminate every replica and the gateway, then check no process is left.

With a controller running, it is asked (control API) and exits after the teardown. Without one
(it crashed, or was killed), this command takes the store's writer lock and does the teardown
itself from the stored handles and the instances it finds by tag. Either way it ends by looking
for any process of the service — replicas by tag, the gateway and controller by pid and start
time — and exits 1, naming them, if one is still alive.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from hedgeserve.cli.control_client import RunningController
    from hedgeserve.control.state_dir import ServiceDir

DOWN_GRACE_S = 30.0


def down(
    name: Annotated[str, typer.Argument(help="The service name.", show_default=False)],
) -> None:
    """Stop a service: terminate every replica and the gateway; verify no process is left."""
    from hedgeserve.cli.control_client import ControllerUnreachable, call, running_controller
    from hedgeserve.control.state_dir import existing

    folder = existing(name)
    controller = running_controller(folder)
    report: dict[str, Any] | None = None
    if controller is not None:
        try:
            report = call(folder, controller, "POST", "/down", timeout_s=DOWN_GRACE_S + 60.0)
        except ControllerUnreachable as err:
            print(f"hedge down: the controller did not answer ({err}); stopping it")
        _stop_controller(controller)
    if report is None:
        report = asyncio.run(_down_without_controller(folder))
    left = leftovers(folder)
    terminated = len(report["terminated"])
    if left:
        print(f"hedge down: {name}: {terminated} replica(s) terminated, but processes are "
              f"still alive: {', '.join(left)}")
        raise typer.Exit(1)
    print(f"hedge down: {name}: {terminated} replica(s) terminated; no process left")


def leftovers(folder: ServiceDir) -> list[str]:
    """'role pid' for every process of the service still alive."""
    from hedgeserve.cli.control_client import running_controller
    from hedgeserve.control.process_identity import ProcessIdentity, tagged_processes
    from hedgeserve.control.store import Store
    from hedgeserve.providers.factory import instance_tag
    from hedgeserve.providers.local import TAG_VAR

    left = [f"replica {env.get('HEDGE_REPLICA_ID', '?')} pid {pid}"
            for pid, env in tagged_processes(TAG_VAR, instance_tag(folder))]
    store = Store.reader(folder.db)
    try:
        service = store.service()
    finally:
        store.close()
    gateway = None if service is None else service.gateway
    if (gateway is not None and gateway.pid is not None
            and ProcessIdentity(gateway.pid, gateway.pid_started).is_alive()):
        left.append(f"gateway pid {gateway.pid}")
    controller = running_controller(folder)
    if controller is not None:
        left.append(f"controller pid {controller.pid}")
    return left


def _stop_controller(controller: RunningController, timeout_s: float = 15.0) -> None:
    """Wait for the controller to exit after a teardown; SIGTERM, then SIGKILL if it lingers."""
    import signal

    from hedgeserve.control.process_identity import signal_group

    deadline = time.monotonic() + timeout_s
    sent = False
    while controller.identity.is_alive():
        if time.monotonic() >= deadline:
            signal_group(controller.pid, signal.SIGKILL)
            return
        if not sent and time.monotonic() >= deadline - timeout_s / 2:
            signal_group(controller.pid, signal.SIGTERM)
            sent = True
        time.sleep(0.05)


async def _down_without_controller(folder: ServiceDir) -> dict[str, Any]:
    from hedgeserve.control.clock import Wakeup
    from hedgeserve.control.store import Store, StoreBusy
    from hedgeserve.control.teardown import tear_down
    from hedgeserve.errors import InputError
    from hedgeserve.providers.factory import instance_tag
    from hedgeserve.providers.local import LocalProvider

    try:
        store = Store.writer(folder.db, folder.writer_lock)
    except StoreBusy:
        raise InputError(
            "a controller holds the service's store but does not answer",
            where=str(folder.root), fix="wait a few seconds and run hedge down again",
        ) from None
    # Only terminate/instances are needed: no run command, no zones, no trace.
    provider = LocalProvider(tag=instance_tag(folder), run="true", env={}, log_dir=folder.logs,
                             zones=(), wakeup=Wakeup())
    try:
        service = store.service()
        report = await tear_down(store, provider, gateway=None if service is None
                                 else service.gateway, grace_s=DOWN_GRACE_S)
        return report.as_dict()
    finally:
        await provider.close()
        store.close()
