"""Readiness: the rules that turn probe results into replica states, and the HTTP prober.

Rules (`judge`, pure), with the spec's timings:
- starting: a passing probe makes it ready; failures are expected while the model loads, until
  `initial_delay_s` after launch — then it has failed.
- ready: one failing probe makes it not_ready (the gateway stops routing to it).
- not_ready: a passing probe makes it ready again; failing for `failure_threshold_s` since the
  first failure of the streak fails it (the controller replaces it).
- draining under a preemption notice while it still serves (`serves_through_notice`): one
  failing probe marks it failing, which ends its serving: it drains at once.

`HttpProber` probes each replica every `period_s` with a `timeout_s` budget, in background
tasks, so one hanging replica never stalls a tick: a tick collects the results that arrived
(waiting at most a short `collect_s`) and a late result wakes the loop. A probe passes on any
2xx answer to GET (or POST `post_data`) of the probe path, with the spec's headers.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Protocol

import aiohttp

from hedgeserve.control.clock import Wakeup
from hedgeserve.control.lifecycle import ReplicaStatus
from hedgeserve.control.records import ReplicaRecord
from hedgeserve.core.replicas import ReplicaId
from hedgeserve.spec.probe import ProbeTimings, ReadinessProbe

S = ReplicaStatus
PROBED = frozenset({S.STARTING, S.READY, S.NOT_READY})


def judge(record: ReplicaRecord, ok: bool, now: float, timings: ProbeTimings) -> ReplicaRecord:
    """The record after one probe result (unchanged for states that are not probed)."""
    status = record.status
    if status is S.DRAINING and record.notice_deadline is not None:  # serving through it
        if ok or record.failing_since is not None:
            return record
        return replace(record, failing_since=now)
    if status not in PROBED:
        return record
    if ok:
        if status is S.READY:
            return record if record.failing_since is None else replace(record, failing_since=None)
        ready_at = record.ready_at if record.ready_at is not None else now
        return record.moved_to(S.READY, ready_at=ready_at, failing_since=None)
    since = record.failing_since if record.failing_since is not None else now
    if status is S.STARTING:
        if now - record.launched_at >= timings.initial_delay_s:
            return record.moved_to(
                S.FAILED, ended_at=now, failing_since=since,
                reason=f"not ready {timings.initial_delay_s:g} s after launch "
                "(readiness initial delay)",
            )  # fmt: skip
        return record if record.failing_since == since else replace(record, failing_since=since)
    if status is S.READY:
        return record.moved_to(S.NOT_READY, failing_since=now)
    if now - since >= timings.failure_threshold_s:
        return record.moved_to(
            S.FAILED, ended_at=now,
            reason=f"readiness probe failing for {now - since:.0f} s "
            f"(threshold {timings.failure_threshold_s:g} s)",
        )  # fmt: skip
    return record


@dataclass(frozen=True, slots=True)
class ProbeTarget:
    replica: ReplicaId
    url: str  # the replica's base URL


class Prober(Protocol):
    async def results(self, targets: Sequence[ProbeTarget]) -> dict[ReplicaId, bool]:
        """Probe results that arrived since the last call, for replicas among `targets`
        (probes of replicas no longer listed are dropped)."""
        ...

    async def close(self) -> None: ...


class HttpProber:
    def __init__(self, probe: ReadinessProbe, *, wakeup: Wakeup, collect_s: float = 0.3) -> None:
        self._probe = probe
        self._wakeup = wakeup
        self._collect_s = collect_s
        self._session: aiohttp.ClientSession | None = None
        self._running: dict[ReplicaId, asyncio.Task[bool]] = {}
        self._last_start: dict[ReplicaId, float] = {}
        self._collecting: set[ReplicaId] = set()  # results a tick is waiting for right now
        self._timeout = aiohttp.ClientTimeout(total=probe.timings.timeout_s)

    async def results(self, targets: Sequence[ProbeTarget]) -> dict[ReplicaId, bool]:
        wanted = {t.replica: t for t in targets}
        for rid in [r for r in self._running if r not in wanted]:
            self._running.pop(rid).cancel()
        for rid in [r for r in self._last_start if r not in wanted]:
            del self._last_start[rid]
        now = time.monotonic()
        started = []
        for rid, target in wanted.items():
            due = now - self._last_start.get(rid, -1e18) >= self._probe.timings.period_s
            if due and rid not in self._running:
                self._last_start[rid] = now
                self._running[rid] = asyncio.get_running_loop().create_task(self._one(target))
                started.append(self._running[rid])
        if started:
            # A quick replica answers within the tick; a slow one reports on a later tick and
            # wakes the loop then.
            self._collecting = {rid for rid, task in self._running.items() if task in started}
            try:
                await asyncio.wait(started, timeout=self._collect_s)
            finally:
                self._collecting = set()
        out: dict[ReplicaId, bool] = {}
        for rid, task in list(self._running.items()):
            if task.done():
                del self._running[rid]
                out[rid] = not task.cancelled() and task.exception() is None and task.result()
        return out

    async def close(self) -> None:
        tasks = list(self._running.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._running.clear()
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _one(self, target: ProbeTarget) -> bool:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        probe = self._probe
        try:
            async with self._session.request(
                probe.method,
                target.url + probe.path,
                json=None if probe.post_data is None else dict(probe.post_data),
                headers=dict(probe.headers),
                allow_redirects=False,
            ) as resp:
                await resp.read()
                ok = 200 <= resp.status < 300
        except (aiohttp.ClientError, TimeoutError, OSError):
            ok = False
        if target.replica not in self._collecting:
            self._wakeup.set()
        return ok
