"""Where a service keeps its files: `$HEDGE_HOME/<name>/` (default `~/.hedgeserve/<name>/`).

    state.db         SQLite (WAL): service, replicas, policy state, events timeline
    writer.lock      flock held by the one process allowed to write state.db
    control.json     the running controller: {"pid", "started", "port"}
    control.token    bearer token of the control API (0600)
    gateway.token    admin token of the gateway (0600); kept so a restarted controller can
                     still talk to a gateway that outlived it
    spec.yaml        the spec text `hedge up` was given, and launch.json with its path/folder
    emulator.json    the spot emulator's epoch, so trace time continues across restarts
    logs/            controller.log, gateway.log, replica-<id>.log

A spec's `controller.state_dir` moves the folder elsewhere; `$HEDGE_HOME/<name>` is then a
symlink to it, so every command still finds the service by name.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from hedgeserve.errors import InputError

HOME_ENV = "HEDGE_HOME"


def hedge_home() -> Path:
    return Path(os.environ.get(HOME_ENV) or "~/.hedgeserve").expanduser()


@dataclass(frozen=True, slots=True)
class ServiceDir:
    root: Path

    @classmethod
    def named(cls, name: str) -> ServiceDir:
        return cls(hedge_home() / name)

    @property
    def name(self) -> str:
        return self.root.name

    @property
    def db(self) -> Path:
        return self.root / "state.db"

    @property
    def writer_lock(self) -> Path:
        return self.root / "writer.lock"

    @property
    def control_file(self) -> Path:
        return self.root / "control.json"

    @property
    def control_token_file(self) -> Path:
        return self.root / "control.token"

    @property
    def gateway_token_file(self) -> Path:
        return self.root / "gateway.token"

    @property
    def spec_copy(self) -> Path:
        return self.root / "spec.yaml"

    @property
    def launch_file(self) -> Path:
        return self.root / "launch.json"

    @property
    def emulator_file(self) -> Path:
        return self.root / "emulator.json"

    @property
    def emulator_notices_file(self) -> Path:
        """Preemption notices the spot emulator has given (replica -> kill deadline)."""
        return self.root / "emulator-notices.json"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def controller_log(self) -> Path:
        return self.logs / "controller.log"

    @property
    def gateway_log(self) -> Path:
        return self.logs / "gateway.log"

    def replica_log(self, replica_id: int) -> Path:
        return self.logs / f"replica-{replica_id}.log"

    def exists(self) -> bool:
        return self.db.exists()

    def create(self, *, target: Path | None = None) -> None:
        """Make the folder (at `target`, linked from the home folder, when given); a folder
        that cannot be made ($HEDGE_HOME under a file, no permission) is an `InputError`."""
        try:
            if target is not None and not self.root.exists():
                target.mkdir(parents=True, exist_ok=True)
                self.root.parent.mkdir(parents=True, exist_ok=True)
                self.root.symlink_to(target.resolve(), target_is_directory=True)
            self.root.mkdir(parents=True, exist_ok=True)
            # The spec copy may hold secrets and the folder holds tokens: owner only.
            os.chmod(self.root, 0o700)
            self.logs.mkdir(exist_ok=True)
        except OSError as err:
            where = f"{err.filename}" if err.filename else str(self.root)
            raise InputError(
                f"cannot create the service folder: {err.strerror}", where=where,
                fix=f"set ${HOME_ENV} (or the spec's controller.state_dir) to a folder you "
                "can write",
            ) from None

    def token(self, path: Path) -> str:
        """The token in `path`, created (0600, random) on first use."""
        if not path.exists():
            write_private(path, secrets.token_urlsafe(32) + "\n")
        return path.read_text().strip()


def read_json(path: Path) -> dict[str, object] | None:
    """The JSON object in `path`; None if it is missing, unreadable or not an object."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def write_private(path: Path, text: str) -> None:
    """Write a file only its owner can read, atomically (a reader never sees half a token)."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def write_json(path: Path, data: dict[str, object]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    os.replace(tmp, path)


def list_services() -> list[ServiceDir]:
    home = hedge_home()
    if not home.is_dir():
        return []
    return sorted(
        (ServiceDir(p) for p in home.iterdir() if (p / "state.db").exists()),
        key=lambda d: d.name,
    )


def existing(name: str) -> ServiceDir:
    """The folder of service `name`; InputError naming the known services when there is none."""
    folder = ServiceDir.named(name)
    if not folder.exists():
        known = ", ".join(d.name for d in list_services()) or "none"
        raise InputError(
            f"no service named {name!r} (known: {known})",
            where=str(hedge_home()),
            fix="check the name with `hedge status`, or start it with `hedge up SPEC.yaml`",
        )
    return folder
