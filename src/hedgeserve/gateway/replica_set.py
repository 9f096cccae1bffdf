"""The live replica set: who may take new requests, and how many each has in flight.

Invariants:
- In-flight counts are exact. A request holds a reference to the `Replica` *object* it was sent
  to and decrements that object in a `finally`, so errors, cancellations and replica churn
  cannot leak or go negative (SkyServe's count was a dict entry a late completion could
  re-create at -1).
- `apply` swaps the whole set at once. A replica whose id and URL are unchanged keeps its object
  (and so its counts and suspect mark); a removed or re-addressed one is retired: dropped from
  routing while its in-flight requests finish on the old object.
- Eligible = in the set, not draining, not suspect. The eligible list is rebuilt only when
  something changes, never per request.
- Waiters (requests held while nothing is eligible) wake on every change.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

from hedgeserve.gateway.replica_spec import ReplicaKey, ReplicaSpec
from hedgeserve.gateway.routing import RoutingPolicy
from hedgeserve.gateway.stats import GatewayStats

log = logging.getLogger("hedgeserve.gateway")


class Replica:
    """One replica as the data path sees it. Mutated only on the event loop thread."""

    __slots__ = (
        "id", "url", "weight", "draining", "suspect", "retired",
        "inflight", "requests_total", "errors_total",
    )  # fmt: skip

    def __init__(self, spec: ReplicaSpec) -> None:
        self.id: ReplicaKey = spec.id
        self.url = spec.url
        self.weight = spec.weight
        self.draining = spec.draining
        self.suspect = bool(spec.suspect)
        self.retired = False
        self.inflight = 0
        self.requests_total = 0  # attempts sent here, retries included
        self.errors_total = 0

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "url": self.url,
            "weight": self.weight,
            "draining": self.draining,
            "suspect": self.suspect,
            "inflight": self.inflight,
            "requests_total": self.requests_total,
            "errors_total": self.errors_total,
        }


@dataclass(frozen=True, slots=True)
class SetChange:
    added: tuple[ReplicaKey, ...]
    removed: tuple[ReplicaKey, ...]
    updated: tuple[ReplicaKey, ...]

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.updated)


class ReplicaSet:
    def __init__(self, on_suspect: Callable[[Replica], None] | None = None) -> None:
        self._by_id: dict[ReplicaKey, Replica] = {}
        self._eligible: list[Replica] = []
        self._changed = asyncio.Event()
        self.on_suspect = on_suspect  # the prober starts watching the replica

    # --- reads -----------------------------------------------------------------------------

    def __iter__(self) -> Iterator[Replica]:
        return iter(list(self._by_id.values()))

    def __len__(self) -> int:
        return len(self._by_id)

    def get(self, key: ReplicaKey) -> Replica | None:
        return self._by_id.get(key)

    @property
    def eligible(self) -> Sequence[Replica]:
        return self._eligible

    def is_current(self, replica: Replica) -> bool:
        return self._by_id.get(replica.id) is replica

    def pick(
        self, policy: RoutingPolicy, rng: random.Random, tried: Sequence[Replica] = ()
    ) -> Replica | None:
        """A replica for the next attempt, or None if none is eligible.

        Replicas this request already tried are avoided while others are eligible. One that
        failed was marked suspect unless the failure was a plain reset; if it is eligible
        again, a probe or the controller cleared it, so it may be tried once more.
        """
        cands: Sequence[Replica] = self._eligible
        if tried:
            untried = [r for r in cands if r not in tried]
            if untried:
                cands = untried
        if not cands:
            return None
        if len(cands) == 1:
            return cands[0]
        return policy.choose(cands, rng)

    async def wait_for_change(self, timeout_s: float) -> bool:
        """Wait until the set changes or `timeout_s` passes; True if it changed."""
        if timeout_s <= 0:
            return False
        event = self._changed
        try:
            async with asyncio.timeout(timeout_s):
                await event.wait()
        except TimeoutError:
            return False
        return True

    # --- writes ----------------------------------------------------------------------------

    def apply(self, specs: Iterable[ReplicaSpec]) -> SetChange:
        """Replace the set with `specs` atomically (see module invariants)."""
        new: dict[ReplicaKey, Replica] = {}
        added: list[ReplicaKey] = []
        updated: list[ReplicaKey] = []
        for spec in specs:
            old = self._by_id.get(spec.id)
            if old is not None and old.url == spec.url:
                if (old.weight, old.draining) != (spec.weight, spec.draining) or (
                    spec.suspect is not None and spec.suspect != old.suspect
                ):
                    updated.append(spec.id)
                old.weight = spec.weight
                old.draining = spec.draining
                if spec.suspect is not None:
                    old.suspect = spec.suspect
                new[spec.id] = old
            else:
                if old is not None:
                    old.retired = True
                    updated.append(spec.id)
                else:
                    added.append(spec.id)
                new[spec.id] = Replica(spec)
        removed = [key for key in self._by_id if key not in new]
        for key in removed:
            self._by_id[key].retired = True
        self._by_id = new
        change = SetChange(tuple(added), tuple(removed), tuple(updated))
        self._rebuild()
        if self.on_suspect is not None:
            for replica in new.values():
                if replica.suspect:
                    self.on_suspect(replica)
        return change

    def mark_suspect(self, replica: Replica) -> None:
        """Stop routing to `replica` until a probe passes or the controller clears it."""
        if replica.suspect or not self.is_current(replica):
            return
        replica.suspect = True
        self._rebuild()
        if self.on_suspect is not None:
            self.on_suspect(replica)

    def clear_suspect(self, replica: Replica) -> None:
        if not replica.suspect or not self.is_current(replica):
            return
        replica.suspect = False
        self._rebuild()

    def _rebuild(self) -> None:
        self._eligible = [r for r in self._by_id.values() if not (r.draining or r.suspect)]
        # Wake every waiter, then arm a fresh event for the next change.
        self._changed.set()
        self._changed = asyncio.Event()


def replace_set(
    replicas: ReplicaSet, specs: Iterable[ReplicaSpec], *, stats: GatewayStats, how: str
) -> SetChange:
    """Apply a new replica set (in process, pushed or pulled: `how`), counting and logging
    it when it changed anything."""
    change = replicas.apply(specs)
    if change:
        stats.replica_set_updates_total += 1
        log.info("replica set %s: %s", how, change)
    return change
