"""CockroachDB Backups / Overview: the page an on-call engineer opens first."""

from crdb_dash.dashboards import backup_jobs, protected_timestamps, restore_jobs, schedules
from crdb_dash.dashboards.common import dashboard, linked, title
from crdb_dash.model.catalog import metric
from crdb_dash.panels import compliance, reporting
from crdb_dash.panels import schedules as schedule_panels
from crdb_dash.panels.base import Ctx, Panels, combined

KEY = "overview"
NAME = "Overview"  # in links from other dashboards
TITLE = title(NAME)
FAILURES = ("schedules_BACKUP_failed", "jobs_backup_resume_failed", "jobs_backup_resume_retry_error",
            "jobs_restore_resume_failed", "jobs_restore_resume_retry_error")


def build(ctx: Ctx):
    p = Panels(ctx)
    return dashboard(ctx, KEY, TITLE, "Are backups running, succeeding and recent enough for the RPO?", [
        ("Recovery point and scheduled backups", schedule_panels.recovery_point_row(
            ctx, rpo=linked(schedule_panels.last_completed(ctx), ctx, schedules),
            failed=linked(p.in_range("schedules_BACKUP_failed"), ctx, schedules))),
        ("RPO compliance", [compliance.in_range(ctx), compliance.over_period(ctx), compliance.budget_left(ctx)]),
        ("Jobs now", [
            linked(p.now("jobs_backup_currently_running"), ctx, backup_jobs),
            linked(p.now("jobs_backup_currently_paused"), ctx, backup_jobs),
            linked(p.in_range("jobs_backup_resume_failed"), ctx, backup_jobs),
            linked(p.now("jobs_restore_currently_running"), ctx, restore_jobs),
            linked(p.now("jobs_restore_currently_paused"), ctx, restore_jobs),
            linked(p.now("schedules_BACKUP_protected_age_sec"), ctx, protected_timestamps),
        ]),
        ("Trends", [
            schedule_panels.last_completed_over_time(ctx),
            combined("Failures and retries", "Failed (red) and retried (orange) backup and restore jobs. Open the "
                     "detail dashboards to find the node and the job.", [metric(name) for name in FAILURES], ctx),
        ]),
        ("Reporting", [reporting.nodes_reporting(ctx)]),
    ])
