"""AppTest: every page and deep link, on the real data and on the demo data."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from datamed.core.config import REPO_ROOT
from datamed.store import Store
from datamed.ui import routes
from datamed.views.search import SearchIndex


def open_page(monkeypatch, prepared: Path, page: str | None = None, **params) -> AppTest:
    monkeypatch.setenv("DATAMED_PREPARED", str(prepared))
    at = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=120)
    for key, value in params.items():
        at.query_params[key] = value
    if page:
        at.switch_page(page)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def texts(at: AppTest) -> str:
    parts = [e.value for e in at.markdown] + [e.value for e in at.caption] + [e.body for e in at.info]
    parts += (
        [e.value for e in at.title]
        + [e.value for e in at.header]
        + [e.body for e in at.warning]
        + [e.body for e in at.error]
    )
    return "\n".join(str(p) for p in parts)


@pytest.mark.parametrize(
    "route, present, absent",
    [
        (
            routes.SHORTAGES,
            ["Base de données publique des médicaments", "signalements de ruptures par classe ATC"],
            ["pharmacovigilance", "FDA"],
        ),
        (routes.SITES, ["U.S. FDA", "Géorisques", "codes postaux"], ["pharmacovigilance", "classification ATC"]),
        (routes.PHARMACIES, ["Santé.fr", "SIRENE", "codes postaux"], ["FDA", "Géorisques", "pharmacovigilance"]),
        (routes.NATIONAL, ["notifiés à la pharmacovigilance"], ["FDA", "ruptures par classe"]),
        (
            routes.SEARCH,
            ["Base de données publique des médicaments", "classification ATC"],
            ["pharmacovigilance", "FDA"],
        ),
    ],
    ids=lambda x: getattr(x, "url_path", ""),
)
def test_footer_names_the_sources_of_its_page(monkeypatch, real_prepared, route, present, absent):
    at = open_page(monkeypatch, real_prepared, route.file)
    footer = next(c.value for c in at.caption if c.value.startswith("Sources : "))
    assert all(p in footer for p in present), footer
    assert not any(a in footer for a in absent), footer
    assert "outil indépendant" in footer


def test_url_paths_differ_from_file_stems():
    for r in routes.ROUTES:
        assert r.url_path != Path(r.file).stem, r
        assert (REPO_ROOT / r.file).exists(), r.file
    assert len({r.url_path for r in routes.ROUTES}) == len(routes.ROUTES)


def test_aliases_point_to_pages_and_never_shadow_one():
    served = {r.url_path for r in routes.ROUTES if r is not routes.HOME}  # the home page is served at "/"
    assert not set(routes.ALIASES) & served
    assert routes.alias_of("accueil") is routes.HOME and routes.alias_of("Accueil") is routes.HOME
    assert routes.alias_of("effets-indésirables") is routes.NATIONAL  # accents and case ignored
    assert routes.alias_of("index.html") is routes.HOME
    assert routes.alias_of("nimporte-quoi") is None
    assert (REPO_ROOT / routes.NOT_FOUND.file).exists() and routes.NOT_FOUND.hidden


def test_pages_are_thin():
    """Pages read parameters, call datamed and render: no data access of their own."""
    for r in (*routes.ROUTES, routes.NOT_FOUND):
        tree = ast.parse((REPO_ROOT / r.file).read_text(encoding="utf-8"))
        names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
        attrs = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
        assert not {"read_parquet", "read_csv", "scan_parquet"} & (names | attrs), r.file
        assert "open" not in names, r.file  # the builtin; `tab.open` (lazy tabs) is fine


# --- real data ------------------------------------------------------------------------


def test_home_real(monkeypatch, real_prepared):
    at = open_page(monkeypatch, real_prepared)
    assert at.title[0].value == "DataMed"
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Médicaments (spécialités)"] == "15\u202f799"
    assert "Ruptures et tensions" in metrics
    assert not at.warning, "no demo banner on real data"
    body = texts(at)
    for section in ("Médicaments", "Effets indésirables", "Ruptures", "Sites", "Données"):
        assert f"**{section}**" in body
    assert "Base de données publique des médicaments (fichiers du 27/01/2026" in body
    assert at.text_input(key="global_search") is not None


def test_global_search_submits_to_results(monkeypatch, real_prepared):
    at = open_page(monkeypatch, real_prepared)
    at.text_input(key="global_search").input("doliprane")
    at.button[0].click().run()
    assert not at.exception
    assert at.query_params.get("q") in ("doliprane", ["doliprane"])
    assert "Recherche" in [t.value for t in at.title]


def test_medicine_deep_link_real(monkeypatch, real_prepared):
    at = open_page(monkeypatch, real_prepared, routes.MEDICINE.file, cis="60002283")
    assert at.title[0].value == "ANASTROZOLE ACCORD 1 mg, comprimé pelliculé"
    headers = [h.value for h in at.header]
    for h in (
        "Identité",
        "Composition",
        "Présentations, prix et remboursement",
        "Groupe générique",
        "Avis de la Haute Autorité de santé",
        "Conditions de prescription et de délivrance",
        "Disponibilité",
        "Références",
    ):
        assert h in headers, h
    body = texts(at)
    assert "L02BG03" in body and "liste I" in body
    assert "extrait.php?specid=60002283" in body
    frame = next(d.value for d in at.dataframe if "CIP13" in d.value.columns)
    assert set(frame["CIP13"]) == {"3400949497294", "3400949497706"}


def test_medicine_in_shortage(monkeypatch, real_prepared, real_store):
    dispo = real_store.table("disponibilites")
    cis = dispo.filter(pl.col("code_statut") == 1)["cis"][0]
    at = open_page(monkeypatch, real_prepared, routes.MEDICINE.file, cis=cis)
    body = texts(at)
    assert ":red[:material/error: **Rupture de stock**]" in body
    assert "Demandez conseil à votre pharmacien ou médecin." in body


@pytest.mark.parametrize(
    "cis, message",
    [
        ("abc", "n'est pas un code CIS valide"),
        ("12345678", "Aucun médicament ne porte le code CIS 12345678"),
        ("", "Aucun médicament n'est indiqué"),
        ("6000228", "n'est pas un code CIS valide"),
    ],
)
def test_medicine_not_found(monkeypatch, real_prepared, cis, message):
    at = open_page(monkeypatch, real_prepared, routes.MEDICINE.file, cis=cis)
    assert at.title[0].value == "Médicament introuvable"
    assert message in texts(at)


def test_medicine_not_found_suggests(monkeypatch, real_prepared):
    at = open_page(monkeypatch, real_prepared, routes.MEDICINE.file, cis="doliprane")
    assert "Vouliez-vous dire" in texts(at)


def test_substance_deep_link_real(monkeypatch, real_prepared):
    at = open_page(monkeypatch, real_prepared, routes.SUBSTANCE.file, substance="02202")
    assert at.title[0].value == "Paracétamol"
    assert "N02BE01" in texts(at)
    table = next(d.value for d in at.dataframe if "Dénomination" in d.value.columns)
    assert len(table) > 100


def test_substance_filter_from_url(monkeypatch, real_prepared):
    at = open_page(monkeypatch, real_prepared, routes.SUBSTANCE.file, substance="02202", filtre="doliprane")
    table = next(d.value for d in at.dataframe if "Dénomination" in d.value.columns)
    assert 0 < len(table) < 100 and table["Dénomination"].str.contains("DOLIPRANE").all()


def test_substance_unknown(monkeypatch, real_prepared):
    at = open_page(monkeypatch, real_prepared, routes.SUBSTANCE.file, substance="paracetamol")
    assert at.title[0].value == "Substance introuvable"
    assert "Vouliez-vous dire" in texts(at)


@pytest.mark.parametrize("q", ["doliprane", "3400949497294", "N02BE01", "🙂", "x" * 5000, "'; DROP TABLE x; --"])
def test_search_deep_link(monkeypatch, real_prepared, q):
    at = open_page(monkeypatch, real_prepared, routes.SEARCH.file, q=q)
    body = texts(at)
    if q in ("🙂", "x" * 5000):
        assert "Aucun résultat" in body
    elif q == "doliprane":
        # an honest count: the first 30 of all the DOLIPRANE medicines found
        total = SearchIndex.from_store(Store(real_prepared)).find("doliprane", limit=200).total
        assert total > 30 and f"Les 30 premiers résultats sur {total} pour « doliprane »" in body
        assert "Pour voir les autres, précisez la recherche" in body
        badges = [m.value for m in at.markdown if "-badge[" in m.value]
        assert badges.count(":blue-badge[Spécialité]") == 30
        # each medicine says whether a shortage is reported, in words (not by colour alone)
        availability = ("Pas de rupture signalée", "Rupture de stock", "Tension d'approvisionnement")
        assert sum(any(a in b for a in availability) for b in badges) == 30


def test_a_dafalgan_codeine_is_marked_as_not_the_typed_dose(monkeypatch, real_prepared):
    """'dafalgan 1g': the codeine combinations (500 mg + 30 mg) follow the 1 g ones, marked
    « Pas en 1 g », not "Autre dosage" (they are another composition, not another strength)."""
    at = open_page(monkeypatch, real_prepared, routes.SEARCH.file, q="dafalgan 1g")
    badges = [m.value for m in at.markdown if "-badge[" in m.value]
    assert any("Pas en 1 g" in b for b in badges) and not any("Autre dosage" in b for b in badges)


def test_catalogue_deep_links(monkeypatch, real_prepared):
    at = open_page(monkeypatch, real_prepared, routes.CATALOGUE.file, atc="N02BE")
    assert at.dataframe[0].value["ATC"].str.startswith("N02BE").all()
    at = open_page(monkeypatch, real_prepared, routes.CATALOGUE.file, titulaire="ARROW GENERIQUES")
    assert len(at.dataframe[0].value) > 10
    at = open_page(monkeypatch, real_prepared, routes.CATALOGUE.file, atc="ZZZ")
    assert "inconnue" in texts(at)


def test_data_page_real(monkeypatch, real_prepared):
    at = open_page(monkeypatch, real_prepared, routes.DATA.file)
    sources = next(d.value for d in at.dataframe if "Fichier" in d.value.columns and "SHA-256" in d.value.columns)
    assert "bdpm/2026-01-27/CIS_bdpm.txt" in set(sources["Fichier"])
    rejects = next(d.value for d in at.dataframe if "Motif" in d.value.columns)
    assert (rejects["Fichier"] == "ansm_pharmacovigilance/sa_data_annee.json").any()
    metrics = {m.label: m.value for m in at.metric}
    # 412 pharmacovigilance exposures set aside + 8 site coordinates or postal codes corrected
    # the one availability line dated "returned before it started" is kept and flagged, not rejected
    assert metrics["Lignes rejetées"] == "0" and metrics["Valeurs écartées"] == "420"
    columns = next(d.value for d in at.dataframe if "Verdict" in d.value.columns)
    assert ((columns["Colonne"] == "TYP_NOTIF") & (columns["Verdict"] == "inutilisable")).any()
    catalogue = at.dataframe[0].value
    assert {"specialites", "ei_soc", "ruptures_episodes", "sites", "qualite"} <= set(catalogue["jeu"])
    assert not {"rejets", "soc", "atc", "risque_ruptures"} & set(catalogue["jeu"])  # internal or licensed
    assert catalogue.loc[catalogue["jeu"] == "specialites", "Lignes"].item() == "15\u202f799"
    assert catalogue.loc[catalogue["jeu"] == "specialites", "Fraîcheur"].item() == "27/01/2026"
    assert (catalogue["Adresse"] == "?jeu=" + catalogue["jeu"]).all()
    # disclosure control: cells and cases withheld per table, and the audit's verdict
    protection = next(d.value for d in at.dataframe if "Cellules masquées" in d.value.columns)
    by_table = protection.set_index(["Tableau", "Effectif"])
    row = by_table.loc[("Effets indésirables par substance et classe d'âge", "cas")]
    assert row["Cellules"] == "4\u202f275" and row["Cellules exposées (audit)"] == "0"
    assert row["Cas masqués (substances au total publié)"].endswith(" %")
    assert row["Intervalle le plus étroit"] not in ("—", "") and int(row["Intervalle le plus étroit"]) >= 10
    assert (protection["Cellules exposées (audit)"] == "0").all()
    assert "aucune exposée" in texts(at)


# --- demo data ----------------------------------------------------------------------------


@pytest.mark.parametrize("route", [r for r in routes.ROUTES], ids=lambda r: r.url_path)
def test_every_page_on_demo_shows_banner(monkeypatch, demo_prepared, demo_store, route):
    params = {}
    if route is routes.MEDICINE:
        params = {"cis": demo_store.table("specialites")["cis"][0]}
    elif route is routes.SUBSTANCE:
        params = {"substance": demo_store.table("substances")["code_substance"][0]}
    elif route is routes.SEARCH:
        params = {"q": demo_store.table("substances")["denomination"][0]}
    at = open_page(monkeypatch, demo_prepared, route.file, **params)
    assert any("Données de démonstration" in w.body for w in at.warning), route
    assert "données de démonstration synthétiques" in texts(at)
    # the footer links to the accessibility statement (except on the statement itself)
    labels = [link.proto.label for link in at.get("page_link")]
    assert ("Accessibilité : partiellement conforme" in labels) == (route is not routes.ACCESSIBILITY), labels


def test_demo_rejects_are_listed(monkeypatch, demo_prepared):
    at = open_page(monkeypatch, demo_prepared, routes.DATA.file)
    rejects = next(d.value for d in at.dataframe if "Motif" in d.value.columns)
    assert len(rejects) >= 1 and {"Fichier", "Ligne", "Motif"} <= set(rejects.columns)
    # reasons in French (the dataset keeps the pipeline's English)
    motifs = " ".join(rejects["Motif"])
    assert "champs séparés par des tabulations" in motifs and "corrigée, ligne gardée" in motifs
    assert not re.search(r"\b(corrected|expected|found|unknown|invalid|greater|missing)\b", motifs), motifs


@pytest.mark.slow
def test_serve_builds_the_demo_data_on_first_start(monkeypatch, tmp_path):
    """``python3 -m datamed serve`` prepares the demo data before the server starts."""
    from datamed.serve import ensure_prepared

    prepared = tmp_path / "prepared"
    monkeypatch.delenv("DATAMED_RAW", raising=False)
    assert ensure_prepared(prepared) is None
    assert (prepared / "manifest.json").exists()
    at = open_page(monkeypatch, prepared)
    assert any("Données de démonstration" in w.body for w in at.warning)
    assert at.metric[0].value != "0"


@pytest.mark.slow
def test_serve_with_broken_raw_gives_one_line_error(tmp_path):
    from datamed.serve import ensure_prepared

    raw = tmp_path / "raw/bdpm/2026-01-27"
    raw.mkdir(parents=True)
    (raw / "CIS_bdpm.txt").write_bytes(b"\x00garbage")
    error = ensure_prepared(tmp_path / "prepared", tmp_path / "raw")
    assert error.startswith("error: cannot prepare the data") and "binary content" in error and "\n" not in error
    assert not (tmp_path / "prepared").exists()


def test_app_without_prepared_data_shows_maintenance_and_builds_nothing(monkeypatch, tmp_path):
    """The app never builds (a missing production folder must not turn into demo data)."""
    monkeypatch.delenv("DATAMED_RAW", raising=False)
    for route in (None, routes.MEDICINE.file, routes.DATA.file):
        at = open_page(monkeypatch, tmp_path / "prepared", route, cis="60002283")
        assert "momentanément indisponible" in at.error[0].value
        assert "Traceback" not in texts(at)
    assert not (tmp_path / "prepared").exists()


@pytest.mark.slow
def test_pages_render_with_only_the_main_file(monkeypatch, tmp_path, shared_dir):
    """A raw folder with CIS_bdpm alone: other datasets are empty but typed."""
    import json
    import shutil

    from datamed.pipeline.build import build

    raw = tmp_path / "raw/bdpm/2026-01-27"
    raw.mkdir(parents=True)
    shutil.copy(shared_dir / "bdpm/2026-01-27/CIS_bdpm.txt", raw)
    prepared = tmp_path / "prepared"
    build(tmp_path / "raw", prepared)
    manifest = json.loads((prepared / "manifest.json").read_text(encoding="utf-8"))
    assert "CIS_COMPO_bdpm" in manifest["missing_sources"] and "ATC" in manifest["missing_sources"]
    for route, params in [
        (None, {}),
        (routes.MEDICINE.file, {"cis": "60002283"}),
        (routes.SUBSTANCE.file, {"substance": "02202"}),
        (routes.SEARCH.file, {"q": "anastrozole"}),
        (routes.CATALOGUE.file, {"titulaire": "ARROW GENERIQUES"}),
        (routes.DATA.file, {}),
    ]:
        open_page(monkeypatch, prepared, route, **params)  # renders without an exception
    med = open_page(monkeypatch, prepared, routes.MEDICINE.file, cis="60002283")
    assert med.title[0].value.startswith("ANASTROZOLE ACCORD")
    assert "n'est pas publiée" in texts(med)


def test_catalogue_filters_are_kept_in_the_url(monkeypatch, real_prepared):
    at = open_page(monkeypatch, real_prepared, routes.CATALOGUE.file, atc="N02BE")
    assert at.selectbox(key="url_atc").value == "N02BE"
    at.selectbox(key="url_atc").select("N02AJ").run()
    assert not at.exception
    assert at.query_params["atc"] in ("N02AJ", ["N02AJ"])
    assert at.dataframe[0].value["ATC"].str.startswith("N02AJ").all()
    at.selectbox(key="url_titulaire").select("ARROW GENERIQUES").run()
    assert at.query_params["titulaire"] in ("ARROW GENERIQUES", ["ARROW GENERIQUES"])


# --- adverse effects -------------------------------------------------------------------------


def test_substance_page_adverse_effects_section(monkeypatch, real_prepared):
    at = open_page(monkeypatch, real_prepared, routes.SUBSTANCE.file, substance="42215")
    body = texts(at)
    assert "Effets indésirables déclarés" in [h.value for h in at.header]
    assert "300 cas d'effets indésirables ont été déclarés" in body
    assert "ne prouve pas que le médicament en soit la cause" in body
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Cas déclarés (2014-2018)"] == "300"
    assert "Méthode" in [e.label for e in at.expander]


def test_fraction_substance_page_shows_its_active_substance_reports(monkeypatch, real_prepared, real_store):
    """« Amoxicilline anhydre » (05248) is the therapeutic fraction (FT) in which Augmentin's dose
    is expressed; reports name its salts (trihydratée 28165, sodique 00872), so its page shows
    the moiety's figures, like the medicine page, instead of "no data"."""
    from datamed.views import adverse

    assert adverse.linked_codes(real_store, "05248") == ["00872", "28165"]
    assert adverse.linked_codes(real_store, "02202") == ["02202"]  # linked itself: unchanged
    [amox] = adverse.profiles_for_substance(real_store, "05248")
    assert amox.ei_id == "fraction-amoxicilline" and amox.n_cas == 13348
    assert [p.ei_id for p in adverse.profiles_for_substance(real_store, "28165")] == [amox.ei_id]
    at = open_page(monkeypatch, real_prepared, routes.SUBSTANCE.file, substance="05248")
    body = texts(at)
    assert "Aucune donnée de pharmacovigilance" not in body
    assert "13\u202f348 cas d'effets indésirables ont été déclarés" in body
    assert "fraction thérapeutique" in body
    at = open_page(monkeypatch, real_prepared, routes.SUBSTANCE.file, substance="68783")  # lévothyroxine (FT)
    assert "Aucune donnée de pharmacovigilance" not in texts(at)


def test_medicine_page_shows_each_active_substance(monkeypatch, real_prepared):
    at = open_page(monkeypatch, real_prepared, routes.MEDICINE.file, cis="60002283")
    assert "Effets indésirables déclarés" in [h.value for h in at.header]
    assert "« anastrozole »" in texts(at)


def test_masked_substance_says_less_than_threshold(monkeypatch, real_prepared, real_store):
    salts = real_store.table("ei_fractions_membres")["ei_id"].implode()  # shown as their moiety
    masked = real_store.table("ei_substances").filter(pl.col("n_cas").is_null() & ~pl.col("ei_id").is_in(salts))
    links = real_store.table("ei_liens").join(masked.select("ei_id"), on="ei_id")
    code = links["code_substance"][0]
    at = open_page(monkeypatch, real_prepared, routes.SUBSTANCE.file, substance=code)
    body = texts(at)
    assert "n'est pas publié : il est masqué" in body
    assert "moins de 11 cas" not in body  # one status: the page does not tell whether it is small
    assert "Les effectifs inférieurs à 11" in body or "inférieurs à 11" in body


def test_compare_deep_link(monkeypatch, real_prepared):
    # a salt's link lands on its active moiety (abacavir: its sulfate, base and hydrochloride)
    at = open_page(monkeypatch, real_prepared, routes.COMPARE.file, s=["abacavir-sulfate-d", "anastrozole", "nope"])
    assert any("« nope »" in w.body for w in at.warning)
    assert at.query_params["s"] == ["fraction-abacavir", "anastrozole", "nope"]
    summary = at.dataframe[0].value
    assert list(summary["Substance"]) == ["Abacavir", "Anastrozole"]
    assert summary["Cas déclarés"].tolist() == ["959", "300"]
    detail = at.dataframe[-1].value
    assert set(detail["Substance"]) == {"Abacavir", "Anastrozole"}
    shown = [int(v) for v in detail["Cas"] if v.isdigit()]
    assert shown and min(shown) >= 11  # nothing below 11 shown as a number
    assert at.get("download_button")


def test_compare_needs_two(monkeypatch, real_prepared):
    at = open_page(monkeypatch, real_prepared, routes.COMPARE.file, s="anastrozole")
    assert "Choisissez au moins deux substances" in texts(at)
    at = open_page(monkeypatch, real_prepared, routes.COMPARE.file)
    assert "Choisissez au moins deux substances" in texts(at)


def test_compare_selection_is_kept_in_url(monkeypatch, real_prepared):
    at = open_page(monkeypatch, real_prepared, routes.COMPARE.file, s=["anastrozole"])
    # the French picker: a search box (no accents needed), one button per match
    at.text_input(key="s_q").input("diclofenac").run()
    assert not at.exception
    at.button(key="s_add_fraction-diclofenac").click().run()
    assert not at.exception
    assert set(at.query_params["s"]) == {"anastrozole", "fraction-diclofenac"}
    assert at.text_input(key="s_q").value == ""  # emptied for the next one
    at.text_input(key="s_q").input("zzzz").run()
    assert any("Aucun résultat pour « zzzz »" in c.value for c in at.caption)


def test_compare_says_why_a_moiety_has_no_disproportionality(monkeypatch, real_prepared):
    """Amoxicillin pools its salts: no ROR, PRR or IC, and the page says why in one sentence
    (the forest plot only had the two other substances, and the table empty cells)."""
    at = open_page(monkeypatch, real_prepared, routes.COMPARE.file, s=["paracetamol", "fraction-amoxicilline"])
    captions = [c.value for c in at.caption]
    assert any(c.startswith("Pas de ROR, de PRR ni d'IC pour Amoxicilline : ses cas réunissent") for c in captions)
    at = open_page(monkeypatch, real_prepared, routes.COMPARE.file, s=["paracetamol", "ibuprofene"])
    assert not any(c.startswith("Pas de ROR") for c in [c.value for c in at.caption])


def test_compare_csv_is_masked(real_store):
    from datamed.views import adverse

    comp = adverse.compare(real_store, ["abacavir-sulfate-d", "abacavir-base", "anastrozole"])
    data = adverse.comparison_csv(comp, 11).decode("utf-8-sig")
    # a plain header row first: any CSV reader takes it as is (issue 13)
    header = data.splitlines()[0].split(";")
    assert header == adverse.comparison_table(comp, 11).columns and not data.startswith("#")
    frame = pl.read_csv(data.encode(), separator=";", infer_schema=False)
    assert frame.height == adverse.comparison_table(comp, 11).height
    rows = [line.split(";") for line in data.splitlines()[1:]]
    assert rows and all(not (r[2].isdigit() and int(r[2]) < 11) for r in rows)
    ic025 = [v for v in frame["IC025"].to_list() if v]
    assert any(v.startswith("-") for v in ic025)  # negative figures stay numbers for a spreadsheet
    assert not any(v.startswith("'") for v in ic025), ic025
    name = adverse.comparison_filename(comp)
    assert name.startswith("datamed_comparaison_") and "ANSM-BNPV-2014-2018" in name and name.endswith(".csv")


def test_national_page(monkeypatch, real_prepared):
    at = open_page(monkeypatch, real_prepared, routes.NATIONAL.file)
    assert at.title[0].value == "Effets indésirables : vue nationale"
    assert "paires cas-substance" in texts(at)
    assert len(at.tabs) == 4


def test_adverse_effects_on_demo(monkeypatch, demo_prepared, demo_store):
    subs = demo_store.table("ei_substances").filter(pl.col("n_cas").is_not_null()).sort("n_cas", descending=True)
    ids = subs["ei_id"].head(2).to_list()
    at = open_page(monkeypatch, demo_prepared, routes.COMPARE.file, s=ids)
    assert len(at.dataframe[0].value) == 2
    at = open_page(monkeypatch, demo_prepared, routes.NATIONAL.file)
    assert "paires cas-substance" in texts(at)
    code = demo_store.table("ei_liens").filter(pl.col("ei_id") == ids[0])["code_substance"][0]
    at = open_page(monkeypatch, demo_prepared, routes.SUBSTANCE.file, substance=code)
    assert "cas d'effets indésirables ont été déclarés" in texts(at)


# --- shortages ----------------------------------------------------------------------------------


def test_shortages_page(monkeypatch, real_prepared, shared_dir):
    at = open_page(monkeypatch, real_prepared, routes.SHORTAGES.file)
    assert at.title[0].value == "Ruptures et tensions d'approvisionnement"
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["En tension"] == "418"
    assert len(at.tabs) == 6
    assert "Méthode" in [e.label for e in at.expander]
    assert any("Catégorie" in d.value.columns for d in at.dataframe)  # the open tab's tables
    assert "un seul instantané du fichier de disponibilité (27 janvier 2026)" in texts(at)
    # the cards are the whole file's statuses that day, not the filtered episodes nor observed ends
    assert metrics["Retours"] == "420" and "Nombre de médicaments par statut dans le fichier du 27/01/2026" in texts(at)
    assert "l'onglet Durées ne compte que les fins d'épisode vues d'un fichier à l'autre" in texts(at)


def test_shortages_archive_and_durations_on_demo(monkeypatch, demo_prepared):
    at = open_page(monkeypatch, demo_prepared, routes.SHORTAGES.file, onglet="Durées")
    page = texts(at)
    assert "à partir de **3 instantanés** du fichier de disponibilité, du 2 juin 2025 au 15 janvier 2026" in page
    assert "le plus long : 121 jours" in page
    assert "entrée tardive" in page and "Aalen-Johansen" in page
    assert "Durée médiane d'un épisode, jusqu'au retour ou à l'arrêt" in page


def test_shortages_lazy_tabs_from_url(monkeypatch, real_prepared):
    at = open_page(monkeypatch, real_prepared, routes.SHORTAGES.file, onglet="Historique 2014-2020")
    assert "NX0" in texts(at)  # unmapped class labels are reported
    assert not any("Catégorie" in d.value.columns for d in at.dataframe)  # other tabs do not run
    at = open_page(monkeypatch, real_prepared, routes.SHORTAGES.file, onglet="Risque (expérimental)")
    # one availability snapshot: the model cannot be evaluated without look-ahead, and the tab says why
    assert "Le modèle est masqué" in texts(at) and "il en faut au moins 364" in texts(at)
    assert any("Aucune liste de médicaments à risque" in w.body for w in at.warning)
    assert not any("Risque à 6 mois" in d.value.columns for d in at.dataframe)
    assert "ANSM" not in " ".join(c.value for c in at.caption if "Estimation expérimentale" in c.value).replace(
        "pas un outil de l'ANSM", ""
    )
    at = open_page(monkeypatch, real_prepared, routes.SHORTAGES.file, onglet="Durées")
    assert any("retour" in w.body for w in at.warning) or "Durée médiane" in texts(at)
    # an old link (the tab was "Risque (ANSM)": DataMed is not an ANSM tool) opens the page
    at = open_page(monkeypatch, real_prepared, routes.SHORTAGES.file, onglet="Risque (ANSM)")
    assert "Situation au" in texts(at)


def test_risk_tab_on_a_long_archive_hidden_by_its_interval(monkeypatch, long_demo_prepared):
    at = open_page(monkeypatch, long_demo_prepared, routes.SHORTAGES.file, onglet="Risque (expérimental)")
    page = texts(at)
    assert "Le modèle est masqué" in page and "Gain de **PR-AUC** sur la meilleure référence" in page
    assert "Score de Brier" in page and "Rappel dans le top 100" in page and "Intervalle à 95 %" in page
    means = next(d.value for d in at.dataframe if "Rappel@100" in d.value.columns and "Test au" not in d.value.columns)
    assert len(means) == 5 and means["Classement"].str.contains("Référence").sum() == 4
    assert not any("Risque à 6 mois" in d.value.columns for d in at.dataframe)


@pytest.mark.slow
def test_risk_tab_on_a_long_archive_shows_the_list(monkeypatch, long_real_prepared):
    at = open_page(monkeypatch, long_real_prepared, routes.SHORTAGES.file, onglet="Risque (expérimental)")
    assert "Le modèle est affiché" in texts(at) and not at.warning
    top = next(d.value for d in at.dataframe if "Risque à 6 mois" in d.value.columns)
    assert len(top) == 100 and top["Principaux facteurs"].str.len().min() > 0
    assert top["Risque à 6 mois"].str.contains(",").any()  # French decimals


def test_shortages_filters_from_url(monkeypatch, real_prepared):
    at = open_page(
        monkeypatch,
        real_prepared,
        routes.SHORTAGES.file,
        statut=["rupture"],
        atc="N",
        periode="fiable",
        mitm="true",
        onglet="Épisodes en cours",
    )
    assert at.multiselect(key="url_statut").value == ["rupture"]
    assert at.selectbox(key="url_atc").value == "N"
    assert at.selectbox(key="url_periode").value == "fiable"
    assert at.toggle(key="mitm").value is True
    table = next(d.value for d in at.dataframe if "Médicament" in d.value.columns)
    assert (table["Statut"] == "Rupture de stock").all() and (table["MITM"] == "oui").all()
    at.multiselect(key="url_statut").select("tension").run()
    assert set(at.query_params["statut"]) == {"rupture", "tension"}


def test_shortages_bad_filters_are_ignored(monkeypatch, real_prepared):
    at = open_page(monkeypatch, real_prepared, routes.SHORTAGES.file, statut=["zzz"], atc="1", periode="'; --")
    assert at.multiselect(key="url_statut").value == []
    assert "rupture de stock, tension d'approvisionnement" in texts(at)


def test_medicine_in_shortage_lists_alternatives(monkeypatch, real_prepared, real_store):
    from datamed.views import shortages as sv

    eps = real_store.table("ruptures_episodes").filter(
        pl.col("en_cours") & pl.col("cip13").is_null() & pl.col("au_catalogue")
    )
    cis = next(c for c in eps["cis"].to_list() if not sv.alternatives(real_store, c).is_empty())
    at = open_page(monkeypatch, real_prepared, routes.MEDICINE.file, cis=cis)
    assert "Alternatives disponibles" in [s.value for s in at.subheader]
    assert "Demandez conseil à votre pharmacien ou médecin." in texts(at)
    assert "Historique des épisodes" in " ".join(e.label for e in at.expander)


# --- sites -------------------------------------------------------------------------------------


def deck_spec(at: AppTest) -> dict:
    import json

    decks = [d for d in at.get("deck_gl_json_chart") if "Carte de France" in d.proto.alt]
    assert len(decks) == 1
    return json.loads(decks[0].proto.json)


def test_sites_map_spec(monkeypatch, real_prepared):
    at = open_page(monkeypatch, real_prepared, routes.SITES.file)
    spec = deck_spec(at)
    assert spec.get("mapStyle") == "__MAP_STYLE__"  # pydeck's "no basemap" marker: no tiles from the internet
    layers = {layer["id"]: layer for layer in spec["layers"]}
    assert layers["departements"]["@@type"] == "GeoJsonLayer"
    assert len(layers["departements"]["data"]["features"]) == 96
    assert layers["sites"]["@@type"] == "ScatterplotLayer"
    kinds = {p["t"] for p in layers["sites"]["data"]}
    assert "Pharmacie" not in kinds and "Fabrication de principe actif" in kinds  # default: industrial sites
    proto = next(d.proto for d in at.get("deck_gl_json_chart") if "Carte de France" in d.proto.alt)
    assert "Carte de France des sites pharmaceutiques" in proto.alt  # accessible text
    assert "Légende" in texts(at) and "Méthode" in [e.label for e in at.expander]
    assert len(proto.json) <= 5_000_000


def test_sites_filters_and_views_from_url(monkeypatch, real_prepared):
    at = open_page(
        monkeypatch, real_prepared, routes.SITES.file, type=["pharmacie"], source=["Santé.fr"], vue="densite"
    )
    spec = deck_spec(at)
    # the density: hexagons counted on the server (their legend says what each colour counts)
    assert [layer["@@type"] for layer in spec["layers"]] == ["GeoJsonLayer", "PolygonLayer"]
    assert sum(h["n"] for h in spec["layers"][1]["data"]) == 3757
    assert all(h["x"].endswith(("site", "sites")) for h in spec["layers"][1]["data"])
    assert "Nombre de sites par hexagone" in texts(at)  # the colour scale under the map
    at = open_page(
        monkeypatch,
        real_prepared,
        routes.SITES.file,
        type=["principe_actif"],
        operation="API MANUFACTURE",
        vue="departements",
    )
    spec = deck_spec(at)
    counts = {f["properties"]["code"]: f["properties"]["sites"] for f in spec["layers"][0]["data"]["features"]}
    assert sum(counts.values()) > 0
    table = next(d.value for d in at.dataframe if "Nom" in d.value.columns)
    assert (table["Type"] == "Fabrication de principe actif").all()
    at = open_page(monkeypatch, real_prepared, routes.SITES.file, type=["bogus"], vue="3d", source=["x"])
    assert deck_spec(at)["layers"][-1]["@@type"] == "ScatterplotLayer"  # bad values fall back to defaults


def test_every_source_payload_stays_under_5_mb(monkeypatch, real_prepared):
    everything = ["principe_actif", "fabrication", "analyse_conditionnement", "distribution", "pharmacie"]
    for view in ("points", "densite", "departements"):
        at = open_page(monkeypatch, real_prepared, routes.SITES.file, type=everything, vue=view)
        assert all(len(d.proto.json) <= 5_000_000 for d in at.get("deck_gl_json_chart")), view


def test_sites_world_tab(monkeypatch, real_prepared):
    at = open_page(monkeypatch, real_prepared, routes.SITES.file, onglet="Dans le monde (FDA)")
    world = next(d.value for d in at.dataframe if "Pays" in d.value.columns)
    # French names and French numbers ("5 738", "22,0 %")
    assert len(world) == 82 and world["Dont principe actif"].str.replace("\u202f", "").astype(int).sum() == 2452
    first = world.iloc[0].to_dict()
    assert first == {
        "Pays": "États-Unis",
        "Établissements": "5\u202f738",
        "Dont principe actif": "539",
        "Part mondiale principe actif": "22,0 %",
    }
    assert "Corée du Sud" in set(world["Pays"]) and not {"United States", "Korea, South"} & set(world["Pays"])
    assert "pas** l'origine des principes actifs" in texts(at)


def page_links(at: AppTest) -> list:
    return [link.proto for link in at.get("page_link")]


def test_sites_page_links_to_the_pharmacy_finder(monkeypatch, real_prepared):
    at = open_page(monkeypatch, real_prepared, routes.SITES.file)
    assert [t.key for t in at.text_input] == ["global_search"]  # the finder is no longer on this page
    link = next(p for p in page_links(at) if "pharmacies les plus proches" in p.label)
    assert link.page in (routes.PHARMACIES.url_path, "pharmacy_page") and link.query_string == ""
    at = open_page(monkeypatch, real_prepared, routes.SITES.file, pres="75012")  # an old link keeps its search
    assert next(p for p in page_links(at) if "pharmacies" in p.label).query_string == "cp=75012"


def place_box(at: AppTest):
    return next(t for t in at.text_input if t.label == "Code postal ou commune")


def departement_box(at: AppTest):
    return next(s for s in at.selectbox if s.label == "Département (facultatif)")


def pharmacy_table(at: AppTest) -> pl.DataFrame:
    return pl.from_pandas(next(d.value for d in at.dataframe if "Distance à vol d'oiseau" in d.value.columns))


def test_pharmacy_page_deep_link(monkeypatch, real_prepared):
    import json

    assert routes.alias_of("Trouver-une-pharmacie") is routes.alias_of("pharmacie") is routes.PHARMACIES
    at = open_page(monkeypatch, real_prepared, routes.PHARMACIES.file, cp="75011")
    assert at.title[0].value == "Trouver une pharmacie"
    assert place_box(at).value == "75011"
    assert any("75011 \\(Paris 11\\)" in s.value for s in at.subheader)
    table = pharmacy_table(at)
    assert table.height == 10 and table["N°"].to_list() == list(range(1, 11))
    assert "Pharmacie" not in table.columns  # no name in these lists: said, not shown as a column of dashes
    distances = table["Distance à vol d'oiseau"]
    assert distances.str.contains(r"^\d+,\d{1,2} km$").all()
    values = [float(d.removesuffix(" km").replace(",", ".")) for d in distances]
    assert values == sorted(values)
    assert table["Adresse"].str.contains(r"^\d+ ").any()  # street numbers, from Santé.fr
    assert table["Adresse"].str.contains("pharmacies dans cette rue, sans numéro").any()  # SIRENE street points
    body = texts(at)
    assert "Couverture partielle" in body and "12,7 %" in body
    assert "non publié par ces listes" in body and "Dans le département 75" in body
    deck = next(d for d in at.get("deck_gl_json_chart") if "pharmacies les plus proches" in d.proto.alt)
    spec = json.loads(deck.proto.json)
    assert spec.get("mapStyle") == "__MAP_STYLE__"  # no basemap: nothing fetched from another host
    layers = {layer["id"]: layer for layer in spec["layers"]}
    assert {"departements", "lieu", "pharmacies", "rangs"} <= set(layers)
    assert [p["r"] for p in layers["pharmacies"]["data"]] == [str(i) for i in range(1, 11)]
    footer = next(c.value for c in at.caption if c.value.startswith("Sources : "))
    assert "Santé.fr" in footer and "SIRENE" in footer and "codes postaux" in footer and "FDA" not in footer


def test_pharmacy_page_ambiguous_and_bad_input(monkeypatch, real_prepared):
    at = open_page(monkeypatch, real_prepared, routes.PHARMACIES.file, commune="Montreuil")
    assert any("Plusieurs communes portent ce nom" in w.body for w in at.warning)
    assert "commune=Montreuil&dep=93" in [p.query_string for p in page_links(at)]
    at = open_page(monkeypatch, real_prepared, routes.PHARMACIES.file, commune="Montreuil", dep="93")
    assert departement_box(at).value == "93"
    assert pharmacy_table(at).height == 10 and any("Montreuil \\(93\\)" in s.value for s in at.subheader)
    for params in ({"cp": "zzzz"}, {"cp": "123"}, {"commune": "'; DROP TABLE x; --"}, {"cp": "75011", "dep": "13"}):
        at = open_page(monkeypatch, real_prepared, routes.PHARMACIES.file, **params)
        assert any("introuvable" in w.body for w in at.warning), params
        assert not [d for d in at.dataframe if "Distance à vol d'oiseau" in d.value.columns]
    at = open_page(monkeypatch, real_prepared, routes.PHARMACIES.file, dep="99x")
    assert any("Département inconnu" in w.body for w in at.warning)
    at = open_page(monkeypatch, real_prepared, routes.PHARMACIES.file, commune="x" * 3000)
    assert any("introuvable" in w.body for w in at.warning)
    at = open_page(monkeypatch, real_prepared, routes.PHARMACIES.file)
    assert not at.warning and "Couverture des listes" in [s.value for s in at.subheader]


def test_pharmacy_form_puts_the_query_in_the_url(monkeypatch, real_prepared):
    at = open_page(monkeypatch, real_prepared, routes.PHARMACIES.file)
    place_box(at).input("13001")
    next(b for b in at.button if b.label == "Chercher").click().run()
    assert not at.exception
    assert at.query_params.get("cp") in ("13001", ["13001"]) and "commune" not in at.query_params
    assert pharmacy_table(at).height == 10 and place_box(at).value == "13001"
    place_box(at).input("Montreuil")
    departement_box(at).select("93")
    next(b for b in at.button if b.label == "Chercher").click().run()
    assert at.query_params.get("commune") in ("Montreuil", ["Montreuil"]) and "cp" not in at.query_params
    assert at.query_params.get("dep") in ("93", ["93"])
    assert any("Montreuil \\(93\\)" in s.value for s in at.subheader)
    assert (place_box(at).value, departement_box(at).value) == ("Montreuil", "93")
    at.query_params.clear()  # a link to another place, in the same session: the form shows it
    at.query_params["cp"] = "69001"
    at.run()
    assert (place_box(at).value, departement_box(at).value) == ("69001", None)
    assert any("69001" in s.value for s in at.subheader)


def test_pharmacy_page_on_demo_shows_names(monkeypatch, demo_prepared):
    at = open_page(monkeypatch, demo_prepared, routes.PHARMACIES.file, cp="75015")
    table = pharmacy_table(at)
    assert "Pharmacie" in table.columns and table["Pharmacie"].str.starts_with("PHARMACIE ").sum() >= 2
    assert table["Adresse"].str.contains(r"^\d+ bis ").any()


def test_world_map_spec(monkeypatch, real_prepared):
    import json

    at = open_page(monkeypatch, real_prepared, routes.SITES.file, onglet="Dans le monde (FDA)")
    decks = at.get("deck_gl_json_chart")
    world = next(json.loads(d.proto.json) for d in decks if "Carte du monde" in d.proto.alt)
    assert world.get("mapStyle") == "__MAP_STYLE__"
    features = world["layers"][0]["data"]["features"]
    by_iso = {f["properties"]["iso3"]: f["properties"]["n"] for f in features}
    assert len(features) >= 170 and by_iso["USA"] == 539 and by_iso["IND"] == 527 and by_iso["FRA"] == 65
    # the tooltip's texts: French names, French numbers
    usa = next(f["properties"] for f in features if f["properties"]["iso3"] == "USA")
    assert (usa["nom"], usa["texte"], usa["part"]) == (
        "États-Unis",
        "539 établissements de principe actif enregistrés",
        "22,0 %",
    )
    names = {f["properties"]["iso3"]: f["properties"]["nom"] for f in features}
    assert names["KOR"] == "Corée du Sud" and names["DEU"] == "Allemagne"
    tooltip = json.loads(next(d.proto.tooltip for d in decks if "Carte du monde" in d.proto.alt))["html"]
    assert "{texte}" in tooltip and "{part}" in tooltip and "{n}" not in tooltip
    alt = next(d.proto.alt for d in decks if "Carte du monde" in d.proto.alt)
    assert "par pays : 0 ; 1 à 5 ; 6 à 10" in alt  # the colour scale in words (and as swatches under the map)
    assert "<b>Établissements de fabrication de principe actif par pays</b>" in texts(at)


def test_medicine_page_holder_sites(monkeypatch, real_prepared, real_store):
    from datamed.views import sites

    spec = real_store.table("specialites")
    holder = "SANOFI WINTHROP INDUSTRIE"
    cis = spec.filter(pl.col("titulaires").list.contains(holder))["cis"][0]
    at = open_page(monkeypatch, real_prepared, routes.MEDICINE.file, cis=cis)
    assert "Sites industriels connus de l'entreprise titulaire" in [h.value for h in at.header]
    assert any("pas forcément là que ce médicament" in w.body for w in at.warning)
    n_sites = sites.holder_sites(real_store, holder).height
    table = next(d.value for d in at.dataframe if "Précision de la position" in d.value.columns)
    assert len(table) == n_sites > 0
    # the map shows the whole of metropolitan France in its 320 px (a 4.6 zoom cut off the north and south)
    import json

    from datamed.present import maps

    deck = next(d for d in at.get("deck_gl_json_chart") if holder in d.proto.alt)
    view = json.loads(deck.proto.json)["initialViewState"]
    fitted = maps.france_view(320)  # the map's height on the page (tests/test_maps.py checks the fit)
    assert (view["zoom"], view["latitude"], view["longitude"]) == (fitted.zoom, fitted.latitude, fitted.longitude)
    assert view["zoom"] < 4.0, view


def test_sites_page_company_selection(monkeypatch, real_prepared, real_store):
    at = open_page(
        monkeypatch,
        real_prepared,
        routes.SITES.file,
        entreprise="SANOFI WINTHROP INDUSTRIE",
        type=list(["principe_actif", "fabrication", "analyse_conditionnement", "distribution"]),
    )
    assert at.selectbox(key="url_entreprise").value == "SANOFI WINTHROP INDUSTRIE"
    assert any("titulaire de" in i.body and "médicaments du catalogue" in i.body for i in at.info)
    table = next(d.value for d in at.dataframe if "Nom" in d.value.columns and "Type" in d.value.columns)
    assert 0 < len(table) <= 40


def test_quality_page_reports_links(monkeypatch, real_prepared):
    at = open_page(monkeypatch, real_prepared, routes.QUALITY.file, lien="titulaires_sites")
    assert "Liaisons entre bases" in [h.value for h in at.header]
    links = next(d.value for d in at.dataframe if "Liaison" in d.value.columns and "Reliés" in d.value.columns)
    assert len(links) == 7
    row = links[links["Liaison"] == "Titulaires → sites industriels"].iloc[0]
    assert (row["Reliés"], row["Éléments"], row["Couverture"]) == ("112", "671", "16,7 %")
    assert "112 titulaires reliés sur 671" in texts(at)
    unmatched = next(d.value for d in at.dataframe if "Suggestions" in d.value.columns)
    assert len(unmatched) == 500  # 559 holders without a known site, listed up to the cap


def test_quality_page_lists_the_exposure_years_left_out(monkeypatch, real_prepared, real_store):
    """Issue 13: the years whose exposure fails a plausibility rule are on the Qualité page."""
    at = open_page(monkeypatch, real_prepared, routes.QUALITY.file)
    assert "Exposition des effets indésirables" in [h.value for h in at.header]
    alerts = real_store.table("ei_exposition_alertes")
    body = texts(at)
    assert "n'entrent dans aucun taux de notification" in body
    table = next(d.value for d in at.dataframe if "Règle non respectée" in d.value.columns)
    assert len(table) == alerts.height
    assert "moins de 1\u202f000 consommants" in set(table["Règle non respectée"])


def test_quality_page_drill_down(monkeypatch, real_prepared):
    at = open_page(monkeypatch, real_prepared, routes.QUALITY.file, controle="presentations:dates_futures")
    scores = next(d.value for d in at.dataframe if "Score (sur 100)" in d.value.columns)
    assert "BDPM · présentations (CIS_CIP_bdpm)" in set(scores["Source"])
    failing = next(d.value for d in at.dataframe if "Ligne du fichier source" in d.value.columns)
    assert len(failing) == 1 and failing["Clé"].iloc[0] == "3400955097891"  # declared on 2924-11-29
    at = open_page(monkeypatch, real_prepared, routes.QUALITY.file, controle="nimporte:quoi")
    assert any("inconnu" in w.body for w in at.warning)


def test_quality_page_lists_status_code_label_conflicts(monkeypatch, demo_prepared, real_prepared):
    at = open_page(monkeypatch, demo_prepared, routes.QUALITY.file, controle="disponibilites:statut_code_libelle")
    failing = next(d.value for d in at.dataframe if "Ligne du fichier source" in d.value.columns)
    assert len(failing) == 1
    detail = " ".join(str(v) for v in failing.iloc[0].tolist())
    assert "code 4 (Remise à disposition) mais libellé « Tension d'approvisionnement »" in detail
    assert "statut retenu « Tension d'approvisionnement »" in detail
    # the real file: codes and labels agree (case aside)
    at = open_page(monkeypatch, real_prepared, routes.QUALITY.file, controle="disponibilites:statut_code_libelle")
    assert not any("Ligne du fichier source" in d.value.columns for d in at.dataframe)


def test_data_page_dataset_deep_link(monkeypatch, real_prepared):
    at = open_page(monkeypatch, real_prepared, routes.DATA.file, jeu="ei_soc")
    assert at.selectbox(key="url_jeu").value == "ei_soc"
    cols = next(d.value for d in at.dataframe if "Colonne" in d.value.columns and "Type" in d.value.columns)
    assert {"n_cas", "n_cas_statut", "ror"} <= set(cols["Colonne"])
    assert any("masqués" in i.body for i in at.info)
    labels = [b.label for b in at.get("download_button")]
    assert labels == ["Télécharger en CSV", "Télécharger en Parquet"]
    at = open_page(monkeypatch, real_prepared, routes.DATA.file, jeu="rejets")
    assert any("n'existe pas ou n'est pas publié" in w.body for w in at.warning)


def test_every_page_run_writes_one_structured_log_line(monkeypatch, real_prepared):
    import json
    import logging

    from datamed.ui import runlog

    lines: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: lines.append(record.getMessage())
    runlog.LOGGER.addHandler(handler)
    try:
        # the default page (AppTest's switch_page runs a page without app.py's navigation)
        open_page(monkeypatch, real_prepared, q="60002283")
    finally:
        runlog.LOGGER.removeHandler(handler)
    entries = [e for e in map(json.loads, lines) if e["event"] == "page_run"]  # (and "data_opened" once)
    assert [e["page"] for e in entries] == ["accueil"]
    assert entries[0]["outcome"] == "ok" and entries[0]["ms"] > 0 and "60002283" not in lines[0]
    # an error is logged with its type only (a message may quote data), then raised
    lines.clear()
    runlog.LOGGER.addHandler(handler)
    try:
        with pytest.raises(KeyError):
            runlog.timed("recherche", lambda: {}["doliprane"])
    finally:
        runlog.LOGGER.removeHandler(handler)
    entry = json.loads(lines[0])
    assert entry["outcome"] == "error" and entry["error"] == "KeyError" and "doliprane" not in lines[0]


def test_adverse_effect_pages_link_to_the_official_reporting_portal(monkeypatch, real_prepared):
    """A visible 'Déclarer un effet indésirable' link to signalement.social-sante.gouv.fr
    on the substance, comparison and national pages (issue 13)."""
    for page, params in (
        (routes.SUBSTANCE.file, {"substance": "02202"}),  # paracétamol
        (routes.COMPARE.file, {"s": ["anastrozole", "abacavir-sulfate-d"]}),
        (routes.NATIONAL.file, {}),
    ):
        at = open_page(monkeypatch, real_prepared, page, **params)
        links = [b.proto for b in at.get("link_button")]
        assert any(
            link.label == "Déclarer un effet indésirable" and link.url == "https://signalement.social-sante.gouv.fr/"
            for link in links
        ), (page, [(link.label, link.url) for link in links])


def test_summaries_name_the_substance_with_its_accents(real_store):
    """The source writes PARACETAMOL; the summary says « paracétamol », as the BDPM spells
    it (issue 13)."""
    from datamed.views import adverse

    [para] = adverse.profiles_for_substance(real_store, "02202")
    text = adverse.summary_fr(para)
    assert "« paracétamol »" in text and "paracetamol" not in text.lower().replace("paracétamol", "")


def test_a_substance_with_no_report_is_not_said_to_have_0_cases_declared(real_store):
    """33 substances are listed by the source with 0 cases: the summary says no report is
    recorded under that name, and that this proves nothing (no "0 cas … ont été déclarés")."""
    from datamed.views import adverse

    zero = real_store.table("ei_substances").filter(pl.col("n_cas") == 0)["ei_id"].to_list()
    assert len(zero) == 33
    for ei_id in zero[:5]:
        text = adverse.summary_fr(adverse.profile(real_store, ei_id))
        assert text.startswith("Aucune déclaration d'effet indésirable n'est enregistrée pour « "), text
        assert "ne prouve pas" in text and "0 cas" not in text


def test_a_signal_needs_two_methods_to_agree(real_store):
    """A signal is shown only when the Evans criteria and IC025 > 0 both hold (issue 13):
    on the real data that flags about one pair in eight, where the lower ROR bound alone
    flagged 30 %; the cell says "Signal à expertiser", never "Oui (ROR > 1)"."""
    from datamed.views import adverse

    soc = real_store.table("ei_soc").filter(pl.col("ror").is_not_null())
    cells = [adverse.signal_fr(e, i) for e, i in soc.select("signal_evans", "signal_ic").rows()]
    flagged = cells.count(adverse.SIGNAL_YES) / len(cells)
    old = soc["signal_ror"].mean()
    assert set(cells) <= {adverse.SIGNAL_YES, "Non"} and 0.05 < flagged < 0.15 < old, (flagged, old)
    comp = adverse.compare(real_store, ["abacavir-sulfate-d", "anastrozole"])
    table = adverse.comparison_table(comp, 11)
    assert set(table["Signal"].to_list()) <= {adverse.SIGNAL_YES, "Non", "—"}
    assert "examiner" in adverse.SIGNAL_FR and "pas la preuve" in adverse.SIGNAL_FR


# --- the medicine page's "En bref" band (issue 15, part 1) ---------------------------------------


def test_medicine_band_comes_first_and_its_menu_reaches_every_section(monkeypatch, real_prepared, real_store):
    cis = real_store.table("specialites").filter(pl.col("denomination") == "DOLIPRANE 1000 mg, comprimé")["cis"][0]
    at = open_page(monkeypatch, real_prepared, routes.MEDICINE.file, cis=cis)
    assert at.header[0].value == "En bref"
    assert [s.value for s in at.subheader][:4] == [
        "Disponibilité",
        "Prix et remboursement",
        "Ordonnance",
        "Documents officiels et signalement",
    ]
    body = texts(at)
    assert "Un médicament à base de paracétamol" in body
    assert "**2,09\u00a0€** · Remboursé à 65 %" in body
    assert f"affichageDoc.php?specid={cis}&typedoc=N" in body and f"specid={cis}&typedoc=R" in body
    assert "[Déclarer un effet indésirable](https://signalement.social-sante.gouv.fr/)" in body
    menu = next(m.value for m in at.markdown if m.value.startswith("**Aller à**"))
    targets = re.findall(r"\]\(#([a-z-]+)\)", menu)
    anchors = {h.proto.anchor for h in at.header}
    assert targets and set(targets) <= anchors, set(targets) - anchors


def test_medicine_band_in_shortage_offers_three_alternatives_first(monkeypatch, real_prepared, real_store):
    from datamed.views import shortages as sv

    eps = real_store.table("ruptures_episodes").filter(
        pl.col("en_cours") & pl.col("cip13").is_null() & pl.col("au_catalogue") & (pl.col("statut") == 1)
    )
    cis = next(c for c in eps["cis"].to_list() if sv.alternatives(real_store, c).height > 3)
    at = open_page(monkeypatch, real_prepared, routes.MEDICINE.file, cis=cis)
    links = [p.proto for p in at.get("page_link")]
    medicine_links = [p for p in links if "cis=" in p.query_string]
    # the band's three alternatives come before any other link to a medicine (the generic group, the list below)
    first = sv.alternatives(real_store, cis).filter(pl.col("cis") != cis).head(3)["cis"].to_list()
    shown = [p.query_string.split("cis=")[-1] for p in medicine_links[: len(first)]]
    assert shown == first
    assert "Que prendre à la place ?" in texts(at)
    assert '<span style="font-size:1.6rem;font-weight:700">Rupture de stock</span>' in texts(at)


# --- accessibility statement (issue 15, part 7) ----------------------------------------------


def test_accessibility_statement(monkeypatch, real_prepared):
    from datamed.core.text import fr_date
    from datamed.ui import a11y

    monkeypatch.delenv("DATAMED_ISSUES_URL", raising=False)
    at = open_page(monkeypatch, real_prepared, routes.ACCESSIBILITY.file)
    assert at.title[0].value == "Déclaration d'accessibilité"
    assert [h.value for h in at.header] == [
        "État de conformité",
        "Résultats des tests",
        "Contenus non accessibles",
        "Alternatives proposées",
        "Retour d'information et contact",
        "Voies de recours",
    ]
    body = texts(at)
    assert "DataMed est **partiellement conforme** avec le référentiel général" in body
    assert "(RGAA), version 4.1" in body and "le taux de conformité n'est pas établi" in body
    assert "ni édité ni validé par l'ANSM" in body  # an independent tool, never presented as the ANSM's
    assert f"Vérifications faites le {fr_date(a11y.CHECKED_ON)}" in body and "axe-core" in body
    assert "seule touche Tab" in body
    for issue in a11y.STREAMLIT_EXCEPTIONS:  # the Streamlit exceptions of the axe test, in French
        assert f"{issue.text_fr} (critère {issue.criterion} du RGAA)" in body
    assert "Skip to main content" in body  # Streamlit's English labels
    assert "Défenseur des droits" in body and "Libre réponse 71120, 75342 Paris CEDEX 07" in body
    # reporting goes to the project's tracker; no invented address
    assert "ouvrant un ticket dans le gestionnaire de tickets du projet DataMed :" in body
    assert "@" not in body and "mailto" not in body
    labels = [link.proto.label for link in at.get("page_link")]
    assert "Données ouvertes : jeux de données à télécharger" in labels
    assert not any(label.startswith("Accessibilité") for label in labels)  # not linked from its own footer


def test_accessibility_statement_links_the_issue_tracker(monkeypatch, real_prepared):
    monkeypatch.setenv("DATAMED_ISSUES_URL", "https://example.org/datamed/issues")
    at = open_page(monkeypatch, real_prepared, routes.ACCESSIBILITY.file)
    assert "[gestionnaire de tickets du projet DataMed](https://example.org/datamed/issues)" in texts(at)
    monkeypatch.setenv("DATAMED_ISSUES_URL", "javascript:alert(1)")  # only a web address is linked
    at = open_page(monkeypatch, real_prepared, routes.ACCESSIBILITY.file)
    assert "](javascript" not in texts(at) and "gestionnaire de tickets du projet DataMed :" in texts(at)


def test_accessibility_statement_at_its_address_and_aliases():
    assert routes.ACCESSIBILITY.url_path == "accessibilite" and routes.ACCESSIBILITY.hidden
    assert routes.alias_of("declaration-accessibilite") is routes.ACCESSIBILITY
    assert routes.alias_of("Accessibility") is routes.ACCESSIBILITY


def test_medicine_absent_from_catalogue_links_to_the_ansm_page(monkeypatch, real_prepared, real_store):
    eps = real_store.table("ruptures_episodes").filter(~pl.col("au_catalogue") & pl.col("lien_ansm").is_not_null())
    cis, url = eps.row(0, named=True)["cis"], eps.row(0, named=True)["lien_ansm"]
    at = open_page(monkeypatch, real_prepared, routes.MEDICINE.file, cis=cis)
    assert at.title[0].value == "Médicament introuvable"
    assert "le fichier de disponibilité de l'ANSM le cite" in texts(at)
    buttons = [b.proto for b in at.get("link_button")]
    assert [(b.label, b.url) for b in buttons][:1] == [("Voir la page de l'ANSM", url)]


def test_data_page_without_release_speaks_to_users_not_developers(monkeypatch, demo_prepared, tmp_path):
    monkeypatch.setenv("DATAMED_RELEASES", str(tmp_path / "none"))
    at = open_page(monkeypatch, demo_prepared, routes.DATA.file)
    body = texts(at)
    assert "Aucune version des données n'a encore été publiée" in body
    assert "python -m" not in body and "datamed publish" not in body and str(tmp_path) not in body
