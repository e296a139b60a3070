"""CockroachDB Backups / Fleet: every cluster on one page, the ones whose backups need attention first."""

from grafanalib import core as G

from crdb_dash.dashboards import common, overview
from crdb_dash.model import promql
from crdb_dash.panels import fleet
from crdb_dash.panels.base import Ctx
from crdb_dash.panels.layout import rows

KEY = "fleet"
NAME = "Fleet"  # in links from other dashboards
TITLE = common.title(NAME)


def variables(ctx: Ctx) -> G.Templating:
    """The datasource and a cluster filter (a regex of the chosen clusters, All by default); no single cluster."""
    clusters = common.label_values(ctx, ctx.cfg.cluster, narrowed=False)
    return G.Templating([common.datasource(ctx), G.Template(name=promql.FLEET_FILTER, label="Clusters", query=clusters,
                                                     **common.CHOSEN, **common.QUERY)])


def build(ctx: Ctx):
    panels = [common.with_min_interval(p, ctx)
              for p in (fleet.rules_loaded(ctx), fleet.table(ctx, common.uid(ctx.cfg, overview.KEY)))]
    return G.Dashboard(**common.frame(ctx, KEY, TITLE, "Which cluster's backups need me now? One row per cluster and "
                                                "virtual cluster, worst first."),
                       templating=variables(ctx), panels=rows(("Clusters", panels)), links=common.links(ctx))
