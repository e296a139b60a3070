"""``crdb-dash deploy`` and ``diff``: upsert the dashboards through Grafana's HTTP API, safely and repeatably.

Each dashboard is compared with Grafana's copy, ignoring ``id`` and ``version``:

- missing: created, unless another dashboard in our folder has its title (refused: Grafana would refuse it);
- identical and in our folder: unchanged (nothing is posted, so no version churn);
- different, and Grafana's newest version is the one we deployed (its message carries our fingerprint):
  updated;
- different, and someone changed it since: refused with a diff, unless ``--force``;
- provisioned from files: skipped (the other way of delivery owns it).

``--prune`` deletes only dashboards this tool created (our uid prefix and our version message) that are no
longer defined, and only when every save succeeded (the alert rules' among them).

With ``alerts.grafana_managed``, ``crdb_dash.delivery.alert_rules`` deploys the alert rules alongside, with
the same outcomes, report and summary.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from crdb_dash import __version__
from crdb_dash.delivery.grafana import Grafana, GrafanaError
from crdb_dash.pipeline.compiled import panel_count

ACTIONS = ("created", "updated", "unchanged", "refused", "failed", "skipped", "deleted", "kept")
ALWAYS_COUNTED = ACTIONS[:5]
WORKERS = 8
OUR_MESSAGE = re.compile(r"crdb-dash \S+ sha256:[0-9a-f]{16}")


class FolderFailed(GrafanaError):
    """Our folder could not be created: nothing can be saved, so the whole deploy stops."""


class Forbidden(GrafanaError):
    """Grafana answered 403 to a write: every other write would get the same, so the whole deploy stops."""


@dataclass
class Outcome:
    uid: str
    title: str
    action: str
    detail: str = ""
    diff: str = ""
    about: str = ""  # what a created one is, in one line
    kind: str = "dashboard"  # or "alert rule", "rule group"


def canonical(dashboard: dict) -> str:
    return json.dumps({k: v for k, v in dashboard.items() if k not in ("id", "version")}, indent=2, sort_keys=True)


def fingerprint(dashboard: dict) -> str:
    return hashlib.sha256(canonical(dashboard).encode()).hexdigest()[:16]


def message(dashboard: dict) -> str:
    return f"crdb-dash {__version__} sha256:{fingerprint(dashboard)}"


def slug(title: str) -> str:
    """Grafana's slug of a title, as far as titles we compare need: it tells two titles apart."""
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def diff(remote: dict | None, ours: dict, uid: str) -> str:
    old = canonical(remote).splitlines(True) if remote is not None else []
    return "".join(difflib.unified_diff(old, canonical(ours).splitlines(True), f"{uid} (Grafana)", f"{uid} (ours)"))


class Deploy:
    def __init__(self, grafana: Grafana, folder_uid: str, folder_title: str, uid_prefix: str, *,
                 dry_run: bool = False, force: bool = False, show_diff: bool = False, full: bool = False, say=print):
        self.gf = grafana
        self.folder_uid = folder_uid
        self.folder_title = folder_title
        self.uid_prefix = uid_prefix
        self.dry_run = dry_run
        self.force = force
        self.show_diff = show_diff
        self.full = full
        self._say = say
        self._lock = threading.Lock()
        self._listing: dict[str, str] | None = None
        self._listing_lock = threading.Lock()

    def say(self, text: str) -> None:
        with self._lock:
            self._say(text)

    def run(self, dashboards: dict[str, dict]) -> list[Outcome]:
        """Creates or updates the dashboards; ``prune`` comes after every other save, the alert rules' too.

        Reading the folder first proves the URL and the credentials; creating it goes on while the
        dashboards are read, and only saving a dashboard waits for it. Outcomes are reported when all
        are known, in the order the dashboards are defined, so every report reads the same."""
        exists = self.gf.folder(self.folder_uid) is not None
        with ThreadPoolExecutor(max_workers=WORKERS + 1) as pool:
            self._folder = pool.submit(self._ensure_folder, exists)
            outcomes = list(pool.map(self._one, dashboards.values()))
        self._wait_for_folder()  # its failure counts even when no dashboard needed saving
        for outcome in outcomes:
            self.report(outcome)
        skipped = sum(1 for o in outcomes if o.action == "skipped")
        if skipped:
            self.say(f"{skipped} dashboard(s) are provisioned from files in Grafana, so deploy leaves them alone: "
                     "use either file provisioning or deploy, not both")
        return outcomes

    def _ensure_folder(self, exists: bool) -> None:
        if exists:
            return
        if self.dry_run:
            self.say(f"folder {self.folder_uid}: would be created ({self.folder_title})")
            return
        try:
            self.gf.create_folder(self.folder_title, self.folder_uid)
        except GrafanaError as exc:
            if exc.status == 403:
                raise Forbidden(f"{self.gf.target.who} may not create folder {self.folder_title!r} (uid "
                                f"{self.folder_uid}): Grafana answered 403; it needs the Editor role, or create "
                                "the folder and give it Edit permission there", 403) from None
            raise
        self.say(f"folder {self.folder_uid}: created ({self.folder_title})")

    def _one(self, model: dict) -> Outcome:
        try:
            outcome = self._plan_and_apply(model)
        except (FolderFailed, Forbidden):
            raise
        except GrafanaError as exc:
            outcome = Outcome(model["uid"], model["title"], "failed", str(exc))
        panels = panel_count(model)
        outcome.about = f"{model['title']!r}, {panels} panel{'' if panels == 1 else 's'}"
        return outcome

    def _plan_and_apply(self, model: dict) -> Outcome:
        uid, title = model["uid"], model["title"]
        remote = self.gf.dashboard(uid)
        clash = self._title_taken(model, remote)
        if clash:
            return Outcome(uid, title, "refused", f"{title!r} is already the title of {clash} in folder "
                           f"{self.folder_uid}, and Grafana allows one per folder: delete or rename {clash} first")
        if remote is None:
            return self._save(model, None, "created")
        meta, theirs = remote.get("meta", {}), remote["dashboard"]
        if meta.get("provisioned"):
            return Outcome(uid, title, "skipped", "provisioned from files in Grafana")
        if fingerprint(theirs) == fingerprint(model) and meta.get("folderUid", "") == self.folder_uid:
            return Outcome(uid, title, "unchanged")
        if not self.force and f"sha256:{fingerprint(theirs)}" not in self.gf.last_version_message(uid):
            return Outcome(uid, title, "refused", f"changed in Grafana since the last deploy (version "
                           f"{meta.get('version')}, by {meta.get('updatedBy', 'someone')}); --force overwrites it",
                           diff(theirs, model, uid))
        return self._save(model, remote, "updated")

    def _title_taken(self, model: dict, remote: dict | None) -> str:
        """The uid of another dashboard in our folder whose title Grafana takes for ours, or ''.

        Grafana allows one title (compared as a slug) per folder: without overwrite it refuses a second one;
        with overwrite (--force) it would replace the other dashboard, taking its uid. So a clash is refused
        here, before anything is posted. Only a new title or folder can clash."""
        if remote is not None and slug(remote["dashboard"].get("title", "")) == slug(model["title"]) \
                and remote.get("meta", {}).get("folderUid", "") == self.folder_uid:
            return ""
        other = self._titles_in_folder().get(slug(model["title"]), model["uid"])
        return other if other != model["uid"] else ""

    def _titles_in_folder(self) -> dict[str, str]:
        """Slug of the title -> uid, for every dashboard in our folder; read once, when first needed."""
        with self._listing_lock:
            if self._listing is None:
                listing: dict[str, str] = {}
                for hit in self.gf.search(self.folder_uid):
                    listing.setdefault(slug(hit.get("title", "")), hit["uid"])
                self._listing = listing
            return self._listing

    def _save(self, model: dict, remote: dict | None, action: str) -> Outcome:
        uid, title = model["uid"], model["title"]
        change = diff(remote["dashboard"] if remote else None, model, uid)
        self._wait_for_folder()
        if self.dry_run:
            return Outcome(uid, title, action, "", change)
        version = remote["meta"].get("version") if remote else None
        payload = {"dashboard": {**model, "id": None, "version": version}, "folderUid": self.folder_uid,
                   "overwrite": self.force, "message": message(model)}
        try:
            self.gf.save_dashboard(payload)
        except GrafanaError as exc:
            if exc.status == 403:
                raise Forbidden(f"{self.gf.target.who} may not save dashboards in folder {self.folder_title!r} "
                                f"(uid {self.folder_uid}): Grafana answered 403; it needs the Editor role, or Edit "
                                "permission on that folder", 403) from None
            if exc.status != 412 or not self._landed(model):
                return Outcome(uid, title, "refused" if exc.status == 412 else "failed", str(exc), change)
        return Outcome(uid, title, action, "", change)

    def _wait_for_folder(self) -> None:
        try:
            self._folder.result()
        except Forbidden:
            raise
        except GrafanaError as exc:
            raise FolderFailed(str(exc), exc.status, exc.reason) from None

    def _landed(self, model: dict) -> bool:
        """After a 412: did an earlier attempt whose answer was lost already save exactly this?"""
        remote = self.gf.dashboard(model["uid"])
        return remote is not None and fingerprint(remote["dashboard"]) == fingerprint(model) \
            and remote["meta"].get("folderUid", "") == self.folder_uid

    def prune(self, keep: set[str], outcomes: list[Outcome]) -> list[Outcome]:
        """Deletes what this tool created and no longer defines, only once everything in ``outcomes`` was saved."""
        ours, theirs = self._prunable(keep)
        kept = [Outcome(hit["uid"], hit.get("title", ""), "kept", "not created by crdb-dash, or changed in Grafana "
                        "since: its newest version is not one deploy saved") for hit in theirs]
        return self.delete_unless_unsaved([(hit["uid"], hit.get("title", "")) for hit in ours], kept, outcomes,
                                          self._delete)

    def delete_unless_unsaved(self, ours: list[tuple[str, str]], kept: list[Outcome], outcomes: list[Outcome],
                              delete, kind: str = "dashboard", explain: bool = True) -> list[Outcome]:
        """Deletes each of ``ours`` (uid, title) with ``delete`` unless something in ``outcomes`` could not be saved;
        reports them with ``kept``, in uid order, and (``explain``) says in one line why nothing was deleted."""
        unsaved = unsaved_text(outcomes)
        pruned = list(kept)
        for uid, title in ours:
            if unsaved:
                pruned.append(Outcome(uid, title, "kept", f"no longer defined, but not deleted while {unsaved} "
                                      "could not be saved", kind=kind))
            else:
                pruned.append(delete(uid, title))
        pruned.sort(key=lambda o: o.uid)
        for outcome in pruned:
            self.report(outcome)
        if unsaved and explain:
            self.say(f"prune: nothing deleted, because {unsaved} could not be saved"
                     + (f"; kept {', '.join(uid for uid, _ in ours)}" if ours else ""))
        return pruned

    def _prunable(self, keep: set[str]) -> tuple[list[dict], list[dict]]:
        """Dashboards in our folder with our uid prefix that we no longer define: (ours, not ours)."""
        ours, theirs = [], []
        for hit in self.gf.search(self.folder_uid):
            if hit["uid"] in keep or not hit["uid"].startswith(f"{self.uid_prefix}-"):
                continue
            created_by_us = OUR_MESSAGE.fullmatch(self.gf.last_version_message(hit["uid"]))
            (ours if created_by_us else theirs).append(hit)
        return ours, theirs

    def _delete(self, uid: str, title: str) -> Outcome:
        if self.dry_run:
            return Outcome(uid, title, "deleted")
        try:
            self.gf.delete_dashboard(uid)
        except GrafanaError as exc:
            return Outcome(uid, title, "failed", str(exc))
        return Outcome(uid, title, "deleted", "no longer defined")

    def report(self, o: Outcome) -> None:
        as_is = not self.dry_run or o.action in ("unchanged", "refused", "failed", "skipped", "kept")
        verb = o.action if as_is else f"would be {o.action}"
        detail = o.about if o.action == "created" else o.detail
        name = o.uid if o.kind == "dashboard" else f"{o.kind} {o.uid}"
        text = f"{name}: {verb}" + (f" ({detail})" if detail else "")
        new_and_summarised = o.action == "created" and not self.full
        if o.diff and (self.show_diff and not new_and_summarised or o.action == "refused"):
            text += "\n" + o.diff.rstrip("\n")
        self.say(text)


DRY_RUN_WORDS = {"created": "to create", "updated": "to update", "deleted": "to delete"}


def summary(outcomes: list[Outcome], dry_run: bool = False) -> str:
    """One line: the dashboards' counts, then the alert rules' when any were deployed or pruned (only pruned,
    as when Prometheus evaluates the alerts: just what was done). A dry run says what it would do."""

    def counts(kind: str) -> str:
        n = {a: sum(1 for o in outcomes if o.kind == kind and o.action == a) for a in ACTIONS}
        always = ALWAYS_COUNTED if kind == "dashboard" or any(n[a] for a in ALWAYS_COUNTED) else ()
        words = DRY_RUN_WORDS if dry_run else {}
        return ", ".join(f"{count} {words.get(a, a)}" for a, count in n.items() if count or a in always)

    rules = any(o.kind == "alert rule" for o in outcomes)
    return counts("dashboard") + (f"; alert rules: {counts('alert rule')}" if rules else "")


def unsaved_text(outcomes: list[Outcome]) -> str:
    """What could not be saved, e.g. "1 dashboard(s) and 2 alert rule(s)"; "" when everything was."""
    unsaved = [o.kind for o in outcomes if o.action in ("refused", "failed")]
    return " and ".join(f"{unsaved.count(kind)} {kind}(s)" for kind in dict.fromkeys(unsaved))


def succeeded(outcomes: list[Outcome]) -> bool:
    return not any(o.action in ("refused", "failed") for o in outcomes)
