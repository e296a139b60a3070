"""Metric names and labels of each setup (NAMING.md), and the config presets that select them."""

import pytest

from crdb_dash.model import config
from crdb_dash.model.naming import Naming, static_form
from tests.conftest import config_error


@pytest.mark.parametrize("flat, family, labels", [
    ("jobs_backup_currently_paused", "jobs", {"name": "backup", "status": "currently_paused"}),
    ("jobs_backup_currently_running", "jobs", {"type": "backup", "status": "currently_running"}),
    ("jobs_restore_currently_idle", "jobs", {"type": "restore", "status": "currently_idle"}),
    ("jobs_backup_resume_retry_error", "jobs_resume", {"name": "backup", "status": "retry_error"}),
    ("jobs_restore_fail_or_cancel_completed", "jobs_fail_or_cancel", {"name": "restore", "status": "completed"}),
    ("jobs_backup_protected_age_sec", "jobs_protected_age_sec", {"type": "backup"}),
    ("jobs_restore_expired_pts_records", "jobs_expired_pts_records", {"type": "restore"}),
    ("jobs_poll_jobs_stats_currently_running", "jobs", {"type": "poll_jobs_stats", "status": "currently_running"}),
    ("schedules_BACKUP_failed", "schedules", {"name": "BACKUP", "status": "failed"}),
    ("schedules_BACKUP_protected_record_count", "schedules_protected_record_count", {"name": "BACKUP"}),
    ("schedules_BACKUP_last_completed_time", "schedules_BACKUP_last_completed_time", {}),
    ("schedules_round_reschedule_skip", "schedules_round_reschedule_skip", {}),
    ("cloud_write_bytes", "cloud_write_bytes", {}),
])
def test_static_labels_form_of_metrics_endpoint(flat, family, labels):
    assert static_form(flat) == (family, labels)


def test_prefix_and_lower_case_exports():
    assert Naming(prefix="crdb_cloud_").selector("schedules_BACKUP_failed", 'job="x"') == \
        'crdb_cloud_schedules_BACKUP_failed{job="x"}'
    assert Naming(prefix="crdb_dedicated_", lower_case=True).family("schedules_BACKUP_last_completed_time") == \
        ("crdb_dedicated_schedules_backup_last_completed_time", {})
    assert Naming(static_labels=True).selector("jobs_backup_currently_paused", 'job="x"') == \
        'jobs{name="backup", status="currently_paused", job="x"}'


def test_a_preset_sets_naming_labels_and_selector_and_the_files_own_keys_win(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("preset: helm\nlabels: {node: instance}\n")
    cfg = config.load(path)
    assert cfg["selector"] == 'job=~".*cockroachdb"' and cfg.cluster == "namespace" and cfg.node == "instance"
    path.write_text("preset: dedicated\n")
    assert config.load(path).naming == Naming(prefix="crdb_dedicated_", lower_case=True)


@pytest.mark.parametrize("text, key", [
    ("preset: kubernetes", "preset"),
    ("naming: {prefix: 'crdb-cloud'}", "naming.prefix"),
    ("naming: {static_labels: yes please}", "naming.static_labels"),
])
def test_bad_naming_settings_are_one_line_errors(tmp_path, text, key):
    assert f"key '{key}'" in config_error(tmp_path / "c.yaml", text + "\n")
