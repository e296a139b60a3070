"""The one configuration: selectors, labels, thresholds and Grafana settings.

Built-in defaults are overridden by a YAML file (``--config FILE``). Every
threshold and label name the dashboards, rules and deploy use is read from here.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from crdb_dash.model.naming import Naming

DEFAULTS: dict = {
    "selector": 'job="cockroachdb"',
    "labels": {"cluster": "cluster", "node": "instance", "tenant": "tenant"},
    "scrape_interval": "10s",
    # recorded: dashboards read the recording rule below instead of max_over_time at every step
    # overrides: per-cluster targets, [{match: {cluster: "prod-.*"}, warning: 26h, critical: 30h}], first match wins;
    # the freshness levels too, unless the entry sets its own: freshness: {warning: 25h, critical: 28h}
    # compliance: the share of time the recovery point was within its target (see alerts.compliance_rules)
    "rpo": {"warning": "2h", "critical": "6h", "window": "6h", "recorded": False, "overrides": [],
            "compliance": {"period": "30d", "objective": 0.995, "target": "critical", "unknown": "excluded"}},
    "alerts": {
        "failure_window": "1h",
        "paused_for": "1h",
        "running_longer_than": "2h",
        "protected_age": "24h",
        "retries": 3,
        # empty: link to the runbooks dashboard when grafana.url is set, else to docs/runbooks.md
        "runbook_url": "",
        "evaluation_interval": "1m",
        # false: Prometheus evaluates the alerts (rules/); true: Grafana does (provisioning/alerting/), never both
        "grafana_managed": False,
        # a cluster (or virtual cluster) that exported backup metrics and stopped: alert after this long
        "not_reporting_for": "10m",
        # how long the alerts remember a cluster after it last reported (a retired cluster alerts this long);
        # while it reports, its last success and recovery point are never forgotten
        "forget_after": "7d",
        # RecoveryPointUnknown: a recovery point once known (recording rule) unknown for this long
        "recovery_point_unknown_for": "1h",
    },
    # time since a scheduled backup last succeeded (schedules_BACKUP_succeeded): the freshness alert's levels,
    # which need no schedule option
    "freshness": {"warning": "2h", "critical": "6h"},
    "datasource": {"uid": "crdb-backups-prometheus", "name": "Prometheus (CockroachDB backups)",
                   "url": "http://prometheus:9090", "provision": True},
    "grafana": {"folder": "CockroachDB Backups", "folder_uid": "crdb-backups", "uid_prefix": "crdb-backups",
                "url": ""},
    "preset": "self-hosted",  # see PRESETS; a config file's own keys override the preset's
    "naming": {"prefix": "", "lower_case": False, "static_labels": False},
    "tags": ["cockroachdb", "backups"],
    # CockroachDB's DB Console, e.g. https://crdb.example.com:8080 (may use ${cluster}); "" adds no link
    "db_console_url": "",
    "schema_version": 41,
    # kubernetes/: Prometheus Operator and Grafana sidecar objects (kube-prometheus-stack's defaults)
    "kubernetes": {
        "namespace": "monitoring",
        "labels": {"release": "kube-prometheus-stack"},
        "dashboard_labels": {"grafana_dashboard": "1"},
        "folder_annotation": "grafana_folder",
        "service_selector": {"app.kubernetes.io/name": "cockroachdb"},
        "service_namespaces": [],
        "port": "http",
        "scheme": "https",
        "tls_skip_verify": True,
        # write servicemonitor.yaml and scrape-config.yaml; false where another scrape config names the clusters
        # (preset helm: the chart's own ServiceMonitor; Cloud and Dedicated: their metrics export)
        "service_monitor": True,
        # a cluster's name, from its Service: ${namespace} and ${release} (label app.kubernetes.io/instance: the
        # Helm release, or the CrdbCluster's name under the CockroachDB Operator)
        "cluster_name": "${namespace}/${release}",
        # the alert-rule ConfigMap (alerts.grafana_managed) for the Grafana sidecar's sidecar.alerts.label
        "alert_labels": {"grafana_alert": "1"},
    },
}

# How the metrics reach Prometheus in common setups (NAMING.md): names, labels and the selector.
PRESETS: dict[str, dict] = {
    "self-hosted": {},
    "metrics-endpoint": {"naming": {"static_labels": True}},
    "cloud": {"naming": {"prefix": "crdb_cloud_"}, "selector": 'cluster!=""', "labels": {"node": "node_id"},
              "kubernetes": {"service_monitor": False}},
    "dedicated": {"naming": {"prefix": "crdb_dedicated_", "lower_case": True}, "selector": 'cluster!=""',
                  "labels": {"node": "node_id"}, "kubernetes": {"service_monitor": False}},
    # The Helm chart's own ServiceMonitor (serviceMonitor.enabled): it cannot relabel, so a cluster is its
    # namespace (one release per namespace). The chart's discovery Service is named after the release and ends
    # in "cockroachdb"; its -public Service selects the same pods, so matching the job keeps one scrape of each.
    "helm": {"selector": 'job=~".*cockroachdb"', "labels": {"cluster": "namespace", "node": "pod"},
             "kubernetes": {"service_monitor": False}},
}

# Mappings a config file replaces whole: their keys are the user's own (Kubernetes labels).
FREE_MAPPINGS = {"kubernetes.labels", "kubernetes.dashboard_labels", "kubernetes.service_selector",
                 "kubernetes.alert_labels"}
# Labels the Prometheus Operator gives every target of a ServiceMonitor (prometheus-operator,
# pkg/prometheus/promcfg.go, generateServiceMonitorConfig), and the labels CockroachDB's own series carry.
OPERATOR_LABELS = ("namespace", "service", "pod", "container", "endpoint", "job", "instance")
NODE_LABELS = ("instance", "pod", "node_id")

SCHEMA_VERSIONS = range(39, 43)
_LABEL = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
_UID = re.compile(r"^[a-zA-Z0-9_-]{1,40}$")
_WEB_URL = re.compile(r"^https?://[^\s/?#]+[^\s]*$")
_DURATION = re.compile(r"^([0-9]+(ms|s|m|h|d|w|y))+$")


class ConfigError(Exception):
    """A bad configuration file or value; the message is one line naming the key."""


def parse_duration(text: str) -> int:
    """Seconds in a Prometheus duration such as ``90m`` or ``1h30m``."""
    import promql_parser

    return int(promql_parser.parse_duration(text).total_seconds())


@dataclass(frozen=True)
class Config:
    raw: dict
    source: str
    warnings: tuple[str, ...] = ()  # legal but risky values, one line each

    def __getitem__(self, key: str):
        return self.raw[key]

    def seconds(self, dotted: str) -> int:
        return parse_duration(self.get(dotted))

    def get(self, dotted: str):
        return _dig(self.raw, dotted)

    @property
    def naming(self):
        return Naming(**self.raw["naming"])

    @property
    def cluster(self) -> str:
        return self.raw["labels"]["cluster"]

    @property
    def node(self) -> str:
        return self.raw["labels"]["node"]

    @property
    def tenant(self) -> str:
        return self.raw["labels"]["tenant"]


def load(path: str | Path | None = None) -> Config:
    """Defaults merged with the YAML file at ``path``; raises ConfigError."""
    raw = copy.deepcopy(DEFAULTS)
    source = "built-in defaults"
    if path is not None:
        source = str(path)
        data = _read(Path(path), source)
        _apply_preset(raw, data.get("preset", raw["preset"]), source)
        _merge(raw, data, source, prefix="")
    warnings = _validate(raw, source)
    return Config(raw, source, tuple(warnings))


def _read(path: Path, source: str) -> dict:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{source}: cannot read config file: {exc.strerror}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise ConfigError(f"{source}: not UTF-8 text (byte 0x{data[exc.start]:02x} on line {line}); "
                          "save the file as UTF-8") from None
    try:
        duplicate = _duplicate_key(yaml.compose(text, Loader=yaml.SafeLoader))
        if duplicate:
            raise ConfigError(f"{source}: {duplicate}")
        mapping = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise ConfigError(f"{source}: not valid YAML{where}") from None
    if mapping is None:
        return {}
    if not isinstance(mapping, dict):
        raise ConfigError(f"{source}: the top level must be a mapping of keys")
    return mapping


def _duplicate_key(node, prefix: str = "") -> str | None:
    """'key X appears twice (lines A and B)' for the first key given twice in one mapping, else None.

    PyYAML keeps the last of duplicate keys silently; a merge key (<<) is not a duplicate of what it merges.
    """
    if isinstance(node, yaml.SequenceNode):
        return next(filter(None, (_duplicate_key(item, f"{prefix}{i}.") for i, item in enumerate(node.value))), None)
    if not isinstance(node, yaml.MappingNode):
        return None
    seen: dict[tuple, int] = {}
    for key_node, value_node in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge" or not isinstance(key_node, yaml.ScalarNode):
            continue
        dotted, line = f"{prefix}{key_node.value}", key_node.start_mark.line + 1
        key = (key_node.tag, key_node.value)
        if key in seen:
            return f"key '{dotted}' appears twice (lines {seen[key]} and {line})"
        seen[key] = line
        found = _duplicate_key(value_node, f"{dotted}.")
        if found:
            return found
    return None


def with_preset(cfg: Config, name: str) -> Config:
    """``cfg`` with a preset's naming, labels and selector on top (``crdb-dash demo --preset``)."""
    raw = copy.deepcopy(cfg.raw)
    raw["preset"] = name
    _apply_preset(raw, name, cfg.source)
    return Config(raw, cfg.source, tuple(_validate(raw, cfg.source)))


def _apply_preset(raw: dict, name, source: str) -> None:
    if not isinstance(name, str) or name not in PRESETS:
        raise ConfigError(f"{source}: key 'preset' must be one of {', '.join(PRESETS)}, not {name!r}")
    _merge(raw, PRESETS[name], f"preset {name}", prefix="")


def _merge(base: dict, override: dict, source: str, prefix: str) -> None:
    for key, value in override.items():
        dotted = f"{prefix}{key}"
        if key not in base:
            import difflib

            near = difflib.get_close_matches(str(key), list(base), n=1, cutoff=0.75)
            raise ConfigError(f"{source}: unknown key '{dotted}'" + (f" (did you mean '{prefix}{near[0]}'?)"
                                                                     if near else ""))
        if isinstance(base[key], dict):
            if not isinstance(value, dict):
                raise ConfigError(f"{source}: key '{dotted}' must be a mapping")
            if dotted in FREE_MAPPINGS:
                base[key] = value
                continue
            _merge(base[key], value, source, prefix=f"{dotted}.")
        else:
            base[key] = value


def _validate(raw: dict, source: str) -> list[str]:
    """Raises ConfigError for a value that cannot work; returns warnings for legal but risky ones."""
    warnings = []

    def fail(key: str, why: str):
        raise ConfigError(f"{source}: key '{key}' {why}")

    def warn(key: str, why: str):
        warnings.append(f"{source}: key '{key}' {why}")

    def duration(key: str) -> int:
        value = _dig(raw, key)
        if not isinstance(value, str) or not _DURATION.match(value):
            fail(key, f"must be a Prometheus duration such as 90m or 2h, not {value!r}")
        try:
            seconds = parse_duration(value)
        except ValueError:
            seconds = 0
        if seconds <= 0:
            fail(key, "must be a positive duration")
        return seconds

    def text(key: str, pattern: re.Pattern | None = None, what: str = "") -> str:
        value = _dig(raw, key)
        if not isinstance(value, str) or not value.strip():
            fail(key, "must be a non-empty string")
        if pattern is not None and not pattern.match(value):
            fail(key, f"must be {what}, not {value!r}")
        return value

    scrape = duration("scrape_interval")
    for key in ("rpo.warning", "rpo.critical", "rpo.window", "alerts.failure_window", "alerts.paused_for",
                "alerts.running_longer_than", "alerts.protected_age", "alerts.evaluation_interval",
                "alerts.not_reporting_for", "alerts.forget_after", "alerts.recovery_point_unknown_for",
                "freshness.warning", "freshness.critical"):
        if duration(key) < scrape:
            fail(key, f"must not be shorter than scrape_interval ({raw['scrape_interval']})")
    if duration("rpo.warning") > duration("rpo.critical"):
        fail("rpo.warning", "must not be above rpo.critical")
    _check_freshness(raw, duration, fail)
    if duration("alerts.failure_window") < 4 * scrape:
        fail("alerts.failure_window", "must cover at least 4 scrape intervals")
    _check_windows(raw, duration, fail, warn)
    for key in ("labels.cluster", "labels.node", "labels.tenant"):
        text(key, _LABEL, "a Prometheus label name")
    text("selector")
    _check_selector(raw["selector"], raw["labels"]["cluster"], source)
    for key in ("datasource.uid", "grafana.folder_uid"):
        text(key, _UID, "1 to 40 letters, digits, '-' or '_'")
    text("grafana.uid_prefix", re.compile(r"^[a-zA-Z0-9_-]{1,24}$"), "1 to 24 letters, digits, '-' or '_'")
    for key in ("datasource.name", "datasource.url", "grafana.folder"):
        text(key)
    prefix = raw["naming"]["prefix"]
    if not isinstance(prefix, str) or not re.fullmatch(r"([a-zA-Z_][a-zA-Z0-9_]*)?", prefix):
        fail("naming.prefix", f"must be empty or a metric-name prefix such as crdb_cloud_, not {prefix!r}")
    for key in ("lower_case", "static_labels"):
        if not isinstance(raw["naming"][key], bool):
            fail(f"naming.{key}", f"must be true or false, not {raw['naming'][key]!r}")
    for key in ("alerts.grafana_managed", "datasource.provision"):
        if not isinstance(_dig(raw, key), bool):
            fail(key, f"must be true or false, not {_dig(raw, key)!r}")
    for key in ("alerts.runbook_url", "grafana.url"):
        value = _dig(raw, key)
        if not isinstance(value, str) or (value and not _WEB_URL.match(value)):
            fail(key, f"must be empty or an http(s) URL, not {value!r}")
    _validate_rpo_targets(raw, fail, warn, duration)
    if not isinstance(raw["rpo"]["recorded"], bool):
        fail("rpo.recorded", f"must be true or false, not {raw['rpo']['recorded']!r}")
    retries = raw["alerts"]["retries"]
    if not isinstance(retries, int) or isinstance(retries, bool) or retries < 0:
        fail("alerts.retries", f"must be a whole number of 0 or more, not {retries!r}")
    tags = raw["tags"]
    if not isinstance(tags, list) or not all(isinstance(t, str) and t for t in tags):
        fail("tags", "must be a list of non-empty strings")
    console = raw["db_console_url"]
    if not isinstance(console, str) or (console and not _WEB_URL.match(console)):
        fail("db_console_url", f"must be empty or an http(s) URL such as https://crdb.example.com:8080, "
                               f"not {console!r}")
    _validate_kubernetes(raw, fail, warn, text)
    version = raw["schema_version"]
    if not isinstance(version, int) or isinstance(version, bool) or version not in SCHEMA_VERSIONS:
        fail("schema_version", f"must be one of 39, 40, 41, 42, not {version!r}")
    if raw["alerts"]["grafana_managed"] and duration("alerts.evaluation_interval") % 10:
        fail("alerts.evaluation_interval", f"must be a multiple of 10s when Grafana evaluates the alerts (Grafana "
             f"refuses other rule group intervals), not {raw['alerts']['evaluation_interval']!r}")
    if raw["alerts"]["grafana_managed"] and version < 41:
        # Grafana-managed rules are titled with the alert names, which repeat (one per severity or holder):
        # Grafana allows that in one folder only from 12.0.
        fail("alerts.grafana_managed", f"needs Grafana 12.0 or later, but schema_version {version} is for an "
             "older Grafana (rule titles must be unique in a folder before 12.0)")
    return warnings


def override_level(raw: dict, override: dict, kind: str, severity: str) -> str:
    """An rpo.overrides entry's ``severity`` level for ``kind`` (rpo or freshness): its own, else (freshness) its RPO
    target, else the configured default."""
    if kind == "freshness":
        own = override.get("freshness", {}).get(severity) or override.get(severity)
    else:
        own = override.get(severity)
    return own or raw[kind][severity]


COMPLIANCE_TARGETS = ("warning", "critical")
UNKNOWN_COUNTS = ("violation", "compliant", "excluded")  # how a minute with no known recovery point counts
_OVERRIDE_KEYS = {"match", "warning", "critical", "freshness"}


def _validate_rpo_targets(raw: dict, fail, warn, duration) -> None:
    """rpo.overrides and rpo.compliance."""
    compliance = raw["rpo"]["compliance"]
    if duration("rpo.compliance.period") < 3600:
        fail("rpo.compliance.period", "must be at least 1h")
    objective = compliance["objective"]
    if isinstance(objective, bool) or not isinstance(objective, int | float) or not 0 < objective < 1:
        fail("rpo.compliance.objective", f"must be a fraction between 0 and 1 such as 0.995, not {objective!r}")
    for key, allowed in (("target", COMPLIANCE_TARGETS), ("unknown", UNKNOWN_COUNTS)):
        if compliance[key] not in allowed:
            fail(f"rpo.compliance.{key}", f"must be one of {', '.join(allowed)}, not {compliance[key]!r}")
    overrides = raw["rpo"]["overrides"]
    if not isinstance(overrides, list):
        fail("rpo.overrides", "must be a list such as [{match: {cluster: 'prod-.*'}, warning: 26h, critical: 30h}]")
    labels = (raw["labels"]["cluster"], raw["labels"]["tenant"])
    window = duration("rpo.window")
    for i, override in enumerate(overrides):
        key = f"rpo.overrides[{i}]"
        if not isinstance(override, dict) or not override.get("match"):
            fail(key, "must be a mapping with a non-empty 'match' and a warning and/or critical duration")
        if unknown := sorted(set(override) - _OVERRIDE_KEYS):
            fail(key, f"has unknown key '{unknown[0]}' (known: match, warning, critical, freshness)")
        if not isinstance(override["match"], dict):
            fail(f"{key}.match", "must be a mapping of label names to regular expressions")
        for label, regex in override["match"].items():
            if label not in labels:
                fail(f"{key}.match", f"matches label '{label}'; only the configured labels {' and '.join(labels)} can "
                                     "be matched")
            if not isinstance(regex, str) or not _regex_ok(regex):
                fail(f"{key}.match.{label}", f"must be a regular expression such as 'prod-.*', not {regex!r}")
            if _RE2_ONLY.search(regex):
                fail(f"{key}.match.{label}", f"uses syntax Grafana's (JavaScript) regular expressions lack, so the "
                                             f"panels could not colour by it: {regex!r}")
        if not {"warning", "critical", "freshness"} & set(override):
            fail(key, "sets neither warning, critical nor freshness")
        freshness = override.get("freshness", {"warning": None})
        if not isinstance(freshness, dict) or not freshness or set(freshness) - {"warning", "critical"}:
            fail(f"{key}.freshness", "must be a mapping with warning and/or critical, such as {warning: 25h}")
        _check_levels(raw, override, key, fail)
        seconds = {s: parse_duration(override_level(raw, override, "rpo", s)) for s in ("warning", "critical")}
        if seconds["warning"] > window:
            warn(f"{key}.warning", f"({override.get('warning')}) is longer than rpo.window ({raw['rpo']['window']}): "
                 "dashboards without rpo.recorded may show the recovery point as unknown after a node restart")


def _check_levels(raw: dict, override: dict, key: str, fail) -> None:
    """An override's RPO and freshness levels: durations, warning not above critical."""
    for kind, where in (("rpo", key), ("freshness", f"{key}.freshness")):
        own = override.get("freshness", {}) if kind == "freshness" else override
        for severity in ("warning", "critical"):
            value = own.get(severity)
            if value is not None and (not isinstance(value, str) or not _DURATION.match(value)
                                      or parse_duration(value) <= 0):
                fail(f"{where}.{severity}", f"must be a Prometheus duration such as 26h, not {value!r}")
        levels = [parse_duration(override_level(raw, override, kind, s)) for s in ("warning", "critical")]
        if levels[0] > levels[1]:
            fallback = "its critical target, else rpo.critical" if kind == "freshness" else "rpo.critical"
            fail(f"{where}.warning", f"must not be above its critical level (or {fallback} when it sets none)")


# Prometheus (RE2) accepts these and JavaScript does not, or reads them otherwise: inline flags and named groups,
# POSIX classes, \A \z \Q...\E. The panels match overrides in Grafana, in JavaScript.
_RE2_ONLY = re.compile(r"\(\?(?!:)|\[\[:|\\[AzQE]")


def _regex_ok(regex: str) -> bool:
    """Whether Prometheus accepts ``regex`` in a label matcher (RE2 syntax, checked by the PromQL parser)."""
    import promql_parser

    try:
        promql_parser.parse('up{x=~"' + regex.replace("\\", "\\\\").replace('"', '\\"') + '"}')
    except ValueError:
        return False
    return True


_CLUSTER_NAME = re.compile(r"^([A-Za-z0-9_.:/-]|\$\{(namespace|release)\})+$")
_K8S_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_K8S_KEY = re.compile(r"^([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")
_K8S_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$")


def _validate_kubernetes(raw: dict, fail, warn, text) -> None:
    text("kubernetes.namespace", _K8S_NAME, "a Kubernetes namespace name")
    spaces = raw["kubernetes"]["service_namespaces"]
    if not isinstance(spaces, list) or not all(isinstance(v, str) and _K8S_NAME.match(v) for v in spaces):
        fail("kubernetes.service_namespaces", "must be a list of Kubernetes namespace names")
    for name in ("labels", "dashboard_labels", "service_selector", "alert_labels"):
        for key, value in raw["kubernetes"][name].items():
            if not isinstance(key, str) or not _K8S_KEY.match(key):
                fail(f"kubernetes.{name}", f"has {key!r}, not a Kubernetes label key")
            if not isinstance(value, str) or not _K8S_VALUE.match(value):
                fail(f"kubernetes.{name}", f"has {key}: {value!r}; label values are quoted strings such as '1'")
    if not raw["kubernetes"]["service_selector"]:
        fail("kubernetes.service_selector", "must name at least one label of CockroachDB's Service")
    text("kubernetes.folder_annotation", _K8S_KEY, "a Kubernetes annotation key")
    text("kubernetes.port", re.compile(r"^[a-z0-9]([-a-z0-9]{0,13}[a-z0-9])?$"), "a port name such as http")
    if raw["kubernetes"]["scheme"] not in ("http", "https"):
        fail("kubernetes.scheme", f"must be http or https, not {raw['kubernetes']['scheme']!r}")
    for key in ("tls_skip_verify", "service_monitor"):
        if not isinstance(raw["kubernetes"][key], bool):
            fail(f"kubernetes.{key}", "must be true or false")
    text("kubernetes.cluster_name", _CLUSTER_NAME, "letters, digits, '.', '_', ':', '/', '-', ${namespace} and "
         "${release}")
    if raw["kubernetes"]["service_monitor"]:
        _check_service_monitor(raw, fail, warn)


EXPORTED_LABELS = ("node_id", "tenant", "tenant_id")  # CockroachDB's own labels on its series


def scrape_labels(selector: str, labels: dict[str, str]) -> dict[str, str]:
    """The selector's label="value" matchers that the generated scrape configs write on every series they scrape, so
    that the selector selects them: job, and labels of the user's own (the Operator's others, such as namespace,
    come from discovery; CockroachDB's own and those the config's ``labels`` name come with the series)."""
    import promql_parser

    kept = (*OPERATOR_LABELS, *EXPORTED_LABELS, *labels.values())
    return {m.name: m.value for m in promql_parser.parse("up{" + selector + "}").matchers.matchers
            if m.op == promql_parser.MatchOp.Equal and (m.name == "job" or m.name not in kept)
            and not m.name.startswith("__")}


MATCH_OPS = {"Equal": "=", "NotEqual": "!=", "Re": "=~", "NotRe": "!~"}  # promql_parser's MatchOp names


def matcher_holds(op: str, pattern: str, value: str) -> bool:
    """Whether a label matcher (``op`` as PromQL writes it) holds for a label's value; a missing label reads as
    empty."""
    if op in ("=", "!="):
        return (value == pattern) == (op == "=")
    try:
        return bool(re.fullmatch(pattern, value)) == (op == "=~")
    except re.error:
        return False


def _check_service_monitor(raw: dict, fail, warn) -> None:
    """Our ServiceMonitor writes the cluster's name into labels.cluster: never into a label the Operator sets or
    the selector picks series by, and the series it yields must carry labels.node and meet the selector."""
    import promql_parser

    cluster, node = raw["labels"]["cluster"], raw["labels"]["node"]
    matchers = promql_parser.parse("up{" + raw["selector"] + "}").matchers.matchers
    selected = {m.name for m in matchers}
    if cluster in OPERATOR_LABELS or cluster in selected:
        fail("labels.cluster", f"is {cluster!r}, which the Prometheus Operator or the selector sets, but the "
             "generated kubernetes/servicemonitor.yaml writes each cluster's name into it: use a label of its own "
             "such as cluster, or, not on Kubernetes or scraped otherwise, set kubernetes.service_monitor: false")
    if node not in NODE_LABELS:
        fail("labels.node", f"is {node!r}, which series scraped by the generated kubernetes/servicemonitor.yaml "
             "lack: use instance (the pod's name), pod or node_id, or, not on Kubernetes or scraped otherwise, set "
             "kubernetes.service_monitor: false")
    written = scrape_labels(raw["selector"], raw["labels"])
    found = {*OPERATOR_LABELS, *EXPORTED_LABELS, *raw["labels"].values(), *written}
    without = [m for m in matchers if m.name not in found and not m.name.startswith("__")]  # the label, on scrapes
    unmet = [str(m) for m in without if not matcher_holds(MATCH_OPS[str(m.op).rsplit(".", 1)[-1]], m.value, "")]
    if unmet:
        warn("selector", f"has {', '.join(unmet)}, which no series the generated kubernetes/servicemonitor.yaml "
             "scrapes can meet (it writes only the selector's label=\"value\" matchers on labels of your own): "
             "write it so, or, scraped otherwise, set kubernetes.service_monitor: false")


def _check_windows(raw: dict, duration, fail, warn) -> None:
    """Windows that must cover one another for the alerts to see what they are meant to."""
    failure, evaluation, scrape = (duration(k) for k in ("alerts.failure_window", "alerts.evaluation_interval",
                                                         "scrape_interval"))
    alerts, rpo = raw["alerts"], raw["rpo"]
    if failure < evaluation:
        fail("alerts.failure_window", f"({alerts['failure_window']}) must not be shorter than "
             f"alerts.evaluation_interval ({alerts['evaluation_interval']}): failures between two evaluations "
             "would never alert")
    elif failure < evaluation + scrape:
        warn("alerts.failure_window", f"({alerts['failure_window']}) is less than alerts.evaluation_interval plus "
             f"scrape_interval: a failure counted between two evaluations' windows can be missed")
    window, warning, critical = (duration(f"rpo.{k}") for k in ("window", "warning", "critical"))
    if window < warning:
        fail("rpo.window", f"({rpo['window']}) must not be shorter than rpo.warning ({rpo['warning']}), the longest "
             "gap between backups that threshold implies: a node restart between two backups would make the "
             "recovery point unknown")
    elif window < critical:
        warn("rpo.window", f"({rpo['window']}) is shorter than rpo.critical ({rpo['critical']}): after the node that "
             "completed the newest backup restarts, the recovery point becomes unknown before the critical alert "
             "can fire")


def _check_freshness(raw: dict, duration, fail) -> None:
    """Levels below the memory that lets them fire."""
    forget = raw["alerts"]["forget_after"]
    if duration("freshness.warning") > duration("freshness.critical"):
        fail("freshness.warning", "must not be above freshness.critical")
    if duration("alerts.forget_after") < duration("rpo.window"):
        fail("alerts.forget_after", f"must not be shorter than rpo.window ({raw['rpo']['window']}): a retired "
                                    "cluster's recovery point would outlive its memory")
    for key in ("alerts.not_reporting_for", "alerts.recovery_point_unknown_for"):
        if duration(key) >= duration("alerts.forget_after"):
            fail(key, f"must be shorter than alerts.forget_after ({forget}): the alert would be forgotten "
                      "before it could fire")


def _check_selector(selector: str, cluster_label: str, source: str) -> None:
    """The selector must stay one list of label matchers in every query it is composed into.

    Queries read ``metric{SELECTOR}`` and ``metric{SELECTOR, cluster="..."}``; both must parse as a
    single series selector with the selector's own matchers, so a trailing comma, an ``or`` or a closing
    brace that smuggles in another expression is refused here rather than in Prometheus or Grafana.
    """
    import promql_parser

    def parsed(query: str):
        try:
            node = promql_parser.parse(query)
        except ValueError:
            return None
        if not isinstance(node, promql_parser.VectorSelector) or node.name != "up" or node.matchers.or_matchers:
            return None
        return node.matchers.matchers

    alone = parsed("up{" + selector + "}")
    composed = parsed("up{" + selector + f', {cluster_label}="x"}}')
    if not alone or composed is None or len(composed) != len(alone) + 1:
        raise ConfigError(f"{source}: key 'selector' is not a PromQL label matcher list such as "
                          f"'job=\"cockroachdb\"': {selector!r}")


def _dig(raw: dict, dotted: str):
    value = raw
    for part in dotted.split("."):
        value = value[part]
    return value
