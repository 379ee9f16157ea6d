"""Prometheus metrics for /metrics: what to watch when Careline runs on many hosts.

Most values are read when Prometheus scrapes, from the shared database and broker, so every web process
answers the same whatever it served: apps register a source (core knows no domain) that yields metric
families for the instant of the scrape. Request counts and durations are the only in-process values; under
gunicorn with several workers set PROMETHEUS_MULTIPROC_DIR (prometheus-client's multi-process mode) so a
scrape adds up every worker's files.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from kombu import Connection
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

logger = logging.getLogger(__name__)

MetricsSource = Callable[[datetime], Iterable[Metric]]
_sources: dict[str, MetricsSource] = {}

# Request metrics: one registry of this module's own (not prometheus-client's global one, which also holds
# process metrics that mean nothing added over gunicorn workers).
REQUEST_REGISTRY = CollectorRegistry(auto_describe=True)
REQUESTS = Counter(
    "careline_http_requests",
    "HTTP requests answered, by route pattern, method and status class",
    ["route", "method", "status"],
    registry=REQUEST_REGISTRY,
)
REQUEST_SECONDS = Histogram(
    "careline_http_request_duration_seconds",
    "Time to answer an HTTP request, by route pattern",
    ["route"],
    buckets=(0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
    registry=REQUEST_REGISTRY,
)


def register_metrics_source(name: str, source: MetricsSource) -> None:
    """Add SOURCE to /metrics under NAME: called at each scrape with its instant, it yields metric families."""
    _sources[name] = source


def lag_seconds(now: datetime, oldest: datetime | None) -> float:
    """Seconds from OLDEST to NOW; 0 when nothing waits (or it is in the future)."""
    return max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0


def broker_queues() -> list[str]:
    """The Celery queues to measure: the default queue, beat's sweeps and any routed one."""
    queues = [settings.CELERY_TASK_DEFAULT_QUEUE, settings.CARELINE_SWEEP_QUEUE]
    for route in dict(getattr(settings, "CELERY_TASK_ROUTES", None) or {}).values():
        queue = route.get("queue") if isinstance(route, dict) else None
        if queue and queue not in queues:
            queues.append(str(queue))
    return queues


def queue_depths(url: str, queues: Iterable[str]) -> dict[str, int]:
    """Messages waiting in each of QUEUES on the broker at URL (Redis: the list's length, all priorities)."""
    depths: dict[str, int] = {}
    options: dict[str, Any] = {"max_retries": 0}
    if url.startswith("filesystem://"):
        options = dict(settings.CELERY_BROKER_TRANSPORT_OPTIONS)
    with Connection(url, connect_timeout=2, transport_options=options) as conn:
        channel: Any = conn.channel()
        for queue in queues:
            try:
                depths[queue] = int(channel.queue_declare(queue=queue, passive=True).message_count)
            except conn.channel_errors:
                depths[queue] = 0  # never declared: nothing was ever sent to it
    return depths


def _broker_source(now: datetime) -> Iterator[Metric]:
    depth = GaugeMetricFamily(
        "careline_queue_depth",
        "Tasks waiting in the broker's queue (not yet taken by a worker)",
        labels=["queue"],
    )
    for queue, count in queue_depths(settings.CELERY_BROKER_URL, broker_queues()).items():
        depth.add_metric([queue], count)
    yield depth


register_metrics_source("broker", _broker_source)


class ScrapeCollector(Collector):
    """Every registered source at the instant of the scrape; a source that fails is reported, not fatal."""

    def collect(self) -> Iterator[Metric]:
        now = timezone.now()
        up = GaugeMetricFamily(
            "careline_metrics_source_up",
            "1 when the source answered this scrape, 0 when it failed",
            labels=["source"],
        )
        merged: dict[str, Metric] = {}
        for name, source in _sources.items():
            try:
                families = list(source(now))
            except Exception as exc:  # noqa: BLE001 - one unreachable source must not hide the others
                logger.warning("metrics source %s failed: %s", name, type(exc).__name__)
                up.add_metric([name], 0)
                continue
            up.add_metric([name], 1)
            # Apps may share a family (careline_due_lag_seconds by kind): one TYPE line, every app's samples.
            for family in families:
                if family.name in merged:
                    merged[family.name].samples.extend(family.samples)
                else:
                    merged[family.name] = family
        yield from merged.values()
        yield up


def metrics_text() -> bytes:
    """The exposition text: the scrape-time sources, then the request metrics (of every gunicorn worker when
    PROMETHEUS_MULTIPROC_DIR is set)."""
    scrape = CollectorRegistry(auto_describe=False)
    scrape.register(ScrapeCollector())
    output = generate_latest(scrape)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        combined = CollectorRegistry(auto_describe=False)
        MultiProcessCollector(combined)
        return output + generate_latest(combined)
    return output + generate_latest(REQUEST_REGISTRY)


def _route_of(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    # The pattern, never the path: ids in paths would make a series per patient.
    return str(match.route) if match is not None and match.route else "unmatched"


class RequestMetricsMiddleware:
    """Counts and times every request by its route pattern (bounded labels, no ids, no patient data)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        route = _route_of(request)
        REQUESTS.labels(
            route=route, method=request.method or "", status=f"{response.status_code // 100}xx"
        ).inc()
        REQUEST_SECONDS.labels(route=route).observe(time.perf_counter() - started)
        return response
