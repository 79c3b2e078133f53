"""Sites page queries: filters and département counts (real data); the pharmacy finder: test_pharmacies.py."""

from __future__ import annotations

import polars as pl

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


def test_fda_activities_are_shown_in_french(real_store):
    fda = real_store.table("sites").filter(pl.col("source").str.contains("FDA"))
    codes = set(fda["operations"].explode().drop_nulls().to_list())
    assert codes and codes <= set(sv.OPERATION_FR), codes - set(sv.OPERATION_FR)  # every code has a French name
    shown = " ".join(sv.site_table(fda)["Activités"].to_list())
    assert "Fabrication de principe actif" in shown
    assert not any(code in shown for code in ("API MANUFACTURE", "ANALYSIS", "RELABEL", "STERILIZE"))
    assert sv.operation_fr("API MANUFACTURE") == "Fabrication de principe actif"
    assert sv.operation_fr("Vaccination contre la grippe") == "Vaccination contre la grippe"
