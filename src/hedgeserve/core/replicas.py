"""Replicas as the decision core sees them.

The live controller tracks a finer lifecycle (pending, provisioning, starting, not_ready,
draining, failed ...); it maps each replica onto the two live states below before calling a
policy. Terminal replicas (preempted, terminated) are not passed in at all: a policy only needs
what is running, plus the `ZoneEvent`s that happened since its last decision.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import NewType

from hedgeserve.core.zones import ZoneId

ReplicaId = NewType("ReplicaId", int)


class ReplicaState(StrEnum):
    LAUNCHING = "launching"  # holds an instance (and costs money) but does not serve yet
    READY = "ready"
    PREEMPTED = "preempted"
    TERMINATED = "terminated"


@dataclass(frozen=True, slots=True)
class ReplicaView:
    id: ReplicaId
    zone: ZoneId
    is_spot: bool
    state: ReplicaState
    launched_at: float  # seconds, on the caller's clock

    @property
    def is_ready(self) -> bool:
        return self.state is ReplicaState.READY


class ZoneSignal(StrEnum):
    """What happened in a zone; these drive SpotHedge's active/preempted zone sets."""

    PREEMPTED = "preempted"  # a spot replica there was taken back
    LAUNCH_FAILED = "launch_failed"  # the cloud had no spot capacity there
    READY = "ready"  # a spot replica there became ready


@dataclass(frozen=True, slots=True)
class ZoneEvent:
    zone: ZoneId
    signal: ZoneSignal
    at: float
