"""Prometheus metrics of the tool, with the official client (`prometheus_client`).

- `container_operations_total{operation,result}`: calls, by operation and result (`ok` or the
  error code);
- `container_operation_duration_seconds{operation}`: a histogram of their durations;
- `containers_active{tenant}`: managed containers on the engine, counted when scraped.

The metrics live in the tool's own registry (`REGISTRY`), not the client's global default, so a
program that embeds the tool keeps its own metrics apart, and one process's tools (the MCP
server's sessions) add up into one set. Counters are per process: a long-lived process (the MCP
server, at `/metrics` with `--http`) accumulates them; `containers-tool metrics` prints those of
its own short run, of which `containers_active` is the useful part.
"""

from __future__ import annotations

import threading
from collections import Counter as Tally
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from containers_tool import labels as lb
from containers_tool.core.activity import tenant_of

if TYPE_CHECKING:
    from containers_tool.context import Context

#: The Content-Type of the text exposition format.
CONTENT_TYPE = CONTENT_TYPE_LATEST

REGISTRY = CollectorRegistry(auto_describe=True)
OPERATIONS = Counter(
    "container_operations_total",
    "Tool operations by operation and result (ok or the error code).",
    ["operation", "result"],
    registry=REGISTRY,
)
DURATION = Histogram(
    "container_operation_duration_seconds",
    "Duration of tool operations in seconds.",
    ["operation"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300),
    registry=REGISTRY,
)

#: Returns the labels of every managed container (one engine list), for `containers_active`.
Source = Callable[[], Iterable[Mapping[str, str]]]


class _Active(Collector):
    """`containers_active{tenant}`, counted from the engine at each scrape (every process's)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._source: Source | None = None
        self._tenant: Callable[[Mapping[str, str]], str] = lambda _labels: "default"

    def watch(self, source: Source, tenant: Callable[[Mapping[str, str]], str]) -> None:
        with self._lock:
            self._source, self._tenant = source, tenant

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily(
            "containers_active", "Managed containers on the engine, by tenant.", labels=["tenant"]
        )
        with self._lock:
            source, tenant = self._source, self._tenant
        if source is not None:
            try:
                counts = Tally(tenant(labels) for labels in source())
            except Exception:  # noqa: BLE001 - an unreachable engine must not fail the scrape
                counts = Tally()
            for name, count in sorted(counts.items()):
                family.add_metric([name], count)
        yield family

    def describe(self) -> Iterator[Metric]:
        yield GaugeMetricFamily("containers_active", "", labels=["tenant"])


ACTIVE = _Active()
REGISTRY.register(ACTIVE)


#: The labelled children by (operation, result): `labels()` takes the metric's lock and builds
#: its key on every call, and nothing removes a child. Both label values come from closed sets.
_CHILDREN: dict[tuple[str, str], tuple[Counter, Histogram]] = {}


def record(operation: str, result: str, seconds: float) -> None:
    """Counts one operation and observes its duration."""
    key = (operation, result)
    children = _CHILDREN.get(key)
    if children is None:
        children = _CHILDREN.setdefault(
            key, (OPERATIONS.labels(operation, result), DURATION.labels(operation))
        )
    children[0].inc()
    children[1].observe(seconds)


def watch_active(source: Source, tenant: Callable[[Mapping[str, str]], str]) -> None:
    """Sets where `containers_active` counts from (the process's engine connection)."""
    ACTIVE.watch(source, tenant)


def watch_context(ctx: Context) -> None:
    """Makes `containers_active` count the managed containers of this context's engine."""

    def labels() -> list[dict[str, str]]:
        return [dict(i.labels) for i in ctx.runtime.list_containers(lb.managed_filter())]

    watch_active(labels, tenant_of)


def exposition() -> bytes:
    """The registry in the Prometheus text format."""
    return generate_latest(REGISTRY)
