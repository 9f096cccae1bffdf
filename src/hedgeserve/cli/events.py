"""`hedge events NAME`: the service's timeline — launches (with the policy's reason, so on-demand
fallback shows as such), preemption notices and preemptions, readiness changes, zone-set
changes, terminations, controller restarts and recoveries.

Read from the controller's API when it runs, else straight from the store (read-only).
"""

from __future__ import annotations

import json
import time
from typing import Annotated, Any

import typer


def format_event(e: dict[str, Any]) -> str:
    """One timeline line: local time, kind, replica, spot/on-demand, zone, detail."""
    clock = time.strftime("%H:%M:%S", time.localtime(e["at"]))
    replica = f"r{e['replica']}" if e.get("replica") is not None else "-"
    kind = {True: "spot", False: "on-demand", None: ""}[e.get("spot")]
    zone = e.get("zone") or ""
    return f"{clock}  {e['kind']:<17} {replica:>5}  {kind:<9} {zone:<30} {e['detail']}".rstrip()


def events(
    name: Annotated[str, typer.Argument(help="The service name.", show_default=False)],
    last: Annotated[int, typer.Option("--last", "-n", help="Show only the last N events.")] = 200,
    as_json: Annotated[bool, typer.Option("--json", help="Print the events as JSON.")] = False,
) -> None:
    """Show a service's timeline: launches, preemptions, fallbacks, readiness, terminations."""
    from hedgeserve.cli.control_client import (
        ControllerUnreachable,
        call,
        running_controller,
    )
    from hedgeserve.control.api import event_dict
    from hedgeserve.control.state_dir import existing
    from hedgeserve.control.store import Store
    from hedgeserve.errors import InputError

    if last < 1:
        raise InputError("must be at least 1", where="--last")
    folder = existing(name)
    rows: list[dict[str, Any]] | None = None
    controller = running_controller(folder)
    if controller is not None:
        try:
            rows = call(folder, controller, "GET", f"/events?last={last}")["events"]
        except ControllerUnreachable:
            rows = None
    if rows is None:  # no controller: the store is safe to read while nobody writes
        store = Store.reader(folder.db)
        try:
            rows = [event_dict(e) for e in store.last_events(last)]
        finally:
            store.close()
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    for row in rows:
        print(format_event(row))
