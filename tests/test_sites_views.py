"""Sites page queries: filters, département counts, and the pharmacy finder (real data)."""

from __future__ import annotations

import math

import polars as pl
import pytest

from datamed.views import sites as sv


def test_filters_parse_and_apply(real_store):
    f = sv.SiteFilters.parse(
        ["pharmacie", "bad"], ["Santé.fr", "x"], "nope", "3d", sv.sources_of(real_store), sv.operations_of(real_store)
    )
    assert (f.kinds, f.sources, f.operation, f.view) == (["pharmacie"], ["Santé.fr"], None, "points")
    frame = sv.filter_sites(real_store, f)
    assert frame.height == 3757 and (frame["source"] == "Santé.fr").all()
    default = sv.SiteFilters.parse(None, None, None, None, [], [])
    assert "pharmacie" not in default.kinds
    api = sv.filter_sites(real_store, sv.SiteFilters(["principe_actif"], [], "API MANUFACTURE", "points"))
    assert api.height > 0 and api["operations"].list.contains("API MANUFACTURE").all()


def test_departement_counts_add_up(real_store):
    frame = sv.filter_sites(real_store, sv.SiteFilters(list(sv.KIND_LABELS), [], None, "departements"))
    counts = sv.by_departement(frame, real_store)
    metropolitan = frame.filter(pl.col("departement").is_in(counts["code"].implode()))
    assert counts["sites"].sum() == metropolitan.height
    assert counts.height == 96


def test_haversine_and_nearest(real_store):
    res = sv.nearest_pharmacies(real_store, "75012", n=5)
    assert res.place.startswith("75012") and res.results.height == 5
    d = res.results["distance_km"].to_list()
    assert d == sorted(d) and d[0] < 2
    # an independent great-circle distance for the first result
    row = res.results.row(0, named=True)
    found = sv.find_place(real_store, "75012")
    _, lat, lon = found
    pharm = (
        real_store.table("sites")
        .filter((pl.col("nom") == row["nom"]) & (pl.col("type") == "pharmacie"))
        .row(0, named=True)
    )
    p1, p2 = math.radians(lat), math.radians(pharm["latitude"])
    dphi, dl = p2 - p1, math.radians(pharm["longitude"] - lon)
    a = math.sin(dphi / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    assert row["distance_km"] == pytest.approx(2 * 6371.0088 * math.asin(math.sqrt(a)), rel=1e-6)


@pytest.mark.parametrize(
    "query, expected",
    [("Ajaccio", "Ajaccio (2A)"), ("lyon", "Lyon"), ("97400", "97400"), ("bourgoin jallieu", "Bourgoin Jallieu (38)")],
)
def test_find_place(real_store, query, expected):
    assert sv.find_place(real_store, query)[0].startswith(expected)


@pytest.mark.parametrize("query", ["", "zzzz", "123", "1234567", "'; DROP TABLE x; --", "🙂"])
def test_find_place_odd_queries(real_store, query):
    res = sv.nearest_pharmacies(real_store, query)
    assert res.results.is_empty() and "introuvable" in res.message


def test_ambiguous_commune(real_store):
    res = sv.nearest_pharmacies(real_store, "Montreuil")
    assert res.results.is_empty() and "93100" in res.message
