"""Grafana-managed alert rules through Grafana's alerting provisioning API, deployed as safely as the dashboards.

Each rule of ``rules.grafana_rules`` becomes one ProvisionedAlertRule (``api_rule``) in our folder
(``grafana.folder_uid``) and our rule group (``rules.GROUP``), and is compared with Grafana's copy as
``comparable`` gives both: without what Grafana sets itself (id, updated, provenance, orgID), without the
defaults it fills in (keep_firing_for 0s, an empty queryType, a query model's intervalMs and maxDataPoints,
...), with durations spelled as Grafana spells them, and without our mark.

Ours: a rule is ours when its uid is one we define or starts with ``alerts.UID_PREFIX``, it is in our folder
and our group, and it was written through the API (provenance "api"). Nothing else is ever written or
deleted, ``--force`` or not: a rule holding one of our uids in another folder or group, or without provenance
"api" (made or edited in Grafana's UI, so perhaps a user's own), is refused in one line; one provisioned from
files is skipped; a user's rules beside ours are never touched.

Changed since: every rule deploy writes carries the private annotation ``MARK``, "crdb-dash <version>
sha256:<fingerprint of the rule as written>" (Grafana keeps annotations named ``__x__`` out of notifications).
A rule whose content still has the fingerprint its mark names is as the last deploy left it, and is updated;
one whose content differs from its mark, or that has no mark, was changed since and is refused with a diff,
unless ``--force``. Rules written through the API (without X-Disable-Provenance) are read-only in Grafana's UI,
so such a change came through the API: a script, Terraform, another config deploying the same uids.

- missing: created; identical: unchanged (nothing is written); as we left it: updated;
- the group's evaluation interval (``alerts.evaluation_interval``, in seconds as Grafana wants it) is set
  through the rule-group endpoint when it differs, unless the group also holds rules that are not ours
  (it would re-time them, and make them read-only in the UI);
- ``--prune`` deletes only our rules no longer defined, as we left them, and only when every save succeeded;
- with ``alerts.grafana_managed`` false, rules of ours still in Grafana would fire beside Prometheus' alerts:
  one line says so, and ``--prune`` deletes them.

Rules are written one at a time: Grafana versions a rule group as a whole, and concurrent writes to one
group can conflict.
"""

from __future__ import annotations

import re

from crdb_dash.delivery.deploy import OUR_MESSAGE, Deploy, Forbidden, Outcome, diff, fingerprint, message
from crdb_dash.delivery.grafana import GrafanaError
from crdb_dash.model import alerts
from crdb_dash.model.config import Config
from crdb_dash.pipeline import rules

KIND = "alert rule"
MARK = "__crdbDashDeployed__"  # crdb-dash <version> sha256:<fingerprint>: what deploy last wrote
SERVER_SET = ("id", "updated", "provenance", "orgID")  # orgID: Grafana takes the credentials' organisation
RULE_DEFAULTS = {"keep_firing_for": "0s", "isPaused": False, "notification_settings": None, "record": None,
                 "missingSeriesEvalsToResolve": None}
QUERY_DEFAULTS = {"queryType": ""}
MODEL_DEFAULTS = {"intervalMs": 1000, "maxDataPoints": 43200}  # Grafana adds them to every query model it saves
NEEDS = ("Grafana's alerting provisioning API needs the Admin role, or the alert.rules.provisioning:read and "
         ":write permissions")
UNITS = (("y", 365 * 86400), ("w", 7 * 86400), ("d", 86400), ("h", 3600), ("m", 60), ("s", 1))


def api_rule(rule: dict, folder_uid: str, org_id: int) -> dict:
    """One rule of ``rules.grafana_rules`` (file provisioning) as the alerting provisioning API takes it. Its
    panel link travels in the __dashboardUid__ and __panelId__ annotations, which Grafana reads."""
    return {"uid": rule["uid"], "title": rule["title"], "condition": rule["condition"], "data": rule["data"],
            "noDataState": rule["noDataState"], "execErrState": rule["execErrState"],
            "for": grafana_duration(rule["for"]), "labels": rule["labels"], "annotations": rule["annotations"],
            "folderUID": folder_uid, "ruleGroup": rules.GROUP, "orgID": org_id, "isPaused": False}


def desired(cfg: Config, models: dict[str, dict] | None = None) -> list[dict]:
    """Our alert rules in the API's shape, in the order they are defined."""
    (group,) = rules.grafana_rules(cfg, models)["groups"]
    return [api_rule(rule, cfg.get("grafana.folder_uid"), group["orgId"]) for rule in group["rules"]]


def grafana_duration(text: str) -> str:
    """A duration as Grafana answers it (Prometheus' model.Duration): 0m as 0s, 90m as 1h30m, 7d as 1w."""
    size = dict(UNITS)
    parts = re.findall(r"(\d+)([ywdhms])", text)
    if "".join(number + unit for number, unit in parts) != text or not parts:
        return text  # not a duration Grafana would take: left as it is, for Grafana to refuse
    seconds = sum(int(number) * size[unit] for number, unit in parts)
    spelled = ""
    for unit, size in UNITS:
        if seconds >= size:
            spelled += f"{seconds // size}{unit}"
            seconds %= size
    return spelled or "0s"


def comparable(rule: dict) -> dict:
    """Grafana's copy of a rule, or ours, as the two are compared (see the module's docstring)."""
    out = {k: v for k, v in rule.items() if k not in SERVER_SET and (k not in RULE_DEFAULTS or v != RULE_DEFAULTS[k])}
    if isinstance(out.get("for"), str):
        out["for"] = grafana_duration(out["for"])
    out["annotations"] = {k: v for k, v in (rule.get("annotations") or {}).items() if k != MARK}
    out["labels"] = rule.get("labels") or {}
    out["data"] = [_query(q) for q in rule.get("data") or []]
    return _whole_numbers(out)


def _query(query: dict) -> dict:
    out = {k: v for k, v in query.items() if k not in QUERY_DEFAULTS or v != QUERY_DEFAULTS[k]}
    if isinstance(out.get("model"), dict):
        out["model"] = {k: v for k, v in out["model"].items() if k not in MODEL_DEFAULTS or v != MODEL_DEFAULTS[k]}
    return out


def _whole_numbers(value):
    """3600.0 as 3600: Grafana may answer a number it was sent as an integer either way."""
    if isinstance(value, dict):
        return {k: _whole_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_whole_numbers(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def marked(rule: dict) -> dict:
    """The rule as deploy writes it: with its mark."""
    return {**rule, "annotations": {**rule["annotations"], MARK: message(comparable(rule))}}


def as_we_left_it(remote: dict) -> bool:
    """Whether Grafana's copy is exactly what a deploy wrote: its content has the fingerprint its mark names."""
    mark = (remote.get("annotations") or {}).get(MARK, "")
    return bool(OUR_MESSAGE.fullmatch(mark)) and mark.endswith(f"sha256:{fingerprint(comparable(remote))}")


def same(remote: dict, ours: dict) -> bool:
    return fingerprint(comparable(remote)) == fingerprint(comparable(ours))


def rule_diff(remote: dict | None, ours: dict) -> str:
    return diff(comparable(remote) if remote is not None else None, comparable(ours), ours["uid"])


def owned(remote: dict, folder_uid: str, defined: set[str]) -> bool:
    """Whether a rule in Grafana is ours (see the module's docstring): only those are ever written or deleted."""
    uid = remote.get("uid", "")
    return (uid in defined or uid.startswith(alerts.UID_PREFIX)) and remote.get("folderUID") == folder_uid \
        and remote.get("ruleGroup") == rules.GROUP and remote.get("provenance") == "api"


def defined_uids(cfg: Config) -> set[str]:
    return {a.uid for a in alerts.table(cfg)}


class AlertRules:
    """The alert rules' part of a deploy, run beside the dashboards' ``Deploy``: its Grafana, folder, options
    (dry run, force, diffs) and report."""

    def __init__(self, job: Deploy, cfg: Config, models: dict[str, dict]):
        self.job = job
        self.managed = bool(cfg.get("alerts.grafana_managed"))
        self.wanted = desired(cfg, models) if self.managed else []
        self.interval = cfg.seconds("alerts.evaluation_interval")
        self.defined = defined_uids(cfg)
        self.remote: dict[str, dict] = {}
        self.created: set[str] = set()

    def read(self) -> None:
        """With Grafana-managed alerts: Grafana's alert rules, read once before anything is written, which also
        proves the credentials may read them."""
        if not self.managed:
            return
        try:
            self.remote = {r["uid"]: r for r in self.job.gf.alert_rules()}
        except GrafanaError as exc:
            if exc.status == 403:
                raise Forbidden(f"{self.job.gf.target.who} may not read alert rules: Grafana answered 403; "
                                f"{NEEDS}", 403) from None
            raise

    def run(self) -> list[Outcome]:
        if not self.managed:
            try:  # only for the notice: a Grafana that will not list rules has none of ours to report
                self.remote = {r["uid"]: r for r in self.job.gf.alert_rules()}
            except GrafanaError:
                return []
            left = [r for r in self.remote.values() if owned(r, self.job.folder_uid, self.defined)]
            if left:
                self.job.say(f"{len(left)} alert rule(s) of crdb-dash are in Grafana (folder {self.job.folder_uid}, "
                             f"group {rules.GROUP}) while alerts.grafana_managed is false: Prometheus evaluates the "
                             "same alerts, so each would fire twice; deploy --prune deletes them")
            return []
        outcomes = [self._one(rule) for rule in self.wanted]
        for outcome in outcomes:
            self.job.report(outcome)
        skipped = sum(1 for o in outcomes if o.action == "skipped")
        if skipped:
            self.job.say(f"{skipped} alert rule(s) are provisioned from files in Grafana, so deploy leaves them "
                         "alone: use either file provisioning or deploy, not both")
        return outcomes + self._interval()

    def _one(self, rule: dict) -> Outcome:
        try:
            outcome = self._plan_and_apply(rule, self.remote.get(rule["uid"]))
        except Forbidden:
            raise
        except GrafanaError as exc:
            outcome = Outcome(rule["uid"], rule["title"], "failed", str(exc))
        outcome.kind = KIND
        outcome.about = f"{rule['title']!r}, {rule['labels'].get('severity', 'no severity')}"
        return outcome

    def _plan_and_apply(self, rule: dict, remote: dict | None) -> Outcome:
        uid, title = rule["uid"], rule["title"]
        if remote is None:
            return self._save(rule, None, "created")
        folder, group = remote.get("folderUID", ""), remote.get("ruleGroup", "")
        if (folder, group) != (self.job.folder_uid, rules.GROUP):
            return Outcome(uid, title, "refused", f"its uid is taken by alert rule {remote.get('title', '')!r} in "
                           f"folder {folder}, group {group!r}, which deploy never moves or overwrites: delete it "
                           "there, or deploy to that folder (grafana.folder_uid) if it is this config's")
        provenance = remote.get("provenance", "")
        if provenance == "file":
            return Outcome(uid, title, "skipped", "provisioned from files in Grafana")
        if provenance != "api":
            return Outcome(uid, title, "refused", f"its uid is taken by a rule not written through the API "
                           f"(provenance {provenance or 'none'}: made or edited in Grafana's UI), which deploy never "
                           "overwrites: delete it in Grafana first")
        if same(remote, rule):
            return Outcome(uid, title, "unchanged")
        if not self.job.force and not as_we_left_it(remote):
            when = remote.get("updated") or "an unknown time"
            return Outcome(uid, title, "refused", f"changed in Grafana since the last deploy (through the API, at "
                           f"{when}); --force overwrites it", rule_diff(remote, rule))
        return self._save(rule, remote, "updated")

    def _save(self, rule: dict, remote: dict | None, action: str) -> Outcome:
        uid, title = rule["uid"], rule["title"]
        change = rule_diff(remote, rule)
        if self.job.dry_run:
            return Outcome(uid, title, action, "", change)
        payload = marked(rule)
        try:
            if remote is None:
                self.job.gf.create_alert_rule(payload)
            else:
                self.job.gf.update_alert_rule(payload)
        except GrafanaError as exc:
            if exc.status == 403:
                raise self._forbidden() from None
            if remote is not None or not self._landed(payload):
                return Outcome(uid, title, "failed", str(exc), change)
        self.created.add(uid)
        return Outcome(uid, title, action, "", change)

    def _landed(self, payload: dict) -> bool:
        """After a failed create: did an earlier attempt whose answer was lost already create exactly this?"""
        remote = self.job.gf.alert_rule(payload["uid"])
        return remote is not None and owned(remote, self.job.folder_uid, self.defined) and same(remote, payload)

    def _interval(self) -> list[Outcome]:
        """The group's evaluation interval, set when it differs and every rule in the group is ours."""
        name = rules.GROUP
        try:
            group = self.job.gf.rule_group(self.job.folder_uid, name)
        except GrafanaError as exc:
            return [self._reported(Outcome(name, name, "failed", str(exc), kind="rule group"))]
        if group is None or group.get("interval") == self.interval:
            return []
        change = f"interval {group.get('interval')}s -> {self.interval}s"
        # The group's own listing leaves out provenance: ownership comes from the rules read at the start.
        strangers = [r.get("uid", "") for r in group.get("rules") or [] if r.get("uid") not in self.created
                     and not owned(self.remote.get(r.get("uid"), {}), self.job.folder_uid, self.defined)]
        if strangers:
            some = ", ".join(strangers[:3]) + (", ..." if len(strangers) > 3 else "")
            return [self._reported(Outcome(name, name, "refused", f"{change} not made: the group also holds "
                                           f"{len(strangers)} rule(s) deploy does not manage ({some}), which it "
                                           "would re-time and make read-only in Grafana's UI", kind="rule group"))]
        if not self.job.dry_run:
            try:
                self.job.gf.set_rule_group_interval(self.job.folder_uid, name, self.interval)
            except GrafanaError as exc:
                if exc.status == 403:
                    raise self._forbidden() from None
                return [self._reported(Outcome(name, name, "failed", str(exc), kind="rule group"))]
        return [self._reported(Outcome(name, name, "updated", change, kind="rule group"))]

    def _reported(self, outcome: Outcome) -> Outcome:
        self.job.report(outcome)
        return outcome

    def prune(self, outcomes: list[Outcome]) -> list[Outcome]:
        """Deletes our rules no longer defined (all of them when Prometheus evaluates the alerts), as we left
        them, once everything in ``outcomes`` was saved. The dashboards' prune has said why, if nothing is."""
        keep = {rule["uid"] for rule in self.wanted}
        gone = [r for r in self.remote.values() if owned(r, self.job.folder_uid, self.defined) and r["uid"] not in keep]
        if not gone:
            return []
        ours = [(r["uid"], r.get("title", "")) for r in gone if as_we_left_it(r)]
        kept = [Outcome(r["uid"], r.get("title", ""), "kept", "not written by crdb-dash, or changed in Grafana since: "
                        "its content is not what its mark says deploy wrote", kind=KIND)
                for r in gone if not as_we_left_it(r)]
        return self.job.delete_unless_unsaved(ours, kept, outcomes, self._delete, kind=KIND, explain=False)

    def _delete(self, uid: str, title: str) -> Outcome:
        why = "no longer defined" if self.managed else "alerts.grafana_managed is false"
        if self.job.dry_run:
            return Outcome(uid, title, "deleted", why, kind=KIND)
        try:
            self.job.gf.delete_alert_rule(uid)
        except GrafanaError as exc:
            return Outcome(uid, title, "failed", str(exc), kind=KIND)
        return Outcome(uid, title, "deleted", why, kind=KIND)

    def _forbidden(self) -> Forbidden:
        return Forbidden(f"{self.job.gf.target.who} may not write alert rules in folder {self.job.folder_title!r} "
                         f"(uid {self.job.folder_uid}): Grafana answered 403; {NEEDS}", 403)

