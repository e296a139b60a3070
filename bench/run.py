"""Benchmarks: build and --help time, deploy time against a slow Grafana, and query cost on a fleet.

    python bench/run.py [build] [deploy] [fleet] [preview] [--clusters 50] [--runs 7]

Each timing is the median of several runs. Results go to bench/results.json and into README.md
between the bench markers.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CLI = [sys.executable, "-m", "crdb_dash.cli"]
RESULTS = ROOT / "bench" / "results.json"


def median_seconds(cmd: list[str], runs: int, env=None, ok=(0,)) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        result = subprocess.run(cmd, capture_output=True, env=env)
        times.append(time.perf_counter() - start)
        if result.returncode not in ok:
            raise SystemExit(f"{' '.join(cmd)} failed: {result.stderr.decode()[-500:]}")
    return statistics.median(times)


def bench_build(runs: int) -> dict:
    with tempfile.TemporaryDirectory() as out:
        build = median_seconds(CLI + ["build", "--out", out], runs)
    return {"build_s": round(build, 3), "help_s": round(median_seconds(CLI + ["--help"], runs), 3)}


def bench_deploy(runs: int) -> dict:
    from tests.grafana_double import Faults, GrafanaDouble

    first, second, posts = [], [], []
    for _ in range(runs):
        with GrafanaDouble(tokens={"bench": "Admin"}, faults=Faults(latency=0.1)) as grafana:
            env = {**os.environ, "GRAFANA_URL": grafana.url, "GRAFANA_TOKEN": "bench"}
            first.append(median_seconds(CLI + ["deploy"], 1, env))
            before = len(grafana.writes())
            second.append(median_seconds(CLI + ["deploy"], 1, env))
            posts.append(len(grafana.writes()) - before)
            dashboards = len(grafana.dashboards)
    return {"deploy_first_s": round(statistics.median(first), 3), "deploy_dashboards": dashboards,
            "deploy_unchanged_s": round(statistics.median(second), 3),
            "deploy_unchanged_posts": max(posts), "latency_per_request_s": 0.1}


def bench_fleet(clusters: int) -> dict:
    """Backfill a fleet, then read what one full refresh of each dashboard costs with one cluster selected.

    Measured twice on the same data: dashboards reading raw series (the default) and dashboards built
    with ``rpo.recorded: true``, with the recording rules evaluated over the history by promtool.
    """
    from crdb_dash.model import config
    from crdb_dash.pipeline import compiled, rules
    from crdb_dash.preview import run
    from crdb_dash.simulation import promrun
    from crdb_dash.simulation.simulator import Simulation, openmetrics

    cfg = config.load()
    recorded = config.Config({**cfg.raw, "rpo": {**cfg.raw["rpo"], "recorded": True}}, "bench")
    modes = {"raw": compiled.dashboards(cfg), "recorded": compiled.dashboards(recorded)}
    end = run.scenario_end()
    out = {"fleet_clusters": clusters, "fleet_nodes": clusters * 3, "fleet_hours": 24, "scrape_s": 30}
    refresh = {}
    for n in (1, clusters):
        sim = Simulation(_fleet(n), end)
        start = time.perf_counter()
        with promrun.serve(openmetrics([sim]), rules.history_file(cfg), (sim.start, end)) as prom:
            if n == clusters:
                out["fleet_backfill_s"] = round(time.perf_counter() - start, 1)
                out["fleet_series"] = prom.series_count('{job="cockroachdb"}')
                out["doctor_s"] = round(median_seconds(CLI + ["doctor", "--prometheus", prom.url], 5, ok=(0, 1)), 3)
            refresh[n] = {mode: {uid: _refresh(prom, model, end) for uid, model in models.items()}
                          for mode, models in modes.items()}
    out["refresh"] = {uid: {"samples_1_cluster": refresh[1]["raw"][uid]["samples"],
                            f"samples_{clusters}_clusters": refresh[clusters]["raw"][uid]["samples"],
                            "recorded_1_cluster": refresh[1]["recorded"][uid]["samples"],
                            f"recorded_{clusters}_clusters": refresh[clusters]["recorded"][uid]["samples"],
                            "needed": refresh[clusters]["raw"][uid]["needed"],
                            f"seconds_{clusters}_clusters": refresh[clusters]["raw"][uid]["seconds"]}
                      for uid in modes["raw"]}
    return out


def bench_preview(runs: int) -> dict:
    """``crdb-dash preview`` of every dashboard: against a running Prometheus (queries and drawing, the whole
    command), and with ``--scenario`` (simulating, backfilling and starting Prometheus included)."""
    from crdb_dash.model import config
    from crdb_dash.pipeline import compiled
    from crdb_dash.preview import run
    from crdb_dash.simulation import scenarios

    name = "everything-at-once"
    cfg = config.load()
    end = run.scenario_end()
    with tempfile.TemporaryDirectory() as out, run.scenario_prometheus(cfg, scenarios.named(name), end) as prom:
        cmd = CLI + ["preview", "--prometheus", prom.url, "--at", str(end), "--out", out]
        against = median_seconds(cmd, runs)
        dashboards = len(compiled.dashboards(cfg))
    with tempfile.TemporaryDirectory() as out:
        scenario = median_seconds(CLI + ["preview", "--scenario", name, "--out", out], max(1, runs // 2))
    return {"preview_dashboards": dashboards, "preview_s": round(against, 2), "preview_scenario_s": round(scenario, 2),
            "preview_scenario": name}


def _fleet(n: int):
    from crdb_dash.simulation.simulator import Cluster, Scenario, Schedule, Tenant

    return Scenario(f"fleet-{n}", 24 * 3600, tuple(
        Cluster(f"c{i:03d}", restarts=((1 + i % 3, 6 * 3600 + i * 60),), poller_moves=((12 * 3600, 2),),
                tenants=(Tenant(schedule=Schedule(cadence=3600, duration=600 + i * 5, first=300 + i,
                                                  fail_runs=frozenset({i % 24}))),))
        for i in range(n)), scrape=30)


def _refresh(prom, model: dict, end: int) -> dict:
    """Samples read by every query of one dashboard refresh, the samples its series need, and the time."""
    from crdb_dash.pipeline.interpolate import Vars
    from crdb_dash.simulation import evaluate

    v = Vars(cluster="c000", range_seconds=evaluate.range_seconds(model), scrape_seconds=30)
    samples = needed = 0
    start = time.perf_counter()
    for panel in model["panels"]:
        for target in panel.get("targets", []):
            samples += evaluate.run(prom, target, v, end).samples
            needed += _needed(prom, target, v, end)
    return {"samples": samples, "needed": needed, "seconds": round(time.perf_counter() - start, 3)}


def _needed(prom, target: dict, v, end: int) -> int:
    """Samples the series a target shows need: each selected raw series read once over the range."""
    from crdb_dash.pipeline.interpolate import substitute
    from crdb_dash.simulation.evaluate import selectors

    per_series = v.range_seconds // v.scrape_seconds
    return sum(prom.series_count(s) for s in selectors(substitute(target["expr"], v))) * per_series


def write_readme(results: dict) -> None:
    readme = ROOT / "README.md"
    text = readme.read_text()
    table = render(results)
    new = re.sub(r"(<!-- bench:start -->\n).*?(<!-- bench:end -->)", lambda m: m.group(1) + table + m.group(2),
                 text, flags=re.S)
    readme.write_text(new)


def render(r: dict) -> str:
    lines = ["| measure | median |", "|---|---|"]
    if "build_s" in r:
        lines += [f"| `crdb-dash build` | {r['build_s']} s |", f"| `crdb-dash --help` | {r['help_s']} s |"]
    if "deploy_first_s" in r:
        lines += [f"| first deploy, {r['deploy_dashboards']} dashboards, {r['latency_per_request_s']} s per request | "
                  f"{r['deploy_first_s']} s |",
                  f"| second deploy (nothing changed) | {r['deploy_unchanged_s']} s, "
                  f"{r['deploy_unchanged_posts']} POSTs |"]
    if "preview_s" in r:
        lines += [f"| `crdb-dash preview`, {r['preview_dashboards']} dashboards from a running Prometheus "
                  f"(queries and drawing) | {r['preview_s']} s |",
                  f"| `crdb-dash preview --scenario {r['preview_scenario']}` (simulate, backfill, start Prometheus, "
                  f"draw) | {r['preview_scenario_s']} s |"]
    if "refresh" in r:
        n = r["fleet_clusters"]
        lines += [f"| simulate and backfill (series, then rules) {n} clusters x 3 nodes x 24 h at 30 s "
                  f"({r['fleet_series']} series) | {r['fleet_backfill_s']} s |"]
        if "doctor_s" in r:
            lines.append(f"| `crdb-dash doctor` on that fleet ({r['fleet_series']} series) | {r['doctor_s']} s |")
        lines += ["",
                  "Samples one full refresh reads (one cluster selected, 24 h range):", "",
                  f"| dashboard | 1-cluster fleet | {n}-cluster fleet | with `rpo.recorded`, 1 / {n} clusters | "
                  f"samples the shown series need | read / need, default / recorded | refresh time, {n} clusters |",
                  "|---|---|---|---|---|---|---|"]
        for uid, d in r["refresh"].items():
            ratios = " / ".join(f"{d[key] / d['needed']:.2f}" if d.get(key) is not None and d["needed"] else "-"
                                for key in (f"samples_{n}_clusters", f"recorded_{n}_clusters"))
            lines.append(f"| {uid} | {d['samples_1_cluster']} | {d[f'samples_{n}_clusters']} | "
                         f"{d.get('recorded_1_cluster', '-')} / {d.get(f'recorded_{n}_clusters', '-')} | "
                         f"{d['needed']} | {ratios} | {d[f'seconds_{n}_clusters']} s |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("parts", nargs="*", default=["build", "deploy", "fleet", "preview"])
    parser.add_argument("--clusters", type=int, default=50)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    if "build" in args.parts:
        results.update(bench_build(args.runs))
    if "deploy" in args.parts:
        results.update(bench_deploy(max(3, args.runs // 2)))
    if "fleet" in args.parts:
        results.update(bench_fleet(args.clusters))
    if "preview" in args.parts:
        results.update(bench_preview(max(3, args.runs // 2)))
    RESULTS.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    write_readme(results)
    print(render(results), end="")


if __name__ == "__main__":
    main()
