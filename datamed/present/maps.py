"""Offline pydeck maps of the sites views: France (points, density, départements) and the world.

No tiles, no fonts, no network: ``map_provider=None`` *without* ``map_style`` (pydeck then
sends Streamlit its "no basemap" marker; ``map_style=None`` would make Streamlit draw its
Carto basemap from basemaps.cartocdn.com) and the departement / country
outlines of the prepared data as the base layer.
"""

from __future__ import annotations

import json

import polars as pl
import pydeck as pdk

from datamed.datasets import DS
from datamed.store import Store
from datamed.views.sites import KIND_LABELS, countries, placed

KIND_COLOURS = {  # RGB; the legend and tooltips always name the kind too
    "principe_actif": (200, 60, 40),
    "fabrication": (31, 95, 168),
    "analyse_conditionnement": (46, 133, 64),
    "distribution": (142, 68, 173),
    "pharmacie": (120, 120, 120),
}
FRANCE_VIEW = pdk.ViewState(latitude=46.6, longitude=2.4, zoom=4.6, pitch=0)


def _feature_collection(store: Store, counts: dict[str, int]) -> dict | None:
    geo = store.table(DS.DEPARTEMENTS_GEO)
    if geo.is_empty():
        return None
    top = max(counts.values()) if counts else 0
    geometries = store.memo(
        "departements_geometries",
        lambda: [(c, n, json.loads(g)) for c, n, g in geo.select("code", "nom", "geometrie").rows()],
    )
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
    points = (
        placed(frame)
        .with_columns(
            pl.col("type").replace_strict(KIND_LABELS, default="Autre").alias("type_libelle"),
            pl.col("type")
            .replace_strict(
                {k: list(v) for k, v in KIND_COLOURS.items()}, default=[0, 0, 0], return_dtype=pl.List(pl.Int64)
            )
            .alias("couleur"),
            pl.col("operations").list.join(", ").alias("activites"),
        )
        .select(
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
                color_range=[
                    [254, 229, 217],
                    [252, 187, 161],
                    [252, 146, 114],
                    [251, 106, 74],
                    [222, 45, 38],
                    [165, 15, 21],
                ],
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
    return pdk.Deck(layers=layers, initial_view_state=FRANCE_VIEW, tooltip=tooltip, map_provider=None)


WORLD_VIEW = pdk.ViewState(latitude=25, longitude=10, zoom=0.8, pitch=0)


def world_deck(store: Store) -> pdk.Deck | None:
    """Countries shaded by FDA-registered API-manufacturing establishments (offline, no tiles)."""
    geo = store.table(DS.PAYS_GEO)
    counts = countries(store)
    if geo.is_empty() or counts.is_empty():
        return None
    by_iso = {
        iso: (n, share) for iso, n, share in counts.select("country_iso3", "n_api_manufacture", "share_api").rows()
    }
    top = max((n for n, _ in by_iso.values()), default=0) or 1
    geometries = store.memo(
        "pays_geometries", lambda: [(i, n, json.loads(g)) for i, n, g in geo.select("iso3", "nom", "geometrie").rows()]
    )
    features = []
    for iso, nom, geometry in geometries:
        n, share = by_iso.get(iso, (0, 0.0))
        t = (n / top) ** 0.5
        fill = [round(a + (b - a) * t) for a, b in zip((238, 238, 238), (165, 15, 21))] + [230]
        features.append(
            {
                "type": "Feature",
                "geometry": geometry,
                "properties": {
                    "nom": nom,
                    "iso3": iso,
                    "n": n,
                    "part": f"{100 * (share or 0):.1f}".replace(".", ","),
                    "fill": fill,
                },
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
    tooltip = {
        "html": "<b>{nom}</b><br/>{n} établissement(s) de principe actif enregistrés auprès de la FDA ({part} % du total)"
    }
    return pdk.Deck(layers=[layer], initial_view_state=WORLD_VIEW, tooltip=tooltip, map_provider=None)
