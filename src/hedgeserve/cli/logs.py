"""`hedge logs NAME [--replica ID | --controller | --gateway] [--follow]`: print a log file of
the service (the controller's by default), optionally following it as it grows (Ctrl-C stops).
Replica logs hold the run command's stdout and stderr; they stay after the replica ends.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated

import typer


def logs(
    name: Annotated[str, typer.Argument(help="The service name.", show_default=False)],
    replica: Annotated[int | None, typer.Option(help="A replica's log (its id).",
                                                show_default=False)] = None,
    controller: Annotated[bool, typer.Option("--controller",
                                             help="The controller's log (default).")] = False,
    gateway: Annotated[bool, typer.Option("--gateway", help="The gateway's log.")] = False,
    follow: Annotated[bool, typer.Option("--follow", "-f", help="Keep printing new lines.")]
    = False,
    tail: Annotated[int, typer.Option(help="Print only the last N lines first (0: all).")] = 0,
) -> None:
    """Print a service's logs: controller (default), gateway, or one replica."""
    from hedgeserve.control.state_dir import existing
    from hedgeserve.errors import InputError

    if sum([replica is not None, controller, gateway]) > 1:
        raise InputError("choose one of --replica, --controller, --gateway",
                         where="hedge logs")
    if tail < 0:
        raise InputError("must be >= 0", where="--tail")
    folder = existing(name)
    if replica is not None:
        path = folder.replica_log(replica)
        if not path.exists():
            known = sorted(int(p.stem.split("-", 1)[1]) for p in folder.logs.glob("replica-*.log"))
            raise InputError(f"no log for replica {replica}", where="--replica",
                             fix=f"replicas with logs: {', '.join(map(str, known)) or 'none'}")
    else:
        path = folder.gateway_log if gateway else folder.controller_log
    _print(path, tail=tail, follow=follow)


def _print(path: Path, *, tail: int, follow: bool) -> None:
    out = sys.stdout
    try:
        with path.open("r", errors="replace") as fh:
            lines = fh.readlines()
            out.writelines(lines[-tail:] if tail else lines)
            out.flush()
            while follow:
                chunk = fh.read()
                if chunk:
                    out.write(chunk)
                    out.flush()
                else:
                    time.sleep(0.2)
    except FileNotFoundError:
        print(f"(no log yet at {path})")
    except KeyboardInterrupt:
        return
