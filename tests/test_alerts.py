"""Every alert unit-tested with ``promtool test rules``, firing and not firing, on CockroachDB-shaped series.

Series are per node, with CockroachDB's semantics: counters restart from 0 when a node restarts,
the last-completed-time gauge is set only on the node that completed the backup (0 after a restart),
poller gauges are set by whichever node holds the poller and left stale on the others.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass, field, replace

import pytest
import yaml

from crdb_dash.model import alerts, promql
from crdb_dash.pipeline import rules
from tests.conftest import ROOT, configured, promtool, rule_test

NODE = 'job="cockroachdb", cluster="{cluster}", instance="n{n}:8080", node_id="{n}"'


def s(metric: str, node: int = 1, tenant: str | None = None, cluster: str = "c1", **extra: str) -> str:
    labels = NODE.format(n=node, cluster=cluster) + (f', tenant="{tenant}"' if tenant else "")
    labels += "".join(f', {k}="{v}"' for k, v in extra.items())
    return f"{metric}{{{labels}}}"


def run(*parts: tuple[float | str, int]) -> str:
    """promtool series notation from (value, minutes) parts, one sample a minute: run((0, 30), (1, 60)).

    A value of MISSED is one failed scrape: promtool's staleness marker, which hides the series at once.
    """
    return " ".join(f"{v}x{m - 1}" if m > 1 else f"{v}" for v, m in parts)


MISSED = ("stale", 1)


def up(nodes=(1, 2, 3), minutes=600) -> dict:
    return {s("up", n): run((1, minutes)) for n in nodes}


@dataclass
class Case:
    name: str
    series: dict
    at: str  # evaluation time
    fires: list[tuple[str, str, str]]  # (alert name without prefix, severity, value text) expected to fire
    labels: dict = field(default_factory=dict)  # the alert's own labels (tells apart alerts sharing a name)
    tenant: str = "system"  # a series without a tenant label is the system tenant's
    series_labels: dict = field(default_factory=dict)  # further labels the firing alerts keep from the series
    interval: str = "1m"  # between the samples of ``series``


def burn(value: str) -> tuple[str, str, str]:
    """The RPO error budget burning fast (the default 99.5% over 30d): ``value`` times the allowed rate."""
    return ("RecoveryPointBudgetBurn", "critical", value)


# ---- cases --------------------------------------------------------------------------------------------
LAST = "schedules_BACKUP_last_completed_time"
BY_VC = "schedules_BACKUP_last_completed_time_by_virtual_cluster"
SUCCEEDED = "schedules_BACKUP_succeeded"
PRESENT = "jobs_backup_currently_running"
T10 = 600  # a backup completed 10 minutes after the start of the series
CASES = [
    Case("rpo fresh backup is fine", {s(LAST, 1): run((0, 10), (T10, 120)), s(LAST, 2): run((0, 130)), **up()},
         "1h", []),
    Case("rpo warning after 2h", {s(LAST, 1): run((0, 10), (T10, 200)), s(LAST, 2): run((0, 210)), **up()},
         "2h20m", [("RecoveryPointTooOld", "warning", "2h 10m 0s")]),
    Case("rpo survives restart of the node that completed it",
         {s(LAST, 1): run((0, 10), (T10, 50), (0, 150)), s(LAST, 2): run((0, 210)), **up()},
         "2h20m", [("RecoveryPointTooOld", "warning", "2h 10m 0s")]),
    Case("rpo critical after 6h",
         {s(LAST, 1): run((0, 10), (T10, 400)), **up(minutes=410)},
         "6h20m", [("RecoveryPointTooOld", "warning", "6h 10m 0s"), ("RecoveryPointTooOld", "critical", "6h 10m 0s")]),
    # Issue 14 item 1: the node that completed the newest backup restarts and no backup completes since.
    Case("rpo critical at 8h after a backup whose node restarted 10 minutes later",
         {s(LAST, 1): run((0, 10), (T10, 10), (0, 480)), s(LAST, 2): run((0, 500)), **up(minutes=500)},
         "8h10m", [("RecoveryPointTooOld", "warning", "8h 0m 0s"), ("RecoveryPointTooOld", "critical", "8h 0m 0s")]),
    Case("rpo critical after 6h when the node restarted a minute after a short backup",
         {s(LAST, 1): run((0, 10), (T10, 1), (0, 400)), s(LAST, 2): run((0, 411)), **up(minutes=411)},
         "6h20m", [("RecoveryPointTooOld", "warning", "6h 10m 0s"), ("RecoveryPointTooOld", "critical", "6h 10m 0s")]),
    Case("rpo a known recovery point stays known after every node restarted",
         {s(LAST, 1): run((0, 10), (T10, 20), (0, 600)), s(LAST, 2): run((0, 630)), **up(minutes=630)},
         "8h40m", [("RecoveryPointTooOld", "warning", "8h 30m 0s"), ("RecoveryPointTooOld", "critical", "8h 30m 0s")]),
    Case("rpo a newer backup after the restart replaces the remembered one",
         {s(LAST, 1): run((0, 10), (T10, 10), (0, 480)), s(LAST, 2): run((0, 470), (27600, 30)), **up(minutes=500)},
         "8h10m", []),  # its 1h40m over the critical target paged RecoveryPointTooOld: no budget burn page on top
    Case("rpo a cluster no longer scraped keeps its recovery point ageing",
         {s(LAST, 1): run((0, 10), (T10, 110), MISSED), **up(minutes=120)}, "8h30m",
         [("RecoveryPointTooOld", "warning", "8h 20m 0s"), ("RecoveryPointTooOld", "critical", "8h 20m 0s"),
          ("NotReporting", "warning", "6h 31m 0s")]),
    Case("rpo newest of two schedules on two nodes wins",
         {s(LAST, 1): run((0, 10), (T10, 200)), s(LAST, 2): run((0, 100), (6000, 110)), **up()},
         "2h20m", []),
    # Issue 14 item 3: tenant="system" appears at 3h when a virtual cluster starts; the label-less series
    # keeps its last value in the window and must not age as a separate, phantom system tenant.
    *[Case(f"rpo no phantom system tenant when the tenant label appears ({at})",
           {s(LAST, 1): run((0, 10), (T10, 170)),
            s(LAST, 1, "system"): "_x179 " + run((T10, 60), (13800, 400)),
            s(LAST, 2): run((0, 180)), s(LAST, 2, "system"): "_x179 " + run((0, 460)), **up(minutes=640)},
           at, fires)
      for at, fires in (("5h", []), ("6h30m", [("RecoveryPointTooOld", "warning", "2h 40m 0s")]))],
    # Issue 9 item 2: a cluster that never enabled updates_cluster_last_backup_time_metric has nothing to lose.
    Case("rpo unknown does not fire when no schedule updates the metric",
         {s(LAST, n): run((0, 600)) for n in (1, 2, 3)} | up(), "9h", []),
    Case("rpo unknown does not fire when the gauge is absent but nodes are scraped", up(), "9h", []),
    Case("rpo unknown when a known recovery point's gauge is no longer exported while the cluster reports",
         {s(LAST, 1): run((0, 10), (T10, 50), MISSED), s(PRESENT, 1): run((0, 600))}, "2h10m",
         [("RecoveryPointUnknown", "warning", "")]),
    Case("rpo unknown waits for recovery_point_unknown_for",
         {s(LAST, 1): run((0, 10), (T10, 50), MISSED), s(PRESENT, 1): run((0, 600))}, "2h", []),
    Case("rpo a recovery point whose gauge is no longer exported keeps ageing",
         {s(LAST, 1): run((0, 10), (T10, 50), MISSED), s(PRESENT, 1): run((0, 600))}, "8h30m",
         [("RecoveryPointUnknown", "warning", ""), ("RecoveryPointTooOld", "warning", "8h 20m 0s"),
          ("RecoveryPointTooOld", "critical", "8h 20m 0s")]),
    Case("rpo not unknown within the window after a restart",
         {s(LAST, 1): run((0, 10), (T10, 20), (0, 200)), s(LAST, 2): run((0, 230)), **up()},
         "2h10m", []),
    # Issue 14 item 18: host schedules backing up virtual clusters, by tenant_id.
    Case("virtual cluster backed up by a host schedule too long ago, after a restart",
         {s(BY_VC, 1, "system", tenant_id="3"): run((0, 10), (T10, 10), (0, 400)),
          s(BY_VC, 1, "system", tenant_id="4"): run((0, 400), (24000, 20)),
          s(LAST, 1, "system"): run((0, 10), (T10, 180), (11400, 210), (24000, 20)), **up(minutes=420)},
         "6h50m", [("VirtualClusterRecoveryPointTooOld", "warning", "6h 40m 0s"),
                   ("VirtualClusterRecoveryPointTooOld", "critical", "6h 40m 0s")],
         series_labels={"tenant_id": "3"}),
    Case("virtual clusters backed up recently are fine",
         {s(BY_VC, 1, "system", tenant_id="3"): run((0, 10), (T10, 10), (0, 100)),
          s(LAST, 1, "system"): run((0, 10), (T10, 110))} | up(minutes=120), "1h50m", []),
    # Issue 9 item 2: freshness from schedules_BACKUP_succeeded, without the schedule option.
    Case("hourly successes on alternating nodes are fresh",
         {s(SUCCEEDED, 1): run((0, 10), (1, 120), (2, 170)), s(SUCCEEDED, 2): run((0, 70), (1, 120), (2, 110)),
          s(LAST, 1): run((0, 300)), **up(minutes=300)}, "4h50m", []),
    Case("no scheduled backup succeeded for over 2h",
         {s(SUCCEEDED, 1): run((0, 10), (1, 170)), s(SUCCEEDED, 2): run((0, 180))}, "3h",
         [("NoSuccessfulBackup", "warning", "2h 50m 0s")]),
    Case("no scheduled backup succeeded for over 6h",
         {s(SUCCEEDED, 1): run((0, 10), (1, 400)), s(SUCCEEDED, 2): run((0, 410))}, "6h30m",
         [("NoSuccessfulBackup", "warning", "6h 20m 0s"), ("NoSuccessfulBackup", "critical", "6h 20m 0s")]),
    Case("a restart zeroing the counter is not a success",
         {s(SUCCEEDED, 1): run((0, 10), (1, 50), (0, 100)), s(SUCCEEDED, 2): run((0, 160))}, "2h30m",
         [("NoSuccessfulBackup", "warning", "2h 20m 0s")]),
    Case("a success after a counter reset counts",
         {s(SUCCEEDED, 1): run((3, 30), (0, 30), (1, 160))}, "3h30m",
         [("NoSuccessfulBackup", "warning", "2h 30m 0s")]),
    Case("a success after a counter reset is fresh", {s(SUCCEEDED, 1): run((3, 30), (0, 30), (1, 160))}, "2h30m", []),
    Case("a cluster without scheduled backups does not fire", {s(SUCCEEDED, n): run((0, 600)) for n in (1, 2)}, "9h",
         []),
    # Issue 19 item 1: the memory lasts while the cluster reports.
    Case("no success for over a day still fires", {s(SUCCEEDED, 1): run((0, 10), (1, 1900))}, "30h",
         [("NoSuccessfulBackup", "warning", "1d 5h 50m 0s"), ("NoSuccessfulBackup", "critical", "1d 5h 50m 0s")]),
    Case("a schedule that runs but never succeeds fires",
         {s("schedules_BACKUP_started", 1): run(*[(k, 60) for k in range(6)]),
          s(SUCCEEDED, 1): run((0, 360))}, "5h",
         [("NoSuccessfulBackup", "warning", "4h 0m 0s")]),
    # Issue 9 item 1: a cluster that stops reporting, in a fleet.
    Case("a cluster that stops reporting fires within 15 minutes; the other stays quiet",
         {**{s(PRESENT, n): run((0, 120), MISSED) for n in (1, 2, 3)},
          **{s(PRESENT, n, cluster="c2"): run((0, 700)) for n in (1, 2)}}, "2h14m",
         [("NotReporting", "warning", "15m 0s")]),
    Case("a cluster that stopped reporting still fires 10h later",
         {**{s(PRESENT, n): run((0, 120), MISSED) for n in (1, 2, 3)},
          **{s(PRESENT, n, cluster="c2"): run((0, 720)) for n in (1, 2)}}, "12h",
         [("NotReporting", "warning", "10h 1m 0s")]),
    Case("a cluster that stopped reporting still fires after a day",
         {s(PRESENT, n): run((0, 60), MISSED) for n in (1, 2)}, "25h30m",
         [("NotReporting", "warning", "1d 0h 31m 0s")]),
    Case("a cluster that reports again is quiet",
         {s(PRESENT, 1): run((0, 60), MISSED, ("_", 30), (0, 60))}, "2h", []),
    Case("a cluster that stopped reporting waits for not_reporting_for",
         {s(PRESENT, n): run((0, 120), MISSED) for n in (1, 2)}, "2h8m", []),
    Case("one node gone while the others report is not a cluster gone",
         {s(PRESENT, 1): run((0, 60), MISSED), s(PRESENT, 2): run((0, 600)), s(PRESENT, 3): run((0, 600))}, "5h",
         []),
    Case("a whole-cluster restart is not a cluster gone",
         {s(PRESENT, n): run((0, 60), MISSED, ("_", 2), (0, 60)) for n in (1, 2, 3)}, "1h10m", []),
    Case("a virtual cluster that stops reporting fires, its host stays quiet",
         {s(PRESENT, 1, "system"): run((0, 300)), s(PRESENT, 1, "app"): run((0, 120), MISSED)}, "4h",
         [("NotReporting", "warning", "2h 1m 0s")], tenant="app"),
    Case("the tenant label appearing is not the system tenant gone",
         {s(PRESENT, 1): run((0, 180), MISSED), s(PRESENT, 1, "system"): "_x181 " + run((0, 120)),
          s(PRESENT, 1, "app"): "_x181 " + run((0, 120))}, "4h", []),
    Case("scheduled backup failed", {s("schedules_BACKUP_failed", 2): run((0, 30), (1, 30))}, "40m",
         [("ScheduledBackupFailed", "warning", "1")]),
    Case("a failure long ago does not fire forever", {s("schedules_BACKUP_failed", 2): run((0, 30), (1, 300))},
         "4h", []),
    Case("a node restart resetting the failed counter is not a failure",
         {s("schedules_BACKUP_failed", 2): run((5, 30), (0, 60))}, "1h", []),
    Case("failures on two nodes across a restart are summed",
         {s("schedules_BACKUP_failed", 1): run((3, 10), (4, 10), (0, 10), (1, 30)),
          s("schedules_BACKUP_failed", 2): run((0, 40), (1, 20))}, "55m",
         [("ScheduledBackupFailed", "warning", "3")]),
    Case("backup job failed", {s("jobs_backup_resume_failed", 3): run((0, 30), (2, 30))}, "40m",
         [("JobFailed", "warning", "2")]),
    Case("restore job failed", {s("jobs_restore_resume_failed", 1): run((0, 30), (1, 30)),
                                s("jobs_restore_fail_or_cancel_failed", 1): run((0, 60))}, "40m",
         [("RestoreJobFailed", "warning", "1")]),
    Case("restore job failed on v25.4+, where fail_or_cancel_failed no longer exists",
         {s("jobs_restore_resume_failed", 1): run((0, 30), (1, 30))}, "40m", [("RestoreJobFailed", "warning", "1")]),
    Case("restore job failed while resume_failed is not yet exported",
         {s("jobs_restore_fail_or_cancel_failed", 1): run((0, 30), (2, 30))}, "40m",
         [("RestoreJobFailed", "warning", "2")]),
    Case("backup job retrying", {s("jobs_backup_resume_retry_error", 1): run((0, 10), (2, 10), (5, 40)),
                                 s("jobs_backup_fail_or_cancel_retry_error", 1): run((0, 60))}, "50m",
         [("JobRetrying", "info", "5")]),
    Case("backup job retrying with only one of the two counters exported",
         {s("jobs_backup_fail_or_cancel_retry_error", 1): run((0, 10), (4, 50))}, "50m",
         [("JobRetrying", "info", "4")]),
    # 3 errors in the window. Scrapes and evaluations are not aligned in real life; here the missed scrape at the
    # window's start does the same: increase() extrapolates the 59 minutes of samples to 3.05 errors.
    Case("exactly `retries` errors do not fire",
         {s("jobs_backup_resume_retry_error", 1): run((5, 30), MISSED, (5, 9), (6, 10), (7, 10), (8, 40)),
          s("jobs_backup_fail_or_cancel_retry_error", 1): run((0, 100))}, "1h30m", []),
    Case("exactly `retries` restore errors do not fire",
         {s("jobs_restore_resume_retry_error", 2): run((5, 30), MISSED, (5, 9), (6, 10), (7, 10), (8, 40)),
          s("jobs_restore_fail_or_cancel_retry_error", 2): run((0, 100))}, "1h30m", []),
    Case("a few retries are fine", {s("jobs_backup_resume_retry_error", 1): run((0, 10), (2, 50)),
                                    s("jobs_backup_fail_or_cancel_retry_error", 1): run((0, 60))}, "50m", []),
    Case("restore job retrying", {s("jobs_restore_resume_retry_error", 1): run((0, 60)),
                                  s("jobs_restore_fail_or_cancel_retry_error", 2): run((0, 10), (4, 50))}, "50m",
         [("RestoreJobRetrying", "info", "4")]),
    Case("backup paused for over an hour, poller moved and left a stale copy",
         {s("jobs_backup_currently_paused", 1): run((0, 10), (1, 100)),
          s("jobs_backup_currently_paused", 2): run((0, 40), (1, 70))}, "1h20m",
         [("JobPaused", "warning", "1")]),
    Case("a resumed backup is not kept paused by the stale copy on the former poller node",
         {s("jobs_backup_currently_paused", 1): run((0, 10), (1, 200)),
          s("jobs_backup_currently_paused", 2): run((0, 40), (1, 40), (0, 120)),
          s("jobs_poll_jobs_stats_currently_running", 1): run((1, 40), (0, 160)),
          s("jobs_poll_jobs_stats_currently_running", 2): run((0, 40), (1, 160))}, "3h", []),
    Case("a backup paused across a poller move fires once",
         {s("jobs_backup_currently_paused", 1): run((0, 10), (1, 200)),
          s("jobs_backup_currently_paused", 2): run((0, 40), (1, 40), (0, 120)),
          s("jobs_poll_jobs_stats_currently_running", 1): run((1, 40), (0, 160)),
          s("jobs_poll_jobs_stats_currently_running", 2): run((0, 40), (1, 160))}, "1h15m",
         [("JobPaused", "warning", "1")]),
    Case("a paused backup fires although one scrape of the poller node failed",
         {s("jobs_backup_currently_paused", 1): run((0, 10), (1, 40), MISSED, (1, 70)),
          s("jobs_poll_jobs_stats_currently_running", 1): run((1, 50), MISSED, (1, 70)),
          s("jobs_backup_currently_paused", 2): run((0, 121)),
          s("jobs_poll_jobs_stats_currently_running", 2): run((0, 121))}, "1h40m",
         [("JobPaused", "warning", "1")]),
    Case("a stale paused flag in one cluster is not matched with the poller of another cluster sharing pod names",
         {s("jobs_backup_currently_paused", 1): run((0, 100)),
          s("jobs_poll_jobs_stats_currently_running", 1): run((1, 100)),
          s("jobs_backup_currently_paused", 2): run((1, 100)),
          s("jobs_poll_jobs_stats_currently_running", 2): run((0, 100)),
          s("jobs_backup_currently_paused", 1, cluster="c2"): run((0, 100)),
          s("jobs_poll_jobs_stats_currently_running", 1, cluster="c2"): run((0, 100)),
          s("jobs_backup_currently_paused", 2, cluster="c2"): run((0, 100)),
          s("jobs_poll_jobs_stats_currently_running", 2, cluster="c2"): run((1, 100))}, "1h20m", []),
    Case("backup paused briefly", {s("jobs_backup_currently_paused", 1): run((0, 10), (1, 30), (0, 60))}, "1h20m", []),
    Case("restore paused for over an hour", {s("jobs_restore_currently_paused", 3): run((1, 100))}, "1h10m",
         [("RestoreJobPaused", "warning", "1")]),
    Case("a backup job moving to another node keeps running",
         {s("jobs_backup_currently_running", 2): run((1, 90), (0, 60)),
          s("jobs_backup_currently_running", 3): run((0, 80), (1, 70)),
          s("jobs_backup_resume_completed", 2): run((0, 150))}, "2h20m", [("JobRunningLong", "warning", "1")]),
    Case("a backup job running for over 2h fires although one scrape failed",
         {s("jobs_backup_currently_running", 1): run((1, 90), MISSED, (1, 120)),
          s("jobs_backup_resume_completed", 1): run((0, 90), MISSED, (0, 120))}, "3h25m",
         [("JobRunningLong", "warning", "1")]),
    Case("a backup job running for 1h50m does not fire",
         {s("jobs_backup_currently_running", 1): run((0, 10), (1, 120))}, "2h", []),
    Case("hourly backups taking 30m are fine",
         {s("jobs_backup_currently_running", 1): run(*[(1, 30), (0, 30)] * 4)}, "3h50m", []),
    Case("staggered schedules keep a job running for hours, but none runs for 2h",
         {s("jobs_backup_currently_running", 1): run(*[(1, 90), (0, 30)] * 3),
          s("jobs_backup_currently_running", 2): run((0, 60), *[(1, 90), (0, 30)] * 3),
          s("jobs_backup_resume_completed", 1): run((0, 90), (1, 120), (2, 120), (3, 30)),
          s("jobs_backup_resume_completed", 2): run((0, 150), (1, 120), (2, 150))}, "6h", []),
    Case("a restore running for over 2h", {s("jobs_restore_currently_running", 2): run((0, 10), (1, 140)),
                                           s("jobs_restore_resume_completed", 2): run((0, 150))}, "2h20m",
         [("RestoreJobRunningLong", "info", "1")]),
    Case("a restore that failed and cleaned up is not running long",
         {s("jobs_restore_currently_running", 2): run((1, 100), (1, 50)),
          s("jobs_restore_currently_running", 3): run((0, 50), (1, 100)),
          s("jobs_restore_resume_failed", 2): run((0, 60), (1, 90)),
          s("jobs_restore_fail_or_cancel_completed", 2): run((0, 100), (1, 50))}, "2h20m", []),
    Case("schedules skipped", {s("schedules_round_reschedule_skip", 1): run((0, 10), (1, 10), (2, 40)),
                               s("schedules_round_reschedule_wait", 1): run((0, 60))}, "50m",
         [("ScheduleOverlapping", "warning", "2")]),
    Case("reschedule gauge reset by a restart is not an overlap",
         {s("schedules_round_reschedule_skip", 1): run((4, 10), (0, 50)),
          s("schedules_round_reschedule_wait", 1): run((7, 10), (0, 50))}, "50m", []),
    *[Case(f"old protected timestamp of {holder}", {s(metric, 1): run((90000, 40))}, "30m",
           [("ProtectedTimestampOld", "warning", "1d 1h 0m 0s")], labels={"holder": holder})
      for metric, holder in (("schedules_BACKUP_protected_age_sec", "backup_schedules"),
                             ("jobs_backup_protected_age_sec", "backup_jobs"),
                             ("jobs_restore_protected_age_sec", "restore_jobs"))],
    Case("an old protected timestamp fires although one scrape failed",
         {s("jobs_backup_protected_age_sec", 1): run((90000, 20), MISSED, (90000, 10))}, "30m",
         [("ProtectedTimestampOld", "warning", "1d 1h 0m 0s")], labels={"holder": "backup_jobs"}),
    Case("schedules in error fire although one scrape failed",
         {s("schedules_error", 1): run((1, 20), MISSED, (1, 10))}, "30m", [("SchedulesInError", "warning", "1")]),
    Case("young protected timestamps are fine", {s("jobs_backup_protected_age_sec", 1): run((3600, 40))}, "30m", []),
    Case("schedules in error", {s("schedules_error", n): run((1, 40)) for n in (1, 2)}, "30m",
         [("SchedulesInError", "warning", "1")]),
    Case("schedules malformed", {s("schedules_malformed", 2): run((2, 40))}, "30m",
         [("SchedulesMalformed", "warning", "2")]),
    Case("healthy schedules", {s("schedules_error", 1): run((0, 40)), s("schedules_malformed", 1): run((0, 40))},
         "30m", []),
    Case("backup failed on an unreachable KMS",
         {s("backup_last_failed_time_kms_inaccessible", 2): run((0, 10), (T10, 30))}, "30m",
         [("KMSInaccessible", "critical", "20m 0s")]),
    Case("a KMS failure keeps firing after an hour while no backup completed",
         {s("backup_last_failed_time_kms_inaccessible", 2): run((0, 10), (T10, 50), (0, 300))}, "5h",
         [("KMSInaccessible", "critical", "4h 50m 0s")]),
    Case("a backup completed after the KMS failure clears it",
         {s("backup_last_failed_time_kms_inaccessible", 2): run((0, 10), (T10, 130)),
          s(LAST, 1): run((0, 60), (3600, 80)), **up(minutes=140)}, "2h", []),
    Case("a KMS failure older than rpo.window", {s("backup_last_failed_time_kms_inaccessible", 2):
                                                 run((0, 10), (T10, 400))}, "6h20m", []),
    Case("jobs metrics poller failing", {s("jobs_metrics_task_failed", 1): run((0, 10), (3, 30))}, "30m",
         [("JobsMetricsPollerFailing", "warning", "3")]),
    # Issue 19 item 2: a stuck job beside jobs that finish.
    Case("a stuck backup beside hourly backups finishing on another node",
         {s("jobs_backup_currently_running", 1): run((1, 420)),
          s("jobs_backup_currently_running", 2): run(*[(1, 10), (0, 50)] * 7),
          s("jobs_backup_resume_completed", 1): run((0, 420)),
          s("jobs_backup_resume_completed", 2): run(*[(k, 60) for k in range(7)])}, "6h30m",
         [("JobRunningLong", "warning", "1")]),
    Case("a stuck backup beside hourly backups on the same node, told by its protected timestamp",
         {s("jobs_backup_currently_running", 1): run(*[(2, 10), (1, 50)] * 7),
          s("jobs_backup_resume_completed", 1): run(*[(k, 60) for k in range(7)]),
          s("jobs_backup_protected_age_sec", 1): " ".join(str(60 * m) for m in range(420)),
          s("jobs_backup_currently_paused", 1): run((0, 420))}, "6h30m",
         [("JobRunningLong", "warning", "1")]),
    Case("back-to-back incrementals, whose protected timestamps start old, are not running long",
         {s("jobs_backup_currently_running", 1): run((1, 70), (0, 100)),
          s("jobs_backup_currently_running", 2): run((0, 60), (1, 80), (0, 30)),
          s("jobs_backup_resume_completed", 1): run((0, 70), (1, 100)),
          s("jobs_backup_resume_completed", 2): run((0, 140), (1, 30)),
          s("jobs_backup_currently_paused", 1): run((0, 170)),
          s("jobs_backup_protected_age_sec", 1): "3600+60x59 36000+60x79 " + run((0, 30))}, "2h15m", []),
    Case("a schedule that cannot start its job, counting only failures, fires",
         {s("schedules_BACKUP_failed", 1): run(*[(k, 60) for k in range(9)]),
          s(SUCCEEDED, 1): run((0, 540))}, "8h10m",
         [("NoSuccessfulBackup", "warning", "7h 10m 0s"), ("NoSuccessfulBackup", "critical", "7h 10m 0s"),
          ("ScheduledBackupFailed", "warning", "1")]),
    Case("pauses shorter than a minute are not retrying",
         {s("jobs_backup_resume_retry_error", 1): "0x59 " + " ".join(f"{k}x5 {k}x5" for k in range(1, 5)) + " 4x260",
          s("jobs_backup_currently_paused", 1): "0x59 " + " ".join("1x2 0x8" for _ in range(4)) + " 0x260"},
         "50m", [], interval="10s"),
    Case("hourly backups on one node with a young protected timestamp are fine",
         {s("jobs_backup_currently_running", 1): run(*[(1, 10), (0, 50)] * 7),
          s("jobs_backup_resume_completed", 1): run(*[(k, 60) for k in range(7)]),
          s("jobs_backup_protected_age_sec", 1): run(*[(300, 10), (0, 50)] * 7)}, "6h30m", []),
    Case("a paused backup is JobPaused's, not running long",
         {s("jobs_backup_currently_running", 1): run((1, 30), (0, 390)),
          s("jobs_backup_currently_paused", 1): run((0, 30), (1, 390)),
          s("jobs_backup_protected_age_sec", 1): " ".join(str(60 * m) for m in range(420))}, "6h30m",
         [("JobPaused", "warning", "1")]),
    # Issue 19 item 8: a scheduled success after a KMS failure clears it, without the RPO gauge.
    Case("a scheduled success after a KMS failure clears it",
         {s("backup_last_failed_time_kms_inaccessible", 2): run((0, 10), (T10, 130)),
          s(SUCCEEDED, 1): run((0, 60), (1, 80))}, "2h", []),
    # Issue 19 item 9: the system tenant's series gain tenant="system" when a virtual cluster starts.
    Case("a virtual cluster starting is not a failure",
         {s("schedules_BACKUP_failed", 1): run((4, 60), MISSED),
          s("schedules_BACKUP_failed", 1, "system"): "_x60 " + run((4, 60)),
          s("schedules_BACKUP_failed", 1, "app"): "_x60 " + run((0, 60)),
          s("jobs_backup_resume_failed", 1): run((2, 60), MISSED),
          s("jobs_backup_resume_failed", 1, "system"): "_x60 " + run((2, 60))}, "1h10m", []),
    # Issue 19 item 11: pauses and node restarts count as retryable errors; those windows are left out.
    Case("pausing and resuming a backup is not retrying",
         {s("jobs_backup_resume_retry_error", 1): run((0, 10), (1, 10), (2, 10), (3, 10), (4, 30)),
          s("jobs_backup_currently_paused", 1): run((0, 8), *[(1, 2), (0, 8)] * 4, (0, 30))}, "50m", []),
    Case("a node restart is not retrying",
         {s("jobs_backup_resume_retry_error", 1): run((0, 10), (2, 10), (4, 40)),
          s("sys_uptime", 1): run((5000, 15)) + " " + " ".join(str(60 * m) for m in range(45))}, "50m", []),
    Case("virtual cluster named in the alert",
         {s("jobs_backup_resume_failed", 1, "app"): run((0, 30), (1, 30)),
          s("jobs_backup_resume_failed", 1, "system"): run((0, 60))}, "40m",
         [("JobFailed", "warning", "1")], tenant="app"),
]


def _counters_alone() -> list[Case]:
    """For each alert that adds up several counters, each counter alone fires it: the others may be absent
    (removed in a version, like jobs_*_fail_or_cancel_failed in v25.4, or not yet exported by a fresh node)."""
    from crdb_dash.model import config

    out = []
    for alert in alerts.table(config.load()):
        counters = list(dict.fromkeys(re.findall(r"irate\(\(max without \(\w+\) \(label_replace\(label_replace\("
                                                 r"last_over_time\((\w+)\{", alert.value)))
        if alert.fmt != alerts.WHOLE or len(counters) < 2 or alert.name.endswith("RunningLong"):
            continue
        events = int(alert.threshold) + 1
        out += [Case(f"{alert.name} fires on {name} alone", {s(name, 2): run((0, 30), (events, 30))}, "40m",
                     [(alert.name, alert.severity, str(events))]) for name in counters]
    return out


CASES += _counters_alone()
assert len(_counters_alone()) == 8  # JobRetrying, RestoreJobFailed, RestoreJobRetrying, ScheduleOverlapping


def _where(case: Case) -> str:
    return f"c1 (virtual cluster {case.tenant})"


def _expected(case: Case, cfg) -> list[dict]:
    by_key = {(a.name, a.severity, tuple(sorted(a.labels.items()))): a for a in alerts.table(cfg)}
    out = []
    for name, severity, value in case.fires:
        alert = by_key[(name, severity, tuple(sorted(case.labels.items())))]
        labels = {"severity": severity, "cluster": "c1", "tenant": case.tenant, **case.labels, **case.series_labels}
        notes = rules.annotations(alert, cfg, value)
        notes = {k: v.replace(alerts.where(cfg), _where(case)).replace("{{ $labels.cluster }}", "c1")
                 .replace("{{ $labels.tenant_id }}", case.series_labels.get("tenant_id", "")) for k, v in notes.items()}
        out.append((alert.alertname, {"exp_labels": labels, "exp_annotations": notes}))
    return out


def _alert_tests(case: Case, cfg) -> list[dict]:
    """Every alert checked at the case's time: the expected ones fire with their labels and texts, no other does."""
    expected = _expected(case, cfg)
    return [{"eval_time": case.at, "alertname": alertname, "exp_alerts": [e for n, e in expected if n == alertname]}
            for alertname in sorted({a.alertname for a in alerts.table(cfg)})]


RULE_FILE = ROOT / rules.RULES_FILE


def test_rule_file_passes_promtool_check(prometheus_engine):
    result = subprocess.run([promtool(prometheus_engine), "check", "rules", str(RULE_FILE)], capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stdout + result.stderr


# Where an engine's value differs from promtool's, by name and why. The alert fires at the same times on each.
ON_VICTORIAMETRICS: dict[str, list] = {}


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_alert(case, cfg, tmp_path, rule_engine):
    if rule_engine.kind == "victoriametrics" and case.name in ON_VICTORIAMETRICS:
        case = replace(case, fires=ON_VICTORIAMETRICS[case.name])
    rule_test(tmp_path, case.series, {"alert_rule_test": _alert_tests(case, cfg)}, RULE_FILE, interval=case.interval,
              engine=rule_engine)


# Alerts whose firing cases need a config of their own (short targets), in the tests named.
FIRED_ELSEWHERE = {("RecoveryPointBudgetBurn", "critical", ()),  # test_short_misses_again_and_again_burn_...
                   ("RecoveryPointBudgetBurn", "warning", ())}


def test_every_alert_has_a_firing_and_a_quiet_case(cfg):
    fired = {(name, severity, tuple(sorted(c.labels.items()))) for c in CASES for name, severity, _ in c.fires}
    fired |= FIRED_ELSEWHERE
    every = {(a.name, a.severity, tuple(sorted(a.labels.items()))) for a in alerts.table(cfg)}
    assert every - fired == set(), "alerts without a firing unit test"
    assert any(not c.fires for c in CASES)
    # every case checks every alert, so a case with no expected firing is a not-firing test for all of them


def test_recording_rule_remembers_the_last_completion_while_the_cluster_is_scraped(cfg, tmp_path, rule_engine):
    from crdb_dash.model import promql

    series = {s(LAST, 1): run((0, 10), (T10, 20), (0, 600)), s(LAST, 2): run((0, 630))}
    labels = f'{promql.RPO_RECORD}{{cluster="c1", tenant="system"}}'
    checks = [{"expr": promql.RPO_RECORD, "eval_time": at, "exp_samples": [{"labels": labels, "value": value}]}
              for at, value in (("2h", T10), ("8h", T10), ("10h30m", T10),  # the window alone forgets at 6h30m
                                ("17h", T10))]  # 6h after the last scrape: kept while the cluster is known
    rule_test(tmp_path, series, {"promql_expr_test": checks}, RULE_FILE, engine=rule_engine)


def test_recording_rule_records_zero_where_no_completion_is_known(cfg, tmp_path, rule_engine):
    from crdb_dash.model import promql

    labels = f'{promql.RPO_RECORD}{{cluster="c1", tenant="system"}}'
    checks = [{"expr": promql.RPO_RECORD, "eval_time": "1h", "exp_samples": [{"labels": labels, "value": 0}]}]
    rule_test(tmp_path, {s(LAST, 1): run((0, 100))}, {"promql_expr_test": checks}, RULE_FILE, engine=rule_engine)


def test_a_wrong_expectation_fails(cfg, tmp_path, rule_engine):
    """The harness can fail: a case expecting an alert that does not fire is reported by promtool."""
    case = Case("wrong", {s("schedules_BACKUP_failed", 2): run((0, 60))}, "40m",
                [("ScheduledBackupFailed", "warning", "1")])
    rule_test(tmp_path, case.series, {"alert_rule_test": _alert_tests(case, cfg)}, RULE_FILE, passes=False,
              engine=rule_engine)


def test_prometheus_rules_follow_mixin_conventions(cfg):
    doc = yaml.safe_load((ROOT / rules.RULES_FILE).read_text())
    runbooks = (ROOT / "docs" / "runbooks.md").read_text()
    alerting = [r for g in doc["groups"] for r in g["rules"] if "alert" in r]
    assert len(alerting) == len(alerts.table(cfg))
    for rule in alerting:
        assert rule["alert"].startswith(alerts.PREFIX) and rule["alert"].isalnum()
        assert rule["labels"]["severity"] in ("critical", "warning", "info")
        assert {"summary", "description", "runbook_url"} <= set(rule["annotations"])
        assert f"$labels.{cfg.cluster}" in rule["annotations"]["description"]
        anchor = rule["annotations"]["runbook_url"].split("#")[1]
        assert f'<a id="{anchor}"></a>' in runbooks, anchor
        assert re.search(rf"by \({cfg.cluster}, {cfg.tenant}\b", rule["expr"]), rule["alert"]


# ---- per-cluster targets and RPO compliance, with their own configuration ----------------------------------------
def _rules_file(cfg, tmp_path) -> str:
    path = tmp_path / "rules.yml"
    path.write_text(rules.render(cfg)[rules.RULES_FILE])
    return str(path)


def test_overrides_daily_cluster_at_25h_raises_nothing_while_an_hourly_one_at_3h_warns(tmp_path, rule_engine):
    cfg = configured(rpo={"overrides": [{"match": {"cluster": "daily-.*"}, "warning": "26h", "critical": "30h"}]})
    minutes = 25 * 60 + 10
    series = {s(LAST, 1, cluster="daily-1"): run((0, 10), (T10, minutes - 10)),  # 25h old at 25h10m
              s(LAST, 2, cluster="daily-1"): run((0, minutes)),
              # hourly backups until the one of 22h10m: 3h old at 25h10m
              s(LAST, 1, cluster="hourly-1"): run((0, 10), *((60 * (h * 60 + 10), 60) for h in range(22)),
                                                  (60 * (22 * 60 + 10), minutes - 22 * 60 - 10))}
    (warning,) = [a for a in alerts.table(cfg) if a.name == "RecoveryPointTooOld" and a.severity == "warning"]
    labels = {"severity": "warning", "cluster": "hourly-1", "tenant": "system"}
    notes = {k: v.replace(alerts.where(cfg), "hourly-1 (virtual cluster system)")
             for k, v in rules.annotations(warning, cfg, "3h 0m 0s").items()}
    tests = [{"eval_time": "25h10m", "alertname": a, "exp_alerts": [{"exp_labels": labels, "exp_annotations": notes}]
              if a == warning.alertname else []} for a in sorted({a.alertname for a in alerts.table(cfg)})]
    rule_test(tmp_path, series, {"alert_rule_test": tests}, _rules_file(cfg, tmp_path), engine=rule_engine)
    assert "rpo.overrides" in notes["description"]


def _compliance_checks(cfg, at: str, expected: float | None) -> dict:
    from crdb_dash.model import promql

    labels = '{cluster="c1", tenant="system"}'
    samples = [] if expected is None else [{"labels": labels, "value": expected}]
    # as a count of the 121 evaluations at 0..2h (a 3h window holds them all, whether an engine's window includes
    # its start or not): whole numbers compare exactly
    return {"expr": f"round(121 * avg_over_time({promql.COMPLIANT_RECORD}[3h]))", "eval_time": at,
            "exp_samples": samples}


# Evaluations at 0..2h: 121. Scrapes every 30s, the last at 1h29m30s; a failed scrape is bridged for 5 minutes
# (promql.GAP), so the evaluations at 1h35m..2h (26) find no recovery point reported: unknown. No evaluation falls
# exactly 5 minutes after a scrape, where engines whose windows include their start and those that do not differ.
@pytest.mark.parametrize("unknown, expected", [("violation", 95), ("compliant", 121), ("excluded", 121)])
def test_a_scrape_gap_counts_as_configured_never_as_compliant_by_accident(tmp_path, unknown, expected, rule_engine):
    """Backups every 30 minutes, well within target; no scrape for the last half hour of two hours. The
    remembered recovery point stays within target through the gap, but the gap is unknown."""
    compliance = {"period": "30d", "objective": 0.995, "target": "critical", "unknown": unknown}
    cfg = configured(rpo={"compliance": compliance})
    values = run(*((60 + 1800 * k, 60) for k in range(3)), ("stale", 1)) + " _x60"  # samples 30s apart
    if unknown == "violation" and rule_engine.kind == "victoriametrics":
        expected -= 1  # vmalert reads the recovery point rule one evaluation late: its first minute is not yet known
    rule_test(tmp_path, {s(LAST, 1): values}, {"promql_expr_test": [_compliance_checks(cfg, "2h", expected)]},
              _rules_file(cfg, tmp_path), interval="30s", engine=rule_engine)


# ---- memory: what a retired cluster keeps (alerts.forget_after), per-cluster freshness, the budget burn tiers ------
def _only(cfg, at: str, fires: list[tuple[str, str, str, str]]) -> list[dict]:
    """Alert tests at ``at`` where exactly ``fires`` (name, severity, cluster, value text) fire, with their texts."""
    table = alerts.table(cfg)
    tests = []
    for alertname in sorted({a.alertname for a in table}):
        expected = []
        for name, severity, cluster, value in fires:
            if alerts.PREFIX + name != alertname:
                continue
            (alert,) = [a for a in table if a.name == name and a.severity == severity and not a.labels]
            notes = {k: v.replace(alerts.where(cfg), f"{cluster} (virtual cluster system)")
                     for k, v in rules.annotations(alert, cfg, value).items()}
            expected.append({"exp_labels": {"severity": severity, "cluster": cluster, "tenant": "system"},
                             "exp_annotations": notes})
        tests.append({"eval_time": at, "alertname": alertname, "exp_alerts": expected})
    return tests


def test_a_retired_cluster_alerts_until_forget_after_then_falls_quiet(tmp_path, rule_engine):
    cfg = configured(alerts={"forget_after": "1d"})
    series = {s(PRESENT, 1): run((0, 60), MISSED), s(SUCCEEDED, 1): run((0, 10), (1, 50), MISSED)}
    checks = {"alert_rule_test": _only(cfg, "20h", [("NotReporting", "warning", "c1", "19h 1m 0s")])
              + _only(cfg, "25h30m", [])}
    rule_test(tmp_path, series, checks, _rules_file(cfg, tmp_path), engine=rule_engine)


def test_a_daily_cluster_is_fresh_under_its_daily_override_while_an_hourly_one_warns(tmp_path, rule_engine):
    """Issue 19 item 7: rpo.overrides set the freshness levels too (the README's daily example)."""
    cfg = configured(rpo={"overrides": [{"match": {"cluster": "daily-.*"}, "warning": "26h", "critical": "30h"}]})
    day = 24 * 60
    series = {s(SUCCEEDED, 1, cluster="daily-1"): run((0, 70), (1, day), (2, 200)),  # daily, the last at 1d1h10m
              s(SUCCEEDED, 1, cluster="hourly-1"): run((0, 10), *((k, 60) for k in range(1, 23)), (23, 300))}
    at = "1d3h"  # 27h: the daily cluster 1h50m since its success, the hourly 4h50m since its last (22h10m)
    fires = [("NoSuccessfulBackup", "warning", "hourly-1", "4h 50m 0s")]
    rule_test(tmp_path, series, {"alert_rule_test": _only(cfg, at, fires)}, _rules_file(cfg, tmp_path),
              engine=rule_engine)
    (warning,) = [a for a in alerts.table(cfg) if a.name == "NoSuccessfulBackup" and a.severity == "warning"]
    assert "rpo.overrides" in warning.description


def test_a_daily_cluster_under_default_levels_would_page(tmp_path, rule_engine):
    """The same daily history without the override: the freshness alert fires, so the override is what quiets it."""
    cfg = configured()
    series = {s(SUCCEEDED, 1, cluster="daily-1"): run((0, 70), (1, 24 * 60), (2, 200))}
    fires = [("NoSuccessfulBackup", "warning", "daily-1", "22h 50m 0s"),
             ("NoSuccessfulBackup", "critical", "daily-1", "22h 50m 0s")]
    rule_test(tmp_path, series, {"alert_rule_test": _only(cfg, "1d0h", fires)}, _rules_file(cfg, tmp_path),
              engine=rule_engine)


def _flapping(minutes: int, every: int = 19, backup_age: int = 0) -> str:
    """A recovery point whose backups complete every ``every`` minutes: over a 15m target for the last
    ``every - 15`` minutes of each cycle, never for RecoveryPointTooOld's 5 minutes in a row."""
    return run(*((60 * (k * every) - backup_age, every) for k in range(minutes // every + 1)))


def test_short_misses_again_and_again_burn_the_budget_fast_and_page(tmp_path, rule_engine):
    """Issue 19 item 12: the budget burn pages what no other alert does; a single long miss pages once."""
    cfg = configured(rpo={"warning": "10m", "critical": "15m", "window": "1h"},
                     freshness={"warning": "2h", "critical": "3h"})
    series = {s(LAST, 1): _flapping(240), s(PRESENT, 1): run((0, 240))}
    # 4 of every 19 minutes over target: 21% of the time, 42 times the allowed rate, read over windows that
    # hold fewer or more of the misses
    # (vmalert reads the compliance rule one evaluation late: its hour holds one more of the misses)
    value = "40" if rule_engine.kind == "victoriametrics" else "30"
    fires = [("RecoveryPointBudgetBurn", severity, "c1", value) for severity in ("critical", "warning")]
    rule_test(tmp_path, series, {"alert_rule_test": _only(cfg, "3h20m", fires)}, _rules_file(cfg, tmp_path),
              engine=rule_engine)


def test_a_never_set_gauge_is_not_a_compliance_violation(tmp_path, rule_engine):
    """Issue 19 item 10: with unknown: violation, a cluster whose schedules never set the gauge records nothing."""
    compliance = {"period": "30d", "objective": 0.995, "target": "critical", "unknown": "violation"}
    cfg = configured(rpo={"compliance": compliance})
    series = {s(LAST, n): run((0, 180)) for n in (1, 2)} | {s(PRESENT, 1): run((0, 180))}
    checks = [{"expr": promql.COMPLIANT_RECORD, "eval_time": "2h", "exp_samples": []}]
    checks += _only(cfg, "2h", [])
    rule_test(tmp_path, series, {"promql_expr_test": checks[:1], "alert_rule_test": checks[1:]},
              _rules_file(cfg, tmp_path), engine=rule_engine)


def test_cloud_recovery_point_unknown_fires_where_up_has_no_cluster_label(tmp_path, rule_engine):
    """Issue 19 item 4: on CockroachDB Cloud `cluster` labels the exported data, not `up`; the alert reads the
    cluster's own backup metrics."""
    from crdb_dash.model import config

    cfg = config.with_preset(config.load(), "cloud")
    node = 'cluster="c1", node_id="1"'
    series = {f"crdb_cloud_{LAST}{{{node}}}": run((0, 10), (T10, 50), MISSED),
              f"crdb_cloud_{PRESENT}{{{node}}}": run((0, 600)),
              'up{job="crdb-cloud", instance="metrics.example.cloud:443"}': run((1, 600))}
    fires = [("RecoveryPointUnknown", "warning", "c1", "")]
    rule_test(tmp_path, series, {"alert_rule_test": _only(cfg, "2h10m", fires)}, _rules_file(cfg, tmp_path),
              engine=rule_engine)


def test_a_miss_too_short_for_recovery_point_too_old_pages_as_a_budget_burn(tmp_path, rule_engine):
    """Over the critical target for five evaluations: one short of RecoveryPointTooOld's `for`, so no critical
    RPO alert; the budget burn pages instead (its sustained-miss rule asks one evaluation more than that `for`).
    vmalert reads the rules before it in a group one evaluation late, so there the burn tiers see the miss at
    other times: the slow tier fires, at 6h16m."""
    cfg = configured()
    series = {s(PRESENT, 1): run((0, 420)), s(SUCCEEDED, 1): run((1, 420)),
              s(LAST, 1): run((0, 10), (600, 366), (22500, 44))}  # over 6h from 6h11m to 6h15m
    if rule_engine.kind == "victoriametrics":
        at, fires = "6h16m", [("warning", "3")]
    else:  # the five misses of the last hour's 60 evaluations: the alerts run before this minute's compliance rule
        at, fires = "6h18m", [("critical", "17"), ("warning", "3")]
    checks = [{"eval_time": at, "alertname": alerts.PREFIX + "RecoveryPointTooOld", "exp_alerts": []}]
    checks += [{"eval_time": at, "alertname": alerts.PREFIX + "RecoveryPointBudgetBurn",
                "exp_alerts": [{"exp_labels": {"severity": severity, "cluster": "c1", "tenant": "system"},
                                "exp_annotations": _texts(cfg, "RecoveryPointBudgetBurn", severity, value)}
                               for severity, value in fires]}]
    rule_test(tmp_path, series, {"alert_rule_test": checks}, _rules_file(cfg, tmp_path), engine=rule_engine)


def _texts(cfg, name: str, severity: str, value: str) -> dict:
    (alert,) = [a for a in alerts.table(cfg) if a.name == name and a.severity == severity]
    return {k: v.replace(alerts.where(cfg), "c1 (virtual cluster system)")
            for k, v in rules.annotations(alert, cfg, value).items()}
