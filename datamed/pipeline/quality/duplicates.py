"""Checks of the "doublons" category: unique keys, and rows repeated verbatim."""

from __future__ import annotations

import polars as pl

from datamed.datasets import DS
from datamed.pipeline.quality.run import Run, key_expr, line_expr, row_key

UNIQUE_KEYS = (
    ("cis_unique", DS.SPECIALITES, "cis", "Chaque code CIS n'apparaît qu'une fois dans les spécialités."),
    ("cip13_unique", DS.PRESENTATIONS, "cip13", "Chaque code CIP13 n'apparaît qu'une fois dans les présentations."),
    ("cip7_unique", DS.PRESENTATIONS, "cip7", "Chaque code CIP7 n'apparaît qu'une fois dans les présentations."),
    ("cis_unique", DS.MITM, "cis", "Chaque code CIS n'apparaît qu'une fois dans la liste des MITM."),
    ("code_atc_unique", DS.ATC, "code_atc", "Chaque code ATC n'apparaît qu'une fois dans la classification."),
    ("site_id_unique", DS.SITES, "site_id", "Chaque identifiant de site n'apparaît qu'une fois."),
    ("code_substance_unique", DS.SUBSTANCES, "code_substance", "Chaque code substance n'apparaît qu'une fois."),
)
FULL_ROW_DUPLICATES = (DS.COMPOSITIONS, DS.GENERIQUES, DS.CONDITIONS, DS.HAS_SMR, DS.HAS_ASMR)


def check_duplicates(run: Run) -> None:
    for controle, jeu, col, description in UNIQUE_KEYS:
        frame = run.frame(jeu)
        if frame is None or col not in frame.columns:
            run.na(controle, jeu, "doublons", "bloquante", description)
            continue
        values = frame.filter(pl.col(col).is_not_null())
        line = line_expr(frame)
        bad = values.with_columns(
            pl.len().over(col).alias("_n"), line.alias("_l"), line.min().over(col).alias("_first")
        ).filter(pl.col("_n") > 1)
        fails = bad.select(
            pl.col(col).cast(pl.String).alias("cle"),
            pl.col("_l").alias("ligne"),
            pl.when(pl.col("_first").is_not_null())
            .then(
                pl.format(
                    "{} présent {} fois (première occurrence ligne {})", pl.lit(col), pl.col("_n"), pl.col("_first")
                )
            )
            .otherwise(pl.format("{} présent {} fois", pl.lit(col), pl.col("_n")))
            .alias("detail"),
        )
        run.record(controle, jeu, "doublons", "bloquante", description, values.height, fails, key_name=col)
    description = "Aucune ligne n'est répétée à l'identique (hors numéro de ligne)."
    for jeu in FULL_ROW_DUPLICATES:
        frame = run.frame(jeu)
        if frame is None:
            run.na("lignes_dupliquees", jeu, "doublons", "mineure", description)
            continue
        content = frame.drop("source_line", strict=False)
        mask = content.is_duplicated()
        if not mask.any():
            run.record("lignes_dupliquees", jeu, "doublons", "mineure", description, frame.height)
            continue
        line = line_expr(frame)
        bad = (
            frame.with_columns(content.hash_rows().alias("_h"), line.alias("_l"))
            .filter(mask)
            .with_columns(pl.col("_l").min().over("_h").alias("_first"), pl.len().over("_h").alias("_n"))
        )
        fails = bad.select(
            key_expr(frame, jeu).alias("cle"),
            pl.col("_l").alias("ligne"),
            pl.format(
                "ligne répétée {} fois à l'identique (première occurrence ligne {})", pl.col("_n"), pl.col("_first")
            ).alias("detail"),
        )
        run.record(
            "lignes_dupliquees",
            jeu,
            "doublons",
            "mineure",
            description,
            frame.height,
            fails,
            key_name=row_key(jeu) or "cle",
        )
