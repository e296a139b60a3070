"""Grafana's dashboard grid: 24 columns, 30-pixel cells with 8-pixel gaps; and the checks a reviewer makes on it
(no panel over another, no line of panels short of 24 columns)."""

from __future__ import annotations

from dataclasses import dataclass

COLUMNS = 24
CELL_HEIGHT = 30  # GRID_CELL_HEIGHT
MARGIN = 8  # GRID_CELL_VMARGIN, also between columns
WIDTH = 1888  # a 1920-pixel browser window less the dashboard's padding
PANEL_PADDING = 8


def column_width() -> float:
    return (WIDTH - MARGIN * (COLUMNS - 1)) / COLUMNS


def box(grid: dict) -> tuple[float, float, float, float]:
    """Pixel (left, top, width, height) of a gridPos."""
    col = column_width()
    return (grid["x"] * (col + MARGIN), grid["y"] * (CELL_HEIGHT + MARGIN),
            grid["w"] * col + (grid["w"] - 1) * MARGIN, grid["h"] * CELL_HEIGHT + (grid["h"] - 1) * MARGIN)


def content_width(w: int) -> int:
    """The width in pixels of a panel's plot area: what Grafana sends as max data points."""
    return int(box({"x": 0, "y": 0, "w": w, "h": 1})[2] - 2 * PANEL_PADDING)


def height(panels: list[dict]) -> float:
    bottom = max((p["gridPos"]["y"] + p["gridPos"]["h"] for p in panels), default=1)
    return bottom * (CELL_HEIGHT + MARGIN) - MARGIN


@dataclass(frozen=True)
class Problem:
    kind: str  # "overlap", "short row", "outside"
    row: str  # the title of the row the panels are under ("" above the first row)
    y: int
    text: str

    def __str__(self) -> str:
        where = f"row '{self.row}'" if self.row else "above the first row"
        return f"{where}, y={self.y}: {self.text}"


def _row_of(panels: list[dict]) -> dict[int, str]:
    """Panel id -> title of the row above it."""
    out, title = {}, ""
    for p in sorted(panels, key=lambda p: (p["gridPos"]["y"], p["gridPos"]["x"])):
        if p["type"] == "row":
            title = p.get("title", "")
        out[id(p)] = title
    return out


def check(panels: list[dict]) -> list[Problem]:
    """Overlapping panels, panels past column 24, and lines of the grid that panels leave short of 24 columns."""
    problems: list[Problem] = []
    rows = _row_of(panels)
    for i, a in enumerate(panels):
        ga = a["gridPos"]
        if ga["x"] < 0 or ga["x"] + ga["w"] > COLUMNS:
            problems.append(Problem("outside", rows[id(a)], ga["y"], f"'{a.get('title')}' spans columns "
                                    f"{ga['x']}..{ga['x'] + ga['w']}, past {COLUMNS}"))
        for b in panels[i + 1:]:
            gb = b["gridPos"]
            if (ga["x"] < gb["x"] + gb["w"] and gb["x"] < ga["x"] + ga["w"] and ga["y"] < gb["y"] + gb["h"]
                    and gb["y"] < ga["y"] + ga["h"]):
                problems.append(Problem("overlap", rows[id(a)], max(ga["y"], gb["y"]),
                                        f"'{a.get('title')}' and '{b.get('title')}' overlap"))
    for y in sorted({p["gridPos"]["y"] for p in panels if p["type"] != "row"}):
        here = [p for p in panels if p["type"] != "row" and p["gridPos"]["y"] <= y < p["gridPos"]["y"]
                + p["gridPos"]["h"]]
        covered = set()
        for p in here:
            covered.update(range(p["gridPos"]["x"], p["gridPos"]["x"] + p["gridPos"]["w"]))
        filled = len(covered & set(range(COLUMNS)))
        if filled < COLUMNS:
            starting = [p for p in here if p["gridPos"]["y"] == y]
            names = ", ".join(f"'{p.get('title')}'" for p in starting)
            problems.append(Problem("short row", rows[id(starting[0])], y,
                                    f"{names} fill {filled} of {COLUMNS} columns"))
    return problems
