"""Simulated CockroachDB nodes serving ``/_status/vars`` live, in CockroachDB's Prometheus text format.

The nodes run on the wall clock: offset ``t`` of the scenario is unix time ``start + t``, so sample
timestamps, the unix-time gauges, the age gauges and Prometheus' ``time()`` all agree.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from crdb_dash.model.catalog import UPTIME
from crdb_dash.model.naming import Naming
from crdb_dash.simulation.simulator import BY_VIRTUAL_CLUSTER, EXPORTED, ClusterModel, Scenario, sample_text

SELF_HOSTED = Naming()


class Clock:
    """The scenario's offsets on the wall clock: offset 0 is unix time ``start``."""

    def __init__(self, start: float):
        self.start = start

    def offset(self, now: float | None = None) -> int:
        """Scenario seconds since the start."""
        return int((time.time() if now is None else now) - self.start)

    def wall(self, offset: float) -> float:
        return self.start + offset


@dataclass(frozen=True)
class Labels:
    """The labels Prometheus puts on the demo's series: the config's selector and label names."""

    job: str = "cockroachdb"
    extra: dict[str, str] = field(default_factory=dict)  # the selector's other equality matchers
    cluster: str = "cluster"
    node: str = "instance"  # "instance", "node_id" or a label the demo sets per node
    tenant: str = "tenant"  # CockroachDB exports "tenant"; another name is a rename in Prometheus

    def target(self, cluster: str, node: int, address: str) -> dict[str, str]:
        """Every label Prometheus attaches to the series scraped from one node."""
        labels = {"job": self.job, "instance": address, **self.extra, self.cluster: cluster}
        if self.node not in ("instance", "node_id"):
            labels[self.node] = f"{cluster}-n{node}"
        return labels

    def rename_tenant(self, labels: dict[str, str]) -> dict[str, str]:
        if self.tenant == "tenant" or "tenant" not in labels:
            return labels
        renamed = {k: v for k, v in labels.items() if k != "tenant"}
        renamed[self.tenant] = labels["tenant"]
        return renamed


def exposition(model: ClusterModel, node: int, clock: Clock, naming: Naming = SELF_HOSTED) -> str:
    """What ``node`` of ``model`` serves now: HELP and TYPE lines, then samples, named as ``naming`` says."""
    t = clock.offset()
    if not model.up(node, t):
        return ""  # the node is restarting
    lines, declared = [], set()
    for m in EXPORTED:
        name, extra = naming.family(m.exported)
        if name not in declared:  # with static labels several metrics share one family
            declared.add(name)
            lines += [f"# HELP {name} {m.meaning}", f"# TYPE {name} {m.type}"]
        for tenant in model.tenants:
            if not model.exists(tenant, t):
                continue  # the virtual cluster has not started yet
            value = model.value(m.exported, m.kind, node, tenant, t)
            if value is None:
                return ""  # the node is restarting, or this scrape is missed
            if m.unix_time and value:
                value = round(clock.wall(value))
            lines.append(f"{name}{{{_labels(node, model.tenant_label(tenant, t), extra)}}} {sample_text(value)}")
    uptime = naming.family(UPTIME)[0]
    lines += [f"# HELP {uptime} Process uptime", f"# TYPE {uptime} gauge",
              f"{uptime}{{{_labels(node, model.tenant_label(model.tenants[0], t))}}} {model.uptime(node, t)}"]
    if model.tenants[0] is not None:
        name = naming.family(BY_VIRTUAL_CLUSTER)[0]
        lines.append(f"# TYPE {name} gauge")
        for tenant_id, tenant in enumerate(model.tenants[1:], start=2):
            if not model.exists(tenant, t):
                continue
            value = model.last_completed(node, tenant, t)
            lines.append(f'{name}{{{_labels(node, "system", {"tenant_id": str(tenant_id)})}}} '
                         f"{sample_text(round(clock.wall(value)) if value else 0)}")
    return "\n".join(lines) + "\n"


def _labels(node: int, tenant: str | None, extra: dict[str, str] | None = None) -> str:
    labels = {"node_id": str(node), **({"tenant": tenant} if tenant is not None else {}), **(extra or {})}
    return ",".join(f'{k}="{v}"' for k, v in labels.items())


class Node:
    """One simulated node's HTTP server on 127.0.0.1."""

    def __init__(self, model: ClusterModel, node: int, clock: Clock, port: int = 0, naming: Naming = SELF_HOSTED):
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's name
                if self.path.split("?")[0] != "/_status/vars":
                    self.send_error(404)
                    return
                body = exposition(outer.model, outer.node, outer.clock, outer.naming).encode()
                if not body:
                    self.send_error(503, "node restarting")
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.model, self.node, self.clock, self.naming = model, node, clock, naming
        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> Node:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def start_cluster_nodes(scenario: Scenario, clock: Clock, horizon: int | None = None,
                        naming: Naming = SELF_HOSTED) -> dict[str, list[Node]]:
    """Every node of every cluster of the scenario, serving; stop them with ``stop_all``.

    ``horizon`` (seconds from the start, default the scenario's duration) is how far the scenario goes
    on: schedules keep running until then.
    """
    nodes: dict[str, list[Node]] = {}
    try:
        for cluster in scenario.clusters:
            model = ClusterModel(cluster, horizon or scenario.duration)
            nodes[cluster.name] = [Node(model, n, clock, naming=naming).start() for n in model.node_ids]
    except OSError:
        stop_all(nodes)
        raise
    return nodes


def stop_all(nodes: dict[str, list[Node]]) -> None:
    for group in nodes.values():
        for node in group:
            node.stop()


def scrape_config(nodes: dict[str, list[Node]], interval: str, labels: Labels = Labels(),
                  rule_files: list[str] = (), evaluation_interval: str | None = None) -> str:
    """A prometheus.yml scraping every simulated node, labelled as ``labels`` says."""
    import yaml

    job = {
        "job_name": labels.job, "metrics_path": "/_status/vars", "scheme": "http",
        "static_configs": [{"targets": [n.address], "labels": _without(labels.target(name, n.node, n.address),
                                                                       "job", "instance")}
                           for name, group in nodes.items() for n in group],
    }
    if labels.tenant != "tenant":
        job["metric_relabel_configs"] = [
            {"source_labels": ["tenant"], "target_label": labels.tenant},
            {"action": "labeldrop", "regex": "tenant"},
        ]
    return yaml.safe_dump({
        "global": {"scrape_interval": interval, "evaluation_interval": evaluation_interval or interval},
        "rule_files": list(rule_files),
        "scrape_configs": [job],
    }, sort_keys=False)


def _without(labels: dict[str, str], *names: str) -> dict[str, str]:
    return {k: v for k, v in labels.items() if k not in names}
