"""`hedge up SPEC.yaml`: start a service — a controller process, which starts the gateway and
the replicas — print its endpoint, and follow it while replicas come up.

Everything a spec can get wrong (the file, its schema, an unset env, a trace or zone that does
not resolve, an unsupported provider) is checked here first and reported as one line, exit 2.
The controller then runs in its own session (`hedge controller`, logs in the service folder),
so a Ctrl-C here reaches only this process:
- without `--detach`, this command stays in the foreground, prints the timeline as it happens,
  and Ctrl-C tears the whole service down (`hedge down`) before exiting;
- with `--detach`, it waits until the service is ready (at most `--timeout` seconds) and leaves
  it running.
Running `hedge up` for a service whose controller died (crash, kill -9) starts a new controller
that adopts the running replicas and gateway.

A controller that exits or stops answering its API (hung, or stopped with SIGSTOP) is one line
on stderr, never a traceback. In the foreground (and before the endpoint was printed) the
service is then torn down without it, as `hedge down` does — the controller is killed and the
replicas and gateway stopped from the store — and the exit status is 1; once `--detach` has
printed the endpoint, the service is left running (`hedge down` stops it).
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from hedgeserve.cli.control_client import RunningController
    from hedgeserve.control.state_dir import ServiceDir
    from hedgeserve.spec.service_spec import ServiceSpec

_NAME = re.compile(r"^[a-zA-Z]([-_.a-zA-Z0-9]{0,61}[a-zA-Z0-9])?$")
CONTROLLER_START_S = 60.0


def up(
    spec_file: Annotated[Path, typer.Argument(help="The service spec (YAML).",
                                              metavar="SPEC.yaml", show_default=False)],
    name: Annotated[str | None, typer.Option(
        "--name", "-n", help="Service name [default: the spec's name, else the file name].",
        show_default=False)] = None,
    detach: Annotated[bool, typer.Option(
        "--detach", "-d", help="Return once the service is ready; leave it running.")] = False,
    timeout: Annotated[float, typer.Option(
        help="With --detach: seconds to wait for readiness (0: do not wait).")] = 300.0,
) -> None:
    """Start a service: controller, gateway and replicas; print the endpoint and progress."""
    from hedgeserve.cli.control_client import (
        ControllerUnreachable,
        call,
        running_controller,
        wait_for_controller,
    )
    from hedgeserve.cli.events import format_event
    from hedgeserve.control.state_dir import ServiceDir, write_json
    from hedgeserve.errors import InputError
    from hedgeserve.providers.factory import plan_zones
    from hedgeserve.spec import load_spec

    if timeout < 0:
        raise InputError("must be >= 0", where="--timeout")
    spec = load_spec(spec_file)
    service = name or spec.name or spec_file.stem
    if not _NAME.match(service):
        raise InputError(f"service name {service!r} is not allowed", where="--name",
                         fix="start with a letter; use letters, digits, '-', '_', '.'")
    spec.resolved_envs(os.environ)  # an env the spec leaves to us must be set now
    zones = plan_zones(spec)
    folder = ServiceDir.named(service)
    running = running_controller(folder)
    if running is not None:
        raise InputError(
            f"service {service!r} is already up (controller pid {running.pid})",
            fix=f"see `hedge status {service}`, or stop it with `hedge down {service}` first",
        )
    folder.create(target=Path(spec.controller.state_dir) if spec.controller.state_dir else None)
    folder.spec_copy.write_text(spec_file.read_text())
    write_json(folder.launch_file, {"spec_path": str(spec_file.resolve()),
                                    "spec_dir": str(spec_file.resolve().parent)})
    folder.token(folder.control_token_file)
    for note in spec.warnings():
        print(f"hedge up: warning: {note}", file=sys.stderr)
    print(f"hedge up: {service}: {spec.policy.label}, {_replicas(spec)} over "
          f"{len(zones.offers)} zone(s); state in {folder.root}")

    process = _spawn_controller(folder)
    controller = wait_for_controller(folder, process, CONTROLLER_START_S)
    if controller is None:
        print(f"hedge up: the controller did not start; last lines of {folder.controller_log}:",
              file=sys.stderr)
        print(_tail(folder.controller_log), file=sys.stderr)
        if process.poll() is None:
            process.terminate()
        raise typer.Exit(1)
    try:
        doc = call(folder, controller, "GET", "/status")
    except ControllerUnreachable as err:
        _deaf(service, controller, err)
        _tear_down(folder, controller, process, ask=False)
        raise typer.Exit(1) from None
    print(f"endpoint: {doc['endpoint']}")
    if detach:
        try:
            ready = _wait_ready(folder, controller, timeout)
        except ControllerUnreachable as err:
            print(f"hedge up: the controller (pid {controller.pid}) does not answer ({err}); "
                  f"left running: see `hedge status {service}`, stop it with `hedge down "
                  f"{service}`", file=sys.stderr)
            raise typer.Exit(1) from None
        if ready:
            print(f"hedge up: ready; try: curl {doc['endpoint']}/v1/models")
        print(f"hedge up: running in the background (controller pid {controller.pid}); "
              f"stop it with `hedge down {service}`")
        raise typer.Exit(0 if ready or timeout == 0 else 1)

    last_seq = 0
    shown = ""
    failure_shown = False
    try:
        while True:
            try:
                doc = call(folder, controller, "GET", "/status")
                news = call(folder, controller, "GET", f"/events?after={last_seq}")["events"]
            except ControllerUnreachable as err:
                # In the foreground this command owns the service: whether the controller
                # died or hangs, nothing of the service may outlive it.
                if running_controller(folder) is None:
                    print(f"hedge up: the controller exited (see `hedge logs {service} "
                          f"--controller`); tearing {service} down without it",
                          file=sys.stderr)
                else:
                    _deaf(service, controller, err)
                _tear_down(folder, controller, process, ask=False)
                raise typer.Exit(1) from None
            for e in news:
                print(format_event(e))
                last_seq = e["seq"]
            line = progress(doc)
            if line != shown:
                print(line)
                shown = line
            if doc["status"] == "failed" and not failure_shown:
                print(f"hedge up: service failed: {doc['details']['failure']}; Ctrl-C tears "
                      "it down", file=sys.stderr)
                failure_shown = True
            time.sleep(0.5)
    except KeyboardInterrupt:
        print(f"\nhedge up: tearing down {service} (Ctrl-C again leaves it to the controller)")
    ok = _tear_down(folder, controller, process, ask=True)
    raise typer.Exit(0 if ok else 1)


def progress(doc: dict[str, Any]) -> str:
    """'2/3 ready (1 starting, 1 spot spare ...)' with the cost next to all on-demand."""
    states: dict[str, int] = {}
    for r in doc["replicas"]:
        states[r["state"]] = states.get(r["state"], 0) + 1
    spot = sum(r["spot"] for r in doc["replicas"])
    others = ", ".join(f"{n} {s}" for s, n in sorted(states.items()) if s != "ready")
    details = doc.get("details", {})
    return (f"[{doc['status']}] {states.get('ready', 0)}/{details.get('target', '?')} ready"
            f"{' (' + others + ')' if others else ''}; {spot} spot, "
            f"{len(doc['replicas']) - spot} on-demand; ${doc['cost_per_hour']:.2f}/h "
            f"(all on-demand: ${doc['on_demand_cost_per_hour']:.2f}/h)")


def _replicas(spec: ServiceSpec) -> str:
    policy = spec.policy
    text = (f"{policy.min_replicas} replica(s)" if not policy.is_autoscaling
            else f"{policy.min_replicas}-{policy.max_replicas} replicas")
    if policy.num_overprovision:
        text += f" +{policy.num_overprovision} spare"
    return text


def _spawn_controller(folder: ServiceDir) -> subprocess.Popen[bytes]:
    folder.logs.mkdir(parents=True, exist_ok=True)
    with folder.controller_log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "hedgeserve", "controller", str(folder.root)],
            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C here must not reach the controller
        )


def _wait_ready(folder: ServiceDir, controller: RunningController, timeout_s: float) -> bool:
    from hedgeserve.cli.control_client import call

    deadline = time.monotonic() + timeout_s
    shown = ""
    while True:
        doc = call(folder, controller, "GET", "/status")
        line = progress(doc)
        if line != shown:
            print(line)
            shown = line
        if doc["status"] == "ready":
            return True
        if doc["status"] == "failed":
            print(f"hedge up: service failed: {doc['details']['failure']}", file=sys.stderr)
            return False
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.3)


def _deaf(service: str, controller: RunningController, err: Exception) -> None:
    print(f"hedge up: the controller (pid {controller.pid}) stopped answering ({err}); "
          f"tearing {service} down without it", file=sys.stderr)


def _tear_down(folder: ServiceDir, controller: RunningController,
               process: subprocess.Popen[bytes], *, ask: bool) -> bool:
    """`hedge down`'s teardown (through the controller if `ask` and it answers, else from the
    store); True if no process of the service is left."""
    from hedgeserve.cli.down import tear_down_service

    report, left = tear_down_service(folder, controller, label="hedge up", ask=ask)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=30.0)  # reap our child, the controller
    n = len(report["terminated"])
    if left:
        print(f"hedge up: {n} replica(s) terminated, but still alive: {', '.join(left)}")
        return False
    print(f"hedge up: {n} replica(s) terminated; no process left")
    return True


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
