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

PREFIX = "CockroachBackup"
VALUE = "{{VALUE}}"  # stands for the firing value, formatted by ``fmt``


@dataclass(frozen=True)
class Alert:
    name: str  # without the prefix
    severity: str
    value: str  # PromQL whose result is compared with ``threshold``
    op: str  # ">" or "<"
    threshold: float
    summary: str
    description: str  # may use ``where(cfg)`` label templates and VALUE
    runbook: str  # anchor in docs/runbooks.md
    fmt: str = "humanize"  # Prometheus template function that formats the value
    for_: str = "0m"
    labels: dict = field(default_factory=dict)

    @property
    def alertname(self) -> str:
        return PREFIX + self.name

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
    WHERE = where(cfg)  # the cluster and virtual cluster, in every text below
    window = cfg.get("alerts.failure_window")
    last = metric("schedules_BACKUP_last_completed_time")
    out = [
        *_rpo(cfg, scope, last),
        Alert("RecoveryPointUnknown", "warning", _became_unknown(cfg, scope, last), "<", 1,
              f"The recovery point of {WHERE} became unknown.",
              f"A completed backup of {WHERE} was known in the last {cfg.get('alerts.forget_after')}, but none is "
              f"now: no node reported one in the last {cfg.get('rpo.window')} and the recording rule lost it (the "
              "gauge is no longer exported, or Prometheus lost the rule's memory). The recovery point cannot be "
              "checked; the freshness alert still watches scheduled backups.",
              "recoverypointunknown", fmt="", for_=cfg.get("alerts.recovery_point_unknown_for")),
        *_freshness(cfg, scope, WHERE),
        _not_reporting(cfg, scope, WHERE),
        _increase("ScheduledBackupFailed", "warning", ["schedules_BACKUP_failed"], scope, window, 0,
                  f"Scheduled backups failed in {WHERE}.",
                  f"{VALUE} scheduled backup(s) failed in {WHERE} in the last {window}.", "scheduledbackupfailed"),
        _increase("JobFailed", "warning", ["jobs_backup_resume_failed"], scope, window, 0,
                  f"Backup jobs failed in {WHERE}.",
                  f"{VALUE} backup job(s) failed with a non-retryable error in {WHERE} in the last {window}.",
                  "jobfailed"),
        _increase("RestoreJobFailed", "warning", ["jobs_restore_resume_failed", "jobs_restore_fail_or_cancel_failed"],
                  scope, window, 0, f"Restore jobs failed in {WHERE}.",
                  f"{VALUE} restore job(s) failed in {WHERE} in the last {window}.", "restorejobfailed"),
        _increase("JobRetrying", "info", ["jobs_backup_resume_retry_error", "jobs_backup_fail_or_cancel_retry_error"],
                  scope, window, cfg.get("alerts.retries"), f"Backup jobs keep hitting retryable errors in {WHERE}.",
                  f"{VALUE} retryable backup job errors in {WHERE} in the last {window}.", "jobretrying"),
        _increase("RestoreJobRetrying", "info",
                  ["jobs_restore_resume_retry_error", "jobs_restore_fail_or_cancel_retry_error"], scope, window,
                  cfg.get("alerts.retries"), f"Restore jobs keep hitting retryable errors in {WHERE}.",
                  f"{VALUE} retryable restore job errors in {WHERE} in the last {window}.", "restorejobretrying"),
        _gauge("JobPaused", "warning", "jobs_backup_currently_paused", scope, 0,
               f"A backup job has been paused for over {cfg.get('alerts.paused_for')} in {WHERE}.",
               f"{VALUE} backup job(s) paused in {WHERE} for over {cfg.get('alerts.paused_for')}; a paused "
               "backup stops the recovery point from moving.", "jobpaused", for_=cfg.get("alerts.paused_for")),
        _gauge("RestoreJobPaused", "warning", "jobs_restore_currently_paused", scope, 0,
               f"A restore job has been paused for over {cfg.get('alerts.paused_for')} in {WHERE}.",
               f"{VALUE} restore job(s) paused in {WHERE} for over {cfg.get('alerts.paused_for')}.",
               "restorejobpaused", for_=cfg.get("alerts.paused_for")),
        _running_long("JobRunningLong", "warning", "backup", scope, cfg, WHERE),
        _running_long("RestoreJobRunningLong", "info", "restore", scope, cfg, WHERE),
        _increase("ScheduleOverlapping", "warning", ["schedules_round_reschedule_skip",
                                                     "schedules_round_reschedule_wait"], scope, window, 0,
                  f"Scheduled backups are skipped or delayed in {WHERE}.",
                  f"{VALUE} schedule run(s) skipped or delayed in {WHERE} in the last {window} because the previous "
                  "backup was still running: the cadence is shorter than the backup takes.", "scheduleoverlapping"),
        *[_gauge("ProtectedTimestampOld", "warning", name, scope, cfg.seconds("alerts.protected_age"),
                 f"Old protected timestamp held by {holder} in {WHERE}.",
                 f"The oldest protected timestamp record held by {holder} in {WHERE} is {VALUE} old; it blocks "
                 "garbage collection and grows storage.", "protectedtimestampold", fmt="humanizeDuration",
                 for_="15m", labels={"holder": holder.replace(" ", "_")})
          for name, holder in (("schedules_BACKUP_protected_age_sec", "backup schedules"),
                               ("jobs_backup_protected_age_sec", "backup jobs"),
                               ("jobs_restore_protected_age_sec", "restore jobs"))],
        _gauge("SchedulesInError", "warning", "schedules_error", scope, 0, f"Schedules in error in {WHERE}.",
               f"{VALUE} schedule(s) in {WHERE} did not execute successfully.", "schedulesinerror", for_="15m"),
        _gauge("SchedulesMalformed", "warning", "schedules_malformed", scope, 0, f"Malformed schedules in {WHERE}.",
               f"{VALUE} schedule(s) in {WHERE} cannot be parsed by the scheduler.", "schedulesmalformed", for_="15m"),
        _kms_inaccessible(cfg, scope, WHERE),
        _increase("JobsMetricsPollerFailing", "warning", ["jobs_metrics_task_failed"], scope, window, 0,
                  f"The jobs metrics poller is failing in {WHERE}.",
                  f"The jobs metrics poller failed {VALUE} time(s) in {WHERE} in the last {window}: paused-job and "
                  "protected-timestamp gauges are stale.", "jobsmetricspollerfailing"),
    ]
    return out


def _rpo(cfg: Config, scope: promql.Scope, last: Metric) -> list[Alert]:
    WHERE = where(cfg)
    by_vc = metric("schedules_BACKUP_last_completed_time_by_virtual_cluster")
    where_vc = ("{{ $labels.%s }} (virtual cluster ID {{ $labels.tenant_id }}, backed up by host schedules)"
                % cfg.cluster)
    return [
        *(Alert("RecoveryPointTooOld", severity, promql.over_target(promql.age(last, scope), scope, severity), ">",
                0, f"The newest backup of {WHERE} is older than the RPO.",
                f"The newest completed backup of {WHERE} is {VALUE} old, over the {severity} RPO of "
                f"{_target_text(cfg, severity)}. Backups are failing, stuck or paused.", "recoverypointtooold",
                fmt="humanizeDuration", for_="5m")
          for severity in ("warning", "critical")),
        # A host schedule backs up its virtual clusters: each is held to its host's system tenant's target.
        *(Alert("VirtualClusterRecoveryPointTooOld", severity,
                promql.over_target(promql.age(by_vc, scope), scope, severity, group_left=True), ">", 0,
                f"The newest host backup of {where_vc} is older than the RPO.",
                f"The newest backup of {where_vc} is {VALUE} old, over the {severity} RPO of "
                f"{_target_text(cfg, severity)}. Its host schedule is failing, stuck or paused.",
                "virtualclusterrecoverypointtooold", fmt="humanizeDuration", for_="5m")
          for severity in ("warning", "critical")),
        _budget_burn(cfg, scope, WHERE),
    ]


def _target_text(cfg: Config, severity: str) -> str:
    default = cfg.get(f"rpo.{severity}")
    return f"its cluster ({default} unless rpo.overrides sets another)" if cfg.get("rpo.overrides") else default


# Multi-window burn rates (Google's SRE workbook, "Alerting on SLOs"): the share of the period's error budget
# spent in the long window, the long window and its short companion, which makes the alert stop soon after the
# burning does.
FAST_BURNS = ((0.02, "1h", "5m"), (0.05, "6h", "30m"))


def _budget_burn(cfg: Config, scope: promql.Scope, where_: str) -> Alert:
    """The RPO error budget burning fast: 2% of it in an hour, or 5% in six hours, and still now."""
    period = cfg.seconds("rpo.compliance.period")
    conditions = []
    for share, long, short in FAST_BURNS:
        factor = round(share * period / parse_duration(long), 2)
        conditions.append(f"({promql.burn_rate(cfg, scope, long)} > {factor:g} and "
                          f"{promql.burn_rate(cfg, scope, short)} > {factor:g})")
    objective = f"{cfg.get('rpo.compliance.objective') * 100:g}%"
    return Alert("RecoveryPointBudgetBurn", "critical", " or ".join(conditions), ">", 0,
                 f"{where_} is spending its RPO error budget fast.",
                 f"The recovery point of {where_} is outside its target so often that the error budget of the "
                 f"{objective} objective over {cfg.get('rpo.compliance.period')} is spent {VALUE} times as fast as "
                 "the objective allows (at 1 it lasts exactly the period). The RPO alerts say why.",
                 "recoverypointbudgetburn", fmt='printf "%.0f"', for_="2m")


def _newest_or_zero(cfg: Config, scope: promql.Scope, last: Metric) -> str:
    """Newest completion time known; 0 where none is, or where a scraped cluster exports no gauge."""
    newest = promql.newest_completion(last, scope)
    up = scope.as_system(f"count by ({cfg.cluster}) (up{{{scope.matchers}}} == 1)")
    return f"{newest} or on ({cfg.cluster}) {up} * 0"


def _became_unknown(cfg: Config, scope: promql.Scope, last: Metric) -> str:
    """0 where no completion is known now although the recording rule knew one within ``alerts.forget_after``.

    A cluster whose schedules never maintained the gauge has nothing to lose: it does not fire.
    """
    g = scope.grouping(last)
    known = f"max by ({g}) (max_over_time({promql.RECORDS[last.exported]}[{cfg.get('alerts.forget_after')}])) > 0"
    return f"({_newest_or_zero(cfg, scope, last)}) and on ({g}) ({known})"


def _freshness(cfg: Config, scope: promql.Scope, where_: str) -> list[Alert]:
    """No scheduled backup succeeded for ``freshness.<severity>``: needs no schedule option.

    Only while the cluster exports the counter (a cluster gone silent is CockroachBackupNotReporting's), and
    for ``alerts.forget_after`` after the last success.
    """
    succeeded = metric("schedules_BACKUP_succeeded")
    exported = f"count by ({scope.grouping()}) ({promql.gauge(succeeded, scope)})"
    age = f"{promql.success_age(scope, cfg.get('alerts.forget_after'))} and on ({scope.grouping()}) {exported}"
    return [Alert("NoSuccessfulBackup", severity, age, ">", cfg.seconds(f"freshness.{severity}"),
                  f"No scheduled backup of {where_} succeeded for {cfg.get(f'freshness.{severity}')}.",
                  f"The last scheduled backup of {where_} succeeded {VALUE} ago (schedules_BACKUP_succeeded), over "
                  f"the {severity} level of {cfg.get(f'freshness.{severity}')}. Backups are failing, stuck, paused "
                  "or no longer scheduled.", "nosuccessfulbackup", fmt="humanizeDuration", for_="5m")
            for severity in ("warning", "critical")]


def _not_reporting(cfg: Config, scope: promql.Scope, where_: str) -> Alert:
    """A cluster or virtual cluster that exported backup metrics within ``alerts.forget_after`` and none of whose
    nodes does now, for ``alerts.not_reporting_for``. One node gone while others report is a node problem."""
    silent, forget = cfg.get("alerts.not_reporting_for"), cfg.get("alerts.forget_after")
    return Alert("NotReporting", "warning", promql.not_reporting(scope, forget), ">", 0,
                 f"{where_} has exported no backup metrics for over {silent}.",
                 f"No node of {where_} has exported backup metrics for over {silent}; {VALUE} node(s) did in the "
                 f"last {forget}. Its dashboards and every other alert see nothing: the exporter, the scrape "
                 "configuration or the network is broken, or the cluster is gone.", "notreporting",
                 fmt='printf "%.0f"', for_=silent)


def _increase(name, severity, metrics, scope, window, threshold, summary, description, runbook) -> Alert:
    """Events counted over ``window``, summed over ``metrics`` (any of which may be absent), in whole events.

    increase() extrapolates to the window's edges, so 3 events read as 3.004: the count is rounded before
    it is compared, and a threshold of N fires from N + 1 events on.
    """
    value = promql.total(*(promql.increase(metric(m), scope, window) for m in metrics))
    return Alert(name, severity, f"round({value})", ">", threshold, summary, description, runbook,
                 fmt='printf "%.0f"')


# Counters that tell a job ended: succeeded, failed for good, or finished cleaning up after a failure or cancel.
ENDED = ("resume_completed", "resume_failed", "fail_or_cancel_completed", "fail_or_cancel_failed")


def _running_long(name, severity, kind, scope, cfg, where_) -> Alert:
    """A backup or restore job (``kind``) has run for over ``alerts.running_longer_than``.

    The gauge counts running jobs, not which ones: staggered jobs keep it above 0 for hours although each is
    short. Any job of the kind ending (in the last ``promql.GAP``) makes the condition false, which restarts
    the `for` clock; so when it fires, a job that was running when the clock started is still running.
    """
    limit = cfg.get("alerts.running_longer_than")
    value = promql.current(metric(f"jobs_{kind}_currently_running"), scope)
    for ended in ENDED:
        count = promql.increase(metric(f"jobs_{kind}_{ended}"), scope, promql.GAP)
        value += f" unless on ({scope.grouping()}) ({count} > 0)"
    return Alert(name, severity, value, ">", 0,
                 f"A {kind} job has been running for over {limit} in {where_}.",
                 f"A {kind} job in {where_} has run for over {limit} ({VALUE} {kind} job(s) running now, none "
                 f"ended meanwhile): it is slow or stuck.", name.lower(), for_=limit)


def _kms_inaccessible(cfg, scope, where_) -> Alert:
    """A backup failed on an unreachable KMS and no backup has completed since, within ``rpo.window``.

    It does not resolve by itself an hour later while nothing changed: only a newer completed backup (from a
    schedule with updates_cluster_last_backup_time_metric) or the failure leaving the window clears it; a schedule
    still failing on the KMS keeps renewing the failure time. Both gauges are zeroed by a node restart, so both are
    read with max_over_time over ``rpo.window``, as the recovery point is; the cost is the same as one RPO rule's.
    """
    by = scope.grouping()

    def newest(exported: str) -> str:
        return f"max by ({by}) ({promql.newest_per_node(metric(exported), scope)})"

    failed = f"{newest('backup_last_failed_time_kms_inaccessible')} > 0"
    completed = newest("schedules_BACKUP_last_completed_time")
    return Alert("KMSInaccessible", "critical", f"time() - ({failed}) unless on ({by}) ({completed} > ({failed}))",
                 "<", cfg.seconds("rpo.window"),
                 f"A backup failed because its KMS was unreachable in {where_}.",
                 f"A backup in {where_} failed {VALUE} ago because its KMS could not be reached, and no backup has "
                 "completed since.", "kmsinaccessible", fmt="humanizeDuration")


def _gauge(name, severity, exported, scope, threshold, summary, description, runbook, **kw) -> Alert:
    return Alert(name, severity, promql.current(metric(exported), scope), ">", threshold, summary, description,
                 runbook, **kw)


def recording_rules(cfg: Config) -> list[dict]:
    """The newest backup completion known per cluster, kept across node restarts, and each cluster's targets
    (rpo.overrides); the RPO alerts read them."""
    scope = promql.rule_scope(cfg)
    return [*({"record": promql.RECORDS[name], "expr": promql.remembered_completion(metric(name), scope)}
              for name in sorted(promql.RECORDS)),
            *({"record": promql.TARGET_RECORD, "expr": promql.record_target(cfg, severity),
               "labels": {"severity": severity}} for severity in ("warning", "critical"))]


def compliance_rules(cfg: Config) -> list[dict]:
    """RPO compliance: within target or not at each evaluation, and its average over the compliance period
    (read by the dashboards, so that a 30-day figure costs one sample)."""
    scope = promql.rule_scope(cfg)
    return [{"record": promql.COMPLIANT_RECORD, "expr": promql.within_target(cfg, scope)},
            {"record": promql.PERIOD_RECORD,
             "expr": promql.compliance(scope, cfg.get("rpo.compliance.period"))}]
