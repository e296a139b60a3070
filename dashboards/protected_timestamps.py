"""CockroachDB Backups / Protected timestamps: PTS records held by backup schedules, backups and restores."""

from crdb_dash.dashboards.common import dashboard, title
from crdb_dash.panels.base import Ctx, Panels

KEY = "protected-ts"
NAME = "Protected timestamps"  # in links from other dashboards
TITLE = title(NAME)


def build(ctx: Ctx):
    p = Panels(ctx)
    return dashboard(ctx, KEY, TITLE, "Protected timestamp records that keep old data from garbage collection.", [
        ("Now", [p.now("schedules_BACKUP_protected_age_sec"), p.now("jobs_backup_protected_age_sec"),
                 p.now("jobs_restore_protected_age_sec")]),
        ("Backup schedules", [p.graph("schedules_BACKUP_protected_age_sec"),
                              p.graph("schedules_BACKUP_protected_record_count")]),
        ("Backup jobs", [p.graph("jobs_backup_protected_age_sec"), p.graph("jobs_backup_protected_record_count"),
                         p.graph("jobs_backup_expired_pts_records")]),
        ("Restore jobs", [p.graph("jobs_restore_protected_age_sec"), p.graph("jobs_restore_protected_record_count"),
                          p.graph("jobs_restore_expired_pts_records")]),
        ("Jobs metrics poller", [p.by_node("jobs_poll_jobs_stats_currently_running"),
                                 p.graph("jobs_metrics_task_failed")]),
    ])
