"""Offline pydeck maps of the sites views: France (points, density, départements) and the world.

No tiles, no fonts, no network: ``map_provider=None`` *without* ``map_style`` (pydeck then
sends Streamlit its "no basemap" marker; ``map_style=None`` would make Streamlit draw its
Carto basemap from basemaps.cartocdn.com) and the departement / country
outlines of the prepared data as the base layer.
"""

from __future__ import annotations

import html
import json
import math
from dataclasses import dataclass

import numpy as np
import polars as pl
import pydeck as pdk
from pydeck.bindings.json_tools import default_serialize

from datamed.core.countries import country_fr
from datamed.core.text import fr_int, fr_percent, fr_plural
from datamed.datasets import DS
from datamed.store import Store
from datamed.views.sites import KIND_LABELS, countries, operations_fr, placed


class Deck(pdk.Deck):
    """A pydeck Deck whose JSON is compact. pydeck indents it (``indent=2``), and Streamlit
    sends and hashes that text on every run: a France map was 1.5 MB instead of 250 kB,
    most of a medicine page's server time."""

    def to_json(self) -> str:
        return json.dumps(self, sort_keys=True, default=default_serialize, separators=(",", ":"))


KIND_COLOURS = {  # RGB; the legend and tooltips always name the kind too
    "principe_actif": (200, 60, 40),
    "fabrication": (31, 95, 168),
    "analyse_conditionnement": (46, 133, 64),
    "distribution": (142, 68, 173),
    "pharmacie": (120, 120, 120),
}

# --- fitting metropolitan France in the map ------------------------------------------------

FRANCE_BOUNDS = (-5.15, 41.33, 9.57, 51.09)  # west, south, east, north: mainland France and Corsica
MAP_HEIGHT = 320  # px: the holder-sites map of the medicine page (the sites page passes its own)
MAP_WIDTH = 600  # px: the narrowest page width the maps are fitted to (wider pages show more around)
MAP_PADDING = 12  # px left free around France
_TILE = 512  # deck.gl's Web Mercator world is 512 px wide at zoom 0


def _mercator_y(lat: float) -> float:
    return math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))


def fit_view(
    bounds: tuple[float, float, float, float], height: int, width: int, padding: int = MAP_PADDING
) -> pdk.ViewState:
    """The view state that shows ``bounds`` (west, south, east, north) whole in a
    ``width`` x ``height`` px map (deck.gl's Web Mercator, 512 px tiles)."""
    west, south, east, north = bounds
    span_y = _mercator_y(north) - _mercator_y(south)
    zoom_h = math.log2(max(height - 2 * padding, 1) / (_TILE / (2 * math.pi) * span_y))
    zoom_w = math.log2(max(width - 2 * padding, 1) / (_TILE * (east - west) / 360))
    middle = (_mercator_y(north) + _mercator_y(south)) / 2
    latitude = math.degrees(2 * math.atan(math.exp(middle)) - math.pi / 2)
    zoom = math.floor(min(zoom_h, zoom_w) * 100) / 100  # rounded down: never a pixel short
    return pdk.ViewState(latitude=round(latitude, 4), longitude=round((west + east) / 2, 4), zoom=zoom, pitch=0)


def france_view(height: int = MAP_HEIGHT, width: int = MAP_WIDTH) -> pdk.ViewState:
    """Metropolitan France, whole, in a map of that size."""
    return fit_view(FRANCE_BOUNDS, height, width)


# --- colour classes and their legend ---------------------------------------------------------

BASE_FILL = (240, 243, 248)  # a département or country without any site
SITE_RAMP = ((198, 219, 239), (8, 48, 107))  # light to dark blue: sites per département
DENSITY_RAMP = ((254, 217, 190), (165, 15, 21))  # light to dark red: sites per hexagon, establishments per country


@dataclass(frozen=True)
class Legend:
    """The colour classes of a map: each colour with the counts it stands for, in words."""

    title: str
    items: tuple[tuple[tuple[int, int, int], str], ...]  # (RGB, "2 à 5")

    def text(self) -> str:
        """The legend in words (the text alternative of the swatches)."""
        shades = " ; ".join(label for _, label in self.items)
        return f"{self.title} : {shades} (de la teinte la plus claire à la plus foncée)."

    def html(self) -> str:
        """Swatches, each followed by the counts it stands for, for
        ``st.markdown(..., unsafe_allow_html=True)``: the colour is never the only signal."""
        swatch = (
            "<span aria-hidden='true' style='display:inline-block;width:1.1em;height:0.9em;"
            "margin:0 0.3em 0 0.9em;vertical-align:-0.1em;border:1px solid #6b6f76;background:rgb{}'></span>"
        )
        cells = "".join(
            f"<span class='legende-classe'>{swatch.format(tuple(rgb))}{html.escape(label)}</span>"
            for rgb, label in self.items
        )
        return f"<div class='legende-carte'><b>{html.escape(self.title)}</b> :{cells}</div>"


def _nice(x: float) -> int:
    """The number of 1, 2, 5, 10, 20, 50… nearest to x on a log scale."""
    if x <= 1:
        return 1
    power = 10 ** math.floor(math.log10(x))
    return min((int(m * power) for m in (1, 2, 5, 10)), key=lambda b: abs(math.log10(b) - math.log10(x)))


def count_classes(values, n: int = 5) -> list[tuple[int, int]]:
    """At most ``n`` classes (low, high), bounds included, covering the positive counts of
    ``values``, evenly spaced on a log scale (counts of sites run from 1 to thousands),
    upper bounds rounded to 1, 2, 5, 10, 20…; the last class ends at the largest count."""
    positive = [int(v) for v in values if v and v > 0]
    if not positive:
        return []
    top = max(positive)
    uppers: list[int] = []
    for i in range(1, n):
        bound = _nice(top ** (i / n))
        if bound < top and (not uppers or bound > uppers[-1]):
            uppers.append(bound)
    uppers.append(top)
    classes, low = [], 1
    for high in uppers:
        classes.append((low, high))
        low = high + 1
    return classes


def class_label(low: int, high: int) -> str:
    return fr_int(low) if low == high else f"{fr_int(low)} à {fr_int(high)}"


def ramp(n: int, colours: tuple[tuple[int, int, int], tuple[int, int, int]]) -> list[tuple[int, int, int]]:
    """``n`` colours evenly spaced from the light end to the dark end of ``colours``."""
    light, dark = colours
    if n == 1:
        return [dark]
    return [tuple(round(a + (b - a) * i / (n - 1)) for a, b in zip(light, dark)) for i in range(n)]


class Classes:
    """Counts -> colour classes; ``items`` lists each colour with the counts it stands for."""

    def __init__(self, values, colours, with_zero: bool):
        self.bounds = count_classes(values)
        self.shades = ramp(len(self.bounds), colours) if self.bounds else []
        self.items = tuple(
            ([(BASE_FILL, "0")] if with_zero else [])
            + [(rgb, class_label(lo, hi)) for (lo, hi), rgb in zip(self.bounds, self.shades)]
        )

    def colour(self, n: int) -> tuple[int, int, int]:
        for (lo, hi), rgb in zip(self.bounds, self.shades):
            if lo <= n <= hi:
                return rgb
        return BASE_FILL


# --- density: hexagons counted here, so that the legend tells what each colour counts ---------

HEX_RADIUS_M = 12_000  # on the ground, in France
_EARTH_M = 6_378_137.0  # the Web Mercator sphere
_HEX_SCALE = 1 / math.cos(math.radians(46.5))  # Web Mercator metres per ground metre in France


def hex_bins(lats, lons, radius_m: float = HEX_RADIUS_M) -> pl.DataFrame:
    """Points counted in pointy-top hexagons of ``radius_m`` on the Web Mercator plane:
    one row per hexagon holding a point, its count (``n``) and its outline (``polygone``,
    six [lon, lat] corners, drawn at 90 % so that neighbours keep a thin gap)."""
    lat = np.radians(np.asarray(lats, dtype=float))
    lon = np.radians(np.asarray(lons, dtype=float))
    if lat.size == 0:
        return pl.DataFrame(schema={"n": pl.UInt32, "polygone": pl.List(pl.List(pl.Float64))})
    r = radius_m * _HEX_SCALE
    x = _EARTH_M * lon
    y = _EARTH_M * np.log(np.tan(np.pi / 4 + lat / 2))
    cq = (math.sqrt(3) / 3 * x - y / 3) / r  # axial coordinates, then cube rounding
    cr = (2 / 3 * y) / r
    cs = -cq - cr
    q, rr, s = np.round(cq), np.round(cr), np.round(cs)
    dq, dr, ds = np.abs(q - cq), np.abs(rr - cr), np.abs(s - cs)
    fix_q = (dq > dr) & (dq > ds)
    fix_r = ~fix_q & (dr > ds)
    q = np.where(fix_q, -rr - s, q)
    rr = np.where(fix_r, -q - s, rr)
    bins = (
        pl.DataFrame({"q": q.astype(np.int64), "r": rr.astype(np.int64)})
        .group_by("q", "r")
        .agg(pl.len().alias("n"))
        .sort("q", "r")
    )
    qs, rs = bins["q"].to_numpy(), bins["r"].to_numpy()
    centre_x = r * math.sqrt(3) * (qs + rs / 2)
    centre_y = r * 1.5 * rs
    corners = []
    for k in range(6):
        angle = math.radians(60 * k + 30)
        px = (centre_x + 0.9 * r * math.cos(angle)) / _EARTH_M
        py = (centre_y + 0.9 * r * math.sin(angle)) / _EARTH_M
        corners.append(np.stack([np.degrees(px), np.degrees(2 * np.arctan(np.exp(py)) - np.pi / 2)], axis=1))
    outlines = np.round(np.stack(corners, axis=1), 4)  # hexagon, corner, (lon, lat)
    return bins.select("n").with_columns(pl.Series("polygone", outlines.tolist(), dtype=pl.List(pl.List(pl.Float64))))


#: outline precision, in degrees (about 500 m): a whole-France map is drawn at 1 to 3 km a
#: pixel, and the full outlines (1.4 MB a map) took most of a medicine page's time
OUTLINE_STEP = 0.005


def _simplify_ring(ring: list, step: float) -> list:
    out: list = []
    for lon, lat, *_ in ring:
        point = [round(round(lon / step) * step, 4), round(round(lat / step) * step, 4)]
        if not out or point != out[-1]:
            out.append(point)
    if len(out) >= 2 and out[0] != out[-1]:
        out.append(out[0])
    return out if len(out) >= 4 else []


def simplify(geometry: dict, step: float = OUTLINE_STEP) -> dict:
    """A (Multi)Polygon snapped to a ``step``-degree grid, repeated vertices dropped; rings
    that collapse (islets smaller than the grid) are left out, never a whole département."""
    if geometry.get("type") == "Polygon":
        polygons = [geometry["coordinates"]]
    elif geometry.get("type") == "MultiPolygon":
        polygons = geometry["coordinates"]
    else:
        return geometry
    kept = []
    for polygon in polygons:
        rings = [_simplify_ring(r, step) for r in polygon]
        if rings and rings[0]:
            kept.append([r for r in rings if r])
    if not kept:  # smaller than the grid: keep it as it is
        return geometry
    return {"type": "MultiPolygon", "coordinates": kept}


def _feature_collection(store: Store, counts: dict[str, int], classes: Classes | None = None) -> dict | None:
    """The départements as GeoJSON, each filled with the colour class of its count
    (``classes``; the plain background colour without)."""
    geo = store.table(DS.DEPARTEMENTS_GEO)
    if geo.is_empty():
        return None
    geometries = store.memo(
        "departements_geometries",
        lambda: [(c, n, simplify(json.loads(g))) for c, n, g in geo.select("code", "nom", "geometrie").rows()],
    )
    features = []
    for code, nom, geometry in geometries:
        n = counts.get(code, 0)
        fill = list(classes.colour(n) if classes else BASE_FILL) + [255]
        features.append(
            {
                "type": "Feature",
                "geometry": geometry,
                # "texte": the count in French words for the tooltip ("1 234 sites")
                "properties": {"code": code, "nom": nom, "sites": n, "texte": fr_plural(n, "site"), "fill": fill},
            }
        )
    return {"type": "FeatureCollection", "features": features}


def _departement_classes(store: Store, frame: pl.DataFrame) -> tuple[dict[str, int], Classes]:
    counts = dict(frame.group_by("departement").len().rows()) if not frame.is_empty() else {}
    geo = store.table(DS.DEPARTEMENTS_GEO)
    if not geo.is_empty():  # the classes of the départements drawn (no overseas count skews them)
        drawn = set(geo["code"].to_list())
        counts = {k: v for k, v in counts.items() if k in drawn}
    return counts, Classes(counts.values(), SITE_RAMP, with_zero=True)


def _density(frame: pl.DataFrame) -> tuple[pl.DataFrame, Classes]:
    points = placed(frame)
    bins = hex_bins(points["latitude"].to_numpy(), points["longitude"].to_numpy())
    return bins, Classes(bins["n"].to_list(), DENSITY_RAMP, with_zero=False)


def france_legend(store: Store, frame: pl.DataFrame, view: str) -> Legend | None:
    """The colour scale of ``france_deck(store, frame, view)`` (None for the points,
    whose kinds the page names)."""
    if view == "departements":
        return Legend("Nombre de sites par département", _departement_classes(store, frame)[1].items)
    if view == "densite":
        radius = fr_int(HEX_RADIUS_M / 1000)
        return Legend(f"Nombre de sites par hexagone ({radius} km de rayon)", _density(frame)[1].items)
    return None


def _departement_layer(
    collection: dict | None, *, choropleth: bool = False, line_width: float = 0.6
) -> pdk.Layer | None:
    """The base layer of every France map: the départements' outlines on a light grey (no tiles),
    or, for a choropleth, filled with each feature's ``fill`` and pickable for its tooltip."""
    if not collection:
        return None
    return pdk.Layer(
        "GeoJsonLayer",
        collection,
        id="departements",
        stroked=True,
        filled=True,
        get_fill_color="properties.fill" if choropleth else [240, 243, 247, 255],
        get_line_color=[150, 150, 160],
        line_width_min_pixels=line_width,
        pickable=choropleth,
    )


def france_deck(
    store: Store, frame: pl.DataFrame, view: str, *, height: int = MAP_HEIGHT, width: int = MAP_WIDTH
) -> pdk.Deck:
    """Offline map: départements as base layer (no tiles), then points, hexagons or a
    choropleth; metropolitan France whole in a ``width`` x ``height`` px map (the
    defaults: the medicine page's holder-sites map)."""
    points = (
        placed(frame)
        .with_columns(
            pl.col("type").replace_strict(KIND_LABELS, default="Autre").alias("type_libelle"),
            pl.col("type")
            .replace_strict(
                {k: list(v) for k, v in KIND_COLOURS.items()}, default=[0, 0, 0], return_dtype=pl.List(pl.Int64)
            )
            .alias("couleur"),
            operations_fr().alias("activites"),
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
    layers = []
    if view == "departements":
        base = _departement_layer(_feature_collection(store, *_departement_classes(store, frame)), choropleth=True)
    else:
        base = _departement_layer(_feature_collection(store, {}))
    if base is not None:
        layers.append(base)
    if view == "densite":
        bins, classes = _density(frame)
        hexagons = [
            {"g": outline, "n": n, "x": fr_plural(n, "site"), "k": list(classes.colour(n))}
            for n, outline in bins.select("n", "polygone").rows()
        ]
        layers.append(
            pdk.Layer(
                "PolygonLayer",
                hexagons,
                id="densite",
                get_polygon="g",
                get_fill_color="k",
                stroked=False,
                filled=True,
                pickable=True,
                auto_highlight=True,
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
        "densite": {"html": "<b>{x}</b> dans cet hexagone"},
        "departements": {"html": "<b>{nom}</b> ({code}) : {texte}"},
    }[view]
    view_state = france_view(height, width)
    return Deck(layers=layers, initial_view_state=view_state, tooltip=tooltip, map_provider=None)


WORLD_VIEW = pdk.ViewState(latitude=25, longitude=10, zoom=0.8, pitch=0)


def world_classes(counts: pl.DataFrame) -> Classes:
    return Classes(counts["n_api_manufacture"].to_list(), DENSITY_RAMP, with_zero=True)


def world_legend(store: Store) -> Legend | None:
    """The colour scale of ``world_deck(store)``."""
    counts = countries(store)
    if counts.is_empty():
        return None
    return Legend("Établissements de fabrication de principe actif par pays", world_classes(counts).items)


def world_deck(store: Store) -> pdk.Deck | None:
    """Countries shaded by FDA-registered API-manufacturing establishments (offline, no tiles)."""
    geo = store.table(DS.PAYS_GEO)
    counts = countries(store)
    if geo.is_empty() or counts.is_empty():
        return None
    by_iso = {
        iso: (n, share) for iso, n, share in counts.select("country_iso3", "n_api_manufacture", "share_api").rows()
    }
    classes = world_classes(counts)
    geometries = store.memo(
        "pays_geometries", lambda: [(i, n, json.loads(g)) for i, n, g in geo.select("iso3", "nom", "geometrie").rows()]
    )
    features = []
    for iso, nom, geometry in geometries:
        n, share = by_iso.get(iso, (0, 0.0))
        fill = list(classes.colour(n)) + [255]
        features.append(
            {
                "type": "Feature",
                "geometry": geometry,
                "properties": {
                    "nom": country_fr(iso, nom),
                    "iso3": iso,
                    "n": n,
                    # the tooltip's texts, French formats
                    "texte": f"{fr_plural(n, 'établissement')} de principe actif enregistré{'s' if n > 1 else ''}",
                    "part": fr_percent(share or 0),
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
    tooltip = {"html": "<b>{nom}</b><br/>{texte} auprès de la FDA ({part} du total)"}
    return Deck(layers=[layer], initial_view_state=WORLD_VIEW, tooltip=tooltip, map_provider=None)


PHARMACY_COLOUR = (0, 122, 94)  # the pharmacies; the searched place is dark blue
PLACE_COLOUR = (16, 60, 130)


def zoom_for(radius_km: float, latitude: float, pixels: int = 320) -> float:
    """The deck.gl zoom at which ``radius_km`` around ``latitude`` spans about ``pixels`` / 2
    (deck.gl's world is 512 pixels wide at zoom 0: 78 271.5 m per pixel at the equator)."""
    metres_per_pixel = max(radius_km, 0.3) * 2000 / pixels
    z = math.log2(78_271.52 * math.cos(math.radians(latitude)) / metres_per_pixel)
    return round(min(max(z, 3.0), 16.0), 2)


def pharmacy_deck(store: Store, label: str, lat: float, lon: float, results: pl.DataFrame) -> pdk.Deck:
    """Offline map of a pharmacy search: département outlines (no tiles), the searched place and the
    pharmacies numbered as in the results table (``rang``, ``nom``, ``adresse``, ``distance_km``...)."""
    points = [
        {
            "r": str(row["rang"]),
            # the tooltip is HTML: source text is escaped
            "n": html.escape(row["nom"] or "Pharmacie (nom non publié par la source)"),
            "a": html.escape(row["adresse"] or ""),
            "d": f"{row['distance_km']:.1f}".replace(".", ",") + " km",
            "lat": round(row["latitude"], 5),
            "lon": round(row["longitude"], 5),
        }
        for row in results.iter_rows(named=True)
    ]
    layers = []
    base = _departement_layer(_feature_collection(store, {}), line_width=0.8)
    if base is not None:
        layers.append(base)
    layers.append(
        pdk.Layer(
            "ScatterplotLayer",
            [{"n": label, "lat": round(lat, 5), "lon": round(lon, 5)}],
            id="lieu",
            get_position=["lon", "lat"],
            get_fill_color=list(PLACE_COLOUR) + [90],
            get_line_color=list(PLACE_COLOUR),
            stroked=True,
            line_width_min_pixels=2,
            radius_min_pixels=10,
            get_radius=40,
            pickable=False,
        )
    )
    layers.append(
        pdk.Layer(
            "ScatterplotLayer",
            points,
            id="pharmacies",
            get_position=["lon", "lat"],
            get_fill_color=list(PHARMACY_COLOUR),
            get_line_color=[255, 255, 255],
            stroked=True,
            line_width_min_pixels=1,
            radius_min_pixels=9,
            radius_max_pixels=14,
            get_radius=25,
            pickable=True,
            auto_highlight=True,
        )
    )
    layers.append(  # the rank, as in the table (deck.gl draws it with a local font: no download)
        pdk.Layer(
            "TextLayer",
            points,
            id="rangs",
            get_position=["lon", "lat"],
            get_text="r",
            get_size=12,
            get_color=[255, 255, 255],
            font_weight=700,
            get_text_anchor='"middle"',
            get_alignment_baseline='"center"',
        )
    )
    radius = float(results["distance_km"].max()) if not results.is_empty() else 1.0
    view = pdk.ViewState(latitude=lat, longitude=lon, zoom=zoom_for(radius, lat), pitch=0)
    tooltip = {"html": "<b>{r}. {n}</b><br/>{a}<br/>{d} à vol d'oiseau"}
    return Deck(layers=layers, initial_view_state=view, tooltip=tooltip, map_provider=None)
