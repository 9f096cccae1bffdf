"""Preemption notices: until when a noticed replica keeps taking requests.

A cloud announces a spot preemption ahead of the kill (AWS 120 s, GCP and Azure 30 s). The
policy hears of it at once, as a PREEMPTED zone event, and replaces the replica. The instance
is still there, so it keeps taking new requests until `grace_s` before the kill, which leaves
its in-flight requests the grace to finish; a notice no longer than the grace drains it at once.
The simulator and the controller both time the drain with this rule.
"""

from __future__ import annotations

DEFAULT_GRACE_S = 30.0  # time a draining replica gets to finish its in-flight requests


def notice_drain_at(deadline: float, grace_s: float) -> float:
    """When a replica to be killed at `deadline` stops taking new requests."""
    return deadline - grace_s
