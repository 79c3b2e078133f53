"""Checks of the "dates" category: no date after the snapshot (or build) date, end
dates not before start dates, no implausibly old date."""

from __future__ import annotations

from datetime import date

import polars as pl

from datamed.datasets import DS
from datamed.pipeline.quality.run import Run, key_expr, line_expr, row_key

OLDEST_DATE = date(1900, 1, 1)

# dataset -> columns that must not be after the snapshot / build date
FUTURE_DATES = {
    DS.SPECIALITES: ("date_amm",),
    DS.PRESENTATIONS: ("date_declaration_commercialisation",),
    DS.HAS_SMR: ("date_avis_ct",),
    DS.HAS_ASMR: ("date_avis_ct",),
    # date_remise_dispo of an ongoing shortage is the forecast return: it may lie ahead
    DS.DISPONIBILITES: ("date_debut", "date_mise_a_jour"),
    DS.INFOS_IMPORTANTES: ("date_debut",),
    DS.RUPTURES_EPISODES: ("date_debut", "date_fin"),
}
OLD_DATES = {
    **FUTURE_DATES,
    DS.DISPONIBILITES: ("date_debut", "date_mise_a_jour", "date_remise_dispo"),
    DS.INFOS_IMPORTANTES: ("date_debut", "date_fin"),
}
# dataset -> (start column, end column)
DATE_ORDER = {
    DS.DISPONIBILITES: ("date_debut", "date_remise_dispo"),
    DS.RUPTURES_EPISODES: ("date_debut", "date_fin"),
    DS.INFOS_IMPORTANTES: ("date_debut", "date_fin"),
}


def _stack_dates(frame: pl.DataFrame, jeu: str, cols: tuple[str, ...], ref: pl.Expr | None = None) -> pl.DataFrame:
    parts = []
    for c in cols:
        if c in frame.columns and frame.schema[c] in (pl.Date, pl.Datetime):
            parts.append(
                frame.select(
                    key_expr(frame, jeu).alias("cle"),
                    line_expr(frame).alias("ligne"),
                    pl.lit(c).alias("colonne"),
                    pl.col(c).cast(pl.Date).alias("valeur"),
                    (ref if ref is not None else pl.lit(None, dtype=pl.Date)).cast(pl.Date).alias("reference"),
                ).filter(pl.col("valeur").is_not_null())
            )
    if not parts:
        return pl.DataFrame(
            schema={"cle": pl.String, "ligne": pl.Int64, "colonne": pl.String, "valeur": pl.Date, "reference": pl.Date}
        )
    return pl.concat(parts)


def check_dates(run: Run) -> None:
    for jeu, cols in FUTURE_DATES.items():
        if jeu == DS.RUPTURES_EPISODES:
            description = "Aucune date ({}) n'est postérieure à la date de construction.".format(", ".join(cols))
        else:
            description = "Aucune date ({}) n'est postérieure à la date de l'instantané.".format(", ".join(cols))
        frame = run.frame(jeu)
        if frame is None or not any(c in frame.columns for c in cols):
            run.na("dates_futures", jeu, "dates", "majeure", description)
            continue
        default = run.today if jeu == DS.RUPTURES_EPISODES else run.snapshot(jeu)
        ref = pl.lit(default, dtype=pl.Date)
        if jeu == DS.DISPONIBILITES and "snapshot" in frame.columns:
            ref = pl.col("snapshot").cast(pl.Date).fill_null(ref)
        stacked = _stack_dates(frame, jeu, cols, ref)
        bad = stacked.filter(pl.col("valeur") > pl.col("reference"))
        fails = bad.select(
            "cle",
            "ligne",
            pl.format(
                "{} {} postérieure à la date de référence {}", pl.col("colonne"), pl.col("valeur"), pl.col("reference")
            ).alias("detail"),
        )
        run.record(
            "dates_futures", jeu, "dates", "majeure", description, stacked.height, fails, key_name=row_key(jeu) or "cle"
        )
    for jeu, (start, end) in DATE_ORDER.items():
        description = f"La date de fin ({end}) n'est jamais antérieure à la date de début ({start})."
        frame = run.frame(jeu)
        if frame is None or start not in frame.columns or end not in frame.columns:
            run.na("dates_ordre", jeu, "dates", "majeure", description)
            continue
        both = frame.filter(pl.col(start).is_not_null() & pl.col(end).is_not_null())
        bad = both.filter(pl.col(end) < pl.col(start))
        fails = bad.select(
            key_expr(frame, jeu).alias("cle"),
            line_expr(frame).alias("ligne"),
            pl.format("{} {} antérieure à {} {}", pl.lit(end), pl.col(end), pl.lit(start), pl.col(start)).alias(
                "detail"
            ),
        )
        run.record(
            "dates_ordre", jeu, "dates", "majeure", description, both.height, fails, key_name=row_key(jeu) or "cle"
        )
    for jeu, cols in OLD_DATES.items():
        description = "Aucune date ({}) n'est antérieure au {} (date invraisemblable).".format(
            ", ".join(cols), OLDEST_DATE.strftime("%d/%m/%Y")
        )
        frame = run.frame(jeu)
        if frame is None or not any(c in frame.columns for c in cols):
            run.na("dates_anciennes", jeu, "dates", "mineure", description)
            continue
        stacked = _stack_dates(frame, jeu, cols)
        bad = stacked.filter(pl.col("valeur") < pl.lit(OLDEST_DATE))
        fails = bad.select(
            "cle",
            "ligne",
            pl.format("{} {} invraisemblablement ancienne", pl.col("colonne"), pl.col("valeur")).alias("detail"),
        )
        run.record(
            "dates_anciennes",
            jeu,
            "dates",
            "mineure",
            description,
            stacked.height,
            fails,
            key_name=row_key(jeu) or "cle",
        )
