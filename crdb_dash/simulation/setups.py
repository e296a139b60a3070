"""The ways simulated nodes reach Prometheus in real setups (NAMING.md), for tests, the demo and doctor.

A ``Setup`` turns one series as CockroachDB's ``/_status/vars`` scraped by CockroachDB's own example
config would store it (job, instance, cluster, node_id, tenant) into the series another setup stores:
other names, other labels, or two copies when every pod is scraped twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from crdb_dash.model.naming import Naming
from crdb_dash.simulation.simulator import Series


@dataclass(frozen=True)
class Setup:
    name: str  # the config preset that fits it
    naming: Naming
    relabel: Callable[[dict[str, str]], list[dict[str, str]]]  # scrape labels -> one label set per copy

    def scraped(self, s: Series) -> list[Series]:
        name, extra = (s.name, {}) if s.name == "up" else self.naming.family(s.name)
        return [replace(s, name=name, labels={**labels, **extra}) for labels in self.relabel(s.labels)]


def _same(labels: dict) -> list[dict]:
    return [labels]


def _cloud(labels: dict) -> list[dict]:
    """One scrape target per region; nodes told apart by node and node_id."""
    if "node_id" not in labels and not labels["instance"].endswith("-n1:8080"):
        return []  # up: the region's one target
    node = {k: v for k, v in labels.items() if k not in ("job", "instance")}
    node.update(job="crdb-cloud", instance="us-east1", region="us-east1", organization="acme")
    if "node_id" in labels:
        node.update(node=labels["node_id"], store=labels["node_id"])
    return [node]


def _helm(labels: dict) -> list[dict]:
    """The Helm chart's own ServiceMonitor over a release of the chart's default name in each cluster's namespace:
    job = Service name, no cluster label, each pod under two Services."""
    namespace = labels["cluster"]
    node = labels["instance"].split("-n")[-1].split(":")[0]
    rest = {k: v for k, v in labels.items() if k not in ("job", "instance", "cluster")}
    pod = {"pod": f"cockroachdb-{int(node) - 1}", "namespace": namespace, "endpoint": "http",
           "instance": f"10.8.{len(namespace)}.{node}:8080"}
    return [{**rest, **pod, "job": service, "service": service} for service in ("cockroachdb", "cockroachdb-public")]


SETUPS: dict[str, Setup] = {s.name: s for s in (
    Setup("self-hosted", Naming(), _same),
    Setup("metrics-endpoint", Naming(static_labels=True), _same),
    Setup("cloud", Naming(prefix="crdb_cloud_"), _cloud),
    Setup("dedicated", Naming(prefix="crdb_dedicated_", lower_case=True), _cloud),
    Setup("helm", Naming(), _helm),
)}
