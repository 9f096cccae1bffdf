"""`gateway:` and `controller:` — how hedgeserve's own processes run for this service.

Kept small on purpose; each key has a default that works on one machine. The gateway binds
127.0.0.1 unless told otherwise, and port 0 means "pick a free port" (`hedge up` prints it).
API keys are never written in the spec: it names an environment variable or a file holding them.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import Field, ValidationInfo, field_validator

from hedgeserve.core.notice import DEFAULT_GRACE_S
from hedgeserve.spec.paths import resolve_path
from hedgeserve.spec.strict_model import (
    PositiveCount,
    PositiveSeconds,
    Seconds,
    StrictModel,
    rule_error,
)

DEFAULT_TICK_S = 2.0
DEFAULT_QUEUE_TIMEOUT_S = 30.0
DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class GatewayConfig(StrictModel):
    host: str = Field(default="127.0.0.1", description="an address to bind, e.g. 127.0.0.1")
    port: int = Field(
        default=0, ge=0, le=65535, strict=True, description="a port 0–65535 (0 = pick)"
    )
    api_keys_env: str | None = Field(
        default=None, description="the name of an environment variable holding comma-separated keys"
    )
    api_keys_file: str | None = Field(
        default=None, description="a path to a file with one key per line"
    )
    queue_timeout_seconds: Seconds = Field(
        default=DEFAULT_QUEUE_TIMEOUT_S,
        description="seconds a request may wait for a ready replica before a 503, ≥ 0",
    )
    max_body_bytes: PositiveCount = DEFAULT_MAX_BODY_BYTES

    @field_validator("host")
    @classmethod
    def _host(cls, host: str) -> str:
        if not host.strip() or " " in host:
            raise rule_error(f"host {host!r} is not an address", fix="use e.g. 127.0.0.1")
        return host.strip()

    @field_validator("api_keys_env")
    @classmethod
    def _env_name(cls, name: str | None) -> str | None:
        if name is not None and not _ENV_NAME.match(name):
            raise rule_error(
                f"{name!r} is not an environment variable name",
                fix="name the variable, e.g. HEDGE_API_KEYS (without $)",
            )
        return name

    @field_validator("api_keys_file", mode="before")
    @classmethod
    def _resolve(cls, value: Any, info: ValidationInfo) -> Any:
        return resolve_path(value, info)


class ControllerConfig(StrictModel):
    tick_seconds: PositiveSeconds = Field(
        default=DEFAULT_TICK_S, description="seconds between reconcile ticks, > 0"
    )
    grace_seconds: Seconds = Field(
        default=DEFAULT_GRACE_S,
        # a replica under a preemption notice serves until this long before its kill
        description="seconds a draining replica gets to finish in-flight requests, >= 0",
    )
    state_dir: str | None = Field(
        default=None,
        description="a folder for the state database and logs (default: chosen by hedge up)",
    )

    @field_validator("state_dir", mode="before")
    @classmethod
    def _resolve(cls, value: Any, info: ValidationInfo) -> Any:
        return resolve_path(value, info)
