"""Queries and offline maps behind the "Sites" page (pure: frames in, pydeck decks out)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import polars as pl
from rapidfuzz import fuzz, process

from datamed.core.holders import holders_with_counts
from datamed.core.text import normalise
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
        pl.col("operations").list.join(", ").alias("Activités"),
        pl.col("commune").fill_null("—").alias("Commune"),
        pl.col("departement").fill_null("—").alias("Département"),
        pl.col("source").alias("Source"),
        pl.col("precision").alias("Précision de la position"),
    )


def countries(store: Store) -> pl.DataFrame:
    return store.table(DS.SITES_PAYS)


# --- pharmacy finder ---------------------------------------------------------------------------

EARTH_KM = 6371.0088


@dataclass
class PharmacySearch:
    place: str | None  # what the query was understood as
    results: pl.DataFrame  # nom, adresse, commune, distance_km, source
    message: str | None = None


def _haversine_km(lat: float, lon: float, lats: pl.Expr, lons: pl.Expr) -> pl.Expr:
    la, lo = math.radians(lat), math.radians(lon)
    dlat = lats.radians() - la
    dlon = lons.radians() - lo
    a = (dlat / 2).sin() ** 2 + math.cos(la) * lats.radians().cos() * (dlon / 2).sin() ** 2
    return 2 * EARTH_KM * a.sqrt().arcsin()


class AmbiguousPlace(ValueError):
    """Several communes bear that name; the message lists them with their postal codes."""


def find_place(store: Store, query: str) -> tuple[str, float, float] | None:
    """A postal code or a commune name -> (label, lat, lon), offline.

    Raises ``AmbiguousPlace`` when several communes share the name.
    """

    communes = store.table(DS.COMMUNES)
    if communes.is_empty():
        return None
    q = (query or "").strip()[:80]
    digits = q.replace(" ", "")
    if digits.isdigit():
        if len(digits) != 5:
            return None
        rows = communes.filter((pl.col("code_postal") == digits) & pl.col("latitude").is_not_null())
        if rows.is_empty():
            return None
        names = ", ".join(sorted(set(rows["nom"].to_list()))[:3])
        return f"{digits} ({names.title()})", float(rows["latitude"].mean()), float(rows["longitude"].mean())
    key = normalise(q).replace("saint ", "st ")
    if not key:
        return None
    placed_communes = (
        communes.filter(pl.col("latitude").is_not_null()).unique("code_insee", keep="first").sort("code_insee")
    )
    keys = [normalise(n).replace("saint ", "st ") for n in placed_communes["nom"].to_list()]
    exact = [i for i, k in enumerate(keys) if k == key]
    if not exact:  # arrondissements: "lyon" -> LYON 01 ... LYON 09
        exact = [i for i, k in enumerate(keys) if k.startswith(key + " ") and k[len(key) + 1 :].isdigit()]
        if exact:
            rows = placed_communes[exact]
            return q.title(), float(rows["latitude"].mean()), float(rows["longitude"].mean())
    if not exact:
        best = process.extract(key, keys, scorer=fuzz.ratio, score_cutoff=88, limit=2)
        if not best or (len(best) > 1 and best[0][1] - best[1][1] < 3):
            return None
        exact = [best[0][2]]
    if len(exact) > 1:
        options = placed_communes[exact].join(
            communes.group_by("code_insee").agg(pl.col("code_postal").min()), on="code_insee", suffix="_min"
        )
        listed = ", ".join(
            f"{r['nom'].title()} ({r['code_postal_min']})" for r in options.head(6).iter_rows(named=True)
        )
        raise AmbiguousPlace(f"Plusieurs communes portent ce nom : {listed}. Précisez le code postal.")
    row = placed_communes.row(exact[0], named=True)
    return f"{row['nom'].title()} ({row['departement'] or ''})", row["latitude"], row["longitude"]


def nearest_pharmacies(store: Store, query: str, n: int = 10) -> PharmacySearch:
    try:
        found = find_place(store, query)
    except AmbiguousPlace as exc:
        return PharmacySearch(None, pl.DataFrame(), str(exc))
    if found is None:
        return PharmacySearch(
            None,
            pl.DataFrame(),
            "Code postal ou commune introuvable : vérifiez l'orthographe ou essayez un code postal à 5 chiffres.",
        )
    label, lat, lon = found
    pharmacies = placed(sites(store).filter(pl.col("type") == "pharmacie"))
    if pharmacies.is_empty():
        return PharmacySearch(label, pl.DataFrame(), "Aucune pharmacie n'est disponible dans ce jeu de données.")
    out = (
        pharmacies.with_columns(_haversine_km(lat, lon, pl.col("latitude"), pl.col("longitude")).alias("distance_km"))
        .sort("distance_km", "source")
        # the two lists overlap: one pharmacy per name and position
        .unique(
            [pl.col("nom").str.to_lowercase(), pl.col("latitude").round(3), pl.col("longitude").round(3)],
            keep="first",
            maintain_order=True,
        )
        .head(n)
        .select("nom", "adresse", "code_postal", "commune", "distance_km", "source", "precision")
    )
    message = None
    if out["distance_km"].min() > 30:
        message = "Aucune pharmacie de nos listes à moins de 30 km : ces listes sont partielles (voir ci-dessous)."
    return PharmacySearch(label, out, message)


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
