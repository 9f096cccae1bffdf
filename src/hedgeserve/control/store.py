"""The state store: one SQLite file per service (WAL), explicit columns, one writer.

Tables: `service` (one row: spec, status, counters, the policy's and the autoscaler's state as
JSON, where the controller and gateway processes are), `replicas` (one row per replica ever
launched, see `records.ReplicaRecord`), `events` (the timeline).

Invariants:
- Only the process holding `writer.lock` (an flock) writes: the controller, or `hedge down`
  when no controller runs. Readers (`hedge status`, `hedge events`) may open it at any time.
- A launch intent (a `pending` row) is committed before the provider is called, so a crash at
  any point leaves either no instance or a row recovery can match it with.
- Each `commit` is one transaction: replica rows, timeline events and service fields change
  together or not at all. WAL with synchronous=NORMAL survives a killed process (not a power
  cut, which a laptop service need not survive).
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from hedgeserve.control.lifecycle import LIVE, ReplicaStatus
from hedgeserve.control.provider import InstanceHandle
from hedgeserve.control.records import (
    EventKind,
    EventRecord,
    GatewayRecord,
    ReplicaRecord,
    ServiceRecord,
    ServiceStatus,
)
from hedgeserve.core.replicas import ReplicaId
from hedgeserve.core.zones import ZoneId

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS service (
    name TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    spec_text TEXT NOT NULL,
    spec_dir TEXT NOT NULL,
    spec_path TEXT NOT NULL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    target INTEGER NOT NULL DEFAULT 0,
    on_demand_reference_per_hour REAL NOT NULL DEFAULT 0,
    next_replica_id INTEGER NOT NULL DEFAULT 1,
    policy_state TEXT,
    autoscaler_state TEXT,
    failure TEXT,
    controller_pid INTEGER,
    controller_started TEXT,
    api_port INTEGER,
    gateway_pid INTEGER,
    gateway_started TEXT,
    gateway_port INTEGER,
    gateway_admin_port INTEGER,
    endpoint TEXT
);
CREATE TABLE IF NOT EXISTS replicas (
    id INTEGER PRIMARY KEY,
    zone TEXT NOT NULL,
    spot INTEGER NOT NULL,
    state TEXT NOT NULL,
    launched_at REAL NOT NULL,
    price_per_hour REAL NOT NULL,
    handle TEXT,
    pid INTEGER,
    port INTEGER,
    url TEXT,
    ready_at REAL,
    ended_at REAL,
    reason TEXT NOT NULL,
    failing_since REAL,
    notice_deadline REAL
);
CREATE INDEX IF NOT EXISTS replicas_by_state ON replicas (state);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at REAL NOT NULL,
    kind TEXT NOT NULL,
    replica INTEGER,
    zone TEXT,
    spot INTEGER,
    detail TEXT NOT NULL
);
"""

_REPLICA_COLUMNS = (
    "id", "zone", "spot", "state", "launched_at", "price_per_hour", "handle", "pid", "port",
    "url", "ready_at", "ended_at", "reason", "failing_since", "notice_deadline",
)  # fmt: skip
_INSERT_REPLICA = (
    f"INSERT INTO replicas ({', '.join(_REPLICA_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in _REPLICA_COLUMNS)})"
)
_UPSERT_REPLICA = _INSERT_REPLICA.replace("INSERT", "INSERT OR REPLACE", 1)
_SERVICE_FIELDS = frozenset({
    "status", "spec_text", "spec_dir", "spec_path", "updated_at", "target",
    "on_demand_reference_per_hour", "next_replica_id", "policy_state", "autoscaler_state",
    "failure", "controller_pid", "controller_started", "api_port", "gateway_pid",
    "gateway_started", "gateway_port", "gateway_admin_port", "endpoint",
})  # fmt: skip
_LIVE_STATES = tuple(s.value for s in LIVE)


class StoreBusy(Exception):
    """Another process holds the writer lock (a controller is running)."""


class Store:
    """Open with `Store.writer(...)` (takes the lock) or `Store.reader(...)`."""

    def __init__(self, path: Path, *, lock_fd: int | None) -> None:
        self.path = path
        self._lock_fd = lock_fd
        self._db = sqlite3.connect(path, isolation_level=None, timeout=10.0)
        self._db.execute("PRAGMA busy_timeout = 10000")
        if lock_fd is not None:
            self._db.execute("PRAGMA journal_mode = WAL")
            self._db.execute("PRAGMA synchronous = NORMAL")
            self._db.executescript(_SCHEMA)
            self._db.execute(
                "INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', ?)",
                (str(SCHEMA_VERSION),),
            )

    @classmethod
    def writer(cls, path: Path, lock_path: Path) -> Store:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise StoreBusy(str(path)) from None
        try:
            return cls(path, lock_fd=fd)
        except BaseException:
            os.close(fd)
            raise

    @classmethod
    def reader(cls, path: Path) -> Store:
        return cls(path, lock_fd=None)

    def close(self) -> None:
        self._db.close()
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # releases the flock
            self._lock_fd = None

    # --- writes --------------------------------------------------------------------------

    def create_service(self, record: ServiceRecord) -> None:
        """Insert the service row, or refresh its spec when the service exists already."""
        self._check_writer()
        with self._transaction():
            exists = self._db.execute("SELECT 1 FROM service").fetchone()
            if exists:
                self._update_service(
                    spec_text=record.spec_text, spec_dir=record.spec_dir,
                    spec_path=record.spec_path, updated_at=record.updated_at,
                    status=record.status.value, failure=None,
                )  # fmt: skip
            else:
                self._db.execute(
                    "INSERT INTO service (name, status, spec_text, spec_dir, spec_path, "
                    "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (record.name, record.status.value, record.spec_text, record.spec_dir,
                     record.spec_path, record.created_at, record.updated_at),
                )  # fmt: skip

    def commit(
        self,
        *,
        replicas: Iterable[ReplicaRecord] = (),
        new_replicas: Iterable[ReplicaRecord] = (),
        events: Iterable[EventRecord] = (),
        service: Mapping[str, Any] | None = None,
    ) -> None:
        """Write replica rows (`new_replicas` must not exist yet: an id is never reused),
        append events and set service fields, in one transaction."""
        self._check_writer()
        rows = [_replica_row(r) for r in replicas]
        new_rows = [_replica_row(r) for r in new_replicas]
        event_rows = [_event_row(e) for e in events]
        with self._transaction():
            if new_rows:
                self._db.executemany(_INSERT_REPLICA, new_rows)
            if rows:
                self._db.executemany(_UPSERT_REPLICA, rows)
            if event_rows:
                self._db.executemany(
                    "INSERT INTO events (at, kind, replica, zone, spot, detail) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    event_rows,
                )
            if service:
                self._update_service(**service)

    def allocate_ids(self, count: int) -> list[ReplicaId]:
        """Reserve `count` new replica ids (never reused, even after a crash)."""
        self._check_writer()
        if count <= 0:
            return []
        with self._transaction():
            (first,) = self._db.execute("SELECT next_replica_id FROM service").fetchone()
            self._db.execute("UPDATE service SET next_replica_id = ?", (first + count,))
        return [ReplicaId(first + i) for i in range(count)]

    # --- reads ---------------------------------------------------------------------------

    def service(self) -> ServiceRecord | None:
        cur = self._db.execute("SELECT * FROM service")
        row = cur.fetchone()
        if row is None:
            return None
        data = dict(zip([c[0] for c in cur.description], row, strict=True))
        return _service_record(data)

    def live_replicas(self) -> list[ReplicaRecord]:
        marks = ", ".join("?" for _ in _LIVE_STATES)
        return self._replicas(f"WHERE state IN ({marks}) ORDER BY id", _LIVE_STATES)

    def replicas(self) -> list[ReplicaRecord]:
        """Every replica ever recorded, live or ended."""
        return self._replicas("ORDER BY id", ())

    def any_ever_ready(self) -> bool:
        """Whether any replica of the service ever passed its readiness probe."""
        found = self._db.execute("SELECT 1 FROM replicas WHERE ready_at IS NOT NULL LIMIT 1")
        return found.fetchone() is not None

    def replica(self, replica_id: int) -> ReplicaRecord | None:
        found = self._replicas("WHERE id = ?", (replica_id,))
        return found[0] if found else None

    def events(self, *, after: int = 0, limit: int = 1000) -> list[EventRecord]:
        rows = self._db.execute(
            "SELECT seq, at, kind, replica, zone, spot, detail FROM events WHERE seq > ? "
            "ORDER BY seq LIMIT ?",
            (after, limit),
        ).fetchall()
        return [
            EventRecord(
                at=at, kind=EventKind(kind), detail=detail,
                replica=None if rid is None else ReplicaId(rid),
                zone=None if zone is None else ZoneId(zone),
                is_spot=None if spot is None else bool(spot), seq=seq,
            )
            for seq, at, kind, rid, zone, spot, detail in rows
        ]  # fmt: skip

    def integrity(self) -> str:
        """SQLite's own consistency check: "ok", or what is broken."""
        return str(self._db.execute("PRAGMA integrity_check").fetchone()[0])

    def last_events(self, count: int) -> list[EventRecord]:
        (top,) = self._db.execute("SELECT COALESCE(MAX(seq), 0) FROM events").fetchone()
        return self.events(after=max(0, top - count), limit=count)

    # --- internals -----------------------------------------------------------------------

    def _check_writer(self) -> None:
        if self._lock_fd is None:
            raise RuntimeError("this store was opened read-only")

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)

    def _update_service(self, **fields: Any) -> None:
        unknown = set(fields) - _SERVICE_FIELDS
        if unknown:
            raise ValueError(f"unknown service fields: {sorted(unknown)}")
        assignments = ", ".join(f"{k} = ?" for k in fields)
        values = [v.value if isinstance(v, ServiceStatus) else v for v in fields.values()]
        self._db.execute(f"UPDATE service SET {assignments}", values)

    def _replicas(self, where: str, args: Sequence[Any]) -> list[ReplicaRecord]:
        cols = ", ".join(_REPLICA_COLUMNS)
        rows = self._db.execute(f"SELECT {cols} FROM replicas {where}", args).fetchall()
        return [_replica_record(r) for r in rows]


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on any exception (cancellation included)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self._db.execute("ROLLBACK" if exc_type is not None else "COMMIT")


def _replica_row(r: ReplicaRecord) -> tuple[Any, ...]:
    return (
        r.id, r.zone, int(r.is_spot), r.status.value, r.launched_at, r.price_per_hour,
        r.handle, r.pid, r.port, r.url, r.ready_at, r.ended_at, r.reason, r.failing_since,
        r.notice_deadline,
    )  # fmt: skip


def _replica_record(row: Sequence[Any]) -> ReplicaRecord:
    (rid, zone, spot, state, launched_at, price, handle, pid, port, url, ready_at, ended_at,
     reason, failing_since, notice_deadline) = row  # fmt: skip
    return ReplicaRecord(
        id=ReplicaId(rid), zone=ZoneId(zone), is_spot=bool(spot), status=ReplicaStatus(state),
        launched_at=launched_at, price_per_hour=price,
        handle=None if handle is None else InstanceHandle(handle), pid=pid, port=port, url=url,
        ready_at=ready_at, ended_at=ended_at, reason=reason, failing_since=failing_since,
        notice_deadline=notice_deadline,
    )  # fmt: skip


def _event_row(e: EventRecord) -> tuple[Any, ...]:
    spot = None if e.is_spot is None else int(e.is_spot)
    return (e.at, e.kind.value, e.replica, e.zone, spot, e.detail)


def _service_record(d: dict[str, Any]) -> ServiceRecord:
    gateway = GatewayRecord(
        pid=d["gateway_pid"], pid_started=d["gateway_started"], port=d["gateway_port"],
        admin_port=d["gateway_admin_port"], endpoint=d["endpoint"],
    )  # fmt: skip
    return ServiceRecord(
        name=d["name"], status=ServiceStatus(d["status"]), spec_text=d["spec_text"],
        spec_dir=d["spec_dir"], spec_path=d["spec_path"], created_at=d["created_at"],
        updated_at=d["updated_at"], target=d["target"],
        on_demand_reference_per_hour=d["on_demand_reference_per_hour"],
        next_replica_id=d["next_replica_id"], policy_state=d["policy_state"],
        autoscaler_state=d["autoscaler_state"], failure=d["failure"],
        controller_pid=d["controller_pid"], controller_started=d["controller_started"],
        api_port=d["api_port"], gateway=gateway,
    )  # fmt: skip

