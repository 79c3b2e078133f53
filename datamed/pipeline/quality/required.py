"""Checks of the "champs obligatoires" category: the required columns the registry
declares for each dataset are filled (neither null nor blank)."""

from __future__ import annotations

import polars as pl

from datamed.datasets import DS, registry
from datamed.pipeline.quality.run import Run, empty_fails, is_list, is_string, key_expr, line_expr, row_key

# the order of the champs_obligatoires rows in qualite (releases are compared byte
# for byte); a registered dataset with required columns missing here comes last
ORDER = (
    DS.SPECIALITES,
    DS.PRESENTATIONS,
    DS.COMPOSITIONS,
    DS.GENERIQUES,
    DS.CONDITIONS,
    DS.HAS_SMR,
    DS.HAS_ASMR,
    DS.HAS_LIENS_CT,
    DS.DISPONIBILITES,
    DS.MITM,
    DS.INFOS_IMPORTANTES,
    DS.ATC,
    DS.SUBSTANCES,
    DS.SPECIALITE_ATC,
    DS.RUPTURES_CLASSES,
    DS.RUPTURES_EPISODES,
    DS.SITES,
    DS.COMMUNES,
    DS.TITULAIRES_SITES,
    DS.EI_LIENS,
)


def required() -> dict[str, tuple[str, ...]]:
    """Dataset -> the columns the registry declares required; a dataset absent from
    the build is "non applicable"."""
    declared = {d.name: d.required for d in registry.REGISTRY if d.required}
    rank = {name: i for i, name in enumerate(ORDER)}
    return {name: declared[name] for name in sorted(declared, key=lambda n: rank.get(n, len(rank)))}


def check_required(run: Run) -> None:
    description = "Les champs obligatoires ({}) sont renseignés (ni nuls ni vides)."
    for jeu, cols in required().items():
        frame = run.frame(jeu)
        desc = description.format(", ".join(cols))
        if frame is None or not any(c in frame.columns for c in cols):
            run.na("champs_obligatoires", jeu, "champs obligatoires", "bloquante", desc)
            continue
        present = [c for c in cols if c in frame.columns]
        parts = []
        for c in present:
            if is_string(frame, c):
                empty = pl.col(c).is_null() | (pl.col(c).str.strip_chars() == "")
            elif is_list(frame, c):
                empty = pl.col(c).is_null() | (pl.col(c).list.len() == 0)
            else:
                empty = pl.col(c).is_null()
            parts.append(
                frame.filter(empty).select(
                    key_expr(frame, jeu).fill_null("").alias("cle"),
                    line_expr(frame).alias("ligne"),
                    pl.lit(f"champ obligatoire vide : {c}").alias("detail"),
                )
            )
        fails = pl.concat(parts) if parts else empty_fails()
        missing_cols = [c for c in cols if c not in frame.columns]
        if missing_cols:  # a whole required column is absent: every row fails
            fails = pl.concat(
                [
                    fails,
                    frame.select(
                        key_expr(frame, jeu).alias("cle"),
                        line_expr(frame).alias("ligne"),
                        pl.lit(f"colonne obligatoire absente : {', '.join(missing_cols)}").alias("detail"),
                    ),
                ]
            )
        run.record(
            "champs_obligatoires",
            jeu,
            "champs obligatoires",
            "bloquante",
            desc,
            frame.height * len(cols),
            fails,
            key_name=row_key(jeu) or "cle",
        )
