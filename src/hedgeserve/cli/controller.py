"""`hedge controller STATE_DIR` (hidden): the controller process of one service.

`hedge up` starts it in its own session with stdout/stderr appended to `logs/controller.log`;
people use `hedge up` / `hedge down` instead. It builds the provider from the spec (this is the
one place that joins `control` and `providers`) and runs `control.runtime.serve_service`.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Annotated

import typer


def controller(
    state_dir: Annotated[Path, typer.Argument(help="The service folder.", show_default=False)],
    log_level: Annotated[str, typer.Option(help="Python log level.")] = "INFO",
) -> None:
    """(internal) Run one service's controller; `hedge up` starts it."""
    from hedgeserve.cli.log_setup import setup_logging
    from hedgeserve.control.clock import Wakeup
    from hedgeserve.control.provider import Provider
    from hedgeserve.control.runtime import serve_service
    from hedgeserve.control.state_dir import ServiceDir
    from hedgeserve.errors import InputError
    from hedgeserve.providers.factory import build_provider
    from hedgeserve.spec.service_spec import ServiceSpec

    setup_logging(log_level)
    folder = ServiceDir(state_dir)
    if not folder.spec_copy.exists():
        raise InputError("not a service folder (no spec.yaml)", where=str(state_dir),
                         fix="start services with `hedge up SPEC.yaml`")

    def make_provider(spec: ServiceSpec, folder: ServiceDir, wakeup: Wakeup,
                      fresh: bool) -> Provider:
        return build_provider(spec, folder, wakeup=wakeup, environ=os.environ, fresh=fresh)

    code = asyncio.run(serve_service(folder, make_provider=make_provider))
    raise typer.Exit(code)
