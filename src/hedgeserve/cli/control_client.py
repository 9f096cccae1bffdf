"""How the service commands (`up`, `status`, `logs`, `down`, `events`) reach a service: its
controller's control API when one runs, its store (read-only) when none does.

A controller counts as running only if the pid in `control.json` is still the process that
wrote it (same start time), so a stale file after a crash is never trusted.
"""

from __future__ import annotations

import json
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from hedgeserve.control.process_identity import ProcessIdentity
from hedgeserve.control.state_dir import ServiceDir, read_json
from hedgeserve.control.status import status_document
from hedgeserve.control.store import Store
from hedgeserve.errors import InputError


class ControllerUnreachable(Exception):
    """The controller process runs but its API did not answer."""


@dataclass(frozen=True, slots=True)
class RunningController:
    identity: ProcessIdentity
    port: int

    @property
    def pid(self) -> int:
        return self.identity.pid


def running_controller(folder: ServiceDir) -> RunningController | None:
    data = read_json(folder.control_file)
    if data is None:
        return None
    pid, port, started = data.get("pid"), data.get("port"), data.get("started")
    if not isinstance(pid, int) or not isinstance(port, int):
        return None
    identity = ProcessIdentity(pid, started if isinstance(started, str) else None)
    return RunningController(identity, port) if identity.is_alive() else None


def call(folder: ServiceDir, controller: RunningController, method: str, path: str,
         *, timeout_s: float = 10.0) -> Any:
    token = folder.control_token_file.read_text().strip()
    request = urllib.request.Request(
        f"http://127.0.0.1:{controller.port}{path}", method=method,
        headers={"Authorization": f"Bearer {token}"}, data=b"" if method == "POST" else None,
    )  # fmt: skip
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as resp:
            return json.loads(resp.read())
    except (urllib.error.URLError, TimeoutError, ConnectionError, ValueError) as err:
        raise ControllerUnreachable(f"{path}: {err}") from err


def status_of(folder: ServiceDir) -> dict[str, Any]:
    """The status document, from the controller if it answers, else from the store."""
    controller = running_controller(folder)
    if controller is not None:
        try:
            return call(folder, controller, "GET", "/status")  # type: ignore[no-any-return]
        except ControllerUnreachable:
            pass
    store = Store.reader(folder.db)
    try:
        service = store.service()
        if service is None:
            raise InputError("the service folder holds no service", where=str(folder.root))
        return status_document(service, store.live_replicas(), now=time.time(),
                               controller_alive=controller is not None)
    finally:
        store.close()


def wait_for_controller(
    folder: ServiceDir, process: subprocess.Popen[bytes], timeout_s: float
) -> RunningController | None:
    """The controller we started, once its API answers; None if it exits or does not answer
    within `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        controller = running_controller(folder)
        if controller is not None and controller.pid == process.pid:
            try:
                call(folder, controller, "GET", "/status", timeout_s=2.0)
                return controller
            except ControllerUnreachable:
                pass
        if process.poll() is not None:
            return None
        time.sleep(0.1)
    return None
