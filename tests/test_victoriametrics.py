"""The rules load in vmalert, and VictoriaMetrics (a scale-out engine keeping PromQL) reads the same history.

The scenario tests run every panel on VictoriaMetrics too (tests/test_scenarios.py), and the rule unit tests run
on vmalert-tool where the version has it (tests/conftest.py's RULE_ENGINES); these check the rule file and the
import itself on each VictoriaMetrics of the matrix.
"""

from __future__ import annotations

import subprocess
import time

import pytest

from crdb_dash.model import promql
from crdb_dash.pipeline import rules
from crdb_dash.simulation import engines, vmrun
from crdb_dash.simulation.scenarios import named
from crdb_dash.simulation.simulator import Simulation, openmetrics
from tests.conftest import ROOT, by_key, need


@pytest.fixture(params=by_key(engines.VICTORIAMETRICS))
def vm_engine(request) -> engines.Engine:
    return need(request.param)


def test_rule_file_loads_in_vmalert(vm_engine):
    result = subprocess.run([vm_engine.tool("vmalert"), f"-rule={ROOT / rules.RULES_FILE}", "-dryRun"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_vmalert_rejects_a_broken_rule_file(tmp_path, vm_engine):
    bad = tmp_path / "bad.yml"
    bad.write_text("groups: [{name: g, rules: [{alert: A, expr: 'sum(('}]}]\n")
    assert subprocess.run([vm_engine.tool("vmalert"), f"-rule={bad}", "-dryRun"], capture_output=True).returncode != 0


def test_imported_history_and_replayed_recording_rule_match_the_simulation(cfg, vm_engine):
    end = int(time.time()) // 3600 * 3600
    sim = Simulation(named("rolling-restart"), end)
    text = rules.history_file(cfg)
    with vmrun.serve(openmetrics([sim]), text, (sim.start, end), vm_engine) as vm:
        completed = vm.query("max(schedules_BACKUP_last_completed_time)", end)["result"]
        recorded = vm.query(f"max({promql.RPO_RECORD})", end)["result"]
    truth = sim.truth_last_completed("rolling", None, end)
    assert float(completed[0]["value"][1]) == truth
    assert float(recorded[0]["value"][1]) == truth
