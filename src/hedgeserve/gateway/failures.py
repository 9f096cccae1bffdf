"""What can go wrong on the data path, and what the gateway does about each cause.

Pure: the proxy maps an exception or an upstream status onto a `Cause`; this module says
whether that cause may be retried on another replica, whether it makes the replica suspect,
and how long to back off. The one rule behind `RETRYABLE`: a request is retried only while
no byte of the answer has reached the client, and only for causes where the replica most
likely did not do (or cannot finish) the work — so a slow generation is never sent twice.
"""

from __future__ import annotations

import random
from enum import StrEnum


class Cause(StrEnum):
    """Error causes, as counted in `/metrics` (`hedge_gateway_errors_total{cause=...}`)."""

    CONNECT = "connect"  # connection refused / unreachable: the replica is gone
    CONNECT_TIMEOUT = "connect_timeout"
    RESET = "reset"  # connection dropped before the answer was complete (client saw nothing)
    UPSTREAM_502 = "upstream_502"
    UPSTREAM_503 = "upstream_503"  # typically "not ready yet" or "shutting down"
    FIRST_BYTE_TIMEOUT = "first_byte_timeout"  # no response headers in time; maybe still working
    IDLE_TIMEOUT = "idle_timeout"  # a started stream went silent
    MIDSTREAM = "midstream"  # upstream failed after bytes reached the client
    PROTOCOL = "protocol"  # malformed upstream response
    NO_REPLICA = "no_replica"  # nothing ready within queue_timeout
    ATTEMPTS_EXHAUSTED = "attempts_exhausted"
    CLIENT_DISCONNECT = "client_disconnect"
    BODY_TOO_LARGE = "body_too_large"
    UNAUTHORIZED = "unauthorized"


RETRYABLE = frozenset(
    {Cause.CONNECT, Cause.CONNECT_TIMEOUT, Cause.RESET, Cause.UPSTREAM_502, Cause.UPSTREAM_503}
)

# A reset alone does not make a replica suspect: a pooled keep-alive connection the replica
# closed a moment ago looks the same. A dead replica also refuses new connections, which does.
MARKS_SUSPECT = frozenset(
    {Cause.CONNECT, Cause.CONNECT_TIMEOUT, Cause.UPSTREAM_502, Cause.UPSTREAM_503}
)

# Status the client gets when the gateway gives up for this cause.
CLIENT_STATUS = {
    Cause.CONNECT: 502,
    Cause.CONNECT_TIMEOUT: 502,
    Cause.RESET: 502,
    Cause.UPSTREAM_502: 502,
    Cause.UPSTREAM_503: 503,
    Cause.FIRST_BYTE_TIMEOUT: 504,
    Cause.PROTOCOL: 502,
    Cause.NO_REPLICA: 503,
    Cause.ATTEMPTS_EXHAUSTED: 502,
}


def status_cause(status: int) -> Cause | None:
    """The retryable cause an upstream status stands for, or None to pass it through."""
    if status == 502:
        return Cause.UPSTREAM_502
    if status == 503:
        return Cause.UPSTREAM_503
    return None


def backoff_s(retry: int, rng: random.Random, *, base_s: float, cap_s: float) -> float:
    """Delay before retry number `retry` (1, 2, ...): exponential, capped, jittered in [½, 1]×.

    The next attempt goes to a different replica, so the first delay is tiny; the jitter keeps
    requests that failed together (one replica died) from returning in lockstep.
    """
    if retry < 1:
        raise ValueError(f"retry numbers start at 1, got {retry}")
    ceiling = min(cap_s, base_s * 2.0 ** (retry - 1))
    return ceiling * (0.5 + 0.5 * rng.random())
