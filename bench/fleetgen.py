"""A fleet of CockroachDB clusters for the scale benchmark, written fast enough for a thousand clusters.

Only the series the rule file and the Fleet dashboard read are written, each only over the window the measured
queries read it at the end time (``lookbacks``), with CockroachDB's semantics (as crdb_dash.simulation.simulator
models them): per node and tenant, counters that start again from 0 when their node restarts, the last completed
time on the node that completed the backup (0 elsewhere), poller gauges on the node holding the poller.

The recording rules' own series are written directly, one sample a minute, with the values the rules would have
produced since the rules started (``BOOT`` before the end), so that no rule has to be evaluated over the history.
``expected_at_end`` keeps what each recording rule should give at the end time itself, to compare with what the
rules compute there.

Every cluster has ``NODES`` nodes and two tenants (the system tenant and one virtual cluster, ``main``), each with
an hourly backup schedule. A few clusters are in trouble, so that the table is not all green: about 1 in 100 fails
every backup of the last 8 hours, 1 in 90 has a backup paused 3 hours ago (later runs skipped), 1 in 10 had a node
restarted 3 hours ago and 1 in 250 stopped reporting 2 hours ago.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

SCRAPE = 30  # seconds between scrapes
EVAL = 60  # the rule groups' interval
LOOKBACK = 300  # Prometheus' default lookback for an instant selector
MARGIN = 300  # written beyond the longest lookback
BOOT = 8 * 86400  # the nodes' processes, and the rules' evaluation, started this long before the end
RECORD_HISTORY = (86400, 8 * 86400)  # a record is written at least a day back, at most BOOT
CADENCE = 3600
NODES = 3
TENANTS = ("system", "main")
VC_ID = "2"  # the virtual cluster's ID, on the by-virtual-cluster gauge
FOREVER = np.int64(2**62)

BY_VC = "schedules_BACKUP_last_completed_time_by_virtual_cluster"
BY_VC_RECORD = "cluster_tenant_id:schedules_BACKUP_last_completed_time_by_virtual_cluster:max_known"
ALERTS = "ALERTS"


# ---- what the queries read ----------------------------------------------------------------------------------------
def lookbacks(exprs: Iterable[str]) -> dict[str, list[tuple[int, int]]]:
    """Metric name -> the spans of time before the evaluation time (nearest, farthest, in seconds) that ``exprs``
    read it over: offsets, ranges and subquery ranges added up along the path to each selector, an instant selector
    reading its lookback."""
    import promql_parser as p

    out: dict[str, set[tuple[int, int]]] = {}

    def seconds(delta) -> float:
        return 0.0 if delta is None else max(0.0, delta.total_seconds())

    def note(name: str | None, near: float, far: float) -> None:
        if name:
            out.setdefault(name, set()).add((math.floor(near), math.ceil(far)))

    def visit(node, near: float, far: float) -> None:
        if isinstance(node, p.MatrixSelector):
            off = seconds(node.vector_selector.offset)
            note(node.vector_selector.name, near + off, far + off + seconds(node.range))
            return
        if isinstance(node, p.VectorSelector):
            off = seconds(node.offset)
            note(node.name, near + off, far + off + LOOKBACK)
            return
        if isinstance(node, p.SubqueryExpr):
            off = seconds(node.offset)
            visit(node.expr, near + off, far + off + seconds(node.range))
            return
        for attr in ("expr", "lhs", "rhs", "param"):
            child = getattr(node, attr, None)
            if isinstance(child, p.Expr):
                visit(child, near, far)
        for arg in getattr(node, "args", None) or []:
            visit(arg, near, far)

    for expr in exprs:
        visit(p.parse(expr), 0.0, 0.0)
    return {name: sorted(spans) for name, spans in out.items()}


# ---- the fleet ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Labels:
    """The label names of the default config and the selector's own labels."""

    cluster: str = "cluster"
    node: str = "instance"
    tenant: str = "tenant"
    scrape: tuple[tuple[str, str], ...] = (("job", "cockroachdb"),)


def cluster_name(c: int) -> str:
    return f"c{c:04d}"


def instance(c: int, node: int) -> str:
    return f"{cluster_name(c)}-n{node}:8080"


@dataclass
class Profile:
    troubled: bool  # every backup of the last 8 hours fails
    paused: bool  # a backup paused 3 hours ago, never resumed: later runs are skipped
    restart: int | None  # unix time node 2 restarted (down a minute, counters from 0)
    stop: int | None  # unix time the cluster stopped reporting


def profile(c: int, end: int) -> Profile:
    return Profile(troubled=c % 97 == 3, paused=c % 89 == 5,
                   restart=end - 3 * 3600 + 15 if c % 10 == 1 else None,
                   stop=end - 2 * 3600 if c % 250 == 7 else None)


@dataclass
class Runs:
    """One tenant's scheduled backups in a cluster, in start order."""

    start: np.ndarray
    end: np.ndarray  # FOREVER: never ends (paused, or ending after the cluster stopped reporting)
    node: np.ndarray
    failed: np.ndarray
    pause: np.ndarray  # when the run was paused (FOREVER: never)
    skips: list[tuple[int, int]]  # (time, node) of runs skipped because the previous one was still running


def runs(c: int, ti: int, end: int, prof: Profile) -> Runs:
    first = end - BOOT - 2 * CADENCE
    phase = (c * 131 + ti * 1800) % CADENCE + 7
    duration = 300 + (c * 53 + ti * 97) % 900
    start, stop, node, failed, pause, skips = [], [], [], [], [], []
    paused_run = None
    k0 = first // CADENCE
    for k in range(k0, end // CADENCE + 1):
        s = k * CADENCE + phase
        if s < first or s > end:
            continue
        n = (k + c + ti) % NODES + 1
        if paused_run is not None:
            skips.append((s, n))
            continue
        fails = (prof.troubled and s > end - 8 * 3600) or (k * 7 + c * 13 + ti * 5) % 100 == 0
        e = s + (duration // 2 if fails else duration)
        p = FOREVER
        if prof.paused and paused_run is None and s >= end - 3 * 3600:
            paused_run, p, e = len(start), s + 120, FOREVER
        if prof.stop is not None:
            if s >= prof.stop:
                break
            if e >= prof.stop:
                e = FOREVER
        start.append(s)
        stop.append(e)
        node.append(n)
        failed.append(fails)
        pause.append(p)
    return Runs(np.array(start, dtype=np.int64), np.array(stop, dtype=np.int64), np.array(node, dtype=np.int64),
                np.array(failed, dtype=bool), np.array(pause, dtype=np.int64), skips)


class Node:
    """When one node is scraped and when its process started."""

    def __init__(self, c: int, n: int, end: int, prof: Profile):
        self.boot = end - BOOT
        self.restart = prof.restart if n == 2 else None
        self.stop = prof.stop
        grid = np.arange(end - BOOT - 2 * LOOKBACK, end + 1, SCRAPE, dtype=np.int64)
        self.scraped = grid[self.up(grid)]

    def up(self, t: np.ndarray) -> np.ndarray:
        ok = np.ones(t.shape, dtype=bool)
        if self.restart is not None:
            ok &= ~((t >= self.restart) & (t < self.restart + 60))
        if self.stop is not None:
            ok &= t < self.stop
        return ok

    def started(self, t: np.ndarray) -> np.ndarray:
        """When the process exporting the sample at t started."""
        if self.restart is None:
            return np.full(t.shape, self.boot, dtype=np.int64)
        return np.where(t >= self.restart + 60, self.restart + 60, self.boot)

    def last_scrape(self, t: np.ndarray) -> np.ndarray:
        """The newest scrape at or before t (-1: none)."""
        i = np.searchsorted(self.scraped, t, side="right") - 1
        return np.where(i >= 0, self.scraped[np.maximum(i, 0)], -1)

    def visible(self, t: np.ndarray) -> np.ndarray:
        """The first scrape at or after t, where a value set at t is first seen (FOREVER: never)."""
        i = np.searchsorted(self.scraped, t, side="left")
        out = np.where(i < len(self.scraped), self.scraped[np.minimum(i, len(self.scraped) - 1)], FOREVER)
        return np.where(t >= FOREVER, FOREVER, out)


def count_le(sorted_times: np.ndarray, t: np.ndarray) -> np.ndarray:
    return np.searchsorted(sorted_times, t, side="right")


def counter(events: np.ndarray, node: Node, t: np.ndarray) -> np.ndarray:
    """A counter of ``events`` (times) on one node: the events since its process started, up to t."""
    ev = np.sort(events[events < FOREVER])
    return (count_le(ev, t) - count_le(ev, node.started(t))).astype(np.float64)


# ---- series -------------------------------------------------------------------------------------------------------
class Sink:
    """Where series go: OpenMetrics text (seconds) for promtool and JSON lines (milliseconds) for VictoriaMetrics'
    /api/v1/import, both streamed to files; grids of timestamps are formatted once."""

    def __init__(self, om, vm):
        self.om, self.vm = om, vm
        self._stamps: dict[tuple[int, int, int], tuple[list[str], list[str], str]] = {}
        self.series = self.samples = 0

    def stamps(self, first: int, last: int, step: int) -> tuple[list[str], list[str], str]:
        key = (first, last, step)
        if key not in self._stamps:
            times = range(first, last + 1, step)
            ms = [f"{t}000," for t in times]
            self._stamps[key] = ([f" {t}\n" for t in times], ms, "".join(ms)[:-1])
        return self._stamps[key]

    def write(self, name: str, labels: dict[str, str], first: int, step: int, values: np.ndarray) -> None:
        """One series: ``values`` at first, first + step, ...; NaN where there is no sample."""
        n = len(values)
        if n == 0:
            return
        om_stamps, ms_stamps, all_ms = self.stamps(first, first + (n - 1) * step, step)
        key = np.nan_to_num(values, nan=-1.5)
        cuts = np.flatnonzero(key[1:] != key[:-1]) + 1
        bounds = [0, *cuts.tolist(), n]
        head = name + "{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + "}"
        if len(bounds) > n // 4:  # a value changing at most samples (a time, an age, a running sum): sample by sample
            self._each(name, labels, head, values, om_stamps, ms_stamps)
            return
        om_parts, vm_values, vm_stamps = [], [], []
        present = 0
        gaps = False
        for a, b in zip(bounds[:-1], bounds[1:], strict=True):
            v = values[a]
            if v != v:  # NaN: no sample
                gaps = True
                continue
            text = _number(v)
            line = f"{head} {text}"
            om_parts.append(line + line.join(om_stamps[a:b]))
            vm_values.append(f"{text}," * (b - a))
            vm_stamps.append(ms_stamps[a:b])
            present += b - a
        if not present:
            return
        self.om.write("".join(om_parts))
        stamps = "".join(s for part in vm_stamps for s in part)[:-1] if gaps else all_ms
        metric = json.dumps({"__name__": name, **labels}, separators=(",", ":"))
        self.vm.write(f'{{"metric":{metric},"values":[{"".join(vm_values)[:-1]}],"timestamps":[{stamps}]}}\n')
        self.series += 1
        self.samples += present


    def _each(self, name: str, labels: dict, head: str, values: np.ndarray, om_stamps: list[str],
              ms_stamps: list[str]) -> None:
        have = ~np.isnan(values)
        v = values[have]
        if not len(v):
            return
        texts = v.astype(np.int64).astype(str).tolist() if np.all(v == np.floor(v)) else [_number(x) for x in v]
        where = np.flatnonzero(have).tolist()
        om = [om_stamps[i] for i in where]
        ms = "".join(ms_stamps[i] for i in where)[:-1]
        head += " "
        self.om.write("".join([head + t + s for t, s in zip(texts, om, strict=True)]))
        metric = json.dumps({"__name__": name, **labels}, separators=(",", ":"))
        self.vm.write(f'{{"metric":{metric},"values":[{",".join(texts)}],"timestamps":[{ms}]}}\n')
        self.series += 1
        self.samples += len(texts)


def _number(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else repr(float(v))


# ---- the generator ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Targets:
    """The configured levels (seconds) the recording rules write, and how compliance treats an unknown RPO."""

    rpo_warning: int = 7200
    rpo_critical: int = 21600
    fresh_warning: int = 7200
    fresh_critical: int = 21600
    compliance: str = "critical"  # which RPO target compliance is judged against
    unknown: str = "excluded"  # excluded, violation or compliant
    forget: int = 7 * 86400
    rules_version: int = 2
    sustained: int = 7  # evaluations the sustained-miss record multiplies (now and each minute before)


RAW_METRICS = {  # how each raw metric the queries read is formed; see Fleet.node_values
    "jobs_backup_currently_running", "jobs_backup_currently_paused", "jobs_backup_currently_idle",
    "jobs_restore_currently_running", "jobs_restore_currently_paused", "jobs_restore_currently_idle",
    "jobs_poll_jobs_stats_currently_running", "schedules_BACKUP_last_completed_time", "schedules_BACKUP_succeeded",
    "schedules_BACKUP_started", "schedules_BACKUP_failed", "schedules_BACKUP_protected_age_sec",
    "schedules_BACKUP_protected_record_count", "jobs_backup_protected_age_sec", "jobs_backup_protected_record_count",
    "jobs_restore_protected_age_sec", "jobs_restore_protected_record_count", "jobs_backup_resume_completed",
    "jobs_backup_resume_failed", "jobs_backup_fail_or_cancel_completed", "jobs_backup_resume_retry_error",
    "jobs_backup_fail_or_cancel_retry_error", "jobs_backup_fail_or_cancel_failed", "jobs_restore_resume_completed",
    "jobs_restore_resume_failed", "jobs_restore_resume_retry_error", "jobs_restore_fail_or_cancel_completed",
    "jobs_restore_fail_or_cancel_retry_error", "jobs_restore_fail_or_cancel_failed", "jobs_metrics_task_failed",
    "jobs_backup_expired_pts_records", "jobs_restore_expired_pts_records", "schedules_round_reschedule_skip",
    "schedules_round_reschedule_wait", "schedules_round_jobs_started", "schedules_error", "schedules_malformed",
    "backup_last_failed_time_kms_inaccessible", "sys_uptime", BY_VC,
}


class Fleet:
    """``clusters`` clusters ending at ``end`` (a multiple of a minute). ``windows``: name -> seconds of history to
    write before ``end`` for every raw metric, record and ALERTS the measured queries read (see ``windows``)."""

    def __init__(self, clusters: int, end: int, windows: dict[str, int], records: list[tuple[str, dict]],
                 targets: Targets = Targets(), labels: Labels = Labels()):
        assert end % EVAL == 0
        self.clusters, self.end, self.targets, self.labels = clusters, end, targets, labels
        self.records = records  # (name, extra labels) of every recording rule, in the rule file's order
        self.raw = {m: w for m, w in windows.items() if m in RAW_METRICS}
        unknown = sorted(set(windows) - RAW_METRICS - {r for r, _ in records} - {ALERTS})
        if unknown:
            raise SystemExit(f"the fleet generator does not know how to write {', '.join(unknown)}")
        known = {n for n, _ in records}
        self.record_windows = {r: min(max(windows.get(r, 0), RECORD_HISTORY[0]), RECORD_HISTORY[1]) for r in known}
        self.alerts_window = windows.get(ALERTS, 0)
        self.expected: dict[str, dict[tuple, tuple[float, float]]] = {}  # at the end, one minute before
        self.written: set[str] = set()
        self.sustained = targets.sustained

    # ---- raw series ---------------------------------------------------------------------------------------------
    def write(self, sink: Sink, records_sink: Sink) -> None:
        for c in range(self.clusters):
            self._cluster(c, sink, records_sink)

    def _cluster(self, c: int, raw: Sink, rec: Sink) -> None:
        prof = profile(c, self.end)
        nodes = {n: Node(c, n, self.end, prof) for n in range(1, NODES + 1)}
        tenant_runs = {t: runs(c, ti, self.end, prof) for ti, t in enumerate(TENANTS)}
        first_raw = self.end - max(self.raw.values(), default=0)
        first_raw -= first_raw % SCRAPE
        grid = np.arange(first_raw, self.end + 1, SCRAPE, dtype=np.int64)
        L = self.labels
        for n, node in nodes.items():
            up = node.up(grid)
            for t in TENANTS:
                values = self.node_values(tenant_runs[t], tenant_runs["main"], n, node, grid, t == TENANTS[0])
                labels = {L.cluster: cluster_name(c), L.node: instance(c, n), **dict(L.scrape), "node_id": str(n),
                          L.tenant: t}
                for metric, window in self.raw.items():
                    if metric not in values:
                        continue
                    k = len(grid) - (window // SCRAPE + 1)
                    v = np.where(up, values[metric], np.nan)[max(k, 0):]
                    extra = {"tenant_id": VC_ID} if metric == BY_VC else {}
                    raw.write(metric, {**labels, **extra}, int(grid[max(k, 0)]), SCRAPE, v)
        self._records(c, prof, nodes, tenant_runs, rec)

    def node_values(self, r: Runs, main: Runs, n: int, node: Node, t: np.ndarray, system: bool) -> dict:
        mine = r.node == n
        ok = ~r.failed & (r.end < FOREVER)
        bad = r.failed & (r.end < FOREVER)
        zero = np.zeros(t.shape)
        out = {m: zero for m in self.raw if m not in (BY_VC, "sys_uptime")}
        # running on this node: started and not yet ended or paused
        stops = np.sort(np.minimum(r.end, r.pause)[mine])
        out["jobs_backup_currently_running"] = (count_le(np.sort(r.start[mine]), t) - count_le(stops, t)).astype(
            np.float64)
        out["schedules_BACKUP_started"] = counter(r.start[mine], node, t)
        out["schedules_BACKUP_succeeded"] = counter(r.end[mine & ok], node, t)
        out["schedules_BACKUP_failed"] = counter(r.end[mine & bad], node, t)
        out["jobs_backup_resume_completed"] = out["schedules_BACKUP_succeeded"]
        out["jobs_backup_resume_failed"] = out["schedules_BACKUP_failed"]
        out["jobs_backup_fail_or_cancel_completed"] = out["schedules_BACKUP_failed"]
        out["jobs_backup_resume_retry_error"] = counter(r.pause[mine], node, t)  # a pause is a retryable error
        skips = np.array([s for s, k in r.skips if k == n], dtype=np.int64)
        out["schedules_round_reschedule_skip"] = counter(skips, node, t)
        out["schedules_round_jobs_started"] = out["schedules_BACKUP_started"]
        out["schedules_BACKUP_last_completed_time"] = self._last_completed(r, n, node, t)
        if n == 1:  # the jobs poller runs on node 1
            out["jobs_poll_jobs_stats_currently_running"] = np.ones(t.shape)
            out["jobs_backup_currently_paused"] = count_le(np.sort(r.pause), t).astype(np.float64)
            done = np.searchsorted(r.end[ok], t, side="right") - 1  # run ends are in start order
            newest = np.where(done >= 0, r.start[ok][np.maximum(done, 0)], -1) if ok.any() else np.full(t.shape, -1)
            out["schedules_BACKUP_protected_age_sec"] = np.where(newest >= 0, t - newest, 0).astype(np.float64)
            out["schedules_BACKUP_protected_record_count"] = (newest >= 0).astype(np.float64)
            active = (r.start[None, :] <= t[:, None]) & (t[:, None] < r.end[None, :])
            oldest = np.where(active, r.start[None, :], FOREVER).min(axis=1) if len(r.start) else np.full(
                t.shape, FOREVER)
            out["jobs_backup_protected_age_sec"] = np.where(oldest < FOREVER, t - oldest, 0).astype(np.float64)
            out["jobs_backup_protected_record_count"] = active.sum(axis=1).astype(np.float64)
        if system:
            out["sys_uptime"] = (t - node.started(t) + 7 * 86400 * (node.started(t) == node.boot)).astype(np.float64)
            out[BY_VC] = self._last_completed(main, n, node, t)
        return {m: v for m, v in out.items() if m in self.raw}

    @staticmethod
    def _last_completed(r: Runs, n: int, node: Node, t: np.ndarray) -> np.ndarray:
        """The AS OF time of the newest backup this node completed since its process started; 0: none."""
        ok = (r.node == n) & ~r.failed & (r.end < FOREVER)
        ends, starts = r.end[ok], r.start[ok]
        if not len(ends):
            return np.zeros(t.shape)
        i = np.searchsorted(ends, t, side="right") - 1
        value = starts[np.maximum(i, 0)]
        since = ends[np.maximum(i, 0)] > node.started(t)
        return np.where((i >= 0) & since, value, 0).astype(np.float64)

    # ---- the recording rules' series ----------------------------------------------------------------------------
    def _records(self, c: int, prof: Profile, nodes: dict[int, Node], tenant_runs: dict[str, Runs], rec: Sink) -> None:
        """Every record at every evaluation from BOOT before the end to the end, as the rules compute them; written
        up to the evaluation before the end (at the end, a rule reads them as Prometheus would hold them), the end's
        own values kept in ``expected``."""
        T, g = self.targets, self.end - BOOT
        e = np.arange(g, self.end + 1, EVAL, dtype=np.int64)
        L, name = self.labels, cluster_name(c)
        last = {n: node.last_scrape(e) for n, node in nodes.items()}
        present = {n: (ls >= 0) & (e - ls < LOOKBACK) for n, ls in last.items()}
        reporting = np.logical_or.reduce(list(present.values()))
        seen = _carry(np.where(reporting, e, np.nan).astype(np.float64))
        seen = np.where(e - seen <= T.forget, seen, np.nan)
        series: dict[tuple[str, tuple], np.ndarray] = {}

        def put(record: str, labels: dict[str, str], values: np.ndarray) -> None:
            series[(record, tuple(labels.items()))] = values

        for tenant in TENANTS:
            r = tenant_runs[tenant]
            key = {L.cluster: name, L.tenant: tenant}
            rpo = self._known_completion(r, nodes, e, seen)
            ok = ~r.failed & (r.end < FOREVER)
            success = _newest_at(self._minute_seen(r.end[ok], r.node[ok], nodes), e)
            success = np.where(np.isnan(seen), np.nan, success)
            first_run = float(_minute(int(r.start[0])))
            put(SEEN, key, seen)
            put(RPO, key, rpo)
            if tenant == TENANTS[0]:
                put(BY_VC_RECORD, {**key, "tenant_id": VC_ID},
                    self._known_completion(tenant_runs["main"], nodes, e, seen))
            put(SUCCESS, key, success)
            put(FIRST_RUN, key, np.where(np.isnan(seen), np.nan, first_run))
            for record, levels in ((TARGET, (T.rpo_warning, T.rpo_critical)),
                                   (FRESHNESS, (T.fresh_warning, T.fresh_critical))):
                for severity, level in zip(("warning", "critical"), levels, strict=True):
                    put(record, {**key, "severity": severity}, np.where(np.isnan(seen), np.nan, float(level)))
            target = T.rpo_critical if T.compliance == "critical" else T.rpo_warning
            known = reporting & (rpo > 0)
            ratio = np.where(known, (e - rpo <= target).astype(np.float64), np.nan)
            if T.unknown != "excluded":
                ratio = np.where(~known & (rpo > 0), 1.0 if T.unknown == "compliant" else 0.0, ratio)
            put(COMPLIANT, key, ratio)
            has = ~np.isnan(ratio)
            total = _carry(np.where(has, np.cumsum(np.where(has, ratio, 0.0)), np.nan))
            count = _carry(np.where(has, np.cumsum(has), np.nan))
            total, count = (np.where(np.isnan(seen), np.nan, x) for x in (total, count))
            put(COMPLIANT_SUM, key, total)
            put(COMPLIANT_COUNT, key, count)
            began = float(e[np.argmax(has)]) if has.any() else np.nan  # one run of the sums, as they are written
            put(COMPLIANT_SINCE, key, np.where(np.isnan(total), np.nan, began))
            miss, missing = np.ones(e.shape), np.zeros(e.shape, dtype=bool)
            for k in range(self.sustained):
                shifted = np.concatenate([np.full(k, np.nan), ratio[:len(ratio) - k]])
                missing |= np.isnan(shifted)
                miss = miss * (shifted == 0)
            put(SUSTAINED, key, np.where(missing, np.nan, miss))
            put(PERIOD, key, np.where(count > 0, total / np.where(count > 0, count, 1), np.nan))
            for n in nodes:
                node_seen = np.where(last[n] >= 0, last[n], np.nan).astype(np.float64)
                node_seen = np.where(e - node_seen <= T.forget, node_seen, np.nan)
                put(NODE_SEEN, {**key, L.node: instance(c, n)}, node_seen)
            failed = r.failed & (r.end < FOREVER)
            minutes = self._minute_seen(r.end[failed], r.node[failed], nodes)
            minutes = minutes[(minutes >= e[0]) & (minutes <= e[-1])]
            per_minute = np.bincount(np.searchsorted(e, minutes), minlength=len(e))
            put(FAILED, key, np.where(per_minute > 0, per_minute.astype(np.float64), np.nan))
            if self.alerts_window:
                self._alerts(key, e, rpo, success, seen, per_minute, rec)
        if c == 0:
            put(VERSION, {}, np.full(e.shape, float(T.rules_version)))
        for (record, labels), values in series.items():
            window = self.record_windows.get(record)
            if window is None:
                continue
            k = len(e) - 1 - window // EVAL
            rec.write(record, dict(labels), int(e[k]), EVAL, values[k:-1])
            self.written.add(record)
            if not np.isnan(values[-1]):
                self.expected.setdefault(record, {})[labels] = (float(values[-1]), float(values[-2]))

    def _known_completion(self, r: Runs, nodes: dict[int, Node], e: np.ndarray, seen: np.ndarray) -> np.ndarray:
        """The newest completed backup's AS OF time any node showed up to each evaluation (0: none known)."""
        ok = ~r.failed & (r.end < FOREVER)
        shown = np.full(ok.sum(), FOREVER, dtype=np.int64)
        for n, node in nodes.items():
            mine = r.node[ok] == n
            shown[mine] = node.visible(r.end[ok][mine])
            lost = node.started(shown[mine]) >= r.end[ok][mine]  # the node restarted before showing it
            shown[np.flatnonzero(mine)[lost]] = FOREVER
        order = np.argsort(shown, kind="stable")
        shown, starts = shown[order], np.maximum.accumulate(r.start[ok][order]) if ok.any() else r.start[ok]
        i = np.searchsorted(shown, e, side="right") - 1
        value = np.where(i >= 0, starts[np.maximum(i, 0)] if len(starts) else 0, 0).astype(np.float64)
        return np.where(np.isnan(seen), np.nan, value)

    @staticmethod
    def _minute_seen(times: np.ndarray, run_nodes: np.ndarray, nodes: dict[int, Node]) -> np.ndarray:
        """The rule evaluation (whole minute) at which a counter's increase at ``times`` is first read."""
        shown = np.full(times.shape, FOREVER, dtype=np.int64)
        for n, node in nodes.items():
            mine = run_nodes == n
            shown[mine] = node.visible(times[mine])
        return np.where(shown < FOREVER, -(-shown // EVAL) * EVAL, FOREVER)

    def _alerts(self, key: dict, e: np.ndarray, rpo: np.ndarray, success: np.ndarray, seen: np.ndarray,
                per_minute: np.ndarray, rec: Sink) -> None:
        """ALERTS of the alerts a Prometheus evaluating the rule file would have firing: the recovery point and the
        last success over their levels for 5 minutes, a failure in the last hour, a cluster not reporting."""
        T = self.targets
        age, fresh = np.where(rpo > 0, e - rpo, np.nan), e - success
        hour = np.convolve(per_minute, np.ones(60), mode="full")[:len(e)]
        firing = {
            ("CockroachBackupRecoveryPointTooOld", "warning"): _held(age > T.rpo_warning, 5),
            ("CockroachBackupRecoveryPointTooOld", "critical"): _held(age > T.rpo_critical, 5),
            ("CockroachBackupNoSuccessfulBackup", "warning"): _held(fresh > T.fresh_warning, 5),
            ("CockroachBackupNoSuccessfulBackup", "critical"): _held(fresh > T.fresh_critical, 5),
            ("CockroachBackupScheduledBackupFailed", "warning"): hour > 0,
            ("CockroachBackupNotReporting", "warning"): e - seen > 600,
        }
        k = len(e) - 1 - self.alerts_window // EVAL
        for (alertname, severity), on in firing.items():
            if on[k:-1].any():
                labels = {"alertname": alertname, "alertstate": "firing", **key, "severity": severity}
                rec.write(ALERTS, labels, int(e[k]), EVAL, np.where(on, 1.0, np.nan)[k:-1])


def _carry(values: np.ndarray) -> np.ndarray:
    """Each NaN replaced by the last value before it (a rule's own last value, remembered)."""
    idx = np.where(~np.isnan(values), np.arange(len(values)), 0)
    np.maximum.accumulate(idx, out=idx)
    out = values[idx]
    out[: np.argmax(~np.isnan(values)) if (~np.isnan(values)).any() else len(values)] = np.nan
    return out


def _newest_at(times: np.ndarray, e: np.ndarray) -> np.ndarray:
    """The newest of ``times`` at or before each evaluation (NaN: none)."""
    shown = np.sort(times[times < FOREVER])
    i = np.searchsorted(shown, e, side="right") - 1
    return np.where(i >= 0, shown[np.maximum(i, 0)] if len(shown) else 0, np.nan).astype(np.float64)


def _held(condition: np.ndarray, minutes: int) -> np.ndarray:
    """True where ``condition`` held at this evaluation and the ``minutes`` before it (an alert's ``for``)."""
    held = condition.copy()
    for k in range(1, minutes + 1):
        held[k:] &= condition[:-k]
        held[:k] = False
    return held


def _minute(t: int) -> int:
    return -(-t // EVAL) * EVAL


# Record names, bound when the generator is configured from the project (see configure).
SEEN = RPO = SUCCESS = FIRST_RUN = TARGET = FRESHNESS = COMPLIANT = COMPLIANT_SUM = COMPLIANT_COUNT = ""
SUSTAINED = PERIOD = NODE_SEEN = FAILED = VERSION = COMPLIANT_SINCE = ""


def configure() -> Targets:
    """The record names and the configured levels, from the project's defaults."""
    from crdb_dash.model import alerts, config, promql

    global SEEN, RPO, SUCCESS, FIRST_RUN, TARGET, FRESHNESS, COMPLIANT, COMPLIANT_SUM, COMPLIANT_COUNT
    global SUSTAINED, PERIOD, NODE_SEEN, FAILED, VERSION, COMPLIANT_SINCE
    SEEN, RPO, SUCCESS, FIRST_RUN = promql.SEEN_RECORD, promql.RPO_RECORD, promql.SUCCESS_RECORD, \
        promql.FIRST_RUN_RECORD
    TARGET, FRESHNESS, COMPLIANT = promql.TARGET_RECORD, promql.FRESHNESS_RECORD, promql.COMPLIANT_RECORD
    COMPLIANT_SUM, COMPLIANT_COUNT, PERIOD = promql.COMPLIANT_SUM_RECORD, promql.COMPLIANT_COUNT_RECORD, \
        promql.PERIOD_RECORD
    SUSTAINED, NODE_SEEN, FAILED = alerts.SUSTAINED_MISS_RECORD, promql.NODE_SEEN_RECORD, promql.FAILED_RECORD
    VERSION, COMPLIANT_SINCE = promql.RULES_VERSION_RECORD, promql.COMPLIANT_SINCE_RECORD
    cfg = config.load()
    step = cfg.seconds("alerts.evaluation_interval")
    return Targets(sustained=len(range(0, config.parse_duration(alerts.PAST_A_MISS) + step + 1, step)),
                   rpo_warning=cfg.seconds("rpo.warning"), rpo_critical=cfg.seconds("rpo.critical"),
                   fresh_warning=cfg.seconds("freshness.warning"), fresh_critical=cfg.seconds("freshness.critical"),
                   compliance=cfg.get("rpo.compliance.target"), unknown=cfg.get("rpo.compliance.unknown"),
                   forget=cfg.seconds("alerts.forget_after"), rules_version=promql.RULES_VERSION)
