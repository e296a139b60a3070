"""CockroachDB Backups / Backup jobs: running, paused and failing backup jobs, per node."""

from crdb_dash.dashboards.common import ALWAYS_ZERO, dashboard, title
from crdb_dash.panels.base import Ctx, Panels

KEY = "backup-jobs"
NAME = "Backup jobs"  # in links from other dashboards
TITLE = title(NAME)


def build(ctx: Ctx):
    p = Panels(ctx)
    return dashboard(ctx, KEY, TITLE, "Backup jobs, scheduled or not: state, outcomes and the node at fault.", [
        ("Now", [p.now("jobs_backup_currently_running"), p.now("jobs_backup_currently_paused"),
                 p.in_range("jobs_backup_resume_failed"), p.now("backup_last_failed_time_kms_inaccessible")]),
        ("State", [p.graph("jobs_backup_currently_running"), p.graph("jobs_backup_currently_paused"),
                   p.by_node("jobs_backup_currently_running")]),
        ("Outcomes", [p.graph("jobs_backup_resume_completed"), p.graph("jobs_backup_resume_failed"),
                      p.graph("jobs_backup_resume_retry_error"), p.graph("jobs_backup_fail_or_cancel_completed"),
                      p.graph("jobs_backup_fail_or_cancel_retry_error")]),
        ("By node", [p.by_node("jobs_backup_resume_failed"), p.by_node("jobs_backup_resume_retry_error")]),
        ("Cloud storage", [p.graph("cloud_write_bytes")]),
        (ALWAYS_ZERO, [p.graph("jobs_backup_currently_idle"), p.graph("jobs_backup_fail_or_cancel_failed")]),
    ])
