"""The run: inputs of the checks, the accumulator of their results, shared helpers.

Every check family receives one ``Run``: it reads the prepared frames and the
manifest's source entries from it, and calls ``record`` (or ``na``) once per
check x dataset. ``record`` derives the status from the counts, keeps up to
``MAX_EXAMPLES`` failing rows as JSON examples and up to ``MAX_FAILURES`` in
``qualite_echecs``. What a dataset is (the source it is scored under, the raw
files it comes from, the column naming a row) is read from the registry.
"""

from __future__ import annotations

import calendar
import json
import re
from concurrent.futures import Future
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl

from datamed.datasets import DS, registry
from datamed.datasets.quality import (
    CATEGORIES,
    ECHECS_SCHEMA,
    EVOLUTION_SCHEMA,
    GRAVITES,
    MAX_FAILURES,
    QUALITE_SCHEMA,
)

MAX_EXAMPLES = 5  # failing rows summarised in qualite.exemples

FAILS_SCHEMA = {"cle": pl.String, "ligne": pl.Int64, "detail": pl.String}

# sources of the manifest that are not datasets: the La Poste file, read to
# geocode the sites, is scored with the communes built from it
SOURCE_ONLY_LABELS = {"sites_geocodage": "Communes (La Poste)"}


# --- what the registry says of a dataset ----------------------------------------


def row_key(jeu: str) -> str | None:
    """The column naming a failing row of ``jeu`` (None: not declared)."""
    dataset = registry.BY_NAME.get(jeu)
    return dataset.row_key if dataset is not None else None


def derived_from(jeu: str) -> tuple[str, ...]:
    """The manifest source datasets whose raw files ``jeu`` is built from."""
    dataset = registry.BY_NAME.get(jeu)
    return dataset.derived_from if dataset is not None else ()


def quality_source(jeu: str) -> str | None:
    """The source the checks of ``jeu`` are scored under (None: not declared)."""
    dataset = registry.BY_NAME.get(jeu)
    if dataset is not None and dataset.quality_source:
        return dataset.quality_source
    return SOURCE_ONLY_LABELS.get(jeu)


# --- small helpers ------------------------------------------------------------


def parse_snapshot(value) -> date | None:
    """'2026-01-27' -> that day; '2025-08' / '2015' -> the last day of the period."""
    if isinstance(value, date):
        return value
    text = str(value or "")
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return date.fromisoformat(text)
        if re.fullmatch(r"\d{4}-\d{2}", text):
            y, m = int(text[:4]), int(text[5:])
            return date(y, m, calendar.monthrange(y, m)[1])
        if re.fullmatch(r"\d{4}", text):
            return date(int(text), 12, 31)
    except ValueError:
        return None
    return None


def empty_fails() -> pl.DataFrame:
    return pl.DataFrame(schema=FAILS_SCHEMA)


def line_expr(frame: pl.DataFrame) -> pl.Expr:
    if "source_line" in frame.columns:
        return pl.col("source_line").cast(pl.Int64)
    return pl.lit(None, dtype=pl.Int64)


def key_expr(frame: pl.DataFrame, jeu: str) -> pl.Expr:
    key = row_key(jeu)
    if key is None or key not in frame.columns:
        key = frame.columns[0]
    return pl.col(key).cast(pl.String)


def is_string(frame: pl.DataFrame, col: str) -> bool:
    return frame.schema[col] == pl.String


def is_list(frame: pl.DataFrame, col: str) -> bool:
    return isinstance(frame.schema[col], pl.List)


# --- the run ------------------------------------------------------------------


class Run:
    def __init__(self, datasets, sources, rejects, raw, previous, today):
        self.datasets: dict[str, pl.DataFrame] = {
            k: v for k, v in (datasets or {}).items() if isinstance(v, pl.DataFrame)
        }
        self.sources: list[dict] = [s for s in (sources or []) if isinstance(s, dict)]
        self.rejects = rejects if isinstance(rejects, pl.DataFrame) else None
        self.raw = Path(raw) if raw else None
        self.previous = Path(previous) if previous else None
        self.today = today or datetime.now(UTC).date()
        self.rows: list[dict] = []
        self.fails: list[pl.DataFrame] = []
        self.evolution: list[pl.DataFrame] = []
        self.by_dataset: dict[str, list[dict]] = {}
        self.snapshots: dict[str, list[tuple[str, Path, str]]] = {}  # spec key -> two newest raw snapshots
        self.snapshot_frames: dict[str, pl.DataFrame | Future | None] = {}  # raw path -> frame (or pending read)
        for s in self.sources:
            self.by_dataset.setdefault(str(s.get("dataset") or ""), []).append(s)

    # inputs
    def frame(self, name: str) -> pl.DataFrame | None:
        frame = self.datasets.get(name)
        if frame is None or frame.is_empty():
            return None
        return frame

    def files(self, jeu: str) -> str:
        entries = list(self.by_dataset.get(jeu, []))
        for origin in derived_from(jeu):
            entries += self.by_dataset.get(origin, [])
        entries.sort(key=lambda s: str(s.get("snapshot") or ""), reverse=True)
        seen: list[str] = []
        for s in entries:
            p = str(s.get("path") or "")
            if p and p not in seen:
                seen.append(p)
        return ", ".join(seen)

    def snapshot(self, jeu: str) -> date:
        dates = [d for s in self.by_dataset.get(jeu, []) if (d := parse_snapshot(s.get("snapshot")))]
        return max(dates) if dates else self.today

    def source_label(self, jeu: str, entry: dict | None = None) -> str:
        if (label := quality_source(jeu)) is not None:
            return label
        if jeu.startswith("ei_") or (entry and "pharmacovigilance" in str(entry.get("source", "")).lower()):
            return "Pharmacovigilance"
        if jeu.startswith("risque_"):
            return "Modèle de risque de rupture"
        if entry and entry.get("source"):
            return str(entry["source"])
        return jeu

    # output
    def record(
        self,
        controle: str,
        jeu: str,
        categorie: str,
        gravite: str,
        description: str,
        n_verifies: int,
        fails: pl.DataFrame | None = None,
        *,
        n_echecs: int | None = None,
        key_name: str = "cle",
        fichier: str | None = None,
        source: str | None = None,
    ) -> None:
        assert categorie in CATEGORIES and gravite in GRAVITES, (categorie, gravite)
        fails = (
            empty_fails()
            if fails is None
            else fails.select(
                pl.col("cle").cast(pl.String), pl.col("ligne").cast(pl.Int64), pl.col("detail").cast(pl.String)
            )
        )
        n_verifies = int(n_verifies or 0)
        n_e = int(fails.height if n_echecs is None else n_echecs) if n_verifies else 0
        statut = "non applicable" if n_verifies == 0 else ("échoué" if n_e > 0 else "réussi")
        examples = []
        if n_verifies:
            for r in fails.head(MAX_EXAMPLES).iter_rows(named=True):
                ex = {key_name: r["cle"]}
                if r["ligne"] is not None:
                    ex["ligne"] = r["ligne"]
                ex["detail"] = r["detail"]
                examples.append(ex)
            if fails.height:
                self.fails.append(
                    fails.head(MAX_FAILURES).with_columns(pl.lit(controle).alias("controle"), pl.lit(jeu).alias("jeu"))
                )
        self.rows.append(
            {
                "source": source or self.source_label(jeu),
                "jeu": jeu,
                "fichier": self.files(jeu) if fichier is None else fichier,
                "controle": controle,
                "categorie": categorie,
                "description": description,
                "gravite": gravite,
                "n_verifies": n_verifies,
                "n_echecs": n_e,
                "taux_echec": (n_e / n_verifies) if n_verifies else 0.0,
                "statut": statut,
                "exemples": json.dumps(examples, ensure_ascii=False, default=str),
            }
        )

    def na(self, controle, jeu, categorie, gravite, description, **kw) -> None:
        self.record(controle, jeu, categorie, gravite, description, 0, **kw)

    def results(self) -> dict[str, pl.DataFrame]:
        qualite = (
            pl.DataFrame(self.rows, schema=QUALITE_SCHEMA, orient="row")
            if self.rows
            else pl.DataFrame(schema=QUALITE_SCHEMA)
        )
        echecs = (
            pl.concat(self.fails, how="vertical").select(list(ECHECS_SCHEMA)).cast(ECHECS_SCHEMA)
            if self.fails
            else pl.DataFrame(schema=ECHECS_SCHEMA)
        )
        evolution = (
            pl.concat([e.select(list(EVOLUTION_SCHEMA)).cast(EVOLUTION_SCHEMA) for e in self.evolution], how="vertical")
            if self.evolution
            else pl.DataFrame(schema=EVOLUTION_SCHEMA)
        )
        return {DS.QUALITE: qualite, DS.QUALITE_ECHECS: echecs, DS.QUALITE_EVOLUTION: evolution}
