"""A model of CockroachDB's backup, restore and schedule metrics, node by node.

From a ``Scenario`` (clusters, nodes, a backup schedule, failures, pauses, restores, restarts, the
jobs poller moving) it computes what each node would export at each scrape, with CockroachDB's
semantics (METRICS.md):

- counters have no ``_total`` suffix and start again from 0 when their node restarts;
- ``schedules_BACKUP_last_completed_time`` is set only on the node that completed the backup, to the
  backup's AS OF SYSTEM TIME (its start); other nodes export 0, and so does a node after a restart;
- poller gauges (paused jobs, protected timestamps) are set by the node holding the poller; a node that
  held it before keeps exporting its last value;
- ``schedules_round_reschedule_*`` are gauges that only grow until their node restarts;
- every sample carries ``node_id``; ``tenant`` exists only once a virtual cluster does, so the system
  tenant's series gain ``tenant="system"`` mid-history when the first virtual cluster starts;
- ``jobs_{backup,restore}_resume_retry_error`` also count a job stopped by a pause or by its node draining
  for a shutdown (the counter is lost with the restart unless a scrape saw it during the drain);
- ``backup_last_failed_time_kms_inaccessible`` is per tenant: only the tenant whose backup failed on the KMS
  sets it, on the node that ran the job; other tenants and nodes export 0, and so does that node after a restart;
- ``cloud_write_bytes`` / ``cloud_read_bytes`` grow only while a backup / restore runs: not while it is paused;
- ``sys_uptime`` is each node's seconds since its process started (``BOOTED`` at the scenario's start, 0 when
  it starts again after a restart), exported with the system tenant's labels;
- a node that restarts is not scraped for ``NODE_DOWN`` seconds, and a missed scrape (``scrape_gaps``) is a
  node that runs on but is not scraped: Prometheus marks its series stale at the first miss.

It also keeps the ground truth (what happened when) for tests to compare dashboards against.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from dataclasses import dataclass, field

from crdb_dash.model.catalog import COUNTING, METRICS, UPTIME, Kind

BACKUP_WRITE_RATE = 50e6  # bytes/s a running backup writes to cloud storage
RESTORE_READ_RATE = 80e6
NODE_DOWN = 60  # seconds a restarting node is not scraped
BOOTED = 7 * 86400  # seconds every node has been running when a scenario starts
DRAIN = 30  # seconds a node drains before it stops: still scraped, its running jobs stopped with a retryable error
BY_VIRTUAL_CLUSTER = "schedules_BACKUP_last_completed_time_by_virtual_cluster"  # the system tenant, per virtual cluster


@dataclass(frozen=True)
class Schedule:
    """A backup schedule; offsets in seconds from the scenario's start."""

    cadence: int = 3600
    duration: int = 600
    first: int = 300
    fail_runs: frozenset[int] = frozenset()
    stuck_runs: frozenset[int] = frozenset()  # never finish
    pauses: tuple[tuple[int, int, int], ...] = ()  # (run, seconds after its start, pause length)
    retries: tuple[tuple[int, int], ...] = ()  # (run, seconds after its start) of a retryable error
    updates_metric: bool = True  # created WITH updates_cluster_last_backup_time_metric
    on_previous_running: str = "skip"  # or "wait"
    until: int | None = None  # no run starts after this offset


@dataclass(frozen=True)
class Restore:
    start: int
    duration: int
    retries: tuple[int, ...] = ()  # seconds after start of each retryable error
    fails: bool = False
    pause: tuple[int, int] | None = None  # (seconds after start, length)


@dataclass(frozen=True)
class Tenant:
    name: str | None = None  # None: no tenant label (no virtual cluster exists)
    schedule: Schedule | None = Schedule()
    restores: tuple[Restore, ...] = ()
    since: int = 0  # offset a virtual cluster starts at; the system tenant's series are label-less until the first
    kms_failure: int | None = None  # offset of this tenant's backup failure on an unreachable KMS


@dataclass(frozen=True)
class Cluster:
    name: str
    nodes: int = 3
    tenants: tuple[Tenant, ...] = (Tenant(),)
    restarts: tuple[tuple[int, int], ...] = ()  # (node, offset): the node is down NODE_DOWN s, then starts at 0
    poller_moves: tuple[tuple[int, int], ...] = ()  # (offset, node): the poller runs there from then on
    poller_failures: tuple[int, ...] = ()  # offsets of failed poller runs
    schedules_error: int = 0
    schedules_malformed: int = 0
    scrape_gaps: tuple[tuple[int, int, int], ...] = ()  # (node, offset, seconds): up, but not scraped
    scraped_until: int | None = None  # offset from which Prometheus no longer scrapes the cluster (its target is gone)


@dataclass(frozen=True)
class Scenario:
    name: str
    duration: int
    clusters: tuple[Cluster, ...]
    scrape: int = 30
    description: str = ""


@dataclass
class Job:
    kind: str  # "backup" or "restore"
    tenant: str | None
    start: int
    node: int
    end: int | None  # None: still running at the end (stuck)
    failed: bool = False
    scheduled: bool = False
    pauses: list[tuple[int, int]] = field(default_factory=list)  # absolute (from, to)
    retries: list[int] = field(default_factory=list)  # absolute times

    def paused(self, t: int) -> bool:
        return any(a <= t < b for a, b in self.pauses)

    def running(self, t: int) -> bool:
        return self.start <= t and (self.end is None or t < self.end) and not self.paused(t)

    def active(self, t: int) -> bool:
        """Holds a protected timestamp: started and not finished, running or paused."""
        return self.start <= t and (self.end is None or t < self.end)


class ClusterModel:
    """Jobs and events of one cluster, and each node's exported value at any time."""

    def __init__(self, spec: Cluster, duration: int):
        self.spec = spec
        self.duration = duration
        self.restarts = {n: sorted(t for node, t in spec.restarts if node == n) for n in self.node_ids}
        self._holders = self._find_holders()
        self.jobs: list[Job] = []
        self.skips: list[tuple[int, int, str | None, str]] = []  # (time, node, tenant, skip|wait)
        for tenant in spec.tenants:
            if tenant.schedule is not None:
                self._schedule(tenant.name, tenant.schedule, tenant.since)
            for i, r in enumerate(tenant.restores):
                self._restore(tenant.name, r, i)
        self._events: dict[tuple[str, str | None], list[tuple[int, int]]] = {}
        self._by_node: dict[tuple[str, str | None, int], list[int]] = {}

    @property
    def node_ids(self) -> range:
        return range(1, self.spec.nodes + 1)

    @property
    def tenants(self) -> list[str | None]:
        return [t.name for t in self.spec.tenants]

    # ---- building the jobs ---------------------------------------------------------------------------
    def _live_node(self, t: int, preferred: int) -> int:
        for i in range(self.spec.nodes):
            node = (preferred - 1 + i) % self.spec.nodes + 1
            if self.up(node, t):
                return node
        return preferred

    def _schedule(self, tenant: str | None, s: Schedule, since: int = 0) -> None:
        previous: Job | None = None
        run = 0
        t = since + s.first
        last = min(self.duration, s.until if s.until is not None else self.duration)
        while t <= last:
            node = self._live_node(t, run % self.spec.nodes + 1)
            start = t
            if previous is not None and previous.active(t):
                self.skips.append((t, node, tenant, s.on_previous_running))
                if s.on_previous_running == "skip" or previous.end is None:
                    t += s.cadence
                    run += 1
                    continue
                start = previous.end
            job = Job("backup", tenant, start, node, None, failed=run in s.fail_runs, scheduled=True)
            length = s.duration // 2 if job.failed else s.duration
            for r, after, pause in s.pauses:
                if r == run:
                    job.pauses.append((start + after, start + after + pause))
                    length += pause
            job.retries = [start + after for r, after in s.retries if r == run]
            job.end = None if run in s.stuck_runs else start + length
            self.jobs.append(job)
            previous = job
            t += s.cadence
            run += 1

    def _restore(self, tenant: str | None, r: Restore, index: int) -> None:
        job = Job("restore", tenant, r.start, self._live_node(r.start, index % self.spec.nodes + 1), None,
                  failed=r.fails)
        length = r.duration
        if r.pause:
            job.pauses.append((r.start + r.pause[0], r.start + r.pause[0] + r.pause[1]))
            length += r.pause[1]
        job.retries = [r.start + after for after in r.retries]
        job.end = r.start + length
        self.jobs.append(job)

    # ---- node lifecycle ------------------------------------------------------------------------------
    def up(self, node: int, t: int) -> bool:
        return not any(r <= t < r + NODE_DOWN for r in self.restarts.get(node, ()))

    def started(self, node: int, t: int) -> int:
        """When the node's process last started (its counters count from here)."""
        times = self.restarts.get(node, [])
        i = bisect.bisect_right(times, t - NODE_DOWN)
        return times[i - 1] + NODE_DOWN if i else -1

    def uptime(self, node: int, t: int) -> int:
        """Seconds since the node's process started (sys_uptime)."""
        started = self.started(node, t)
        return t - started if started >= 0 else t + BOOTED

    def listed(self, t: int) -> bool:
        """Whether Prometheus still has the cluster's targets at t (``up`` exists)."""
        return self.spec.scraped_until is None or t < self.spec.scraped_until

    def scraped(self, node: int, t: int) -> bool:
        gaps = self.spec.scrape_gaps
        return self.listed(t) and self.up(node, t) and not any(n == node and a <= t < a + d for n, a, d in gaps)

    def exists(self, tenant: str | None, t: int) -> bool:
        return t >= next(tn.since for tn in self.spec.tenants if tn.name == tenant)

    def tenant_label(self, tenant: str | None, t: int) -> str | None:
        """The tenant label a series carries at t: the system tenant's appears with the first virtual cluster."""
        if tenant is None:
            return None
        if tenant == self.tenants[0] and t < min((tn.since for tn in self.spec.tenants[1:]), default=0):
            return None
        return tenant

    def holders(self) -> list[tuple[int, int, int]]:
        """(from, to, node) of each time a node held the jobs poller; node 1 holds it first."""
        return self._holders

    def _find_holders(self) -> list[tuple[int, int, int]]:
        moves = [(0, 1), *sorted(self.spec.poller_moves)]
        ends = [at for at, _ in moves[1:]] + [self.duration + 1]
        return [(a, b, n) for (a, n), b in zip(moves, ends, strict=True)]

    def poller(self, t: int) -> int:
        return next(n for a, b, n in self.holders() if a <= t < b) if t <= self.duration else self.holders()[-1][2]

    # ---- events --------------------------------------------------------------------------------------
    def events(self, exported: str, tenant: str | None) -> list[tuple[int, int]]:
        """(time, node) of each increment of a counter or cumulative gauge."""
        key = (exported, tenant)
        if key not in self._events:
            self._events[key] = self._find_events(exported, tenant)
        return self._events[key]

    def _find_events(self, exported: str, tenant: str | None) -> list[tuple[int, int]]:
        jobs = [j for j in self.jobs if j.tenant == tenant]
        backups = [j for j in jobs if j.kind == "backup"]
        restores = [j for j in jobs if j.kind == "restore"]

        def done(js: list[Job], failed: bool) -> list[tuple[int, int]]:
            return [(j.end, j.node) for j in js if j.end is not None and j.end <= self.duration and j.failed == failed]

        table = {
            "schedules_BACKUP_started": [(j.start, j.node) for j in backups if j.scheduled],
            "schedules_round_jobs_started": [(j.start, j.node) for j in backups if j.scheduled],
            "schedules_BACKUP_succeeded": done([j for j in backups if j.scheduled], False),
            "schedules_BACKUP_failed": done([j for j in backups if j.scheduled], True),
            "jobs_backup_resume_completed": done(backups, False),
            "jobs_backup_resume_failed": done(backups, True),
            "jobs_backup_fail_or_cancel_completed": done(backups, True),
            "jobs_backup_resume_retry_error": [(t, j.node) for j in backups for t in self._stops(j)],
            "jobs_restore_resume_completed": done(restores, False),
            "jobs_restore_resume_failed": done(restores, True),
            "jobs_restore_fail_or_cancel_completed": done(restores, True),
            "jobs_restore_resume_retry_error": [(t, j.node) for j in restores for t in self._stops(j)],
            "schedules_round_reschedule_skip": [(t, n) for t, n, tn, how in self.skips if tn == tenant
                                                and how == "skip"],
            "schedules_round_reschedule_wait": [(t, n) for t, n, tn, how in self.skips if tn == tenant
                                                and how == "wait"],
        }
        if tenant == self.tenants[0]:
            table["jobs_metrics_task_failed"] = [(t, self.poller(t)) for t in self.spec.poller_failures]
        return sorted(table.get(exported, []))

    def _stops(self, job: Job) -> list[int]:
        """Times a job's resumer returned a retryable error: its own errors, each pause, and each
        shutdown of its node while it ran (at the start of the node's drain)."""
        drains = [r - DRAIN for r in self.restarts.get(job.node, ()) if job.running(r - DRAIN)]
        return sorted([*job.retries, *(a for a, _ in job.pauses), *drains])

    def counter(self, exported: str, node: int, tenant: str | None, t: int) -> float:
        key = (exported, tenant, node)
        if key not in self._by_node:
            self._by_node[key] = [e for e, n in self.events(exported, tenant) if n == node]
        times = self._by_node[key]
        return float(bisect.bisect_right(times, t) - bisect.bisect_right(times, self.started(node, t)))

    # ---- values --------------------------------------------------------------------------------------
    def completions(self, tenant: str | None) -> list[Job]:
        """Scheduled backups that completed and so moved the last-completed-time gauge."""
        sched = next(t.schedule for t in self.spec.tenants if t.name == tenant)
        if sched is None or not sched.updates_metric:
            return []
        return self.completions_any(tenant)

    def last_completed(self, node: int, tenant: str | None, t: int) -> float:
        since = self.started(node, t)
        mine = [j.start for j in self.completions(tenant) if j.node == node and since < j.end <= t]
        return float(max(mine, default=0))

    def poller_value(self, exported: str, tenant: str | None, t: int) -> float:
        jobs = [j for j in self.jobs if j.tenant == tenant]
        kind = "restore" if "restore" in exported else "backup"
        if exported.endswith("currently_paused"):
            return float(sum(1 for j in jobs if j.kind == kind and j.paused(t)))
        if exported.startswith("schedules_BACKUP_protected"):
            done = [j.start for j in self.completions_any(tenant) if j.end <= t]
            if exported.endswith("record_count"):
                return 1.0 if done else 0.0
            return float(t - max(done)) if done else 0.0
        active = [j for j in jobs if j.kind == kind and j.active(t)]
        if exported.endswith("record_count"):
            return float(len(active))
        return float(t - min(j.start for j in active)) if active else 0.0

    def completions_any(self, tenant: str | None) -> list[Job]:
        return [j for j in self.jobs if j.tenant == tenant and j.scheduled and not j.failed and j.end is not None]

    def value(self, exported: str, kind: Kind, node: int, tenant: str | None, t: int) -> float | None:
        """What ``node`` exports at offset t (unix-time gauges as offsets); None when it is not scraped."""
        if not self.scraped(node, t) or not self.exists(tenant, t):
            return None
        if exported in ("cloud_write_bytes", "cloud_read_bytes"):
            return self._bytes(exported, node, tenant, t)
        if kind in COUNTING:
            return self.counter(exported, node, tenant, t)
        if exported == "jobs_poll_jobs_stats_currently_running":
            return 1.0 if node == self.poller(t) else 0.0
        if kind is Kind.RUNNING:
            what = "backup" if "backup" in exported else "restore"
            if exported.endswith("idle"):
                return 0.0
            return float(sum(1 for j in self.jobs if j.tenant == tenant and j.kind == what and j.node == node
                             and j.running(t)))
        if kind is Kind.POLLER:
            return self._poller_gauge(exported, node, tenant, t)
        if kind is Kind.SCHEDULER:
            return float(self.spec.schedules_error if exported == "schedules_error" else self.spec.schedules_malformed)
        if kind is Kind.LAST_COMPLETED:
            return self.last_completed(node, tenant, t)
        if kind is Kind.EVENT_TIME:
            return self._kms_failed(node, tenant, t)
        raise AssertionError(kind)

    def _kms_failed(self, node: int, tenant: str | None, t: int) -> float:
        """backup_last_failed_time_kms_inaccessible: a per-tenant gauge set only by the tenant whose backup failed on
        the KMS, on the node that ran that job (the first live node from node 1); 0 elsewhere and after a restart."""
        k = next(tn.kms_failure for tn in self.spec.tenants if tn.name == tenant)
        if k is None or node != self._live_node(k, 1):
            return 0.0
        return float(k) if self.started(node, t) < k <= t else 0.0

    def _poller_gauge(self, exported: str, node: int, tenant: str | None, t: int) -> float:
        """The holder's fresh value; a former holder keeps the value it had when it lost the poller."""
        if node == self.poller(t):
            return self.poller_value(exported, tenant, t)
        lost = [b for a, b, n in self.holders() if n == node and b <= t]
        if not lost or self.started(node, t) >= lost[-1]:
            return 0.0
        return self.poller_value(exported, tenant, lost[-1] - 1)

    def _bytes(self, exported: str, node: int, tenant: str | None, t: int) -> float:
        kind, rate = ("backup", BACKUP_WRITE_RATE) if exported == "cloud_write_bytes" else ("restore",
                                                                                           RESTORE_READ_RATE)
        since = self.started(node, t)
        total = 0.0
        for j in self.jobs:
            if j.tenant == tenant and j.kind == kind and j.node == node:
                a, b = max(j.start, since), min(t, j.end if j.end is not None else t)
                paused = sum(max(0, min(b, pb) - max(a, pa)) for pa, pb in j.pauses)  # a paused job writes nothing
                total += max(0, b - a - paused) * rate
        return total


# Metrics a node exports, with the extra label some carry; the by-virtual-cluster gauge is exported by
# the system tenant for each virtual cluster.
EXPORTED = [m for m in METRICS if not m.by_label]


@dataclass
class Series:
    name: str
    labels: dict[str, str]
    samples: list[tuple[int, float]]  # (unix seconds, value)


class Simulation:
    """All series of a scenario ending at unix time ``end``."""

    def __init__(self, scenario: Scenario, end: int, job: str = "cockroachdb"):
        self.scenario = scenario
        self.end = end - end % scenario.scrape
        self.start = self.end - scenario.duration
        self.job = job
        self.models = {c.name: ClusterModel(c, scenario.duration) for c in scenario.clusters}

    def times(self) -> range:
        return range(0, self.scenario.duration + 1, self.scenario.scrape)

    def node_labels(self, node: int, tenant: str | None) -> dict[str, str]:
        labels = {"node_id": str(node)}
        if tenant is not None:
            labels["tenant"] = tenant
        return labels

    def scrape_labels(self, cluster: str, node: int) -> dict[str, str]:
        return {"job": self.job, "instance": f"{cluster}-n{node}:8080", "cluster": cluster}

    def families(self) -> list[str]:
        return [m.exported for m in EXPORTED] + [BY_VIRTUAL_CLUSTER, "up", UPTIME]

    def series(self, name: str) -> Iterator[Series]:
        """Every series of one metric, as Prometheus would store them after scraping."""
        if name == "up":
            yield from self._up()
        elif name == BY_VIRTUAL_CLUSTER:
            yield from self._by_virtual_cluster()
        elif name == UPTIME:
            yield from self._uptime()
        else:
            yield from self._node_series(next(m for m in EXPORTED if m.exported == name))

    def _node_series(self, m) -> Iterator[Series]:
        for cluster, model in self.models.items():
            for node in model.node_ids:
                for tenant in model.tenants:
                    by_label: dict[str | None, list[tuple[int, float]]] = {}
                    for t in self.times():
                        if (v := model.value(m.exported, m.kind, node, tenant, t)) is not None:
                            sample = (self.start + t, self._unix(v) if m.unix_time else v)
                            by_label.setdefault(model.tenant_label(tenant, t), []).append(sample)
                    for label, samples in by_label.items():
                        yield Series(m.exported, {**self.scrape_labels(cluster, node), **self.node_labels(node, label)},
                                     samples)

    def _up(self) -> Iterator[Series]:
        for cluster, model in self.models.items():
            for node in model.node_ids:
                samples = [(self.start + t, 1.0 if model.scraped(node, t) else 0.0) for t in self.times()
                           if model.listed(t)]
                yield Series("up", self.scrape_labels(cluster, node), samples)

    def _uptime(self) -> Iterator[Series]:
        for cluster, model in self.models.items():
            for node in model.node_ids:
                by_label: dict[str | None, list[tuple[int, float]]] = {}
                for t in self.times():
                    if model.scraped(node, t):
                        label = model.tenant_label(model.tenants[0], t)
                        by_label.setdefault(label, []).append((self.start + t, float(model.uptime(node, t))))
                for label, samples in by_label.items():
                    yield Series(UPTIME, {**self.scrape_labels(cluster, node), **self.node_labels(node, label)},
                                 samples)

    def _by_virtual_cluster(self) -> Iterator[Series]:
        for cluster, model in self.models.items():
            if model.tenants[0] is None:
                continue
            for node in model.node_ids:
                for tenant_id, tenant in enumerate(model.tenants[1:], start=2):
                    labels = {**self.scrape_labels(cluster, node), **self.node_labels(node, "system"),
                              "tenant_id": str(tenant_id)}
                    samples = [(self.start + t, self._unix(model.last_completed(node, tenant, t)))
                               for t in self.times() if model.scraped(node, t) and model.exists(tenant, t)]
                    yield Series(BY_VIRTUAL_CLUSTER, labels, samples)

    def _unix(self, offset: float) -> float:
        """A unix-time gauge: 0 stays 0 (never), an offset becomes a unix time."""
        return self.start + offset if offset else 0.0

    # ---- ground truth ----------------------------------------------------------------------------------
    def truth_last_completed(self, cluster: str, tenant: str | None, at: int) -> int | None:
        """AS OF time (unix) of the newest completed backup at unix time ``at``; None if none."""
        model = self.models[cluster]
        done = [j.start for j in model.completions(tenant) if j.end <= at - self.start]
        return self.start + max(done) if done else None

    def truth_count(self, cluster: str, exported: str, since: int, until: int, tenant: str | None = "*") -> int:
        model = self.models[cluster]
        tenants = model.tenants if tenant == "*" else [tenant]
        return sum(1 for tn in tenants for t, _ in model.events(exported, tn)
                   if since - self.start < t <= until - self.start)

    def truth_jobs(self, cluster: str, kind: str, state: str, at: int) -> int:
        model = self.models[cluster]
        t = at - self.start
        test = {"running": Job.running, "paused": Job.paused}[state]
        return sum(1 for j in model.jobs if j.kind == kind and test(j, t))


def openmetrics(sims: list[Simulation], setup=None) -> Iterator[str]:
    """OpenMetrics text of several simulations for ``promtool tsdb create-blocks-from openmetrics``.

    Families are left undeclared (of type unknown): CockroachDB's counters lack the ``_total`` suffix
    OpenMetrics wants, the TSDB stores no type anyway, and under other namings several metrics share one
    family. A ``setup`` (``crdb_dash.simulation.setups``) renames and relabels every series as that way of reaching
    Prometheus would.
    """
    for name in sims[0].families():
        for sim in sims:
            for s in sim.series(name):
                for out in (setup.scraped(s) if setup is not None else [s]):
                    label_text = ",".join(f'{k}="{v}"' for k, v in sorted(out.labels.items()))
                    yield "".join(f"{out.name}{{{label_text}}} {sample_text(v)} {t}\n" for t, v in out.samples)
    yield "# EOF\n"


def promtool_series(sim: Simulation, names: list[str]) -> dict[str, str]:
    """Series of ``names`` in ``promtool test rules`` notation, one value a scrape (the test's ``interval``), from
    the simulation's start. A series that stops being scraped gets a stale marker, as Prometheus writes one."""
    times = [sim.start + t for t in sim.times()]
    out = {}
    for name in names:
        for s in sim.series(name):
            values = dict(s.samples)
            tokens: list[str] = []
            for t in times:
                if t in values:
                    tokens.append(sample_text(values[t]))
                else:
                    tokens.append("stale" if tokens and tokens[-1] not in ("_", "stale") else "_")
            label_text = ", ".join(f'{k}="{v}"' for k, v in sorted(s.labels.items()))
            out[f"{name}{{{label_text}}}"] = _runs(tokens)
    return out


def _runs(tokens: list[str]) -> str:
    """promtool's expanding notation: 'v' n times is 'vx(n-1)', '_' n times is '_xn'."""
    parts = []
    i = 0
    while i < len(tokens):
        j = i
        while j + 1 < len(tokens) and tokens[j + 1] == tokens[i] and tokens[i] != "stale":
            j += 1
        n = j - i + 1
        if n == 1:
            parts.append(tokens[i])
        else:
            parts.append(f"_x{n}" if tokens[i] == "_" else f"{tokens[i]}x{n - 1}")
        i = j + 1
    return " ".join(parts)


def sample_text(v: float) -> str:
    """A sample value as the text formats write it: whole numbers without a decimal point."""
    return str(int(v)) if float(v).is_integer() else repr(v)
