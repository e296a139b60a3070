"""Draw a dashboard's panel views with matplotlib, in the colours and proportions of Grafana's dark theme."""

from __future__ import annotations

import functools
import math
import re
from datetime import UTC, datetime
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.backends.backend_agg import RendererAgg  # noqa: E402
from matplotlib.collections import PolyCollection  # noqa: E402
from matplotlib.font_manager import FontProperties  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from crdb_dash.preview import format as F  # noqa: E402
from crdb_dash.preview import layout  # noqa: E402
from crdb_dash.preview.view import PanelView  # noqa: E402

DPI = 100
CANVAS = "#111217"
PANEL = "#181B1F"
BORDER = "#2A2D33"
GRID = "#26292F"
TEXT = F.TEXT
MUTED = "#8E929C"
ERROR = "#F2495C"
PAD = 16  # around the grid
HEADER = 64  # dashboard title and variables
TITLE_H = 32  # a panel's title bar
EPOCH = mdates.date2num(datetime(1970, 1, 1, tzinfo=UTC))  # matplotlib's day number of unix time 0
MIN_TEXT_PX = 9  # no text smaller than this many pixels in the picture, whatever the scale: digits stay legible


def pt(px: float) -> float:
    return px * 72 / DPI


@functools.cache
def _renderer(dpi: float) -> RendererAgg:
    return RendererAgg(1, 1, dpi)


@functools.lru_cache(maxsize=8192)
def text_width(text: str, size: float, weight: str = "normal", scale: float = 1.0) -> float:
    """The width in grid pixels of a text drawn ``size`` pixels high in a picture of ``scale``: measured at the
    picture's own resolution, where hinting widens small text."""
    prop = FontProperties(size=pt(size), weight=weight)
    return _renderer(DPI * scale).get_text_width_height_descent(text, prop, ismath=False)[0] / scale


def fit(text: str, width: float, size: float, weight: str = "normal", scale: float = 1.0) -> str:
    """The text cut to ``width`` pixels with an ellipsis, as Grafana cuts titles and table cells that overflow."""
    if text_width(text, size, weight, scale) <= width:
        return text
    low, high = 0, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        if text_width(text[:middle].rstrip() + "…", size, weight, scale) <= width:
            low = middle
        else:
            high = middle - 1
    return text[:low].rstrip() + "…"


class Canvas:
    """Pixel coordinates (left, top) on a figure: what Grafana's grid gives."""

    def __init__(self, width: float, height: float, scale: float = 1.0):
        self.w, self.h = width, height
        self.scale = scale
        # sizes are in points and figure fractions: a higher or lower dpi scales the whole picture
        self.fig = plt.figure(figsize=(width / DPI, height / DPI), dpi=DPI * scale, facecolor=CANVAS)

    def font(self, size: float) -> float:
        """A text size in grid pixels, raised so that the picture never draws it below MIN_TEXT_PX."""
        return max(size, MIN_TEXT_PX / self.scale)

    def width(self, text: str, size: float, weight: str = "normal") -> float:
        """The width in grid pixels of a text as this canvas draws it."""
        return text_width(text, self.font(size), weight, self.scale)

    def fit(self, text: str, width: float, size: float, weight: str = "normal") -> str:
        return fit(text, width, self.font(size), weight, self.scale)

    def frac(self, left, top, width, height):
        return [left / self.w, 1 - (top + height) / self.h, width / self.w, height / self.h]

    def rect(self, left, top, width, height, color, edge=None, alpha=1.0):
        x, y, w, h = self.frac(left, top, width, height)
        self.fig.add_artist(Rectangle((x, y), w, h, transform=self.fig.transFigure, facecolor=color,
                                      edgecolor=edge or color, linewidth=1, alpha=alpha, zorder=-10))

    def text(self, left, top, s, size=14, color=TEXT, weight="normal", ha="left", va="top", **kw):
        self.fig.text(left / self.w, 1 - top / self.h, s, fontsize=pt(self.font(size)), color=color,
                      fontweight=weight, ha=ha, va=va, **kw)


def dashboard(title: str, subtitle: str, views: list[PanelView], out: Path, scale: float = 1.0) -> None:
    grid_h = layout.height([{"gridPos": v.grid} for v in views])
    c = Canvas(layout.WIDTH + 2 * PAD, HEADER + grid_h + 2 * PAD, scale)
    c.text(PAD, 14, title, size=20, weight="bold")
    c.text(PAD, 42, subtitle, size=13, color=MUTED)
    for v in views:
        left, top, width, height = layout.box(v.grid)
        left, top = left + PAD, top + HEADER + PAD
        if v.type == "row":
            hidden = "" if v.collapsed is None else f" ({F.plural(v.collapsed, 'panel')})"
            c.text(left, top + 6, ("› " if hidden else "⌄ ") + v.title + hidden, size=16, weight="bold")
            continue
        draw = {"stat": _stat, "timeseries": _timeseries, "table": _table, "text": _text}.get(v.type, _placeholder)
        if v.error:
            draw = _error
        draw(c, v, left, top, width, height)
    out.parent.mkdir(parents=True, exist_ok=True)
    _save(c.fig, out)


def _save(fig, out: Path) -> None:
    """A 256-colour PNG: the flat colours of a dashboard lose nothing, and the file is a third of the size."""
    from PIL import Image

    fig.canvas.draw()
    image = Image.frombuffer("RGBA", fig.canvas.get_width_height(), fig.canvas.buffer_rgba()).convert("RGB")
    plt.close(fig)
    image.quantize(colors=256, method=Image.Quantize.FASTOCTREE).save(out, optimize=True)


def _frame(c: Canvas, v: PanelView, left, top, width, height, background=PANEL, title_color=TEXT) -> None:
    if not (v.transparent and background == PANEL):
        c.rect(left, top, width, height, background, edge=BORDER if background == PANEL else background)
    c.text(left + 8, top + 8, c.fit(v.title, width - 16, 14), size=14, weight="normal", color=title_color)


def _stat(c: Canvas, v: PanelView, left, top, width, height) -> None:
    stats = v.stats
    if len(stats) == 1:
        s = stats[0]
        background = PANEL if s.hex == F.color_hex("transparent") else s.hex  # the panel's own
        _frame(c, v, left, top, width, height, background=background, title_color=F.text_on(background))
        _big_value(c, s.text, left, top + TITLE_H, width, height - TITLE_H, F.text_on(background))
        return
    _frame(c, v, left, top, width, height)
    n = len(stats)
    horizontal = width / n >= height / 2
    head = c.font(12) + 4  # each tile's name above its value
    for i, s in enumerate(stats):
        if horizontal:
            bw, bh = (width - 16 - 4 * (n - 1)) / n, height - TITLE_H - 8
            bl, bt = left + 8 + i * (bw + 4), top + TITLE_H
        else:
            bw, bh = width - 16, (height - TITLE_H - 8 - 4 * (n - 1)) / n
            bl, bt = left + 8, top + TITLE_H + i * (bh + 4)
        c.rect(bl, bt, bw, bh, s.hex)
        ink = F.text_on(s.hex)
        c.text(bl + bw / 2, bt + 4, c.fit(s.name, bw - 8, 12), size=12, color=ink, ha="center")
        _big_value(c, s.text, bl, bt + head, bw, bh - head, ink)


def _big_value(c: Canvas, text: str, left, top, width, height, color) -> None:
    """The value as large as the box allows: half its height, or the size at which it fills the width."""
    size = max(10.0, min(height * 0.5, (width - 24) * 100 / max(text_width(text, 100), 1)))
    c.text(left + width / 2, top + height / 2, text, size=size, color=color, weight="normal", ha="center",
           va="center")


def _axis_text(value: float, unit: str) -> str:
    text = str(F.format_value(value, unit))
    return re.sub(r"(\.\d*?)0+(?=\D|$)", r"\1", text).replace(". ", " ").rstrip(".")


def _timeseries(c: Canvas, v: PanelView, left, top, width, height) -> None:
    _frame(c, v, left, top, width, height)
    if not v.series:
        c.text(left + width / 2, top + height / 2, "No data", size=16, color=MUTED, ha="center", va="center")
        return
    line = _legend_line(c)
    rows = len(v.series) + 1 if v.show_legend else 0
    legend_h = min(rows * line + 6, (height - TITLE_H) * 0.45) if rows else 0
    plot_h = height - TITLE_H - legend_h - 30
    ys = _y_range(v, *_data_range(v))
    yticks = _y_ticks(v, ys, plot_h)
    axis_w = max([c.font(12) * 2, *(c.width(_axis_text(y, v.unit), 12) + 16 for y in yticks)])
    box = (left + 8 + axis_w, top + TITLE_H + 6, width - 24 - axis_w, plot_h)
    ax = c.fig.add_axes(c.frac(*box))
    ax.set_axis_off()
    for s in v.series:
        times = [EPOCH + t / 86400 for t in s.times]
        values = [math.nan if x is None else x for x in s.values]
        step = _step(s.times)
        if v.draw_style == "bars":
            _bars(ax, times, values, step / 86400 * 0.6, s.hex, max(v.fill_opacity, 10) / 100)
        else:
            line_x, line_y = _break_gaps(times, values, step / 86400)
            ax.plot(line_x, line_y, color=s.hex, linewidth=1)
            if v.fill_opacity:
                ax.fill_between(line_x, line_y, 0, color=s.hex, alpha=v.fill_opacity / 100, linewidth=0)
    for value, color in v.threshold_lines:  # drawn where the axis reaches; Grafana does not stretch it for them
        ax.axhline(value, color=color, linestyle=(0, (6, 6)), linewidth=1)
    x0, x1 = EPOCH + v.time_range[0] / 86400, EPOCH + v.time_range[1] / 86400
    ax.set_xlim(x0, x1)
    ax.set_ylim(*ys)
    _axes(c, ax, v, box, (x0, x1), ys, yticks)
    if rows:
        _legend(c, v, left + 8, top + height - legend_h, width - 16, legend_h)


def _data_range(v: PanelView) -> tuple[float | None, float | None]:
    present = [x for s in v.series for x in s.values if x is not None and not math.isnan(x)]
    return (min(present), max(present)) if present else (None, None)


def _y_ticks(v: PanelView, ys: tuple[float, float], height: float) -> list[float]:
    """About one tick per 35 pixels at 1, 2, 2.5 or 5 times a power of ten; whole numbers only with decimals 0."""
    locator = MaxNLocator(nbins=max(2, int(height / 35)), steps=[1, 2, 2.5, 5, 10], integer=v.decimals == 0)
    return [y for y in locator.tick_values(*ys) if ys[0] - 1e-9 <= y <= ys[1] + 1e-9]


# Time axis steps (seconds) and the label format each calls for
_TIME_STEPS = [60, 300, 600, 900, 1800, 3600, 7200, 10800, 14400, 21600, 43200, 86400, 172800, 604800]


def _axes(c: Canvas, ax, v: PanelView, box, xs, ys, yticks) -> None:
    """Grid lines and tick labels, drawn directly (matplotlib's tick machinery is most of the drawing time)."""
    left, top, width, height = box
    span = v.time_range[1] - v.time_range[0]
    step = next((s for s in _TIME_STEPS if span / s <= max(3, width / 110)), _TIME_STEPS[-1])
    first = math.ceil(v.time_range[0] / step) * step
    xticks = list(range(int(first), int(v.time_range[1]) + 1, step))
    pattern = "%H:%M" if step < 86400 else "%m/%d"
    ax.hlines(yticks, *xs, colors=GRID, linewidth=1, zorder=-1)
    ax.vlines([EPOCH + t / 86400 for t in xticks], *ys, colors=GRID, linewidth=1, zorder=-1)
    for y in yticks:
        py = top + height - (y - ys[0]) / (ys[1] - ys[0]) * height
        c.text(left - 8, py, _axis_text(y, v.unit), size=12, color=MUTED, ha="right", va="center")
    for t in xticks:
        px = left + (t - v.time_range[0]) / span * width
        c.text(px, top + height + 6, datetime.fromtimestamp(t, UTC).strftime(pattern), size=12, color=MUTED,
               ha="center")


def _bars(ax, xs, ys, width, color, alpha) -> None:
    """Bars as one collection (a bar per point; empty ones are not drawn)."""
    boxes = [[(x - width / 2, 0), (x - width / 2, y), (x + width / 2, y), (x + width / 2, 0)]
             for x, y in zip(xs, ys, strict=True) if y and not math.isnan(y)]
    ax.add_collection(PolyCollection(boxes, facecolors=color, edgecolors=color, linewidths=0.5, alpha=alpha))


def _step(times: list[float]) -> float:
    gaps = [b - a for a, b in zip(times, times[1:], strict=False) if b > a]
    return min(gaps) if gaps else 60.0


def _break_gaps(xs, ys, step):
    """Grafana inserts a null where points are further apart than the interval, and does not span nulls."""
    out_x, out_y = [], []
    for i, (x, y) in enumerate(zip(xs, ys, strict=True)):
        if i and x - xs[i - 1] > step * 1.5:
            out_x.append(xs[i - 1] + step)
            out_y.append(math.nan)
        out_x.append(x)
        out_y.append(y)
    return out_x, out_y


def _y_range(v: PanelView, lo, hi) -> tuple[float, float]:
    """The data's range, widened to the soft limits and clipped to min and max as configured."""
    lows = [x for x in (lo, v.soft_min) if x is not None]
    highs = [x for x in (hi, v.soft_max) if x is not None]
    bottom = v.axis_min if v.axis_min is not None else min(lows + [0])
    top = v.axis_max if v.axis_max is not None else (max(highs) if highs else None)
    if top is None or top <= bottom:
        top = bottom + 1
    return bottom, top + (top - bottom) * (0.05 if v.axis_max is None else 0)


def _legend_line(c: Canvas) -> float:
    """The height of a line of the legend: 20 pixels, more where the text is raised to stay legible."""
    return max(20.0, c.font(12) * 1.4)


def _legend(c: Canvas, v: PanelView, left, top, width, height) -> None:
    calcs = list(v.series[0].legend) if v.series else []
    line = _legend_line(c)
    col = max([90.0, *(c.width(s.legend[name], 12) + 16 for s in v.series for name in calcs)])
    names_w = width - col * len(calcs)
    y = top + 4
    for j, name in enumerate(calcs):
        c.text(left + names_w + (j + 1) * col - 8, y, name, size=12, color=MUTED, ha="right", weight="normal")
    fits = max(0, int((height - line - 4) // line))
    if len(v.series) > fits:
        fits = max(0, fits - 1)  # a line for "… n more"
    for s in v.series[:fits]:
        y += line
        c.rect(left + 2, y + line / 2 - 4, 14, 3, s.hex)
        c.text(left + 22, y, c.fit(s.name, names_w - 30, 12), size=12)
        for j, name in enumerate(calcs):
            c.text(left + names_w + (j + 1) * col - 8, y, s.legend[name], size=12, ha="right")
    if len(v.series) > fits:
        c.text(left + 22, y + line, f"… {len(v.series) - fits} more", size=12, color=MUTED)


def _table(c: Canvas, v: PanelView, left, top, width, height) -> None:
    _frame(c, v, left, top, width, height)
    if not v.rows:
        c.text(left + width / 2, top + height / 2, "No data", size=16, color=MUTED, ha="center", va="center")
        return
    widths = _column_widths(v, width - 16)
    starts = [left + 8 + sum(widths[:j]) for j in range(len(widths))]
    y = top + TITLE_H + 4
    c.rect(left + 8, y - 4, width - 16, 26, "#22252B")
    for x, w, name in zip(starts, widths, v.columns, strict=True):
        c.text(x + 8, y, c.fit(name, w - 16, 13, "bold"), size=13, weight="bold", color="#6E9FFF")
    for i, row in enumerate(v.rows[:max(0, int((height - TITLE_H - 34) // 24))]):
        y += 24
        for j, (x, w, cell) in enumerate(zip(starts, widths, row, strict=True)):
            fill = v.cell_colors[i][j] if v.cell_colors else ""
            if fill:
                c.rect(x, y - 3, w, 24, fill)
            c.text(x + 8, y + 2, c.fit(cell, w - 16, 13), size=13, color=F.text_on(fill) if fill else TEXT)


def _column_widths(v: PanelView, total: float) -> list[float]:
    """Each column's width: its own (custom.width), the rest of the table shared by the columns without one."""
    own = v.column_widths or [None] * len(v.columns)
    free = total - sum(w for w in own if w)
    share = max(0.0, free) / max(1, sum(1 for w in own if not w))
    return [w or share for w in own]


def _text(c: Canvas, v: PanelView, left, top, width, height) -> None:
    """Markdown laid out roughly as Grafana does: paragraphs reflowed to the panel's width, headings bold, code
    blocks as they are; emphasis marks, anchors and fences dropped."""
    _frame(c, v, left, top, width, height)
    y, bottom = top + TITLE_H + 4, top + height - 20
    for kind, text in _markdown_blocks(v.text):
        size, weight = c.font(15 if kind == "heading" else 13), "bold" if kind == "heading" else "normal"
        lines = text.strip("\n").splitlines() if kind == "code" else _wrap(c, text, width - 24, size, weight)
        lines = lines[:max(0, int((bottom - y) // (size + 6)) + 1)]
        if not lines:
            return
        # one text per block: matplotlib lays out each text once, whatever its number of lines
        c.text(left + 12, y, "\n".join(lines), size=size, weight=weight,
               color="#6E9FFF" if kind == "code" else TEXT, family="monospace" if kind == "code" else None,
               linespacing=(size + 6) / size / 1.2)
        y += len(lines) * (size + 6) + 8


def _markdown_blocks(text: str) -> list[tuple[str, str]]:
    """(kind, text) for each paragraph, heading, list item or code block."""
    blocks, paragraph, code = [], [], None
    for line in text.splitlines():
        if line.strip().startswith("```"):
            if code is None:
                blocks += [("text", " ".join(paragraph))] if paragraph else []
                paragraph, code = [], []
            else:
                blocks.append(("code", "\n".join(code)))
                code = None
            continue
        if code is not None:
            code.append(line)
            continue
        plain = re.sub(r"<a\b[^>]*>|</a>|<br\s*/?>|\*\*|`", "", line)
        plain = re.sub(r"\[([^]]*)\]\([^)]*\)", r"\1", plain)
        plain = re.sub(r"(?<!\w)[*_](\S[^*_]*?)[*_](?!\w)", r"\1", plain).strip()
        starts_block = not plain or plain.startswith(("#", "- ", "* ", ">"))
        if starts_block and paragraph:
            blocks.append(("text", " ".join(paragraph)))
            paragraph = []
        if plain.startswith("#"):
            blocks.append(("heading", plain.lstrip("#").strip()))
        elif plain.startswith(("- ", "* ")):
            paragraph = ["• " + plain[2:]]
        elif plain:
            paragraph.append(plain.lstrip("> "))
    if paragraph:
        blocks.append(("text", " ".join(paragraph)))
    return blocks


def _placeholder(c: Canvas, v: PanelView, left, top, width, height) -> None:
    _frame(c, v, left, top, width, height)
    c.text(left + width / 2, top + height / 2, f"{v.type} panel\n(not drawn by the preview)", size=14, color=MUTED,
           ha="center", va="center", style="italic")


def _error(c: Canvas, v: PanelView, left, top, width, height) -> None:
    _frame(c, v, left, top, width, height)
    c.text(left + 12, top + TITLE_H + 4, "\n".join(_wrap(c, v.error, width - 24, 12)), size=12, color=ERROR)


def _wrap(c: Canvas, text: str, width: float, size: float, weight: str = "normal") -> list[str]:
    """Words in lines no wider than ``width`` pixels as drawn (each word measured once); a word wider than that
    has a line of its own."""
    space = c.width(" ", size, weight)
    lines, line, used = [], [], 0.0
    for word in text.split():
        needed = c.width(word, size, weight)
        if line and used + space + needed > width:
            lines.append(" ".join(line))
            line, used = [], 0.0
        used += (space if line else 0) + needed
        line.append(word)
    return lines + ([" ".join(line)] if line else [])
