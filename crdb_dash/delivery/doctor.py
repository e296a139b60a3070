"""``crdb-dash doctor``: will the dashboards and alerts show true data for what this Prometheus holds?

Reads only Prometheus' HTTP API (metric names, series and their labels, a few instant queries, rules and
targets), directly or through Grafana's datasource proxy, and reports each finding with its fix. Through
Grafana it also reads Grafana's alert rules: are the Grafana-managed alerts there, or, Prometheus-managed, are
rules of ours left there that would fire twice?
"""

from __future__ import annotations

import base64
import json
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from crdb_dash.model.catalog import METRICS, PRESENCE
from crdb_dash.model.config import DEFAULTS, PRESETS, Config, parse_duration
from crdb_dash.model.naming import Naming

LAST = "schedules_BACKUP_last_completed_time"
ESSENTIAL = {PRESENCE, LAST, "schedules_BACKUP_succeeded", "schedules_BACKUP_failed", "jobs_backup_resume_failed"}
NODE_CANDIDATES = ("instance", "pod", "node_id", "node")
SCRAPE_LABELS = {"job", "instance", "service", "endpoint", "__name__"}  # what tells two scrapes of a node apart
RECENT = 300  # seconds: a series seen this recently reports now
HISTORY = 86400  # seconds of history compared with now
DISCOVERY_WAIT = 3  # seconds: how long a Prometheus just started may take to list its targets
ENABLE_SQL = ("ALTER BACKUP SCHEDULE <schedule id> SET SCHEDULE OPTION "
              "updates_cluster_last_backup_time_metric = 'true';")


class DoctorError(Exception):
    """Prometheus cannot be read: unreachable, refusing, not Prometheus, or empty. One line."""


@dataclass
class Finding:
    level: str  # ok, warn, fail
    topic: str
    text: str
    fix: str = ""


@dataclass
class Report:
    source: str
    findings: list[Finding] = field(default_factory=list)
    detected: dict = field(default_factory=dict)
    suggested: dict = field(default_factory=dict)  # config keys that fit the data

    @property
    def healthy(self) -> bool:
        return not any(f.level == "fail" for f in self.findings)

    def add(self, level: str, topic: str, text: str, fix: str = "") -> None:
        self.findings.append(Finding(level, topic, text, fix))

    def as_json(self) -> str:
        return json.dumps({"source": self.source, "healthy": self.healthy, "detected": self.detected,
                           "suggested_config": self.suggested, "findings": [asdict(f) for f in self.findings]},
                          indent=2, sort_keys=True)

    def as_text(self) -> str:
        marks = {"ok": "[ok]  ", "warn": "[warn]", "fail": "[FAIL]"}
        lines = [f"crdb-dash doctor: {self.source}"]
        for f in self.findings:
            lines.append(f"{marks[f.level]} {f.topic}: {f.text}")
            if f.fix:
                lines.append(f"       fix: {f.fix}")
        verdict = "the dashboards will show true data" if self.healthy else "the dashboards would not show true data"
        lines.append(f"{verdict} ({sum(f.level == 'fail' for f in self.findings)} to fix, "
                     f"{sum(f.level == 'warn' for f in self.findings)} to look at)")
        return "\n".join(lines)


# ---- reading Prometheus ------------------------------------------------------------------------------------
def without_credentials(url: str) -> tuple[str, dict[str, str]]:
    """A Prometheus URL without its user:password part (the URL messages name), and that part as a basic-auth
    header."""
    parsed = urllib.parse.urlparse(url)
    if "@" in url and "@" not in parsed.netloc:  # a / ? or # in the password ended the host part early
        raise ValueError("the Prometheus URL's user:password part must be percent-encoded (/ ? # @ as %2F %3F %23 %40)")
    try:
        parsed.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        raise ValueError("the Prometheus URL's port must be a number") from None
    if parsed.username is None:
        return url, {}
    user, password = (urllib.parse.unquote(part or "") for part in (parsed.username, parsed.password))
    basic = base64.b64encode(f"{user}:{password}".encode()).decode()
    return parsed._replace(netloc=parsed.netloc.rpartition("@")[2]).geturl(), {"Authorization": f"Basic {basic}"}


def _duration(seconds: float) -> str:
    """Seconds as the config writes a duration: 2h, 90m, 45s."""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size:g}{unit}"
    return f"{seconds:g}s"


class PrometheusApi:
    """GET on Prometheus' HTTP API at ``url``; every failure is a one-line DoctorError."""

    def __init__(self, url: str, timeout: float = 10.0):
        try:
            self.where, self.headers = without_credentials(url)
        except ValueError as exc:
            raise DoctorError(str(exc)) from None
        parsed = urllib.parse.urlparse(url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise DoctorError(f"--prometheus must be an http:// or https:// URL, not {self.where!r}")
        self.url = self.where.rstrip("/")
        self.timeout = timeout

    def get(self, path: str, params: dict | None = None):
        query = urllib.parse.urlencode(params or {}, doseq=True)
        request = urllib.request.Request(f"{self.url}{path}?{query}")
        for name, value in self.headers.items():  # not sent on to where a redirect leads
            request.add_unredirected_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as resp:
                body = resp.read()
        except urllib.error.HTTPError as exc:
            hint = {401: " (Prometheus wants credentials)", 403: " (the credentials may not read this)"}
            raise DoctorError(f"{self.where} answered {exc.code} to {path}{hint.get(exc.code, '')}") from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise DoctorError(f"could not reach Prometheus at {self.where}: {reason}") from None
        try:
            doc = json.loads(body)
        except ValueError:
            raise DoctorError(f"{self.where} does not look like Prometheus: {path} did not answer JSON") from None
        return _data(doc, self.where, path)


class GrafanaProxyApi:
    """The same API through Grafana's datasource proxy, as the dashboards read it."""

    def __init__(self, grafana, datasource_uid: str):
        self.grafana = grafana
        self.uid = datasource_uid
        self.where = f"Grafana datasource {datasource_uid}"

    def get(self, path: str, params: dict | None = None):
        from crdb_dash.delivery.grafana import GrafanaError

        try:
            body = self.grafana.datasource_get(self.uid, path, params or {})
        except GrafanaError as exc:
            if exc.status == 404 and "datasource" in str(exc).lower():
                raise DoctorError(f"Grafana has no datasource with uid {self.uid}: set datasource.uid to the uid of "
                                  "the Prometheus datasource the dashboards read") from None
            raise DoctorError(str(exc)) from None
        return _data(body, self.where, path)


def _data(doc, where: str, path: str):
    """The ``data`` of a Prometheus API answer, already decoded from JSON."""
    if not isinstance(doc, dict) or doc.get("status") != "success" or "data" not in doc:
        raise DoctorError(f"{where} does not look like Prometheus: {path} answered no Prometheus API result")
    return doc["data"]


# ---- what the data looks like ------------------------------------------------------------------------------
def detect_naming(names: set[str]) -> Naming | None:
    """The naming under which most catalog metrics exist, or None when there are none at all."""
    prefixes = {""}
    for name in names:
        found = re.fullmatch(r"(?i)(.*?)(jobs_backup_currently_running|jobs_resume|schedules_backup_started)", name)
        if found:
            prefixes.add(found.group(1))
    candidates = [Naming(p, lower, static) for p in sorted(prefixes) for lower in (False, True)
                  for static in (False, True)]
    scored = [(sum(n.family(m.exported)[0] in names for m in METRICS), -i, n) for i, n in enumerate(candidates)]
    best = max(scored, key=lambda s: s[:2])
    return best[2] if best[0] else None


def _preset_for(naming: Naming, labels: set[str], jobs: set[str]) -> str:
    if naming.static_labels:
        return "metrics-endpoint"
    if naming.prefix.lower().startswith("crdb_cloud"):
        return "cloud"
    if naming.prefix.lower().startswith("crdb_dedicated"):
        return "dedicated"
    if "cluster" not in labels and any(j.endswith("-public") for j in jobs):
        return "helm"
    return "self-hosted"


def _node_label(series: list[dict], cluster: str, preferred: str) -> str | None:
    """The first label present on every series that tells apart the nodes (node_id) of each cluster."""
    for label in dict.fromkeys((preferred, *NODE_CANDIDATES)):
        if not series or any(label not in s for s in series):
            continue
        values, nodes = defaultdict(set), defaultdict(set)
        for s in series:
            values[s.get(cluster, "")].add(s[label])
            nodes[s.get(cluster, "")].add(s.get("node_id", s[label]))
        if all(len(values[c]) >= len(nodes[c]) for c in nodes):
            return label
    return None


class Doctor:
    def __init__(self, api, cfg: Config, progress: Callable[[str], None] = lambda _: None, now: float | None = None):
        self.api = api
        self.cfg = cfg
        self.progress = progress
        self.now = time.time() if now is None else now
        self.report = Report(api.where)
        self._series: dict[tuple[str, float], list[dict]] = {}

    def series(self, selector: str, since: float) -> list[dict]:
        """Series matching ``selector`` since then; each question is asked of Prometheus once."""
        if (selector, since) not in self._series:
            self._series[selector, since] = self.api.get("/api/v1/series",
                                                         {"match[]": selector, "start": since, "end": self.now})
        return self._series[selector, since]

    def query(self, expr: str) -> list[dict]:
        return self.api.get("/api/v1/query", {"query": expr, "time": self.now})["result"]

    def run(self) -> Report:
        self.progress("reading metric names")
        self._check_prometheus()
        names = set(self.api.get("/api/v1/label/__name__/values"))
        if not names:
            raise DoctorError(f"{self.api.where} holds no series at all: is anything scraped?")
        naming = detect_naming(names)
        if naming is None:
            raise DoctorError(f"{self.api.where} holds no CockroachDB backup metric under any known name or prefix: "
                              "scrape every CockroachDB node's /_status/vars (README, 'Pick your setup')")
        self.progress("reading series labels")
        history = self.series(naming.selector(PRESENCE, ""), self.now - HISTORY)
        layout = self._layout(naming, history)
        self._check_selector(naming, layout)
        self._check_reporting(naming, layout)
        self.progress("checking metric families and the recovery point gauge")
        self._check_families(naming, names, layout)
        self._check_rpo(naming, layout)
        self._check_rules()
        self._check_scrape_interval()
        if isinstance(self.api, GrafanaProxyApi):
            self.progress("reading Grafana's alert rules")
            self._check_alert_rules(self.api.grafana)
        return self.report

    def _check_prometheus(self) -> None:
        try:
            info = self.api.get("/api/v1/status/buildinfo")
            self.report.detected["prometheus"] = info.get("version", "") if isinstance(info, dict) else ""
        except DoctorError as exc:
            if "answered 404" not in str(exc):
                raise

    def _layout(self, naming: Naming, history: list[dict]) -> dict:
        labels = set().union(*(s.keys() for s in history)) if history else set()
        jobs = {s.get("job", "") for s in history}
        preset = _preset_for(naming, labels, jobs)
        suggested = _preset_config(preset)
        cluster = suggested["labels"]["cluster"]
        node = _node_label(history, cluster, suggested["labels"]["node"]) or suggested["labels"]["node"]
        suggested["labels"]["node"] = node
        layout = {"preset": preset, "naming": asdict(naming), "labels": sorted(labels), "jobs": sorted(jobs),
                  "cluster_label": cluster, "node_label": node}
        self.report.detected.update(layout)
        self.report.suggested = suggested
        if asdict(naming) != self.cfg["naming"]:
            self.report.add("fail", "naming", f"the metrics are named as the {preset} setup names them "
                            f"(e.g. {naming.selector(PRESENCE, '')}), not as the config says "
                            f"({Naming(**self.cfg['naming']).selector(PRESENCE, '')})", f"preset: {preset}")
        else:
            self.report.add("ok", "naming", f"metric names fit the config ({preset} layout)")
            merged = sorted({s.get(cluster, "") for s in history}) if self.cfg.cluster not in labels else []
            if self.cfg.node not in labels and node in labels:
                self.report.add("fail", "labels", f"no series has the label {self.cfg.node}, so each cluster's nodes "
                                f"would show as one; the data names nodes by {node}", f"labels.node: {node}")
            if len(merged) > 1:
                self.report.add("fail", "labels", f"no series has the label {self.cfg.cluster}, so the {len(merged)} "
                                f"clusters told apart by {cluster} ({_some(merged)}) would show as one",
                                f"preset: {preset} (labels.cluster: {cluster})")
            elif (suggested["labels"], suggested["selector"]) != (self.cfg["labels"], self.cfg["selector"]):
                self.report.add("warn", "labels", f"the data fits preset {preset} (selector {suggested['selector']}, "
                                f"labels {_pairs(suggested['labels'])}); the config says selector "
                                f"{self.cfg['selector']}, labels {_pairs(self.cfg['labels'])}",
                                "crdb-dash doctor --write-config FILE")
        return {"cluster": cluster, "node": node, "selector": suggested["selector"]}

    def _check_selector(self, naming: Naming, layout: dict) -> None:
        cfg = self.cfg
        mine = self.series(naming.selector(PRESENCE, cfg["selector"]), self.now - RECENT)
        if not mine:
            jobs = sorted({s.get("job", "") for s in self.series(naming.selector(PRESENCE, ""), self.now - RECENT)})
            self.report.add("fail", "selector", f"{cfg['selector']} selects no series; the data has job "
                            + _some(f'"{j}"' for j in jobs), f"selector: '{layout['selector']}'")
            mine = self.series(naming.selector(PRESENCE, layout["selector"]), self.now - RECENT)
        else:
            self.report.add("ok", "selector", f"{cfg['selector']} selects {len(mine)} series")
        copies = defaultdict(list)
        for s in mine:  # the same node seen through two scrape targets differs only in the target's labels
            copies[tuple(sorted((k, v) for k, v in s.items() if k not in SCRAPE_LABELS))].append(s)
        doubled = {k: v for k, v in copies.items() if len(v) > 1}
        if doubled:
            jobs = sorted({s.get("job", "") for v in doubled.values() for s in v})
            self.report.add("fail", "duplicates", f"{len(doubled)} node(s) are scraped more than once (jobs "
                            f"{_some(jobs)}): every count would be doubled",
                            f"selector: '{layout['selector']}' (keeps one scrape of each node)")
        else:
            self.report.add("ok", "duplicates", "each node is scraped once")

    def _check_reporting(self, naming: Naming, layout: dict) -> None:
        sel = naming.selector(PRESENCE, layout["selector"])
        keys = (layout["cluster"], layout["node"])
        now = {tuple(s.get(k, "") for k in keys) for s in self.series(sel, self.now - RECENT)}
        before = {tuple(s.get(k, "") for k in keys) for s in self.series(sel, self.now - HISTORY)}
        clusters_now, clusters_before = {c for c, _ in now}, {c for c, _ in before}
        self.report.detected["clusters"] = sorted(clusters_now)
        self.report.detected["nodes"] = len(now)
        gone = sorted(clusters_before - clusters_now)
        lost_nodes = sorted(n for n in before - now if n[0] in clusters_now)
        self.report.add("ok", "reporting", f"{len(clusters_now)} cluster(s), {len(now)} node(s) report now")
        if gone:
            self.report.add("warn", "reporting", "stopped reporting in the last 24h: cluster(s) "
                            + ", ".join(gone), "check the scrape targets and relabelling of those clusters")
        if lost_nodes:
            self.report.add("warn", "reporting", "stopped reporting in the last 24h: node(s) "
                            + ", ".join(f"{n} of {c}" for c, n in lost_nodes),
                            "a node that left or was replaced; if not, check its scrape target")

    def _check_families(self, naming: Naming, names: set[str], layout: dict) -> None:
        version = self._version(naming, layout)
        missing = []
        for m in METRICS:
            if m.by_label:
                continue  # has series only for each virtual cluster backed up by host schedules
            name, labels = naming.family(m.exported)
            present = name in names and (not labels or self.series(naming.selector(m.exported, ""),
                                                                    self.now - RECENT))
            if not present and not _absent_in(m.versions, version):
                missing.append(m.exported)
        essential = sorted(set(missing) & ESSENTIAL)
        if essential:
            self.report.add("fail", "metrics", "missing: " + ", ".join(essential),
                            "scrape every node's /_status/vars (an export that filters metrics must keep these)")
        rest = sorted(set(missing) - ESSENTIAL)
        if rest:
            self.report.add("warn", "metrics", f"{len(rest)} metric(s) absent"
                            + (f" for CockroachDB {version}" if version else "") + ": " + ", ".join(rest),
                            "their panels will say No data; an export that filters metrics may drop them")
        if not missing:
            self.report.add("ok", "metrics", "every backup, restore and schedule metric is there")

    def _version(self, naming: Naming, layout: dict) -> str:
        found = self.series(naming.selector("build_timestamp", layout["selector"]), self.now - RECENT)
        tags = sorted({s["tag"] for s in found if s.get("tag")})
        self.report.detected["cockroachdb_versions"] = tags
        return tags[0] if tags else ""

    def _check_rpo(self, naming: Naming, layout: dict) -> None:
        expr = (f"max by ({layout['cluster']}) (max_over_time({naming.selector(LAST, layout['selector'])}"
                f"[{self.cfg.get('rpo.window')}]))")
        values = {r["metric"].get(layout["cluster"], ""): float(r["value"][1]) for r in self.query(expr)}
        unmaintained = sorted(c for c, v in values.items() if v == 0)
        if not values or unmaintained:
            which = ", ".join(unmaintained) if values else "every cluster"
            self.report.add("warn", "recovery point", f"no schedule maintains {LAST} in {which}: the recovery point "
                            "shows Unknown", f"in SQL, for each backup schedule: {ENABLE_SQL}")
        else:
            self.report.add("ok", "recovery point", "every cluster's schedules maintain the recovery point gauge")

    def _check_rules(self) -> None:
        from crdb_dash.model.promql import RPO_RECORD, RULES_FILE, RULES_VERSION, RULES_VERSION_RECORD

        groups = self.api.get("/api/v1/rules", {"type": "record"}).get("groups", [])
        queries = {r.get("name"): r.get("query", "") for g in groups for r in g.get("rules", [])}
        loaded = RPO_RECORD in queries
        fix = f"add {RULES_FILE} to Prometheus' rule_files"
        version = re.fullmatch(r"vector\((\d+)\)", queries.get(RULES_VERSION_RECORD, "").replace(" ", ""))
        if loaded and (not version or int(version.group(1)) < RULES_VERSION):
            self.report.add("warn", "recording rules", "an older rule file is loaded: the Fleet's table reads "
                            "records it lacks and shows empty cells",
                            f"load this release's {RULES_FILE}")
        elif loaded and (differ := self._targets_differ()):
            self.report.add("warn", "recording rules", f"loaded, but built from another config: they record {differ}; "
                            "the alerts and the Fleet's Status judge by the recorded targets",
                            f"load the {RULES_FILE} built from this config")
        elif loaded:
            self.report.add("ok", "recording rules", "loaded")
        elif self.cfg.get("alerts.grafana_managed"):
            self.report.add("fail", "recording rules", f"alerts.grafana_managed is true but {RPO_RECORD} is not "
                            "loaded: the Grafana-managed alerts read the recorded memory and targets, and cannot "
                            "fire without them", fix)
        elif self.cfg.get("rpo.recorded"):
            self.report.add("fail", "recording rules", f"rpo.recorded is true but {RPO_RECORD} is not loaded",
                            f"{fix}, or set rpo.recorded: false")
        else:
            self.report.add("warn", "recording rules", "not loaded: the Fleet's table is empty, the dashboards forget "
                            "a backup rpo.window after its node restarted, and RPO compliance shows no data", fix)

    def _targets_differ(self) -> str:
        """The first recorded target (rpo.*, freshness.*; rpo.overrides) that differs from this config's, as text;
        empty when every recorded target agrees."""
        from crdb_dash.model.alerts import SEVERITIES
        from crdb_dash.model.promql import TARGET_RECORDS, record_target

        def by_row(expr: str) -> dict[tuple, float]:
            return {(s["metric"].get(self.cfg.cluster, ""), s["metric"].get(self.cfg.tenant, "")): float(s["value"][1])
                    for s in self.query(expr)}

        for kind, record in TARGET_RECORDS.items():
            for severity in SEVERITIES:
                wanted = by_row(record_target(self.cfg, severity, kind))
                for (cluster, tenant), seconds in sorted(by_row(f'{record}{{severity="{severity}"}}').items()):
                    if (cluster, tenant) in wanted and seconds != wanted[cluster, tenant]:
                        return (f"{kind}.{severity} {_duration(seconds)} for {cluster} ({tenant}), where this config "
                                f"says {_duration(wanted[cluster, tenant])}")
        return ""

    def _check_alert_rules(self, grafana) -> None:
        from crdb_dash.delivery import alert_rules
        from crdb_dash.delivery.grafana import GrafanaError
        from crdb_dash.pipeline.rules import GRAFANA_FILE, GROUP

        folder = self.cfg.get("grafana.folder_uid")
        try:
            found = {r.get("uid"): r for r in grafana.alert_rules()}
        except GrafanaError as exc:
            self.report.add("warn", "alert rules", f"cannot read Grafana's alert rules: {exc}",
                            "read them with the credentials deploy uses")
            return
        if not self.cfg.get("alerts.grafana_managed"):
            left = [r for r in found.values() if alert_rules.owned(r, folder, alert_rules.defined_uids(self.cfg))]
            if left:
                self.report.add("warn", "alert rules", f"{len(left)} alert rule(s) of crdb-dash are in Grafana while "
                                "alerts.grafana_managed is false: each fires beside Prometheus' alert",
                                "crdb-dash deploy --prune deletes them")
            return
        wanted = alert_rules.desired(self.cfg)
        where = f"folder {folder}, group {GROUP}"
        there = [w for w in wanted if (found.get(w["uid"]) or {}).get("folderUID") == folder
                 and found[w["uid"]].get("ruleGroup") == GROUP]
        if len(there) < len(wanted):
            self.report.add("fail", "alert rules", f"{len(wanted) - len(there)} of the {len(wanted)} Grafana-managed "
                            f"alert rules are missing in Grafana ({where}): those alerts cannot fire",
                            f"crdb-dash deploy (or provision {GRAFANA_FILE})")
        else:
            self.report.add("ok", "alert rules", f"all {len(wanted)} Grafana-managed alert rules are in Grafana "
                            f"({where})")
        differ = sum(1 for w in there if not alert_rules.same(found[w["uid"]], w))
        if differ:
            self.report.add("warn", "alert rules", f"{differ} of them differ from what this config builds",
                            "crdb-dash diff shows how; crdb-dash deploy updates them")

    def _check_scrape_interval(self) -> None:
        jobs = set(self.report.detected.get("jobs", []))
        seen = self._scrape_intervals(jobs)
        if not seen and self._just_started(jobs):  # discovery has not listed the targets yet: ask once more
            time.sleep(DISCOVERY_WAIT)
            seen = self._scrape_intervals(jobs)
        configured = self.cfg["scrape_interval"]
        if not seen:
            self.report.add("warn", "scrape interval", f"no active scrape target of jobs {_some(sorted(jobs))}: "
                            f"cannot check scrape_interval ({configured})")
            return
        self.report.suggested["scrape_interval"] = seen[-1]
        longest = max(parse_duration(s) for s in seen)
        if longest > parse_duration(configured):
            self.report.add("fail", "scrape interval", f"targets are scraped every {', '.join(seen)}, the config "
                            f"says {configured}: rate windows would be too short", f"scrape_interval: {seen[-1]}")
        else:
            self.report.add("ok", "scrape interval", f"{', '.join(seen)} (config: {configured})")


    def _scrape_intervals(self, jobs: set[str]) -> list[str]:
        targets = self.api.get("/api/v1/targets", {"state": "active"}).get("activeTargets", [])
        return sorted({t.get("scrapeInterval", "") for t in targets if t.get("labels", {}).get("job") in jobs} - {""})

    def _just_started(self, jobs: set[str]) -> bool:
        """Whether Prometheus started within the last minute with a scrape job of ``jobs`` configured (False when
        it cannot say)."""
        from datetime import datetime

        try:
            started = self.api.get("/api/v1/status/runtimeinfo").get("startTime", "")
            when = datetime.fromisoformat(started.replace("Z", "+00:00")).timestamp()
            configured = self.api.get("/api/v1/status/config").get("yaml", "")
        except (DoctorError, AttributeError, ValueError):
            return False
        named = any(re.search(rf"job_name: ['\"]?{re.escape(job)}['\"]?$", configured, re.M) for job in jobs)
        return named and time.time() - when < 60


def write_config(report: Report, user_file: str | None, out) -> None:
    """The user's config file (or none) with the keys that fit the data; validated, then written atomically."""
    import tempfile
    from pathlib import Path

    import yaml

    from crdb_dash.model import config
    from crdb_dash.pipeline.serialize import to_yaml, write_atomic

    data = yaml.safe_load(Path(user_file).read_text(encoding="utf-8")) if user_file else None
    data = {**(data or {}), **report.suggested}
    text = to_yaml(data)
    with tempfile.TemporaryDirectory() as work:
        probe = Path(work) / Path(out).name
        probe.write_text(text, encoding="utf-8")
        config.load(probe)  # raises ConfigError before anything is written
    write_atomic(Path(out), text)


def _preset_config(preset: str) -> dict:
    """The selector, labels and naming a preset sets, on top of the defaults (its other keys come with its name)."""
    out = {"preset": preset, "selector": DEFAULTS["selector"], "labels": dict(DEFAULTS["labels"]),
           "naming": dict(DEFAULTS["naming"])}
    for key, value in PRESETS[preset].items():
        if key in out:
            out[key] = {**out[key], **value} if isinstance(value, dict) else value
    return out


def _pairs(labels: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in labels.items())


def _some(items, shown: int = 4) -> str:
    items = list(items)
    more = f" and {len(items) - shown} more" if len(items) > shown else ""
    return ", ".join(items[:shown]) + more


def _absent_in(versions: str, version: str) -> bool:
    """Whether a metric is expected to be missing on ``version`` (e.g. "removed in v25.4", "v25.3+")."""
    if not version:
        return "removed in" in versions
    have = _version_tuple(version)
    removed = re.search(r"removed in (v[\d.]+)", versions)
    added = re.search(r"(v[\d.]+)\+", versions)
    return bool(removed and have >= _version_tuple(removed.group(1))
                or added and have < _version_tuple(added.group(1)))


def _version_tuple(tag: str) -> tuple[int, ...]:
    return tuple(int(x) for x in re.findall(r"\d+", tag)[:2])
