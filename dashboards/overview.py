"""CockroachDB Backups / Overview: the page an on-call engineer opens first."""

from crdb_dash.catalog import metric
from dashboards.common import dashboard
from panels import backup_jobs, protected_timestamps, restore_jobs, schedules
from panels.base import Ctx, combined

KEY = "overview"
TITLE = "CockroachDB Backups / Overview"


def build(ctx: Ctx):
    failures = [metric(name) for name in (
        "schedules_BACKUP_failed", "jobs_backup_resume_failed", "jobs_backup_resume_retry_error",
        "jobs_restore_resume_failed", "jobs_restore_resume_retry_error")]
    return dashboard(ctx, KEY, TITLE, "Are backups running, succeeding and recent enough for the RPO?", [
        ("Recovery point and scheduled backups", [
            schedules.last_completed(ctx), schedules.success_ratio(ctx), schedules.started_in_range(ctx),
            schedules.succeeded_in_range(ctx), schedules.failed_in_range(ctx),
        ]),
        ("Jobs now", [
            backup_jobs.running_now(ctx), backup_jobs.paused_now(ctx), backup_jobs.failed_in_range(ctx),
            restore_jobs.running_now(ctx), restore_jobs.paused_now(ctx), protected_timestamps.schedule_age_now(ctx),
        ]),
        ("Trends", [
            schedules.last_completed_over_time(ctx),
            combined("Failures and retries", "Failed and retried backup and restore jobs, counted in each "
                     "$__rate_interval window. Open the detail dashboards to find the node and the job.",
                     failures, ctx),
        ]),
    ])
