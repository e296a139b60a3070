"""``crdb-dash demo``: simulated nodes, a local Prometheus scraping them, and Grafana provisioning for both."""

from __future__ import annotations

import signal
import tempfile
import time
from pathlib import Path

from crdb_dash import build, live, promrun, rules
from crdb_dash.config import Config


def run(cfg: Config, scenario, speed: float, out: Path, seconds: float | None, say=print) -> int:
    nodes = live.start_cluster_nodes(scenario, speed)
    try:
        with tempfile.TemporaryDirectory(prefix="crdb-dash-demo-") as work:
            rule_file = Path(work) / "rules.yml"
            rule_file.write_text(rules.render(cfg)[rules.RULES_FILE])
            config = live.scrape_config(nodes, cfg["scrape_interval"], rule_files=[str(rule_file)])
            with promrun.Prometheus(Path(work) / "tsdb", config=config) as prom:
                _write_provisioning(cfg, prom.url, out)
                _announce(say, scenario, nodes, prom.url, out, speed)
                _wait(seconds)
    finally:
        live.stop_all(nodes)
    say("stopped the simulated nodes and Prometheus")
    return 0


def _write_provisioning(cfg: Config, prometheus_url: str, out: Path) -> None:
    raw = {**cfg.raw, "datasource": {**cfg.raw["datasource"], "url": prometheus_url}}
    files = build.render(Config(raw, cfg.source))
    build.write({rel: text for rel, text in files.items() if rel.startswith(build.GRAFANA_DIR + "/")}, out)


def _announce(say, scenario, nodes, prometheus_url: str, out: Path, speed: float) -> None:
    say(f"scenario {scenario.name}: {scenario.description} ({speed:g}x real time)")
    for cluster, group in nodes.items():
        say(f"  cluster {cluster}: " + " ".join(f"http://{n.address}/_status/vars" for n in group))
    say(f"Prometheus: {prometheus_url}  (alerts: {prometheus_url}/alerts)")
    say(f"Grafana provisioning: {(out / build.GRAFANA_DIR).resolve()}")
    say("Next: run Grafana with that directory mounted, on the host network so it reaches Prometheus:")
    say(f"  docker run --rm --network host -v {(out / build.GRAFANA_DIR).resolve()}:/etc/grafana/provisioning "
        "grafana/grafana")
    say("  then open http://localhost:3000 (admin/admin) > Dashboards > CockroachDB Backups. Ctrl-C stops the demo.")


def _wait(seconds: float | None) -> None:
    stop = []
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    try:
        deadline = None if seconds is None else time.monotonic() + seconds
        while not stop and (deadline is None or time.monotonic() < deadline):
            time.sleep(0.2)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
