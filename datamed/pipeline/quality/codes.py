"""Checks of the "format des codes" category: code formats (patterns of
``datamed.core.codes``), the EAN-13 check digit of CIP13 codes and the CIP7 held in
each CIP13."""

from __future__ import annotations

import polars as pl

from datamed.core import codes
from datamed.datasets import DS
from datamed.pipeline.quality.run import Run, line_expr

CIS_DATASETS = (
    DS.SPECIALITES,
    DS.PRESENTATIONS,
    DS.COMPOSITIONS,
    DS.GENERIQUES,
    DS.CONDITIONS,
    DS.HAS_SMR,
    DS.HAS_ASMR,
    DS.DISPONIBILITES,
    DS.MITM,
    DS.INFOS_IMPORTANTES,
    DS.SPECIALITE_ATC,
    DS.RUPTURES_EPISODES,
)
ATC_DATASETS = (DS.ATC, DS.MITM, DS.SPECIALITE_ATC, DS.RUPTURES_CLASSES)


def _ean13_key(col: str) -> pl.Expr:
    total = pl.lit(0, dtype=pl.Int32)
    for i in range(12):
        total = total + pl.col(col).str.slice(i, 1).cast(pl.Int32, strict=False) * (3 if i % 2 else 1)
    return (10 - total % 10) % 10


def _datasets_with(run: Run, col: str, expected: tuple[str, ...]) -> list[str]:
    found = [n for n, f in run.datasets.items() if col in f.columns and not n.startswith("qualite")]
    return list(dict.fromkeys([*expected, *sorted(found)]))


def _format_check(run: Run, controle, jeu, col, regex, gravite, description, what, *, filter_expr=None, key_name=None):
    frame = run.frame(jeu)
    if frame is None or col not in frame.columns:
        run.na(controle, jeu, "format des codes", gravite, description)
        return
    values = frame.filter(pl.col(col).is_not_null())
    if filter_expr is not None:
        values = values.filter(filter_expr)
    values = values.with_columns(pl.col(col).cast(pl.String).alias("_v"))
    bad = values.filter(~pl.col("_v").str.contains(regex))
    fails = bad.select(
        pl.col("_v").alias("cle"),
        line_expr(frame).alias("ligne"),
        pl.format("{} invalide : « {} » ({})", pl.lit(what), pl.col("_v"), pl.lit(col)).alias("detail"),
    )
    run.record(controle, jeu, "format des codes", gravite, description, values.height, fails, key_name=key_name or col)


def check_codes(run: Run) -> None:
    for jeu in _datasets_with(run, "cis", CIS_DATASETS):
        _format_check(
            run,
            "cis_format",
            jeu,
            "cis",
            codes.CIS,
            "bloquante",
            "Le code CIS comporte exactement 8 chiffres.",
            "code CIS",
        )
    for jeu in (DS.PRESENTATIONS, DS.DISPONIBILITES, DS.RUPTURES_EPISODES):
        _format_check(
            run,
            "cip13_format",
            jeu,
            "cip13",
            codes.CIP13,
            "bloquante",
            "Le code CIP13 (quand il est renseigné) comporte exactement 13 chiffres.",
            "code CIP13",
        )
        _check_cip13_key(run, jeu)
    _format_check(
        run,
        "cip7_format",
        DS.PRESENTATIONS,
        "cip7",
        codes.CIP7,
        "bloquante",
        "Le code CIP7 comporte exactement 7 chiffres.",
        "code CIP7",
    )
    _check_cip7_cip13(run)
    for jeu in _datasets_with(run, "code_atc", ATC_DATASETS):
        _format_check(
            run,
            "atc_format",
            jeu,
            "code_atc",
            codes.ATC,
            "majeure",
            "Le code ATC suit la structure de la classification (A, A01, A01A, A01AA, A01AA01).",
            "code ATC",
        )
    for jeu in (DS.COMPOSITIONS, DS.SUBSTANCES, DS.EI_LIENS):
        _format_check(
            run,
            "code_substance_format",
            jeu,
            "code_substance",
            codes.SUBSTANCE,
            "majeure",
            "Le code substance de la BDPM comporte de 1 à 6 chiffres.",
            "code substance",
        )
    for jeu in (DS.HAS_SMR, DS.HAS_ASMR, DS.HAS_LIENS_CT):
        _format_check(
            run,
            "code_has_format",
            jeu,
            "code_dossier_has",
            codes.HAS_DOSSIER,
            "majeure",
            "Le code de dossier HAS a la forme CT-12345.",
            "code de dossier HAS",
        )
    france = None
    if (sites := run.frame(DS.SITES)) is not None and "pays" in sites.columns:
        france = pl.col("pays").is_null() | (pl.col("pays") == "FRA")
    for jeu in (DS.SITES, DS.COMMUNES):
        _format_check(
            run,
            "code_postal_format",
            jeu,
            "code_postal",
            codes.POSTAL,
            "majeure",
            "Le code postal comporte exactement 5 chiffres.",
            "code postal",
            filter_expr=france if jeu == DS.SITES else None,
        )
        _format_check(
            run,
            "code_insee_format",
            jeu,
            "code_insee",
            codes.INSEE,
            "majeure",
            "Le code commune INSEE comporte 5 caractères : 5 chiffres, ou 2A/2B suivi de 3 chiffres (Corse).",
            "code INSEE",
            filter_expr=france if jeu == DS.SITES else None,
        )


def _check_cip13_key(run: Run, jeu: str) -> None:
    description = "Le dernier chiffre du code CIP13 est la clé de contrôle EAN-13 exacte."
    frame = run.frame(jeu)
    if frame is None or "cip13" not in frame.columns:
        run.na("cip13_cle", jeu, "format des codes", "bloquante", description)
        return
    ok = frame.filter(pl.col("cip13").cast(pl.String).str.contains(codes.CIP13))
    ok = ok.with_columns(
        _ean13_key("cip13").alias("_attendue"), pl.col("cip13").str.slice(12, 1).cast(pl.Int32).alias("_trouvee")
    )
    bad = ok.filter(pl.col("_attendue") != pl.col("_trouvee"))
    fails = bad.select(
        pl.col("cip13").alias("cle"),
        line_expr(frame).alias("ligne"),
        pl.format("clé EAN-13 attendue {}, trouvée {}", pl.col("_attendue"), pl.col("_trouvee")).alias("detail"),
    )
    run.record("cip13_cle", jeu, "format des codes", "bloquante", description, ok.height, fails, key_name="cip13")


def _check_cip7_cip13(run: Run) -> None:
    description = "Le code CIP13 reprend le code CIP7 de la présentation (chiffres 6 à 12)."
    frame = run.frame(DS.PRESENTATIONS)
    if frame is None or not {"cip7", "cip13"} <= set(frame.columns):
        run.na("cip7_cip13_coherence", DS.PRESENTATIONS, "format des codes", "majeure", description)
        return
    ok = frame.filter(pl.col("cip7").str.contains(codes.CIP7) & pl.col("cip13").str.contains(codes.CIP13))
    bad = ok.filter(pl.col("cip13").str.slice(5, 7) != pl.col("cip7"))
    fails = bad.select(
        pl.col("cip13").alias("cle"),
        line_expr(frame).alias("ligne"),
        pl.format("CIP7 {} absent du CIP13 {}", pl.col("cip7"), pl.col("cip13")).alias("detail"),
    )
    run.record(
        "cip7_cip13_coherence",
        DS.PRESENTATIONS,
        "format des codes",
        "majeure",
        description,
        ok.height,
        fails,
        key_name="cip13",
    )
