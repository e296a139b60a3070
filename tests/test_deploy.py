"""``crdb-dash deploy`` with the real grafana-client over real HTTP, against the Grafana double."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

from crdb_dash import __version__, build, deploy
from dashboards import ALL
from tests.grafana_double import Faults, GrafanaDouble

CANARY = "glsa_CANARY_7d1f0c2e9b_do_not_print"
FOLDER = "crdb-backups"
N = len(ALL)  # every dashboard, the runbooks among them


def crdb_dash(double_url: str, *args: str, token: str = CANARY, config: str | None = None):
    env = {**os.environ, "GRAFANA_URL": double_url, "GRAFANA_TOKEN": token}
    cmd = [sys.executable, "-m", "crdb_dash.cli"] + (["--config", config] if config else []) + list(args)
    result = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    assert CANARY not in result.stdout + result.stderr, "the token reached the output"
    return result


@pytest.fixture
def grafana():
    with GrafanaDouble(tokens={CANARY: "Admin", "viewer": "Viewer"}) as double:
        yield double


@pytest.fixture(scope="module")
def ours():
    from crdb_dash import config

    return build.dashboards(config.load())


def test_first_deploy_creates_the_folder_and_every_dashboard(grafana, ours):
    result = crdb_dash(grafana.url, "deploy")
    assert result.returncode == 0, result.stderr
    assert f"{len(ours)} created, 0 updated, 0 unchanged, 0 refused, 0 failed" in result.stdout
    assert list(grafana.folders) == [FOLDER]
    assert set(grafana.dashboards) == set(ours)
    for uid, stored in grafana.dashboards.items():
        assert stored.folder_uid == FOLDER
        assert deploy.fingerprint(stored.dashboard) == deploy.fingerprint(ours[uid])
        assert stored.versions[-1]["message"].startswith(f"crdb-dash {__version__} sha256:")
    assert all(h.get("Authorization") == f"Bearer {CANARY}" for _, _, h in grafana.requests)
    assert all(h.get("User-Agent", "").startswith("crdb-dash/") for _, _, h in grafana.requests)


def test_second_deploy_writes_nothing(grafana):
    crdb_dash(grafana.url, "deploy")
    before = len(grafana.writes())
    result = crdb_dash(grafana.url, "deploy")
    assert result.returncode == 0
    assert len(grafana.writes()) == before
    assert f"0 created, 0 updated, {N} unchanged" in result.stdout
    assert {s.version for s in grafana.dashboards.values()} == {1}


def test_a_changed_dashboard_is_updated_once(grafana, tmp_path):
    crdb_dash(grafana.url, "deploy")
    config = tmp_path / "c.yaml"
    config.write_text("rpo: {warning: 90m}\n")
    result = crdb_dash(grafana.url, "deploy", config=str(config))
    assert result.returncode == 0, result.stdout + result.stderr
    changed = [uid for uid, s in grafana.dashboards.items() if s.version == 2]
    assert sorted(changed) == ["crdb-backups-overview", "crdb-backups-schedules"]
    assert result.stdout.count(": updated") == 2
    again = crdb_dash(grafana.url, "deploy", config=str(config))
    assert f"0 updated, {N} unchanged" in again.stdout


def test_a_dashboard_edited_in_the_ui_is_refused_without_force(grafana):
    crdb_dash(grafana.url, "deploy")
    grafana.edit_in_ui("crdb-backups-overview", "My own overview")
    result = crdb_dash(grafana.url, "deploy")
    assert result.returncode == 1
    assert "crdb-backups-overview: refused (changed in Grafana since the last deploy" in result.stdout
    assert '-  "title": "My own overview",' in result.stdout
    assert grafana.dashboards["crdb-backups-overview"].dashboard["title"] == "My own overview"
    forced = crdb_dash(grafana.url, "deploy", "--force")
    assert forced.returncode == 0 and "crdb-backups-overview: updated" in forced.stdout
    assert grafana.dashboards["crdb-backups-overview"].dashboard["title"] == "CockroachDB Backups / Overview"


def test_a_provisioned_copy_is_reported_not_fought(grafana, ours):
    grafana.folders[FOLDER] = {"uid": FOLDER, "title": "x", "id": 1}
    grafana.provision("crdb-backups-overview", {**ours["crdb-backups-overview"], "title": "Old"}, FOLDER)
    result = crdb_dash(grafana.url, "deploy")
    assert result.returncode == 1
    assert "crdb-backups-overview: refused (provisioned from files" in result.stdout
    assert grafana.dashboards["crdb-backups-overview"].dashboard["title"] == "Old"


def test_dashboard_moved_to_another_folder_is_moved_back(grafana):
    crdb_dash(grafana.url, "deploy")
    grafana.dashboards["crdb-backups-schedules"].folder_uid = ""
    result = crdb_dash(grafana.url, "deploy")
    assert result.returncode == 0 and "crdb-backups-schedules: updated" in result.stdout
    assert grafana.dashboards["crdb-backups-schedules"].folder_uid == FOLDER


def test_dry_run_and_diff_write_nothing(grafana):
    for args in (["deploy", "--dry-run"], ["diff"]):
        result = crdb_dash(grafana.url, *args)
        assert result.returncode == 0, result.stderr
        assert "would be created" in result.stdout and f"dry run: {N} created" in result.stdout
        assert '+  "title": "CockroachDB Backups / Overview",' in result.stdout
    assert grafana.writes() == [] and grafana.dashboards == {}


def test_prune_removes_only_our_dashboards_no_longer_defined(grafana, ours):
    crdb_dash(grafana.url, "deploy")
    extra = {**ours["crdb-backups-overview"], "uid": "crdb-backups-gone", "title": "Gone"}
    grafana.dashboards["crdb-backups-gone"] = type(grafana.dashboards["crdb-backups-overview"])(
        extra, FOLDER, 1, versions=[{"version": 1, "message": "", "createdBy": "x"}])
    other = {**extra, "uid": "someone-else", "title": "Theirs", "tags": ["mine"]}
    grafana.dashboards["someone-else"] = type(grafana.dashboards["crdb-backups-gone"])(other, FOLDER, 1)
    assert "crdb-backups-gone" in grafana.dashboards
    result = crdb_dash(grafana.url, "deploy")
    assert "crdb-backups-gone" in grafana.dashboards and "deleted" not in result.stdout
    result = crdb_dash(grafana.url, "deploy", "--prune")
    assert result.returncode == 0 and "crdb-backups-gone: deleted" in result.stdout
    assert "crdb-backups-gone" not in grafana.dashboards and "someone-else" in grafana.dashboards


def test_bad_token_is_one_line_and_nonzero(grafana):
    result = crdb_dash(grafana.url, "deploy", token="wrong")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "401" in result.stderr and "GRAFANA_TOKEN" in result.stderr
    assert grafana.writes() == []


def test_viewer_token_is_refused_with_403(grafana):
    result = crdb_dash(grafana.url, "deploy", token="viewer")
    assert result.returncode == 2 and "403" in result.stderr and result.stderr.count("\n") == 1


def test_unreachable_grafana_is_one_line_and_nonzero():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = crdb_dash(f"http://127.0.0.1:{port}", "deploy", "--timeout", "0.5")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "could not connect" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("env, message", [
    ({"GRAFANA_URL": ""}, "no Grafana URL"),
    ({"GRAFANA_TOKEN": ""}, "no Grafana token"),
    ({"GRAFANA_URL": "ftp://x"}, "must be an http:// or https:// URL"),
])
def test_missing_settings(env, message):
    full = {**os.environ, "GRAFANA_URL": "http://127.0.0.1:9", "GRAFANA_TOKEN": CANARY, **env}
    result = subprocess.run([sys.executable, "-m", "crdb_dash.cli", "deploy"], capture_output=True, text=True,
                            env=full)
    assert result.returncode == 2 and message in result.stderr and CANARY not in result.stderr


def test_token_file_and_org_id(grafana, tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text(CANARY + "\n")
    result = crdb_dash(grafana.url, "deploy", "--token-file", str(token_file), "--org-id", "3", token="")
    assert result.returncode == 0, result.stderr
    assert all(h.get("X-Grafana-Org-Id") == "3" for _, _, h in grafana.requests)
    missing = crdb_dash(grafana.url, "deploy", "--token-file", str(tmp_path / "nope"))
    assert missing.returncode == 2 and "cannot read --token-file" in missing.stderr


def test_converges_with_30_percent_injected_faults_and_no_duplicates(ours):
    faults = Faults(rate=0.3, seed=7, slow_seconds=1.5)
    with GrafanaDouble(tokens={CANARY: "Admin"}, faults=faults) as grafana:
        result = crdb_dash(grafana.url, "deploy", "--timeout", "0.5")
        assert result.returncode == 0, result.stdout + result.stderr
        assert list(grafana.folders) == [FOLDER]
        assert set(grafana.dashboards) == set(ours)
        titles = [s.dashboard["title"] for s in grafana.dashboards.values()]
        assert len(titles) == len(set(titles))
        for uid, stored in grafana.dashboards.items():
            assert deploy.fingerprint(stored.dashboard) == deploy.fingerprint(ours[uid])
        assert grafana.injected >= 3
        faults.rate = 0.0
        again = crdb_dash(grafana.url, "deploy")
        assert f"{N} unchanged" in again.stdout


def test_https_certificates_are_verified_unless_insecure(tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                    str(cert), "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    with GrafanaDouble(tokens={CANARY: "Admin"}, tls=(str(cert), str(key))) as grafana:
        refused = crdb_dash(grafana.url, "deploy", "--timeout", "2")
        assert refused.returncode == 2 and refused.stderr.count("\n") == 1, refused.stderr
        assert "certificate" in refused.stderr.lower() and grafana.dashboards == {}
        insecure = crdb_dash(grafana.url, "deploy", "--insecure")
        assert insecure.returncode == 0, insecure.stderr
        assert len(grafana.dashboards) == N
