"""Fixtures for gateway tests: fake replicas and gateways on 127.0.0.1 with port 0."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

import aiohttp
import pytest
from gateway_fake_replica import FakeReplica

from hedgeserve.gateway import Gateway, GatewayConfig
from hedgeserve.gateway.replica_spec import ReplicaSpec

# Test defaults: short waits so failure paths finish in milliseconds.
FAST = {
    "port": 0,
    "queue_timeout_s": 2.0,
    "probe_interval_s": 0.05,
    "probe_interval_cap_s": 0.2,
    "probe_timeout_s": 0.5,
    "connect_timeout_s": 1.0,
    "shutdown_timeout_s": 2.0,
    "seed": 7,
}


def specs(*urls: str, **fields: Any) -> tuple[ReplicaSpec, ...]:
    return tuple(ReplicaSpec(id=i, url=u, **fields) for i, u in enumerate(urls))


@pytest.fixture
async def replicas() -> AsyncIterator[Callable[..., Awaitable[list[FakeReplica]]]]:
    started: list[FakeReplica] = []

    async def make(*names: str, **kwargs: Any) -> list[FakeReplica]:
        out = [await FakeReplica(n, **kwargs).start() for n in names]
        started.extend(out)
        return out

    yield make
    for r in started:
        await r.stop()


@pytest.fixture
async def gateway() -> AsyncIterator[Callable[..., Awaitable[Gateway]]]:
    started: list[Gateway] = []

    async def make(
        urls: Sequence[str] = (), *, replica_specs: Sequence[ReplicaSpec] | None = None, **kw: Any
    ) -> Gateway:
        fields = {**FAST, **kw}
        fields["replicas"] = tuple(replica_specs) if replica_specs is not None else specs(*urls)
        tap_factory = fields.pop("tap_factory", None)
        gw = Gateway(GatewayConfig(**fields), tap_factory=tap_factory)
        await gw.start()
        started.append(gw)
        return gw

    yield make
    for gw in started:
        await gw.stop()


@pytest.fixture
async def client() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=20)) as session:
        yield session


def with_fields(config: GatewayConfig, **changes: Any) -> GatewayConfig:
    return dataclasses.replace(config, **changes)
