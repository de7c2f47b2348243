"""Metrics, request ids and structured logs of ``lacre server``.

``/metrics`` speaks Prometheus: requests and their latency per route and
status, certificates and timestamps issued, and, read at scrape time from the
logs, each log's size and its integration backlog. With
several worker processes the request metrics of all of them are summed
(prometheus-client's multiprocess mode, files in ``DATA_DIR/metrics``, set up by
:func:`lacre.apps.server.metricsdir.prepare_metrics` before this module is imported).

Every request gets an id (the caller's ``X-Request-Id`` when it is sane, else
a new one), echoed in the response; log lines are JSON objects, one per line,
carrying it; at level ``info`` every request is logged (an access log).
"""

from __future__ import annotations

import functools
import json
import logging
import os
import re
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from contextvars import ContextVar

from prometheus_client import Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lacre.apps.server.metricsdir import MULTIPROCESS_ENVIRONMENT

REQUEST_ID_HEADER = "x-request-id"
_SANE_ID = re.compile(r"[-A-Za-z0-9_.:]{1,128}")
_LOG = logging.getLogger("lacre.requests")
request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
"""The id of the request being answered (None outside a request)."""


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, request id, extras."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as a JSON line."""
        entry: dict[str, object] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        current = request_id.get()
        if current is not None:
            entry["request_id"] = current
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_logging(level: str) -> None:
    """Send every log record to stderr as JSON lines, at ``level`` and above."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())


class Observed:
    """ASGI middleware: request id, access log line, request count and latency."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        direct_paths: frozenset[str],
        issuing: Mapping[str, str],
    ) -> None:
        """Wrap ``app``.

        ``direct_paths`` are answered in front of the router (no route in the
        scope) and are labelled by themselves; a successful POST to a path of
        ``issuing`` counts one issued item of the kind it maps to.
        """
        self.app = app
        self._direct_paths = direct_paths
        self._issuing = dict(issuing)
        self._requests, self._latency, self._issued = _request_metrics()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer through the wrapped app, measuring and labelling the request."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = _request_id(scope)
        token = request_id.set(rid)
        status = 500
        started = time.perf_counter()

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", rid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            self._record(scope, status, time.perf_counter() - started)
            request_id.reset(token)

    def _record(self, scope: Scope, status: int, elapsed: float) -> None:
        route = self._route(scope)
        method = scope["method"]
        self._requests.labels(method, route, str(status)).inc()
        self._latency.labels(method, route).observe(elapsed)
        kind = self._issuing.get(route)
        if kind is not None and status in (200, 201) and method == "POST":
            self._issued.labels(kind).inc()
        if _LOG.isEnabledFor(logging.INFO):
            fields = {"method": method, "path": scope["path"], "route": route}
            fields |= {"status": status, "duration_s": round(elapsed, 6)}
            _LOG.info("request", extra={"fields": fields})

    def _route(self, scope: Scope) -> str:
        """The route template, so that labels stay few; unmatched paths share one label."""
        path: object = getattr(scope.get("route"), "path", None)
        if isinstance(path, str):
            return path
        return str(scope["path"]) if scope["path"] in self._direct_paths else "unmatched"


@functools.cache
def _request_metrics() -> tuple[Counter, Histogram, Counter]:
    """The request metrics, made once per process (after :func:`prepare_metrics`)."""
    from prometheus_client import Counter, Histogram

    requests = Counter(
        "lacre_http_requests", "HTTP requests answered", ["method", "route", "status"]
    )
    latency = Histogram(
        "lacre_http_request_duration_seconds",
        "Time to answer HTTP requests",
        ["method", "route"],
        buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10),
    )
    issued = Counter("lacre_issued", "Certificates and timestamps issued", ["kind"])
    return requests, latency, issued


def _request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name == REQUEST_ID_HEADER.encode():
            text = bytes(value).decode("latin-1")
            if _SANE_ID.fullmatch(text):
                return text
    return uuid.uuid4().hex


def metrics_text(gauges: Callable[[], Mapping[str, Iterable[tuple[str, float]]]]) -> bytes:
    """The Prometheus exposition: request metrics (of every worker) and ``gauges()`` now.

    ``gauges`` maps a metric name to ``(log name, value)`` pairs.
    """
    from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
    from prometheus_client.multiprocess import MultiProcessCollector

    if os.environ.get(MULTIPROCESS_ENVIRONMENT):
        requests = CollectorRegistry()
        MultiProcessCollector(requests)  # type: ignore[no-untyped-call]
    else:
        requests = REGISTRY
    state = CollectorRegistry()
    state.register(_Gauges(gauges))
    return generate_latest(requests) + generate_latest(state)


class _Gauges(Collector):
    def __init__(self, gauges: Callable[[], Mapping[str, Iterable[tuple[str, float]]]]) -> None:
        self._gauges = gauges

    def collect(self) -> Iterable[Metric]:
        for name, values in self._gauges().items():
            family = GaugeMetricFamily(name, _HELP.get(name, name), labels=["log"])
            for log, value in values:
                family.add_metric([log], value)
            yield family


_HELP = {
    "lacre_log_size": "Entries in each log (the CT log's size counts certificates issued)",
    "lacre_log_backlog": "Entries of each log waiting for integration in this process",
}
