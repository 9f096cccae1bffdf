"""Routing policies: which replica gets the next request.

Pure: no I/O, no clock, no aiohttp types. A policy sees only the candidates the gateway already
filtered (ready, not draining, not suspect, preferably not yet tried by this request), each with
its in-flight count and weight, plus a `random.Random` so a simulation can reproduce a run.
`choose` is called with at least one candidate and returns one of them.

Names match the spec key `load_balancing_policy`; `instance_aware_least_load` (SkyServe's name)
is accepted as an alias of `instance_aware`.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import Protocol, TypeVar

from hedgeserve.errors import InputError


class Candidate(Protocol):
    @property
    def inflight(self) -> int: ...

    @property
    def weight(self) -> float: ...  # relative capacity (e.g. requests/s of its GPU type), > 0


C = TypeVar("C", bound=Candidate)


class RoutingPolicy(Protocol):
    name: str

    def choose(self, candidates: Sequence[C], rng: random.Random) -> C: ...


class LeastLoad:
    """Fewest in-flight requests; ties broken uniformly at random.

    A deterministic tie-break (SkyServe's first-in-list) sends every burst that arrives at an
    idle service to the same replica.
    """

    name = "least_load"

    def choose(self, candidates: Sequence[C], rng: random.Random) -> C:
        return _lowest(candidates, _inflight, rng)


def _inflight(candidate: Candidate) -> float:
    return candidate.inflight


def _inflight_per_weight(candidate: Candidate) -> float:
    return (candidate.inflight + 1) / candidate.weight


def _lowest(candidates: Sequence[C], score: Callable[[Candidate], float], rng: random.Random) -> C:
    """The candidate with the lowest score; ties broken uniformly at random."""
    best = candidates[0]
    best_score = score(best)
    ties = 1
    for cand in candidates[1:]:
        value = score(cand)
        if value < best_score:
            best, best_score, ties = cand, value, 1
        elif value == best_score:
            ties += 1
            # Reservoir sampling: each tied candidate ends up chosen with probability 1/ties.
            if rng.random() * ties < 1.0:
                best = cand
    return best


class InstanceAware:
    """Least load relative to capacity: minimise (in-flight + 1) / weight.

    The +1 scores the load *after* this request lands, so an idle service still prefers its
    bigger replicas and load spreads in proportion to weight; with in-flight / weight every
    idle replica would tie at zero. Ties are broken at random.
    """

    name = "instance_aware"

    def choose(self, candidates: Sequence[C], rng: random.Random) -> C:
        return _lowest(candidates, _inflight_per_weight, rng)


class PowerOfTwo:
    """Power of two choices: sample two distinct candidates, take the one with fewer in flight.

    Unlike least_load it does not herd when several gateways share stale counts.
    """

    name = "power_of_two"

    def choose(self, candidates: Sequence[C], rng: random.Random) -> C:
        n = len(candidates)
        if n == 1:
            return candidates[0]
        i = int(rng.random() * n)
        j = int(rng.random() * (n - 1))
        if j >= i:
            j += 1  # j is uniform over the other n-1 indexes
        a, b = candidates[i], candidates[j]
        return b if b.inflight < a.inflight else a


class RoundRobin:
    """Cycle through the candidates in order. Its only state is a cursor."""

    name = "round_robin"

    def __init__(self) -> None:
        self._cursor = 0

    def choose(self, candidates: Sequence[C], rng: random.Random) -> C:
        cand = candidates[self._cursor % len(candidates)]
        self._cursor += 1
        return cand


POLICIES: dict[str, Callable[[], RoutingPolicy]] = {
    "least_load": LeastLoad,
    "round_robin": RoundRobin,
    "power_of_two": PowerOfTwo,
    "instance_aware": InstanceAware,
}
ALIASES = {"instance_aware_least_load": "instance_aware"}


def make_policy(name: str) -> RoutingPolicy:
    """A fresh policy for a `load_balancing_policy` name (or alias); InputError if unknown."""
    factory = POLICIES.get(ALIASES.get(name, name))
    if factory is None:
        raise InputError(
            f"unknown load balancing policy {name!r}",
            where="load_balancing_policy",
            fix="use one of " + ", ".join(sorted(POLICIES)) + " (or instance_aware_least_load)",
        )
    return factory()
