"""`/metrics` in Prometheus text format, and the autoscaler's `/stats` JSON.

Both read `GatewayStats` and the replica set only when asked, so the hot path pays nothing
for them. Each gateway has its own `CollectorRegistry` (several gateways may share a process
in tests). Per-replica series are labelled by replica id only; URLs stay out of metrics.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector

from hedgeserve.gateway.replica_set import ReplicaSet
from hedgeserve.gateway.stats import GatewayStats, LatencyHistogram

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _histogram(name: str, doc: str, hist: LatencyHistogram) -> HistogramMetricFamily:
    buckets = [("+Inf" if b == float("inf") else repr(b), n) for b, n in hist.cumulative()]
    return HistogramMetricFamily(name, doc, buckets=buckets, sum_value=hist.sum_s)


class GatewayCollector(Collector):
    def __init__(self, stats: GatewayStats, replicas: ReplicaSet) -> None:
        self._stats = stats
        self._replicas = replicas

    def collect(self) -> Iterator[Metric]:
        s = self._stats
        yield CounterMetricFamily(
            "hedge_gateway_requests", "Requests accepted by the gateway.", value=s.requests_total
        )
        responses = CounterMetricFamily(
            "hedge_gateway_responses", "Responses by status class.", labels=["code"]
        )
        for code, n in s.responses().items():
            responses.add_metric([code], n)
        yield responses
        errors = CounterMetricFamily(
            "hedge_gateway_errors", "Failures by cause (retried ones included).", labels=["cause"]
        )
        for cause, n in sorted(s.errors_by_cause.items()):
            errors.add_metric([cause], n)
        yield errors
        yield CounterMetricFamily(
            "hedge_gateway_retries", "Attempts re-sent to another replica.", value=s.retries_total
        )
        yield CounterMetricFamily(
            "hedge_gateway_sse_events", "Server-sent events relayed.", value=s.sse_events_total
        )
        yield CounterMetricFamily(
            "hedge_gateway_replica_set_updates",
            "Replica-set pushes or pulls that changed the set.",
            value=s.replica_set_updates_total,
        )
        yield CounterMetricFamily(
            "hedge_gateway_pull_failures",
            "Failed polls of the replica-set URL (last good set kept).",
            value=s.pull_failures_total,
        )
        yield GaugeMetricFamily(
            "hedge_gateway_active", "Requests inside the gateway now.", value=s.active
        )
        yield GaugeMetricFamily(
            "hedge_gateway_queued", "Requests waiting for a ready replica.", value=s.queued
        )
        yield from self._per_replica()
        yield _histogram(
            "hedge_gateway_request_duration_seconds", "Arrival to last byte.", s.latency
        )
        yield _histogram(
            "hedge_gateway_time_to_first_byte_seconds",
            "Arrival to the first body byte sent (first token for streams).",
            s.first_byte,
        )
        yield _histogram(
            "hedge_gateway_queue_wait_seconds",
            "Time requests waited for a ready replica (only those that waited).",
            s.queue_wait,
        )

    def _per_replica(self) -> Iterator[Metric]:
        inflight = GaugeMetricFamily(
            "hedge_gateway_replica_inflight", "Requests in flight per replica.", labels=["replica"]
        )
        sent = CounterMetricFamily(
            "hedge_gateway_replica_requests",
            "Attempts sent per replica (retries included).",
            labels=["replica"],
        )
        failed = CounterMetricFamily(
            "hedge_gateway_replica_errors", "Failed attempts per replica.", labels=["replica"]
        )
        routable = GaugeMetricFamily(
            "hedge_gateway_replica_routable",
            "1 if the replica takes new requests (not draining, not suspect).",
            labels=["replica"],
        )
        for r in self._replicas:
            label = [str(r.id)]
            inflight.add_metric(label, r.inflight)
            sent.add_metric(label, r.requests_total)
            failed.add_metric(label, r.errors_total)
            routable.add_metric(label, 0 if (r.draining or r.suspect) else 1)
        yield from (inflight, sent, failed, routable)


def make_registry(stats: GatewayStats, replicas: ReplicaSet) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(GatewayCollector(stats, replicas))
    ProcessCollector(registry=registry)  # RSS, CPU, open fds of this process
    return registry


def render_metrics(registry: CollectorRegistry) -> bytes:
    return generate_latest(registry)


def stats_document(stats: GatewayStats, replicas: ReplicaSet) -> dict[str, object]:
    """The `/stats` JSON. QPS over a window = Δrequests_total / Δtime between two reads."""
    return {
        "time": time.time(),
        "started_at": stats.started_at_unix,
        "requests_total": stats.requests_total,
        "responses_total": stats.responses(),
        "errors_total": dict(sorted(stats.errors_by_cause.items())),
        "retries_total": stats.retries_total,
        "active": stats.active,
        "queued": stats.queued,
        "replicas": [r.as_dict() for r in replicas],
    }
