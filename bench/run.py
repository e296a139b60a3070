"""Benchmarks: build and --help time, deploy time against a slow Grafana, query cost on a fleet, and the Fleet
dashboard and the rule groups at 10 to 1,000 clusters on Prometheus and VictoriaMetrics.

    python bench/run.py [build] [deploy] [fleet] [preview] [scale] [--clusters 50] [--runs 7]
                        [--fleet-sizes 10,100,1000] [--raw-sizes 10,100] [--scale-runs 5]
                        [--engines prometheus-3.5,victoriametrics-1.145]

Each timing is the median of several runs. Results go to bench/results.json and into README.md and
docs/benchmarks.md between the bench markers. The scale part takes 10 to 12 minutes on 2 cores, most of them at
1,000 clusters, and about 18 GB of temporary disk space (see docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
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
    """The tables between the bench markers of README.md and docs/benchmarks.md."""
    for path, detail in ((ROOT / "README.md", False), (ROOT / "docs" / "benchmarks.md", True)):
        table = render(results, detail)
        text = path.read_text()
        new = re.sub(r"(<!-- bench:start -->\n).*?(<!-- bench:end -->)",
                     lambda m, table=table: m.group(1) + table + m.group(2), text, flags=re.S)
        path.write_text(new)


def render(r: dict, detail: bool = False) -> str:
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
    if "refresh" in r and detail:  # each dashboard's cost: in docs/benchmarks.md only
        n = r["fleet_clusters"]
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
    if "scale" in r:
        lines += ["", *render_scale(r["scale"])]
        if detail:
            lines += ["", *render_scale_detail(r["scale"])]
    return "\n".join(lines) + "\n"


TITLES = {"prometheus-3.5": "Prometheus", "victoriametrics-1.145": "VictoriaMetrics"}
TARGET_SAMPLES, TARGET_SECONDS, GROUP_SHARE = 2_000_000, 2.0, 0.1  # per Fleet refresh at 1,000 clusters; of 1m


def render_scale(s: dict) -> list[str]:
    """The Fleet refresh and the rule groups by fleet size and engine, and the targets at the largest size."""
    engines = list(s["engines"])
    names = list(next(iter(s["sizes"].values()))[engines[0]]["groups"])
    groups = s.get("groups") or sorted(names, key=lambda g: (not g.endswith("-records"), g))  # the rule file's order
    lines = [f"The Fleet dashboard (one full refresh: every query, All clusters, 24 h) and each rule group (one "
             f"evaluation: each rule's query at the end time), median of {s['runs']} runs, by fleet size (3 nodes and "
             f"2 tenants a cluster, scraped every {s['scrape_s']} s). Time: the queries one after the other / all at "
             f"once. Samples: Prometheus' `totalQueryableSamples`; VictoriaMetrics: rows read from storage.", "",
             "| clusters | engine | Fleet: samples | Fleet: time | " + " | ".join(f"`{g}`" for g in groups)
             + " | raw-form Fleet: samples | raw-form Fleet: time |",
             "|---|---|---|---|" + "---|" * len(groups) + "---|---|"]
    for n, size in s["sizes"].items():
        for key in engines:
            e = size.get(key)
            if not e:
                continue
            f, g = e["fleet"], e["groups"]
            group_times = " | ".join(f"{g[name]['seconds']} s" if name in g else "-" for name in groups)
            if "fleet_raw" in e:
                raw = f"{e['fleet_raw']['samples']:,}", f"{e['fleet_raw']['seconds']} s"
            elif "fleet_raw_extrapolated" in e:
                x = e["fleet_raw_extrapolated"]
                raw = f"~{x['samples']:,} (extrapolated)", f"~{x['seconds']} s (extrapolated)"
            else:
                raw = "-", "-"
            lines.append(f"| {int(n):,} | {TITLES.get(key, key)} {s['engines'][key]} | {f['samples']:,} | "
                         f"{f['seconds']} s / {f['parallel_seconds']} s | {group_times} | {raw[0]} | {raw[1]} |")
    largest = max(s["sizes"], key=int)
    verdicts = []
    for key in engines:
        e = s["sizes"][largest].get(key)
        if not e:
            continue
        f = e["fleet"]
        groups_ok = all(g["seconds"] < GROUP_SHARE * 60 for g in e["groups"].values())
        errors = f["errors"] + [x for g in e["groups"].values() for x in g["errors"]]
        limit = max([f.get("max_query_samples", 0)] + [g.get("max_rule_samples", 0) for g in e["groups"].values()])
        slow = ", ".join(f"`{name}` {g['seconds']} s" for name, g in e["groups"].items()
                         if g["seconds"] >= GROUP_SHARE * 60)
        checks = [(f"Fleet time {f['seconds']} s", f["seconds"] <= TARGET_SECONDS),
                  ("every rule group" + (f" ({slow})" if slow else ""), groups_ok), ("no error", not errors)]
        if key.startswith("prometheus"):  # the sample targets are Prometheus' count
            checks[:0] = [(f"Fleet samples {f['samples']:,}", f["samples"] <= TARGET_SAMPLES)]
            checks.append((f"largest query {limit:,} samples", limit < s["query_limit"]))
        verdicts.append(f"{TITLES.get(key, key)}: " + ", ".join(f"{name}: {'met' if ok else 'NOT met'}"
                                                                for name, ok in checks))
    lines += ["", f"Targets at {int(largest):,} clusters (a refresh reads at most {TARGET_SAMPLES:,} samples in at "
                  f"most {TARGET_SECONDS:g} s one query after the other, each group evaluates in under "
                  f"{GROUP_SHARE * 60:g} s, no query errs or reaches 50,000,000 samples): " + "; ".join(verdicts) + "."]
    return lines


def render_scale_detail(s: dict) -> list[str]:
    """Where the time goes at each size: the costliest Fleet query and rules, the loading, the raw forms' largest
    query, the records check."""
    servers = [e for size in s["sizes"].values() for key in s["engines"] if (e := size.get(key))]
    waited = sum(e.get("waited_s", s.get("quiet_wait_s", 600) if e["busy_before"] >= 0.15 else 0) for e in servers)
    lines = [f"Details (the scale part took {s['total_s'] // 60} min {s['total_s'] % 60} s"
             + (f", {waited // 60:.0f} min of it waiting for other work on the machine to end" if waited >= 60 else "")
             + "):", ""]
    for n, size in s["sizes"].items():
        lines.append(f"- {int(n):,} clusters: {size['raw_series']:,} raw series ({size['raw_samples']:,} samples, the "
                     f"longest {size['raw_window_s'] / 3600:.1f} h) and {size['record_series']:,} recorded series "
                     f"({size['record_samples']:,} samples), generated in {size['generate_s']} s.")
        for key in s["engines"]:
            e = size.get(key)
            if not e:
                continue
            f = e["fleet"]
            parts = [f"loaded in {e['load_s']} s", f"Fleet: slowest query `{f['slowest_query']}` "
                     f"{f['slowest_query_s']} s, server CPU {f['cpu_seconds']} s a refresh",
                     f"cluster variable {e['variable_s']} s"]
            if "fleet_raw" in e:
                w = e["fleet_raw"]
                parts.append(f"raw-form Fleet: slowest `{w['slowest_query']}` {w['slowest_query_s']} s"
                             + (f", largest query {w['max_query_samples']:,} samples" if "max_query_samples" in w
                                else "") + (f", errors: {'; '.join(w['errors'])}" if w["errors"] else ""))
            elif "fleet_raw_extrapolated" in e and "max_query_samples" in e["fleet_raw_extrapolated"]:
                x = e["fleet_raw_extrapolated"]
                parts.append(f"raw-form Fleet extrapolated from {x['from_clusters']} clusters: largest query "
                             f"~{x['max_query_samples']:,} samples")
            for name, g in e["groups"].items():
                top = ", ".join(f"{r['rule']} {r['seconds']} s" + (f" ({r['samples']:,} samples)" if "samples" in r
                                                                    else "") for r in g["slowest"][:2])
                read = (f"{g['samples']:,} samples" if "samples" in g else f"{g['rows_read']:,} rows read")
                parts.append(f"`{name}` ({g['rules']} rules): {read}, server CPU {g['cpu_seconds']} s, slowest {top}")
                if "check" in g:
                    agree = sum(c["agree"] for c in g["check"].values())
                    total = sum(c["series"] for c in g["check"].values())
                    parts.append(f"the recording rules at the end time agree with the written records on "
                                 f"{agree:,} of {total:,} series")
            others = max([f.get("others_busy", 0)] + [g.get("others_busy", 0) for g in e["groups"].values()])
            if others >= 0.05:
                parts.append(f"other processes used up to {others:.0%} of the machine's CPU while it was timed, "
                             "so its times are high")
            lines.append(f"  - {TITLES.get(key, key)}: " + "; ".join(parts) + ".")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(
        description="Benchmarks; results go to bench/results.json, README.md and docs/benchmarks.md. The scale part "
                    "takes 10 to 12 minutes on 2 cores, most of them at 1,000 clusters, and about 18 GB of temporary "
                    "disk space; all parts 15 to 20 minutes.")
    parser.add_argument("parts", nargs="*", default=["build", "deploy", "fleet", "preview", "scale"],
                        help="which benchmarks: build, deploy, fleet, preview, scale (default: all)")
    parser.add_argument("--clusters", type=int, default=50, help="fleet: clusters of the simulated fleet")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--fleet-sizes", default="10,100,1000", help="scale: fleet sizes, in clusters")
    parser.add_argument("--raw-sizes", default="10,100",
                        help="scale: sizes at which the raw-form Fleet is measured (extrapolated at the others)")
    parser.add_argument("--engines", default="prometheus-3.5,victoriametrics-1.145", help="scale: engines")
    parser.add_argument("--scale-runs", type=int, default=5, help="scale: timed runs of each refresh and rule group")
    parser.add_argument("--quiet-wait", type=float, default=600,
                        help="seconds to wait at most for other work on the machine to end before measuring")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the servers and remove the data on kill
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    import scale

    scale.QUIET_WAIT = args.quiet_wait
    if set(args.parts) - {"scale"}:
        scale.wait_quiet()  # timings taken while other work holds the cores measure that work
    if "build" in args.parts:
        results.update(bench_build(args.runs))
    if "deploy" in args.parts:
        results.update(bench_deploy(max(3, args.runs // 2)))
    if "fleet" in args.parts:
        results.update(bench_fleet(args.clusters))
    if "preview" in args.parts:
        results.update(bench_preview(max(3, args.runs // 2)))
    if "scale" in args.parts:
        sizes = [int(x) for x in args.fleet_sizes.split(",") if x]
        results["scale"] = scale.run(sizes, [int(x) for x in args.raw_sizes.split(",") if x],
                                     [e for e in args.engines.split(",") if e], args.scale_runs,
                                     log=lambda line: print(line, file=sys.stderr, flush=True))
    RESULTS.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    write_readme(results)
    print(render(results), end="")


if __name__ == "__main__":
    main()
