"""Places panels on Grafana's 24-column grid, row by row, so no two overlap."""

from __future__ import annotations

from grafanalib import core as G

COLUMNS = 24


def rows(*sections: tuple[str, list[G.Panel]]) -> list[G.Panel]:
    """A row header per section, then its panels left to right, wrapping at 24 columns."""
    placed: list[G.Panel] = []
    y = 0
    for title, panels in sections:
        placed.append(G.RowPanel(title=title, gridPos=G.GridPos(h=1, w=COLUMNS, x=0, y=y)))
        y += 1
        x = line_height = 0
        for panel in panels:
            w, h = panel.gridPos.w, panel.gridPos.h
            if x + w > COLUMNS:
                y, x, line_height = y + line_height, 0, 0
            panel.gridPos = G.GridPos(h=h, w=w, x=x, y=y)
            placed.append(panel)
            x, line_height = x + w, max(line_height, h)
        y += line_height
    return placed
