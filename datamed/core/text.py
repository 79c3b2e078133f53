"""Text helpers: accent-free normalisation and French formatting."""

from __future__ import annotations

import functools
import html
import re
import unicodedata
from datetime import date

import polars as pl

_LIGATURES = str.maketrans({"œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae", "ß": "ss", "’": "'"})
_NON_ALNUM = re.compile(r"[^0-9a-z]+")

MONTHS_FR = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
]


def strip_accents(text: str) -> str:
    """'Diclofénac' -> 'Diclofenac' (case and punctuation kept)."""
    if text.isascii():
        return text
    return "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))


@functools.lru_cache(maxsize=1 << 16)
def normalise(text: str) -> str:
    """Lower-case, accent-free, punctuation-free words separated by one space.

    Cached: the pipeline normalises the same labels many times (organ classes,
    substance names, communes)."""
    if not text:
        return ""
    if not text.isascii():
        text = strip_accents(text.translate(_LIGATURES))
    return _NON_ALNUM.sub(" ", text.lower()).strip()


def fr_int(n: int | float | None) -> str:
    """12345 -> '12 345' (narrow no-break space, as in French typography)."""
    if n is None:
        return "—"
    return f"{int(round(n)):,}".replace(",", "\u202f")


def fr_number(x: float | None, decimals: int = 2) -> str:
    """1234.5 -> '1 234,50'."""
    if x is None:
        return "—"
    s = f"{x:,.{decimals}f}"
    return s.replace(",", "\u202f").replace(".", ",")


def fr_percent(share: float | None, decimals: int = 1) -> str:
    """0.9488 -> '94,9 %'."""
    return "—" if share is None else fr_number(100 * share, decimals) + " %"


def fr_euro(x: float | None) -> str:
    return "—" if x is None else f"{fr_number(x, 2)}\u00a0€"


def fr_date(d: date | None, long: bool = False) -> str:
    """date(2026, 1, 27) -> '27/01/2026' (or '27 janvier 2026')."""
    if d is None:
        return "—"
    if long:
        day = "1er" if d.day == 1 else str(d.day)
        return f"{day} {MONTHS_FR[d.month - 1]} {d.year}"
    return d.strftime("%d/%m/%Y")


def fr_snapshot(value: str | None) -> str:
    """'2026-01-27' -> '27/01/2026', '2025-08' -> '08/2025', '2015' -> '2015'."""
    if not value:
        return "non daté"
    parts = str(value).split("-")
    return "/".join(reversed(parts)) if all(p.isdigit() for p in parts) else str(value)


def fr_plural(n: int, singular: str, plural: str | None = None) -> str:
    word = singular if n < 2 else (plural or singular + "s")
    return f"{fr_int(n)} {word}"


def fr_column(frame: pl.DataFrame, column: str, fn, *, skip_nulls: bool = True) -> pl.Series:
    """``fn`` (a French formatter) over a column, as a String Series named ``column``.

    Plain Python over the column's values, never a Python function run inside polars
    (``map_elements``): such a call, on a page, can deadlock the server against
    another session's Arrow or pandas conversion (issue 12). Page tables are small.
    """
    values = frame[column].to_list()
    out = [None if v is None and skip_nulls else fn(v) for v in values]
    return pl.Series(column, out, dtype=pl.String)


FORMULA_START = r"^[=+\-@\t\r]"  # what a spreadsheet may execute as a formula (OWASP, CSV injection)
#: a negative number written out as text ("-0,13", "-1 234,5", "-2,5 %"): data, not a formula
NEGATIVE_NUMBER = r"^-\d[\d\u202f\u00a0]*(?:[,.]\d+)?(?:[\u202f\u00a0 ]?%)?$"


def csv_safe(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` ready to be written as CSV: a text cell that starts with ``=``, ``+``,
    ``-``, ``@``, a tab or a carriage return gets a leading apostrophe, so that a
    spreadsheet shows it as text instead of running it (OWASP's guidance on CSV
    injection); a negative number written as text (a French-formatted figure such as
    "-0,13") is left as it is, so that a spreadsheet reads it as a number. Numbers and
    dates are left alone; native polars expressions only."""
    text = [c for c, t in frame.schema.items() if t == pl.String]
    return frame.with_columns(
        pl.when(pl.col(c).str.contains(FORMULA_START) & ~pl.col(c).str.contains(NEGATIVE_NUMBER))
        .then("'" + pl.col(c))
        .otherwise(pl.col(c))
        .alias(c)
        for c in text
    )


_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)
_SUPERSCRIPT = re.compile(r"<sup>\s*([0-9+\-]+)\s*</sup>", re.IGNORECASE)
_SUBSCRIPT = re.compile(r"<sub>\s*([0-9]+)\s*</sub>", re.IGNORECASE)
_TAG = re.compile(r"</?[a-zA-Z][^<>]*>")
_SUP_CHARS = str.maketrans("0123456789+-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻")
_SUB_CHARS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
# the BDPM's HAS texts write "¿" (or "?") for a character its export could not encode:
# a bullet at the start of a line, "œ" (« ¿dème », « l¿¿il »), an apostrophe inside a
# word (« l¿enfant »), a no-break space before a colon (« compte¿: »)
_LOST_BULLET = re.compile(r"^[¿?](?:\s+|$)", re.MULTILINE)
_LOST_DASH_SPACE = re.compile(r"^-¿", re.MULTILINE)
_LOST_OE = re.compile(r"¿(?=dème|il\b|ils\b|sophag|strog|uvre|ur\b|urs\b)")
_LOST_APOSTROPHE = re.compile(r"(?<=\w)¿(?=\w)")
_LOST_SPACE = re.compile(r"¿(?=[:;!?])")


def html_to_text(value: str | None) -> str | None:
    """Plain text of a source field written with a little HTML (the BDPM's
    « 2 x 10<sup>6</sup> UI », the HAS opinions' ``<br>``): line breaks for ``<br>``,
    superscript and subscript digits for ``<sup>``/``<sub>``, other tags dropped,
    entities decoded, and the export's lost characters restored where the context tells
    which they were (a "¿" or "?" bullet at a line's start becomes "•", « l¿¿il »
    « l’œil », « compte¿: » « compte : »). Text without markup is returned as it is."""
    if not value or ("<" not in value and "&" not in value and "¿" not in value):
        return value
    text = _BREAK.sub("\n", value)
    text = _SUPERSCRIPT.sub(lambda m: m.group(1).translate(_SUP_CHARS), text)
    text = _SUBSCRIPT.sub(lambda m: m.group(1).translate(_SUB_CHARS), text)
    text = html.unescape(_TAG.sub("", text))
    lines = [" ".join(line.split()) for line in text.split("\n")]
    text = "\n".join(lines).strip()
    text = _LOST_BULLET.sub(lambda m: "• " if m.group(0).strip() != m.group(0) else "", text)
    text = _LOST_DASH_SPACE.sub("- ", text)
    text = _LOST_OE.sub("œ", text)
    text = _LOST_APOSTROPHE.sub("’", text)
    return _LOST_SPACE.sub("\u00a0", text).strip()
