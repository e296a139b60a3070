"""CockroachDB Backups / Runbooks: docs/runbooks.md as a dashboard, one text panel per alert.

Shipped in the same folder as the other dashboards, so an alert's ``runbook_url`` can point at a page that
exists wherever the dashboards are installed (``grafana.url`` set). Panel ids are fixed by the order of
the sections in docs/runbooks.md: the introduction is panel 1, the n-th alert section panel n + 1.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from grafanalib import core as G

from crdb_dash.dashboards.common import frame, links, title, uid
from crdb_dash.panels.base import Ctx

KEY = "runbooks"
NAME = "Runbooks"  # in links from other dashboards
TITLE = title(NAME)
SOURCE = Path(__file__).resolve().parent.parent / "docs" / "runbooks.md"
RELATIVE_SOURCE = "docs/runbooks.md"
_SECTION = re.compile(r'^<a id="(?P<anchor>[a-z0-9-]+)"></a>\n## (?P<title>[^\n]+)\n', re.MULTILINE)


@dataclass(frozen=True)
class Section:
    anchor: str
    title: str
    body: str


@cache
def document() -> tuple[str, tuple[Section, ...]]:
    """The introduction and the alert sections of docs/runbooks.md, in order."""
    text = SOURCE.read_text(encoding="utf-8")
    matches = list(_SECTION.finditer(text))
    intro = text[:matches[0].start()] if matches else text
    sections = tuple(
        Section(m["anchor"], m["title"], text[m.end():matches[i + 1].start() if i + 1 < len(matches) else None])
        for i, m in enumerate(matches))
    return intro.strip(), sections


def panel_id(anchor: str) -> int:
    anchors = [s.anchor for s in document()[1]]
    if anchor not in anchors:
        raise KeyError(f"{RELATIVE_SOURCE} has no section <a id=\"{anchor}\">")
    return anchors.index(anchor) + 2


def url(grafana_url: str, dashboard: str, anchor: str) -> str:
    """The runbook of one alert, opened as a single panel (``viewPanel`` works in classic and scenes Grafana)."""
    return f"{grafana_url.rstrip('/')}/d/{dashboard}?viewPanel={panel_id(anchor)}"


def dashboard_uid(cfg) -> str:
    return uid(cfg, KEY)


def _text(title: str, content: str) -> G.Text:
    lines = sum(max(1, math.ceil(len(line) / 180)) for line in content.strip().splitlines())
    height = max(4, math.ceil(lines * 0.75) + 2)
    return G.Text(title=title, content=content.strip() + "\n", mode="markdown",
                  gridPos=G.GridPos(h=height, w=24, x=0, y=0))


def _stack(panels: list[G.Text]) -> list[G.Text]:
    y = 0
    for panel in panels:
        panel.gridPos = G.GridPos(h=panel.gridPos.h, w=24, x=0, y=y)
        y += panel.gridPos.h
    return panels


def build(ctx: Ctx):
    """Text only: no variables, no refresh, no shared crosshair, no DB Console link."""
    intro, sections = document()
    panels = [_text("How to use these runbooks", intro.split("\n", 1)[1])]
    panels += [_text(s.title, f'<a id="{s.anchor}"></a>\n\n{s.body}') for s in sections]
    description = ("What each backup alert means, how to confirm it in SQL and what to do. Generated from "
                   f"{RELATIVE_SOURCE}; each alert's runbook_url opens its panel.")
    return G.Dashboard(**{**frame(ctx, KEY, TITLE, description), "refresh": "", "graphTooltip": 0},
                       templating=G.Templating([]), panels=_stack(panels), links=links(ctx, console=False))
