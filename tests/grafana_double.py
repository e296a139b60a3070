"""A small, truthful double of Grafana's HTTP API, for deploy tests over real HTTP.

It follows the documented behaviour of Grafana's legacy ``/api`` (GRAFANA.md): Bearer service-account
tokens and basic auth (401 without valid credentials, 403 for a Viewer on writes), folders (404 when
missing, 409 when the uid exists), ``POST /api/dashboards/db`` (200 with an increasing version; 400 for a
bad payload, a missing folder or a provisioned dashboard; 412 ``version-mismatch``, and ``name-exists``
when another dashboard in the folder has the title's slug; with ``overwrite``, a save whose name is taken
replaces the dashboard holding it, keeping that one's uid, as Grafana's dashboard store does; leaving out
``folderUid`` moves the dashboard to the root), ``GET /api/dashboards/uid/:uid`` with ``meta``
(``folderUid``, ``version``, ``provisioned``), versions with their messages, search (sorted by title,
paged by ``limit``, default 1000 and at most 5000, and ``page``, from 1) and delete.

Alert rules, as Grafana 12's alerting provisioning API keeps them (``/api/v1/provisioning``): GET and POST
``alert-rules`` (201; 400 for an invalid rule, a missing folder or a uid already taken), GET, PUT (200) and
DELETE (204, also for a rule already gone) ``alert-rules/{uid}`` (404 with an empty body when missing), GET and
PUT ``folder/{folderUid}/rule-groups/{group}`` (404 for a group with no rules; the interval in seconds, above
0 and a multiple of the 10s base interval; a body without rules changes the interval only). Rules are stored
with provenance "api" unless the request has an ``X-Disable-Provenance`` header (then none); a rule whose
provenance is neither none nor the request's cannot be changed or deleted (Grafana answers 500). As Grafana,
the double answers what it stores: ``for`` respelled (0m as 0s, 90m as 1h30m), every query model with
``intervalMs`` and ``maxDataPoints``, and the fields it sets itself (id, updated, keep_firing_for, ...); a
new rule takes its group's interval, or the default 60s; the rule-group listing leaves out provenance. A
Viewer may read rules, not write them.

Faults can be injected per request, with a seeded generator: 5xx answers, slow answers and dropped
connections, each either before the request takes effect or after (the change applied, the answer lost);
or scripted for the first request matching a method and path.

Run by hand to try ``crdb-dash deploy`` without a Grafana (listens on 127.0.0.1 only):

    python -m tests.grafana_double --port 3000
"""

from __future__ import annotations

import argparse
import base64
import binascii
import contextlib
import copy
import json
import random
import re
import ssl
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse


@dataclass
class Faults:
    rate: float = 0.0  # share of requests that get a fault
    seed: int = 1
    slow_seconds: float = 6.0  # longer than the client's timeout
    latency: float = 0.0  # added to every request
    kinds: tuple[str, ...] = ("5xx", "slow", "drop")
    # (method, path pattern, kind, after): injected once, on the first request that matches
    script: list[tuple[str, str, str, bool]] = field(default_factory=list)
    rng: random.Random = field(init=False)

    def __post_init__(self):
        self.rng = random.Random(self.seed)


@dataclass
class StoredRule:
    rule: dict  # as GET answers it, provenance aside
    provenance: str  # "api", "file" or "" (none: made in the UI, or with X-Disable-Provenance)
    interval: int  # the group's evaluation interval, which Grafana keeps on every rule


@dataclass
class Stored:
    dashboard: dict
    folder_uid: str
    version: int
    provisioned: bool = False
    versions: list[dict] = field(default_factory=list)  # newest last: {version, message, createdBy}


class GrafanaDouble:
    def __init__(self, tokens: dict[str, str] | None = None, faults: Faults | None = None,
                 tls: tuple[str, str] | None = None, users: dict[str, tuple[str, str]] | None = None, port: int = 0):
        self.tokens = tokens or {"admin-token": "Admin"}  # token -> role (Admin, Editor, Viewer)
        self.users = users or {}  # basic auth: login -> (password, role)
        self.faults = faults or Faults()
        self.datasources: dict[str, str] = {}  # uid -> the URL Grafana's datasource proxy forwards to
        self.folders: dict[str, dict] = {}
        self.dashboards: dict[str, Stored] = {}
        self.rules: dict[str, StoredRule] = {}
        self.requests: list[tuple[str, str, dict]] = []  # (method, path, headers) as received
        self.injected = 0  # faults injected so far
        self.lock = threading.Lock()
        self.next_id = 1
        self.min_interval = 10  # Grafana's [unified_alerting] min_interval: rule groups may not run more often
        double = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):  # noqa: N802
                double._serve(self, "GET")

            def do_POST(self):  # noqa: N802
                double._serve(self, "POST")

            def do_DELETE(self):  # noqa: N802
                double._serve(self, "DELETE")

            def do_PUT(self):  # noqa: N802
                double._serve(self, "PUT")

            def log_message(self, *args):
                pass

        self.server = _QuietServer(("127.0.0.1", port), Handler)
        self.scheme = "http"
        if tls is not None:  # (certificate file, key file): serve HTTPS
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
            self.scheme = "https"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> GrafanaDouble:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    # ---- helpers for tests ---------------------------------------------------------------------------
    def writes(self) -> list[tuple[str, str]]:
        return [(m, p) for m, p, _ in self.requests if m in ("POST", "PUT", "DELETE")]

    def add_rule(self, rule: dict, provenance: str = "", interval: int = 60) -> None:
        """An alert rule as Grafana holds it: made in the UI (provenance none), from files ("file") or the API."""
        with self.lock:
            self.next_id += 1
            self.rules[rule["uid"]] = StoredRule(self._as_stored(copy.deepcopy(rule), self.next_id), provenance,
                                                 interval)

    def rule(self, uid: str) -> dict:
        """A rule as GET answers it."""
        return self._rule_view(self.rules[uid])

    def edit_in_ui(self, uid: str, title: str) -> None:
        """What saving a change in Grafana's UI does: a new version with the user's (empty) message."""
        with self.lock:
            stored = self.dashboards[uid]
            stored.dashboard = {**stored.dashboard, "title": title}
            self._new_version(stored, message="", by="admin")

    def store(self, dashboard: dict, folder_uid: str, message: str = "", by: str = "admin") -> None:
        """A dashboard saved as a new one: in the UI (a "Save as" copy among them) its version message is empty."""
        with self.lock:
            self.next_id += 1
            stored = Stored(copy.deepcopy({**dashboard, "id": self.next_id}), folder_uid, 0)
            self._new_version(stored, message=message, by=by)
            self.dashboards[dashboard["uid"]] = stored

    def provision(self, uid: str, dashboard: dict, folder_uid: str) -> None:
        with self.lock:
            stored = Stored(copy.deepcopy({**dashboard, "uid": uid}), folder_uid, 0, provisioned=True)
            self._new_version(stored, message="", by="provisioning")
            self.dashboards[uid] = stored

    # ---- HTTP ----------------------------------------------------------------------------------------
    def _serve(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        url = urlparse(handler.path)
        self.requests.append((method, url.path, dict(handler.headers)))
        if self.faults.latency:
            time.sleep(self.faults.latency)
        fault, after = self._draw(method, url.path)
        if fault and not after and self._fault(handler, fault):
            return
        status, payload = self._route(method, url.path, parse_qs(url.query), body, handler.headers)
        if fault and after and self._fault(handler, fault):
            return
        data = b"" if payload is None else json.dumps(payload).encode()  # None: no body (204, or an empty 404)
        handler.send_response(status)
        if payload is not None:
            handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    def _draw(self, method: str, path: str) -> tuple[str | None, bool]:
        with self.lock:
            for planned in self.faults.script:
                if planned[0] == method and re.fullmatch(planned[1], path):
                    self.faults.script.remove(planned)
                    self.injected += 1
                    return planned[2], planned[3]
            if self.faults.rate <= 0 or self.faults.rng.random() >= self.faults.rate:
                return None, False
            self.injected += 1
            return self.faults.rng.choice(self.faults.kinds), self.faults.rng.random() < 0.5

    def _fault(self, handler, kind: str) -> bool:
        if kind == "5xx":
            data = b'{"message":"injected server error"}'
            handler.send_response(503)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(data)))
            handler.end_headers()
            handler.wfile.write(data)
            return True
        if kind == "slow":
            time.sleep(self.faults.slow_seconds)
            return False  # answers, too late for the client
        handler.close_connection = True
        handler.connection.close()  # dropped: no answer at all
        return True

    def _route(self, method, path, query, body, headers) -> tuple[int, object]:
        role = self._role(headers)
        if role is None:
            return 401, {"message": "Unauthorized"}
        if method != "GET" and role == "Viewer":
            return 403, {"message": "Permission denied"}
        try:
            data = json.loads(body) if body else None
        except ValueError:
            return 400, {"message": "bad request data"}
        with self.lock:
            self.headers = headers  # of the request being answered, for the routes that read one
            for pattern, verb, action in self._routes():
                match = re.fullmatch(pattern, path)
                if match and verb == method:
                    return action(data, query, *match.groups())
        return 404, {"message": "Not found"}

    def _role(self, headers) -> str | None:
        auth = headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            return self.tokens.get(auth.removeprefix("Bearer "))
        if auth.startswith("Basic "):
            try:
                login, _, password = base64.b64decode(auth.removeprefix("Basic ")).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                return None
            known = self.users.get(login)
            return known[1] if known and known[0] == password else None
        return None

    def _routes(self):
        return [
            (r"/api/health", "GET", lambda d, q: (200, {"database": "ok", "version": "12.2.0", "commit": "double"})),
            (r"/api/folders", "GET", lambda d, q: (200, list(self.folders.values()))),
            (r"/api/folders", "POST", self._create_folder),
            (r"/api/folders/([^/]+)", "GET", self._get_folder),
            (r"/api/dashboards/db", "POST", self._save_dashboard),
            (r"/api/dashboards/uid/([^/]+)", "GET", self._get_dashboard),
            (r"/api/dashboards/uid/([^/]+)", "DELETE", self._delete_dashboard),
            (r"/api/dashboards/uid/([^/]+)/versions", "GET", self._versions),
            (r"/api/search", "GET", self._search),
            (r"/api/datasources/proxy/uid/([^/]+)(/.*)", "GET", self._proxy),
            (r"/api/v1/provisioning/alert-rules", "GET", self._alert_rules),
            (r"/api/v1/provisioning/alert-rules", "POST", self._create_rule),
            (r"/api/v1/provisioning/alert-rules/([^/]+)", "GET", self._get_rule),
            (r"/api/v1/provisioning/alert-rules/([^/]+)", "PUT", self._update_rule),
            (r"/api/v1/provisioning/alert-rules/([^/]+)", "DELETE", self._delete_rule),
            (r"/api/v1/provisioning/folder/([^/]+)/rule-groups/([^/]+)", "GET", self._get_group),
            (r"/api/v1/provisioning/folder/([^/]+)/rule-groups/([^/]+)", "PUT", self._put_group),
        ]

    # ---- datasource proxy ------------------------------------------------------------------------------
    def _proxy(self, data, query, uid, path):
        """GET on the datasource's own API, as Grafana's proxy forwards it (any role may read)."""
        from urllib.error import HTTPError, URLError
        from urllib.parse import urlencode
        from urllib.request import urlopen

        if uid not in self.datasources:
            return 404, {"message": "Unable to find datasource"}
        try:
            with urlopen(f"{self.datasources[uid]}{path}?{urlencode(query, doseq=True)}", timeout=30) as resp:
                return resp.status, json.loads(resp.read())
        except HTTPError as exc:
            return exc.code, {"message": exc.reason}
        except (URLError, ValueError) as exc:
            return 502, {"message": f"Bad Gateway: {exc}"}

    # ---- folders -------------------------------------------------------------------------------------
    def _create_folder(self, data, query):
        if not isinstance(data, dict) or not data.get("title"):
            return 400, {"message": "folder title cannot be empty"}
        uid = data.get("uid") or f"f{self.next_id}"
        if uid in self.folders:
            return 409, {"message": "a folder with the same uid already exists"}
        self.next_id += 1
        self.folders[uid] = {"id": self.next_id, "uid": uid, "title": data["title"], "version": 1}
        return 200, self.folders[uid]

    def _get_folder(self, data, query, uid):
        if uid not in self.folders:
            return 404, {"message": "folder not found", "status": "not-found"}
        return 200, self.folders[uid]

    # ---- dashboards ----------------------------------------------------------------------------------
    def _save_dashboard(self, data, query):
        if not isinstance(data, dict) or not isinstance(data.get("dashboard"), dict):
            return 400, {"message": "bad request data"}
        dash = copy.deepcopy(data["dashboard"])
        if not dash.get("title"):
            return 400, {"message": "Dashboard title cannot be empty", "status": "empty-name"}
        folder = data.get("folderUid") or ""
        if folder and folder not in self.folders:
            return 400, {"message": "folder not found", "status": "folder-not-found"}
        uid = dash.get("uid") or f"d{self.next_id}"
        if len(uid) > 40:
            return 400, {"message": "uid too long, max 40 characters", "status": "bad-uid"}
        overwrite = bool(data.get("overwrite"))
        for other_uid, other in self.dashboards.items():
            same_name = other.folder_uid == folder and _slug(other.dashboard.get("title", "")) == _slug(dash["title"])
            if other_uid != uid and same_name:
                if not overwrite:
                    return 412, {"message": "A dashboard with the same name in the folder already exists",
                                 "status": "name-exists"}
                uid = other_uid  # Grafana replaces the dashboard holding that name, keeping its uid
                break
        stored = self.dashboards.get(uid)
        if stored is not None:
            if stored.provisioned:
                return 400, {"message": "Cannot save provisioned dashboard", "status": "provisioned-dashboard"}
            if not overwrite and dash.get("version") != stored.version:
                return 412, {"message": "The dashboard has been changed by someone else",
                             "status": "version-mismatch"}
        elif dash.get("id") not in (None, 0) and not overwrite:
            return 404, {"message": "Dashboard not found", "status": "not-found"}
        if stored is None:
            self.next_id += 1
            stored = Stored({"id": self.next_id}, folder, 0)
            self.dashboards[uid] = stored
        stored.dashboard = {**dash, "uid": uid, "id": stored.dashboard["id"]}
        stored.folder_uid = folder
        self._new_version(stored, data.get("message", ""), by="service-account")
        return 200, {"id": stored.dashboard["id"], "uid": uid, "url": f"/d/{uid}/{_slug(dash['title'])}",
                     "status": "success", "version": stored.version, "slug": _slug(dash["title"])}

    def _new_version(self, stored: Stored, message: str, by: str) -> None:
        stored.version += 1
        stored.dashboard["version"] = stored.version
        stored.versions.append({"version": stored.version, "message": message, "createdBy": by,
                                "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})

    def _get_dashboard(self, data, query, uid):
        stored = self.dashboards.get(uid)
        if stored is None:
            return 404, {"message": "Dashboard not found"}
        return 200, {"dashboard": copy.deepcopy(stored.dashboard), "meta": {
            "type": "db", "slug": _slug(stored.dashboard.get("title", "")), "url": f"/d/{uid}",
            "version": stored.version, "folderUid": stored.folder_uid, "provisioned": stored.provisioned,
            "canSave": not stored.provisioned, "updatedBy": stored.versions[-1]["createdBy"]}}

    def _delete_dashboard(self, data, query, uid):
        stored = self.dashboards.get(uid)
        if stored is None:
            return 404, {"message": "Dashboard not found"}
        if stored.provisioned:
            return 400, {"message": "provisioned dashboard cannot be deleted", "status": "provisioned-dashboard"}
        del self.dashboards[uid]
        return 200, {"title": stored.dashboard.get("title"), "message": "Dashboard deleted",
                     "id": stored.dashboard["id"]}

    def _versions(self, data, query, uid):
        stored = self.dashboards.get(uid)
        if stored is None:
            return 404, {"message": "Dashboard not found"}
        limit = int(query.get("limit", ["0"])[0] or 0)
        newest = list(reversed(stored.versions))
        return 200, {"continueToken": "", "versions": newest[:limit] if limit else newest}

    def _search(self, data, query):
        limit, page = _number(query, "limit", 1000), _number(query, "page", 1)
        limit = min(limit, 5000)
        text = query.get("query", [""])[0].lower()
        tags = set(query.get("tag", []))
        folders = set(",".join(query.get("folderUIDs", [])).split(",")) - {""}
        out = []
        for uid, stored in self.dashboards.items():
            if tags and not tags <= set(stored.dashboard.get("tags", [])):
                continue
            if folders and stored.folder_uid not in folders:
                continue
            if text not in stored.dashboard.get("title", "").lower():
                continue
            out.append({"uid": uid, "title": stored.dashboard.get("title"), "type": "dash-db",
                        "tags": stored.dashboard.get("tags", []), "folderUid": stored.folder_uid})
        out.sort(key=lambda d: d["title"].lower())
        return 200, out[(page - 1) * limit:page * limit]


    # ---- alert rules (alerting provisioning API) -------------------------------------------------------
    def _provenance(self) -> str:
        return "" if "X-Disable-Provenance" in self.headers else "api"

    def _rule_view(self, stored: StoredRule, with_provenance: bool = True) -> dict:
        view = copy.deepcopy(stored.rule)
        if stored.provenance and with_provenance:  # omitted when empty, as Grafana's JSON does
            view["provenance"] = stored.provenance
        return view

    def _as_stored(self, rule: dict, rule_id: int) -> dict:
        """The rule as Grafana stores and answers it: respelled durations, query defaults, its own fields."""
        rule.pop("provenance", None)  # read-only: the request's header decides
        for query in rule["data"]:
            query.setdefault("queryType", "")
            query["model"] = {"intervalMs": 1000, "maxDataPoints": 43200, **query["model"]}
        return {**rule, "id": rule_id, "orgID": 1, "for": _respelled(rule.get("for", "0s")),
                "keep_firing_for": _respelled(rule.get("keep_firing_for", "0s")),
                "isPaused": bool(rule.get("isPaused")), "notification_settings": rule.get("notification_settings"),
                "record": rule.get("record"), "updated": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}

    def _invalid(self, rule) -> str:
        """Why Grafana would refuse the rule, or ''."""
        if not isinstance(rule, dict):
            return "bad request data"
        refs = [q.get("refId") for q in rule.get("data") or [] if isinstance(q, dict)]
        checks = [
            (0 < len(rule.get("title") or "") <= 190, "title must be 1 to 190 characters"),
            (0 < len(rule.get("ruleGroup") or "") <= 190, "rule group name must be 1 to 190 characters"),
            (bool(rule.get("folderUID")), "folderUID must be set"),
            (bool(refs) and all(isinstance(q.get("model"), dict) and q.get("datasourceUid") for q in rule["data"]),
             "no queries or expressions are found"),
            (rule.get("condition") in refs, f"condition {rule.get('condition')} does not exist"),
            (rule.get("noDataState") in ("Alerting", "NoData", "OK", "KeepLast"), "unknown noDataState"),
            (rule.get("execErrState") in ("OK", "Alerting", "Error", "KeepLast"), "unknown execErrState"),
            (_respelled(rule.get("for", "")) is not None, f"invalid duration {rule.get('for')!r} for 'for'"),
            (re.fullmatch(r"[a-zA-Z0-9_-]{0,40}", rule.get("uid") or "") is not None, "invalid UID"),
        ]
        for ok, why in checks:
            if not ok:
                return f"invalid alert rule: {why}"
        if rule["folderUID"] not in self.folders:
            return "invalid alert rule: folder does not exist"
        return ""

    def _group_rules(self, folder: str, group: str) -> list[StoredRule]:
        return [s for s in self.rules.values() if (s.rule["folderUID"], s.rule["ruleGroup"]) == (folder, group)]

    def _alert_rules(self, data, query):
        return 200, [self._rule_view(s) for s in self.rules.values()]

    def _get_rule(self, data, query, uid):
        stored = self.rules.get(uid)
        return (200, self._rule_view(stored)) if stored else (404, None)

    def _create_rule(self, data, query):
        invalid = self._invalid(data)
        if invalid:
            return 400, {"message": invalid}
        uid = data.get("uid") or f"r{self.next_id}"
        if uid in self.rules:
            return 400, {"message": "failed to insert alert rules: a conflicting alert rule is found: rule UID under "
                                    "the same organisation should be unique"}
        group = self._group_rules(data["folderUID"], data["ruleGroup"])
        self.next_id += 1
        stored = StoredRule(self._as_stored({**copy.deepcopy(data), "uid": uid}, self.next_id), self._provenance(),
                            group[0].interval if group else 60)
        self.rules[uid] = stored
        return 201, self._rule_view(stored)

    def _update_rule(self, data, query, uid):
        stored = self.rules.get(uid)
        if stored is None:
            return 404, None
        invalid = self._invalid(data)
        if invalid:
            return 400, {"message": invalid}
        provenance = self._provenance()
        if stored.provenance not in (provenance, ""):
            return 500, {"message": f"cannot change provenance from '{stored.provenance}' to '{provenance}'"}
        stored.rule = self._as_stored({**copy.deepcopy(data), "uid": uid}, stored.rule["id"])
        stored.provenance = provenance
        return 200, self._rule_view(stored)

    def _delete_rule(self, data, query, uid):
        stored = self.rules.get(uid)
        if stored is not None:
            provenance = self._provenance()
            if stored.provenance not in (provenance, ""):
                return 500, {"message": f"cannot delete with provided provenance '{provenance}', needs "
                                        f"'{stored.provenance}'"}
            del self.rules[uid]
        return 204, None

    def _get_group(self, data, query, folder, group):
        rules = self._group_rules(folder, group)
        if not rules:
            return 404, {"message": "rule group not found", "messageId": "alerting.alert-rule-group-not-found"}
        return 200, {"title": group, "folderUid": folder, "interval": rules[0].interval,
                     "rules": [self._rule_view(s, with_provenance=False) for s in rules]}

    def _put_group(self, data, query, folder, group):
        if not isinstance(data, dict):
            return 400, {"message": "bad request data"}
        interval = data.get("interval")
        if not isinstance(interval, int) or interval <= 0 or interval % 10:
            return 400, {"message": f"invalid alert rule: interval ({interval}s) should be non-zero and divided "
                                    "exactly by scheduler interval: 10"}
        if interval < self.min_interval:
            return 400, {"message": f"invalid alert rule: interval ({interval}s) is lower than the minimum allowed "
                                    f"interval ({self.min_interval}s)"}
        provenance = self._provenance()
        listed = {r.get("uid"): r for r in data.get("rules") or []}
        current = self._group_rules(folder, group)
        changed = current if not listed else current + [s for u, s in self.rules.items() if u in listed]
        for stored in changed:
            if stored.provenance not in (provenance, "") and not (stored.provenance == "api" and provenance == ""):
                return 500, {"message": f"cannot update with provided provenance '{provenance}', needs "
                                        f"'{stored.provenance}'"}
        if listed:  # the group becomes exactly the rules listed
            for stored in current:
                if stored.rule["uid"] not in listed:
                    del self.rules[stored.rule["uid"]]
            for uid, rule in listed.items():
                rule = {**rule, "folderUID": folder, "ruleGroup": group}
                invalid = self._invalid(rule)
                if invalid:
                    return 400, {"message": invalid}
                old = self.rules.get(uid)
                self.next_id += 1
                self.rules[uid] = StoredRule(self._as_stored(copy.deepcopy(rule), old.rule["id"] if old else
                                                             self.next_id), provenance, interval)
        for stored in self._group_rules(folder, group):
            if stored.interval != interval:
                stored.interval = interval
                stored.provenance = provenance
        return 200, {**data, "title": group, "folderUid": folder}


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # dropped connections are injected on purpose


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def _respelled(text: str) -> str | None:
    """A Prometheus duration as Grafana answers it (model.Duration's String), or None when it is not one."""
    sizes = {"y": 31536000, "w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}
    parts = re.findall(r"(\d+)([ywdhms])", text or "")
    if not text or "".join(n + u for n, u in parts) != text:
        return None
    left, out = sum(int(n) * sizes[u] for n, u in parts), ""
    for unit, size in sizes.items():
        count, left = divmod(left, size)
        out += f"{count}{unit}" if count else ""
    return out or "0s"


def _number(query: dict, name: str, default: int) -> int:
    """A positive integer query parameter; like Grafana, anything else means the default."""
    try:
        value = int(query.get(name, [""])[0])
    except ValueError:
        return default
    return value if value > 0 else default


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.grafana_double",
                                     description="A double of Grafana's HTTP API on 127.0.0.1, to try crdb-dash "
                                     "deploy without a Grafana. Dashboards and alert rules live in memory until "
                                     "Ctrl-C.")
    parser.add_argument("--port", type=int, default=3000, help="port on 127.0.0.1 (default 3000; 0 picks a free one)")
    parser.add_argument("--token", default="double-admin-token", help="the Admin token it accepts")
    parser.add_argument("--prometheus", metavar="URL", help="a Prometheus its datasource proxy forwards to, as the "
                        "datasource of --datasource-uid (for crdb-dash doctor --grafana)")
    parser.add_argument("--datasource-uid", default="crdb-backups-prometheus", help="that datasource's uid "
                        "(default: the config's default datasource.uid)")
    args = parser.parse_args(argv)
    try:
        double = GrafanaDouble(tokens={args.token: "Admin", "double-viewer-token": "Viewer"},
                               users={"admin": ("admin", "Admin")}, port=args.port)
    except OSError as exc:
        parser.exit(2, f"cannot listen on 127.0.0.1:{args.port}: {exc.strerror}\n")
    if args.prometheus:
        double.datasources[args.datasource_uid] = args.prometheus.rstrip("/")
    with double:
        print(f"Grafana API double at {double.url}: GRAFANA_URL={double.url} GRAFANA_TOKEN={args.token} "
              "(Admin; double-viewer-token is a Viewer), or GRAFANA_USER=admin GRAFANA_PASSWORD=admin. "
              "Ctrl-C stops it.", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            double.thread.join()


if __name__ == "__main__":
    main()
