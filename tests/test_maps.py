"""Offline maps (present.maps): colour classes and their legends, server-side hexagons, France
fitted in the map, French texts in the tooltips; on the real data."""

from __future__ import annotations

import math

import polars as pl
import pytest

from datamed.present import maps
from datamed.views import sites as sv


def _pixels(view, lon: float, lat: float, width: int, height: int) -> tuple[float, float]:
    """deck.gl's Web Mercator projection of (lon, lat) in a width x height map."""
    scale = 512 * 2**view.zoom
    x = (lon - view.longitude) / 360 * scale + width / 2
    y = (maps._mercator_y(view.latitude) - maps._mercator_y(lat)) * scale / (2 * math.pi) + height / 2
    return x, y


def _fits(view, width: int, height: int) -> bool:
    west, south, east, north = maps.FRANCE_BOUNDS
    corners = [_pixels(view, lon, lat, width, height) for lon in (west, east) for lat in (south, north)]
    return all(0 <= x <= width and 0 <= y <= height for x, y in corners)


@pytest.mark.parametrize("height, width", [(320, 600), (320, 940), (560, 940), (420, 600)])
def test_france_is_whole_in_the_map(height, width):
    view = maps.france_view(height, width)
    assert _fits(view, width, height)
    closer = type(view)(latitude=view.latitude, longitude=view.longitude, zoom=view.zoom + 0.2)
    assert not _fits(closer, width, height)  # and it is not drawn smaller than it needs to be


def test_the_old_fixed_view_cropped_the_holder_map():
    old = type(maps.france_view())(latitude=46.6, longitude=2.4, zoom=4.6)
    assert not _fits(old, 600, 320)  # what the medicine page showed: the north and south cut off
    assert maps.france_view().zoom == maps.france_view(maps.MAP_HEIGHT, maps.MAP_WIDTH).zoom


def test_count_classes():
    assert maps.count_classes([]) == [] and maps.count_classes([0, 0]) == []
    assert maps.count_classes([1]) == [(1, 1)]
    assert maps.count_classes([3, 22, 1]) == [(1, 2), (3, 5), (6, 10), (11, 22)]
    assert maps.count_classes([2196]) == [(1, 5), (6, 20), (21, 100), (101, 500), (501, 2196)]
    for top in (1, 2, 7, 15, 99, 539, 1251, 10_000):
        classes = maps.count_classes(range(top + 1))
        assert classes[0][0] == 1 and classes[-1][1] == top and len(classes) <= 5
        assert all(lo <= hi for lo, hi in classes)
        assert all(b[0] == a[1] + 1 for a, b in zip(classes, classes[1:]))  # no gap, no overlap


def _filtered(store, kinds, view):
    f = sv.SiteFilters.parse(kinds, None, None, view, sv.sources_of(store), sv.operations_of(store))
    return sv.filter_sites(store, f)


def _sites(n: int) -> str:
    """'1 site', '1 234 sites' (French: narrow no-break space)."""
    return f"{n:,}".replace(",", "\u202f") + (" site" if n < 2 else " sites")


def _bounds(label: str) -> tuple[int, int]:
    parts = [int(p.replace("\u202f", "")) for p in label.split(" à ")]
    return parts[0], parts[-1]


@pytest.mark.parametrize("kinds", [None, ["pharmacie"], list(sv.KIND_LABELS)])
def test_density_legend_matches_the_hexagons(real_store, kinds):
    frame = _filtered(real_store, kinds, "densite")
    deck = maps.france_deck(real_store, frame, "densite", height=560)
    layer = next(layer for layer in deck.layers if layer.id == "densite")
    assert layer.type == "PolygonLayer"
    hexagons = layer.data
    assert sum(h["n"] for h in hexagons) == sv.placed(frame).height  # every placed site counted once
    legend = maps.france_legend(real_store, frame, "densite")
    assert legend.title.startswith("Nombre de sites par hexagone")
    by_colour = {tuple(rgb): _bounds(label) for rgb, label in legend.items}
    assert len(by_colour) == len(legend.items) >= 2
    for h in hexagons:
        lo, hi = by_colour[tuple(h["k"])]  # each hexagon's colour is in the legend...
        assert lo <= h["n"] <= hi  # ...and its count within that colour's bounds
        assert h["x"] == _sites(h["n"])
        assert len(h["g"]) == 6
    assert max(h["n"] for h in hexagons) == _bounds(legend.items[-1][1])[1]
    assert "{x}" in deck._tooltip["html"]


def test_departement_legend_matches_the_choropleth(real_store):
    frame = _filtered(real_store, list(sv.KIND_LABELS), "departements")
    deck = maps.france_deck(real_store, frame, "departements", height=560)
    features = deck.layers[0].data["features"]
    legend = maps.france_legend(real_store, frame, "departements")
    assert legend.items[0] == (maps.BASE_FILL, "0")
    by_colour = {tuple(rgb): _bounds(label) for rgb, label in legend.items}
    counts = sv.by_departement(frame, real_store)
    expected = dict(counts.select("code", "sites").rows())
    for f in features:
        p = f["properties"]
        assert p["sites"] == expected[p["code"]]
        lo, hi = by_colour[tuple(p["fill"][:3])]
        assert lo <= p["sites"] <= hi
        assert p["texte"] == _sites(p["sites"])
    paris = next(f["properties"] for f in features if f["properties"]["code"] == "75")
    assert paris["sites"] > 1000 and "\u202f" in paris["texte"]
    assert "{texte}" in deck._tooltip["html"]
    text = legend.text()
    assert text.startswith("Nombre de sites par département : 0 ; 1 à ") and "\u202f" in text
    html = legend.html()
    assert html.count("legende-classe") == len(legend.items) and "1\u202f" in html


def test_points_have_no_colour_scale(real_store):
    frame = _filtered(real_store, None, "points")
    assert maps.france_legend(real_store, frame, "points") is None
    deck = maps.france_deck(real_store, frame, "points")
    assert [layer.type for layer in deck.layers] == ["GeoJsonLayer", "ScatterplotLayer"]
    assert deck.initial_view_state.zoom == maps.france_view().zoom


def test_hex_bins():
    lat, lon = 48.85, 2.35
    bins = maps.hex_bins([lat] * 100 + [lat + 1.0], [lon] * 100 + [lon])
    assert sorted(bins["n"].to_list()) == [1, 100]
    big = bins.filter(pl.col("n") == 100)["polygone"][0].to_list()
    centre = (sum(c[0] for c in big) / 6, sum(c[1] for c in big) / 6)
    km_per_degree = 111.2
    distance = math.hypot(
        (centre[0] - lon) * km_per_degree * math.cos(math.radians(lat)), (centre[1] - lat) * km_per_degree
    )
    assert distance <= maps.HEX_RADIUS_M / 1000  # the point lies in its hexagon
    assert maps.hex_bins([], []).is_empty()


def test_world_legend_and_tooltips(real_store):
    deck = maps.world_deck(real_store)
    legend = maps.world_legend(real_store)
    by_colour = {tuple(rgb): _bounds(label) for rgb, label in legend.items}
    for f in deck.layers[0].data["features"]:
        p = f["properties"]
        lo, hi = by_colour[tuple(p["fill"][:3])]
        assert lo <= p["n"] <= hi
    assert legend.text().startswith("Établissements de fabrication de principe actif par pays : 0 ; 1 à 5 ; 6 à 10 ;")
