"""The `Provider` protocol: how the controller launches, terminates and observes instances.

A provider runs one service's replicas somewhere (local processes, clouds, pods). The controller
never keeps a provider's objects across a restart: everything it needs to find an instance again
is the `InstanceHandle` (an opaque string the provider returns from `launch`) that the store
keeps. So `observe(handles)` must work from stored handles alone, in a fresh process, and
`instances()` must list every instance the provider runs for the service (tagged, the way
clouds tag VMs), so a restarted controller can adopt instances whose handle it never stored and
terminate the ones nothing owns.

Errors are classed the way the reconcile loop treats them:
- `CapacityUnavailable`: no spot capacity in that zone; an observation for placement (the zone
  goes to SpotHedge's preempted set), not a failure of the controller.
- `TransientProviderError`: try again later, with backoff.
- `PermanentProviderError`: retrying cannot help (bad command, missing folder); the service is
  marked failed and shown to the user.

Events are news the controller could not get by observing at its own pace: a preemption notice
with its deadline, a preemption, a launch refused after the fact, an instance that exited. A
provider sets the shared `Wakeup` when it queues one, so the loop's sleep ends early.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import NewType, Protocol

from hedgeserve.core.replicas import ReplicaId
from hedgeserve.core.zones import ZoneId, ZoneOffer

InstanceHandle = NewType("InstanceHandle", str)


class ProviderError(Exception):
    """Base of the provider errors; never raised itself."""


class CapacityUnavailable(ProviderError):
    def __init__(self, zone: ZoneId, detail: str = "no spot capacity") -> None:
        self.zone = zone
        super().__init__(f"{zone}: {detail}")


class TransientProviderError(ProviderError):
    """The call may succeed if repeated later (a timeout, a busy API, a port race)."""


class PermanentProviderError(ProviderError):
    """Repeating the call cannot help; a person must change something."""


@dataclass(frozen=True, slots=True)
class LaunchRequest:
    replica: ReplicaId
    zone: ZoneId
    is_spot: bool


@dataclass(frozen=True, slots=True)
class Instance:
    """A running (or starting) instance as the provider knows it."""

    replica: ReplicaId
    handle: InstanceHandle
    url: str | None  # where the replica serves, once known
    pid: int | None = None  # local processes only
    port: int | None = None


class InstanceStatus(StrEnum):
    PROVISIONING = "provisioning"  # accepted, not running yet (a VM booting)
    RUNNING = "running"
    EXITED = "exited"  # ended on its own (crashed, or finished draining)
    GONE = "gone"  # no such instance any more (or it is not ours)


@dataclass(frozen=True, slots=True)
class InstanceState:
    status: InstanceStatus
    detail: str = ""  # e.g. "exit code 1"


class EventKind(StrEnum):
    PREEMPTION_NOTICE = "preemption_notice"  # the instance will be taken back at `deadline`
    PREEMPTED = "preempted"  # the instance was taken back
    LAUNCH_FAILED = "launch_failed"  # a launch that was accepted failed later: no capacity
    EXITED = "exited"  # the instance's process ended on its own


@dataclass(frozen=True, slots=True)
class ProviderEvent:
    kind: EventKind
    replica: ReplicaId
    at: float  # seconds on the provider's clock (the controller's clock in every shell we have)
    deadline: float | None = None  # PREEMPTION_NOTICE only
    detail: str = ""


class Provider(Protocol):
    """One service's replicas on one kind of infrastructure. Methods are safe to call again:
    terminating a gone instance or observing an unknown handle is not an error."""

    def offers(self) -> tuple[ZoneOffer, ...]:
        """The zones replicas may go to, with current prices; order breaks price ties."""
        ...

    async def start(self) -> None:
        """Begin background work (watching instances, replaying a trace)."""
        ...

    async def launch(self, request: LaunchRequest) -> Instance:
        """Start an instance. Raises CapacityUnavailable, TransientProviderError or
        PermanentProviderError."""
        ...

    async def terminate(self, handle: InstanceHandle, *, grace_s: float) -> None:
        """Ask the instance to stop (it may drain for `grace_s`), then make sure it is gone.
        Returns once the stop has begun; `observe` reports when it is gone."""
        ...

    async def observe(
        self, handles: Mapping[ReplicaId, InstanceHandle]
    ) -> dict[ReplicaId, InstanceState]:
        """The state of each instance, from its stored handle alone."""
        ...

    async def instances(self) -> tuple[Instance, ...]:
        """Every instance this provider runs for the service, found by its tags (recovery)."""
        ...

    def poll_events(self) -> list[ProviderEvent]:
        """Events queued since the last call, oldest first."""
        ...

    async def close(self) -> None:
        """Stop background work; instances keep running."""
        ...
