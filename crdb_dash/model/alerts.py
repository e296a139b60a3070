"""The alert table: every backup and restore alert, and the recording rules the alerts and dashboards read.

Each alert is a PromQL value, a comparison and a threshold; ``crdb_dash.pipeline.rules`` renders them for
Prometheus and for Grafana. Thresholds and windows come from the config, aggregation from ``promql``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from crdb_dash.model import promql
from crdb_dash.model.catalog import Metric, metric
from crdb_dash.model.config import Config, parse_duration

PREFIX = "CockroachBackup"  # every alert's name begins with it
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
        return f"crdb-{self.name.lower()[:26]}-{digest}"


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
    paused_for, running_for = cfg.get("alerts.paused_for"), cfg.get("alerts.running_longer_than")
    silent, forget = cfg.get("alerts.not_reporting_for"), cfg.get("alerts.forget_after")
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
        Alert(name="RecoveryPointBudgetBurn", severity="critical",
              value=fast_burn(cfg, scope), for_=BURNING, fmt=WHOLE,
              summary=f"{place} is spending its RPO error budget fast.",
              description=f"The recovery point of {place} is outside its target so often that the error budget of "
                          f"the {cfg.get('rpo.compliance.objective') * 100:g}% objective over "
                          f"{cfg.get('rpo.compliance.period')} is spent {VALUE} times as fast as the objective "
                          "allows (at 1 it lasts exactly the period). The RPO alerts say why."),
        Alert(name="RecoveryPointUnknown", severity="warning",
              value=became_unknown(cfg, scope, last), op="<", threshold=1,
              for_=cfg.get("alerts.recovery_point_unknown_for"), fmt=RAW,
              summary=f"The recovery point of {place} became unknown.",
              description=f"A completed backup of {place} was known in the last {forget}, but none is now: no node "
                          f"reported one in the last {cfg.get('rpo.window')} and the recording rule lost it (the "
                          "gauge is no longer exported, or Prometheus lost the rule's memory). The recovery point "
                          "cannot be checked; the freshness alert still watches scheduled backups."),
        *(Alert(name="NoSuccessfulBackup", severity=severity,
                value=since_success(scope, forget), threshold=cfg.seconds(f"freshness.{severity}"),
                for_=PAST_A_MISS, fmt=DURATION,
                summary=f"No scheduled backup of {place} succeeded for {cfg.get(f'freshness.{severity}')}.",
                description=f"The last scheduled backup of {place} succeeded {VALUE} ago (schedules_BACKUP_succeeded)"
                            f", over the {severity} level of {cfg.get(f'freshness.{severity}')}. Backups are "
                            "failing, stuck, paused or no longer scheduled.")
          for severity in SEVERITIES),
        # A cluster or virtual cluster that exported backup metrics within ``alerts.forget_after`` and none of whose
        # nodes does now, for ``alerts.not_reporting_for``. One node gone while others report is a node problem.
        Alert(name="NotReporting", severity="warning",
              value=promql.not_reporting(scope, forget), for_=silent, fmt=WHOLE,
              summary=f"{place} has exported no backup metrics for over {silent}.",
              description=f"No node of {place} has exported backup metrics for over {silent}; {VALUE} node(s) did "
                          f"in the last {forget}. Its dashboards and every other alert see nothing: the exporter, "
                          "the scrape configuration or the network is broken, or the cluster is gone."),
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
              value=events(scope, window, "jobs_backup_resume_retry_error", "jobs_backup_fail_or_cancel_retry_error"),
              threshold=retries, for_=AT_ONCE, fmt=WHOLE,
              summary=f"Backup jobs keep hitting retryable errors in {place}.",
              description=f"{VALUE} retryable backup job errors in {place} in the last {window}."),
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
                value=running_none_ended(scope, kind), for_=running_for, fmt=NUMBER,
                summary=f"A {kind} job has been running for over {running_for} in {place}.",
                description=f"A {kind} job in {place} has run for over {running_for} ({VALUE} {kind} job(s) running "
                            "now, none ended meanwhile): it is slow or stuck.")
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


def _target_text(cfg: Config, severity: str) -> str:
    default = cfg.get(f"rpo.{severity}")
    return f"its cluster ({default} unless rpo.overrides sets another)" if cfg.get("rpo.overrides") else default


# ---- the values the alerts compare ---------------------------------------------------------------------------------

# Multi-window burn rates (Google's SRE workbook, "Alerting on SLOs"): the share of the period's error budget
# spent in the long window, the long window and its short companion, which makes the alert stop soon after the
# burning does.
FAST_BURNS = ((0.02, "1h", "5m"), (0.05, "6h", "30m"))


def fast_burn(cfg: Config, scope: promql.Scope) -> str:
    """The RPO error budget burning fast: 2% of it in an hour, or 5% in six hours, and still now."""
    period = cfg.seconds("rpo.compliance.period")
    conditions = []
    for share, long, short in FAST_BURNS:
        factor = round(share * period / parse_duration(long), 2)
        conditions.append(f"({promql.burn_rate(cfg, scope, long)} > {factor:g} and "
                          f"{promql.burn_rate(cfg, scope, short)} > {factor:g})")
    return " or ".join(conditions)


def _newest_or_zero(cfg: Config, scope: promql.Scope, last: Metric) -> str:
    """Newest completion time known; 0 where none is, or where a scraped cluster exports no gauge."""
    newest = promql.newest_completion(last, scope)
    up = scope.as_system(f"count by ({cfg.cluster}) (up{{{scope.matchers}}} == 1)")
    return f"{newest} or on ({cfg.cluster}) {up} * 0"


def became_unknown(cfg: Config, scope: promql.Scope, last: Metric) -> str:
    """0 where no completion is known now although the recording rule knew one within ``alerts.forget_after``.

    A cluster whose schedules never maintained the gauge has nothing to lose: it does not fire.
    """
    g = scope.grouping(last)
    known = f"max by ({g}) (max_over_time({promql.RECORDS[last.exported]}[{cfg.get('alerts.forget_after')}])) > 0"
    return f"({_newest_or_zero(cfg, scope, last)}) and on ({g}) ({known})"


def since_success(scope: promql.Scope, forget: str) -> str:
    """Seconds since a scheduled backup last succeeded (the freshness alert): needs no schedule option.

    Only while the cluster exports the counter (a cluster gone silent is CockroachBackupNotReporting's), and
    for ``forget`` (``alerts.forget_after``) after the last success.
    """
    exported = f"count by ({scope.grouping()}) ({promql.gauge(metric('schedules_BACKUP_succeeded'), scope)})"
    return f"{promql.success_age(scope, forget)} and on ({scope.grouping()}) {exported}"


def events(scope: promql.Scope, window: str, *metrics: str) -> str:
    """Events counted over ``window``, summed over ``metrics`` (any of which may be absent), in whole events: a
    threshold of N fires from N + 1 events on."""
    return promql.total(*(promql.counted(metric(m), scope, window, promql.EVENT_STEP) for m in metrics))


def current(scope: promql.Scope, exported: str) -> str:
    """A metric's cluster-wide value now."""
    return promql.current(metric(exported), scope)


# Counters that tell a job ended: succeeded, failed for good, or finished cleaning up after a failure or cancel.
ENDED = ("resume_completed", "resume_failed", "fail_or_cancel_completed", "fail_or_cancel_failed")


def running_none_ended(scope: promql.Scope, kind: str) -> str:
    """Backup or restore jobs (``kind``) running, while none ended: the long-running job alerts.

    The gauge counts running jobs, not which ones: staggered jobs keep it above 0 for hours although each is
    short. Any job of the kind ending (in the last ``promql.GAP``) makes the condition false, which restarts
    the `for` clock; so when it fires, a job that was running when the clock started is still running.
    """
    value = promql.current(metric(f"jobs_{kind}_currently_running"), scope)
    for ended in ENDED:
        count = promql.increase(metric(f"jobs_{kind}_{ended}"), scope, promql.GAP)
        value += f" unless on ({scope.grouping()}) ({count} > 0)"
    return value


def since_kms_failure(scope: promql.Scope) -> str:
    """Seconds since a backup failed on an unreachable KMS, while no backup has completed since.

    Compared with ``rpo.window``, it does not resolve by itself an hour later while nothing changed: only a newer
    completed backup (from a schedule with updates_cluster_last_backup_time_metric) or the failure leaving the
    window clears it; a schedule still failing on the KMS keeps renewing the failure time. Both gauges are zeroed
    by a node restart, so both are read with max_over_time over ``rpo.window``, as the recovery point is; the cost
    is the same as one RPO rule's.
    """
    by = scope.grouping()

    def newest(exported: str) -> str:
        return f"max by ({by}) ({promql.newest_per_node(metric(exported), scope)})"

    failed = f"{newest('backup_last_failed_time_kms_inaccessible')} > 0"
    completed = newest("schedules_BACKUP_last_completed_time")
    return f"time() - ({failed}) unless on ({by}) ({completed} > ({failed}))"


def recording_rules(cfg: Config) -> list[dict]:
    """The newest backup completion known per cluster, kept across node restarts, and each cluster's targets
    (rpo.overrides); the RPO alerts read them."""
    scope = promql.rule_scope(cfg)
    return [*({"record": promql.RECORDS[name], "expr": promql.remembered_completion(metric(name), scope)}
              for name in sorted(promql.RECORDS)),
            *({"record": promql.TARGET_RECORD, "expr": promql.record_target(cfg, severity),
               "labels": {"severity": severity}} for severity in SEVERITIES)]


def compliance_rules(cfg: Config) -> list[dict]:
    """RPO compliance: within target or not at each evaluation, and its average over the compliance period
    (read by the dashboards, so that a 30-day figure costs one sample)."""
    scope = promql.rule_scope(cfg)
    return [{"record": promql.COMPLIANT_RECORD, "expr": promql.within_target(cfg, scope)},
            {"record": promql.PERIOD_RECORD,
             "expr": promql.compliance(scope, cfg.get("rpo.compliance.period"))}]
