"""CockroachDB Backups / Restore jobs: running, paused and failing restores, per node."""

from dashboards.common import ALWAYS_ZERO, dashboard
from panels import restore_jobs as r
from panels.base import Ctx

KEY = "restore-jobs"
TITLE = "CockroachDB Backups / Restore jobs"


def build(ctx: Ctx):
    return dashboard(ctx, KEY, TITLE, "Restore jobs: state, outcomes and the node at fault.", [
        ("Now", [r.running_now(ctx), r.paused_now(ctx), r.completed_in_range(ctx), r.failed_in_range(ctx)]),
        ("State", [r.running(ctx), r.paused(ctx), r.running_by_node(ctx)]),
        ("Outcomes", [r.completed(ctx), r.failed(ctx), r.retry_errors(ctx), r.fail_or_cancel_completed(ctx),
                      r.fail_or_cancel_retry_errors(ctx)]),
        ("By node", [r.failed_by_node(ctx), r.retry_errors_by_node(ctx)]),
        ("Cloud storage", [r.cloud_reads(ctx)]),
        (ALWAYS_ZERO, [r.idle(ctx), r.fail_or_cancel_failed(ctx)]),
    ])
