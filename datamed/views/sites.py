"""Queries behind the "Sites" page (pure: frames in, frames out); the pharmacy finder is ``views.pharmacies``."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from datamed.core.countries import country_fr
from datamed.core.holders import holders_with_counts
from datamed.core.vocabulary import HOLDER_LINK_METHODS
from datamed.datasets import DS
from datamed.store import Store

KIND_LABELS = {
    "principe_actif": "Fabrication de principe actif",
    "fabrication": "Site de fabrication",
    "analyse_conditionnement": "Analyse / conditionnement",
    "distribution": "Distribution en gros",
    "pharmacie": "Pharmacie",
}
#: the FDA's business operations (DECRS), in French; other sources already write French
OPERATION_FR = {
    "ANALYSIS": "Analyses de contrôle",
    "API MANUFACTURE": "Fabrication de principe actif",
    "MANUFACTURE": "Fabrication",
    "PACK": "Conditionnement",
    "REPACK": "Reconditionnement",
    "LABEL": "Étiquetage",
    "RELABEL": "Réétiquetage",
    "STERILIZE": "Stérilisation",
    "PARTICLE SIZE REDUCTION": "Réduction de la taille des particules",
    "COMPOUNDING": "Préparation magistrale",
}


def operation_fr(operation: str) -> str:
    """An activity as the page shows it (the URL and the data keep the source's code)."""
    return OPERATION_FR.get(operation, operation)


def operations_fr(column: str = "operations") -> pl.Expr:
    """The list of activities of each site, in French, joined by commas."""
    return pl.col(column).list.eval(pl.element().replace(OPERATION_FR)).list.join(", ")


VIEWS = {"points": "Points", "densite": "Densité (hexagones)", "departements": "Sites par département"}


@dataclass
class SiteFilters:
    kinds: list[str]
    sources: list[str]
    operation: str | None
    view: str

    @classmethod
    def parse(cls, kinds, sources, operation, view, all_sources: list[str], all_operations: list[str]) -> SiteFilters:
        k = [x for x in (kinds or []) if x in KIND_LABELS] or [x for x in KIND_LABELS if x != "pharmacie"]
        s = [x for x in (sources or []) if x in all_sources]
        o = operation if operation in all_operations else None
        v = view if view in VIEWS else "points"
        return cls(k, s, o, v)


def sites(store: Store) -> pl.DataFrame:
    return store.table(DS.SITES)


def sources_of(store: Store) -> list[str]:
    s = sites(store)
    return sorted(s["source"].unique().to_list()) if not s.is_empty() else []


def operations_of(store: Store) -> list[str]:
    def compute():
        s = sites(store)
        if s.is_empty():
            return []
        return sorted(s.select(pl.col("operations").explode().drop_nulls().unique())["operations"].to_list())

    return store.memo("site_operations", compute)


def filter_sites(store: Store, f: SiteFilters) -> pl.DataFrame:
    s = sites(store)
    if s.is_empty():
        return s
    out = s.filter(pl.col("type").is_in(f.kinds))
    if f.sources:
        out = out.filter(pl.col("source").is_in(f.sources))
    if f.operation:
        out = out.filter(pl.col("operations").list.contains(f.operation))
    return out


def placed(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.filter(pl.col("latitude").is_not_null() & pl.col("longitude").is_not_null())


def by_departement(frame: pl.DataFrame, store: Store) -> pl.DataFrame:
    geo = store.table(DS.DEPARTEMENTS_GEO)
    counts = frame.group_by("departement").agg(pl.len().alias("sites"))
    if geo.is_empty():
        return (
            counts.rename({"departement": "code"})
            .with_columns(pl.lit(None, dtype=pl.String).alias("nom"))
            .sort("sites", descending=True)
        )
    return (
        geo.select("code", "nom")
        .join(counts, left_on="code", right_on="departement", how="left")
        .with_columns(pl.col("sites").fill_null(0))
        .sort("sites", "code", descending=[True, False])
    )


def site_table(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.select(
        pl.col("nom").alias("Nom"),
        pl.col("type").replace_strict(KIND_LABELS, default="Autre").alias("Type"),
        operations_fr().alias("Activités"),
        pl.col("commune").fill_null("—").alias("Commune"),
        pl.col("departement").fill_null("—").alias("Département"),
        pl.col("source").alias("Source"),
        pl.col("precision").alias("Précision de la position"),
    )


def countries(store: Store) -> pl.DataFrame:
    """FDA establishments per country, with the country's French name (``pays``)."""
    frame = store.table(DS.SITES_PAYS)
    if frame.is_empty():
        return frame
    names = [country_fr(iso, name) for iso, name in frame.select("country_iso3", "country_name").rows()]
    return frame.with_columns(pl.Series("pays", names, dtype=pl.String))


def companies(store: Store) -> dict[str, int]:
    """Holders that have at least one known site -> number of their medicines (CIS)."""

    def compute():
        links = holder_links(store)
        if links.is_empty():
            return {}
        counts = holders_with_counts(store.table(DS.SPECIALITES))
        linked = set(links["titulaire"].to_list())
        rows = counts.filter(pl.col("titulaire").is_in(list(linked))).sort("titulaire")
        return dict(rows.select("titulaire", "n_medicaments").rows())

    return store.memo("site_companies", compute)


# --- holder -> site links (computed by the build: titulaires_sites) ------------------------------


def holder_links(store: Store) -> pl.DataFrame:
    """All (holder, site) links of the prepared data (empty, typed, when the build had no sites)."""
    links = store.table(DS.TITULAIRES_SITES)
    if links.width == 0:
        schema = {
            "titulaire": pl.String,
            "site_id": pl.String,
            "site_nom": pl.String,
            "methode": pl.String,
            "score": pl.Int16,
        }
        return pl.DataFrame(schema=schema)
    return links


def holder_sites(store: Store, holder: str) -> pl.DataFrame:
    """The sites linked to one holder, with the site columns, methode and score,
    strictest method first."""
    links = holder_links(store).filter(pl.col("titulaire") == holder)
    sites = store.table(DS.SITES)
    if links.is_empty() or sites.is_empty():
        columns = {**dict(sites.schema), "methode": pl.String, "score": pl.Int16} if sites.width else dict(links.schema)
        return pl.DataFrame(schema=columns)
    rank = {m: i for i, m in enumerate(HOLDER_LINK_METHODS)}
    return (
        sites.join(links.select("site_id", "methode", "score"), on="site_id", how="inner")
        .with_columns(pl.col("methode").replace_strict(rank, return_dtype=pl.Int8).alias("_rank"))
        .sort(["_rank", "score", "nom", "site_id"], descending=[False, True, False, False])
        .drop("_rank")
    )
