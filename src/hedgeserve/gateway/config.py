"""`GatewayConfig`: everything one gateway process needs, checked once when it is built.

Secrets (API keys, the admin token) are plain values here; the CLI reads them from the
environment or files (`auth.py`) so the controller can pass them without a command line that
`ps` would show.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from hedgeserve.errors import InputError
from hedgeserve.gateway.replica_spec import ReplicaSpec, normalise_url
from hedgeserve.gateway.routing import make_policy

MiB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class GatewayConfig:
    host: str = "127.0.0.1"
    port: int = 8000  # 0 picks a free port; `Gateway.port` tells which
    replicas: tuple[ReplicaSpec, ...] = ()
    policy: str = "least_load"  # spec key load_balancing_policy
    api_keys: tuple[str, ...] = ()  # empty: no client auth
    tls_cert: Path | None = None
    tls_key: Path | None = None
    # Admin API (replica set, stats, /metrics) on its own loopback port; None: no admin API.
    admin_host: str = "127.0.0.1"
    admin_port: int | None = None
    admin_token: str | None = None
    # Pull mode: poll this URL for the replica set, keep the last good answer on failure.
    pull_url: str | None = None
    pull_interval_s: float = 2.0
    pull_timeout_s: float = 1.0
    # Data path.
    queue_timeout_s: float = 10.0  # hold requests this long when no replica is ready
    retry_after_s: int = 2  # Retry-After on the 503 that follows
    max_queued: int = 1024  # beyond this many waiting requests, 503 at once
    max_body_bytes: int = 8 * MiB  # request bodies are kept in memory for retries
    connect_timeout_s: float = 3.0
    first_byte_timeout_s: float = 600.0  # a non-streamed generation sends nothing until done
    idle_timeout_s: float = 120.0  # longest silence inside a started response body
    max_attempts: int = 3  # upstream attempts per request, first one included
    backoff_base_s: float = 0.01
    backoff_cap_s: float = 0.5
    # Probing suspect replicas: any status < 500 on GET probe_path clears the mark.
    probe_path: str = "/health"
    probe_timeout_s: float = 2.0
    probe_interval_s: float = 0.2  # first probe after this, then doubling ...
    probe_interval_cap_s: float = 5.0  # ... up to this
    shutdown_timeout_s: float = 30.0  # let in-flight requests finish on SIGTERM
    seed: int | None = None  # routing randomness; None: from the OS

    def __post_init__(self) -> None:
        self.check()

    def check(self) -> None:
        """Raise InputError for values the gateway cannot run with."""
        make_policy(self.policy)
        for name in ("port",) + (("admin_port",) if self.admin_port is not None else ()):
            value = getattr(self, name)
            if not 0 <= value <= 65535:
                flag = "--" + name.replace("_", "-")
                raise InputError(f"{name} {value} is out of range", where=flag)
        if self.admin_port is not None and not self.admin_token:
            raise InputError(
                "the admin API needs a token",
                where="--admin-port",
                fix="set HEDGE_GATEWAY_ADMIN_TOKEN or pass --admin-token-file",
            )
        if (self.tls_cert is None) != (self.tls_key is None):
            raise InputError("TLS needs both a certificate and a key", where="--tls-cert/--tls-key")
        positive = (
            "queue_timeout_s", "connect_timeout_s", "first_byte_timeout_s", "idle_timeout_s",
            "pull_interval_s", "pull_timeout_s", "probe_timeout_s", "probe_interval_s",
            "probe_interval_cap_s",
        )  # fmt: skip
        for name in positive:
            if not getattr(self, name) > 0:
                raise InputError(f"{name} must be > 0, got {getattr(self, name)}", where=name)
        if self.max_body_bytes < 0:
            raise InputError("max_body_bytes must be >= 0", where="--max-body-bytes")
        if self.max_queued < 0:
            raise InputError("max_queued must be >= 0", where="--max-queued")
        if self.max_attempts < 1:
            raise InputError("max_attempts must be >= 1", where="--max-attempts")
        if self.retry_after_s < 0 or self.backoff_base_s < 0 or self.backoff_cap_s < 0:
            raise InputError("retry_after_s and backoff times must be >= 0", where="config")
        if not self.probe_path.startswith("/"):
            raise InputError("probe_path must start with /", where="--probe-path")
        if self.pull_url is not None:
            normalise_url(self.pull_url, where="--replicas-url")

    @property
    def is_tls(self) -> bool:
        return self.tls_cert is not None
