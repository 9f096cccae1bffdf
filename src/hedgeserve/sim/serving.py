"""Requests served by the ready replicas (the simulated gateway + replica queues).

Each replica serves `concurrency` requests at a time, first come first served; a request's
service time is drawn by the workload. The gateway routes each request to a ready replica
(`least_load`: fewest outstanding requests; `round_robin`). With no ready replica it holds the
request until one becomes ready. A request on a preempted replica is retried at once on another
(the client's retry, counted). A request that has not finished `timeout_s` after it arrived
fails; failed requests count at the timeout in the latency figures, as in the SkyServe paper.

Outcomes are settled lazily: a replica's outstanding heap is only inspected when the replica
is chosen, lost or flushed, which keeps a million-request run fast.
"""

from __future__ import annotations

import heapq
from collections import deque

import numpy as np

from hedgeserve.sim.cloud import SimReplica

ROUTING = ("least_load", "round_robin")


class Serving:
    def __init__(
        self,
        *,
        arrival_s: np.ndarray,
        service_s: np.ndarray,
        timeout_s: float,
        concurrency: int,
        routing: str,
    ) -> None:
        if routing not in ROUTING:
            raise ValueError(f"unknown routing {routing!r}")
        self._arrival = arrival_s.tolist()
        self._service = service_s.tolist()
        self.timeout_s = timeout_s
        self.concurrency = concurrency
        self._least_load = routing == "least_load"
        n = len(self._arrival)
        self.latency = np.full(n, np.nan)
        self.failed = np.zeros(n, dtype=bool)
        self.retries = 0
        self._ready: list[SimReplica] = []
        self._served: list[SimReplica] = []  # every replica that ever got a request
        self._pending: deque[int] = deque()
        self._rr = 0

    # -- requests -------------------------------------------------------------------------
    def dispatch(self, req: int, now: float) -> None:
        deadline = self._arrival[req] + self.timeout_s
        if now >= deadline:
            self._fail(req)
            return
        if not self._ready:
            self._pending.append(req)
            return
        replica = self._route(now)
        slots = replica.slots
        start = max(now, slots[0])
        end = start + self._service[req]
        ok = end <= deadline
        if not ok:
            end = deadline  # the client gives up; the gateway cancels the upstream request
        heapq.heapreplace(slots, end)
        heapq.heappush(replica.outstanding, (end, req, ok))

    def _route(self, now: float) -> SimReplica:
        ready = self._ready
        n = len(ready)
        self._rr = (self._rr + 1) % n
        if not self._least_load:
            replica = ready[self._rr]
            out = replica.outstanding
            while out and out[0][0] <= now:  # settle as we go: keeps the heap small
                self._settle(heapq.heappop(out))
            return replica
        best, best_load = ready[0], 1 << 62
        for i in range(n):  # start at a rotating index: ties spread evenly, deterministically
            replica = ready[(self._rr + i) % n]
            out = replica.outstanding
            while out and out[0][0] <= now:
                self._settle(heapq.heappop(out))
            if len(out) < best_load:
                best, best_load = replica, len(out)
                if best_load == 0:
                    break
        return best

    def _settle(self, entry: tuple[float, int, bool]) -> None:
        end, req, ok = entry
        if ok:
            self.latency[req] = end - self._arrival[req]
        else:
            self._fail(req)

    def _fail(self, req: int) -> None:
        self.failed[req] = True
        self.latency[req] = self.timeout_s

    # -- replica changes ------------------------------------------------------------------
    def replica_ready(self, replica: SimReplica, now: float) -> None:
        replica.slots = [now] * self.concurrency
        self._ready.append(replica)
        self._served.append(replica)
        while self._pending:
            self.dispatch(self._pending.popleft(), now)

    def replica_lost(self, replica: SimReplica, now: float) -> None:
        """Preempted: its unfinished requests are retried elsewhere."""
        if replica in self._ready:
            self._ready.remove(replica)
        out, replica.outstanding = replica.outstanding, []
        out.sort()
        for entry in out:
            if entry[0] <= now:
                self._settle(entry)
            else:
                self.retries += 1
                self.dispatch(entry[1], now)

    def replica_draining(self, replica: SimReplica, now: float) -> float:
        """Terminated by decision: no new requests; returns when its last request ends."""
        if replica in self._ready:
            self._ready.remove(replica)
        return max([now, *(end for end, _, _ in replica.outstanding)])

    def finish(self) -> None:
        """Settle everything at the end of the run."""
        for replica in self._served:
            for entry in replica.outstanding:
                self._settle(entry)
            replica.outstanding = []
        while self._pending:
            self._fail(self._pending.popleft())
