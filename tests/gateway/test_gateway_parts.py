"""The small parts: retry rules, replica-set bookkeeping, wire format, keys, config."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

import pytest

from hedgeserve.errors import InputError
from hedgeserve.gateway.auth import BearerKeys, keys_from_env, keys_from_file, split_keys
from hedgeserve.gateway.config import GatewayConfig
from hedgeserve.gateway.failures import MARKS_SUSPECT, RETRYABLE, Cause, backoff_s, status_cause
from hedgeserve.gateway.replica_set import ReplicaSet
from hedgeserve.gateway.replica_spec import ReplicaSpec, parse_replica_set, specs_from_urls
from hedgeserve.gateway.routing import LeastLoad
from hedgeserve.gateway.stats import LatencyHistogram

# --- failures ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("retry", "base", "cap", "low", "high"),
    [
        (1, 0.01, 0.5, 0.005, 0.01),  # 0.01 * 2**0, jittered into [1/2, 1]
        (3, 0.01, 0.5, 0.02, 0.04),  # 0.01 * 2**2
        (10, 0.01, 0.5, 0.25, 0.5),  # capped
    ],
)
def test_backoff_grows_then_caps_with_jitter(
    retry: int, base: float, cap: float, low: float, high: float
) -> None:
    rng = random.Random(0)
    values = [backoff_s(retry, rng, base_s=base, cap_s=cap) for _ in range(200)]
    assert low <= min(values) and max(values) <= high
    assert max(values) - min(values) > (high - low) / 2  # jitter actually spreads


def test_backoff_rejects_retry_zero() -> None:
    with pytest.raises(ValueError):
        backoff_s(0, random.Random(0), base_s=0.01, cap_s=1)


def test_only_pre_answer_failures_are_retried() -> None:
    assert status_cause(502) is Cause.UPSTREAM_502 and status_cause(503) is Cause.UPSTREAM_503
    assert status_cause(500) is None and status_cause(504) is None and status_cause(200) is None
    # A first-byte timeout may mean "still generating": re-sending would run it twice.
    assert Cause.FIRST_BYTE_TIMEOUT not in RETRYABLE
    assert Cause.MIDSTREAM not in RETRYABLE and Cause.IDLE_TIMEOUT not in RETRYABLE
    assert Cause.RESET in RETRYABLE and Cause.RESET not in MARKS_SUSPECT
    assert MARKS_SUSPECT <= RETRYABLE


# --- replica set ------------------------------------------------------------------------


def test_apply_keeps_objects_of_unchanged_replicas_and_retires_the_rest() -> None:
    rs = ReplicaSet()
    rs.apply(specs_from_urls(["http://127.0.0.1:1", "http://127.0.0.1:2"], where="t"))
    a, b = rs.get(0), rs.get(1)
    assert a is not None and b is not None
    a.inflight = 3  # requests in flight survive a push
    change = rs.apply(
        [
            ReplicaSpec(0, "http://127.0.0.1:1", weight=2.0),
            ReplicaSpec(2, "http://127.0.0.1:3"),
        ]
    )
    assert (change.added, change.removed, change.updated) == ((2,), (1,), (0,))
    assert rs.get(0) is a and a.inflight == 3 and a.weight == 2.0
    assert b.retired and rs.get(1) is None
    # Same id at a new address is a new replica; the old object is retired.
    rs.apply([ReplicaSpec(0, "http://127.0.0.1:9")])
    assert a.retired and rs.get(0) is not a


def test_draining_and_suspect_replicas_take_no_new_requests() -> None:
    rs = ReplicaSet()
    rs.apply(
        [
            ReplicaSpec("a", "http://127.0.0.1:1"),
            ReplicaSpec("b", "http://127.0.0.1:2", draining=True),
            ReplicaSpec("c", "http://127.0.0.1:3"),
        ]
    )
    c = rs.get("c")
    assert c is not None
    rs.mark_suspect(c)
    assert [r.id for r in rs.eligible] == ["a"]
    # suspect=None keeps the gateway's judgment; False is the controller clearing it.
    rs.apply([ReplicaSpec("a", "http://127.0.0.1:1"), ReplicaSpec("c", "http://127.0.0.1:3")])
    assert c.suspect
    rs.apply([ReplicaSpec("c", "http://127.0.0.1:3", suspect=False)])
    assert not c.suspect and [r.id for r in rs.eligible] == ["c"]


def test_pick_avoids_tried_replicas_while_others_are_eligible() -> None:
    rs = ReplicaSet()
    rs.apply(specs_from_urls(["http://127.0.0.1:1", "http://127.0.0.1:2"], where="t"))
    a, b = rs.get(0), rs.get(1)
    rng = random.Random(0)
    for _ in range(20):
        assert rs.pick(LeastLoad(), rng, [a]) is b  # type: ignore[list-item]
    # Everything tried: an eligible one may be tried again (a probe or the controller cleared it).
    assert rs.pick(LeastLoad(), rng, [a, b]) in (a, b)  # type: ignore[list-item]
    rs.apply([])
    assert rs.pick(LeastLoad(), rng) is None


def test_marks_on_retired_replicas_are_ignored() -> None:
    rs = ReplicaSet()
    rs.apply(specs_from_urls(["http://127.0.0.1:1"], where="t"))
    old = rs.get(0)
    assert old is not None
    rs.apply([])
    rs.mark_suspect(old)  # a late failure of a request to a removed replica
    assert not old.suspect


async def test_waiters_wake_on_change_and_time_out_otherwise() -> None:
    rs = ReplicaSet()
    assert await rs.wait_for_change(0.01) is False
    waiter = asyncio.create_task(rs.wait_for_change(5))
    await asyncio.sleep(0.01)
    rs.apply(specs_from_urls(["http://127.0.0.1:1"], where="t"))
    assert await asyncio.wait_for(waiter, 1) is True


# --- wire format ------------------------------------------------------------------------


def test_parse_replica_set_accepts_object_or_list() -> None:
    doc = [
        {"id": 1, "url": "http://10.0.0.5:8080/", "weight": 2},
        {"id": "b", "url": "https://host.example/prefix", "draining": True, "suspect": False},
    ]
    want = (
        ReplicaSpec(1, "http://10.0.0.5:8080", 2.0),
        ReplicaSpec("b", "https://host.example/prefix", 1.0, True, False),
    )
    assert parse_replica_set(doc, where="t") == want
    assert parse_replica_set({"replicas": doc}, where="t") == want


@pytest.mark.parametrize(
    ("doc", "fragment"),
    [
        ({"replicas": [{"id": 1}]}, "replicas.0.url"),
        ({"replicas": [{"id": 1, "url": "ftp://x"}]}, "not an absolute http"),
        ({"replicas": [{"id": 1, "url": "http://x:1/?q=1"}]}, "query"),
        ({"replicas": [{"id": 1, "url": "http://x:1", "weight": 0}]}, "weight"),
        ({"replicas": [{"id": 1.5, "url": "http://x:1"}]}, "id"),
        ({"replicas": [{"id": 1, "url": "http://x:1", "color": "red"}]}, "color"),
        ([{"id": 1, "url": "http://x:1"}, {"id": 1, "url": "http://x:2"}], "id 1 appears twice"),
        ([{"id": 1, "url": "http://x:1"}, {"id": 2, "url": "http://x:1"}], "appears twice"),
        ("nonsense", "top level"),
    ],
    ids=["no-url", "scheme", "query", "weight", "float-id", "extra", "dup-id", "dup-url", "str"],
)
def test_bad_replica_sets_are_input_errors(doc: object, fragment: str) -> None:
    with pytest.raises(InputError) as err:
        parse_replica_set(doc, where="PUT /replicas")
    assert fragment in str(err.value)


# --- keys -------------------------------------------------------------------------------


def test_bearer_keys() -> None:
    keys = BearerKeys(["k1", "k2-long-key"])
    assert keys.allows("Bearer k1") and keys.allows("bearer k2-long-key")
    assert keys.allows("Bearer  k1 ")  # stray whitespace
    for bad in (None, "", "k1", "Basic k1", "Bearer k", "Bearer k1x", "Bearer "):
        assert not keys.allows(bad)
    with pytest.raises(ValueError):
        BearerKeys([""])


def test_keys_from_env_and_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert split_keys("a, b\nc # comment\n# only comment\n") == ["a", "b", "c"]
    monkeypatch.setenv("HEDGE_TEST_KEYS", "x,y")
    assert keys_from_env("HEDGE_TEST_KEYS") == ["x", "y"]
    monkeypatch.delenv("HEDGE_TEST_KEYS")
    with pytest.raises(InputError, match="not set"):
        keys_from_env("HEDGE_TEST_KEYS")
    path = tmp_path / "keys"
    path.write_text("# keys\nkey-one\n")
    assert keys_from_file(path, where="--api-key-file") == ["key-one"]
    with pytest.raises(InputError, match="cannot read"):
        keys_from_file(tmp_path / "missing", where="--api-key-file")
    path.write_text("# nothing\n")
    with pytest.raises(InputError, match="no key"):
        keys_from_file(path, where="--api-key-file")


# --- config and stats -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "fragment"),
    [
        ({"policy": "nope"}, "unknown load balancing policy"),
        ({"port": 70000}, "out of range"),
        ({"admin_port": 0}, "admin API needs a token"),
        ({"tls_cert": Path("c.pem")}, "both a certificate and a key"),
        ({"queue_timeout_s": 0}, "queue_timeout_s must be > 0"),
        ({"max_attempts": 0}, "max_attempts"),
        ({"probe_path": "health"}, "probe_path"),
        ({"pull_url": "not a url"}, "not an absolute"),
    ],
)
def test_config_rejects_what_cannot_run(fields: dict[str, object], fragment: str) -> None:
    with pytest.raises(InputError, match=fragment):
        GatewayConfig(**fields)  # type: ignore[arg-type]


def test_histogram_buckets_are_cumulative() -> None:
    hist = LatencyHistogram((0.01, 0.1))
    for v in (0.005, 0.01, 0.05, 3.0):
        hist.observe(v)
    assert hist.cumulative() == [(0.01, 2), (0.1, 3), (float("inf"), 4)]
    assert hist.count == 4 and hist.sum_s == pytest.approx(3.065)
