"""CockroachDB Backups / Fleet: every cluster on one page, the ones whose backups need attention first."""

from crdb_dash.dashboards import overview
from crdb_dash.dashboards.common import links, uid, with_min_interval
from crdb_dash.panels import fleet
from crdb_dash.panels.base import Ctx
from crdb_dash.panels.layout import rows
from grafanalib import core as G

from crdb_dash.model import promql

KEY = "fleet"
TITLE = "CockroachDB Backups / Fleet"


def variables(ctx: Ctx) -> G.Templating:
    """The datasource and a cluster filter (a regex of the chosen clusters, All by default); no single cluster."""
    cfg = ctx.cfg
    presence = fleet.PRESENCE.exported
    return G.Templating([
        G.Template(name="datasource", label="Data source", type="datasource", query="prometheus",
                   default=cfg.get("datasource.uid")),
        G.Template(name=promql.FLEET_FILTER, label="Clusters", type="query", refresh=2, sort=1,
                   dataSource="${datasource}", query=f'label_values({presence}{{{cfg["selector"]}}}, {cfg.cluster})',
                   includeAll=True, multi=True, allValue=".*", default="$__all"),
    ])


def build(ctx: Ctx):
    table = with_min_interval(fleet.table(ctx, uid(ctx, overview.KEY)), ctx)
    return G.Dashboard(
        title=TITLE, uid=uid(ctx, KEY), tags=list(ctx.cfg["tags"]), timezone="browser",
        description="Which cluster's backups need me now? One row per cluster and virtual cluster, worst first.",
        time=G.Time("now-24h", "now"), refresh="1m", graphTooltip=1, editable=True,
        templating=variables(ctx), panels=rows(("Clusters", [table])), links=links(ctx),
    )
