"""Checks of the "intégrité référentielle" category: every code of a child dataset
exists in its parent (CIS in the spécialités, ATC codes in the classification...)."""

from __future__ import annotations

import polars as pl

from datamed.datasets import DS
from datamed.pipeline.quality.run import Run, line_expr

CIS_CHILDREN = (
    DS.COMPOSITIONS,
    DS.PRESENTATIONS,
    DS.GENERIQUES,
    DS.CONDITIONS,
    DS.HAS_SMR,
    DS.HAS_ASMR,
    DS.DISPONIBILITES,
    DS.MITM,
    DS.INFOS_IMPORTANTES,
)
PARENT_LABELS = {
    DS.SPECIALITES: "spécialités (CIS_bdpm)",
    "has_smr/has_asmr": "avis SMR / ASMR",
    DS.ATC: "classification ATC",
    DS.SUBSTANCES: "substances de la BDPM",
    DS.SITES: "sites",
}


def _parent_values(run: Run, parents: tuple[tuple[str, str], ...]) -> pl.Series | None:
    series = [
        f[col].drop_nulls().cast(pl.String)
        for name, col in parents
        if (f := run.frame(name)) is not None and col in f.columns
    ]
    if not series:
        return None
    return pl.concat(series).unique()


def _integrity(run: Run, controle, jeu, col, parents, parent_label, description, gravite="majeure") -> None:
    child = run.frame(jeu)
    parent = _parent_values(run, parents)
    if child is None or col not in child.columns or parent is None or parent.is_empty():
        run.na(controle, jeu, "intégrité référentielle", gravite, description)
        return
    values = child.filter(pl.col(col).is_not_null()).with_columns(pl.col(col).cast(pl.String).alias("_v"))
    bad = values.join(pl.DataFrame({"_v": parent}), on="_v", how="anti")
    fails = bad.select(
        pl.col("_v").alias("cle"),
        line_expr(child).alias("ligne"),
        pl.format("{} {} absent de : {}", pl.lit(col), pl.col("_v"), pl.lit(parent_label)).alias("detail"),
    )
    run.record(controle, jeu, "intégrité référentielle", gravite, description, values.height, fails, key_name=col)


def check_integrity(run: Run) -> None:
    for jeu in CIS_CHILDREN:
        _integrity(
            run,
            "cis_dans_specialites",
            jeu,
            "cis",
            ((DS.SPECIALITES, "cis"),),
            PARENT_LABELS[DS.SPECIALITES],
            "Chaque code CIS existe dans la liste des spécialités (CIS_bdpm).",
        )
    _integrity(
        run,
        "code_has_dans_avis",
        DS.HAS_LIENS_CT,
        "code_dossier_has",
        ((DS.HAS_SMR, "code_dossier_has"), (DS.HAS_ASMR, "code_dossier_has")),
        PARENT_LABELS["has_smr/has_asmr"],
        "Chaque code de dossier HAS des liens vers les avis existe dans les avis SMR ou ASMR.",
    )
    _integrity(
        run,
        "atc_dans_classification",
        DS.SPECIALITE_ATC,
        "code_atc",
        ((DS.ATC, "code_atc"),),
        PARENT_LABELS[DS.ATC],
        "Chaque code ATC attribué à une spécialité existe dans la classification ATC.",
    )
    _integrity(
        run,
        "substance_dans_substances",
        DS.EI_LIENS,
        "code_substance",
        ((DS.SUBSTANCES, "code_substance"),),
        PARENT_LABELS[DS.SUBSTANCES],
        "Chaque substance de pharmacovigilance reliée pointe vers une substance de la BDPM.",
    )
    _integrity(
        run,
        "site_dans_sites",
        DS.TITULAIRES_SITES,
        "site_id",
        ((DS.SITES, "site_id"),),
        PARENT_LABELS[DS.SITES],
        "Chaque site relié à un titulaire existe dans la liste des sites.",
    )
