"""`hedge down NAME`: terminate every replica and the gateway, then check no process is left.

With a controller running, it is asked (control API) and exits after the teardown. Without one
(it crashed, or was killed), or with one that does not answer (hung, stopped: it is killed
first), this command takes the store's writer lock and does the teardown itself from the stored
handles and the instances it finds by tag. Either way it ends by looking for any process of the
service — replicas by tag, the gateway and controller by pid and start time — and exits 1,
naming them, if one is still alive. `hedge up` tears down through `tear_down_service` too.
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
DEAF_CONTROLLER_KILL_S = 5.0  # SIGTERM to SIGKILL for a controller that did not answer


def down(
    name: Annotated[str, typer.Argument(help="The service name.", show_default=False)],
) -> None:
    """Stop a service: terminate every replica and the gateway; verify no process is left."""
    from hedgeserve.cli.control_client import running_controller
    from hedgeserve.control.state_dir import existing

    folder = existing(name)
    report, left = tear_down_service(folder, running_controller(folder), label="hedge down")
    terminated = len(report["terminated"])
    if left:
        print(f"hedge down: {name}: {terminated} replica(s) terminated, but processes are "
              f"still alive: {', '.join(left)}")
        raise typer.Exit(1)
    print(f"hedge down: {name}: {terminated} replica(s) terminated; no process left")


def tear_down_service(folder: ServiceDir, controller: RunningController | None, *, label: str,
                      ask: bool = True) -> tuple[dict[str, Any], list[str]]:
    """Terminate every replica and the gateway; returns (the teardown report, what is still
    alive). Through the controller when one runs and answers (`ask`); otherwise the controller,
    if any, is stopped and the teardown done here from the store."""
    from hedgeserve.cli.control_client import ControllerUnreachable, call

    report: dict[str, Any] | None = None
    if controller is not None:
        if ask:
            try:
                report = call(folder, controller, "POST", "/down",
                              timeout_s=DOWN_GRACE_S + 60.0)
            except ControllerUnreachable as err:
                print(f"{label}: the controller did not answer ({err}); stopping it")
        _stop_controller(controller, answered=report is not None)
    if report is None:
        report = asyncio.run(_down_without_controller(folder))
    return report, leftovers(folder)


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


def _stop_controller(controller: RunningController, *, answered: bool) -> None:
    """Wait for the controller to exit after a teardown it did (`answered`); SIGTERM, then
    SIGKILL if it lingers. One that did not answer gets SIGTERM at once: it may be hung or
    stopped (SIGSTOP), and only SIGKILL ends a stopped process."""
    import signal

    from hedgeserve.control.process_identity import signal_group

    timeout_s = 15.0 if answered else DEAF_CONTROLLER_KILL_S
    deadline = time.monotonic() + timeout_s
    if not answered and controller.identity.is_alive():  # never signal a reused pid
        signal_group(controller.pid, signal.SIGTERM)
    sent = not answered
    while controller.identity.is_alive():
        if time.monotonic() >= deadline:
            signal_group(controller.pid, signal.SIGKILL)
            # Its writer lock is free only once it is gone; the teardown needs that lock.
            for _ in range(100):
                if not controller.identity.is_alive():
                    break
                time.sleep(0.05)
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
