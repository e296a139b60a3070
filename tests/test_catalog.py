"""The metric catalog against the docs page and METRICS.md."""

import re

import pytest

from crdb_dash.model import catalog
from tests.conftest import ROOT

DOCS = ROOT.parent / "shared" / "reference" / "backup-and-restore-monitoring.md"
METRICS_MD = ROOT.parent / "shared" / "reference" / "METRICS.md"


def test_seed_is_exactly_the_docs_page_metrics():
    if not DOCS.is_file():
        pytest.skip(f"no copy of CockroachDB's backup and restore monitoring page at {DOCS}")
    names = set(re.findall(r"^`([a-zA-Z_.\-]+)` \|", DOCS.read_text(), re.M))
    assert len(names) == 26
    assert {m.name for m in catalog.seed()} == names


def test_exported_names_follow_the_exporter_rule():
    m = catalog.metric("schedules_BACKUP_last_completed_time")
    assert m.name == "schedules.BACKUP.last-completed-time"
    assert catalog.metric("schedules_round_reschedule_skip").type == "gauge"
    for m in catalog.METRICS:
        assert re.fullmatch(r"[a-zA-Z_:][a-zA-Z0-9_:]*", m.exported)
        assert not m.exported.endswith("_total")
    assert len(catalog.BY_NAME) == len(catalog.METRICS)


def test_kinds_follow_who_emits_what():
    kinds = {m.exported: m.kind for m in catalog.METRICS}
    assert kinds["jobs_backup_currently_paused"] is catalog.Kind.POLLER
    assert kinds["jobs_restore_protected_age_sec"] is catalog.Kind.POLLER
    assert kinds["jobs_backup_currently_running"] is catalog.Kind.RUNNING
    assert kinds["schedules_round_reschedule_wait"] is catalog.Kind.CUMULATIVE
    assert kinds["schedules_BACKUP_failed"] is catalog.Kind.COUNTER
    for m in catalog.METRICS:
        assert m.meaning and m.action and m.unit


def test_types_are_the_exported_ones():
    """TYPE follows from the kind; METRICS.md lists what CockroachDB declares."""
    if not METRICS_MD.is_file():
        pytest.skip(f"no copy of the metrics reference at {METRICS_MD}")
    rows = re.findall(r"^\| ([\w, ]+) \| (counter|gauge)", METRICS_MD.read_text(), re.M)
    declared = {name: kind for names, kind in rows for name in names.split(", ")}
    assert len(declared) >= 38
    for m in catalog.METRICS:
        if m.exported in declared:
            assert m.type == declared[m.exported], m.exported
    assert {m.exported for m in catalog.METRICS} - set(declared) <= {"jobs_poll_jobs_stats_currently_running"}


def test_removed_metrics_carry_version_notes():
    assert "v25.4" in catalog.metric("jobs_backup_fail_or_cancel_failed").versions
    assert "v25.4" in catalog.metric("jobs_restore_fail_or_cancel_failed").versions
