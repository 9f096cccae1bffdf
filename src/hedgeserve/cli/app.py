"""Entry point of `hedge`: one Typer app, one subcommand per module.

Subcommand modules import their heavy dependencies (SciPy, matplotlib, aiohttp) inside the
command function, so `hedge --help` and the gateway stay light.

Error contract: an `InputError` (bad file, bad flag value, unknown name) prints one line to
stderr and exits with status 2; usage errors from Typer/Click also exit 2. No tracebacks for
user mistakes.
"""

from __future__ import annotations

import sys

import typer

from hedgeserve.cli.check import check
from hedgeserve.cli.controller import controller
from hedgeserve.cli.down import down
from hedgeserve.cli.engine import engine
from hedgeserve.cli.events import events
from hedgeserve.cli.gateway import gateway
from hedgeserve.cli.logs import logs
from hedgeserve.cli.plan import plan
from hedgeserve.cli.profile import profile
from hedgeserve.cli.simulate import simulate
from hedgeserve.cli.status import status
from hedgeserve.cli.up import up
from hedgeserve.errors import InputError

app = typer.Typer(
    name="hedge",
    help="hedgeserve: serve models on spot + on-demand replicas across zones, regions and clouds.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# Subcommands, in the order `hedge --help` lists them: running a service first, then the
# tools around it.
app.command("up")(up)
app.command("status")(status)
app.command("events")(events)
app.command("logs")(logs)
app.command("down")(down)
app.command("check")(check)
app.command("simulate")(simulate)
app.command("plan")(plan)
app.command("profile")(profile)
app.command("gateway")(gateway)
app.command("engine")(engine)
app.command("controller", hidden=True)(controller)


def main() -> None:
    try:
        app()
    except InputError as err:
        print(f"hedge: error: {err.one_line()}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)
