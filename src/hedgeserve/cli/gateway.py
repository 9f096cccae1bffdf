"""`hedge gateway`: run the load balancer in front of the service's replicas.

Parses flags into a `GatewayConfig` (secrets from the environment or files, never from the
command line) and hands it to `run_gateway`. Once both ports are bound it prints one line,
`hedge gateway: listening on URL[, admin on URL]`, to stdout, which a parent process (the
controller) can wait for when it asked for port 0.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from hedgeserve.errors import InputError

_ROUTING = "Routing and failures"
_SECURITY = "Security"
_ADMIN = "Replica set and admin API"


def gateway(
    port: Annotated[int, typer.Option(help="Public port (0 picks a free one).")] = 8000,
    host: Annotated[str, typer.Option(help="Public address to bind.")] = "127.0.0.1",
    replica: Annotated[list[str] | None, typer.Option(
        help="Replica base URL; repeat for several (ids 0, 1, ...).",
        rich_help_panel=_ADMIN)] = None,
    replicas_url: Annotated[str | None, typer.Option(
        help="Pull mode: poll this URL for the replica-set JSON.",
        rich_help_panel=_ADMIN)] = None,
    pull_interval: Annotated[float, typer.Option(
        help="Seconds between pulls.", rich_help_panel=_ADMIN)] = 2.0,
    pull_timeout: Annotated[float, typer.Option(
        help="Timeout of one pull; on failure the last good set stays.",
        rich_help_panel=_ADMIN)] = 1.0,
    admin_port: Annotated[int | None, typer.Option(
        help="Admin API port on 127.0.0.1 (PUT/GET /replicas, /stats, /metrics); "
             "0 picks a free one. Off when not given.", rich_help_panel=_ADMIN)] = None,
    admin_token_env: Annotated[str, typer.Option(
        help="Environment variable holding the admin token.",
        rich_help_panel=_ADMIN)] = "HEDGE_GATEWAY_ADMIN_TOKEN",
    admin_token_file: Annotated[Path | None, typer.Option(
        help="File holding the admin token (instead of the variable).",
        rich_help_panel=_ADMIN)] = None,
    policy: Annotated[str, typer.Option(
        help="least_load, round_robin, power_of_two or instance_aware "
             "(alias instance_aware_least_load).", rich_help_panel=_ROUTING)] = "least_load",
    queue_timeout: Annotated[float, typer.Option(
        help="Seconds a request may wait for a ready replica before 503 + Retry-After.",
        rich_help_panel=_ROUTING)] = 10.0,
    max_queued: Annotated[int, typer.Option(
        help="Most requests held while no replica is ready; more get 503 at once.",
        rich_help_panel=_ROUTING)] = 1024,
    max_attempts: Annotated[int, typer.Option(
        help="Upstream attempts per request (retries go to other replicas).",
        rich_help_panel=_ROUTING)] = 3,
    connect_timeout: Annotated[float, typer.Option(
        help="Seconds to connect to a replica.", rich_help_panel=_ROUTING)] = 3.0,
    first_byte_timeout: Annotated[float, typer.Option(
        help="Seconds to wait for response headers (504 after; never retried).",
        rich_help_panel=_ROUTING)] = 600.0,
    idle_timeout: Annotated[float, typer.Option(
        help="Longest silence inside a response body.", rich_help_panel=_ROUTING)] = 120.0,
    max_body_bytes: Annotated[int, typer.Option(
        help="Largest request body (413 above).", rich_help_panel=_ROUTING)] = 8 * 1024 * 1024,
    probe_path: Annotated[str, typer.Option(
        help="GET path that clears a suspect replica when it answers < 500.",
        rich_help_panel=_ROUTING)] = "/health",
    api_key_env: Annotated[str | None, typer.Option(
        help="Require `Authorization: Bearer KEY`; keys (comma-separated) in this variable.",
        rich_help_panel=_SECURITY)] = None,
    api_key_file: Annotated[Path | None, typer.Option(
        help="Require API keys listed in this file (one per line).",
        rich_help_panel=_SECURITY)] = None,
    tls_cert: Annotated[Path | None, typer.Option(
        help="TLS certificate (PEM) for the public port.", rich_help_panel=_SECURITY)] = None,
    tls_key: Annotated[Path | None, typer.Option(
        help="TLS private key (PEM).", rich_help_panel=_SECURITY)] = None,
    log_level: Annotated[str, typer.Option(help="Python log level.")] = "INFO",
) -> None:
    """Run the gateway: an OpenAI-compatible load balancer with retries, draining and metrics."""
    from hedgeserve.cli.log_setup import setup_logging
    from hedgeserve.gateway.auth import keys_from_env, keys_from_file
    from hedgeserve.gateway.config import GatewayConfig
    from hedgeserve.gateway.replica_spec import specs_from_urls
    from hedgeserve.gateway.server import Gateway, run_gateway

    if api_key_env and api_key_file:
        raise InputError("give --api-key-env or --api-key-file, not both", where="--api-key-*")
    keys: list[str] = []
    if api_key_env:
        keys = keys_from_env(api_key_env)
    elif api_key_file:
        keys = keys_from_file(api_key_file, where="--api-key-file")
    admin_token = None
    if admin_port is not None:
        if admin_token_file is not None:
            admin_token = keys_from_file(admin_token_file, where="--admin-token-file")[0]
        else:
            admin_token = os.environ.get(admin_token_env) or None
    if not replica and not replicas_url and admin_port is None:
        raise InputError(
            "the gateway has no way to learn its replicas",
            where="hedge gateway",
            fix="pass --replica URL, --replicas-url URL or --admin-port PORT",
        )
    setup_logging(log_level)

    config = GatewayConfig(
        host=host, port=port, replicas=specs_from_urls(replica or [], where="--replica"),
        policy=policy, api_keys=tuple(keys), tls_cert=tls_cert, tls_key=tls_key,
        admin_port=admin_port, admin_token=admin_token, pull_url=replicas_url,
        pull_interval_s=pull_interval, pull_timeout_s=pull_timeout,
        queue_timeout_s=queue_timeout, max_queued=max_queued, max_attempts=max_attempts,
        connect_timeout_s=connect_timeout, first_byte_timeout_s=first_byte_timeout,
        idle_timeout_s=idle_timeout, max_body_bytes=max_body_bytes, probe_path=probe_path,
    )  # fmt: skip

    def announce(gw: Gateway) -> None:
        admin = f", admin on {gw.admin_url}" if gw.admin_url else ""
        print(f"hedge gateway: listening on {gw.url}{admin}", flush=True)

    run_gateway(config, announce=announce)
