"""Holders (titulaires) of medicines with their counts: shared by the holder-site linking
step and the sites views."""

from __future__ import annotations

import polars as pl


def holders_with_counts(specialites: pl.DataFrame) -> pl.DataFrame:
    """titulaire, n_medicaments (CIS held, any position), n_premier (CIS it is the first holder of)."""
    if specialites.is_empty() or "titulaires" not in specialites.columns:
        return pl.DataFrame(schema={"titulaire": pl.String, "n_medicaments": pl.UInt32, "n_premier": pl.UInt32})
    base = specialites.select("cis", "titulaires")
    held = (
        base.explode("titulaires")
        .drop_nulls("titulaires")
        .unique(["cis", "titulaires"])
        .group_by(pl.col("titulaires").alias("titulaire"))
        .agg(pl.len().alias("n_medicaments"))
    )
    first = (
        base.select("cis", pl.col("titulaires").list.first().alias("titulaire"))
        .drop_nulls("titulaire")
        .group_by("titulaire")
        .agg(pl.len().alias("n_premier"))
    )
    return (
        held.join(first, on="titulaire", how="left")
        .with_columns(pl.col("n_premier").fill_null(0))
        .sort(["n_medicaments", "titulaire"], descending=[True, False])
    )
