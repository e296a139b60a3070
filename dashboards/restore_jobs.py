"""CockroachDB Backups / Restore jobs: running, paused and failing restores, per node."""

from crdb_dash.dashboards.common import ALWAYS_ZERO, dashboard, title
from crdb_dash.panels.base import Ctx, Panels

KEY = "restore-jobs"
NAME = "Restore jobs"  # in links from other dashboards
TITLE = title(NAME)


def build(ctx: Ctx):
    p = Panels(ctx)
    return dashboard(ctx, KEY, TITLE, "Restore jobs: state, outcomes and the node at fault.", [
        ("Now", [p.now("jobs_restore_currently_running"), p.now("jobs_restore_currently_paused"),
                 p.in_range("jobs_restore_resume_completed"), p.in_range("jobs_restore_resume_failed")]),
        ("State", [p.graph("jobs_restore_currently_running"), p.graph("jobs_restore_currently_paused"),
                   p.by_node("jobs_restore_currently_running")]),
        ("Outcomes", [p.graph("jobs_restore_resume_completed"), p.graph("jobs_restore_resume_failed"),
                      p.graph("jobs_restore_resume_retry_error"), p.graph("jobs_restore_fail_or_cancel_completed"),
                      p.graph("jobs_restore_fail_or_cancel_retry_error")]),
        ("By node", [p.by_node("jobs_restore_resume_failed"), p.by_node("jobs_restore_resume_retry_error")]),
        ("Cloud storage", [p.graph("cloud_read_bytes")]),
        (ALWAYS_ZERO, [p.graph("jobs_restore_currently_idle"), p.graph("jobs_restore_fail_or_cancel_failed")]),
    ])
