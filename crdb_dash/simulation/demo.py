"""``crdb-dash demo``: simulated nodes, a local Prometheus scraping them, and Grafana provisioning for both.

One clock: the scenario's past up to ``at`` is written into Prometheus' TSDB with promtool (with the
alerts' history, so ``for:`` clauses carry over), and from then on the nodes serve it live in real
time. Series are labelled as the config's selector and label names say.
"""

from __future__ import annotations

import dataclasses
import json
import re
import signal
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from crdb_dash.model.config import MATCH_OPS, Config, matcher_holds, parse_duration
from crdb_dash.model.naming import Naming
from crdb_dash.pipeline import build, rules
from crdb_dash.simulation import live, promrun
from crdb_dash.simulation.simulator import Scenario, Series, Simulation, openmetrics

LIVE_DAYS = 30  # how long schedules go on after the chosen point of the scenario
RESERVED = ("job", "instance", "node_id", "tenant", "tenant_id")  # set by Prometheus or by CockroachDB


class DemoError(Exception):
    """Simulated clusters cannot be labelled as the config says (demo, preview); the message is one line."""


def run(cfg: Config, scenario: Scenario, at: int, out: Path, seconds: float | None, say=print,
        complain=print) -> int:
    """Run the demo until Ctrl-C, SIGTERM or ``seconds``; 1 if Prometheus stopped by itself.

    What cannot work (labels the demo cannot honour, no Prometheus) fails before anything starts."""
    labels = labelling(cfg)
    promrun.binary("prometheus")
    interval = cfg.seconds("scrape_interval")
    now = int(time.time())
    end = now - now % interval
    clock = live.Clock(end - at)
    nodes = live.start_cluster_nodes(scenario, clock, horizon=at + LIVE_DAYS * 86400, naming=cfg.naming)
    try:
        with tempfile.TemporaryDirectory(prefix="crdb-dash-demo-") as work:
            history = Labelled(dataclasses.replace(scenario, duration=at, scrape=interval), end, labels, cfg.naming,
                               address=lambda cluster, node: nodes[cluster][node - 1].address)
            say(f"writing {span(at)} of the scenario's history into Prometheus' storage ...")
            prom = promrun.Prometheus(Path(work) / "tsdb", flags=("--rules.alert.for-grace-period=0s",))
            running = False
            try:
                _backfill(cfg, history, prom, Path(work))
                _start(cfg, prom, nodes, labels, Path(work))
                running = True
                _write_provisioning(cfg, prom.url, out)
                _announce(say, scenario, at, clock.start, nodes, prom.url, out)
                if _wait(seconds, prom):
                    return 0
                complain(_obituary(prom))
                return 1
            except KeyboardInterrupt:
                if running:
                    return 0  # Ctrl-C is how a running demo ends
                raise
            finally:
                prom.stop()
    finally:
        live.stop_all(nodes)
        say("stopped the simulated nodes and Prometheus")


def _start(cfg: Config, prom: promrun.Prometheus, nodes, labels: live.Labels, work: Path) -> None:
    """Start Prometheus scraping the nodes, with the alert rules."""
    rule_file = work / "rules.yml"
    rule_file.write_text(rules.prometheus_file(cfg))
    prom.config = live.scrape_config(nodes, cfg["scrape_interval"], labels, [str(rule_file)],
                                     cfg.get("alerts.evaluation_interval"))
    prom.start()


# ---- labels ------------------------------------------------------------------------------------------
def labelling(cfg: Config) -> live.Labels:
    """Simulated series' labels from the config's selector and label names; DemoError for what they cannot
    honour."""
    names = {"labels.cluster": cfg.cluster, "labels.node": cfg.node, "labels.tenant": cfg.tenant}
    if len(set(names.values())) < len(names):
        raise DemoError("labels.cluster, labels.node and labels.tenant must be three different label names")
    for key, name in names.items():
        allowed = {"labels.node": ("instance", "node_id"), "labels.tenant": ("tenant",)}.get(key, ())
        if (name in RESERVED and name not in allowed) or name.startswith("__"):
            raise DemoError(f"simulated clusters cannot use {key} {name!r}: Prometheus or CockroachDB sets that "
                            "label itself")
    matchers = _matchers(cfg["selector"])
    extra: dict[str, str] = {}
    for name, op, value in matchers:
        if op == "!=" and value == "":
            continue  # "has the label": every label the demo sets has a value
        if name in (*RESERVED[1:], *names.values()) or name.startswith("__"):
            raise DemoError(f"simulated clusters cannot honour the selector's {_text(name, op, value)}: "
                            f"they set label {name!r} themselves")
        if op == "=" and value:
            extra.setdefault(name, value)
    job = extra.pop("job", "cockroachdb")
    for name, op, value in matchers:
        if op == "!=" and value == "" and name in (*RESERVED[:2], *names.values()):
            continue
        if not matcher_holds(op, value, job if name == "job" else extra.get(name, "")):
            raise DemoError(f"simulated clusters cannot honour the selector's {_text(name, op, value)}: their "
                            "series are labelled from = matchers only")
    return live.Labels(job=job, extra=extra, cluster=cfg.cluster, node=cfg.node, tenant=cfg.tenant)


def _matchers(selector: str) -> list[tuple[str, str, str]]:
    import promql_parser

    parsed = promql_parser.parse("up{" + selector + "}").matchers
    if parsed.or_matchers:
        raise DemoError(f"simulated clusters cannot honour a selector with 'or': {selector}")
    return [(m.name, MATCH_OPS[str(m.op).rsplit(".", 1)[-1]], m.value) for m in parsed.matchers]


def _text(name: str, op: str, value: str) -> str:
    return f"matcher {name}{op}{json.dumps(value)}"


# ---- history -----------------------------------------------------------------------------------------
class Labelled(Simulation):
    """The scenario up to ``end``, labelled and named exactly as Prometheus stores what it scrapes from the nodes
    with the config's labels (``labelling``) and naming; ``address`` gives a node's scrape address."""

    def __init__(self, scenario: Scenario, end: int, labels: live.Labels, naming: Naming,
                 address: Callable[[str, int], str] = lambda cluster, node: f"{cluster}-n{node}:8080"):
        super().__init__(scenario, end, job=labels.job)
        self.labels, self.naming, self.address = labels, naming, address

    def scrape_labels(self, cluster: str, node: int) -> dict[str, str]:
        return self.labels.target(cluster, node, self.address(cluster, node))

    def series(self, name: str) -> Iterator[Series]:
        for s in super().series(name):
            family, extra = (s.name, {}) if s.name == "up" else self.naming.family(s.name)
            yield Series(family, {**self.labels.rename_tenant(s.labels), **extra}, s.samples)


def _backfill(cfg: Config, history: Labelled, prom: promrun.Prometheus, work: Path) -> None:
    """Metrics, then (on a Prometheus that serves them) recording rules and the alerts' states."""
    promrun.backfill(openmetrics([history]), prom.tsdb)
    prom.start()
    span = (history.start, history.end)
    # The alerts read the recorded targets (and the compliance rules read the alerts' records).
    promrun.backfill_recording_rules(prom, rules.history_file(cfg), span, work)
    backfill_alert_states(prom, cfg, span)


def backfill_alert_states(prom: promrun.Prometheus, cfg: Config, span: tuple[int, int]) -> None:
    """The alerts' states over ``span`` (alert_states, read from ``prom``) written into ``prom``'s storage, which
    is stopped to take them: start it again to read them."""
    states = list(alert_states(prom, cfg, *span))
    prom.stop()
    promrun.backfill(states, prom.tsdb)


def alert_states(prom: promrun.Prometheus, cfg: Config, start: int, end: int) -> Iterator[str]:
    """OpenMetrics text of ALERTS and ALERTS_FOR_STATE over [start, end], as Prometheus would have written them.

    With ALERTS_FOR_STATE in its TSDB, Prometheus restores how long each alert has been active when it
    starts, so an alert whose ``for:`` has passed in the scenario's history fires at once.
    """
    step = cfg.seconds("alerts.evaluation_interval")
    alerts, for_state = [], []
    for rule in (r for g in rules.prometheus_rules(cfg)["groups"] for r in g["rules"] if "alert" in r):
        hold = _seconds(rule["for"])
        for metric, times in _evaluations(prom, rule["expr"], start - start % step, end, step):
            labels = {**{k: v for k, v in metric.items() if k != "__name__"}, **rule["labels"],
                      "alertname": rule["alert"]}
            for run in _runs(times, step):
                for t in run:
                    state = "firing" if t - run[0] >= hold else "pending"
                    alerts.append(f"ALERTS{_om_labels({**labels, 'alertstate': state})} 1 {t}\n")
                    for_state.append(f"ALERTS_FOR_STATE{_om_labels(labels)} {run[0]} {t}\n")
    yield "# TYPE ALERTS gauge\n"
    yield from alerts
    yield "# TYPE ALERTS_FOR_STATE gauge\n"
    yield from for_state
    yield "# EOF\n"


def _seconds(duration: str) -> int:
    try:
        return parse_duration(duration)
    except ValueError:  # "0m": the parser wants durations above 0
        return 0


def _evaluations(prom: promrun.Prometheus, expr: str, start: int, end: int, step: int
                 ) -> Iterator[tuple[dict, list[int]]]:
    """(labels, evaluation times) of each series the expression returned, over [start, end]."""
    found: dict[str, tuple[dict, list[int]]] = {}
    chunk = 10_000 * step  # Prometheus answers at most 11,000 points per series
    for a in range(start, end + 1, chunk):
        for s in prom.query_range(expr, a, min(a + chunk - step, end), step)["result"]:
            key = json.dumps(s["metric"], sort_keys=True)
            found.setdefault(key, (s["metric"], []))[1].extend(int(float(t)) for t, _ in s["values"])
    return iter(found.values())


def _runs(times: list[int], step: int) -> Iterator[list[int]]:
    """Runs of consecutive evaluations: each is one alert, active from its first time."""
    run: list[int] = []
    for t in sorted(times):
        if run and t - run[-1] > step:
            yield run
            run = []
        run.append(t)
    if run:
        yield run


def _om_labels(labels: dict[str, str]) -> str:
    def escape(v: str) -> str:
        return v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")

    return "{" + ",".join(f'{k}="{escape(str(v))}"' for k, v in sorted(labels.items())) + "}"


# ---- running -----------------------------------------------------------------------------------------
def _write_provisioning(cfg: Config, prometheus_url: str, out: Path) -> None:
    raw = {**cfg.raw, "datasource": {**cfg.raw["datasource"], "url": prometheus_url}}
    files = build.render(Config(raw, cfg.source))
    build.write({rel: text for rel, text in files.items() if rel.startswith(build.GRAFANA_DIR + "/")}, out)


def _announce(say, scenario: Scenario, at: int, start: float, nodes, prometheus_url: str, out: Path) -> None:
    say(f"scenario {scenario.name}: {scenario.description}")
    say(f"  it started at {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime(start))}; now is {span(at)} into "
        f"it (of {span(scenario.duration)}) and it goes on in real time")
    for cluster, group in nodes.items():
        say(f"  cluster {cluster}: " + " ".join(f"http://{n.address}/_status/vars" for n in group))
    say(f"Prometheus: {prometheus_url}  (alerts: {prometheus_url}/alerts)")
    say(f"Grafana provisioning: {(out / build.GRAFANA_DIR).resolve()}")
    say("Next: run Grafana with that directory mounted, on the host network so it reaches Prometheus:")
    say(f"  docker run --rm --network host -v {(out / build.GRAFANA_DIR).resolve()}:/etc/grafana/provisioning "
        "grafana/grafana")
    say("  then open http://localhost:3000 (admin/admin) > Dashboards > CockroachDB Backups. Ctrl-C stops the demo.")


def span(seconds: int) -> str:
    hours, rest = divmod(seconds, 3600)
    return f"{hours}h{rest // 60:02d}m" if hours else f"{rest // 60}m{rest % 60:02d}s"


def _wait(seconds: float | None, prom: promrun.Prometheus, poll: float = 0.2) -> bool:
    """Wait for SIGTERM or the deadline (True), or until Prometheus stops by itself (False); Ctrl-C raises."""
    stop = []
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    try:
        deadline = None if seconds is None else time.monotonic() + seconds
        while not stop and (deadline is None or time.monotonic() < deadline):
            if prom.exit_status() is not None:
                return False
            time.sleep(poll)
    finally:
        signal.signal(signal.SIGTERM, previous)
    return True


def _obituary(prom: promrun.Prometheus) -> str:
    status = prom.exit_status()
    how = f"was killed by {signal.Signals(-status).name}" if status < 0 else f"exited with status {status}"
    return "\n".join([f"crdb-dash: error: the demo's Prometheus {how}; from its log:",
                      *(f"  {line}" for line in _why(prom.log_tail(60)) or ["(nothing)"])])


def _why(log: list[str], most: int = 8) -> list[str]:
    """The log lines that say why Prometheus stopped (warnings, errors, panics), and its last line."""
    ready = [i for i, line in enumerate(log) if "Server is ready to receive web requests" in line]
    log = log[ready[-1] + 1:] if ready else log
    telling = [line for line in log[:-1] if re.search(r"level=(warn|error)|^panic:|^fatal error:", line)]
    return (telling[-(most - 1):] + log[-1:]) if telling else log[-most:]
