"""Texts that must not carry a pharmacovigilance count.

Quality checks, rejected lines and reports about pharmacovigilance name the record
(file, line, substance, stratum) and the rule, never a count or an exposure. Two
scans:

- ``count_mentions``: a count column (``n_cas``, ``n_conso``, ``n_decla``...) or a
  French count phrase ("N cas", "N patients exposés", "N déclarations") followed
  or preceded by a number. It needs no secret: it runs on a release folder;
- ``secret_values``: given the withheld values and the words that name their
  record (substance id and name), a text that names the record and holds the
  value as a whole number. Used by the build, where the values are known.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import polars as pl

COUNT_COLUMNS = r"n_cas(?:_total|_expo)?|n_conso(?:_total)?|n_decla(?:_eff)?|n_notif|consommants_par_an"
COUNT_MENTION = re.compile(
    rf"\b(?:{COUNT_COLUMNS}|TYP_NOTIF|pour_cas_soclong)\b[\"']?\s*(?:\(|=|:|est|vaut|de)?\s*[\"']?-?\d"
    r"|\b\d+\s*(?:cas\b|patients?\s+expos|consommants?\b|d[ée]clarations?\b|notifications?\b)",
    re.IGNORECASE,
)
# a number after these words is a threshold or a floor, not a count
BOUND_WORDS = re.compile(
    r"(?:<|>|≤|≥|<=|>=|moins de|plus de|au moins|au plus|à partir de|dès|inférieure?s? à|supérieure?s? à|seuil(?: de)?|below|above|under|over|from)\s*$",
    re.IGNORECASE,
)
RATE_BASE = re.compile(r"100[\s\u00a0\u202f]?000\s*(?:consommants|cas)\b", re.IGNORECASE)
TEXT_SUFFIXES = (".md", ".html", ".json", ".txt")  # tables are scanned column by column


@dataclass
class TextLeak:
    where: str  # file, or table:column:row
    excerpt: str  # the text around the count: for tests and debugging, never printed
    reason: str


def _excerpt(text: str, start: int, end: int) -> str:
    return text[max(0, start - 60) : end + 60].replace("\n", " ")


def count_mentions(texts: Iterable[tuple[str, str]], allowed: Iterable[str] = ()) -> list[TextLeak]:
    """Texts that state a pharmacovigilance count. ``allowed``: exact phrases that are
    known aggregates (e.g. a national figure the release publishes in its tables)."""
    allowed = tuple(allowed)
    leaks = []
    for where, text in texts:
        for match in COUNT_MENTION.finditer(text or ""):
            if BOUND_WORDS.search(text[max(0, match.start() - 20) : match.start()]):
                continue
            if RATE_BASE.search(text[max(0, match.start() - 8) : match.end()]):
                continue  # "pour 100 000 consommants": the base of a rate, not a count
            excerpt = _excerpt(text, match.start(), match.end())
            if any(a in excerpt for a in allowed):
                continue
            # the reason never repeats the number: the report must not leak what it finds
            leaks.append(TextLeak(where, excerpt, "a count stated in text"))
    return leaks


def secret_values(
    texts: Iterable[tuple[str, str]], secrets: Mapping[str, Iterable[int]], names: Mapping[str, Iterable[str]]
) -> list[TextLeak]:
    """Texts naming a record (any of ``names[record]``) and holding one of its withheld
    values as a whole number. Returns one leak per text and record."""
    words = {rec: [n.lower() for n in ns if n] for rec, ns in names.items()}
    leaks = []
    for where, text in texts:
        low = (text or "").lower()
        if not low:
            continue
        numbers = {int(n) for n in re.findall(r"(?<![\d.,])\d+(?![\d.,]\d)", low)}
        if not numbers:
            continue
        for rec, values in secrets.items():
            hit = numbers & set(values)
            if hit and any(w in low for w in words.get(rec, ())):
                leaks.append(TextLeak(where, low[:160], f"{rec}: withheld value in text"))
    return leaks


def frame_texts(name: str, frame: pl.DataFrame) -> list[tuple[str, str]]:
    """Every string cell of a table, as (table:column:row, text)."""
    out = []
    for col, dtype in frame.schema.items():
        if dtype != pl.String:
            continue
        for i, value in enumerate(frame[col].to_list()):
            if value:
                out.append((f"{name}:{col}:{i + 1}", value))
    return out


def folder_texts(folder: Path) -> list[tuple[str, str]]:
    """Every text file of a release folder (md, html, json, txt, csv)."""
    out = []
    for path in sorted(Path(folder).rglob("*")):
        if path.is_file() and path.suffix in TEXT_SUFFIXES:
            out.append((str(path.relative_to(folder)), path.read_text(encoding="utf-8", errors="replace")))
    return out
