"""``crdb-dash deploy`` and ``diff``: upsert the dashboards through Grafana's HTTP API, safely and repeatably.

Each dashboard is compared with Grafana's copy, ignoring ``id`` and ``version``:

- missing: created; identical and in our folder: unchanged (nothing is posted, so no version churn);
- different, and Grafana's newest version is the one we deployed (its message carries our fingerprint):
  updated;
- different, and someone changed it since: refused with a diff, unless ``--force``;
- provisioned from files: refused (reported, not fought).
"""

from __future__ import annotations

import difflib
import hashlib
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from crdb_dash import __version__
from crdb_dash.grafana import Grafana, GrafanaError

ACTIONS = ("created", "updated", "unchanged", "refused", "failed", "deleted")
WORKERS = 8


class FolderFailed(GrafanaError):
    """Our folder could not be created: nothing can be saved, so the whole deploy stops."""


@dataclass
class Outcome:
    uid: str
    title: str
    action: str
    detail: str = ""
    diff: str = ""


def canonical(dashboard: dict) -> str:
    return json.dumps({k: v for k, v in dashboard.items() if k not in ("id", "version")}, indent=2, sort_keys=True)


def fingerprint(dashboard: dict) -> str:
    return hashlib.sha256(canonical(dashboard).encode()).hexdigest()[:16]


def message(dashboard: dict) -> str:
    return f"crdb-dash {__version__} sha256:{fingerprint(dashboard)}"


def diff(remote: dict | None, ours: dict, uid: str) -> str:
    old = canonical(remote).splitlines(True) if remote is not None else []
    return "".join(difflib.unified_diff(old, canonical(ours).splitlines(True), f"{uid} (Grafana)", f"{uid} (ours)"))


class Deploy:
    def __init__(self, grafana: Grafana, folder_uid: str, folder_title: str, tags: list[str], *, dry_run: bool = False,
                 force: bool = False, show_diff: bool = False, say=print):
        self.gf = grafana
        self.folder_uid = folder_uid
        self.folder_title = folder_title
        self.tags = tags
        self.dry_run = dry_run
        self.force = force
        self.show_diff = show_diff
        self._say = say
        self._lock = threading.Lock()

    def say(self, text: str) -> None:
        with self._lock:
            self._say(text)

    def run(self, dashboards: dict[str, dict], prune: bool = False) -> list[Outcome]:
        # Reading the folder first proves the URL and the token; creating it goes on while the
        # dashboards are read, and only saving a dashboard waits for it.
        exists = self.gf.folder(self.folder_uid) is not None
        with ThreadPoolExecutor(max_workers=WORKERS + 1) as pool:
            self._folder = pool.submit(self._ensure_folder, exists)
            outcomes = list(pool.map(self._one, dashboards.values()))
        if prune:
            outcomes += self._prune(set(dashboards))
        return outcomes

    def _ensure_folder(self, exists: bool) -> None:
        if exists:
            return
        if self.dry_run:
            self.say(f"folder {self.folder_uid}: would be created ({self.folder_title})")
            return
        self.gf.create_folder(self.folder_title, self.folder_uid)
        self.say(f"folder {self.folder_uid}: created ({self.folder_title})")

    def _one(self, model: dict) -> Outcome:
        uid, title = model["uid"], model["title"]
        try:
            outcome = self._plan_and_apply(model)
        except FolderFailed:
            raise
        except GrafanaError as exc:
            outcome = Outcome(uid, title, "failed", str(exc))
        self._report(outcome)
        return outcome

    def _plan_and_apply(self, model: dict) -> Outcome:
        uid, title = model["uid"], model["title"]
        remote = self.gf.dashboard(uid)
        if remote is None:
            return self._save(model, None, "created")
        meta, theirs = remote.get("meta", {}), remote["dashboard"]
        if meta.get("provisioned"):
            return Outcome(uid, title, "refused", "provisioned from files in Grafana: change those files instead",
                           diff(theirs, model, uid))
        if fingerprint(theirs) == fingerprint(model) and meta.get("folderUid", "") == self.folder_uid:
            return Outcome(uid, title, "unchanged")
        if not self.force and f"sha256:{fingerprint(theirs)}" not in self.gf.last_version_message(uid):
            return Outcome(uid, title, "refused", f"changed in Grafana since the last deploy (version "
                           f"{meta.get('version')}, by {meta.get('updatedBy', 'someone')}); --force overwrites it",
                           diff(theirs, model, uid))
        return self._save(model, remote, "updated")

    def _save(self, model: dict, remote: dict | None, action: str) -> Outcome:
        uid, title = model["uid"], model["title"]
        change = diff(remote["dashboard"] if remote else None, model, uid)
        try:
            self._folder.result()
        except GrafanaError as exc:
            raise FolderFailed(str(exc), exc.status, exc.reason) from None
        if self.dry_run:
            return Outcome(uid, title, action, "dry run: nothing written", change)
        version = remote["meta"].get("version") if remote else None
        payload = {"dashboard": {**model, "id": None, "version": version}, "folderUid": self.folder_uid,
                   "overwrite": self.force, "message": message(model)}
        try:
            self.gf.save_dashboard(payload)
        except GrafanaError as exc:
            if exc.status != 412 or not self._landed(model):
                return Outcome(uid, title, "refused" if exc.status == 412 else "failed", str(exc), change)
        return Outcome(uid, title, action, "", change)

    def _landed(self, model: dict) -> bool:
        """After a 412: did an earlier attempt whose answer was lost already save exactly this?"""
        remote = self.gf.dashboard(model["uid"])
        return remote is not None and fingerprint(remote["dashboard"]) == fingerprint(model) \
            and remote["meta"].get("folderUid", "") == self.folder_uid

    def _prune(self, keep: set[str]) -> list[Outcome]:
        found = self.gf.search(self.tags[0], self.folder_uid)
        outcomes = []
        for hit in found:
            if hit["uid"] in keep or not set(self.tags) <= set(hit.get("tags", [])):
                continue
            outcome = Outcome(hit["uid"], hit.get("title", ""), "deleted", "dry run: nothing written"
                              if self.dry_run else "no longer defined")
            if not self.dry_run:
                try:
                    self.gf.delete_dashboard(hit["uid"])
                except GrafanaError as exc:
                    outcome = Outcome(hit["uid"], hit.get("title", ""), "failed", str(exc))
            self._report(outcome)
            outcomes.append(outcome)
        return outcomes

    def _report(self, o: Outcome) -> None:
        as_is = not self.dry_run or o.action in ("unchanged", "refused", "failed")
        verb = o.action if as_is else f"would be {o.action}"
        text = f"{o.uid}: {verb}" + (f" ({o.detail})" if o.detail and o.detail != "dry run: nothing written" else "")
        if o.diff and (self.show_diff or o.action == "refused"):
            text += "\n" + o.diff.rstrip("\n")
        self.say(text)


def summary(outcomes: list[Outcome]) -> str:
    counts = {a: sum(1 for o in outcomes if o.action == a) for a in ACTIONS}
    return ", ".join(f"{n} {a}" for a, n in counts.items() if n or a in ACTIONS[:5])


def succeeded(outcomes: list[Outcome]) -> bool:
    return not any(o.action in ("refused", "failed") for o in outcomes)
