"""``crdb-dash deploy`` with the real grafana-client over real HTTP, against the Grafana double."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from crdb_dash import __version__
from crdb_dash.dashboards import ALL
from crdb_dash.delivery import deploy
from crdb_dash.pipeline import compiled
from tests.grafana_double import Faults, GrafanaDouble
from tests.stub_server import StubServer

CANARY = "glsa_CANARY_7d1f0c2e9b_do_not_print"
PASSWORD = "pw-CANARY-3e8a51-do-not-print"
FOLDER = "crdb-backups"
N = len(ALL)  # every dashboard, the runbooks among them
NO_BASIC_AUTH = {"GRAFANA_USER": "", "GRAFANA_PASSWORD": ""}  # whatever the developer's shell has


def crdb_dash(double_url: str, *args: str, token: str = CANARY, config: str | None = None, env: dict | None = None):
    env = {**os.environ, **NO_BASIC_AUTH, "GRAFANA_URL": double_url, "GRAFANA_TOKEN": token, **(env or {})}
    cmd = [sys.executable, "-m", "crdb_dash.cli"] + (["--config", config] if config else []) + list(args)
    result = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    assert CANARY not in result.stdout + result.stderr, "the token reached the output"
    assert PASSWORD not in result.stdout + result.stderr, "the password reached the output"
    return result


def reported(result) -> list[str]:
    """The uids of the dashboard lines of a report, in the order printed."""
    return [line.split(":")[0] for line in result.stdout.splitlines() if line.startswith("crdb-backups-")]


def add_ours(grafana, ours, uid: str, title: str) -> None:
    """A dashboard as deploy would have saved it (our version message), no longer defined."""
    model = {**ours["crdb-backups-overview"], "uid": uid, "title": title}
    grafana.store(model, FOLDER, message=deploy.message(model), by="service-account")


@pytest.fixture
def grafana():
    with GrafanaDouble(tokens={CANARY: "Admin", "viewer": "Viewer"}) as double:
        yield double


@pytest.fixture(scope="module")
def ours(cfg):
    return compiled.dashboards(cfg)


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
    # the Fleet reads the targets the recording rules keep: it does not change with them
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


def test_a_provisioned_copy_is_skipped_once_not_fought(grafana, ours):
    grafana.folders[FOLDER] = {"uid": FOLDER, "title": "x", "id": 1}
    grafana.provision("crdb-backups-overview", {**ours["crdb-backups-overview"], "title": "Old"}, FOLDER)
    result = crdb_dash(grafana.url, "deploy", "--prune")
    assert result.returncode == 0, result.stdout
    assert result.stdout.count("crdb-backups-overview") == 1
    assert "crdb-backups-overview: skipped (provisioned from files in Grafana)" in result.stdout
    assert "use either file provisioning or deploy, not both" in result.stdout
    assert '"title"' not in result.stdout
    assert f"{N - 1} created, 0 updated, 0 unchanged, 0 refused, 0 failed, 1 skipped" in result.stdout
    assert grafana.dashboards["crdb-backups-overview"].dashboard["title"] == "Old"
    grafana.edit_in_ui("crdb-backups-schedules", "Mine")
    assert crdb_dash(grafana.url, "deploy").returncode == 1  # something else was refused


def test_dashboard_moved_to_another_folder_is_moved_back(grafana):
    crdb_dash(grafana.url, "deploy")
    grafana.dashboards["crdb-backups-schedules"].folder_uid = ""
    result = crdb_dash(grafana.url, "deploy")
    assert result.returncode == 0 and "crdb-backups-schedules: updated" in result.stdout
    assert grafana.dashboards["crdb-backups-schedules"].folder_uid == FOLDER


def test_dry_run_and_diff_write_nothing_and_summarise_new_dashboards(grafana, ours):
    for args in (["deploy", "--dry-run"], ["diff"]):
        result = crdb_dash(grafana.url, *args)
        assert result.returncode == 0, result.stderr
        assert f"dry run: {N} to create" in result.stdout
        assert "crdb-backups-overview: would be created ('CockroachDB Backups / Overview', 18 panels)" in result.stdout
        assert reported(result) == list(ours)
        assert '"title"' not in result.stdout and len(result.stdout.splitlines()) == N + 2
        full = crdb_dash(grafana.url, *args, "--full")
        assert '+  "title": "CockroachDB Backups / Overview",' in full.stdout
    assert grafana.writes() == [] and grafana.dashboards == {}


def test_diff_shows_full_diffs_for_changed_dashboards(grafana, tmp_path):
    crdb_dash(grafana.url, "deploy")
    config = tmp_path / "c.yaml"
    config.write_text("rpo: {warning: 90m}\n")
    result = crdb_dash(grafana.url, "diff", config=str(config))
    assert result.returncode == 0 and f"dry run: 0 to create, 2 to update, {N - 2} unchanged" in result.stdout
    assert "--- crdb-backups-overview (Grafana)\n+++ crdb-backups-overview (ours)" in result.stdout


def test_reports_follow_the_definition_order_whatever_answers_first(ours):
    slow_first = Faults(script=[("GET", "/api/dashboards/uid/crdb-backups-overview", "slow", False)],
                        slow_seconds=1.0)
    with GrafanaDouble(tokens={CANARY: "Admin"}, faults=slow_first) as grafana:
        result = crdb_dash(grafana.url, "deploy")
        assert result.returncode == 0, result.stdout + result.stderr
        assert reported(result) == list(ours)


def test_prune_deletes_only_what_deploy_created(grafana, ours):
    crdb_dash(grafana.url, "deploy")
    add_ours(grafana, ours, "crdb-backups-gone", "Gone")
    copy = {**ours["crdb-backups-overview"], "uid": "x7Kq2mZ", "title": "Overview (copy)"}  # "Save as": tags too
    grafana.store(copy, FOLDER)
    grafana.store({**copy, "uid": "crdb-backups-mine", "title": "Mine"}, FOLDER)  # our prefix, not saved by us
    result = crdb_dash(grafana.url, "deploy")
    assert "crdb-backups-gone" in grafana.dashboards and "deleted" not in result.stdout
    dry = crdb_dash(grafana.url, "deploy", "--prune", "--dry-run")
    assert "crdb-backups-gone: would be deleted" in dry.stdout and "x7Kq2mZ" not in dry.stdout
    assert "crdb-backups-mine: kept (not created by crdb-dash" in dry.stdout
    assert "crdb-backups-gone" in grafana.dashboards
    result = crdb_dash(grafana.url, "deploy", "--prune")
    assert result.returncode == 0 and "crdb-backups-gone: deleted" in result.stdout
    assert "crdb-backups-gone" not in grafana.dashboards
    assert {"x7Kq2mZ", "crdb-backups-mine"} <= set(grafana.dashboards)


def test_prune_after_a_uid_prefix_change_deletes_nothing(grafana, ours, tmp_path):
    crdb_dash(grafana.url, "deploy")
    config = tmp_path / "c.yaml"
    config.write_text("grafana: {uid_prefix: crdb-new}\n")
    for args in (["deploy", "--prune", "--dry-run"], ["deploy", "--prune"]):
        result = crdb_dash(grafana.url, *args, config=str(config))
        assert result.returncode == 1, result.stdout
        assert "crdb-new-overview: refused ('CockroachDB Backups / Overview' is already the title of " \
               "crdb-backups-overview in folder crdb-backups, and Grafana allows one per folder" in result.stdout
        assert f"prune: nothing deleted, because {N} dashboard(s) could not be saved" in result.stdout
        assert "deleted" not in result.stdout.replace("nothing deleted", "")
    assert set(grafana.dashboards) == set(ours)


def test_force_never_takes_over_another_dashboard_with_our_title(grafana, ours):
    grafana.folders[FOLDER] = {"uid": FOLDER, "title": "x", "id": 1}
    theirs = {"uid": "theirs", "title": "CockroachDB Backups / Overview", "panels": []}
    grafana.store(theirs, FOLDER)  # Grafana would replace it, uid and all, on a save with overwrite
    result = crdb_dash(grafana.url, "deploy", "--force")
    assert result.returncode == 1
    assert "crdb-backups-overview: refused ('CockroachDB Backups / Overview' is already the title of theirs" \
        in result.stdout
    assert grafana.dashboards["theirs"].dashboard["panels"] == [] and "crdb-backups-overview" not in grafana.dashboards
    grafana.dashboards.pop("theirs")
    crdb_dash(grafana.url, "deploy")
    grafana.edit_in_ui("crdb-backups-schedules", "Renamed")  # frees the title, which a user then takes
    grafana.store({**theirs, "uid": "theirs2", "title": "CockroachDB backups: schedules"}, FOLDER)
    result = crdb_dash(grafana.url, "deploy", "--force")
    assert "crdb-backups-schedules: refused ('CockroachDB Backups / Schedules' is already the title of theirs2" \
        in result.stdout
    assert grafana.dashboards["theirs2"].dashboard["panels"] == []


def test_prune_keeps_everything_when_a_save_failed(grafana, ours):
    crdb_dash(grafana.url, "deploy")
    add_ours(grafana, ours, "crdb-backups-gone", "Gone")
    grafana.edit_in_ui("crdb-backups-schedules", "Edited in the UI")
    result = crdb_dash(grafana.url, "deploy", "--prune")
    assert result.returncode == 1
    assert "crdb-backups-gone: kept (no longer defined, but not deleted while 1 dashboard(s) could not be saved)" \
        in result.stdout
    assert "prune: nothing deleted, because 1 dashboard(s) could not be saved; kept crdb-backups-gone" in result.stdout
    assert "crdb-backups-gone" in grafana.dashboards


def test_prune_with_no_tags_configured(grafana, ours, tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text("tags: []\n")
    crdb_dash(grafana.url, "deploy", config=str(config))
    add_ours(grafana, ours, "crdb-backups-gone", "Gone")
    grafana.store({**ours["crdb-backups-overview"], "uid": "theirs", "title": "Theirs", "tags": []}, FOLDER)
    result = crdb_dash(grafana.url, "deploy", "--prune", config=str(config))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "crdb-backups-gone: deleted" in result.stdout
    assert set(grafana.dashboards) == set(ours) | {"theirs"}


def test_a_retried_delete_answered_404_counts_as_deleted(ours):
    lost = Faults(script=[("DELETE", "/api/dashboards/uid/crdb-backups-gone", "drop", True)])
    with GrafanaDouble(tokens={CANARY: "Admin"}, faults=lost) as grafana:
        crdb_dash(grafana.url, "deploy")
        add_ours(grafana, ours, "crdb-backups-gone", "Gone")
        result = crdb_dash(grafana.url, "deploy", "--prune")
        assert grafana.injected == 1
        assert result.returncode == 0, result.stdout
        assert "crdb-backups-gone: deleted" in result.stdout and "0 failed, 1 deleted" in result.stdout
        deletes = [p for m, p in grafana.writes() if m == "DELETE"]
        assert deletes == ["/api/dashboards/uid/crdb-backups-gone"] * 2


def test_prune_pages_through_search_results(grafana, ours):
    crdb_dash(grafana.url, "deploy")
    for n in range(1000):  # more than one page of Grafana's default search limit, all sorted before ours
        grafana.store({"uid": f"other-{n:04}", "title": f"A {n:04}", "tags": ours["crdb-backups-overview"]["tags"],
                       "panels": []}, FOLDER)
    add_ours(grafana, ours, "crdb-backups-gone", "Zz gone")
    result = crdb_dash(grafana.url, "deploy", "--prune")
    assert result.returncode == 0 and "crdb-backups-gone: deleted" in result.stdout
    assert "crdb-backups-gone" not in grafana.dashboards and len(grafana.dashboards) == 1000 + N


def test_bad_token_is_one_line_and_nonzero(grafana):
    result = crdb_dash(grafana.url, "deploy", token="wrong")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "401" in result.stderr and "GRAFANA_TOKEN" in result.stderr
    assert grafana.writes() == []


def test_viewer_token_is_refused_with_403(grafana):
    result = crdb_dash(grafana.url, "deploy", token="viewer")
    assert result.returncode == 2 and "403" in result.stderr and result.stderr.count("\n") == 1
    assert "needs the Editor role" in result.stderr


def test_viewer_token_on_an_existing_folder_is_one_line(grafana, tmp_path):
    crdb_dash(grafana.url, "deploy")
    config = tmp_path / "c.yaml"
    config.write_text("tags: [cockroachdb, backups, prod]\n")  # every dashboard changes
    before = len(grafana.writes())
    result = crdb_dash(grafana.url, "deploy", config=str(config), token="viewer")
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.count("\n") == 1 and "failed" not in result.stdout, result.stdout
    assert "the token may not save dashboards in folder 'CockroachDB Backups' (uid crdb-backups): Grafana " \
           "answered 403; it needs the Editor role, or Edit permission on that folder" in result.stderr
    assert len(grafana.writes()) > before and {s.version for s in grafana.dashboards.values()} == {1}


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
    result = crdb_dash("http://127.0.0.1:9", "deploy", env=env)  # which also fails if the token is printed
    assert result.returncode == 2 and message in result.stderr


def test_token_file_and_org_id(grafana, tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text(CANARY + "\n")
    result = crdb_dash(grafana.url, "deploy", "--token-file", str(token_file), "--org-id", "3", token="")
    assert result.returncode == 0, result.stderr
    assert all(h.get("X-Grafana-Org-Id") == "3" for _, _, h in grafana.requests)
    missing = crdb_dash(grafana.url, "deploy", "--token-file", str(tmp_path / "nope"))
    assert missing.returncode == 2 and "cannot read --token-file" in missing.stderr
    empty = tmp_path / "empty"
    empty.write_text("\n")
    result = crdb_dash(grafana.url, "deploy", "--token-file", str(empty), token="")
    assert result.returncode == 2 and result.stderr.strip() == f"crdb-dash: error: token file {empty} is empty"


def test_basic_auth_from_the_environment_or_a_file(tmp_path, ours):
    with GrafanaDouble(tokens={"t": "Admin"}, users={"admin": (PASSWORD, "Admin"), "bob": ("bobpass", "Viewer")}) \
            as grafana:
        basic = {"GRAFANA_USER": "admin", "GRAFANA_PASSWORD": PASSWORD}
        result = crdb_dash(grafana.url, "deploy", token="", env=basic)
        assert result.returncode == 0, result.stderr
        assert set(grafana.dashboards) == set(ours)
        assert all(h["Authorization"].startswith("Basic ") for _, _, h in grafana.requests)
        password_file = tmp_path / "password"
        password_file.write_text(PASSWORD + "\n")
        from_file = crdb_dash(grafana.url, "diff", "--password-file", str(password_file), token="",
                              env={"GRAFANA_USER": "admin", "GRAFANA_PASSWORD": ""})
        assert from_file.returncode == 0 and f"{N} unchanged" in from_file.stdout, from_file.stderr
        wrong = crdb_dash(grafana.url, "deploy", token="", env={**basic, "GRAFANA_PASSWORD": PASSWORD + "x"})
        assert wrong.returncode == 2 and wrong.stderr.count("\n") == 1 and "401" in wrong.stderr
        assert "GRAFANA_USER" in wrong.stderr
        viewer = crdb_dash(grafana.url, "deploy", "--force", token="", env={"GRAFANA_USER": "bob",
                                                                             "GRAFANA_PASSWORD": "bobpass"})
        assert viewer.returncode == 0  # nothing to write
        grafana.edit_in_ui("crdb-backups-overview", "Edited")
        viewer = crdb_dash(grafana.url, "deploy", "--force", token="", env={"GRAFANA_USER": "bob",
                                                                             "GRAFANA_PASSWORD": "bobpass"})
        assert viewer.returncode == 2 and "Grafana user 'bob' may not save dashboards" in viewer.stderr


@pytest.mark.parametrize("env, args, message", [
    ({"GRAFANA_USER": "admin", "GRAFANA_PASSWORD": ""}, [], "no password for GRAFANA_USER 'admin'"),
    ({"GRAFANA_USER": "admin", "GRAFANA_PASSWORD": PASSWORD, "GRAFANA_TOKEN": CANARY}, [],
     "both a token and GRAFANA_USER are set"),
    ({"GRAFANA_USER": ""}, ["--password-file", "/dev/null"], "--password-file is for basic auth"),
    ({"GRAFANA_USER": "admin"}, ["--password-file", "/dev/null"], "password file /dev/null is empty"),
])
def test_basic_auth_settings(env, args, message):
    result = crdb_dash("http://127.0.0.1:9", "deploy", *args, token="", env=env)
    assert result.returncode == 2 and message in result.stderr, result.stderr


def test_the_double_runs_by_hand_on_loopback(ours):
    cmd = [sys.executable, "-m", "tests.grafana_double", "--port", "0"]
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, cwd=Path(__file__).parent.parent) as double:
        try:
            line = double.stdout.readline()
            url = re.search(r"GRAFANA_URL=(\S+)", line).group(1)
            token = re.search(r"GRAFANA_TOKEN=(\S+)", line).group(1)
            assert url.startswith("http://127.0.0.1:")
            assert crdb_dash(url, "deploy", token=token).returncode == 0
            basic = crdb_dash(url, "diff", token="", env={"GRAFANA_USER": "admin", "GRAFANA_PASSWORD": "admin"})
            assert f"dry run: 0 to create, 0 to update, {N} unchanged" in basic.stdout, basic.stdout + basic.stderr
        finally:
            double.terminate()


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


@pytest.mark.parametrize("status, body", [(404, b"<html><body><h1>Not Found</h1></body></html>"),
                                          (200, b"<!doctype html><html><title>Welcome to nginx!</title></html>")])
def test_a_server_that_is_not_grafana_is_one_line_before_any_write(status, body):
    """Issue 21: deploy against a web server that is not Grafana names the problem at once, writing nothing
    (the stub answers GET only: a POST would be answered 501 and retried)."""
    with StubServer(status, body, "text/html") as server:
        result = crdb_dash(server.url, "deploy")
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.count("\n") == 1 and "<" not in result.stderr and "POST" not in result.stderr
    assert f"{server.url} is not Grafana: GET /api/health" in result.stderr
