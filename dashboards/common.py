"""What every dashboard shares: variables, links, uid, tags, time range and refresh."""

from __future__ import annotations

from dataclasses import replace
from types import ModuleType

from grafanalib import core as G

from crdb_dash.model import promql
from crdb_dash.model.catalog import PRESENCE, metric
from crdb_dash.model.config import Config
from crdb_dash.panels.base import Ctx
from crdb_dash.panels.layout import rows

FAMILY = "CockroachDB Backups"  # every dashboard's title starts with it
ALWAYS_ZERO = "Always 0 on current CockroachDB versions"  # the last row, for metrics kept for older clusters


def title(name: str) -> str:
    return f"{FAMILY} / {name}"


def uid(cfg: Config, key: str) -> str:
    return f"{cfg.get('grafana.uid_prefix')}-{key}"


def linked(panel: G.Panel, ctx: Ctx, target: ModuleType) -> G.Panel:
    """The panel with a link to another of our dashboards (its module), keeping the time range and variables."""
    panel.links = [{"title": target.NAME, "type": "link", "url": f"/d/{uid(ctx.cfg, target.KEY)}", "icon": "dashboard",
                    "tooltip": "", "tags": [], "asDropdown": False, "targetBlank": False, "includeVars": True,
                    "keepTime": True}]
    return panel


def label_values(ctx: Ctx, label: str, narrowed: bool = True, exported: str = PRESENCE) -> str:
    """The values of ``label`` on every node's series of ``exported`` (as named where it reaches Prometheus):
    the clusters, tenants and nodes; ``narrowed`` to the chosen cluster."""
    matchers = ctx.scope.matchers if narrowed else ctx.cfg["selector"]
    return f"label_values({ctx.cfg.naming.selector(exported, matchers)}, {label})"


def _tenant_query(ctx: Ctx) -> str:
    """Tenants seen in the range, a series without the label counted as the system tenant's."""
    cfg = ctx.cfg
    seen = f"max_over_time({cfg.naming.selector(PRESENCE, ctx.scope.matchers)}[{promql.RANGE}])"
    every_tenant = replace(ctx.scope, tenants="")
    return f"query_result(count by ({cfg.cluster}, {cfg.tenant}) ({every_tenant.per_node(seen)}))"


QUERY = dict(type="query", refresh=2, sort=1, dataSource="${datasource}")  # a query variable, refreshed on time change
CHOSEN = dict(includeAll=True, multi=True, allValue=".*", default="$__all")  # any number of values, All at first


def datasource(ctx: Ctx) -> G.Template:
    return G.Template(name="datasource", label="Data source", type="datasource", query="prometheus",
                      default=ctx.cfg.get("datasource.uid"))


def variables(ctx: Ctx, tenant_ids: bool = False) -> G.Templating:
    """Variables of every dashboard; ``tenant_ids`` adds the virtual cluster IDs of host schedules."""
    cfg = ctx.cfg
    by_vc = metric("schedules_BACKUP_last_completed_time_by_virtual_cluster")
    return G.Templating([
        datasource(ctx),
        G.Template(name="cluster", label="Cluster", query=label_values(ctx, cfg.cluster, narrowed=False), **QUERY),
        G.Template(name="tenant", label="Virtual cluster", query=_tenant_query(ctx),
                   regex=f'/{cfg.tenant}="([^"]+)"/', **CHOSEN, **QUERY),
        G.Template(name="node", label="Node", query=label_values(ctx, cfg.node), **CHOSEN, **QUERY),
        *([G.Template(name=by_vc.by_label, label="Virtual cluster ID (host schedules)",
                      query=label_values(ctx, by_vc.by_label, exported=by_vc.exported), **CHOSEN, **QUERY)]
          if tenant_ids else []),
    ])


def with_min_interval(panel: G.Panel, ctx: Ctx) -> G.Panel:
    """The configured scrape interval as the panel's min interval and each query's min step.

    Grafana computes $__rate_interval from the query's min step, or else from the datasource's scrape
    interval, which an existing datasource may not set (Grafana then assumes 15s): setting both here makes
    every window right whatever the datasource says.
    """
    panel.interval = panel.interval or ctx.cfg["scrape_interval"]  # a panel may ask for a coarser step
    for t in panel.targets:
        t.interval = panel.interval
    return panel


def annotations(ctx: Ctx) -> G.Annotations:
    """Backup events marked on every graph, from the dashboard's datasource; each kind is a toggle at the top.

    Each mark stands at the end of the graph step the event happened in (the annotation's min step is the scrape
    interval, as a panel's). Completed backups are off by default: with frequent schedules they crowd
    the graphs.
    """
    scope, legend = ctx.scope, ctx.legend

    def jobs_failed(kind: str) -> str:
        failed = promql.happened(metric(f"jobs_{kind}_resume_failed"), scope)
        return f'label_replace({failed}, "job_type", "{kind}", "", "")'

    kinds = [
        ("Scheduled backups completed", "green", promql.happened(metric("schedules_BACKUP_succeeded"), scope),
         "Scheduled backup completed", f"Scheduled backups completed: {legend}", False),
        ("Scheduled backups failed", "red", promql.happened(metric("schedules_BACKUP_failed"), scope),
         "Scheduled backup failed", f"Scheduled backups failed: {legend}. See SHOW JOBS for the error.", True),
        ("Jobs failed", "orange", f"{jobs_failed('backup')} or {jobs_failed('restore')}",
         "{{job_type}} job failed", f"Failed {{{{job_type}}}} jobs: {legend}. See SHOW JOBS for the error.", True),
        ("Node restarts", "blue", promql.restarted(scope), "Node restarted",
         "Node {{%s}} of {{%s}} started" % (scope.node_label, scope.by[0]), True),
    ]
    return G.Annotations([
        {"name": name, "iconColor": color, "expr": expr, "step": ctx.cfg["scrape_interval"], "titleFormat": title,
         "textFormat": text, "enable": enable,
         "tagKeys": ",".join((scope.by[0], scope.node_label) if name == "Node restarts" else scope.by)}
        for name, color, expr, title, text, enable in kinds
    ])


def links(ctx: Ctx, console: bool = True) -> list[G.DashboardLink]:
    """Our other dashboards; the DB Console's Jobs page when ``db_console_url`` is set (and ``console``)."""
    out = [G.DashboardLink(title="Backup dashboards", type="dashboards", tags=list(ctx.cfg["tags"]), asDropdown=True,
                           includeVars=True, keepTime=True, icon="external link", tooltip="")]
    url = ctx.cfg["db_console_url"].rstrip("/")
    if console and url:
        out.append(G.DashboardLink(title="DB Console: Jobs", type="link", uri=f"{url}/#/jobs", icon="external link",
                                   tooltip="CockroachDB's list of jobs, with each job's status and error",
                                   targetBlank=True, asDropdown=False, includeVars=False, keepTime=False))
    return out


def frame(ctx: Ctx, key: str, full_title: str, description: str) -> dict:
    """What every dashboard shares: uid, tags, the browser's time zone, the last 24 hours refreshed each minute,
    a crosshair shared by every graph."""
    return dict(title=full_title, uid=uid(ctx.cfg, key), description=description, tags=list(ctx.cfg["tags"]),
                timezone="browser", time=G.Time("now-24h", "now"), refresh="1m", graphTooltip=1, editable=True)


def dashboard(ctx: Ctx, key: str, full_title: str, description: str,
              sections: list[tuple[str, list[G.Panel]]], tenant_ids: bool = False) -> G.Dashboard:
    """A dashboard of one cluster: its variables, links and backup annotations, ``sections`` laid out in rows."""
    sections = [(name, [with_min_interval(p, ctx) for p in panels]) for name, panels in sections]
    return G.Dashboard(**frame(ctx, key, full_title, description), templating=variables(ctx, tenant_ids),
                       panels=rows(*sections), links=links(ctx), annotations=annotations(ctx))
