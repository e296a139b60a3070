"""The one place that talks to Grafana, through grafana-client, with retries on transient failures.

Connection errors, timeouts and 5xx answers are retried with exponential backoff (tenacity); every
other error becomes a ``GrafanaError`` with a one-line message that never contains the token or password.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from urllib.parse import urlparse

from crdb_dash import __version__

RETRY_ATTEMPTS = 6
SEARCH_PAGE = 1000  # Grafana's default search limit (its maximum is 5000)
RULES = "/api/v1/provisioning/alert-rules"


class GrafanaError(Exception):
    """A refusal or failure from Grafana; ``status`` is the HTTP status (0 when none arrived)."""

    def __init__(self, message: str, status: int = 0, reason: str = ""):
        super().__init__(message)
        self.status = status
        self.reason = reason  # Grafana's "status" field, e.g. version-mismatch


@dataclass(frozen=True)
class Target:
    """Where and as whom: a service-account ``token``, or basic auth with ``user`` and ``password``."""

    url: str
    token: str = ""
    org_id: int | None = None
    insecure: bool = False
    timeout: float = 5.0
    user: str = ""
    password: str = ""

    def __repr__(self) -> str:  # keeps the token and password out of any repr that reaches a log
        return f"Target(url={safe_url(self.url)!r}, org_id={self.org_id}, user={self.user!r})"

    @property
    def who(self) -> str:
        """Names the credentials in messages, never showing them."""
        return f"Grafana user {self.user!r}" if self.user else "the token"

    @property
    def secrets(self) -> list[str]:
        return [s for s in (self.token, self.password) if s]


def safe_url(url: str) -> str:
    """The URL without any user:password part."""
    parsed = urlparse(url)
    if parsed.username or parsed.password:
        parsed = parsed._replace(netloc=parsed.hostname + (f":{parsed.port}" if parsed.port else ""))
    return parsed.geturl()


def check_url(url: str) -> None:
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise GrafanaError(f"GRAFANA_URL must be an http:// or https:// URL, not {safe_url(url)!r}")


class Grafana:
    """Thread-safe: each thread gets its own grafana-client session."""

    def __init__(self, target: Target):
        check_url(target.url)
        self.target = target
        self._local = threading.local()

    @property
    def api(self):
        if not hasattr(self._local, "api"):
            self._local.api = self._connect()
        return self._local.api

    def _connect(self):
        from grafana_client import GrafanaApi
        from grafana_client.client import TokenAuth

        parsed = urlparse(self.target.url)
        prefix = parsed.path.strip("/")
        auth = (self.target.user, self.target.password) if self.target.user else TokenAuth(self.target.token)
        return GrafanaApi(auth=auth, protocol=parsed.scheme, host=parsed.hostname,
                          port=parsed.port, url_path_prefix=f"{prefix}/" if prefix else "",
                          verify=not self.target.insecure, timeout=self.target.timeout,
                          organization_id=self.target.org_id, user_agent=f"crdb-dash/{__version__}")

    def call(self, what: str, fn, *args, **kwargs):
        """Run ``fn(api, ...)`` with retries on transient failures; ``what`` names it in errors."""
        import tenacity

        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception(_transient), stop=tenacity.stop_after_attempt(RETRY_ATTEMPTS),
            wait=tenacity.wait_exponential(multiplier=0.1, max=2.0), reraise=True)
        try:
            return retrying(fn, self.api, *args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - every failure becomes one line
            raise _error(what, exc, self.target) from None

    def check(self) -> None:
        """Proves the URL is Grafana before anything is read or written: GET /api/health answers Grafana's JSON."""
        try:
            body = self.call("GET /api/health", lambda api: api.client.GET("/health"))
        except GrafanaError as exc:
            if exc.status in (401, 403) or not exc.status or exc.status >= 500:
                raise
            body = None
        if not isinstance(body, dict) or "database" not in body:
            raise GrafanaError(f"{safe_url(self.target.url)} is not Grafana: GET /api/health did not answer "
                               "Grafana's health JSON (is GRAFANA_URL Grafana's address, with its sub-path?)")

    # ---- the calls the deploy makes ----------------------------------------------------------------
    def folder(self, uid: str) -> dict | None:
        return self._or_none(f"GET /api/folders/{uid}", lambda api: api.folder.get_folder(uid))

    def create_folder(self, title: str, uid: str) -> None:
        try:
            self.call("POST /api/folders", lambda api: api.folder.create_folder(title, uid=uid))
        except GrafanaError as exc:
            if exc.status != 409:  # already there, perhaps from a retried request: fine
                raise

    def dashboard(self, uid: str) -> dict | None:
        return self._or_none(f"GET /api/dashboards/uid/{uid}", lambda api: api.dashboard.get_dashboard(uid))

    def last_version_message(self, uid: str) -> str:
        body = self.call(f"GET /api/dashboards/uid/{uid}/versions",
                         lambda api: api.client.GET(f"/dashboards/uid/{uid}/versions", params={"limit": 1}))
        versions = body.get("versions", []) if isinstance(body, dict) else body  # Grafana < 11 sends a list
        return versions[0].get("message", "") if versions else ""

    def save_dashboard(self, payload: dict) -> dict:
        return self.call("POST /api/dashboards/db", lambda api: api.dashboard.update_dashboard(payload))

    def search(self, folder_uid: str) -> list[dict]:
        """Every dashboard in the folder, page by page."""
        hits: list[dict] = []
        page = 1
        while True:
            params = {"type": "dash-db", "folderUIDs": folder_uid, "limit": SEARCH_PAGE, "page": page}
            found = self.call("GET /api/search", lambda api, params=params: api.client.GET("/search", params=params))
            hits += found
            if len(found) < SEARCH_PAGE:
                return hits
            page += 1

    def delete_dashboard(self, uid: str) -> None:
        """Deletes; a 404 means it is gone already (perhaps by an earlier attempt whose answer was lost)."""
        try:
            self.call(f"DELETE /api/dashboards/uid/{uid}", lambda api: api.dashboard.delete_dashboard(uid))
        except GrafanaError as exc:
            if exc.status != 404:
                raise

    # ---- alert rules, through the alerting provisioning API ----------------------------------------
    # Written without X-Disable-Provenance: Grafana stores provenance "api", and its UI shows such rules
    # read-only, so they change only through the API (or by a deploy).
    def alert_rules(self) -> list[dict]:
        """Every alert rule of the organisation the credentials may read, in every folder."""
        return self.call(f"GET {RULES}", lambda api: api.alertingprovisioning.get_alertrules_all())

    def alert_rule(self, uid: str) -> dict | None:
        return self._or_none(f"GET {RULES}/{uid}", lambda api: api.alertingprovisioning.get_alertrule(uid))

    def create_alert_rule(self, rule: dict) -> dict:
        return self.call(f"POST {RULES}", lambda api: api.alertingprovisioning.create_alertrule(rule))

    def update_alert_rule(self, rule: dict) -> dict:
        uid = rule["uid"]
        return self.call(f"PUT {RULES}/{uid}", lambda api: api.alertingprovisioning.update_alertrule(uid, rule))

    def delete_alert_rule(self, uid: str) -> None:
        """Deletes; Grafana answers 204 for a rule already gone, so a retried delete is harmless."""
        self.call(f"DELETE {RULES}/{uid}", lambda api: api.alertingprovisioning.delete_alertrule(uid))

    def rule_group(self, folder_uid: str, group: str) -> dict | None:
        """``{title, folderUid, interval (seconds), rules}``, or None when the folder holds no rule of that group."""
        return self._or_none(f"GET {_group_path(folder_uid, group)}",
                             lambda api: api.alertingprovisioning.get_rule_group(folder_uid, group))

    def set_rule_group_interval(self, folder_uid: str, group: str, seconds: int) -> None:
        """Sets the group's evaluation interval. The body has no ``rules``: Grafana then keeps the group's rules
        as they are and changes the interval only (a body with rules would replace the whole group)."""
        body = {"title": group, "folderUid": folder_uid, "interval": seconds}
        self.call(f"PUT {_group_path(folder_uid, group)}",
                  lambda api: api.alertingprovisioning.update_rule_group(folder_uid, group, body))

    def datasource_get(self, uid: str, path: str, params: dict):
        """GET ``path`` of a datasource's own HTTP API through Grafana's datasource proxy."""
        where = f"/datasources/proxy/uid/{uid}{path}"
        return self.call(f"GET /api{where}", lambda api: api.client.GET(where, params=params))

    def _or_none(self, what: str, fn):
        try:
            return self.call(what, fn)
        except GrafanaError as exc:
            if exc.status == 404:
                return None
            raise


def _group_path(folder_uid: str, group: str) -> str:
    return f"/api/v1/provisioning/folder/{folder_uid}/rule-groups/{group}"


def _transient(exc: BaseException) -> bool:
    import niquests
    from grafana_client.client import GrafanaException, GrafanaServerError, GrafanaTimeoutError

    if isinstance(exc, niquests.exceptions.SSLError):
        return False  # a certificate does not get better by asking again
    if isinstance(exc, (GrafanaServerError, GrafanaTimeoutError, niquests.exceptions.ConnectionError,
                        niquests.exceptions.Timeout)):
        return True
    # grafana-client wraps other transport errors (a dropped connection among them) with status 0
    return type(exc) is GrafanaException and exc.status_code == 0


def _error(what: str, exc: Exception, target: Target) -> GrafanaError:
    from grafana_client.client import GrafanaException

    if isinstance(exc, GrafanaError):
        return exc
    where = safe_url(target.url)
    if isinstance(exc, GrafanaException) and exc.status_code:
        body = exc.response if isinstance(exc.response, dict) else {}
        reason = body.get("status", "")
        message = body.get("message") or (_first_line(exc) if body else "not Grafana's JSON (is this Grafana?)")
        unauthorized = " (are GRAFANA_USER and its password right?)" if target.user else \
            " (is GRAFANA_TOKEN a valid service-account token?)"
        hint = {401: unauthorized, 403: f" ({target.who} may not do this)"}.get(exc.status_code, "")
        text = f"{what} at {where} answered {exc.status_code}: {message}{hint}"
        return GrafanaError(_redact(text, target), exc.status_code, reason)
    import niquests

    if isinstance(exc, niquests.exceptions.SSLError):
        return GrafanaError(_redact(f"{what} at {where}: TLS certificate check failed ({_first_line(exc)}); "
                                    "--insecure skips the check", target))
    kind = "timed out" if "imeout" in type(exc).__name__ else "could not connect"
    return GrafanaError(_redact(f"{what} at {where} {kind} after {RETRY_ATTEMPTS} attempts: "
                                f"{_first_line(exc)}", target))


def _first_line(exc: Exception) -> str:
    """The reason of a transport error, without the pool and object names around it."""
    text = str(exc)
    for pattern in (r"\[Errno -?\d+\] ([^'\")\]]+)", r"(Failed to resolve '[^']+')", r"object at 0x\w+>: ([^'\"(]+)"):
        found = re.search(pattern, text)
        if found:
            return found.group(1).strip().rstrip(".")
    lines = text.strip().splitlines()
    return (lines[0] if lines else type(exc).__name__)[:160]


def _redact(text: str, target: Target) -> str:
    # Nothing built here includes a secret; this guards what the libraries' messages might carry.
    for secret in target.secrets:
        if len(secret) >= 4:
            text = text.replace(secret, "***")
    return text
