"""Everything ``make build`` writes, rendered in memory first, then written atomically.

Paths are relative to the output root (the project's top directory by default).
``provisioning/`` is ready to mount at ``/etc/grafana/provisioning`` in the Grafana container:

    provisioning/dashboards/crdb-backups.yaml        dashboard provider
    provisioning/dashboards/crdb-backups/<uid>.json  the dashboards
    provisioning/datasources/crdb-backups.yaml       the Prometheus datasource, with the configured uid
                                                     (unless datasource.provision is false)
    provisioning/alerting/crdb-backups.yaml          Grafana-managed alert rules (alerts.grafana_managed only)
    rules/crdb-backups.rules.yml                     Prometheus recording rules, and alerting rules unless
                                                     alerts.grafana_managed
    kubernetes/*.yaml                                the same for kube-prometheus-stack (see crdb_dash.kubernetes)
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from crdb_dash import normalize
from crdb_dash.config import Config
from crdb_dash.serialize import to_json, to_yaml

PROVIDER = "crdb-backups"
MOUNT = "/etc/grafana/provisioning"
GRAFANA_DIR = "provisioning"
DASHBOARD_DIR = f"{GRAFANA_DIR}/dashboards/{PROVIDER}"
DASHBOARD_PROVIDER_FILE = f"{GRAFANA_DIR}/dashboards/{PROVIDER}.yaml"
DATASOURCE_FILE = f"{GRAFANA_DIR}/datasources/{PROVIDER}.yaml"
ALERTING_FILE = f"{GRAFANA_DIR}/alerting/{PROVIDER}.yaml"
# Written only in some configurations: removed when a build no longer produces them.
OPTIONAL_FILES = (DATASOURCE_FILE, ALERTING_FILE)


def dashboards(cfg: Config) -> dict[str, dict]:
    """uid -> Grafana JSON model of every dashboard."""
    from dashboards import ALL
    from panels.base import Ctx

    ctx = Ctx.for_dashboards(cfg)
    out = {}
    for module in ALL:
        model = normalize.dashboard(module.build(ctx), cfg["schema_version"])
        out[model["uid"]] = model
    return out


def provisioning(cfg: Config) -> dict[str, str]:
    """The dashboard provider, and the datasource unless ``datasource.provision`` is false."""
    provider = {
        "name": PROVIDER, "orgId": 1, "folder": cfg.get("grafana.folder"), "type": "file",
        "disableDeletion": False, "updateIntervalSeconds": 30, "allowUiUpdates": False,
        "options": {"path": f"{MOUNT}/dashboards/{PROVIDER}", "foldersFromFilesStructure": False},
    }
    # Grafana provisions alert rules before dashboards and finds their folder by title only (creating it
    # with a random uid). A provider with folderUid would then create a second folder of the same title;
    # with alert rules provisioned, the provider finds the folder by title too, so both share one folder.
    if not cfg.get("alerts.grafana_managed"):
        provider["folderUid"] = cfg.get("grafana.folder_uid")
    files = {DASHBOARD_PROVIDER_FILE: to_yaml({"apiVersion": 1, "providers": [provider]})}
    if cfg.get("datasource.provision"):
        datasource = {"apiVersion": 1, "datasources": [{
            "name": cfg.get("datasource.name"), "type": "prometheus", "uid": cfg.get("datasource.uid"),
            "access": "proxy", "url": cfg.get("datasource.url"),
            "jsonData": {"httpMethod": "POST", "timeInterval": cfg["scrape_interval"]},
        }]}
        files[DATASOURCE_FILE] = to_yaml(datasource)
    return files


def render(cfg: Config) -> dict[str, str]:
    """Relative path -> file text, for every generated file."""
    from crdb_dash import kubernetes, rules

    models = dashboards(cfg)
    files = {f"{DASHBOARD_DIR}/{uid}.json": to_json(model) for uid, model in models.items()}
    files.update(provisioning(cfg))
    files.update(rules.render(cfg))
    files.update(kubernetes.render(cfg, models, rules.prometheus_groups(cfg)))
    return files


@dataclass
class Written:
    written: list[str] = field(default_factory=list)  # new or changed
    removed: list[str] = field(default_factory=list)  # generated before, no longer produced


def unparsable_query(cfg: Config) -> str | None:
    """The first shipped PromQL expression that does not parse, else None.

    The configured selector and label names are composed into every query; config checks them
    alone, this checks them in place, in each dashboard query and alert rule.
    """
    import promql_parser

    from crdb_dash import rules
    from crdb_dash.interpolate import Vars, substitute

    v = Vars(cluster="x", range_seconds=86400, scrape_seconds=cfg.seconds("scrape_interval"))
    exprs = [substitute(e, v) for e in _exprs(dashboards(cfg))]
    exprs += list(_exprs([rules.prometheus_rules(cfg), rules.grafana_rules(cfg)]))
    for expr in exprs:
        try:
            promql_parser.parse(expr)
        except ValueError:
            return expr
    return None


def _exprs(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "expr" and isinstance(value, str):
                yield value
            else:
                yield from _exprs(value)
    elif isinstance(node, list | tuple):
        for item in node:
            yield from _exprs(item)


def write(files: dict[str, str], out_dir: Path) -> Written:
    """Write ``files`` under ``out_dir`` atomically; remove generated dashboards no longer produced."""
    result = Written()
    for rel, text in sorted(files.items()):
        path = out_dir / rel
        if path.exists() and path.read_text(encoding="utf-8") == text:
            continue
        write_atomic(path, text)
        result.written.append(rel)
    for rel in _generated(out_dir):
        if rel not in files:
            (out_dir / rel).unlink()
            result.removed.append(rel)
    return result


def _generated(out_dir: Path) -> list[str]:
    """Files under ``out_dir`` that a build writes in some configuration."""
    found = [p.relative_to(out_dir).as_posix() for p in sorted((out_dir / DASHBOARD_DIR).glob("*.json"))]
    return found + [rel for rel in OPTIONAL_FILES if (out_dir / rel).is_file()]


def write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def compare(files: dict[str, str], out_dir: Path) -> str:
    """A unified diff between ``files`` and what is under ``out_dir``; empty when identical."""
    import difflib

    chunks = []
    for rel in sorted(set(files) | set(_generated(out_dir))):
        path = out_dir / rel
        old = path.read_text(encoding="utf-8") if path.exists() else ""
        new = files.get(rel, "")
        if old != new:
            chunks.extend(difflib.unified_diff(old.splitlines(True), new.splitlines(True),
                                               f"{rel} (on disk)", f"{rel} (fresh build)"))
    return "".join(chunks)
