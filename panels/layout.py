"""Places panels on Grafana's 24-column grid, row by row, so no two overlap and every line is full."""

from __future__ import annotations

from grafanalib import core as G

COLUMNS = 24


def rows(*sections: tuple[str, list[G.Panel]]) -> list[G.Panel]:
    """A row header per section, then its panels left to right, wrapping at 24 columns.

    Each line of panels is widened to fill all 24 columns, in proportion to the panels' own widths,
    so a row never ends in a gap and a lone graph takes the whole line.
    """
    placed: list[G.Panel] = []
    y = 0
    for title, panels in sections:
        placed.append(G.RowPanel(title=title, gridPos=G.GridPos(h=1, w=COLUMNS, x=0, y=y)))
        y += 1
        for line in _lines(panels):
            x = 0
            for panel, w in zip(line, _fill([p.gridPos.w for p in line]), strict=True):
                panel.gridPos = G.GridPos(h=panel.gridPos.h, w=w, x=x, y=y)
                placed.append(panel)
                x += w
            y += max(p.gridPos.h for p in line)
    return placed


def _lines(panels: list[G.Panel]) -> list[list[G.Panel]]:
    lines: list[list[G.Panel]] = []
    width = COLUMNS
    for panel in panels:
        if width + panel.gridPos.w > COLUMNS:
            lines.append([])
            width = 0
        lines[-1].append(panel)
        width += panel.gridPos.w
    return lines


def _fill(widths: list[int]) -> list[int]:
    """Widths scaled to sum to 24; the columns left over by rounding down go to the leftmost panels."""
    total = sum(widths)
    out = [w * COLUMNS // total for w in widths]
    for i in range(COLUMNS - sum(out)):
        out[i % len(out)] += 1
    return out
