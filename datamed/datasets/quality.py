"""The quality datasets' vocabulary, schemas and scoring.

Shared by the quality checks (``datamed.pipeline.quality``, which write
``qualite``, ``qualite_echecs`` and ``qualite_evolution``) and by the read side
(the Qualité page, the quality report, the refresh gates), so neither imports
the other.

Score of a source (``scores``): for each source label, over its *applicable*
checks (status "réussi" or "échoué")::

    score = 100 * sum(w_i * (1 - taux_echec_i)) / sum(w_i)

with the gravity weights ``SCORE_WEIGHTS`` (bloquante 3, majeure 2, mineure 1).
A source with no applicable check has a null score.
"""

from __future__ import annotations

import polars as pl

CATEGORIES = (
    "types",
    "champs obligatoires",
    "format des codes",
    "intégrité référentielle",
    "doublons",
    "dates",
    "libellés",
    "plausibilité",
    "évolution",
)
GRAVITES = ("bloquante", "majeure", "mineure")
STATUTS = ("réussi", "échoué", "non applicable")
SCORE_WEIGHTS = {"bloquante": 3.0, "majeure": 2.0, "mineure": 1.0}
SCORE_METHOD_FR = (
    "Le score d'une source est la moyenne, pondérée par la gravité des contrôles applicables "
    "(bloquante ×3, majeure ×2, mineure ×1), de la part des éléments vérifiés sans échec, multipliée par 100 : "
    "100 signifie qu'aucun contrôle applicable n'a trouvé d'anomalie."
)
CHANGEMENTS = (
    "CIS ajouté",
    "CIS retiré",
    "présentation ajoutée",
    "présentation retirée",
    "changement d'état de commercialisation",
    "changement de statut AMM",
    "changement de statut de disponibilité",
    "variation du nombre de lignes",
)

MAX_FAILURES = 500  # failing rows kept per check x dataset in qualite_echecs

QUALITE_SCHEMA = {
    "source": pl.String,
    "jeu": pl.String,
    "fichier": pl.String,
    "controle": pl.String,
    "categorie": pl.String,
    "description": pl.String,
    "gravite": pl.String,
    "n_verifies": pl.Int64,
    "n_echecs": pl.Int64,
    "taux_echec": pl.Float64,
    "statut": pl.String,
    "exemples": pl.String,
}
ECHECS_SCHEMA = {"controle": pl.String, "jeu": pl.String, "cle": pl.String, "ligne": pl.Int64, "detail": pl.String}
EVOLUTION_SCHEMA = {
    c: pl.String
    for c in ("jeu", "changement", "cle", "libelle", "avant", "apres", "instantane_avant", "instantane_apres")
}
SCORES_SCHEMA = {
    "source": pl.String,
    "score": pl.Float64,
    "n_controles": pl.Int64,
    "n_reussis": pl.Int64,
    "n_echecs_controles": pl.Int64,
}


def scores(qualite: pl.DataFrame) -> pl.DataFrame:
    """Score per source (0-100, gravity-weighted; see the module docstring)."""
    if qualite is None or qualite.is_empty():
        return pl.DataFrame(schema=SCORES_SCHEMA)
    frame = qualite.with_columns(
        (pl.col("statut") != "non applicable").alias("_applicable"),
        pl.col("gravite").replace_strict(SCORE_WEIGHTS, default=1.0, return_dtype=pl.Float64).alias("_w"),
        pl.col("taux_echec").cast(pl.Float64).fill_null(0.0).clip(0.0, 1.0).alias("_t"),
    )
    applicable = pl.col("_applicable")
    out = frame.group_by("source").agg(
        (
            100 * (pl.col("_w") * (1 - pl.col("_t"))).filter(applicable).sum() / pl.col("_w").filter(applicable).sum()
        ).alias("score"),
        applicable.sum().cast(pl.Int64).alias("n_controles"),
        (pl.col("statut") == "réussi").sum().cast(pl.Int64).alias("n_reussis"),
        (pl.col("statut") == "échoué").sum().cast(pl.Int64).alias("n_echecs_controles"),
    )
    out = out.with_columns(
        pl.when(pl.col("n_controles") > 0).then(pl.col("score")).otherwise(None).cast(pl.Float64).alias("score")
    )
    return out.select(list(SCORES_SCHEMA)).cast(SCORES_SCHEMA).sort("source")


def integrity_failure_rate(qualite: pl.DataFrame) -> float:
    """Failed / verified items over the applicable referential-integrity checks (0.0 if none)."""
    if qualite is None or qualite.is_empty():
        return 0.0
    part = qualite.filter((pl.col("categorie") == "intégrité référentielle") & (pl.col("statut") != "non applicable"))
    verified = int(part["n_verifies"].sum() or 0)
    failed = int(part["n_echecs"].sum() or 0)
    return failed / verified if verified else 0.0
