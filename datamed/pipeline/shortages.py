"""Shortages: episodes (``datamed.pipeline.episodes``), catalogue enrichment, class history."""

from __future__ import annotations

import re

import polars as pl
from rapidfuzz import fuzz, process

from datamed.core.text import normalise
from datamed.datasets import DS
from datamed.pipeline.episodes import RELIABLE_START, build_episodes

__all__ = ["RELIABLE_START", "build_episodes", "enrich", "map_class_labels"]


def enrich(episodes: pl.DataFrame, datasets: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """Add catalogue facts: name, form, routes, holder, MITM, ATC, generic group."""
    spec = datasets[DS.SPECIALITES].select(
        "cis",
        "denomination",
        "forme_pharmaceutique",
        pl.col("voies_administration").list.join(";").alias("voies"),
        pl.col("titulaires").list.first().alias("titulaire"),
        "statut_amm",
        "date_amm",
    )
    atc = datasets.get(DS.SPECIALITE_ATC, pl.DataFrame(schema={"cis": pl.String, "code_atc": pl.String}))
    mitm = datasets.get(DS.MITM, pl.DataFrame(schema={"cis": pl.String}))
    gener = datasets.get(DS.GENERIQUES, pl.DataFrame(schema={"cis": pl.String, "id_groupe_generique": pl.String}))
    labels = datasets.get(DS.ATC, pl.DataFrame(schema={"code_atc": pl.String, "libelle": pl.String}))
    lab = dict(zip(labels["code_atc"].to_list(), labels["libelle"].to_list())) if not labels.is_empty() else {}
    out = (
        episodes.join(spec, on="cis", how="left")
        .join(atc.select("cis", "code_atc").unique("cis"), on="cis", how="left")
        .join(mitm.select("cis").unique().with_columns(pl.lit(True).alias("mitm")), on="cis", how="left")
        .join(gener.select("cis", "id_groupe_generique").unique("cis"), on="cis", how="left")
        .with_columns(
            pl.col("mitm").fill_null(False),
            pl.col("denomination").is_not_null().alias("au_catalogue"),
            pl.col("code_atc").str.slice(0, 1).alias("atc1"),
            pl.col("code_atc").str.slice(0, 3).alias("atc2"),
        )
    )
    return out.with_columns(
        pl.col("atc1").replace_strict(lab, default=None, return_dtype=pl.String).alias("atc1_libelle"),
        pl.col("atc2").replace_strict(lab, default=None, return_dtype=pl.String).alias("atc2_libelle"),
    )


# --- class-level history (ANSM / EIG DataMed, 2014-2020) ------------------------------------------

_CODE_LIKE = re.compile(r"^[A-Z][0-9O]{2}$")


def map_class_labels(labels: list[str], atc: pl.DataFrame) -> pl.DataFrame:
    """Map the French ATC class labels of the yearly signal counts to ATC codes."""
    candidates = atc.filter(pl.col("niveau") <= 2) if not atc.is_empty() else atc
    by_norm: dict[str, str] = {}
    if not candidates.is_empty():
        for code, fr, en in candidates.select("code_atc", "libelle_fr", "libelle_en").rows():
            for lab in (fr, en):
                if lab:
                    by_norm.setdefault(normalise(lab), code)
    keys = list(by_norm)
    codes = set(candidates["code_atc"].to_list()) if not candidates.is_empty() else set()
    rows = []
    for label in labels:
        code, method, score = None, None, None
        raw = label.strip().upper()
        if _CODE_LIKE.match(raw):
            fixed = raw[0] + raw[1:].replace("O", "0")
            if fixed in codes:
                code, method, score = fixed, "code (O lu 0)" if fixed != raw else "code", 100
        if code is None and normalise(label) in by_norm:
            code, method, score = by_norm[normalise(label)], "libellé exact", 100
        if code is None and keys:
            best = process.extractOne(normalise(label), keys, scorer=fuzz.ratio)
            if best and best[1] >= 80:
                code, method, score = by_norm[best[0]], "libellé approché", int(best[1])
        rows.append({"libelle_source": label, "code_atc": code, "methode": method, "score": score})
    return pl.DataFrame(
        rows, schema={"libelle_source": pl.String, "code_atc": pl.String, "methode": pl.String, "score": pl.Int16}
    )
