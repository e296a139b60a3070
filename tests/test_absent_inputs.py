"""Queries that combine metrics keep working when one input is absent, checked with promtool.

A metric can be missing for good (``jobs_*_fail_or_cancel_failed`` is gone from v25.4) or for a while (a fresh
node, a version that lacks it); ``a + b``, ``a / b`` and ``a and b`` are empty where one side is. The alert
rules' sums are covered in test_alerts.py; these are the queries the dashboards share with them.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from crdb_dash.model import promql
from crdb_dash.model.catalog import metric
from tests.conftest import rule_test

NODE = '{{job="cockroachdb", cluster="c1", instance="n{n}:8080"}}'


def _check(tmp_path, series: dict[str, str], expr: str, value: float | None, engine) -> None:
    samples = [] if value is None else [{"labels": '{cluster="c1", tenant="system"}', "value": value}]
    one_minute = expr.replace(promql.STEP, "60000ms").replace(promql.STEP.removesuffix("ms"), "60000")
    check = {"expr": one_minute, "eval_time": "50m", "exp_samples": samples}
    rule_test(tmp_path, series, {"promql_expr_test": [check]}, engine=engine)


@pytest.fixture(params=["dashboards", "rules"])
def scope(request, cfg):
    """The rules' scope, and the same without their gap-bridging: the shape dashboards query (no variables)."""
    rules = promql.rule_scope(cfg)
    return rules if request.param == "rules" else replace(rules, gap="")


OK = "schedules_BACKUP_succeeded" + NODE.format(n=1)
FAILED = "schedules_BACKUP_failed" + NODE.format(n=2)


@pytest.mark.parametrize(("series", "ratio"), [
    ({OK: "0x20 3x40", FAILED: "0x20 1x40"}, 0.75),
    ({OK: "0x20 3x40"}, 1),  # a node that never exported the failure counter
    ({FAILED: "0x20 1x40"}, 0),  # ... or the success counter
], ids=["both", "no failed counter", "no succeeded counter"])
def test_success_ratio_with_either_counter_absent(tmp_path, scope, series, ratio, rule_engine):
    _check(tmp_path, series, promql.success_ratio(scope, "1h"), ratio, rule_engine)


def test_poller_gauge_without_the_poller_flag_falls_back_to_the_max(tmp_path, scope, rule_engine):
    paused = metric("jobs_backup_currently_paused")
    series = {f"{paused.exported}{NODE.format(n=1)}": "0x60", f"{paused.exported}{NODE.format(n=2)}": "2x60"}
    _check(tmp_path, series, promql.poller_gauge(paused, scope), 2, rule_engine)


def test_poller_gauge_reads_the_node_holding_the_poller(tmp_path, scope, rule_engine):
    paused = metric("jobs_backup_currently_paused")
    running = metric("jobs_poll_jobs_stats_currently_running")
    series = {f"{paused.exported}{NODE.format(n=1)}": "0x60", f"{paused.exported}{NODE.format(n=2)}": "2x60",
              f"{running.exported}{NODE.format(n=1)}": "1x60", f"{running.exported}{NODE.format(n=2)}": "0x60"}
    _check(tmp_path, series, promql.poller_gauge(paused, scope), 0, rule_engine)
