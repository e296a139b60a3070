"""CockroachDB Backups / Overview: the page an on-call engineer opens first."""

from crdb_dash.dashboards import backup_jobs as backup_dashboard
from crdb_dash.dashboards import protected_timestamps as pts_dashboard
from crdb_dash.dashboards import restore_jobs as restore_dashboard
from crdb_dash.dashboards import schedules as schedules_dashboard
from crdb_dash.dashboards.common import dashboard, linked
from crdb_dash.panels import backup_jobs, compliance, protected_timestamps, reporting, restore_jobs, schedules
from crdb_dash.panels.base import Ctx, combined

from crdb_dash.model.catalog import metric

KEY = "overview"
TITLE = "CockroachDB Backups / Overview"


def build(ctx: Ctx):
    failures = [metric(name) for name in (
        "schedules_BACKUP_failed", "jobs_backup_resume_failed", "jobs_backup_resume_retry_error",
        "jobs_restore_resume_failed", "jobs_restore_resume_retry_error")]
    return dashboard(ctx, KEY, TITLE, "Are backups running, succeeding and recent enough for the RPO?", [
        ("Recovery point and scheduled backups", schedules.recovery_point_row(
            ctx, rpo=linked(schedules.last_completed(ctx), ctx, schedules_dashboard.KEY, "Backup schedules"),
            failed=linked(schedules.failed_in_range(ctx), ctx, schedules_dashboard.KEY, "Backup schedules"))),
        ("RPO compliance", [compliance.in_range(ctx), compliance.over_period(ctx), compliance.budget_left(ctx)]),
        ("Jobs now", [
            linked(backup_jobs.running_now(ctx), ctx, backup_dashboard.KEY, "Backup jobs"),
            linked(backup_jobs.paused_now(ctx), ctx, backup_dashboard.KEY, "Backup jobs"),
            linked(backup_jobs.failed_in_range(ctx), ctx, backup_dashboard.KEY, "Backup jobs"),
            linked(restore_jobs.running_now(ctx), ctx, restore_dashboard.KEY, "Restore jobs"),
            linked(restore_jobs.paused_now(ctx), ctx, restore_dashboard.KEY, "Restore jobs"),
            linked(protected_timestamps.schedule_age_now(ctx), ctx, pts_dashboard.KEY, "Protected timestamps"),
        ]),
        ("Trends", [
            schedules.last_completed_over_time(ctx),
            combined("Failures and retries", "Failed (red) and retried (orange) backup and restore jobs, counted "
                     "in the time between two points of the graph. Open the detail dashboards to find the node and "
                     "the job.", failures, ctx),
        ]),
        ("Reporting", [reporting.nodes_reporting(ctx)]),
    ])
