"""The metric catalog: every fact about a CockroachDB backup, restore or schedule metric, written once.

Panels, dashboards, alert rules, the simulator and the tests all read these entries.
The exported Prometheus name is derived from CockroachDB's name by the exporter's own rule.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from functools import cached_property


class Kind(Enum):
    """How a cluster-wide value is formed from per-node series (see METRICS.md)."""

    COUNTER = "counter"  # per-node counter, reset on restart: sum of increase/rate
    CUMULATIVE = "cumulative"  # declared gauge that only grows until restart: treated as a counter
    RUNNING = "running"  # per-node gauge of work running on that node: sum
    POLLER = "poller"  # one cluster-wide poller sets it on one node; stale copies elsewhere: max
    SCHEDULER = "scheduler"  # every node's scheduler reports the same cluster-wide fact: max
    LAST_COMPLETED = "last_completed"  # unix time on the completing node, 0 elsewhere and after restart
    EVENT_TIME = "event_time"  # unix time of the last such event on a node, 0 if never: max


COUNTING = (Kind.COUNTER, Kind.CUMULATIVE)  # read only through increase / rate
UNIX_TIMES = (Kind.LAST_COMPLETED, Kind.EVENT_TIME)  # values are unix times, 0 for none
PER_SECOND_UNITS = ("Bps",)  # counters of a flow (bytes): shown per second; counters of events: whole events per step
# The recovery point's value where no node knows a completed backup (0 is a time, so -1): stats map it to "Unknown".
UNKNOWN = -1
# Not a backup metric: each node's gauge of seconds since its process started (CockroachDB's sys.uptime),
# which drops to about 0 when the node restarts. The dashboards mark node restarts with it.
UPTIME = "sys_uptime"
# Every node exports this gauge from start-up (0 when idle), once per tenant: it tells who reports.
PRESENCE = "jobs_backup_currently_running"


class Group(Enum):
    SCHEDULES = "schedules"
    BACKUP_JOBS = "backup_jobs"
    RESTORE_JOBS = "restore_jobs"
    PROTECTED_TIMESTAMPS = "protected_timestamps"
    STORAGE = "storage"


@dataclass(frozen=True)
class Metric:
    name: str  # CockroachDB's name, as in its docs
    kind: Kind
    group: Group
    unit: str  # Grafana unit of the value a panel shows
    title: str
    meaning: str
    action: str  # what to do when it looks bad
    seed: bool = False  # on the docs page "Backup and Restore Monitoring"
    bad_from: float | str | None = None  # values from this up are bad; a str names a duration in the config
    bad_within: str = ""  # for an event time: a config duration; an event more recent than that is bad
    always_zero: str = ""  # why the metric stays 0 on current versions; its panels then sit last
    versions: str = ""
    by_label: str = ""  # a label the cluster-wide value is also split by

    @cached_property
    def exported(self) -> str:
        return re.sub(r"[^a-zA-Z0-9_:]", "_", self.name)

    @property
    def type(self) -> str:
        """TYPE as exported: only counters are declared counters (the cumulative ones are declared gauges)."""
        return "counter" if self.kind is Kind.COUNTER else "gauge"

    @property
    def counting(self) -> bool:
        """Read only through increase / rate: a counter, or a gauge that only grows until its node restarts."""
        return self.kind in COUNTING

    @property
    def per_second(self) -> bool:
        """Shown as a per-second rate (a flow of bytes); other counters as whole events per step."""
        return self.counting and self.unit in PER_SECOND_UNITS

    @property
    def bars(self) -> bool:
        """Graphed as bars, each counting the events of its step; everything else as lines."""
        return self.counting and not self.per_second

    @property
    def unix_time(self) -> bool:
        return self.kind in UNIX_TIMES

    @property
    def absent(self) -> str:
        """What a stat of the value now says when no node reports one: an event that never happened is "Never"."""
        return "Never" if self.kind is Kind.EVENT_TIME else "No data"

    @property
    def per_node(self) -> bool:
        """True when each node reports its own share, so a per-node breakdown finds the node at fault."""
        return self.counting or self.kind is Kind.RUNNING

    @property
    def description(self) -> str:
        text = f"{self.meaning} {self.action}"
        if self.versions:
            text += f" ({self.versions})"
        if self.always_zero:
            text += f" Always 0 on current versions: {self.always_zero}."
        return f"{text} Metric: {self.exported}."


_PTS_ACTION = (
    "An old record blocks garbage collection and grows storage: check SHOW SCHEDULES / SHOW JOBS for "
    "a schedule or job that stopped completing."
)

METRICS: tuple[Metric, ...] = (
    # Backup schedules
    Metric("schedules.BACKUP.started", Kind.COUNTER, Group.SCHEDULES, "short",
           "Scheduled backups started", "Scheduled backup jobs started by the job scheduler.",
           "Fewer starts than the schedule's cadence means a schedule is paused or the scheduler is not running: "
           "check SHOW SCHEDULES.", seed=True),
    Metric("schedules.BACKUP.succeeded", Kind.COUNTER, Group.SCHEDULES, "short",
           "Scheduled backups succeeded", "Scheduled backup jobs that finished successfully.",
           "Should keep pace with starts; if it stops while starts continue, jobs are failing or stuck.", seed=True),
    Metric("schedules.BACKUP.failed", Kind.COUNTER, Group.SCHEDULES, "short",
           "Scheduled backups failed",
           "Scheduled backups that failed to start, or whose job ended failed or canceled. A stuck job never "
           "counts here.", "Any failure deserves a look: SHOW JOBS WHERE job_type = 'BACKUP' shows the error.",
           seed=True, bad_from=1),
    Metric("schedules.BACKUP.last-completed-time", Kind.LAST_COMPLETED, Group.SCHEDULES, "s",
           "Time since last completed backup",
           "Age of the newest backed-up data (the recovery point) of schedules created with "
           "updates_cluster_last_backup_time_metric. Unknown when no node has reported a completion in the window "
           "(no such schedule, or every node restarted since).",
           "Above the RPO: a backup is failing, stuck or paused; check SHOW SCHEDULES and SHOW JOBS.", seed=True),
    Metric("schedules.BACKUP.protected_age_sec", Kind.POLLER, Group.PROTECTED_TIMESTAMPS, "s",
           "Oldest PTS record of backup schedules",
           "Age of the oldest protected timestamp record held by backup schedules.", _PTS_ACTION, seed=True,
           bad_from="alerts.protected_age"),
    Metric("schedules.BACKUP.protected_record_count", Kind.POLLER, Group.PROTECTED_TIMESTAMPS, "short",
           "PTS records of backup schedules", "Protected timestamp records held by backup schedules.",
           "A growing count means chained schedules are not releasing records.", seed=True),
    Metric("schedules.round.reschedule_skip", Kind.CUMULATIVE, Group.SCHEDULES, "short",
           "Schedules skipped (previous run still running)",
           "Schedules skipped because their previous run was still running (on_previous_running=skip). "
           "Cumulative since the node started.",
           "Steady growth means backups take longer than the cadence: lengthen the cadence or find the slow backup.",
           seed=True, bad_from=1),
    Metric("schedules.round.reschedule_wait", Kind.CUMULATIVE, Group.SCHEDULES, "short",
           "Schedules delayed (previous run still running)",
           "Schedules rescheduled to wait for their previous run (on_previous_running=wait). Cumulative since "
           "the node started.",
           "Steady growth means backups take longer than the cadence: lengthen the cadence or find the slow backup.",
           seed=True, bad_from=1),
    Metric("schedules.round.jobs_started", Kind.CUMULATIVE, Group.SCHEDULES, "short",
           "Jobs started by the scheduler", "Jobs of any schedule started by the scheduler. Cumulative since the "
           "node started.", "Zero for longer than the shortest cadence means the scheduler is not running."),
    Metric("schedules_error", Kind.SCHEDULER, Group.SCHEDULES, "short", "Schedules in error",
           "Schedules that did not execute successfully.",
           "Inspect SHOW SCHEDULES for the schedule's error and fix its target or credentials.", bad_from=1),
    Metric("schedules_malformed", Kind.SCHEDULER, Group.SCHEDULES, "short", "Malformed schedules",
           "Schedules the scheduler cannot parse.", "Drop and recreate the schedule shown by SHOW SCHEDULES.",
           bad_from=1),
    Metric("schedules.BACKUP.last-completed-time-by-virtual_cluster", Kind.LAST_COMPLETED,
           Group.SCHEDULES, "s", "Time since last completed backup, by virtual cluster",
           "Per virtual cluster (label tenant_id): age of the newest data backed up by host schedules.",
           "Above the RPO: that virtual cluster's backup is failing, stuck or paused.", versions="v25.3+",
           by_label="tenant_id"),
    # Backup jobs
    Metric("jobs.backup.currently_running", Kind.RUNNING, Group.BACKUP_JOBS, "short",
           "Backup jobs running", "Backup jobs running now, in Resume or OnFailOrCancel state.",
           "A job running far longer than usual may be stuck: it will never count as failed.", seed=True),
    Metric("jobs.backup.currently_paused", Kind.POLLER, Group.BACKUP_JOBS, "short",
           "Backup jobs paused", "Backup jobs paused now.",
           "A paused backup stops the RPO clock from moving: RESUME JOB or cancel it.", seed=True, bad_from=1),
    Metric("jobs.backup.currently_idle", Kind.RUNNING, Group.BACKUP_JOBS, "short", "Backup jobs idle",
           "Backup jobs that are running but idle.", "Look at SHOW JOBS if it is ever above 0.",
           always_zero="only jobs that mark themselves idle while they wait count here, which backup jobs do not "
           "normally do"),
    Metric("jobs.backup.resume_completed", Kind.COUNTER, Group.BACKUP_JOBS, "short",
           "Backup jobs completed", "Backup jobs (scheduled or not) that completed successfully.",
           "Should match the backups you expect."),
    Metric("jobs.backup.resume_failed", Kind.COUNTER, Group.BACKUP_JOBS, "short",
           "Backup jobs failed", "Backup jobs that failed with a non-retryable error.",
           "Read the error in SHOW JOBS and fix its cause (storage credentials, permissions, space).",
           seed=True, bad_from=1),
    Metric("jobs.backup.resume_retry_error", Kind.COUNTER, Group.BACKUP_JOBS, "short",
           "Backup job retryable errors",
           "Backup jobs that hit a retryable error; pauses, cancels and node shutdowns count too.",
           "A steady rate outside restarts points at flaky storage or network.", seed=True),
    Metric("jobs.backup.fail_or_cancel_completed", Kind.COUNTER, Group.BACKUP_JOBS, "short",
           "Backup jobs failed or canceled (cleaned up)",
           "Backup jobs that completed their failure or cancelation process.",
           "Each is a backup that did not finish: check SHOW JOBS for why.", seed=True, bad_from=1),
    Metric("jobs.backup.fail_or_cancel_retry_error", Kind.COUNTER, Group.BACKUP_JOBS, "short",
           "Backup cleanup retryable errors",
           "Backup jobs that hit a retryable error while failing or canceling.",
           "Repeated errors leave the job's cleanup pending.", seed=True),
    Metric("jobs.backup.fail_or_cancel_failed", Kind.COUNTER, Group.BACKUP_JOBS, "short",
           "Backup cleanup failed", "Backup jobs whose failure or cancelation process failed.",
           "Clean up the job's files by hand.", seed=True, bad_from=1,
           versions="not incremented since about v22.1; removed in v25.4",
           always_zero="useful only on clusters older than about v22.1"),
    Metric("backup.last-failed-time.kms-inaccessible", Kind.EVENT_TIME, Group.BACKUP_JOBS, "s",
           "Time since a backup failed: KMS inaccessible",
           "When a backup last failed because its KMS could not be reached (0 if never).",
           "Check the KMS key, its permissions and the network path from every node. The KMSInaccessible alert "
           "fires until a backup completes after the failure (for rpo.window at most), even once this is green.",
           bad_within="alerts.failure_window"),
    # Restore jobs
    Metric("jobs.restore.currently_running", Kind.RUNNING, Group.RESTORE_JOBS, "short",
           "Restore jobs running", "Restore jobs running now, in Resume or OnFailOrCancel state.",
           "A restore that runs far longer than expected may be stuck.", seed=True),
    Metric("jobs.restore.currently_paused", Kind.POLLER, Group.RESTORE_JOBS, "short",
           "Restore jobs paused", "Restore jobs paused now.", "RESUME JOB or cancel it.", seed=True, bad_from=1),
    Metric("jobs.restore.currently_idle", Kind.RUNNING, Group.RESTORE_JOBS, "short", "Restore jobs idle",
           "Restore jobs that are running but idle.", "Look at SHOW JOBS if it is ever above 0.",
           always_zero="only jobs that mark themselves idle while they wait count here, which restore jobs do not "
           "normally do"),
    Metric("jobs.restore.resume_completed", Kind.COUNTER, Group.RESTORE_JOBS, "short",
           "Restore jobs completed", "Restore jobs that completed successfully.",
           "Restores you ran should appear here.", seed=True),
    Metric("jobs.restore.resume_failed", Kind.COUNTER, Group.RESTORE_JOBS, "short",
           "Restore jobs failed", "Restore jobs that failed with a non-retryable error.",
           "Read the error in SHOW JOBS; the target may be left offline until the job is cleaned up.",
           seed=True, bad_from=1),
    Metric("jobs.restore.resume_retry_error", Kind.COUNTER, Group.RESTORE_JOBS, "short",
           "Restore job retryable errors",
           "Restore jobs that hit a retryable error; pauses, cancels and node shutdowns count too.",
           "A steady rate points at flaky storage or network.", seed=True),
    Metric("jobs.restore.fail_or_cancel_completed", Kind.COUNTER, Group.RESTORE_JOBS, "short",
           "Restore jobs failed or canceled (cleaned up)",
           "Restore jobs that completed their failure or cancelation process.",
           "Each is a restore that did not finish: check SHOW JOBS for why.", bad_from=1),
    Metric("jobs.restore.fail_or_cancel_retry_error", Kind.COUNTER, Group.RESTORE_JOBS, "short",
           "Restore cleanup retryable errors",
           "Restore jobs that hit a retryable error while failing or canceling.",
           "Repeated errors leave the restore's cleanup pending.", seed=True),
    Metric("jobs.restore.fail_or_cancel_failed", Kind.COUNTER, Group.RESTORE_JOBS, "short",
           "Restore cleanup failed", "Restore jobs whose failure or cancelation process failed.",
           "Drop the partially restored objects by hand.", seed=True, bad_from=1,
           versions="removed in v25.4",
           always_zero="shown for clusters older than v25.4"),
    # Protected timestamps held by jobs
    Metric("jobs.backup.protected_age_sec", Kind.POLLER, Group.PROTECTED_TIMESTAMPS, "s",
           "Oldest PTS record of backup jobs", "Age of the oldest protected timestamp record held by backup jobs.",
           _PTS_ACTION, seed=True, bad_from="alerts.protected_age"),
    Metric("jobs.backup.protected_record_count", Kind.POLLER, Group.PROTECTED_TIMESTAMPS, "short",
           "PTS records of backup jobs", "Protected timestamp records held by backup jobs.",
           "Should fall back to zero when backups finish.", seed=True),
    Metric("jobs.backup.expired_pts_records", Kind.COUNTER, Group.PROTECTED_TIMESTAMPS, "short",
           "Expired PTS records of backup jobs", "Protected timestamp records of backup jobs removed because they "
           "expired.", "Expired records mean jobs held data past the PTS expiration."),
    Metric("jobs.restore.protected_age_sec", Kind.POLLER, Group.PROTECTED_TIMESTAMPS, "s",
           "Oldest PTS record of restore jobs", "Age of the oldest protected timestamp record held by restore jobs.",
           _PTS_ACTION, seed=True, bad_from="alerts.protected_age"),
    Metric("jobs.restore.protected_record_count", Kind.POLLER, Group.PROTECTED_TIMESTAMPS, "short",
           "PTS records of restore jobs", "Protected timestamp records held by restore jobs.",
           "Should fall back to zero when restores finish.", seed=True),
    Metric("jobs.restore.expired_pts_records", Kind.COUNTER, Group.PROTECTED_TIMESTAMPS, "short",
           "Expired PTS records of restore jobs", "Protected timestamp records of restore jobs removed because "
           "they expired.", "Expired records mean jobs held data past the PTS expiration."),
    Metric("jobs.poll_jobs_stats.currently_running", Kind.RUNNING, Group.PROTECTED_TIMESTAMPS, "short",
           "Jobs metrics poller running", "1 on the node running the jobs metrics poller (the POLL JOBS STATS job), "
           "0 elsewhere: that node's paused-job and protected-timestamp gauges are the fresh ones.",
           "No node at 1 for long means the poller is not running and those gauges are stale."),
    Metric("jobs.metrics.task_failed", Kind.COUNTER, Group.PROTECTED_TIMESTAMPS, "short",
           "Jobs metrics poller failures",
           "Failures of the poller that sets the paused and protected-timestamp gauges; while it fails they are "
           "stale.", "Look for errors from the jobs metrics poller in the logs.", bad_from=1),
    # Cloud storage traffic
    Metric("cloud.write_bytes", Kind.COUNTER, Group.STORAGE, "Bps", "Cloud storage writes",
           "Bytes written to cloud storage by backups, exports and changefeeds.",
           "Zero while a backup runs means it is not making progress."),
    Metric("cloud.read_bytes", Kind.COUNTER, Group.STORAGE, "Bps", "Cloud storage reads",
           "Bytes read from cloud storage by restores, imports and backup validation.",
           "Zero while a restore runs means it is not making progress."),
)

BY_NAME: dict[str, Metric] = {m.exported: m for m in METRICS}


def metric(exported: str) -> Metric:
    return BY_NAME[exported]


def seed() -> list[Metric]:
    return [m for m in METRICS if m.seed]
