"""Background tasks that keep the replica set true: probing suspects, pulling the set.

`Prober`: a replica marked suspect (connect failure, 502/503) gets no traffic; one task per
suspect replica probes `GET <url><probe_path>` with a short timeout, first after
`probe_interval_s`, then with doubling gaps up to `probe_interval_cap_s`. Any answer below 500
means the process serves again and clears the mark. The task ends when the mark clears for
any reason (probe, controller) or the replica leaves the set.

`ReplicaPuller` (pull mode): polls `pull_url` for the replica-set document every
`pull_interval_s` with a `pull_timeout_s` timeout and applies it; on any failure it keeps the
last good set (SkyServe's behaviour, but with a short timeout of our own choosing — its fixed
5 s left RunPod users with "no ready replicas" for good, skypilot#8128).
"""

from __future__ import annotations

import asyncio
import logging

import aiohttp

from hedgeserve.errors import InputError
from hedgeserve.gateway.config import GatewayConfig
from hedgeserve.gateway.replica_set import Replica, ReplicaSet, replace_set
from hedgeserve.gateway.replica_spec import parse_replica_set
from hedgeserve.gateway.stats import GatewayStats

log = logging.getLogger("hedgeserve.gateway")


class Prober:
    def __init__(
        self,
        *,
        config: GatewayConfig,
        replicas: ReplicaSet,
        session: aiohttp.ClientSession,
        stats: GatewayStats,
    ) -> None:
        self._cfg = config
        self._replicas = replicas
        self._session = session
        self._stats = stats
        self._tasks: dict[Replica, asyncio.Task[None]] = {}
        self._timeout = aiohttp.ClientTimeout(total=config.probe_timeout_s)

    def watch(self, replica: Replica) -> None:
        """Start probing `replica` (no-op if already probing it)."""
        if replica in self._tasks:
            return
        task = asyncio.get_running_loop().create_task(self._probe_until_healthy(replica))
        self._tasks[replica] = task
        task.add_done_callback(lambda _t: self._tasks.pop(replica, None))

    async def close(self) -> None:
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _probe_until_healthy(self, replica: Replica) -> None:
        delay = self._cfg.probe_interval_s
        while True:
            await asyncio.sleep(delay)
            if not replica.suspect or not self._replicas.is_current(replica):
                return
            if await self._probe_once(replica):
                log.info("replica %s answers probes again; routing to it", replica.id)
                self._replicas.clear_suspect(replica)
                return
            delay = min(delay * 2, self._cfg.probe_interval_cap_s)

    async def _probe_once(self, replica: Replica) -> bool:
        self._stats.probes_total += 1
        try:
            async with self._session.get(
                replica.url + self._cfg.probe_path, timeout=self._timeout, allow_redirects=False
            ) as resp:
                healthy = resp.status < 500
        except (aiohttp.ClientError, TimeoutError):
            healthy = False
        return healthy


class ReplicaPuller:
    def __init__(
        self,
        *,
        config: GatewayConfig,
        replicas: ReplicaSet,
        session: aiohttp.ClientSession,
        stats: GatewayStats,
    ) -> None:
        if config.pull_url is None:
            raise ValueError("ReplicaPuller needs config.pull_url")
        self._url = config.pull_url
        self._cfg = config
        self._replicas = replicas
        self._session = session
        self._stats = stats
        self._timeout = aiohttp.ClientTimeout(total=config.pull_timeout_s)
        self._headers = (
            {"Authorization": f"Bearer {config.admin_token}"} if config.admin_token else {}
        )
        self._failing = False

    async def run(self) -> None:
        while True:
            await self.pull_once()
            await asyncio.sleep(self._cfg.pull_interval_s)

    async def pull_once(self) -> bool:
        """Fetch and apply the set once; False (and the old set kept) on any failure."""
        try:
            async with self._session.get(
                self._url, timeout=self._timeout, headers=self._headers
            ) as resp:
                if resp.status != 200:
                    raise InputError(f"HTTP {resp.status}", where=self._url)
                payload = await resp.json(content_type=None)
            specs = parse_replica_set(payload, where=self._url)
        except (aiohttp.ClientError, TimeoutError, ValueError) as err:  # InputError, bad JSON
            self._stats.pull_failures_total += 1
            if not self._failing:
                log.warning("replica-set pull failed, keeping the last good set: %s", err)
            self._failing = True
            return False
        if self._failing:
            log.info("replica-set pull works again")
        self._failing = False
        replace_set(self._replicas, specs, stats=self._stats, how="pulled")
        return True
