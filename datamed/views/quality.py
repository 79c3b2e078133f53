"""Queries behind the "Qualité des données" page (pure: Store in, frames out)."""

from __future__ import annotations

import polars as pl

from datamed.core import exposure
from datamed.core.text import fr_column, fr_int, fr_number, fr_percent
from datamed.datasets import DS, quality
from datamed.datasets.quality import CATEGORIES
from datamed.store import Store


def _fr_score(x: float | None) -> str:
    return fr_number(x, 1)


FAILED = "échoué"


def source_scores(store: Store) -> pl.DataFrame:
    q = store.table(DS.QUALITE)
    if q.is_empty():
        return pl.DataFrame(schema=quality.SCORES_SCHEMA)
    return quality.scores(q).sort("score")


def sources(store: Store) -> list[str]:
    q = store.table(DS.QUALITE)
    return sorted(q["source"].unique().to_list()) if not q.is_empty() else []


def categories(store: Store) -> list[str]:
    q = store.table(DS.QUALITE)
    present = set(q["categorie"].unique().to_list()) if not q.is_empty() else set()
    return [c for c in CATEGORIES if c in present]


def checks(
    store: Store, source: str | None = None, category: str | None = None, failed_only: bool = True
) -> pl.DataFrame:
    """Checks (one row per check x dataset), the failed first and the worst first."""
    q = store.table(DS.QUALITE)
    if q.is_empty():
        return q
    if source:
        q = q.filter(pl.col("source") == source)
    if category:
        q = q.filter(pl.col("categorie") == category)
    if failed_only:
        q = q.filter(pl.col("statut") == FAILED)
    return q.with_columns((pl.col("jeu") + ":" + pl.col("controle")).alias("id")).sort(
        [pl.col("statut") != FAILED, "taux_echec"], descending=[False, True]
    )


def check_ids(store: Store) -> dict[str, str]:
    """``jeu:controle`` -> readable label, for every check (the drill-down selector)."""
    q = store.table(DS.QUALITE)
    if q.is_empty():
        return {}
    return {f"{r['jeu']}:{r['controle']}": f"{r['jeu']} · {r['description']}" for r in q.iter_rows(named=True)}


def failures(store: Store, check_id: str) -> tuple[dict | None, pl.DataFrame]:
    """The check row and its failing rows (``qualite_echecs``) for ``jeu:controle``."""
    jeu, _, controle = check_id.partition(":")
    q = store.table(DS.QUALITE)
    if q.is_empty():
        return None, pl.DataFrame()
    row = q.filter((pl.col("jeu") == jeu) & (pl.col("controle") == controle))
    if row.is_empty():
        return None, pl.DataFrame()
    fails = store.table(DS.QUALITE_ECHECS)
    if not fails.is_empty():
        fails = fails.filter((pl.col("jeu") == jeu) & (pl.col("controle") == controle)).select("cle", "ligne", "detail")
    return row.row(0, named=True), fails


def evolution_summary(store: Store) -> pl.DataFrame:
    evo = store.table(DS.QUALITE_EVOLUTION)
    if evo.is_empty():
        return evo
    return (
        evo.group_by("jeu", "changement", "instantane_avant", "instantane_apres")
        .len("nombre")
        .sort("nombre", descending=True)
    )


def evolution(store: Store, change: str | None = None) -> pl.DataFrame:
    evo = store.table(DS.QUALITE_EVOLUTION)
    if evo.is_empty() or not change:
        return evo
    return evo.filter(pl.col("changement") == change)


def links(store: Store) -> pl.DataFrame:
    return store.table(DS.LIENS_SYNTHESE)


def link_bands(store: Store, lien: str) -> pl.DataFrame:
    bands = store.table(DS.LIENS_SCORES)
    return bands.filter(pl.col("lien") == lien) if not bands.is_empty() else bands


def unmatched(store: Store, lien: str) -> pl.DataFrame:
    frame = store.table(DS.LIENS_NON_RELIES)
    if frame.is_empty():
        return frame
    return frame.filter(pl.col("lien") == lien).with_columns(pl.col("suggestions").list.join(" ; ")).drop("lien")


def scores_display(scores: pl.DataFrame) -> pl.DataFrame:
    """The score table with French number formats (the chart's table alternative)."""
    return scores.select(
        pl.col("source").alias("Source"),
        fr_column(scores, "score", _fr_score).alias("Score (sur 100)"),
        pl.col("n_controles").alias("Contrôles"),
        pl.col("n_reussis").alias("Réussis"),
        pl.col("n_echecs_controles").alias("En échec"),
    )


def checks_display(table: pl.DataFrame) -> pl.DataFrame:
    return table.select(
        pl.col("source").alias("Source"),
        pl.col("jeu").alias("Jeu"),
        pl.col("description").alias("Contrôle"),
        pl.col("categorie").alias("Catégorie"),
        pl.col("gravite").alias("Gravité"),
        pl.col("statut").alias("Statut"),
        fr_column(table, "n_verifies", fr_int).alias("Vérifiés"),
        fr_column(table, "n_echecs", fr_int).alias("Échecs"),
        fr_column(table, "taux_echec", fr_percent).alias("Taux d'échec"),
        ("?controle=" + pl.col("id")).alias("Lignes"),
    )


def links_display(links: pl.DataFrame) -> pl.DataFrame:
    def ints(c: str) -> pl.Series:
        return fr_column(links, c, fr_int)

    def pct(c: str) -> pl.Series:
        return fr_column(links, c, fr_percent, skip_nulls=False)

    def score(c: str) -> pl.Series:
        return fr_column(links, c, _fr_score, skip_nulls=False)

    return links.select(
        pl.col("libelle").alias("Liaison"),
        pl.col("unite").alias("Unité"),
        ints("n_elements").alias("Éléments"),
        ints("n_relies").alias("Reliés"),
        pct("couverture").alias("Couverture"),
        pct("poids_relies").alias("Couverture pondérée"),
        ints("n_exact").alias("Exact"),
        ints("n_normalise").alias("Normalisé"),
        ints("n_approche").alias("Approché"),
        ints("n_autre").alias("Autre"),
        score("score_min").alias("Score min."),
        score("score_median").alias("Score médian"),
    )


def unmatched_display(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.select(
        pl.col("element").alias("Élément"),
        pl.col("libelle").fill_null("").alias("Libellé"),
        fr_column(frame, "poids", lambda x: fr_int(int(round(x)))).fill_null("—").alias("Poids"),
        pl.col("suggestions").alias("Suggestions"),
    )


def exposure_alerts(store: Store) -> pl.DataFrame:
    """The years whose exposure fails a plausibility rule (``core.exposure``), for display:
    left out of every reporting rate."""
    if not store.has(DS.EI_EXPOSITION_ALERTES):
        return pl.DataFrame()
    frame = store.table(DS.EI_EXPOSITION_ALERTES)
    if frame.is_empty():
        return frame
    return frame.sort("niveau", "nom", "annee").select(
        pl.col("niveau")
        .replace_strict({"substance": "Substance", "fraction": "Substance active"}, default=pl.col("niveau"))
        .alias("Niveau"),
        pl.col("nom").alias("Nom"),
        pl.col("annee").cast(pl.String).alias("Année"),
        pl.col("expo_motif")
        .replace_strict(exposure.REASONS_FR, default=pl.col("expo_motif"))
        .alias("Règle non respectée"),
    )


def exposure_alert_counts(store: Store) -> dict[str, int]:
    """Flagged years per rule (French reason -> years)."""
    table = exposure_alerts(store)
    if table.is_empty():
        return {}
    return dict(table.group_by("Règle non respectée").len().sort("len", descending=True).rows())
