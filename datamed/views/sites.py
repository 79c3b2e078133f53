"""Queries and offline maps behind the "Sites" page (pure: frames in, pydeck decks out)."""

from __future__ import annotations

import json
from dataclasses import dataclass

import polars as pl
import pydeck as pdk

from datamed.store import Store

KIND_LABELS = {
    "principe_actif": "Fabrication de principe actif",
    "fabrication": "Site de fabrication",
    "analyse_conditionnement": "Analyse / conditionnement",
    "distribution": "Distribution en gros",
    "pharmacie": "Pharmacie",
}
KIND_COLOURS = {  # RGB; the legend and tooltips always name the kind too
    "principe_actif": (200, 60, 40),
    "fabrication": (31, 95, 168),
    "analyse_conditionnement": (46, 133, 64),
    "distribution": (142, 68, 173),
    "pharmacie": (120, 120, 120),
}
VIEWS = {"points": "Points", "densite": "Densité (hexagones)", "departements": "Sites par département"}
FRANCE_VIEW = pdk.ViewState(latitude=46.6, longitude=2.4, zoom=4.6, pitch=0)


@dataclass
class SiteFilters:
    kinds: list[str]
    sources: list[str]
    operation: str | None
    view: str

    @classmethod
    def parse(cls, kinds, sources, operation, view, all_sources: list[str], all_operations: list[str]) -> "SiteFilters":
        k = [x for x in (kinds or []) if x in KIND_LABELS] or [x for x in KIND_LABELS if x != "pharmacie"]
        s = [x for x in (sources or []) if x in all_sources]
        o = operation if operation in all_operations else None
        v = view if view in VIEWS else "points"
        return cls(k, s, o, v)


def sites(store: Store) -> pl.DataFrame:
    return store.table("sites")


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
    geo = store.table("departements_geo")
    counts = frame.group_by("departement").agg(pl.len().alias("sites"))
    if geo.is_empty():
        return counts.rename({"departement": "code"}).with_columns(pl.lit(None, dtype=pl.String).alias("nom")).sort("sites", descending=True)
    return (
        geo.select("code", "nom")
        .join(counts, left_on="code", right_on="departement", how="left")
        .with_columns(pl.col("sites").fill_null(0))
        .sort("sites", "code", descending=[True, False])
    )


def _feature_collection(store: Store, counts: dict[str, int]) -> dict | None:
    geo = store.table("departements_geo")
    if geo.is_empty():
        return None
    top = max(counts.values()) if counts else 0
    geometries = store.memo("departements_geometries", lambda: [(c, n, json.loads(g)) for c, n, g in geo.select("code", "nom", "geometrie").rows()])
    features = []
    for code, nom, geometry in geometries:
        n = counts.get(code, 0)
        t = (n / top) ** 0.5 if top else 0.0  # square root: a few very dense départements do not flatten the rest
        fill = [round(a + (b - a) * t) for a, b in zip((240, 243, 248), (16, 60, 130))] + [220]
        features.append(
            {
                "type": "Feature",
                "geometry": geometry,
                "properties": {"code": code, "nom": nom, "sites": n, "fill": fill},
            }
        )
    return {"type": "FeatureCollection", "features": features}


def france_deck(store: Store, frame: pl.DataFrame, view: str) -> pdk.Deck:
    """Offline map: départements as base layer (no tiles), then points, hexagons or a choropleth."""
    points = placed(frame).with_columns(
        pl.col("type").replace_strict(KIND_LABELS, default="Autre").alias("type_libelle"),
        pl.col("type").replace_strict({k: list(v) for k, v in KIND_COLOURS.items()}, default=[0, 0, 0], return_dtype=pl.List(pl.Int64)).alias("couleur"),
        pl.col("operations").list.join(", ").alias("activites"),
    ).select(
        # short keys: the payload repeats them for every point (≤ 5 MB per map)
        pl.col("nom").alias("n"),
        pl.col("type_libelle").alias("t"),
        pl.col("couleur").alias("k"),
        pl.col("activites").alias("a"),
        pl.col("commune").alias("c"),
        pl.col("departement").alias("d"),
        pl.col("source").alias("s"),
        pl.col("precision").alias("p"),
        pl.col("latitude").round(4).alias("lat"),
        pl.col("longitude").round(4).alias("lon"),
    )
    counts = dict(frame.group_by("departement").len().rows()) if not frame.is_empty() else {}
    layers = []
    collection = _feature_collection(store, counts if view == "departements" else {})
    if collection:
        layers.append(
            pdk.Layer(
                "GeoJsonLayer",
                collection,
                id="departements",
                stroked=True,
                filled=True,
                get_fill_color="properties.fill" if view == "departements" else [240, 243, 247, 255],
                get_line_color=[150, 150, 160],
                line_width_min_pixels=0.6,
                pickable=view == "departements",
            )
        )
    if view == "densite":
        layers.append(
            pdk.Layer(
                "HexagonLayer",
                points.select("lon", "lat").to_dicts(),
                id="densite",
                get_position=["lon", "lat"],
                radius=12000,
                elevation_scale=0,
                extruded=False,
                coverage=0.9,
                pickable=True,
                color_range=[[254, 229, 217], [252, 187, 161], [252, 146, 114], [251, 106, 74], [222, 45, 38], [165, 15, 21]],
            )
        )
    elif view == "points":
        layers.append(
            pdk.Layer(
                "ScatterplotLayer",
                points.to_dicts(),
                id="sites",
                get_position=["lon", "lat"],
                get_fill_color="k",
                get_line_color=[255, 255, 255],
                line_width_min_pixels=0.5,
                stroked=True,
                radius_min_pixels=3,
                radius_max_pixels=9,
                get_radius=1500,
                pickable=True,
                auto_highlight=True,
            )
        )
    tooltip = {
        "points": {"html": "<b>{n}</b><br/>{t}<br/>{a}<br/>{c} ({d})<br/>Source : {s} · position : {p}"},
        "densite": {"html": "<b>{elevationValue}</b> site(s) dans cet hexagone"},
        "departements": {"html": "<b>{nom}</b> ({code}) : {sites} site(s)"},
    }[view]
    return pdk.Deck(layers=layers, initial_view_state=FRANCE_VIEW, map_style=None, tooltip=tooltip, map_provider=None)


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
    return store.table("sites_pays")


# --- pharmacy finder ---------------------------------------------------------------------------

EARTH_KM = 6371.0088


@dataclass
class PharmacySearch:
    place: str | None  # what the query was understood as
    results: pl.DataFrame  # nom, adresse, commune, distance_km, source
    message: str | None = None


def _haversine_km(lat: float, lon: float, lats: pl.Expr, lons: pl.Expr) -> pl.Expr:
    import math

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
    from rapidfuzz import fuzz, process

    from datamed.core.text import normalise

    communes = store.table("communes")
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
    placed_communes = communes.filter(pl.col("latitude").is_not_null()).unique("code_insee", keep="first").sort("code_insee")
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
        listed = ", ".join(f"{r['nom'].title()} ({r['code_postal_min']})" for r in options.head(6).iter_rows(named=True))
        raise AmbiguousPlace(f"Plusieurs communes portent ce nom : {listed}. Précisez le code postal.")
    row = placed_communes.row(exact[0], named=True)
    return f"{row['nom'].title()} ({row['departement'] or ''})", row["latitude"], row["longitude"]


def nearest_pharmacies(store: Store, query: str, n: int = 10) -> PharmacySearch:
    try:
        found = find_place(store, query)
    except AmbiguousPlace as exc:
        return PharmacySearch(None, pl.DataFrame(), str(exc))
    if found is None:
        return PharmacySearch(None, pl.DataFrame(), "Code postal ou commune introuvable : vérifiez l'orthographe ou essayez un code postal à 5 chiffres.")
    label, lat, lon = found
    pharmacies = placed(sites(store).filter(pl.col("type") == "pharmacie"))
    if pharmacies.is_empty():
        return PharmacySearch(label, pl.DataFrame(), "Aucune pharmacie n'est disponible dans ce jeu de données.")
    out = (
        pharmacies.with_columns(_haversine_km(lat, lon, pl.col("latitude"), pl.col("longitude")).alias("distance_km"))
        .sort("distance_km", "source")
        # the two lists overlap: one pharmacy per name and position
        .unique([pl.col("nom").str.to_lowercase(), pl.col("latitude").round(3), pl.col("longitude").round(3)], keep="first", maintain_order=True)
        .head(n)
        .select("nom", "adresse", "code_postal", "commune", "distance_km", "source", "precision")
    )
    message = None
    if out["distance_km"].min() > 30:
        message = "Aucune pharmacie de nos listes à moins de 30 km : ces listes sont partielles (voir ci-dessous)."
    return PharmacySearch(label, out, message)


WORLD_VIEW = pdk.ViewState(latitude=25, longitude=10, zoom=0.8, pitch=0)


def world_deck(store: Store) -> pdk.Deck | None:
    """Countries shaded by FDA-registered API-manufacturing establishments (offline, no tiles)."""
    geo = store.table("pays_geo")
    counts = countries(store)
    if geo.is_empty() or counts.is_empty():
        return None
    by_iso = {iso: (n, share) for iso, n, share in counts.select("country_iso3", "n_api_manufacture", "share_api").rows()}
    top = max((n for n, _ in by_iso.values()), default=0) or 1
    geometries = store.memo("pays_geometries", lambda: [(i, n, json.loads(g)) for i, n, g in geo.select("iso3", "nom", "geometrie").rows()])
    features = []
    for iso, nom, geometry in geometries:
        n, share = by_iso.get(iso, (0, 0.0))
        t = (n / top) ** 0.5
        fill = [round(a + (b - a) * t) for a, b in zip((238, 238, 238), (165, 15, 21))] + [230]
        features.append(
            {
                "type": "Feature",
                "geometry": geometry,
                "properties": {"nom": nom, "iso3": iso, "n": n, "part": f"{100 * (share or 0):.1f}".replace(".", ","), "fill": fill},
            }
        )
    layer = pdk.Layer(
        "GeoJsonLayer",
        {"type": "FeatureCollection", "features": features},
        id="pays",
        stroked=True,
        filled=True,
        get_fill_color="properties.fill",
        get_line_color=[255, 255, 255],
        line_width_min_pixels=0.4,
        pickable=True,
    )
    tooltip = {"html": "<b>{nom}</b><br/>{n} établissement(s) de principe actif enregistrés auprès de la FDA ({part} % du total)"}
    return pdk.Deck(layers=[layer], initial_view_state=WORLD_VIEW, map_style=None, tooltip=tooltip, map_provider=None)


def companies(store: Store) -> dict[str, int]:
    """Holders that have at least one known site -> number of their medicines (CIS)."""
    from datamed.pipeline import holder_link

    def compute():
        links = holder_link.holder_links(store)
        if links.is_empty():
            return {}
        counts = holder_link.holders_with_counts(store.table("specialites"))
        linked = set(links["titulaire"].to_list())
        rows = counts.filter(pl.col("titulaire").is_in(list(linked))).sort("titulaire")
        return dict(rows.select("titulaire", "n_medicaments").rows())

    return store.memo("site_companies", compute)
