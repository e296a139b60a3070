"""The Fleet dashboard and the rule groups on fleets of 10 to 1,000 clusters, on Prometheus and VictoriaMetrics.

For each fleet size: a fleet is generated (bench/fleetgen.py), loaded into each engine in turn (the engine up only
for its own measurements), and measured at the fleet's end time T:

- a full refresh of the Fleet dashboard: every query of its panels as Grafana sends them (instant queries, variables
  substituted, All clusters, the default 24 h range), one after the other and all at once;
- the same refresh with the table's columns computed from raw series (``panels.fleet.columns(recorded=False)``);
- each rule group as one evaluation at T: each rule's ``expr`` as an instant query at T, the times summed per group.

Samples are Prometheus' own count (``stats=all``: ``totalQueryableSamples``); on VictoriaMetrics the rows it read
from storage (its ``vm_rows_read_per_query`` summary, before and after).
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import json
import os
import re
import shutil
import statistics
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field, replace
from pathlib import Path

import fleetgen

PROMETHEUS, VICTORIA = "prometheus-3.5", "victoriametrics-1.145"
DEFAULT_LIMIT = 50_000_000  # Prometheus' --query.max-samples default
PARALLEL = 10  # queries Grafana's Prometheus data source sends at once
RANGE = 86400  # the Fleet's default time range (now-24h)


@dataclass
class Query:
    title: str
    expr: str  # variables substituted
    labels: dict = field(default_factory=dict)  # a rule's own labels, added to what its expr gives


@dataclass
class Queries:
    shipped: list[Query]  # the Fleet as built: its table reads the recording rules
    raw: list[Query]  # the same with the table's columns from raw series
    variable: tuple[str, str]  # (label, series selector) of the cluster filter's label_values query
    groups: dict[str, list[Query]] = field(default_factory=dict)  # rule group -> its rules
    records: list[tuple[str, dict]] = field(default_factory=list)  # (record, labels) of every recording rule


def queries() -> Queries:
    """What Grafana and Prometheus send, from the project's defaults."""
    import yaml

    from crdb_dash.model import config
    from crdb_dash.model.config import parse_duration
    from crdb_dash.panels import fleet
    from crdb_dash.panels.base import Ctx
    from crdb_dash.pipeline import compiled, rules
    from crdb_dash.pipeline.interpolate import Vars, substitute

    cfg = config.load()
    model = next(m for uid, m in compiled.dashboards(cfg).items() if uid.endswith("-fleet"))
    v = Vars(cluster="", range_seconds=RANGE, scrape_seconds=fleetgen.SCRAPE)
    shipped, raw = [], []
    ctx = Ctx.for_dashboards(cfg)
    raw_columns = [c.expr for c in fleet.columns(ctx, recorded=False)]
    column_titles = [c.title for c in fleet.columns(ctx)]
    for panel in _panels(model["panels"]):
        targets = panel.get("targets", [])
        table = panel.get("type") == "table"
        if table and len(targets) != len(raw_columns):
            raise SystemExit("the Fleet table's targets are not the columns of panels.fleet.columns")
        for i, target in enumerate(targets):
            if not target.get("instant"):
                raise SystemExit(f"the Fleet's panel {panel.get('title')!r} has a range query")
            tv = replace(v, min_interval=parse_duration(target["interval"])) if target.get("interval") else v
            title = f"column {column_titles[i]}" if table else str(panel.get("title"))
            shipped.append(Query(title, substitute(target["expr"], tv)))
            raw.append(Query(title, substitute(raw_columns[i] if table else target["expr"], tv)))
    variable = next(t["query"] for t in model["templating"]["list"] if t.get("name") == "cluster_filter")
    found = re.fullmatch(r"label_values\((.+), *(\w+)\)", variable if isinstance(variable, str) else variable["query"])
    groups: dict[str, list[Query]] = {}
    records = []
    for group in yaml.safe_load(rules.prometheus_file(cfg))["groups"]:
        for rule in group["rules"]:
            name = rule.get("record") or f"{rule['alert']} ({rule.get('labels', {}).get('severity', '')})"
            groups.setdefault(group["name"], []).append(Query(name, rule["expr"], rule.get("labels", {})))
            if "record" in rule:
                records.append((rule["record"], rule.get("labels", {})))
    return Queries(shipped, raw, (found.group(2), found.group(1)), groups, records)


def _panels(panels: list[dict]):
    for p in panels:
        yield p
        yield from _panels(p.get("panels", []))


def windows(exprs: list[str]) -> dict[str, int]:
    """Seconds of history to write for each series name the expressions read: back to the farthest sample read, plus
    a margin. A span beyond the generated history (``fleetgen.BOOT``: the compliance period's ``offset 30d``) is left
    out, as on a Prometheus that has not run the rules that long."""
    out = {}
    for name, spans in fleetgen.lookbacks(exprs).items():
        far = max(min(f, fleetgen.BOOT) for n, f in spans if n < fleetgen.BOOT)
        out[name] = min(-(-(far + fleetgen.MARGIN) // 60) * 60, fleetgen.BOOT)
    return out


# ---- engines ------------------------------------------------------------------------------------------------------
def engine(key: str):
    from crdb_dash.simulation import engines

    found = next(e for e in engines.MATRIX if e.key == key)
    if found.missing():
        raise SystemExit(found.missing())
    return found


@contextlib.contextmanager
def prometheus(om_files: list[Path], work: Path, timings: dict):
    """Blocks from the OpenMetrics files (one promtool per file, at once), then a Prometheus on them.

    Each file becomes blocks as long as promtool allows (--max-block-duration), so that it reads the file few times;
    Prometheus neither merges the two files' overlapping blocks nor compacts blocks while it is measured."""
    from crdb_dash.simulation import promrun

    eng = engine(PROMETHEUS)
    tsdb = work / "tsdb"
    tsdb.mkdir()
    start = time.perf_counter()
    outs = [work / f"blocks-{i}" for i in range(len(om_files))]
    procs = [subprocess.Popen([eng.tool("promtool"), "tsdb", "create-blocks-from", "openmetrics",
                               "--max-block-duration=486h", "--quiet", str(f), str(o)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
             for f, o in zip(om_files, outs, strict=True)]
    for p in procs:
        _, err = p.communicate()
        if p.returncode:
            raise SystemExit(f"promtool could not backfill: {err.strip()[-300:]}")
    for o in outs:
        for block in o.iterdir():
            block.rename(tsdb / block.name)
        o.rmdir()
    for f in om_files:
        f.unlink()
    flags = ("--no-storage.tsdb.allow-overlapping-compaction", "--storage.tsdb.max-block-duration=2h")
    with promrun.Prometheus(tsdb, engine=eng, flags=flags, ready_timeout=300) as prom:
        timings["load_s"] = round(time.perf_counter() - start, 1)
        yield prom


@contextlib.contextmanager
def victoriametrics(json_file: Path, work: Path, timings: dict):
    """A VictoriaMetrics with the JSON lines imported through /api/v1/import, its background merges finished."""
    from crdb_dash.simulation import vmrun

    eng = engine(VICTORIA)
    start = time.perf_counter()
    with vmrun.VictoriaMetrics(work / "vmdata", engine=eng, ready_timeout=120) as vm:
        with json_file.open("rb") as handle:
            while True:
                chunk = handle.read(32 << 20)
                if not chunk:
                    break
                chunk += handle.readline()
                vm._post("/api/v1/import", chunk)
        vm._post("/internal/force_flush", b"")
        _settle(vm)
        json_file.unlink()
        timings["load_s"] = round(time.perf_counter() - start, 1)
        yield vm


def _settle(vm, quiet: int = 5, limit: float = 600) -> None:
    """Wait until VictoriaMetrics has had no merge running for ``quiet`` seconds in a row."""
    deadline, calm = time.monotonic() + limit, 0
    while time.monotonic() < deadline and calm < quiet:
        merges = sum(v for k, v in _metrics(vm).items() if k.startswith("vm_active_merges"))
        calm = calm + 1 if merges == 0 else 0
        time.sleep(1)


def _metrics(server) -> dict[str, float]:
    with urllib.request.urlopen(f"{server.url}/metrics", timeout=60) as resp:
        text = resp.read().decode()
    out = {}
    for line in text.splitlines():
        if line and line[0] != "#":
            key, _, value = line.rpartition(" ")
            with contextlib.suppress(ValueError):
                out[key] = float(value)
    return out


def _cpu_ticks() -> tuple[int, int]:
    """The machine's CPU time so far, in clock ticks: all of it, and the busy part."""
    with open("/proc/stat") as handle:
        ticks = [int(x) for x in handle.readline().split()[1:]]
    return sum(ticks), sum(ticks) - ticks[3] - ticks[4]


def busy(seconds: float = 2.0) -> float:
    """The share of the machine's CPU time not idle over ``seconds``."""
    total, used = _cpu_ticks()
    time.sleep(seconds)
    total2, used2 = _cpu_ticks()
    return (used2 - used) / max(1, total2 - total)


QUIET_WAIT = 600.0  # seconds to wait at most for other work on the machine to end before a server is measured


def wait_quiet(threshold: float = 0.15) -> float:
    """Wait (at most ``QUIET_WAIT`` seconds) until other work leaves the machine nearly idle; the busy share seen
    last. Timings taken while other processes compete for the cores say more about them than about the queries."""
    deadline = time.monotonic() + QUIET_WAIT
    while True:
        share = busy()
        if share < threshold or time.monotonic() > deadline:
            return round(share, 2)


class Others:
    """The share of the machine's CPU that processes other than the measured server and this one used while
    timings were taken (0: the measurements had the machine to themselves)."""

    def __init__(self, server):
        self.server, self.spent, self.span = server, 0.0, 0.0

    def __enter__(self):
        self._ticks = _cpu_ticks()
        self._mine = cpu_seconds(self.server) + sum(os.times()[:2])
        return self

    def __exit__(self, *exc) -> None:
        total, used = _cpu_ticks()
        tick = os.sysconf("SC_CLK_TCK")
        mine = cpu_seconds(self.server) + sum(os.times()[:2]) - self._mine
        self.spent += (used - self._ticks[1]) / tick - mine
        self.span += (total - self._ticks[0]) / tick

    @property
    def share(self) -> float:
        return round(max(0.0, self.spent / self.span), 2) if self.span else 0.0


def cpu_seconds(server) -> float:
    """User and system CPU time the server process has used so far."""
    with open(f"/proc/{server.process.pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _rows_read(server) -> float:
    time.sleep(1.5)  # VictoriaMetrics updates its /metrics figures about once a second
    return _metrics(server).get("vm_rows_read_per_query_sum", 0.0)


# ---- queries ------------------------------------------------------------------------------------------------------
@dataclass
class Answer:
    seconds: float
    samples: int | None = None
    series: list = field(default_factory=list)
    error: str = ""


def ask(server, expr: str, at: int, stats: bool = False) -> Answer:
    """One instant query at ``at``: its wall time (request and response), Prometheus' sample count with ``stats``."""
    params = {"query": expr, "time": at, **({"stats": "all"} if stats else {})}
    request = urllib.request.Request(f"{server.url}/api/v1/query", data=urllib.parse.urlencode(params).encode(),
                                     method="POST")
    start = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=600) as resp:
            body = resp.read()
    except urllib.error.HTTPError as exc:
        detail = json.loads(exc.read() or b"{}")
        return Answer(time.perf_counter() - start, error=f"{detail.get('errorType')}: {detail.get('error')}")
    seconds = time.perf_counter() - start
    data = json.loads(body)["data"]
    samples = data.get("stats", {}).get("samples", {}).get("totalQueryableSamples")
    return Answer(seconds, samples, data["result"])


def label_values(server, label: str, selector: str, at: int) -> float:
    params = urllib.parse.urlencode({"match[]": selector, "start": at - RANGE, "end": at})
    start = time.perf_counter()
    with urllib.request.urlopen(f"{server.url}/api/v1/label/{label}/values?{params}", timeout=120) as resp:
        json.loads(resp.read())
    return time.perf_counter() - start


def refresh(server, kind: str, qs: list[Query], at: int, runs: int) -> dict:
    """A full refresh: samples and results once (after a warm-up refresh), then ``runs`` refreshes timed one query
    after the other and ``runs`` with all queries at once."""
    for q in qs:
        ask(server, q.expr, at)
    before = _rows_read(server) if kind == VICTORIA else 0
    first = [ask(server, q.expr, at, stats=kind == PROMETHEUS) for q in qs]
    samples = (sum(a.samples or 0 for a in first) if kind == PROMETHEUS
               else int(_rows_read(server) - before))
    per_query: dict[str, list[float]] = {q.title: [] for q in qs}
    sequential, parallel, cpu = [], [], []
    others = Others(server)
    for _ in range(runs):
        total, used = 0.0, cpu_seconds(server)
        with others:
            for q in qs:
                a = ask(server, q.expr, at)
                per_query[q.title].append(a.seconds)
                total += a.seconds
        sequential.append(total)
        cpu.append(cpu_seconds(server) - used)
    with concurrent.futures.ThreadPoolExecutor(PARALLEL) as pool:
        for _ in range(runs):
            start = time.perf_counter()
            with others:
                list(pool.map(lambda q: ask(server, q.expr, at), qs))
            parallel.append(time.perf_counter() - start)
    medians = {t: statistics.median(v) for t, v in per_query.items()}
    slowest = max(medians, key=medians.get)
    out = {"samples": samples, "seconds": round(statistics.median(sequential), 3),
           "parallel_seconds": round(statistics.median(parallel), 3), "cpu_seconds": round(statistics.median(cpu), 2),
           "others_busy": others.share,
           "slowest_query": slowest, "slowest_query_s": round(medians[slowest], 3),
           "errors": [f"{q.title}: {a.error}" for q, a in zip(qs, first, strict=True) if a.error],
           "rows": len({_row(s["metric"]) for s in first[-1].series}) if first and not first[-1].error else 0}
    if kind == PROMETHEUS:
        by_query = {q.title: a.samples or 0 for q, a in zip(qs, first, strict=True)}
        top = max(by_query, key=by_query.get)
        out.update(max_query_samples=by_query[top], max_samples_query=top)
    out["status"] = _statuses(first, qs)
    return out


def _row(metric: dict) -> tuple:
    return metric.get("cluster"), metric.get("tenant")


def _statuses(answers: list[Answer], qs: list[Query]) -> dict[str, int]:
    """How many rows the table's Status column puts at each level."""
    for q, a in zip(qs, answers, strict=True):
        if q.title == "column Status" and not a.error:
            counts: dict[str, int] = {}
            for s in a.series:
                level = str(int(float(s["value"][1])))
                counts[level] = counts.get(level, 0) + 1
            return dict(sorted(counts.items()))
    return {}


def rule_groups(server, kind: str, groups: dict[str, list[Query]], at: int, runs: int,
                expected: dict[str, dict[tuple, tuple]]) -> dict:
    """Each group evaluated at ``at`` as its rules' instant queries one after the other: the time of the whole group
    (median of ``runs``), samples per rule, the slowest rule; for the recording rules, whether what they compute at
    ``at`` is what the generator wrote for them."""
    out = {}
    for name, qs in groups.items():
        for q in qs:
            ask(server, q.expr, at)
        before = _rows_read(server) if kind == VICTORIA else 0
        first = [ask(server, q.expr, at, stats=kind == PROMETHEUS) for q in qs]
        rows = int(_rows_read(server) - before) if kind == VICTORIA else None
        totals, cpu, per_rule = [], [], {i: [] for i in range(len(qs))}
        others = Others(server)
        for _ in range(runs):
            total, used = 0.0, cpu_seconds(server)
            with others:
                for i, q in enumerate(qs):
                    a = ask(server, q.expr, at)
                    per_rule[i].append(a.seconds)
                    total += a.seconds
            totals.append(total)
            cpu.append(cpu_seconds(server) - used)
        medians = [statistics.median(per_rule[i]) for i in range(len(qs))]
        order = sorted(range(len(qs)), key=lambda i: -medians[i])
        g = {"rules": len(qs), "seconds": round(statistics.median(totals), 3),
             "cpu_seconds": round(statistics.median(cpu), 2), "others_busy": others.share,
             "slowest": [{"rule": qs[i].title, "seconds": round(medians[i], 3),
                          **({"samples": first[i].samples} if kind == PROMETHEUS else {})} for i in order[:3]],
             "errors": [f"{q.title}: {a.error}" for q, a in zip(qs, first, strict=True) if a.error]}
        if kind == PROMETHEUS:
            g["samples"] = sum(a.samples or 0 for a in first)
            g["max_rule_samples"] = max(a.samples or 0 for a in first)
        else:
            g["rows_read"] = rows
        if all(" (" not in q.title for q in qs):  # the recording rules' group
            g["check"] = _check_records(qs, first, expected)
        out[name] = g
    return out


def _check_records(qs: list[Query], answers: list[Answer], expected: dict[str, dict[tuple, tuple]]) -> dict:
    """Per record: the series the rule computes at the end time, and how many have the value the generator gives it
    there, or at the evaluation before (an instant query reads the records of the same group one evaluation late,
    where Prometheus would read those it has just written)."""
    got: dict[str, dict[frozenset, float]] = {}
    for q, a in zip(qs, answers, strict=True):
        for s in a.series:
            labels = {k: v for k, v in s["metric"].items() if k != "__name__"}
            got.setdefault(q.title, {})[frozenset({**labels, **q.labels}.items())] = float(s["value"][1])
    out = {}
    for record, values in got.items():
        want = {frozenset(k): v for k, v in expected.get(record, {}).items()}
        differ = [(dict(k), v, want.get(k)) for k, v in values.items()
                  if k not in want or not any(abs(w - v) <= 1e-9 * max(1.0, abs(v)) for w in want[k] if w == w)]
        out[record] = {"series": len(values), "written": len(want), "agree": len(values) - len(differ)}
        if differ:
            out[record]["differ"] = [f"{k}: computed {v}, written {w}" for k, v, w in differ[:2]]
    for record in expected:
        out.setdefault(record, {"series": 0, "written": len(expected[record]), "agree": 0})
    return out


# ---- one fleet size -----------------------------------------------------------------------------------------------
def measure(clusters: int, end: int, engines: list[str], runs: int, raw: bool, qs: Queries, log) -> dict:
    """Generate a fleet of ``clusters``, load it into each engine in turn and measure it there."""
    exprs = [q.expr for g in qs.groups.values() for q in g] + [q.expr for q in qs.shipped]
    if raw:
        exprs += [q.expr for q in qs.raw]
    targets = fleetgen.configure()
    out: dict = {"clusters": clusters, "nodes": clusters * fleetgen.NODES, "tenants": len(fleetgen.TENANTS)}
    with tempfile.TemporaryDirectory(prefix="crdb-bench-") as tmp:
        work = Path(tmp)
        fleet = fleetgen.Fleet(clusters, end, windows(exprs), qs.records, targets)
        start = time.perf_counter()
        om_raw, om_rec, vm = work / "raw.om", work / "records.om", work / "fleet.jsonl"
        with om_raw.open("w") as a, om_rec.open("w") as b, vm.open("w") as c:
            raw_sink, rec_sink = fleetgen.Sink(a, c), fleetgen.Sink(b, c)
            fleet.write(raw_sink, rec_sink)
            a.write("# EOF\n")
            b.write("# EOF\n")
        missing = {r for r, _ in qs.records} - fleet.written
        if missing:
            raise SystemExit(f"the generator wrote no series for {', '.join(sorted(missing))}")
        out.update(generate_s=round(time.perf_counter() - start, 1), raw_series=raw_sink.series,
                   raw_samples=raw_sink.samples, record_series=rec_sink.series, record_samples=rec_sink.samples,
                   raw_window_s=max(fleet.raw.values()),
                   openmetrics_bytes=om_raw.stat().st_size + om_rec.stat().st_size)
        log(f"{clusters} clusters: {raw_sink.series} raw series ({raw_sink.samples} samples), {rec_sink.series} "
            f"recorded ({rec_sink.samples}), generated in {out['generate_s']} s")
        for key in engines:
            timings: dict = {}
            serve = (prometheus([om_raw, om_rec], work, timings) if key == PROMETHEUS
                     else victoriametrics(vm, work, timings))
            if key == VICTORIA and PROMETHEUS not in engines:
                om_raw.unlink()
                om_rec.unlink()
            with serve as server:
                waiting = time.perf_counter()
                result = {"load_s": timings["load_s"], "busy_before": wait_quiet()}
                result["waited_s"] = round(time.perf_counter() - waiting)
                log(f"  {key}: loaded in {timings['load_s']} s; the machine {result['busy_before']:.0%} busy")
                result["fleet"] = refresh(server, key, qs.shipped, end, runs)
                log(f"  {key}: Fleet {result['fleet']['samples']} samples, {result['fleet']['seconds']} s")
                if raw:
                    result["fleet_raw"] = refresh(server, key, qs.raw, end, runs)
                    log(f"  {key}: raw-form Fleet {result['fleet_raw']['samples']} samples, "
                        f"{result['fleet_raw']['seconds']} s")
                result["variable_s"] = round(statistics.median(
                    label_values(server, *qs.variable, end) for _ in range(runs)), 3)
                result["groups"] = rule_groups(server, key, qs.groups, end, runs, fleet.expected)
                log(f"  {key}: " + ", ".join(f"{g} {v['seconds']} s" for g, v in result["groups"].items()))
            out[key] = result
            if key == PROMETHEUS and VICTORIA in engines:
                shutil.rmtree(work / "tsdb", ignore_errors=True)
    return out


def extrapolate(sizes: dict[int, dict], engines: list[str]) -> None:
    """The raw-form Fleet where it was not measured: the largest measured size's figures scaled by the number of
    clusters (every cluster has the same series, and 10 -> 100 clusters shows how close to linear it is)."""
    measured = sorted(n for n, r in sizes.items() if "fleet_raw" in r.get(engines[0], {}))
    if not measured:
        return
    base = measured[-1]
    for n, r in sizes.items():
        for key in engines:
            if key not in r or "fleet_raw" in r[key] or key not in sizes[base]:
                continue
            b = sizes[base][key]["fleet_raw"]
            f = n / base
            r[key]["fleet_raw_extrapolated"] = {
                "from_clusters": base, "samples": int(b["samples"] * f), "seconds": round(b["seconds"] * f, 2),
                **({"max_query_samples": int(b["max_query_samples"] * f)} if "max_query_samples" in b else {})}


def run(sizes: list[int], raw_sizes: list[int], engines: list[str], runs: int, log=print) -> dict:
    from crdb_dash.preview.run import scenario_end

    qs = queries()
    end = scenario_end()
    start = time.perf_counter()
    results = {n: measure(n, end, engines, runs, n in raw_sizes, qs, log) for n in sizes}
    extrapolate(results, engines)
    return {"sizes": {str(n): r for n, r in results.items()}, "engines": {k: engine(k).version() for k in engines},
            "groups": list(qs.groups), "quiet_wait_s": QUIET_WAIT,
            "runs": runs, "scrape_s": fleetgen.SCRAPE, "range_s": RANGE, "total_s": round(time.perf_counter() - start),
            "query_limit": DEFAULT_LIMIT}
