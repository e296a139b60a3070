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

DEFAULTS: dict = {
    "selector": 'job="cockroachdb"',
    "labels": {"cluster": "cluster", "node": "instance", "tenant": "tenant"},
    "scrape_interval": "10s",
    # recorded: dashboards read the recording rule below instead of max_over_time at every step
    "rpo": {"warning": "2h", "critical": "6h", "window": "6h", "recorded": False},
    "alerts": {
        "failure_window": "1h",
        "paused_for": "1h",
        "running_longer_than": "2h",
        "protected_age": "24h",
        "retries": 3,
        "runbook_url": "https://github.com/cockroachdb-backup-dashboards/crdb-backup-dashboards/blob/main/docs/runbooks.md",
        "evaluation_interval": "1m",
    },
    "datasource": {"uid": "prometheus", "name": "Prometheus", "url": "http://prometheus:9090"},
    "grafana": {"folder": "CockroachDB Backups", "folder_uid": "crdb-backups", "uid_prefix": "crdb-backups"},
    "tags": ["cockroachdb", "backups"],
    "schema_version": 41,
}

SCHEMA_VERSIONS = range(39, 43)
_LABEL = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
_UID = re.compile(r"^[a-zA-Z0-9_-]{1,40}$")
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

    def __getitem__(self, key: str):
        return self.raw[key]

    def seconds(self, dotted: str) -> int:
        return parse_duration(self.get(dotted))

    def get(self, dotted: str):
        return _dig(self.raw, dotted)

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
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"{source}: cannot read config file: {exc.strerror}") from None
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" at line {mark.line + 1}" if mark else ""
            raise ConfigError(f"{source}: not valid YAML{where}") from None
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise ConfigError(f"{source}: the top level must be a mapping of keys")
        _merge(raw, data, source, prefix="")
    _validate(raw, source)
    return Config(raw, source)


def _merge(base: dict, override: dict, source: str, prefix: str) -> None:
    for key, value in override.items():
        dotted = f"{prefix}{key}"
        if key not in base:
            raise ConfigError(f"{source}: unknown key '{dotted}'")
        if isinstance(base[key], dict):
            if not isinstance(value, dict):
                raise ConfigError(f"{source}: key '{dotted}' must be a mapping")
            _merge(base[key], value, source, prefix=f"{dotted}.")
        else:
            base[key] = value


def _validate(raw: dict, source: str) -> None:
    def fail(key: str, why: str):
        raise ConfigError(f"{source}: key '{key}' {why}")

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
                "alerts.running_longer_than", "alerts.protected_age", "alerts.evaluation_interval"):
        if duration(key) < scrape:
            fail(key, f"must not be shorter than scrape_interval ({raw['scrape_interval']})")
    if duration("rpo.warning") > duration("rpo.critical"):
        fail("rpo.warning", "must not be above rpo.critical")
    if duration("alerts.failure_window") < 4 * scrape:
        fail("alerts.failure_window", "must cover at least 4 scrape intervals")
    text("selector")
    _check_selector(raw["selector"], source)
    for key in ("labels.cluster", "labels.node", "labels.tenant"):
        text(key, _LABEL, "a Prometheus label name")
    for key in ("datasource.uid", "grafana.folder_uid"):
        text(key, _UID, "1 to 40 letters, digits, '-' or '_'")
    text("grafana.uid_prefix", re.compile(r"^[a-zA-Z0-9_-]{1,24}$"), "1 to 24 letters, digits, '-' or '_'")
    for key in ("datasource.name", "datasource.url", "grafana.folder", "alerts.runbook_url"):
        text(key)
    if not isinstance(raw["rpo"]["recorded"], bool):
        fail("rpo.recorded", f"must be true or false, not {raw['rpo']['recorded']!r}")
    retries = raw["alerts"]["retries"]
    if not isinstance(retries, int) or isinstance(retries, bool) or retries < 0:
        fail("alerts.retries", f"must be a whole number of 0 or more, not {retries!r}")
    tags = raw["tags"]
    if not isinstance(tags, list) or not all(isinstance(t, str) and t for t in tags):
        fail("tags", "must be a list of non-empty strings")
    version = raw["schema_version"]
    if not isinstance(version, int) or isinstance(version, bool) or version not in SCHEMA_VERSIONS:
        fail("schema_version", f"must be one of 39, 40, 41, 42, not {version!r}")


def _check_selector(selector: str, source: str) -> None:
    import promql_parser

    try:
        promql_parser.parse("up{" + selector + "}")
    except ValueError:
        raise ConfigError(f"{source}: key 'selector' is not a PromQL label matcher list: {selector!r}") from None


def _dig(raw: dict, dotted: str):
    value = raw
    for part in dotted.split("."):
        value = value[part]
    return value
