"""The committed generated files equal a fresh build, byte for byte."""

import subprocess
import sys

from crdb_dash.pipeline import build
from tests.conftest import ROOT


def test_committed_files_equal_a_fresh_build(cfg):
    diff = build.compare(build.render(cfg), ROOT)
    assert diff == "", "generated files are stale; run 'make golden' and read the diff:\n" + diff[:6000]


def test_build_is_deterministic_and_rebuild_writes_nothing(tmp_path):
    cmd = [sys.executable, "-m", "crdb_dash.cli", "build", "--out", str(tmp_path)]
    first = subprocess.run(cmd, capture_output=True, text=True, check=True)
    snapshot = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    second = subprocess.run(cmd, capture_output=True, text=True, check=True)
    assert "0 written, 0 removed" in second.stdout and "wrote" in first.stdout
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == snapshot
    assert not [p for p in tmp_path.rglob(".*") if p.is_file()], "temporary files left behind"


def test_check_reports_a_readable_diff_for_a_stale_file(tmp_path):
    cmd = [sys.executable, "-m", "crdb_dash.cli", "build", "--out", str(tmp_path)]
    subprocess.run(cmd, capture_output=True, check=True)
    victim = tmp_path / build.DASHBOARD_DIR / "crdb-backups-overview.json"
    victim.write_text(victim.read_text().replace("Time since last completed backup", "Old title", 1))
    result = subprocess.run(cmd + ["--check"], capture_output=True, text=True)
    assert result.returncode == 1
    assert '-      "title": "Old title"' in result.stdout or "Old title" in result.stdout
    assert f"run 'crdb-dash build --out {tmp_path}'" in result.stderr  # what works from a wheel as from a clone


def test_stale_dashboard_files_are_removed(tmp_path):
    cmd = [sys.executable, "-m", "crdb_dash.cli", "build", "--out", str(tmp_path)]
    subprocess.run(cmd, capture_output=True, check=True)
    stale = tmp_path / build.DASHBOARD_DIR / "crdb-backups-gone.json"
    stale.write_text("{}")
    subprocess.run(cmd, capture_output=True, check=True)
    assert not stale.exists()
