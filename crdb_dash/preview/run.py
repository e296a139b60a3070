"""``crdb-dash preview``: evaluate every panel of the compiled dashboards on a Prometheus and draw each dashboard."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from crdb_dash.pipeline.compiled import panel_count
from crdb_dash.preview import layout, query, view
from crdb_dash.preview.format import plural
from crdb_dash.simulation import promrun
from crdb_dash.simulation.evaluate import range_seconds as default_range


@dataclass
class Report:
    """What one dashboard showed: variables as resolved, each panel's view, and the layout's problems."""

    uid: str
    title: str
    at: int
    variables: dict[str, list[str] | None]
    views: list[view.PanelView]
    problems: list[layout.Problem]
    path: Path | None = None
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)

    def panel(self, title: str) -> view.PanelView:
        (found,) = [v for v in self.views if v.title == title and v.type != "row"]
        return found


def range_seconds(model: dict) -> int:
    """The dashboard's default range, which must be relative (now-X to now)."""
    start, end = model["time"]["from"], model["time"].get("to", "now")
    if not start.startswith("now-") or end != "now":
        raise ValueError(f"dashboard {model.get('uid')}: only relative time ranges (now-X to now) are supported")
    return default_range(model)


def evaluate(model: dict, prom, at: int, scrape: int, datasource: str,
             chosen: dict[str, str] | None = None) -> Report:
    """Every panel's queries, run as Grafana runs them at ``at``, and what each panel then shows."""
    span = range_seconds(model)
    values = query.resolve_variables(model, prom, at - span, at, datasource, chosen)
    panels = model["panels"]  # a collapsed row keeps its panels inside it: Grafana shows only its header
    views, errors = [], []
    for panel in panels:
        if panel["type"] == "row" or not panel.get("targets"):
            views.append(view.build(panel, None if panel["type"] == "row" else [], at))
            continue
        try:
            results = query.run_panel(prom, panel, values, at, span, scrape)
        except (promrun.PrometheusError, query.VariableError) as exc:
            errors.append(f"{panel.get('title')}: {exc}")
            views.append(view.build(panel, None, at, error=str(exc), span=span))
            continue
        views.append(view.build(panel, results, at, span=span))
    return Report(model["uid"], model.get("title", model["uid"]), at, values, views, layout.check(panels),
                  errors=errors)


def time_range_text(model: dict) -> str:
    """The time picker's words for a relative range: now-24h is "Last 24 hours"."""
    amount = model["time"]["from"].removeprefix("now-")
    units = {"s": "second", "m": "minute", "h": "hour", "d": "day", "w": "week", "M": "month", "y": "year"}
    number, unit = amount[:-1], units.get(amount[-1:], "")
    if not number.isdigit() or not unit:
        return f"{model['time']['from']} to {model['time'].get('to', 'now')}"
    return f"Last {plural(int(number), unit)}"


def subtitle(model: dict, report: Report, source: str) -> str:
    labels = {v["name"]: v.get("label") or v["name"] for v in model.get("templating", {}).get("list", [])}
    shown = []
    for name, value in report.variables.items():
        if name == "datasource":
            continue
        shown.append(f"{labels.get(name, name)}: {'All' if value is None else ' + '.join(value) or '(none)'}")
    when = datetime.fromtimestamp(report.at, UTC).strftime("%Y-%m-%d %H:%M UTC")
    return "    |    ".join(part for part in ("    ".join(shown), f"{time_range_text(model)} to {when}", source)
                              if part)


def render(models: dict[str, dict], prom, at: int, out: Path, scrape: int, datasource: str, source: str,
           chosen: dict[str, str] | None = None, say=print, scale: float = 1.0) -> list[Report]:
    """Evaluate each dashboard here and draw them in worker processes, one per core, as they are evaluated."""
    from crdb_dash.preview import draw

    reports, pending = [], []
    workers = min(len(models), os.cpu_count() or 1)
    with contextlib.ExitStack() as stack:
        pool = None
        if workers > 1:
            # fork shares the imported matplotlib with the workers; elsewhere fork is unsafe, spawn imports it anew
            method = "fork" if sys.platform == "linux" else "spawn"
            pool = stack.enter_context(ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context(method)))
        for uid, model in models.items():
            start = time.perf_counter()
            report = evaluate(model, prom, at, scrape, datasource, chosen)
            report.path = out / f"{uid}.png"
            args = (report.title, subtitle(model, report, source), report.views, report.path, scale)
            job = pool.submit(draw.dashboard, *args) if pool else draw.dashboard(*args)
            pending.append((report, panel_count(model), start, job))
        for report, panels, start, job in pending:
            if pool:
                job.result()
            report.seconds = time.perf_counter() - start
            say(f"wrote {report.path} ({plural(panels, 'panel')})")
            for problem in report.problems:
                say(f"  layout: {problem}")
            for error in report.errors:
                say(f"  query failed: {error}")
            reports.append(report)
    return reports


def summary(reports: list[Report], out: Path) -> str:
    """The last line of ``crdb-dash preview``: how many dashboards were drawn where, and how many panels failed."""
    failed = sum(len(r.errors) for r in reports)
    return f"{plural(len(reports), 'dashboard')} drawn under {out.resolve()}" + (
        f"; {plural(failed, 'panel')} failed" if failed else "")


def scenario_end(now: float | None = None) -> int:
    """Where a simulated history ends: the last whole hour before the previous one (the scenario tests and the
    benchmark end theirs there too)."""
    return int(now if now is not None else time.time()) // 3600 * 3600 - 3600


@contextlib.contextmanager
def scenario_prometheus(cfg, scenario, end: int) -> Iterator[promrun.Prometheus]:
    """The scenario simulated up to ``end``, its series labelled and named as the config says (as the demo's),
    backfilled into a temporary Prometheus with the shipped rule file evaluated over it, as a Prometheus that
    loads rules/ has it: the recording rules' series (the RPO compliance panels read only those) and, unless
    Grafana evaluates the alerts, the alerts' ALERTS series (the Fleet's "Alerts firing"); stopped on exit.
    DemoError (on entry) for a config the simulated series cannot honour."""
    from crdb_dash.pipeline import rules
    from crdb_dash.simulation import demo
    from crdb_dash.simulation.simulator import openmetrics

    sim = demo.Labelled(scenario, end, demo.labelling(cfg), cfg.naming)
    with promrun.serve(openmetrics([sim]), rules.history_file(cfg), (sim.start, end)) as prom:
        if not cfg.get("alerts.grafana_managed"):
            demo.backfill_alert_states(prom, cfg, (sim.start, end))
            prom.start()
        yield prom


@dataclass
class Source:
    server: contextlib.AbstractContextManager  # yields the Prometheus to query
    at: int  # the moment the dashboards are looked at
    scrape: int  # the datasource's scrape interval, the floor of $__interval
    name: str  # named on the pictures


def source(cfg, scenario_name: str | None, url: str | None, at: int | None, say=print) -> Source:
    """A scenario simulated on a temporary Prometheus (a name or a YAML file), or a running Prometheus."""
    if scenario_name:
        from crdb_dash.simulation import scenarios

        path = Path(scenario_name)
        scenario = scenarios.load(path) if path.suffix in (".yaml", ".yml") else scenarios.named(scenario_name)
        end = at if at is not None else scenario_end()
        say(f"simulating {scenario.name} ({scenario.description}) on a temporary Prometheus")
        return Source(scenario_prometheus(cfg, scenario, end), end, scenario.scrape, f"scenario {scenario.name}")
    remote = query.Remote(url)
    return Source(remote, at if at is not None else int(time.time()), cfg.seconds("scrape_interval"), remote.url)


def parse_time(text: str) -> int:
    """--at: unix seconds, or an ISO 8601 time (UTC unless it says otherwise)."""
    try:
        return int(float(text))
    except ValueError:
        pass
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"--at {text!r} is neither unix seconds nor an ISO 8601 time such as "
                         "2026-01-31T12:00:00Z") from None
    return int((when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp())
