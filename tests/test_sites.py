"""Pharmaceutical sites: readers, offline geocoding, validation, demo writer.

Real-data tests read ../shared/data directly (``shared_dir`` skips when it is
absent); bad-input tests write small CSVs in the real column layouts."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import polars as pl
import pytest

from datamed.demo.sites import DEMO_SITES_QUIRKS, FILES, write_demo_sites
from datamed.sources.sites import (
    BY_INSEE,
    BY_NAME_IN_DEPARTEMENT,
    BY_POSTAL_AND_NAME,
    DEPARTEMENTS,
    FIRST_OF_POSTAL,
    KINDS,
    PLACEMENTS,
    PRECISIONS,
    SITES_SCHEMA,
    SOURCE_COORDS,
    SOURCE_COORDS_SWAPPED,
    STREET_PRECISION,
    UNPLACED,
    Gazetteer,
    check_coordinates,
    clean_postal_code,
    in_france,
    normalise_commune,
    read_sites,
    snapshot_of,
)

IREP = "irep_2015_pharma_sites_fr.csv"
FDA_FR = "fda_decrs_france_establishments_2025-08.csv"
FDA_WORLD = "fda_decrs_drug_establishments_2025-08.csv"
FDA_COUNTRY = "fda_decrs_establishments_by_country_2025-08.csv"
SANTEFR = "pharmacies_vaccination_grippe_santefr_2025-10.csv"
SIRENE = "pharmacies_idf_sirene.csv"
PREFIX = {IREP: "irep:", FDA_FR: "fda:", SANTEFR: "santefr:", SIRENE: "sirene:"}


def _records(path: Path, delimiter: str = ",") -> list[dict]:
    with open(path, newline="", encoding="utf-8") as f:
        return [r for r in csv.DictReader(f, delimiter=delimiter) if any((v or "").strip() for v in r.values())]


# --- real data ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def real_dir(shared_dir) -> Path:
    if not (shared_dir / "sites").is_dir() or not (shared_dir / "geo" / "laposte_hexasmal.csv").is_file():
        pytest.skip("shared/data/sites or geo/laposte_hexasmal.csv not found")
    return shared_dir


@pytest.fixture(scope="module")
def real(real_dir):
    return read_sites(real_dir)


@pytest.fixture(scope="module")
def gazetteer(real_dir) -> Gazetteer:
    return Gazetteer.read(real_dir / "geo" / "laposte_hexasmal.csv")


def test_every_real_row_is_kept_or_rejected(real, real_dir):
    by_file = {s["file"]: s for s in real.sources}
    for name in (IREP, FDA_FR, SANTEFR, SIRENE, FDA_WORLD, FDA_COUNTRY):
        n = len(_records(real_dir / "sites" / name))
        src = by_file[name]
        assert src["lines"] == n, name
        assert src["rows"] + src["rejected"] == n, name
        assert src["path"] == f"sites/{name}"
        assert src["dataset"] == ("sites_pays" if name in (FDA_WORLD, FDA_COUNTRY) else "sites")
        assert sum(r.file == src["path"] for r in real.rejects) == src["rejected"]
        if name in PREFIX:  # one site per kept row, identified by its source
            assert real.sites.filter(pl.col("site_id").str.starts_with(PREFIX[name])).height == src["rows"], name
    # the files as described in SOURCES.md: nothing to reject in them
    assert {s["file"]: s["rows"] for s in real.sources if s["file"] in PREFIX} == {
        IREP: len(_records(real_dir / "sites" / IREP)),
        FDA_FR: len(_records(real_dir / "sites" / FDA_FR)),
        SANTEFR: len(_records(real_dir / "sites" / SANTEFR)),
        SIRENE: len(_records(real_dir / "sites" / SIRENE)),
    }
    assert real.rejects == []
    assert by_file[IREP]["snapshot"] == "2015" and by_file[FDA_FR]["snapshot"] == "2025-08"
    assert by_file[SANTEFR]["snapshot"] == "2025-10"
    assert by_file["laposte_hexasmal.csv"]["rows"] == len(_records(real_dir / "geo" / "laposte_hexasmal.csv", ";"))


def test_real_sites_values_are_valid(real):
    s = real.sites
    assert s.schema == pl.Schema(SITES_SCHEMA)
    assert s["site_id"].is_unique().all()
    assert set(s["type"]) <= set(KINDS)
    assert set(s["precision"]) <= set(PRECISIONS)
    assert set(s["placement"]) <= set(PLACEMENTS)
    assert set(s["pays"]) == {"FRA"}
    placed = s.filter(pl.col("latitude").is_not_null())
    assert all(in_france(la, lo) for la, lo in placed.select("latitude", "longitude").iter_rows())
    assert (placed["precision"] != "aucune").all()
    assert set(s.filter(pl.col("latitude").is_null())["precision"]) <= {"aucune"}
    deps = s["departement"].drop_nulls()
    assert set(deps) <= set(DEPARTEMENTS)
    assert s.filter(pl.col("departement").is_not_null() & pl.col("region").is_null()).is_empty()
    # source coordinates of IREP and pharmacies are exact; FDA's are commune centroids
    exact = s.filter(pl.col("placement") == SOURCE_COORDS)
    assert set(exact.filter(pl.col("site_id").str.starts_with("fda:"))["precision"]) == {"centroïde commune"}
    by_number = exact.filter(pl.col("site_id").str.starts_with("irep:") | pl.col("site_id").str.starts_with("santefr:"))
    assert set(by_number["precision"]) == {"exacte"}
    # the SIRENE extract has no street number: its points are the streets', never called exact
    sirene = exact.filter(pl.col("site_id").str.starts_with("sirene:"))
    assert sirene.height > 3000 and set(sirene["precision"]) == {STREET_PRECISION}
    # kinds
    irep = s.filter(pl.col("site_id").str.starts_with("irep:"))
    assert set(irep["type"]) == {"principe_actif", "fabrication", "distribution"}
    fda = s.filter(pl.col("site_id").str.starts_with("fda:"))
    api = fda.filter(pl.col("operations").list.contains("API MANUFACTURE"))
    assert (api["type"] == "principe_actif").all() and api.height > 0
    assert (s.filter(pl.col("source").is_in(["Santé.fr", "SIRENE"]))["type"] == "pharmacie").all()
    # DROM and Corsica are there
    assert {"971", "972", "973", "974", "976", "2A", "2B"} <= set(deps)
    assert s.filter(pl.col("site_id") == "fda:0000001463")["departement"].item() == "63"


def test_real_placement_counts_and_unplaced(real):
    s = real.sites
    counts = dict(s.group_by("placement").len().iter_rows())
    assert counts[SOURCE_COORDS] > 0.99 * s.height
    # the santé.fr row without coordinates is placed from La Poste
    santefr = s.filter(pl.col("source") == "Santé.fr")
    assert santefr.filter(pl.col("placement") != SOURCE_COORDS).height >= 1
    assert santefr["latitude"].null_count() == 0
    # SIRENE points geocoded in another commune (Montreuil-sur-Mer for Montreuil 93...) are replaced
    far = [c for c in real.corrections if "km from the centroid" in c.reason]
    assert far and all(c.file == f"sites/{SIRENE}" for c in far)
    assert s.filter(pl.col("placement") == BY_INSEE).height == len(far)
    # unplaced sites are listed, with a reason, and have no coordinates
    assert set(real.unplaced["site_id"]) == set(s.filter(pl.col("latitude").is_null())["site_id"])
    assert real.unplaced["reason"].str.len_chars().min() > 0
    assert real.unplaced.height <= 3  # the FDA address "Marseille, 323" (malformed postal code)


def test_no_personal_data(real, real_dir):
    cols = set(real.sites.columns) | set(real.countries.columns) | set(real.unplaced.columns)
    assert not [c for c in cols if re.search(r"registrant|contact|mail|phone|tel|titre|agent", c, re.I)]
    strings = [v for c in ("nom", "adresse") for v in real.sites[c].drop_nulls()]
    assert not [v for v in strings if "@" in v]
    # FDA: the firm name only, never the registrant (sometimes a person)
    fr = _records(real_dir / "sites" / FDA_FR)
    registrants = {r["registrant_name"] for r in fr} - {r["firm_name"] for r in fr}
    assert registrants and not registrants & set(real.sites["nom"])
    assert not any(reg in v for reg in registrants if len(reg) > 8 for v in strings if v)


def test_real_countries_equal_the_by_country_file(real, real_dir):
    published = _records(real_dir / "sites" / FDA_COUNTRY)
    world = _records(real_dir / "sites" / FDA_WORLD)
    c = real.countries
    assert c.height == len(published) == len({r["country_iso3"] for r in world})  # 82
    n_api = sum("API MANUFACTURE" in r["operations"].split("; ") for r in world)
    assert c["n_api_manufacture"].sum() == n_api == sum(int(r["n_api_manufacture"]) for r in published)  # 2,452
    mine = {r["country_iso3"]: r for r in c.iter_rows(named=True)}
    for r in published:
        m = mine[r["country_iso3"]]
        assert (m["n_establishments"], m["n_api_manufacture"], m["n_manufacture"]) == (
            int(r["n_establishments"]),
            int(r["n_api_manufacture"]),
            int(r["n_manufacture"]),
        ), r["country_iso3"]
        assert m["share_api"] == pytest.approx(float(r["share_of_api_manufacture_sites"]), abs=1e-5)
    assert c["share_api"].sum() == pytest.approx(1.0)
    assert c["n_api_manufacture"].is_sorted(descending=True)
    assert not [r for r in real.rejects if r.file.endswith(FDA_COUNTRY)]


# --- offline geocoding on the real gazetteer ------------------------------------------
def test_locate_paris_corsica_drom(gazetteer):
    p = gazetteer.locate("75012", "Paris")
    assert (p.insee, p.departement, p.method, p.precision) == ("75112", "75", BY_POSTAL_AND_NAME, "centroïde commune")
    assert 48.8 < p.lat < 48.9 and 2.3 < p.lon < 2.5
    p = gazetteer.locate("20000", "Ajaccio")
    assert (p.insee, p.departement, p.method) == ("2A004", "2A", BY_POSTAL_AND_NAME)
    assert gazetteer.locate("20200", "Bastia").departement == "2B"
    p = gazetteer.locate("97400", "Saint-Denis")
    assert (p.insee, p.departement) == ("97411", "974") and p.lat < -20
    p = gazetteer.locate("97139", "Les Abymes")
    assert (p.insee, p.departement) == ("97101", "971") and 15 < p.lat < 17
    assert gazetteer.locate("69190", "SAINT-FONS").insee == "69199"  # "ST FONS" at La Poste
    assert gazetteer.locate("24190", "Neuvic sur l'Isle").insee == "24309"  # "NEUVIC" at La Poste
    p = gazetteer.locate("99999", "Nulle Part")
    assert (p.lat, p.precision, p.method) == (None, "aucune", UNPLACED)


def test_locate_drom_pharmacies_by_postal_prefix(gazetteer, real_dir):
    drom = [
        r for r in _records(real_dir / "sites" / SANTEFR) if r["code_postal"][:3] in ("971", "972", "973", "974", "976")
    ]
    assert len(drom) > 50
    for r in drom:
        p = gazetteer.locate(r["code_postal"], r["commune"])
        expected = {"97150": "978", "97133": "977"}.get(r["code_postal"], r["code_postal"][:3])
        assert p.departement == expected, (r["code_postal"], r["commune"], p)


def test_locate_cedex_codes_of_the_fda_file(gazetteer, real_dir):
    rows = _records(real_dir / "sites" / FDA_FR)
    cedex = [r for r in rows if "CEDEX" in r["geocoding_precision"]]
    assert len(cedex) == sum("CEDEX" in r["geocoding_precision"] for r in rows) > 0  # SOURCES.md: 10
    for r in cedex:
        p = gazetteer.locate(r["postal_code"], r["city_as_written"])
        assert p.method == BY_NAME_IN_DEPARTEMENT, r
        assert p.insee == r["code_commune_insee"], r
    p = gazetteer.locate("92042 CEDEX", "Nanterre")
    assert (p.insee, p.departement, p.method) == ("92050", "92", BY_NAME_IN_DEPARTEMENT)
    p = gazetteer.locate("59011", "Lille Cedex")
    assert (p.insee, p.method) == ("59350", BY_NAME_IN_DEPARTEMENT)


def test_locate_agrees_with_the_fda_geocoding(gazetteer, real_dir):
    rows = [r for r in _records(real_dir / "sites" / FDA_FR) if "postal code + name" in r["geocoding_precision"]]
    agree = sum(gazetteer.locate(r["postal_code"], r["city_as_written"]).insee == r["code_commune_insee"] for r in rows)
    assert agree == len(rows)
    first = [r for r in _records(real_dir / "sites" / FDA_FR) if "first commune" in r["geocoding_precision"]]
    methods = {gazetteer.locate(r["postal_code"], r["city_as_written"]).method for r in first}
    assert methods <= {FIRST_OF_POSTAL, BY_POSTAL_AND_NAME}


# --- helpers --------------------------------------------------------------------------
def test_helpers():
    assert clean_postal_code("F-02300") == "02300"
    assert clean_postal_code("38 300") == "38300"
    assert clean_postal_code("92042 CEDEX") == "92042"
    assert clean_postal_code("323") is None and clean_postal_code("7501A") is None and clean_postal_code(None) is None
    assert normalise_commune("St-Maurice-l'Exil") == normalise_commune("ST MAURICE L EXIL") == "saint maurice l exil"
    assert normalise_commune("Paris 5e") == normalise_commune("PARIS 05") == "paris 05"
    assert normalise_commune("Lille Cedex 9") == "lille"
    assert snapshot_of("fda_decrs_drug_establishments_2025-08.csv") == "2025-08"
    assert snapshot_of("irep_2015_pharma_sites_fr.csv") == "2015"
    assert snapshot_of("pharmacies_idf_sirene.csv") is None
    assert check_coordinates("48.85", "2.35")[2] == "ok"
    assert check_coordinates("2.35", "48.85") == (48.85, 2.35, "swapped")
    assert check_coordinates("-61.5", "16.2") == (16.2, -61.5, "swapped")  # Guadeloupe
    assert check_coordinates("95", "2.35")[2] == "out of range"
    assert check_coordinates("48.85", "200")[2] == "out of range"
    assert check_coordinates("40.71", "-74.0")[2] == "outside France"
    assert check_coordinates("", "")[2] == "absent"
    assert check_coordinates("abc", "2")[2] == "invalid"


# --- bad input in the real column layouts ---------------------------------------------
SANTEFR_HEADER = "finess_et,adresse_voie_1,adresse_voie_2,code_postal,commune,latitude,longitude"
IREP_HEADER = (
    "identifiant_irep,nom_etablissement,siret,adresse,code_postal,commune,departement,region_2015,"
    "x_lambert2e,y_lambert2e,code_ape,libelle_ape,code_eprtr,libelle_eprtr,latitude,longitude,"
    "annee_donnees,selection"
)
FDA_FR_HEADER = (
    "fei_number,duns_number,firm_name,address,operations,api_manufacture,manufacture,"
    "registration_expiration_date,registrant_name,registrant_duns,exclusion_flag,postal_code,"
    "city_as_written,code_commune_insee,nom_commune_laposte,latitude_approx,longitude_approx,"
    "geocoding_precision"
)
SIRENE_HEADER = (
    "activitePrincipaleEtablissement,typeVoieEtablissement,libelleVoieEtablissement,"
    "libelleCommuneEtablissement,codeCommuneEtablissement,departement,geometry,long,lat"
)


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("demo_sites")
    write_demo_sites(out)
    return out


@pytest.fixture()
def raw(tmp_path, demo_dir) -> Path:
    """A raw folder with the demo gazetteer and no sites file."""
    (tmp_path / "geo").mkdir()
    (tmp_path / "sites").mkdir()
    (tmp_path / "geo" / "laposte_hexasmal.csv").write_bytes((demo_dir / FILES["laposte"]).read_bytes())
    return tmp_path


def _write(raw: Path, name: str, header: str, *lines: str) -> None:
    (raw / "sites" / name).write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")


def _site(result, site_id: str) -> dict:
    rows = result.sites.filter(pl.col("site_id") == site_id).to_dicts()
    assert len(rows) == 1, site_id
    return rows[0]


def test_bad_coordinates(raw):
    _write(
        raw,
        SANTEFR,
        SANTEFR_HEADER,
        "750000001,1 Rue A,,75012,Paris,2.39,48.84",  # swapped
        "750000002,2 Rue B,,75015,Paris,95.2,2.29",  # latitude out of range
        "750000003,3 Rue C,,75018,Paris,48.89,200",  # longitude out of range
        "750000004,4 Rue D,,69003,Lyon,40.71,-74.0",  # New York: outside France, not swapped
        "750000005,5 Rue E,,44000,Nantes,abc,",  # unparseable
        "971000006,6 Rue F,,97139,Les Abymes,-61.50,16.27",
    )  # swapped, in the DROM
    res = read_sites(raw)
    assert res.rejects == [] and res.sites.height == 6
    s = _site(res, "santefr:750000001")
    assert (s["latitude"], s["longitude"], s["placement"], s["precision"]) == (
        48.84,
        2.39,
        SOURCE_COORDS_SWAPPED,
        "exacte",
    )
    for fin, insee in (("750000002", "75115"), ("750000003", "75118"), ("750000004", "69383"), ("750000005", "44109")):
        s = _site(res, f"santefr:{fin}")
        assert (s["placement"], s["precision"], s["code_insee"]) == (BY_POSTAL_AND_NAME, "centroïde commune", insee)
        assert in_france(s["latitude"], s["longitude"])
    s = _site(res, "santefr:971000006")
    assert (s["latitude"], s["departement"], s["region"]) == (16.27, "971", "Guadeloupe")
    reasons = {c.line: c.reason for c in res.corrections}
    assert "swapped" in reasons[2] and "out of range" in reasons[3] and "out of range" in reasons[4]
    assert "outside France" in reasons[5] and "invalid" in reasons[6] and "swapped" in reasons[7]


def test_malformed_postal_codes(raw):
    _write(
        raw,
        IREP,
        IREP_HEADER,
        "038.00001,FICTIVA SANTE,,1 rue X,3800,GRENOBLE,ISERE,RHONE-ALPES,,,2120Z,Fabrication de préparations "
        "pharmaceutiques,,,,,2015,naf_pharma",  # malformed, no coordinates, département known: placed
        "038.00002,FICTIVA SANTE,,1 rue X,38 000,GRENOBLE,ISERE,RHONE-ALPES,,,2120Z,x,,,,,2015,naf_pharma",
    )
    _write(raw, SANTEFR, SANTEFR_HEADER, "440000001,1 Rue A,,44O00,Nantes,,")  # letter O: unplaced
    res = read_sites(raw)
    assert res.rejects == []
    s = _site(res, "irep:038.00001")
    assert (s["placement"], s["code_insee"], s["departement"]) == (BY_NAME_IN_DEPARTEMENT, "38185", "38")
    s = _site(res, "irep:038.00002")  # "38 000" is cleaned
    assert (s["placement"], s["code_postal"]) == (BY_POSTAL_AND_NAME, "38000")
    s = _site(res, "santefr:440000001")
    assert (s["latitude"], s["placement"], s["precision"], s["code_postal"]) == (None, UNPLACED, "aucune", None)
    assert res.unplaced.to_dicts()[0]["site_id"] == "santefr:440000001"
    assert "malformed postal code '44O00'" in res.unplaced["reason"][0]
    assert any("malformed postal code '3800'" in c.reason for c in res.corrections)


def test_unknown_kinds_and_malformed_records_are_rejected(raw):
    fda = (
        '{fei},123456789,FIRM {fei},"1 rue X, Lyon,  69003, France (FRA)",{ops},0,1,2025-12-31,'
        "Jean Personne,123456789,N,69003,Lyon,69383,LYON 03,45.75,4.87,commune (postal code + name match)"
    )
    _write(
        raw,
        FDA_FR,
        FDA_FR_HEADER,
        fda.format(fei="1000000001", ops="MANUFACTURE; PACK"),
        fda.format(fei="1000000002", ops="COMPOUNDING"),
        fda.format(fei="1000000003", ops=""),
        fda.format(fei="1000000004", ops="ANALYSIS; COMPOUNDING"),
        "1000000005,too,few,fields",
    )
    _write(
        raw,
        IREP,
        IREP_HEADER,
        "069.00001,X,,1 rue,69003,LYON,RHONE,RHONE-ALPES,,,0111Z,Culture,,,45.75,4.87,2015,naf_pharma",
    )
    _write(raw, SIRENE, SIRENE_HEADER, "47.74Z,rue,X,LYON 03,69383,69,POINT (4.87 45.75),4.87,45.75")
    res = read_sites(raw)
    by_line = {(r.file, r.line): r.reason for r in res.rejects}
    assert by_line[(f"sites/{FDA_FR}", 3)].startswith("unknown kind")
    assert by_line[(f"sites/{FDA_FR}", 4)].startswith("unknown kind")
    assert "expected 18 fields" in by_line[(f"sites/{FDA_FR}", 6)]
    assert by_line[(f"sites/{IREP}", 2)].startswith("unknown kind")
    assert by_line[(f"sites/{SIRENE}", 2)].startswith("unknown kind")
    assert set(res.sites["site_id"]) == {"fda:1000000001", "fda:1000000004"}
    assert _site(res, "fda:1000000001")["type"] == "fabrication"
    assert _site(res, "fda:1000000004")["type"] == "analyse_conditionnement"
    assert "Jean Personne" not in str(res.sites.to_dicts())
    src = {s["file"]: s for s in res.sources}
    assert (src[FDA_FR]["lines"], src[FDA_FR]["rows"], src[FDA_FR]["rejected"]) == (5, 2, 3)


def test_empty_and_headless_files_raise(raw):
    (raw / "sites" / SANTEFR).write_bytes(b"")
    with pytest.raises(ValueError, match=re.escape(SANTEFR)):
        read_sites(raw)
    _write(raw, SANTEFR, SANTEFR_HEADER)
    with pytest.raises(ValueError, match=re.escape(SANTEFR)):
        read_sites(raw)
    _write(raw, SANTEFR, "finess,adresse", "1,2")
    with pytest.raises(ValueError, match="missing column"):
        read_sites(raw)
    (raw / "sites" / SANTEFR).unlink()
    (raw / "geo" / "laposte_hexasmal.csv").write_bytes(b"")
    with pytest.raises(ValueError, match="laposte_hexasmal.csv"):
        read_sites(raw)


def test_without_gazetteer_and_without_files(raw, tmp_path):
    empty = read_sites(tmp_path / "nothing")
    assert empty.sites.is_empty() and empty.countries.is_empty() and empty.sources == []
    (raw / "geo" / "laposte_hexasmal.csv").unlink()
    _write(
        raw, SANTEFR, SANTEFR_HEADER, "750000001,1 Rue A,,75012,Paris,48.84,2.39", "750000002,2 Rue B,,75015,Paris,,"
    )
    res = read_sites(raw)
    assert _site(res, "santefr:750000001")["placement"] == SOURCE_COORDS
    assert _site(res, "santefr:750000001")["departement"] == "75"
    assert "no La Poste file" in res.unplaced.filter(pl.col("site_id") == "santefr:750000002")["reason"].item()


def test_country_counts_checked_against_the_by_country_file(raw):
    world_header = (
        "fei_number,duns_number,firm_name,address,country_iso3,country_name,operations,api_manufacture,"
        "manufacture,registration_expiration_date,registrant_name,registrant_duns,exclusion_flag"
    )
    _write(
        raw,
        FDA_WORLD,
        world_header,
        '1,1,A,"x, India (IND)",IND,India,API MANUFACTURE; ANALYSIS,1,0,2025-12-31,A,1,N',
        '2,2,B,"x, India (IND)",IND,India,MANUFACTURE,0,1,2025-12-31,B,2,N',
        '3,3,C,"x, France (FRA)",FRA,France,API MANUFACTURE; MANUFACTURE,1,1,2025-12-31,C,3,N',
        '4,4,D,"x",,Nowhere,MANUFACTURE,0,1,2025-12-31,D,4,N',
    )
    country_header = (
        "country_iso3,country_name,n_establishments,n_api_manufacture,n_manufacture,share_of_api_manufacture_sites"
    )
    _write(raw, FDA_COUNTRY, country_header, "IND,India,2,1,1,0.5", "FRA,France,1,2,1,0.5")
    res = read_sites(raw)
    assert res.countries.select("country_iso3", "n_establishments", "n_api_manufacture", "n_manufacture").rows() == [
        ("IND", 2, 1, 1),
        ("FRA", 1, 1, 1),
    ]  # most API sites first, then most establishments
    assert res.countries["share_api"].to_list() == [0.5, 0.5]
    reasons = [r.reason for r in res.rejects]
    assert any(r.startswith("invalid country_iso3") for r in reasons)
    assert any(r.startswith("differs from the world file: n_api_manufacture 2 != 1") for r in reasons)
    assert res.sites.is_empty()  # the world file is not put on the France map
    src = {x["file"]: x for x in res.sources}
    assert (src[FDA_WORLD]["rows"], src[FDA_WORLD]["rejected"]) == (3, 1)
    assert (src[FDA_COUNTRY]["rows"], src[FDA_COUNTRY]["rejected"]) == (1, 1)
    _write(raw, FDA_COUNTRY, country_header, "IND,India,2,1,1,0.5")  # FRA missing: noted, world counts kept
    res = read_sites(raw)
    assert res.countries.height == 2 and not [r for r in res.rejects if r.file.endswith(FDA_COUNTRY)]
    assert [c.reason for c in res.corrections] == ["country FRA of the world file is missing here"]
    _write(raw, FDA_COUNTRY, country_header, "IND,India,2,1,1,0.5", "FRA,France,1,2,1,0.5")
    (raw / "sites" / FDA_WORLD).unlink()  # the by-country file alone
    res = read_sites(raw)
    assert dict(res.countries.select("country_iso3", "n_api_manufacture").iter_rows()) == {"FRA": 2, "IND": 1}


# --- demo -----------------------------------------------------------------------------
def test_demo_is_deterministic(demo_dir, tmp_path):
    summary = write_demo_sites(tmp_path / "a")
    assert set(summary) == set(FILES.values())
    for rel in FILES.values():
        assert (tmp_path / "a" / rel).read_bytes() == (demo_dir / rel).read_bytes(), rel
    write_demo_sites(tmp_path / "b", seed=7)
    assert (tmp_path / "b" / FILES["santefr"]).read_bytes() != (demo_dir / FILES["santefr"]).read_bytes()


def test_demo_reads_with_its_quirks(demo_dir):
    res = read_sites(demo_dir)
    for s in res.sources:  # every row accounted for
        assert s["rows"] + s["rejected"] == s["lines"]
    sites = res.sites
    assert sites["site_id"].is_unique().all()
    assert set(sites["type"]) == set(KINDS)
    q = DEMO_SITES_QUIRKS
    s = _site(res, q["swapped_coordinates"]["site_id"])
    assert s["placement"] == SOURCE_COORDS_SWAPPED and in_france(s["latitude"], s["longitude"]) and s["latitude"] > 47
    s = _site(res, q["missing_coordinates"]["site_id"])
    assert (s["placement"], s["code_insee"]) == (BY_POSTAL_AND_NAME, "69199")
    s = _site(res, q["out_of_range_coordinates"]["site_id"])
    assert s["placement"] == BY_POSTAL_AND_NAME and s["latitude"] < 90
    s = _site(res, q["malformed_postal_code"]["site_id"])
    assert (s["placement"], s["code_insee"]) == (BY_NAME_IN_DEPARTEMENT, "38185")
    assert res.unplaced["site_id"].to_list() == [q["unplaced"]["site_id"]]
    assert [r.reason.split(" (")[0] for r in res.rejects] == ["unknown kind"]
    assert q["unknown_operation"]["fei_number"] in res.rejects[0].raw
    s = _site(res, q["cedex"]["site_id"])
    assert (s["code_postal"], s["code_insee"], s["departement"]) == ("59011", "59350", "59")
    far = sites.filter(pl.col("placement") == BY_INSEE)
    assert far["code_insee"].to_list() == [q["far_from_commune"]["commune"]]
    assert sites.filter(pl.col("site_id").str.contains(r"^sirene:[0-9a-f]{12}-2$")).height == 1
    assert {"2A", "971", "974", "978"} <= set(sites["departement"].drop_nulls())
    # fictional firms only, no registrant
    from datamed.demo import GENERIC_HOLDERS, PRINCEPS_HOLDERS

    firms = set(PRINCEPS_HOLDERS) | {h for _, h in GENERIC_HOLDERS}
    industrial = sites.filter(pl.col("source").is_in(["IREP", "FDA DECRS"]))
    assert all(any(n.startswith(f) for f in firms) for n in industrial["nom"])
    assert "Camille" not in " ".join(sites["nom"])  # the person-like registrant
    # the by-country file agrees with the world file
    assert not [r for r in res.rejects if "by_country" in r.file]
    assert res.countries["n_api_manufacture"].sum() > 0
