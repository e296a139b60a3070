"""``crdb-dash deploy`` of Grafana-managed alert rules, through the real grafana-client over real HTTP, against
the Grafana double's alerting provisioning API."""

from __future__ import annotations

import json
import urllib.request

import pytest
import yaml

from crdb_dash.delivery import alert_rules
from crdb_dash.model import config
from crdb_dash.pipeline import rules
from tests.grafana_double import Faults, GrafanaDouble
from tests.test_deploy import CANARY, FOLDER, N, crdb_dash

SOMEONE = "someone-elses-token"  # another API client: a script, Terraform
RULES_API = "/api/v1/provisioning/"
RETIRED = "crdb-retired-00000000"


@pytest.fixture
def grafana():
    with GrafanaDouble(tokens={CANARY: "Admin", SOMEONE: "Admin", "viewer": "Viewer"}) as double:
        yield double


@pytest.fixture
def managed(tmp_path):
    """Writes a config with Grafana-managed alerts (and ``extra`` YAML under alerts) and returns its path."""

    def write(extra: str = "", name: str = "managed.yaml") -> str:
        path = tmp_path / name
        path.write_text("alerts: {grafana_managed: true%s}\n" % (", " + extra if extra else ""))
        return str(path)

    return write


def provisioned(path: str) -> list[dict]:
    """The rules of the alert-rule provisioning file a build writes with this config."""
    text = rules.render(config.load(path))[rules.GRAFANA_FILE]
    (group,) = yaml.safe_load(text)["groups"]
    return group["rules"]


def rule_writes(grafana) -> list[tuple[str, str]]:
    return [(m, p) for m, p in grafana.writes() if p.startswith(RULES_API)]


def as_someone_else(grafana, uid: str, change) -> None:
    """Another API client reads a rule, changes it and writes it back (the UI cannot: the rule is read-only)."""
    rule = grafana.rule(uid)
    change(rule)
    request = urllib.request.Request(f"{grafana.url}{RULES_API}alert-rules/{uid}", json.dumps(rule).encode(),
                                     {"Authorization": f"Bearer {SOMEONE}", "Content-Type": "application/json"},
                                     method="PUT")
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status == 200


def users_rule(uid: str, group: str, folder: str = FOLDER) -> dict:
    return {"uid": uid, "title": "My own alert", "condition": "A", "folderUID": folder, "ruleGroup": group,
            "data": [{"refId": "A", "datasourceUid": "prom", "relativeTimeRange": {"from": 600, "to": 0},
                      "model": {"refId": "A", "expr": "up == 0"}}],
            "noDataState": "NoData", "execErrState": "Error", "for": "5m", "labels": {"team": "me"},
            "annotations": {"summary": "mine"}}


def add_retired(grafana, path: str) -> None:
    """A rule as an earlier deploy wrote it (our uid prefix, our mark), no longer defined."""
    rule = {**alert_rules.desired(config.load(path))[0], "uid": RETIRED, "title": "CockroachBackupRetired"}
    grafana.add_rule(alert_rules.marked(rule), provenance="api")


def threshold(rule: dict) -> float:
    (condition,) = [q for q in rule["data"] if q["refId"] == rule["condition"]]
    return condition["model"]["conditions"][0]["evaluator"]["params"][0]


def test_deploy_creates_every_rule_once_in_our_folder_and_group_with_the_interval(grafana, managed):
    path = managed("evaluation_interval: 2m")
    wanted = provisioned(path)
    result = crdb_dash(grafana.url, "deploy", config=path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"; alert rules: {len(wanted)} created, 0 updated, 0 unchanged, 0 refused, 0 failed" in result.stdout
    posts = [p for m, p in rule_writes(grafana) if m == "POST"]
    assert posts == [f"{RULES_API}alert-rules"] * len(wanted)
    assert list(grafana.rules) == [r["uid"] for r in wanted]
    assert f"alert rule {wanted[0]['uid']}: created ('{wanted[0]['title']}', " in result.stdout
    assert "rule group cockroachdb-backups: updated (interval 60s -> 120s)" in result.stdout
    for rule in wanted:
        stored = grafana.rules[rule["uid"]]
        assert (stored.rule["folderUID"], stored.rule["ruleGroup"], stored.provenance) == (FOLDER, rules.GROUP, "api")
        assert stored.interval == 120
        assert stored.rule["title"] == rule["title"] and threshold(stored.rule) == threshold(rule)
        assert {k: v for k, v in stored.rule["annotations"].items() if k != alert_rules.MARK} == rule["annotations"]
        assert alert_rules.as_we_left_it(grafana.rule(rule["uid"]))
    assert all("X-Disable-Provenance" not in h for m, p, h in grafana.requests if p.startswith(RULES_API))
    before = len(grafana.writes())
    again = crdb_dash(grafana.url, "deploy", config=path)
    assert again.returncode == 0, again.stdout
    assert len(grafana.writes()) == before
    assert f"; alert rules: 0 created, 0 updated, {len(wanted)} unchanged, 0 refused, 0 failed" in again.stdout
    assert "rule group" not in again.stdout


def test_a_changed_threshold_updates_only_its_rules(grafana, managed):
    crdb_dash(grafana.url, "deploy", config=managed())
    changed = managed("retries: 5", name="retries.yaml")
    result = crdb_dash(grafana.url, "deploy", config=changed)
    assert result.returncode == 0, result.stdout + result.stderr
    updated = [line.split(":")[0].removeprefix("alert rule ") for line in result.stdout.splitlines()
               if line.endswith(": updated")]
    assert len(updated) == 2 and all("retrying" in uid for uid in updated)
    assert rule_writes(grafana)[-2:] == [("PUT", f"{RULES_API}alert-rules/{uid}") for uid in updated]
    assert all(threshold(grafana.rule(uid)) == 5 for uid in updated)
    again = crdb_dash(grafana.url, "deploy", config=changed)
    assert f"alert rules: 0 created, 0 updated, {len(grafana.rules)} unchanged" in again.stdout


def test_a_rule_changed_by_someone_else_is_refused_with_a_diff_unless_force(grafana, managed):
    path = managed()
    crdb_dash(grafana.url, "deploy", config=path)
    uid = provisioned(path)[0]["uid"]
    as_someone_else(grafana, uid, lambda rule: rule.update(title="Someone's title", isPaused=True))
    result = crdb_dash(grafana.url, "deploy", config=path)
    assert result.returncode == 1, result.stdout
    assert f"alert rule {uid}: refused (changed in Grafana since the last deploy (through the API, at " in result.stdout
    assert '-  "title": "Someone\'s title",' in result.stdout and '-  "isPaused": true,' in result.stdout
    assert f"--- {uid} (Grafana)\n+++ {uid} (ours)" in result.stdout
    assert "alert rules: 0 created, 0 updated, 26 unchanged, 1 refused, 0 failed" in result.stdout
    assert grafana.rule(uid)["title"] == "Someone's title"
    forced = crdb_dash(grafana.url, "deploy", "--force", config=path)
    assert forced.returncode == 0 and f"alert rule {uid}: updated" in forced.stdout, forced.stdout
    assert grafana.rule(uid)["title"] == provisioned(path)[0]["title"] and not grafana.rule(uid)["isPaused"]


def test_a_users_rules_in_our_folder_are_never_touched_even_with_prune_or_force(grafana, managed):
    path = managed()
    crdb_dash(grafana.url, "deploy", config=path)
    grafana.add_rule(users_rule("u1", rules.GROUP))  # made in the UI, in our group
    grafana.add_rule(users_rule("crdb-mine", "mine"))  # our prefix, the user's group
    grafana.add_rule({**users_rule("crdb-terraform", rules.GROUP), "title": "Made by Terraform"}, provenance="api")
    imported = {**alert_rules.desired(config.load(path))[0], "uid": "crdb-imported"}  # a copy of ours, in the UI
    grafana.add_rule(alert_rules.marked(imported))
    elsewhere = {**imported, "uid": "crdb-elsewhere", "folderUID": "other"}  # as deployed to another folder
    grafana.add_rule(alert_rules.marked(elsewhere), provenance="api")
    add_retired(grafana, path)
    untouched = ("u1", "crdb-mine", "crdb-imported", "crdb-elsewhere")
    theirs = {uid: grafana.rule(uid) for uid in (*untouched, "crdb-terraform")}
    result = crdb_dash(grafana.url, "deploy", "--prune", "--force", config=path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"alert rule {RETIRED}: deleted (no longer defined)" in result.stdout
    assert "alert rule crdb-terraform: kept (not written by crdb-dash, or changed in Grafana since" in result.stdout
    assert all(uid not in result.stdout for uid in untouched)
    assert {uid: grafana.rule(uid) for uid in theirs} == theirs
    assert RETIRED not in grafana.rules
    assert [w for w in rule_writes(grafana) if any(w[1].endswith(f"/{uid}") for uid in theirs)] == []
    assert "alert rules: 0 created, 0 updated, 27 unchanged, 0 refused, 0 failed, 1 deleted, 1 kept" in result.stdout


def test_the_interval_of_a_group_holding_a_users_rule_is_left_alone(grafana, managed):
    grafana.folders[FOLDER] = {"uid": FOLDER, "title": "x", "id": 1}
    grafana.add_rule(users_rule("u1", rules.GROUP))
    result = crdb_dash(grafana.url, "deploy", config=managed("evaluation_interval: 5m"))
    assert result.returncode == 1, result.stdout
    assert "rule group cockroachdb-backups: refused (interval 60s -> 300s not made: the group also holds 1 rule(s) " \
           "deploy does not manage (u1), which it would re-time and make read-only in Grafana's UI)" in result.stdout
    assert ("PUT", f"{RULES_API}folder/{FOLDER}/rule-groups/{rules.GROUP}") not in grafana.writes()
    assert (grafana.rules["u1"].provenance, grafana.rules["u1"].interval) == ("", 60)


def test_a_uid_taken_elsewhere_or_by_a_ui_rule_is_refused_and_never_moved(grafana, managed):
    path = managed()
    first, second, third = (r["uid"] for r in provisioned(path)[:3])
    grafana.folders["other"] = {"uid": "other", "title": "Other", "id": 9}
    grafana.add_rule({**users_rule(first, "theirs", folder="other"), "title": "Theirs"}, provenance="api")
    grafana.add_rule(users_rule(second, rules.GROUP))  # our uid, made in the UI (or imported) in our folder
    grafana.add_rule(users_rule(third, rules.GROUP), provenance="file")
    before = {uid: grafana.rule(uid) for uid in (first, second, third)}
    result = crdb_dash(grafana.url, "deploy", "--force", "--prune", config=path)
    assert result.returncode == 1, result.stdout
    assert f"alert rule {first}: refused (its uid is taken by alert rule 'Theirs' in folder other, group 'theirs', " \
           "which deploy never moves or overwrites" in result.stdout
    assert f"alert rule {second}: refused (its uid is taken by a rule not written through the API (provenance none" \
           in result.stdout
    assert f"alert rule {third}: skipped (provisioned from files in Grafana)" in result.stdout
    assert "1 alert rule(s) are provisioned from files in Grafana, so deploy leaves them alone" in result.stdout
    assert {uid: grafana.rule(uid) for uid in before} == before
    assert "alert rules: 24 created, 0 updated, 0 unchanged, 2 refused, 0 failed, 1 skipped" in result.stdout
    assert sum(1 for line in result.stdout.splitlines() if line.startswith(f"alert rule {first}")) == 1


def test_prune_deletes_only_retired_rules_of_ours_and_nothing_while_a_save_failed(grafana, managed):
    path = managed()
    crdb_dash(grafana.url, "deploy", config=path)
    add_retired(grafana, path)
    plain = crdb_dash(grafana.url, "deploy", config=path)
    assert plain.returncode == 0 and RETIRED in grafana.rules and "deleted" not in plain.stdout
    uid = provisioned(path)[0]["uid"]
    as_someone_else(grafana, uid, lambda rule: rule.update(title="Edited"))
    for args in (["--prune", "--dry-run"], ["--prune"]):
        result = crdb_dash(grafana.url, "deploy", *args, config=path)
        assert result.returncode == 1, result.stdout
        assert f"alert rule {RETIRED}: kept (no longer defined, but not deleted while 1 alert rule(s) could not be " \
               "saved)" in result.stdout
        assert "prune: nothing deleted, because 1 alert rule(s) could not be saved" in result.stdout
        assert RETIRED in grafana.rules
    dry = crdb_dash(grafana.url, "deploy", "--prune", "--dry-run", "--force", config=path)
    assert f"alert rule {RETIRED}: would be deleted (no longer defined)" in dry.stdout and RETIRED in grafana.rules
    forced = crdb_dash(grafana.url, "deploy", "--prune", "--force", config=path)
    assert forced.returncode == 0 and f"alert rule {RETIRED}: deleted (no longer defined)" in forced.stdout
    assert RETIRED not in grafana.rules and len(grafana.rules) == len(provisioned(path))


def test_diff_and_dry_run_write_nothing_and_show_rule_changes(grafana, managed):
    path = managed("evaluation_interval: 2m")
    n = len(provisioned(path))
    for args in (["diff"], ["deploy", "--dry-run"]):
        result = crdb_dash(grafana.url, *args, config=path)
        assert result.returncode == 0, result.stdout + result.stderr
        assert grafana.writes() == []
        assert f"dry run: {N} to create, 0 to update, 0 unchanged, 0 refused, 0 failed; alert rules: {n} to create" \
            in result.stdout
        assert f"alert rule {provisioned(path)[0]['uid']}: would be created ('" in result.stdout
        assert '"condition"' not in result.stdout
        full = crdb_dash(grafana.url, *args, "--full", config=path)
        assert '+  "condition": "C",' in full.stdout and grafana.writes() == []
    crdb_dash(grafana.url, "deploy", config=managed())
    before = len(grafana.writes())
    diff = crdb_dash(grafana.url, "diff", config=managed("evaluation_interval: 2m, retries: 5", name="r.yaml"))
    assert diff.returncode == 0 and len(grafana.writes()) == before, diff.stdout
    assert "alert rules: 0 to create, 2 to update" in diff.stdout and "would be updated" in diff.stdout
    assert "-                3\n+                5" in diff.stdout
    assert "rule group cockroachdb-backups: would be updated (interval 60s -> 120s)" in diff.stdout


def test_prometheus_managed_says_once_that_rules_are_left_and_prune_deletes_them(grafana, managed):
    crdb_dash(grafana.url, "deploy", config=managed())
    grafana.add_rule(users_rule("u1", rules.GROUP))
    n, before = len(grafana.rules) - 1, len(grafana.writes())
    result = crdb_dash(grafana.url, "deploy")
    assert result.returncode == 0, result.stdout + result.stderr
    notice = [line for line in result.stdout.splitlines() if "alert rule" in line]
    assert notice == [f"{n} alert rule(s) of crdb-dash are in Grafana (folder {FOLDER}, group {rules.GROUP}) while "
                      "alerts.grafana_managed is false: Prometheus evaluates the same alerts, so each would fire "
                      "twice; deploy --prune deletes them"]
    assert result.stdout.splitlines()[-1] == f"0 created, 0 updated, {N} unchanged, 0 refused, 0 failed"
    assert len(grafana.writes()) == before and len(grafana.rules) == n + 1
    pruned = crdb_dash(grafana.url, "deploy", "--prune")
    assert pruned.returncode == 0, pruned.stdout
    assert pruned.stdout.count(": deleted (alerts.grafana_managed is false)") == n
    assert pruned.stdout.splitlines()[-1].endswith(f"; alert rules: {n} deleted")
    assert list(grafana.rules) == ["u1"]
    quiet = crdb_dash(grafana.url, "deploy")
    assert "alert rule" not in quiet.stdout and len(quiet.stdout.splitlines()) == N + 1


def test_prometheus_managed_reads_rules_only_and_minds_no_refusal(managed):
    with GrafanaDouble(tokens={CANARY: "Admin"}, faults=Faults(script=[("GET", f"{RULES_API}alert-rules", "5xx",
                                                                        False)] * 6)) as grafana:
        result = crdb_dash(grafana.url, "deploy")
        assert result.returncode == 0 and grafana.injected == 6, result.stdout + result.stderr
        assert "alert rule" not in result.stdout + result.stderr and rule_writes(grafana) == []


def test_a_lost_answer_to_a_create_counts_as_created(managed):
    lost = Faults(script=[("POST", f"{RULES_API}alert-rules", "drop", True)])
    with GrafanaDouble(tokens={CANARY: "Admin"}, faults=lost) as grafana:
        path = managed()
        result = crdb_dash(grafana.url, "deploy", config=path)
        assert result.returncode == 0 and grafana.injected == 1, result.stdout + result.stderr
        n = len(provisioned(path))
        assert f"alert rules: {n} created, 0 updated, 0 unchanged, 0 refused, 0 failed" in result.stdout
        assert len([w for w in rule_writes(grafana) if w[0] == "POST"]) == n + 1 and len(grafana.rules) == n


def test_a_viewer_may_not_write_rules_one_line(grafana, managed):
    path = managed()
    crdb_dash(grafana.url, "deploy", config=path)
    grafana.rules.pop(provisioned(path)[0]["uid"])  # deleted since: to be created again
    result = crdb_dash(grafana.url, "deploy", config=path, token="viewer")
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "the token may not write alert rules in folder 'CockroachDB Backups' (uid crdb-backups): Grafana " \
           "answered 403; Grafana's alerting provisioning API needs the Admin role" in result.stderr


def test_an_interval_grafana_refuses_fails_in_one_line(grafana, managed):
    grafana.min_interval = 60  # a Grafana whose min_interval is above alerts.evaluation_interval
    result = crdb_dash(grafana.url, "deploy", config=managed("evaluation_interval: 30s"))
    assert result.returncode == 1, result.stdout + result.stderr
    (line,) = [line for line in result.stdout.splitlines() if line.startswith("rule group")]
    assert line.startswith("rule group cockroachdb-backups: failed (PUT /api/v1/provisioning/folder/crdb-backups/"
                           "rule-groups/cockroachdb-backups at http://127.0.0.1:") and "answered 400" in line


def test_help_names_the_alert_rules():
    for command in ("deploy", "diff"):
        result = crdb_dash("http://127.0.0.1:9", command, "--help")
        assert result.returncode == 0 and "alert rules" in result.stdout
