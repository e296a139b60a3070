"""The alert table: every backup and restore alert, and the recording rules the alerts and dashboards read.

Each alert is a PromQL value, a comparison and a threshold; ``crdb_dash.pipeline.rules`` renders them for
Prometheus and for Grafana. Thresholds and windows come from the config, aggregation from ``promql``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace

from crdb_dash.model import promql
from crdb_dash.model.catalog import PRESENCE, UPTIME, Metric, metric
from crdb_dash.model.config import Config, parse_duration

PREFIX = "CockroachBackup"  # every alert's name begins with it
UID_PREFIX = "crdb-"  # every alert rule's uid begins with it
VALUE = "{{VALUE}}"  # stands for the firing value, formatted by ``fmt``
SEVERITIES = ("warning", "critical")

# How long the condition must hold before the alert fires (the rule's `for`), where the config does not say.
AT_ONCE = "0m"  # the value already looks back over a window (events in alerts.failure_window, a failure time)
PAST_A_MISS = "5m"  # the condition outlasts a missed scrape or evaluation before it pages
SETTLED = "15m"  # state gauges of periodic scans that can cross the line for a scan or two and settle by themselves
BURNING = "2m"  # two evaluations at the default 1m: the short window already ends it soon after the burning stops

# How the firing value reads in a description (Prometheus template functions).
NUMBER = "humanize"  # 1.5k
WHOLE = 'printf "%.0f"'  # whole events, nodes, times the allowed burn rate
DURATION = "humanizeDuration"  # seconds as 1h 2m 3s
RAW = ""  # as Prometheus prints it (for a value no description shows)


# The alerts on the recovery point, its compliance, the time since a success and reporting (the rest are on jobs,
# schedules, protected timestamps and KMS): Prometheus evaluates them in a rule group of their own.
RECOVERY_POINT_ALERTS = frozenset({"RecoveryPointTooOld", "VirtualClusterRecoveryPointTooOld",
                                   "RecoveryPointBudgetBurn", "RecoveryPointUnknown", "NoSuccessfulBackup",
                                   "NotReporting"})
RUNNING_LONG_ALERTS = frozenset({"JobRunningLong", "RestoreJobRunningLong"})  # the costliest: a group of their own


@dataclass(frozen=True, kw_only=True)
class Alert:
    name: str  # without the prefix
    severity: str
    value: str  # PromQL whose result is compared with ``threshold``
    op: str = ">"  # or "<"
    threshold: float = 0
    for_: str
    fmt: str  # Prometheus template function that formats the value
    summary: str
    description: str  # may use ``where(cfg)`` label templates and VALUE
    labels: dict = field(default_factory=dict)

    @property
    def alertname(self) -> str:
        return PREFIX + self.name

    @property
    def runbook(self) -> str:
        """Its anchor in docs/runbooks.md."""
        return self.name.lower()

    @property
    def expr(self) -> str:
        # Parenthesised: comparison binds tighter than or/and/unless inside the value.
        return f"({self.value}) {self.op} {_number(self.threshold)}"

    @property
    def variant(self) -> str:
        """Severity and extra label values: what tells apart alerts that share a name."""
        return ", ".join([self.severity, *(v for _, v in sorted(self.labels.items()))])

    @property
    def uid(self) -> str:
        digest = hashlib.sha1(f"{self.alertname} {self.variant}".encode()).hexdigest()[:8]
        return f"{UID_PREFIX}{self.name.lower()[:26]}-{digest}"


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(value)


def where(cfg: Config) -> str:
    """The cluster and virtual cluster an alert is about, by the configured label names."""
    return "{{ $labels.%s }}{{ with $labels.%s }} (virtual cluster {{ . }}){{ end }}" % (cfg.cluster, cfg.tenant)


def table(cfg: Config) -> list[Alert]:
    scope = promql.rule_scope(cfg)
    place = where(cfg)  # the cluster and virtual cluster, in every text below
    where_vc = ("{{ $labels.%s }} (virtual cluster ID {{ $labels.tenant_id }}, backed up by host schedules)"
                % cfg.cluster)
    window = cfg.get("alerts.failure_window")
    retries = cfg.get("alerts.retries")
    paused_for = cfg.get("alerts.paused_for")
    silent, forget = cfg.get("alerts.not_reporting_for"), cfg.get("alerts.forget_after")
    running_for = cfg.get("alerts.running_longer_than")
    last = metric("schedules_BACKUP_last_completed_time")
    by_vc = metric("schedules_BACKUP_last_completed_time_by_virtual_cluster")
    return [
        *(Alert(name="RecoveryPointTooOld", severity=severity,
                value=promql.over_target(promql.age(last, scope), scope, severity), for_=PAST_A_MISS, fmt=DURATION,
                summary=f"The newest backup of {place} is older than the RPO.",
                description=f"The newest completed backup of {place} is {VALUE} old, over the {severity} RPO of "
                            f"{_target_text(cfg, severity)}. Backups are failing, stuck or paused.")
          for severity in SEVERITIES),
        # A host schedule backs up its virtual clusters: each is held to its host's system tenant's target.
        *(Alert(name="VirtualClusterRecoveryPointTooOld", severity=severity,
                value=promql.over_target(promql.age(by_vc, scope), scope, severity, group_left=True),
                for_=PAST_A_MISS, fmt=DURATION,
                summary=f"The newest host backup of {where_vc} is older than the RPO.",
                description=f"The newest backup of {where_vc} is {VALUE} old, over the {severity} RPO of "
                            f"{_target_text(cfg, severity)}. Its host schedule is failing, stuck or paused.")
          for severity in SEVERITIES),
        *(Alert(name="RecoveryPointBudgetBurn", severity=severity,
                value=budget_burn(cfg, scope, burns), for_=BURNING, fmt=WHOLE,
                summary=f"{place} is spending its RPO error budget {speed}.",
                description=f"The recovery point of {place} is outside its target so often that the error budget of "
                            f"the {cfg.get('rpo.compliance.objective') * 100:g}% objective over "
                            f"{cfg.get('rpo.compliance.period')} is spent {VALUE} times as fast as the objective "
                            "allows (at 1 it lasts exactly the period), in misses too short for "
                            "RecoveryPointTooOld or in unknown minutes counted as misses (rpo.compliance.unknown).")
          for severity, speed, burns in (("critical", "fast", FAST_BURNS), ("warning", "slowly", SLOW_BURNS))),
        Alert(name="RecoveryPointUnknown", severity="warning",
              value=became_unknown(cfg, scope, last), op="<", threshold=1,
              for_=cfg.get("alerts.recovery_point_unknown_for"), fmt=RAW,
              summary=f"The recovery point of {place} became unknown.",
              description=f"A completed backup of {place} was known, but the recovery point cannot be read now: no "
                          "node exports schedules_BACKUP_last_completed_time although the cluster reports, or "
                          "Prometheus lost the recording rule's memory (down for longer than "
                          f"{cfg.get('rpo.window')}) while every node restarted. The freshness alert still watches "
                          "scheduled backups."),
        *(Alert(name="NoSuccessfulBackup", severity=severity,
                value=promql.over_target(promql.unsuccessful_for(scope), scope, severity, kind="freshness"),
                for_=PAST_A_MISS, fmt=DURATION,
                summary=f"No scheduled backup of {place} succeeded for over its {severity} level.",
                description=f"No scheduled backup of {place} has succeeded for {VALUE} "
                            f"(schedules_BACKUP_succeeded; since its first scheduled run if none ever did), over the "
                            f"{severity} level of {_target_text(cfg, severity, 'freshness')}. Backups are failing, "
                            "stuck, paused or no longer scheduled.")
          for severity in SEVERITIES),
        # A cluster or virtual cluster that exported backup metrics within ``alerts.forget_after`` and none of whose
        # nodes does now, for ``alerts.not_reporting_for``. One node gone while others report is a node problem.
        Alert(name="NotReporting", severity="warning",
              value=promql.not_reporting(scope), threshold=cfg.seconds("alerts.not_reporting_for"), for_=AT_ONCE,
              fmt=DURATION,
              summary=f"{place} has exported no backup metrics for over {silent}.",
              description=f"No node of {place} has exported backup metrics for {VALUE}. Its dashboards and every "
                          "other alert see nothing: the exporter, the scrape configuration or the network is broken, "
                          f"or the cluster is gone (retired: it stops alerting {forget} after it last reported)."),
        Alert(name="ScheduledBackupFailed", severity="warning",
              value=events(scope, window, "schedules_BACKUP_failed"), for_=AT_ONCE, fmt=WHOLE,
              summary=f"Scheduled backups failed in {place}.",
              description=f"{VALUE} scheduled backup(s) failed in {place} in the last {window}."),
        Alert(name="JobFailed", severity="warning",
              value=events(scope, window, "jobs_backup_resume_failed"), for_=AT_ONCE, fmt=WHOLE,
              summary=f"Backup jobs failed in {place}.",
              description=f"{VALUE} backup job(s) failed with a non-retryable error in {place} in the last {window}."),
        Alert(name="RestoreJobFailed", severity="warning",
              value=events(scope, window, "jobs_restore_resume_failed", "jobs_restore_fail_or_cancel_failed"),
              for_=AT_ONCE, fmt=WHOLE,
              summary=f"Restore jobs failed in {place}.",
              description=f"{VALUE} restore job(s) failed in {place} in the last {window}."),
        Alert(name="JobRetrying", severity="info",
              value=retrying(cfg, scope, "backup"), threshold=retries, for_=AT_ONCE, fmt=WHOLE,
              summary=f"Backup jobs keep hitting retryable errors in {place}.",
              description=f"{VALUE} retryable backup job errors in {place} in the last {window}, with no job paused "
                          "and no node restarted or gone in that time (a pause, a cancel and a node shutting down "
                          "each count as one too, so windows with those are left out)."),
        Alert(name="RestoreJobRetrying", severity="info",
              value=events(scope, window, "jobs_restore_resume_retry_error",
                           "jobs_restore_fail_or_cancel_retry_error"),
              threshold=retries, for_=AT_ONCE, fmt=WHOLE,
              summary=f"Restore jobs keep hitting retryable errors in {place}.",
              description=f"{VALUE} retryable restore job errors in {place} in the last {window}."),
        Alert(name="JobPaused", severity="warning",
              value=current(scope, "jobs_backup_currently_paused"), for_=paused_for, fmt=NUMBER,
              summary=f"A backup job has been paused for over {paused_for} in {place}.",
              description=f"{VALUE} backup job(s) paused in {place} for over {paused_for}; a paused backup stops "
                          "the recovery point from moving."),
        Alert(name="RestoreJobPaused", severity="warning",
              value=current(scope, "jobs_restore_currently_paused"), for_=paused_for, fmt=NUMBER,
              summary=f"A restore job has been paused for over {paused_for} in {place}.",
              description=f"{VALUE} restore job(s) paused in {place} for over {paused_for}."),
        *(Alert(name=name, severity=severity,
                value=running_throughout(cfg, scope, kind), for_=PAST_A_MISS, fmt=WHOLE,
                summary=f"A {kind} job has been running for over {running_for} in {place}.",
                description=f"At least {VALUE} {kind} job(s) in {place} have run for over {running_for}: slow or "
                            "stuck.")
          for name, severity, kind in (("JobRunningLong", "warning", "backup"),
                                       ("RestoreJobRunningLong", "info", "restore"))),
        Alert(name="ScheduleOverlapping", severity="warning",
              value=events(scope, window, "schedules_round_reschedule_skip", "schedules_round_reschedule_wait"),
              for_=AT_ONCE, fmt=WHOLE,
              summary=f"Scheduled backups are skipped or delayed in {place}.",
              description=f"{VALUE} schedule run(s) skipped or delayed in {place} in the last {window} because the "
                          "previous backup was still running: the cadence is shorter than the backup takes."),
        *(Alert(name="ProtectedTimestampOld", severity="warning",
                value=current(scope, exported), threshold=cfg.seconds("alerts.protected_age"), for_=SETTLED,
                fmt=DURATION, labels={"holder": holder.replace(" ", "_")},
                summary=f"Old protected timestamp held by {holder} in {place}.",
                description=f"The oldest protected timestamp record held by {holder} in {place} is {VALUE} old; it "
                            "blocks garbage collection and grows storage.")
          for exported, holder in (("schedules_BACKUP_protected_age_sec", "backup schedules"),
                               ("jobs_backup_protected_age_sec", "backup jobs"),
                               ("jobs_restore_protected_age_sec", "restore jobs"))),
        Alert(name="SchedulesInError", severity="warning",
              value=current(scope, "schedules_error"), for_=SETTLED, fmt=NUMBER,
              summary=f"Schedules in error in {place}.",
              description=f"{VALUE} schedule(s) in {place} did not execute successfully."),
        Alert(name="SchedulesMalformed", severity="warning",
              value=current(scope, "schedules_malformed"), for_=SETTLED, fmt=NUMBER,
              summary=f"Malformed schedules in {place}.",
              description=f"{VALUE} schedule(s) in {place} cannot be parsed by the scheduler."),
        Alert(name="KMSInaccessible", severity="critical",
              value=since_kms_failure(scope), op="<", threshold=cfg.seconds("rpo.window"), for_=AT_ONCE,
              fmt=DURATION,
              summary=f"A backup failed because its KMS was unreachable in {place}.",
              description=f"A backup in {place} failed {VALUE} ago because its KMS could not be reached, and no "
                          "backup has completed since."),
        Alert(name="JobsMetricsPollerFailing", severity="warning",
              value=events(scope, window, "jobs_metrics_task_failed"), for_=AT_ONCE, fmt=WHOLE,
              summary=f"The jobs metrics poller is failing in {place}.",
              description=f"The jobs metrics poller failed {VALUE} time(s) in {place} in the last {window}: "
                          "paused-job and protected-timestamp gauges are stale."),
    ]


def _target_text(cfg: Config, severity: str, kind: str = "rpo") -> str:
    default = cfg.get(f"{kind}.{severity}")
    return f"its cluster ({default} unless rpo.overrides sets another)" if cfg.get("rpo.overrides") else default


# ---- the values the alerts compare ---------------------------------------------------------------------------------

# Multi-window burn rates (Google's SRE workbook, "Alerting on SLOs"): the share of the period's error budget
# spent in the long window, the long window and its short companion, which makes the alert stop soon after the
# burning does. The fast tiers page, the slow one is a ticket.
FAST_BURNS = ((0.02, "1h", "5m"), (0.05, "6h", "30m"))
SLOW_BURNS = ((0.1, "3d", "6h"),)


def budget_burn(cfg: Config, scope: promql.Scope, burns: tuple) -> str:
    """The RPO error budget burning at one of ``burns``' rates, and still now, unless one sustained miss explains it.

    A miss that lasted RecoveryPointTooOld's `for` (PAST_A_MISS) within the short window has paged already:
    the burn it causes is not paged again. What is left is what no other alert sees: misses too short to fire
    RecoveryPointTooOld, and unknown minutes counted as misses.
    """
    period = cfg.seconds("rpo.compliance.period")
    conditions = []
    for share, long, short in burns:
        factor = round(share * period / parse_duration(long), 2)
        conditions.append(f"({promql.burn_rate(cfg, scope, long)} > {factor:g} and "
                          f"{promql.burn_rate(cfg, scope, short)} > {factor:g})")
    longest_short = max((short for _, _, short in burns), key=parse_duration)
    return f"({' or '.join(conditions)}) unless on ({scope.grouping()}) {_sustained_miss(scope, longest_short)}"


def _sustained_miss(scope: promql.Scope, within: str) -> str:
    """Clusters whose recovery point was over its compliance target for PAST_A_MISS without a break, within
    ``within`` (the recording rule SUSTAINED_MISS_RECORD)."""
    return f"(max by ({scope.grouping()}) (max_over_time({SUSTAINED_MISS_RECORD}[{within}])) == 1)"


def sustained_miss(cfg: Config) -> str:
    """The recording rule: 1 where the compliance rule read a miss at every evaluation from PAST_A_MISS and one
    interval ago to now: RecoveryPointTooOld, whose `for` spans one evaluation fewer, has fired. The spare
    evaluation keeps a miss from going unpaged where engines read a rule one evaluation late (vmalert) or a range
    with or without its start; explicit offsets, not a range, for the same reason. At worst a miss that just
    fired RecoveryPointTooOld also fires the budget burn."""
    step = cfg.seconds("alerts.evaluation_interval")
    offsets = range(0, parse_duration(PAST_A_MISS) + step + 1, step)
    return " * ".join(f"({promql.COMPLIANT_RECORD}{f' offset {k}s' if k else ''} == bool 0)" for k in offsets)


SUSTAINED_MISS_RECORD = "cluster_tenant:backup_rpo_within_target:sustained_miss"  # 1: a miss of PAST_A_MISS


def became_unknown(cfg: Config, scope: promql.Scope, last: Metric) -> str:
    """0 where a recovery point was known but cannot be read now, while the cluster reports: no node exports the
    gauge, or the recording rule lost its memory (0) although it knew a completion within
    ``alerts.forget_after`` (read hourly: the memory outlasted Prometheus' downtime otherwise).

    A cluster whose schedules never maintained the gauge has nothing to lose: it does not fire.
    """
    g = scope.grouping(last)
    record = promql.RECORDS[last.exported]
    reports = f"({promql.reporting_now(scope)}) * 0"
    no_gauge = f"{reports} unless on ({g}) count by ({g}) ({promql.gauge(last, scope)})"
    forgotten = f"max by ({g}) ({record}) == 0"
    known = f"max_over_time({record}[{cfg.get('alerts.forget_after')}:1h]) > 0 or {record} > 0"
    return f"({no_gauge} or {forgotten}) and on ({g}) ({known})"


def retrying(cfg: Config, scope: promql.Scope, kind: str) -> str:
    """Retryable errors of ``kind``'s jobs in ``alerts.failure_window``, where no job of the kind was paused and no
    node restarted or went away in that window: CockroachDB counts a pause, a cancel and a node shutdown (a
    drain) as retryable errors too."""
    window, g = cfg.get("alerts.failure_window"), scope.grouping()
    errors = events(scope, window, f"jobs_{kind}_resume_retry_error", f"jobs_{kind}_fail_or_cancel_retry_error")
    # Any node's paused gauge, raw: a pause shorter than a minute counts, and a stale copy on a former poller node
    # only keeps this info alert quiet longer.
    paused_sel = promql.selector(metric(f"jobs_{kind}_currently_paused"), scope)
    paused = f"max by ({g}) ({scope.per_node(f'max_over_time({paused_sel}[{window}])')}) > 0"
    cancelled = promql.increase(metric(f"jobs_{kind}_fail_or_cancel_completed"), scope, window) + " > 0"
    uptime = (f"min by ({scope.cluster_label}) ({scope.naming.selector(UPTIME, scope.matchers)}) "
              f"< {parse_duration(window)}")
    presence = promql.selector(metric(PRESENCE), scope)
    gone = (f"count by ({g}) ({scope.per_node(f'last_over_time({presence}[{window}])')}) > "
            f"count by ({g}) ({scope.per_node(presence)})")
    return (f"({errors}) unless on ({g}) ({paused}) unless on ({g}) ({cancelled}) "
            f"unless on ({scope.cluster_label}) ({uptime}) unless on ({g}) ({gone})")


def events(scope: promql.Scope, window: str, *metrics: str) -> str:
    """Events counted over ``window``, summed over ``metrics`` (any of which may be absent), in whole events: a
    threshold of N fires from N + 1 events on."""
    return promql.total(*(promql.counted(metric(m), scope, window, promql.EVENT_STEP) for m in metrics))


def current(scope: promql.Scope, exported: str) -> str:
    """A metric's cluster-wide value now."""
    return promql.current(metric(exported), scope)


# Counters that tell a job ended: succeeded, failed for good, or finished cleaning up after a failure or cancel.
ENDED = ("resume_completed", "resume_failed", "fail_or_cancel_completed", "fail_or_cancel_failed")


def running_throughout(cfg: Config, scope: promql.Scope, kind: str) -> str:
    """How many ``kind`` jobs have surely run for all of ``alerts.running_longer_than``: the long-running alerts.

    The gauge counts running jobs, not which ones, so each bound below counts only jobs that were running at the
    window's start and cannot have ended since: those running then, less the jobs that ended in the window, and
    no more than ran at the quietest moment. Counted per node, other jobs finishing on other nodes do not hide a
    stuck one; counted per cluster, a job that moved to another node (its node restarted) still counts. Backup
    jobs also hold a protected timestamp from their start: the oldest one aged by the whole window (the same
    record then and now; an incremental's starts at the previous backup's time, already old) while a job ran all
    along and none is paused is a job running that long, whichever jobs end beside it.
    """
    window = cfg.get("alerts.running_longer_than")
    g, node = scope.grouping(), f"{scope.grouping()}, {scope.node_label}"
    per_node = _still_running(scope, kind, window, node)
    bounds = [_still_running(scope, kind, window, g), f"sum by ({g}) (({per_node}) > 0)"]
    if kind == "backup":
        running = promql.current(metric("jobs_backup_currently_running"), scope)
        pts = promql.current(metric("jobs_backup_protected_age_sec"), scope)
        paused = promql.current(metric("jobs_backup_currently_paused"), scope)
        then = f"last_over_time(({pts})[{promql.GAP}:{promql.SUCCESS_STEP}] offset {window})"
        # the same record then and now: it aged by the window (give or take a lookback)
        aged = f"abs(({pts}) - {then} - {parse_duration(window)}) < {parse_duration(promql.GAP)}"
        bounds.append(f"0 * ({aged}) + 1 "
                      f"and on ({g}) (min_over_time(({running})[{window}:{promql.SUCCESS_STEP}]) >= 1) "
                      f"unless on ({g}) (({paused}) > 0)")
    return " or ".join(f"({b}) > 0" for b in bounds)


def _still_running(scope: promql.Scope, kind: str, window: str, by: str) -> str:
    """Jobs running ``window`` ago less those that ended since, at most the fewest running in between, ``by``."""
    running = metric(f"jobs_{kind}_currently_running")
    sel = promql.selector(running, scope)
    now = f"max by ({by}) ({scope.per_node(f'last_over_time({sel}[{scope.gap}])')})"
    then = f"max by ({by}) ({scope.per_node(f'last_over_time({sel}[{scope.gap}] offset {window})')})"
    fewest = f"min_over_time(({now})[{window}:{promql.SUCCESS_STEP}])"
    by_scope = replace(scope, by=tuple(label.strip() for label in by.split(",")))
    # increase, not the exact step counts: one ending extrapolated to 1.02 still leaves no job; nothing ended is 0
    ended = promql.total(*(promql.increase(metric(f"jobs_{kind}_{e}"), by_scope, window) for e in ENDED))
    left = f"{then} - ({ended} or 0 * {then})"
    return f"({left}) < {fewest} or {fewest}"


def since_kms_failure(scope: promql.Scope) -> str:
    """Seconds since a backup failed on an unreachable KMS, while no backup has completed since.

    Compared with ``rpo.window``, it does not resolve by itself an hour later while nothing changed: only a newer
    completed backup (the RPO gauge) or scheduled success (the recording rule), or the failure leaving the window
    clears it; a schedule still failing on the KMS keeps renewing the failure time. Both gauges are zeroed
    by a node restart, so both are read with max_over_time over ``rpo.window``, as the recovery point is; the cost
    is the same as one RPO rule's.
    """
    by = scope.grouping()

    def newest(exported: str) -> str:
        return f"max by ({by}) ({promql.newest_per_node(metric(exported), scope)})"

    failed = f"{newest('backup_last_failed_time_kms_inaccessible')} > 0"
    completed = newest("schedules_BACKUP_last_completed_time")
    return (f"time() - ({failed}) unless on ({by}) ({completed} > ({failed})) "
            f"unless on ({by}) ({promql.SUCCESS_RECORD} > ({failed}))")


def recording_rules(cfg: Config) -> list[dict]:
    """What the alerts remember while a cluster is known: when it last reported (first: the others are kept while
    it is known), its newest backup completion, its last scheduled success (or first scheduled run); and each
    cluster's RPO and freshness targets (rpo.overrides)."""
    scope = promql.rule_scope(cfg)
    return [{"record": promql.SEEN_RECORD, "expr": promql.last_seen(scope, cfg.get("alerts.forget_after"))},
            *({"record": promql.RECORDS[name], "expr": promql.remembered_completion(metric(name), scope)}
              for name in sorted(promql.RECORDS)),
            {"record": promql.SUCCESS_RECORD, "expr": promql.last_scheduled_success(scope)},
            {"record": promql.FIRST_RUN_RECORD, "expr": promql.first_scheduled_run(scope)},
            *({"record": promql.TARGET_RECORDS[kind], "expr": promql.record_target(cfg, severity, kind),
               "labels": {"severity": severity}} for kind in ("rpo", "freshness") for severity in SEVERITIES)]


def compliance_rules(cfg: Config) -> list[dict]:
    """RPO compliance: within target or not at each evaluation, and its average over the compliance period
    (read by the dashboards, so that a 30-day figure costs one sample)."""
    scope = promql.rule_scope(cfg)
    return [{"record": promql.COMPLIANT_RECORD, "expr": promql.within_target(cfg, scope)},
            *({"record": r, "expr": promql.compliance_total(cfg, scope, r)} for r in promql.COMPLIANT_TOTALS),
            {"record": SUSTAINED_MISS_RECORD, "expr": sustained_miss(cfg)},
            {"record": promql.PERIOD_RECORD,
             "expr": promql.compliance_from_sums(scope, cfg.get("rpo.compliance.period"))}]


def fleet_rules(cfg: Config) -> list[dict]:
    """What the Fleet reads besides the alerts' memory: per node, when it last reported; failures per minute; and
    which version of these rules is loaded (the Fleet says when they are missing or older than its queries)."""
    scope = promql.rule_scope(cfg)
    return [{"record": promql.NODE_SEEN_RECORD, "expr": promql.node_last_seen(scope, cfg.get("alerts.forget_after"))},
            {"record": promql.FAILED_RECORD, "expr": promql.failed_each_minute(scope)},
            {"record": promql.RULES_VERSION_RECORD, "expr": f"vector({promql.RULES_VERSION})"}]


def history_forms() -> dict[str, str]:
    """Rules that read their own earlier values, as expressions of stored samples: for a history evaluated at once
    (a backfill, a replay), which cannot feed a rule its own past."""
    return {r: promql.compliance_total_history(r) for r in promql.COMPLIANT_TOTALS}
