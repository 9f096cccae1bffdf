"""A child process that writes to a store as fast as it can until it is killed (-9).

Each commit holds one replica row, one event and the id counter; after each commit it prints
the number of commits done, so the parent knows what must have survived.
"""

from __future__ import annotations

import sys
from pathlib import Path

from hedgeserve.control.lifecycle import ReplicaStatus
from hedgeserve.control.records import (
    EventKind,
    EventRecord,
    ReplicaRecord,
    ServiceRecord,
    ServiceStatus,
)
from hedgeserve.control.store import Store
from hedgeserve.core.replicas import ReplicaId
from hedgeserve.core.zones import ZoneId


def main(folder: Path) -> None:
    store = Store.writer(folder / "state.db", folder / "writer.lock")
    store.create_service(ServiceRecord("svc", ServiceStatus.STARTING, "run: x", str(folder),
                                       "spec.yaml", 0.0, 0.0))
    i = 0
    while True:
        i += 1
        rid = ReplicaId(i)
        store.commit(
            replicas=[ReplicaRecord(rid, ZoneId("local/east/a"), True, ReplicaStatus.PENDING,
                                    launched_at=float(i), reason="spot below target")],
            events=[EventRecord(float(i), EventKind.LAUNCH, "spot below target", rid)],
            service={"next_replica_id": i + 1},
        )
        print(i, flush=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
