"""Simulated CockroachDB nodes serving ``/_status/vars`` live, in CockroachDB's Prometheus text format.

Simulated time runs ``speed`` times faster than the wall clock and starts over (like a restart of
every node) when the scenario ends. Unix-time gauges are mapped back onto the wall clock, so
``time() - value`` in Prometheus is an age in wall-clock seconds.
"""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from crdb_dash.simulator import EXPORTED, UNIX_TIME, ClusterModel, Scenario


class Clock:
    def __init__(self, duration: int, speed: float, start: float | None = None):
        self.duration = duration
        self.speed = speed
        self.start = time.time() if start is None else start

    def offset(self, now: float | None = None) -> int:
        """Simulated seconds since the scenario (re)started."""
        elapsed = ((time.time() if now is None else now) - self.start) * self.speed
        return int(elapsed) % (self.duration + 1)

    def wall(self, offset: float, now: float | None = None) -> float:
        """The wall-clock time of a simulated offset in the current lap."""
        now = time.time() if now is None else now
        lap_start = now - self.offset(now) / self.speed
        return lap_start + offset / self.speed


def exposition(model: ClusterModel, node: int, clock: Clock) -> str:
    """What ``node`` of ``model`` serves at /_status/vars now: HELP and TYPE lines, then samples."""
    t = clock.offset()
    lines = []
    for m in EXPORTED:
        lines.append(f"# HELP {m.exported} {m.meaning}")
        lines.append(f"# TYPE {m.exported} {m.type}")
        for tenant in model.tenants:
            if not model.exists(tenant, t):
                continue  # the virtual cluster has not started yet
            value = model.value(m.exported, m.kind, node, tenant, t)
            if value is None:
                return ""  # the node is restarting, or this scrape is missed
            if m.kind in UNIX_TIME and value:
                value = round(clock.wall(value))
            label = model.tenant_label(tenant, t)
            labels = f'node_id="{node}"' + (f',tenant="{label}"' if label is not None else "")
            lines.append(f"{m.exported}{{{labels}}} {_num(value)}")
    return "\n".join(lines) + "\n"


def _num(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else repr(v)


class Node:
    """One simulated node's HTTP server on 127.0.0.1."""

    def __init__(self, model: ClusterModel, node: int, clock: Clock, port: int = 0):
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's name
                if self.path.split("?")[0] != "/_status/vars":
                    self.send_error(404)
                    return
                body = exposition(outer.model, outer.node, outer.clock).encode()
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

        self.model, self.node, self.clock = model, node, clock
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


def start_cluster_nodes(scenario: Scenario, speed: float) -> dict[str, list[Node]]:
    """Every node of every cluster of the scenario, serving; stop them with ``stop_all``."""
    clock = Clock(scenario.duration, speed)
    nodes: dict[str, list[Node]] = {}
    try:
        for cluster in scenario.clusters:
            model = ClusterModel(cluster, scenario.duration)
            nodes[cluster.name] = [Node(model, n, clock).start() for n in model.node_ids]
    except OSError:
        stop_all(nodes)
        raise
    return nodes


def stop_all(nodes: dict[str, list[Node]]) -> None:
    for group in nodes.values():
        for node in group:
            node.stop()


def scrape_config(nodes: dict[str, list[Node]], interval: str, job: str = "cockroachdb",
                  rule_files: list[str] = ()) -> str:
    """A prometheus.yml scraping every simulated node as CockroachDB's own example config does."""
    import yaml

    return yaml.safe_dump({
        "global": {"scrape_interval": interval, "evaluation_interval": interval},
        "rule_files": list(rule_files),
        "scrape_configs": [{
            "job_name": job, "metrics_path": "/_status/vars", "scheme": "http",
            "static_configs": [{"targets": [n.address for n in group], "labels": {"cluster": name}}
                               for name, group in nodes.items()],
        }],
    }, sort_keys=False)

