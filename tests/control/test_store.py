"""The SQLite store: explicit columns round-trip, one writer, transactions survive kill -9."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from hedgeserve.control.lifecycle import ReplicaStatus
from hedgeserve.control.provider import InstanceHandle
from hedgeserve.control.records import (
    EventKind,
    EventRecord,
    ReplicaRecord,
    ServiceRecord,
    ServiceStatus,
)
from hedgeserve.control.store import Store, StoreBusy
from hedgeserve.core.replicas import ReplicaId
from hedgeserve.core.zones import ZoneId

ROOT = Path(__file__).resolve().parents[2]


def open_store(folder: Path) -> Store:
    store = Store.writer(folder / "state.db", folder / "writer.lock")
    if store.service() is None:
        store.create_service(ServiceRecord("svc", ServiceStatus.STARTING, "run: x", "/d",
                                           "/d/s.yaml", 1.0, 1.0))
    return store


def test_rows_round_trip_through_explicit_columns(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    full = ReplicaRecord(
        ReplicaId(7), ZoneId("gcp/us-east4/us-east4-a"), True, ReplicaStatus.DRAINING,
        launched_at=10.5, price_per_hour=1.86, handle=InstanceHandle('{"pgid": 3}'), pid=3,
        port=8001, url="http://127.0.0.1:8001", ready_at=12.0, ended_at=None,
        reason="preemption notice", failing_since=None, notice_deadline=99.0,
    )
    store.commit(replicas=[full],
                 events=[EventRecord(10.5, EventKind.LAUNCH, "spot below target", full.id,
                                     full.zone, True)],
                 service={"policy_state": '{"active": []}', "target": 3})
    store.close()
    again = Store.reader(tmp_path / "state.db")
    assert again.replica(7) == full
    assert again.live_replicas() == [full]
    (event,) = again.events()
    assert (event.kind, event.replica, event.zone, event.is_spot) == (
        EventKind.LAUNCH, 7, full.zone, True)
    service = again.service()
    assert service is not None and service.target == 3
    assert service.policy_state == '{"active": []}'


def test_one_writer_at_a_time_readers_always(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    with pytest.raises(StoreBusy):
        Store.writer(tmp_path / "state.db", tmp_path / "writer.lock")
    reader = Store.reader(tmp_path / "state.db")
    assert reader.service() is not None
    with pytest.raises(RuntimeError, match="read-only"):
        reader.commit(service={"target": 1})
    store.close()
    Store.writer(tmp_path / "state.db", tmp_path / "writer.lock").close()  # lock released


def test_a_failed_transaction_leaves_nothing(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    row = ReplicaRecord(ReplicaId(1), ZoneId("local/local/a"), False, ReplicaStatus.PENDING, 0.0)
    with pytest.raises(ValueError, match="unknown service fields"):
        store.commit(replicas=[row], events=[EventRecord(0.0, EventKind.LAUNCH, "x", row.id)],
                     service={"no_such_column": 1})
    assert store.replicas() == [] and store.events() == []


def test_a_new_row_never_replaces_an_old_one(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    row = ReplicaRecord(ReplicaId(1), ZoneId("local/local/a"), True, ReplicaStatus.PENDING, 0.0)
    store.commit(new_replicas=[row])
    with pytest.raises(sqlite3.IntegrityError):
        store.commit(new_replicas=[row], events=[EventRecord(0.0, EventKind.LAUNCH, "x", row.id)])
    assert store.events() == []  # the whole transaction was rolled back


def test_ids_are_never_reused(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    assert store.allocate_ids(3) == [1, 2, 3]
    store.close()
    assert open_store(tmp_path).allocate_ids(2) == [4, 5]


@pytest.mark.timeout(60)
def test_kill_9_mid_write_then_reopen(tmp_path: Path) -> None:
    """A writer killed at a random point: every commit it reported is there, whole; no commit
    is half there; the lock is free again."""
    child = subprocess.Popen(
        [sys.executable, str(ROOT / "tests" / "control" / "store_writer.py"), str(tmp_path)],
        stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
    )
    assert child.stdout is not None
    reported = 0
    for line in child.stdout:
        reported = int(line)
        if reported >= 200:
            break
    os.kill(child.pid, signal.SIGKILL)
    child.wait()

    store = open_store(tmp_path)  # the writer lock died with the process
    rows, events, service = store.replicas(), store.events(limit=100_000), store.service()
    assert service is not None
    assert len(rows) >= reported
    assert len(rows) == len(events) == service.next_replica_id - 1  # all-or-nothing commits
    assert [int(r.id) for r in rows] == list(range(1, len(rows) + 1))
    assert store.integrity() == "ok"
