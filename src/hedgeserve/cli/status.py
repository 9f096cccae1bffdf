"""`hedge status [NAME] [--json]`: a service's status, endpoint, cost and replica table.

Without a name: one line per service in `$HEDGE_HOME`. With `--json`, exactly
{"name", "status", "endpoint", "cost_per_hour", "on_demand_cost_per_hour",
 "replicas": [{"id", "zone", "spot", "state", "pid", "url"}]} (a list of those without a name).
Works with the controller down too (status `controller_down`, read from the store).
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer


def status(
    name: Annotated[str | None, typer.Argument(help="The service name [default: all].",
                                               show_default=False)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show a service's status and replicas (or all services), with its $/h vs on-demand."""
    from hedgeserve.cli.control_client import status_of
    from hedgeserve.control.state_dir import existing, list_services
    from hedgeserve.control.status import public_view

    if name is None:
        docs = [status_of(folder) for folder in list_services()]
        if as_json:
            print(json.dumps([public_view(d) for d in docs], indent=2))
        else:
            _print_services(docs)
        return
    doc = status_of(existing(name))
    if as_json:
        print(json.dumps(public_view(doc), indent=2))
        return
    _print_service(doc)


def _print_services(docs: list[dict[str, Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    if not docs:
        print("no services (start one with `hedge up SPEC.yaml`)")
        return
    table = Table(box=None, padding=(0, 2, 0, 0))
    for col in ("NAME", "STATUS", "READY", "ENDPOINT", "$/h", "ON-DEMAND $/h"):
        table.add_column(col)
    for d in docs:
        details = d.get("details", {})
        table.add_row(d["name"], d["status"], f"{details.get('ready', 0)}/"
                      f"{details.get('target', 0)}", d["endpoint"] or "-",
                      f"{d['cost_per_hour']:.2f}", f"{d['on_demand_cost_per_hour']:.2f}")
    Console(highlight=False, width=200).print(table)


def _print_service(doc: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    details = doc["details"]
    console = Console(highlight=False, width=200)
    saving = ""
    if doc["on_demand_cost_per_hour"] > 0:
        ratio = 1 - doc["cost_per_hour"] / doc["on_demand_cost_per_hour"]
        saving = (f" ({ratio:.0%} cheaper)" if ratio >= 0
                  else f" ({-ratio:.0%} dearer: on-demand fallback is running)")
    console.print(f"service {doc['name']}: {doc['status']}, {details['ready']}/"
                  f"{details['target']} ready, endpoint {doc['endpoint'] or '-'}")
    console.print(f"cost ${doc['cost_per_hour']:.2f}/h; all on-demand "
                  f"${doc['on_demand_cost_per_hour']:.2f}/h{saving}")
    if details.get("failure"):
        console.print(f"[red]failed:[/red] {details['failure']}")
    if not doc["replicas"]:
        return
    extra = {r["id"]: r for r in details["replicas"]}
    table = Table(box=None, padding=(0, 2, 0, 0))
    for col in ("ID", "ZONE", "KIND", "STATE", "AGE", "$/h", "PID", "URL"):
        table.add_column(col)
    for r in doc["replicas"]:
        more = extra.get(r["id"], {})
        table.add_row(str(r["id"]), r["zone"], "spot" if r["spot"] else "on-demand",
                      r["state"], _age(more.get("age_s", 0.0)),
                      f"{more.get('price_per_hour', 0.0):.2f}", str(r["pid"] or "-"),
                      r["url"] or "-")
    console.print(table)


def _age(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f}s"
    if seconds < 7200:
        return f"{seconds / 60:.0f}m"
    return f"{seconds / 3600:.1f}h"
