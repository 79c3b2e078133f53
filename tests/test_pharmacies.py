"""The pharmacy finder (views.pharmacies) on the real data, the SIRENE columns the reader keeps
(name, street number, postal code) and the demo data that has them."""

from __future__ import annotations

import csv
import math
import re
from pathlib import Path

import polars as pl
import pytest

from datamed.core.config import DEMO_RAW_DIR
from datamed.sources.sites import STREET_PRECISION, read_sites
from datamed.sources.sites.readers import _row_hash
from datamed.views import pharmacies as ph

SANTEFR = "pharmacies_vaccination_grippe_santefr_2025-10.csv"
SIRENE = "pharmacies_idf_sirene.csv"
IDF = ("75", "77", "78", "91", "92", "93", "94", "95")


def _records(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def santefr_rows(shared_dir) -> dict[str, dict]:
    """The raw Santé.fr rows by FINESS number."""
    return {r["finess_et"]: r for r in _records(shared_dir / "sites" / SANTEFR)}


def _great_circle_km(lat1, lon1, lat2, lon2) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(a))


# --- the search, real data ----------------------------------------------------------------


def test_a_known_postcode_gives_sensible_results(real_store):
    res = ph.nearest_pharmacies(real_store, "75011")
    assert res.message is None and res.place.label == "75011 (Paris 11)" and res.place.departement == "75"
    r = res.results
    assert r.height == 10 and r["rang"].to_list() == list(range(1, 11))
    d = r["distance_km"].to_list()
    assert d == sorted(d) and d[-1] < 1.5  # central Paris: ten pharmacies within 1.5 km
    assert set(r["departement"]) <= set(IDF)
    assert r["adresse"].str.contains(r"750\d\d (PARIS|Paris)").all()
    # each distance is the great circle between the place and the pharmacy's point
    for row in r.iter_rows(named=True):
        expected = _great_circle_km(res.place.lat, res.place.lon, row["latitude"], row["longitude"])
        assert row["distance_km"] == pytest.approx(expected, rel=1e-6)
    # and every point is a real pharmacy of the sites table
    sites = real_store.table("sites").filter(pl.col("type") == "pharmacie")
    points = set(zip(sites["latitude"], sites["longitude"]))
    assert all((row["latitude"], row["longitude"]) in points for row in r.iter_rows(named=True))


def test_distances_sorted_for_many_places(real_store):
    for query in ("13001", "Ajaccio", "97400", "Lyon", "33000", "bourgoin jallieu", "59000"):
        res = ph.nearest_pharmacies(real_store, query, n=20)
        d = res.results["distance_km"].to_list()
        assert res.results.height == 20 and d == sorted(d), query
        assert d[0] < 10, query


def test_street_numbers_where_the_source_has_them(real_store, santefr_rows):
    seen_numbers = 0
    for query in ("75011", "13001", "69003", "33000", "Ajaccio", "97400"):
        res = ph.nearest_pharmacies(real_store, query, n=20)
        for row in res.results.iter_rows(named=True):
            if row["source"] == "Santé.fr":
                raw = santefr_rows[row["site_id"].removeprefix("santefr:")]
                assert row["adresse"].startswith(raw["adresse_voie_1"].strip()), row
                m = re.match(r"\d+", raw["adresse_voie_1"].strip())
                assert (row["numero"] or "").split(" ")[0] == (m.group(0) if m else ""), row
                assert (row["numero"] is not None) == bool(m)
                seen_numbers += row["numero"] is not None
            elif row["source"] == "SIRENE":  # the Île-de-France extract has no street number
                assert row["numero"] is None and not re.match(r"\d", row["adresse"])
    assert seen_numbers >= 60  # most Santé.fr addresses have one (84 %)


def test_no_names_in_the_real_lists(real_store):
    res = ph.nearest_pharmacies(real_store, "75011")
    assert res.results["nom"].is_null().all()
    assert not real_store.table("sites").filter(pl.col("type") == "pharmacie")["enseigne"].is_not_null().any()


def test_pharmacies_of_one_street_point_are_grouped(real_store):
    """The SIRENE extract places the pharmacies of a street at one point: one row, with their number."""
    res = ph.nearest_pharmacies(real_store, "75011")
    first = res.results.row(0, named=True)
    sites = real_store.table("sites")
    same = sites.filter(
        (pl.col("latitude") == first["latitude"])
        & (pl.col("longitude") == first["longitude"])
        & (pl.col("source") == "SIRENE")
    )
    assert first["nombre"] == same.height > 1
    assert res.results.select("latitude", "longitude", "source").is_unique().all()


def test_one_pharmacy_listed_by_both_sources_is_shown_once(real_store):
    res = ph.nearest_pharmacies(real_store, "75012")
    merged = res.results.filter(pl.col("source") == "SIRENE, Santé.fr")
    assert merged.height >= 1
    row = merged.row(0, named=True)
    assert row["numero"] is not None  # the Santé.fr row, with its street number, is kept
    street = ph._street_key(row["adresse"].split(",")[0])
    sirene = real_store.table("sites").filter(pl.col("source") == "SIRENE")
    near_same_street = [
        s
        for s in sirene.iter_rows(named=True)
        if ph._street_key(s["adresse"]) == street
        and _great_circle_km(row["latitude"], row["longitude"], s["latitude"], s["longitude"]) <= 0.15
    ]
    assert len(near_same_street) == 1  # the one it was merged with, not shown again
    assert (near_same_street[0]["latitude"], near_same_street[0]["longitude"]) not in set(
        zip(res.results["latitude"], res.results["longitude"])
    )


def test_two_pharmacies_of_one_street_are_never_merged():
    def row(source, address, lat, nombre=1):
        return {
            "source": source,
            "adresse": address,
            "latitude": lat,
            "longitude": 2.38,
            "nombre": nombre,
            "enseigne": None,
            "_street": ph._street_key(address),
            "sources": [source],
        }

    one_to_one = [row("Santé.fr", "12 Rue X", 48.8500), row("SIRENE", "rue X", 48.8505)]
    assert len(ph._merge_sources(one_to_one)) == 1
    two_candidates = [
        row("Santé.fr", "12 Rue X", 48.85),
        row("SIRENE", "rue X", 48.8503),
        row("SIRENE", "rue X", 48.8497),
    ]
    assert len(ph._merge_sources(two_candidates)) == 3
    numbers_differ = [row("Santé.fr", "12 Rue X", 48.85), row("SIRENE", "14 rue X", 48.8501)]
    assert len(ph._merge_sources(numbers_differ)) == 2
    street_point = [row("Santé.fr", "12 Rue X", 48.85), row("SIRENE", "rue X", 48.8501, nombre=3)]
    assert len(ph._merge_sources(street_point)) == 2


def test_ambiguous_commune_and_departement(real_store):
    res = ph.nearest_pharmacies(real_store, "Montreuil")
    assert res.results.is_empty() and "93100" in res.message and "département" in res.message
    assert ("Montreuil (93100)", "Montreuil", "93") in res.choices
    res = ph.nearest_pharmacies(real_store, "Montreuil", departement="93")
    assert res.place.departement == "93" and res.results.height == 10
    assert res.results["distance_km"].min() < 1
    assert ph.nearest_pharmacies(real_store, "Montreuil", departement="62").place.departement == "62"
    res = ph.nearest_pharmacies(real_store, "75011", departement="13")
    assert res.results.is_empty() and "introuvable dans le département 13" in res.message


@pytest.mark.parametrize(
    "query, dep",
    [("", None), ("zzzz", None), ("123", None), ("1234567", None), ("'; DROP TABLE x; --", None), ("🙂", None)]
    + [("x" * 5000, None), ("75011", "99x"), ("75011", "<b>")],
)
def test_odd_queries_give_a_french_message(real_store, query, dep):
    res = ph.nearest_pharmacies(real_store, query, departement=dep)
    assert res.results.is_empty() and res.place is None
    assert "introuvable" in res.message or "Département inconnu" in res.message
    assert "<b>" not in res.message


def test_far_from_every_listed_pharmacy(real_store):
    res = ph.nearest_pharmacies(real_store, "73480")  # Bonneval-sur-Arc, high in the Alps
    assert res.results["distance_km"].min() > ph.FAR_KM and "partielles" in res.message


def test_result_count_is_bounded(real_store):
    assert ph.nearest_pharmacies(real_store, "75011", n=10_000).results.height == ph.MAX_RESULTS
    assert ph.nearest_pharmacies(real_store, "75011", n=0).results.height == 1


def test_departements_offered(real_store):
    deps = ph.departements(real_store)
    assert len(deps) == 101 and deps[:2] == ["01", "02"] and "2A" in deps and "976" in deps
    assert deps.index("2A") == deps.index("19") + 1 and deps.index("21") == deps.index("2B") + 1
    names = ph.departement_names(real_store)
    assert names["93"] == "Seine-Saint-Denis" and names["974"] == "La Réunion"


# --- coverage, measured -------------------------------------------------------------------


def test_coverage_is_measured_on_the_data(real_store, shared_dir):
    cov = ph.coverage(real_store)
    santefr = _records(shared_dir / "sites" / SANTEFR)
    sirene = _records(shared_dir / "sites" / SIRENE)
    by = {s.source: s for s in cov.sources}
    assert by["Santé.fr"].pharmacies == len(santefr) == 3757
    assert by["SIRENE"].pharmacies == len(sirene) == 3985
    assert by["Santé.fr"].with_number == sum(bool(re.match(r"\s*\d", r["adresse_voie_1"])) for r in santefr)
    assert by["SIRENE"].with_number == 0 and by["SIRENE"].region == "Île-de-France"
    assert by["Santé.fr"].with_name == by["SIRENE"].with_name == 0
    assert cov.register_departements == list(IDF) and cov.register_count == len(sirene)
    in_idf = sum(r["code_postal"][:2] in IDF for r in santefr)
    assert cov.others_in_register_area == {"Santé.fr": in_idf}
    assert cov.share_in_register_area("Santé.fr") == pytest.approx(in_idf / len(sirene))
    # SIRENE points shared by several pharmacies of one street, counted from the raw file
    points = {}
    for r in sirene:
        key = (r["typeVoieEtablissement"], r["libelleVoieEtablissement"], r["codeCommuneEtablissement"], r["lat"])
        points[key] = points.get(key, 0) + 1
    shared_raw = sum(n for n in points.values() if n > 1)
    assert abs(by["SIRENE"].shared_points - shared_raw) <= 7  # 7 points moved to their commune's centroid
    text = "\n".join(ph.coverage_statement(cov))
    share = f"{100 * in_idf / len(sirene):.1f}".replace(".", ",")
    assert f"soit {share} %" in text and "3\u202f757 pharmacies" in text and "3\u202f985" in text
    assert "la plupart des pharmacies n'y figurent sans doute pas" in text
    assert "ne publie le nom des pharmacies" in text and "vaccination contre la grippe" in text
    assert "aucune adresse n'a de numéro de rue" in text


def test_local_statement(real_store):
    text = ph.local_statement(real_store, "75")
    sites = real_store.table("sites").filter((pl.col("type") == "pharmacie") & (pl.col("departement") == "75"))
    assert f"{sites.height:,}".replace(",", "\u202f") + " pharmacies" in text
    assert "SIRENE" in text and "Santé.fr" in text
    assert ph.local_statement(real_store, None) is None


# --- the reader keeps SIRENE's name, street number and postal code when the extract has them ----


def test_sirene_columns_of_the_insee_api_are_kept(shared_dir, tmp_path):
    """The real extract's rows, with the INSEE API's columns added as a fuller extract has them."""
    (tmp_path / "sites").mkdir()
    (tmp_path / "geo").mkdir()
    (tmp_path / "geo" / "laposte_hexasmal.csv").write_bytes((shared_dir / "geo" / "laposte_hexasmal.csv").read_bytes())
    rows = _records(shared_dir / "sites" / SIRENE)[:6]
    extra = {
        0: ("12", "B", "94120", "PHARMACIE DU CENTRE", "O"),
        1: ("3", "", "", "", "O"),  # no name, no postal code
        2: ("", "", "", "[ND]", "P"),  # partial diffusion: INSEE hides it
        3: ("7", "", "", "PHARMACIE DES ARTS", "P"),  # partial diffusion: never read
    }
    columns = list(rows[0]) + [
        "numeroVoieEtablissement",
        "indiceRepetitionEtablissement",
        "codePostalEtablissement",
        "enseigne1Etablissement",
        "statutDiffusionEtablissement",
    ]
    with open(tmp_path / "sites" / SIRENE, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(columns)
        for i, r in enumerate(rows):
            writer.writerow(list(r.values()) + list(extra.get(i, ("", "", "", "", ""))))
    sites = read_sites(tmp_path).sites
    assert sites.height == 6
    first, second, third, fourth = (sites.row(i, named=True) for i in range(4))
    street = f"{rows[0]['typeVoieEtablissement']} {rows[0]['libelleVoieEtablissement']}"
    assert first["adresse"] == f"12 bis {street}" and first["code_postal"] == "94120"
    assert first["enseigne"] == first["nom"] == "PHARMACIE DU CENTRE"
    assert second["adresse"].startswith("3 ") and second["enseigne"] is None
    assert second["nom"].startswith("Pharmacie — 3 ")
    assert third["enseigne"] is None and "[ND]" not in third["nom"]
    assert fourth["enseigne"] is None and "ARTS" not in fourth["nom"]
    assert ph.street_number(first["adresse"]) == "12 bis"
    # a point with a street number is the pharmacy's; without, only the street's
    assert (first["precision"], second["precision"], third["precision"]) == ("exacte", "exacte", STREET_PRECISION)
    assert {r["precision"] for r in sites.slice(4).iter_rows(named=True)} == {STREET_PRECISION}


def test_the_real_extract_has_neither_name_nor_number(shared_dir):
    header = list(_records(shared_dir / "sites" / SIRENE)[0])
    assert not {"numeroVoieEtablissement", "enseigne1Etablissement"} & set(header)
    header = list(_records(shared_dir / "sites" / SANTEFR)[0])
    assert not {c.lower() for c in header} & {"titre", "nom"}


# --- demo data: names and street numbers ---------------------------------------------------


def test_demo_has_names_and_street_numbers(demo_store):
    res = ph.nearest_pharmacies(demo_store, "75015", n=10)
    r = res.results
    named = r.filter(pl.col("nom").is_not_null())
    assert named.height >= 2 and named["nom"].str.starts_with("PHARMACIE").all()
    assert named["source"].str.contains("SIRENE").all()
    assert r["numero"].is_not_null().sum() >= 5
    assert r.filter(pl.col("nombre") == 2).height == 1  # the two identical SIRENE rows, shown once
    cov = ph.coverage(demo_store)
    assert 0 < sum(s.with_name for s in cov.sources) < sum(s.pharmacies for s in cov.sources)
    assert "Le nom de la pharmacie est publié pour" in "\n".join(ph.coverage_statement(cov))
    sites = demo_store.table("sites")
    assert not sites.filter(pl.col("nom").str.contains("[ND]", literal=True)).height
    # the row whose name INSEE hides ("[ND]") has none
    raw = [r for r in _records(DEMO_RAW_DIR / "sites" / SIRENE) if r["enseigne1Etablissement"] == "[ND]"]
    assert len(raw) == 1
    hidden = sites.filter(pl.col("site_id") == f"sirene:{_row_hash(raw[0])}").row(0, named=True)
    assert hidden["enseigne"] is None and hidden["nom"].startswith("Pharmacie — ")
