"""Grafana's display semantics, written out: unit formats, decimals, threshold steps, value mappings, reducers,
named colours of the dark theme.

Each function follows the Grafana source it names (packages/grafana-data/src/valueFormats, field/thresholds.ts,
utils/valueMappings.ts, transformations/fieldReducer.ts) so that a preview shows the text a Grafana user reads.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass

# --- numbers ---------------------------------------------------------------------------------------------


def js_round(x: float) -> float:
    """JavaScript's Math.round: halves go up (towards +infinity)."""
    return math.floor(x + 0.5)


def js_str(x: float) -> str:
    """JavaScript's String(number) for the values formatting meets."""
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    if math.isnan(x):
        return "NaN"
    if x == int(x) and abs(x) < 1e21:
        return str(int(x))
    text = repr(x)
    return re.sub(r"e([+-])0*(\d)", r"e\1\2", text)


def decimals_for_value(value: float) -> int:
    """getDecimalsForValue: about two significant digits, none for whole numbers."""
    dec = -math.floor(math.log10(abs(value))) + 1
    norm = value / 10 ** -dec
    if norm > 2.25:
        dec += 1
    if value % 1 == 0:
        dec = 0
    return max(0, dec)


def to_fixed(value: float, decimals: int | None = None) -> str:
    """toFixed from valueFormats.ts: rounds to ``decimals`` (or the automatic ones), pads with zeros."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "∞" if value > 0 else "-∞"
    if decimals is None:
        decimals = decimals_for_value(value) if value != 0 else 0
    if value == 0:
        return f"{0:.{decimals}f}"
    factor = 10 ** max(0, decimals) if decimals else 1
    formatted = js_str(js_round(value * factor) / factor)
    if "e" in formatted:
        return formatted
    point = formatted.find(".")
    precision = 0 if point == -1 else len(formatted) - point - 1
    if precision < decimals:
        return (formatted if precision else formatted + ".") + str(factor)[1:decimals - precision + 1]
    return formatted


@dataclass(frozen=True)
class Formatted:
    text: str
    suffix: str = ""
    prefix: str = ""

    def __str__(self) -> str:
        return f"{self.prefix}{self.text}{self.suffix}"


def _scaled(factor: int, suffixes: list[str], offset: int = 0):
    """scaledUnits: divide by ``factor`` as often as the value allows, naming the step by its suffix."""
    def fmt(size: float, decimals: int | None) -> Formatted:
        if math.isinf(size) or math.isnan(size):
            return Formatted(js_str(size))
        index = math.floor(math.log(abs(size), factor)) if size != 0 else 0
        if size != 0 and factor ** (index + 1) <= abs(size):  # log rounding at exact powers
            index += 1
        clamp = max(-offset, min(index, len(suffixes) - offset - 1))
        suffix = suffixes[max(0, min(offset + index, len(suffixes) - 1))]
        return Formatted(to_fixed(size / factor ** clamp, decimals), suffix)
    return fmt


_BIN = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"]


def _decimal_si(unit: str, offset: int = 0):
    # decimalSIPrefix skips the c/d/da/h prefixes: a step of 1000 moves three places in SI_PREFIXES.
    names = ["f", "p", "n", "µ", "m", "", "k", "M", "G", "T", "P", "E", "Z", "Y"]
    return _scaled(1000, [f" {p}{unit}" for p in names], names.index("") + offset)


def _binary(unit: str, offset: int = 0):
    return _scaled(1024, [f" {p}{unit}" for p in _BIN], offset)


def _fixed_unit(unit: str, prefix: bool = False):
    def fmt(size: float, decimals: int | None) -> Formatted:
        text = to_fixed(size, decimals)
        if not unit:
            return Formatted(text)
        return Formatted(text, prefix=unit) if prefix else Formatted(text, f" {unit}")
    return fmt


def _scaled_text(value: float, decimals: int | None, suffix: str) -> Formatted:
    return Formatted(to_fixed(value, decimals), suffix)


def to_seconds(size: float, decimals: int | None) -> Formatted:
    """toSeconds: 3708 s is "1.03 hour" (hours with automatic decimals), 111600 s is "1.29 day"."""
    a = abs(size)
    if a == 0:
        return Formatted(to_fixed(size, decimals), " s")
    if a < 0.000001:
        return _scaled_text(size * 1e9, decimals, " ns")
    if a < 0.001:
        return _scaled_text(size * 1e6, decimals, " µs")
    if a < 1:
        return _scaled_text(size * 1e3, decimals, " ms")
    if a < 60:
        return Formatted(to_fixed(size, decimals), " s")
    return _ladder(size, decimals, ((3600, 60, " min"), (86400, 3600, " hour"), (604800, 86400, " day"),
                                    (31536000, 604800, " week")), 3.15569e7)


def to_milliseconds(size: float, decimals: int | None) -> Formatted:
    a = abs(size)
    if a < 1000:
        return Formatted(to_fixed(size, decimals), " ms")
    return _ladder(size, decimals, ((60000, 1000, " s"), (3600000, 60000, " min"), (86400000, 3600000, " hour"),
                                    (31536000000, 86400000, " day")), 31536000000)


def _ladder(size: float, decimals: int | None, rows: tuple, year: float) -> Formatted:
    """The first unit whose (limit, size of one, name) row the value is below the limit of, else years."""
    for limit, size_of, name in rows:
        if abs(size) < limit:
            return _scaled_text(size / size_of, decimals, name)
    return _scaled_text(size / year, decimals, " year")


# moment's fromNow() ladder, after 'a few seconds': (the text for one, the unit, counted in it below this many)
_FROM_NOW_UNITS = (
    ("a minute", "minutes", 45),
    ("an hour", "hours", 22),
    ("a day", "days", 26),
    ("a month", "months", 11),
    ("a year", "years", math.inf),
)


def from_now(ms: float, now_ms: float) -> str:
    """dateTimeFromNow: moment's fromNow() with its default thresholds (s 45, m 45, h 22, d 26, M 11)."""
    delta = (now_ms - ms) / 1000
    text = _from_now_text(abs(delta))
    return f"{text} ago" if delta >= 0 else f"in {text}"


def _from_now_text(s: float) -> str:
    if js_round(s) < 45:
        return "a few seconds"
    days = s / 86400
    months = days * 4800 / 146097  # moment's days-to-months
    counts = map(js_round, (s / 60, s / 3600, days, months, months / 12))
    count, one, unit = next((n, one, unit) for n, (one, unit, below) in zip(counts, _FROM_NOW_UNITS, strict=True)
                            if n < below)  # the last row has no bound
    return one if count <= 1 else f"{count} {unit}"


_UNITS = {
    "": _fixed_unit(""),
    "none": _fixed_unit(""),
    "short": _scaled(1000, ["", " K", " Mil", " Bil", " Tri", " Quadr", " Quint", " Sext", " Sept"]),
    "percent": lambda v, d: Formatted(to_fixed(v, d), "%"),
    "percentunit": lambda v, d: Formatted(to_fixed(100 * v, d), "%"),
    "s": to_seconds,
    "ms": to_milliseconds,
    "bytes": _binary("B"),
    "kbytes": _binary("B", 1),
    "mbytes": _binary("B", 2),
    "gbytes": _binary("B", 3),
    "decbytes": _decimal_si("B"),
    "deckbytes": _decimal_si("B", 1),
    "decmbytes": _decimal_si("B", 2),
    "decgbytes": _decimal_si("B", 3),
    "Bps": _decimal_si("B/s"),
    "binBps": _binary("B/s"),
    "bps": _decimal_si("bps"),
    "reqps": _decimal_si("req/s"),
    "ops": _decimal_si("ops/s"),
}


def format_value(value: float, unit: str | None, decimals: int | None = None, now: float | None = None) -> Formatted:
    """getValueFormat(unit)(value, decimals); ``now`` (unix seconds) is what dateTimeFromNow counts from."""
    unit = unit or ""
    if unit == "dateTimeFromNow":
        import time

        return Formatted(from_now(value, (time.time() if now is None else now) * 1000))
    if unit in _UNITS:
        return _UNITS[unit](value, decimals)
    if ":" in unit:
        kind, _, rest = unit.partition(":")
        if kind in ("suffix", "prefix"):
            return _fixed_unit(rest, prefix=kind == "prefix")(value, decimals)
        if kind == "count":
            f = _UNITS["short"](value, decimals)
            return Formatted(f.text, f"{f.suffix} {rest}")
    return _fixed_unit(unit)(value, decimals)


# --- thresholds and mappings -----------------------------------------------------------------------------


def active_step(value: float, thresholds: dict | None, lo: float | None = None, hi: float | None = None) -> dict:
    """getActiveThreshold: the last step whose value is <= the value; the base step (value null) is -infinity.

    In percentage mode the steps are percentages of [lo, hi] (the field's min and max).
    """
    steps = (thresholds or {}).get("steps") or [{"color": "green", "value": None}]
    if (thresholds or {}).get("mode") == "percentage" and lo is not None and hi is not None and hi > lo:
        value = (value - lo) / (hi - lo) * 100
    active = steps[0]
    for step in steps:
        limit = -math.inf if step.get("value") is None else step["value"]
        if value >= limit:
            active = step
        else:
            break
    return active


@dataclass(frozen=True)
class Mapped:
    text: str | None
    color: str | None


def map_value(value: float | None, mappings: list[dict]) -> Mapped | None:
    """getValueMappingResult: the first mapping that matches, in order (value, range, regex, special)."""
    for mapping in mappings or []:
        kind, options = mapping.get("type"), mapping.get("options") or {}
        result = None
        if kind == "value" and value is not None:
            result = options.get(js_str(value))
        elif kind == "range" and value is not None:
            lo = options.get("from")
            hi = options.get("to")
            if (lo is None or value >= lo) and (hi is None or value <= hi) and (lo is not None or hi is not None):
                result = options.get("result")
        elif kind == "regex" and value is not None:
            if re.search(options.get("pattern", "(?!)"), js_str(value)):
                result = options.get("result")
        elif kind == "special":
            match = options.get("match")
            hit = (match in ("null", "null+nan") and value is None) or \
                  (match in ("nan", "null+nan") and value is not None and math.isnan(value))
            result = options.get("result") if hit else None
        if result:
            return Mapped(result.get("text"), result.get("color"))
    return None


# --- reducers ----------------------------------------------------------------------------------------------

REDUCER_NAMES = {"lastNotNull": "Last *", "last": "Last", "firstNotNull": "First *", "first": "First",
                 "max": "Max", "min": "Min", "mean": "Mean", "sum": "Total", "count": "Count", "range": "Range",
                 "delta": "Delta", "diff": "Difference", "median": "Median"}


def reduce(values: list[float | None], calc: str) -> float | None:
    """fieldReducer: nulls are skipped except by last/first; an empty series has no value."""
    present = [v for v in values if v is not None and not math.isnan(v)]
    if calc == "last":
        return values[-1] if values else None
    if calc == "first":
        return values[0] if values else None
    if calc == "count":
        return float(len(values))
    if not present:
        return None
    ops = {"lastNotNull": lambda: present[-1], "firstNotNull": lambda: present[0], "max": lambda: max(present),
           "min": lambda: min(present), "sum": lambda: sum(present), "mean": lambda: sum(present) / len(present),
           "range": lambda: max(present) - min(present), "diff": lambda: present[-1] - present[0],
           "median": lambda: sorted(present)[len(present) // 2]}
    if calc not in ops:
        raise ValueError(f"unsupported reducer {calc!r}")
    return ops[calc]()


# --- colours ------------------------------------------------------------------------------------------------

_SHADES = {  # super-light, light, primary, semi-dark, dark (Grafana's named colours, dark theme)
    "red": ("#FFA6B0", "#FF7383", "#F2495C", "#E02F44", "#C4162A"),
    "orange": ("#FFCB7D", "#FFB357", "#FF9830", "#FF780A", "#FA6400"),
    "yellow": ("#FFF899", "#FFEE52", "#FADE2A", "#F2CC0C", "#E0B400"),
    "green": ("#C8F2C2", "#96D98D", "#73BF69", "#56A64B", "#37872D"),
    "blue": ("#C0D8FF", "#8AB8FF", "#5794F2", "#3274D9", "#1F60C4"),
    "purple": ("#DEB6F2", "#CA95E5", "#B877D9", "#A352CC", "#8F3BB8"),
}
TEXT = "#CCCCDC"
FALLBACK = "#808080"
# palette-classic as the time series panel assigns it, series by series
CLASSIC = ["#73BF69", "#F2CC0C", "#8AB8FF", "#FF780A", "#F2495C", "#5794F2", "#B877D9", "#705DA0", "#37872D",
           "#FADE2A", "#447EBC", "#C15C17", "#890F02", "#0A437C", "#6D1F62", "#584477", "#B7DBAB", "#F4D598"]


def color_hex(name: str | None) -> str:
    """getColorForTheme: a named colour ("red", "dark-orange", "super-light-blue"), a hex or rgb value."""
    if not name:
        return FALLBACK
    if name.startswith("#") or name.startswith("rgb"):
        return name
    if name == "text":
        return TEXT
    if name == "transparent":
        return "#00000000"
    for prefix, index in (("super-light-", 0), ("light-", 1), ("semi-dark-", 3), ("dark-", 4), ("", 2)):
        if name.startswith(prefix) and name[len(prefix):] in _SHADES:
            return _SHADES[name[len(prefix):]][index]
    return FALLBACK


def text_on(background: str) -> str:
    """getTextColorForBackground: dark text when the background's brightness is above 180 (yellow), else light."""
    h = background.lstrip("#")[:6]
    if len(h) != 6:
        return "#F7F8FA"
    r, g, b = (int(h[i:i + 2], 16) for i in (0, 2, 4))
    return "#202226" if (r * 299 + g * 587 + b * 114) / 1000 > 180 else "#F7F8FA"


# --- legend names -------------------------------------------------------------------------------------------


def legend_name(legend_format: str, labels: dict[str, str]) -> str:
    """The Prometheus datasource's legend: {{label}} replaced by its value (nothing if absent); without a
    format, the series' selector text."""
    if legend_format and legend_format != "__auto":
        text = re.sub(r"\{\{\s*(.+?)\s*\}\}", lambda m: labels.get(m.group(1), ""), legend_format)
        return text.strip() or legend_format
    name = labels.get("__name__", "")
    rest = ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items()) if k != "__name__")
    return f"{name}{{{rest}}}" if rest else (name or "Value")


def collation_key(text: str) -> tuple:
    """A sort key that orders names as Intl.Collator(undefined, {sensitivity: "base", numeric: true}) does, which
    Grafana's organize transformation sorts fields with: case and accents ignored, a run of digits by its value,
    spaces and punctuation before digits, digits before letters."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", text.casefold()) if not unicodedata.combining(c))
    return tuple((1, int(part)) if part.isdecimal() else (2, part) if part.isalpha() else (0, part)
                 for part in re.findall(r"\d+|.", plain, re.S))


# --- words --------------------------------------------------------------------------------------------------


def plural(count: int, noun: str) -> str:
    """The count and its noun: 1 panel, 2 panels, 0 panels."""
    return f"{count} {noun}{'' if count == 1 else 's'}"
