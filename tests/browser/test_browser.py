"""End-to-end tests: a real browser against a live ``streamlit run app.py``.

Run with ``python -m pytest tests/browser -q``; skip with ``-m "not browser"``.
"""

from __future__ import annotations

import csv
import os
import re
from urllib.parse import urlencode

import polars as pl
import pytest
from playwright.sync_api import expect

from datamed.core.config import REPO_ROOT
from datamed.core.text import strip_accents

from .conftest import (
    VIEWPORT,
    assert_no_exception,
    goto,
    page_not_found_dialogs,
    screenshot_element,
    wait_for_app,
)

pytestmark = pytest.mark.browser

MAIN = '[data-testid="stMain"]'
MAIN_BLOCK = '[data-testid="stMainBlockContainer"]'
PAGE_LINK = f'{MAIN} [data-testid="stPageLink-NavLink"]'
# tables inside collapsed expanders (the adverse-effect sections) are in the DOM but hidden
DATAFRAME = f'{MAIN} [data-testid="stDataFrame"] >> visible=true'
METRIC = f'{MAIN} [data-testid="stMetric"]'
SEARCH_LABEL = "Rechercher un médicament"
DEMO_WARNING = "Données de démonstration"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
CHART = '[data-testid="stVegaLiteChart"]'
TAB = f'{MAIN} [data-testid="stTab"]'
TAB_PANEL = f'{MAIN} [role="tabpanel"]'  # with ">> visible=true": the selected tab's content
EXPANDER = f'{MAIN} [data-testid="stExpander"]'
COMPARE_TITLE = "Comparer des profils d'effets indésirables"
COMPARE_PATH = "/comparer?s=abacavir-sulfate-d&s=anastrozole&s=paracetamol"
COMPARE_NAMES = ("Abacavir", "Anastrozole", "Paracétamol")


def search_from_header(page, query: str) -> None:
    """Type ``query`` in the global search box, press Enter, wait for the results."""
    box = page.get_by_label(SEARCH_LABEL, exact=True)
    box.fill(query)
    box.press("Enter")
    page.wait_for_url(re.compile(r"/recherche\?q="))
    wait_for_app(page, selector="h1", text="Recherche")
    page.locator(PAGE_LINK).first.wait_for(state="visible")
    assert_no_exception(page)


def click_and_wait(page, link, *, url: str, title: str) -> None:
    link.click()
    page.wait_for_url(re.compile(url))
    wait_for_app(page, selector="h1", text=title)
    assert_no_exception(page)


def rendered_chart(scope, *, min_height: float = 150):
    """The first visible Vega chart in ``scope`` (page or locator), once Vega has drawn its marks.

    Hidden tabs keep their chart containers in the DOM, empty, until shown: only
    visible ones count. Asserts a non-empty svg/canvas of a reasonable size.
    """
    chart = scope.locator(f"{CHART} >> visible=true").first
    chart.locator("svg .role-mark > *, canvas").first.wait_for(state="attached")
    info = chart.evaluate(
        """el => {
            const g = el.querySelector('svg, canvas'), r = g.getBoundingClientRect();
            const marks = g.tagName.toLowerCase() === 'svg'
                ? g.querySelectorAll('.role-mark > *').length : g.width * g.height;
            return {tag: g.tagName.toLowerCase(), width: r.width, height: r.height, marks};
        }"""
    )
    assert info["marks"] > 0 and info["width"] > 300 and info["height"] > min_height, info
    return chart


def tab_names(page, expected: int) -> list[str]:
    """Labels of the page's tabs, once ``expected`` of them are shown (React may lag the script's end)."""
    page.locator(TAB).nth(expected - 1).wait_for(state="visible")
    return [t.strip() for t in page.locator(TAB).all_inner_texts()]


def open_tab(page, name: str):
    """Click the tab ``name`` (no rerun: Streamlit tabs are client-side) and return its panel."""
    tab = page.locator(TAB).filter(has_text=name).first
    tab.click()
    page.locator(f'{TAB}[aria-selected="true"]').filter(has_text=name).first.wait_for(state="visible")
    return page.locator(f"{TAB_PANEL} >> visible=true").first


def click_first_row(page, table) -> None:
    """Select the first row of a ``st.dataframe(selection_mode="single-row")`` (a canvas)."""
    table.scroll_into_view_if_needed()
    box = table.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + 15, box["y"] + 35 + 17)  # row-marker column, below the 35 px header


# --- the scenario, real data ------------------------------------------------


def test_search_doliprane_then_open_first_result(page, real_server):
    goto(page, real_server, "/", selector="h1", text="DataMed")
    search_from_header(page, "doliprane")
    assert "q=doliprane" in page.url
    results = page.locator(PAGE_LINK)
    assert results.filter(has_text="DOLIPRANE").count() >= 3

    first = results.first
    label = first.inner_text().strip()
    assert "DOLIPRANE" in label, f"first result is {label!r}"
    click_and_wait(page, first, url=r"/medicament\?cis=\d{8}", title="DOLIPRANE")

    title = page.locator("h1").first.inner_text().strip()
    assert "DOLIPRANE" in title and title == label
    for section in ("Composition", "Présentations, prix et remboursement"):
        page.get_by_role("heading", name=section).first.wait_for(state="visible")
    page.locator(PAGE_LINK).filter(has_text="PARACÉTAMOL").first.wait_for(state="visible")  # composition
    page.locator(DATAFRAME).first.wait_for(state="visible")  # presentations table
    assert_no_exception(page)


def test_medicine_page_screenshot(page, real_server, tmp_path):
    goto(page, real_server, "/medicament?cis=60002283", selector="h1", text="ANASTROZOLE ACCORD")
    page.locator(DATAFRAME).first.wait_for(state="visible")
    out = tmp_path / "medicament.png"
    data = screenshot_element(page, MAIN_BLOCK, out)
    assert data[:8] == PNG_MAGIC
    assert len(data) > 10_000, f"screenshot only {len(data)} bytes"
    assert out.read_bytes() == data


# --- deep links on a cold server -----------------------------------------------------


def test_deep_links_on_cold_server(page, cold_server, real_prepared):
    """Each URL path is opened directly; the medicine page is the server's very first request."""
    server = cold_server(real_prepared)

    goto(page, server, "/medicament?cis=60002283", selector="h1", text="ANASTROZOLE ACCORD 1 mg")
    assert page.locator("h1").first.inner_text().strip() == "ANASTROZOLE ACCORD 1 mg, comprimé pelliculé"
    page.get_by_role("heading", name="Composition").first.wait_for(state="visible")
    page.locator(PAGE_LINK).filter(has_text="ANASTROZOLE").first.wait_for(state="visible")

    goto(page, server, "/substance?substance=02202", selector="h1", text="Paracétamol")
    page.locator(DATAFRAME).first.wait_for(state="visible")

    goto(page, server, "/recherche?q=doliprane", selector=PAGE_LINK, text="DOLIPRANE")
    expect(page.get_by_label("Nom, substance, code CIS / CIP, classe ATC ou laboratoire")).to_have_value("doliprane")

    goto(page, server, "/catalogue?atc=N02BE", selector="h1", text="Catalogue")
    page.locator(DATAFRAME).first.wait_for(state="visible")
    page.locator(MAIN).get_by_text(re.compile(r"^[1-9][\d\u202f\u00a0 ]* médicaments?\.$")).first.wait_for(
        state="visible"
    )

    goto(page, server, "/donnees", selector="h1", text="Données ouvertes")
    page.locator(DATAFRAME).first.wait_for(state="visible")
    page.locator(METRIC).nth(3).wait_for(state="visible")
    labels = page.locator(f'{METRIC} [data-testid="stMetricLabel"]').all_inner_texts()
    assert [t.strip() for t in labels] == ["Fichiers sources lus", "Lignes lues", "Lignes rejetées", "Valeurs écartées"]

    goto(page, server, "/medicament?cis=abc", selector="h1", text="Médicament introuvable")
    page.get_by_text("n'est pas un code CIS valide").first.wait_for(state="visible")


def test_cold_deep_link_has_no_page_not_found_dialog(page, cold_server, real_prepared):
    server = cold_server(real_prepared)
    goto(page, server, "/medicament?cis=60002283", selector="h1", text="ANASTROZOLE ACCORD")
    page.wait_for_timeout(500)
    assert page_not_found_dialogs(page) == []


def test_aliases_and_unknown_paths_in_french(page, cold_server, real_prepared):
    """/accueil and other obvious addresses open their page (with its parameters); an unknown
    address says so in French, offers the search, and Streamlit's English dialog never shows."""
    server = cold_server(real_prepared)
    goto(page, server, "/accueil", selector="h1", text="DataMed")
    expect(page.get_by_text("Le catalogue en chiffres")).to_be_visible()
    goto(page, server, "/sites?vue=densite", selector="h1", text="Sites pharmaceutiques")
    assert "/carte-des-sites" in page.url and "vue=densite" in page.url
    goto(page, server, "/Effets-Indesirables", selector="h1", text="Effets indésirables : vue nationale")
    goto(page, server, "/nimporte-quoi?x=1", selector="h1", text="Page introuvable")
    page.get_by_text("L'adresse « /nimporte-quoi » ne correspond à aucune page de DataMed").first.wait_for()
    assert page_not_found_dialogs(page) == [] and "Page not found" not in page.inner_text("body")
    # its search box works (the page stays declared for the rerun of the form)
    box = page.get_by_label("Rechercher un médicament, une substance ou un code")
    box.fill("doliprane")
    box.press("Enter")
    wait_for_app(page, selector="h1", text="Recherche")
    assert "/recherche" in page.url and "q=doliprane" in page.url
    assert page_not_found_dialogs(page) == []


# --- adverse effects (pharmacovigilance), real data --------------------------------


def test_compare_deep_link_on_cold_server(page, cold_server, real_prepared, tmp_path):
    """The compare page is the server's very first request; its four tabs each draw a chart."""
    server = cold_server(real_prepared)
    goto(page, server, COMPARE_PATH, selector="h1", text=COMPARE_TITLE)
    assert page.locator("h1").first.inner_text().strip() == COMPARE_TITLE
    summary = page.locator(DATAFRAME).first  # summary table, one row per substance
    summary.wait_for(state="visible")
    assert tab_names(page, 4) == [
        "Classes d'organes",
        "Taux de notification",
        "Âge et sexe",
        "Disproportionnalité (ROR)",
    ]

    # first tab: grouped bars per organ class
    soc = rendered_chart(page.locator(f"{TAB_PANEL} >> visible=true").first)
    data = screenshot_element(page, CHART, tmp_path / "compare_soc.png")
    assert data[:8] == PNG_MAGIC and len(data) > 5_000, f"chart screenshot only {len(data)} bytes"
    # accessible description: vega-embed puts the chart's description (Streamlit's ``alt``,
    # the same text here) on the chart container itself, an ARIA graphics document
    assert soc.get_attribute("role") == "graphics-document"
    assert soc.get_attribute("aria-roledescription") == "visualization"
    label = soc.get_attribute("aria-label") or ""
    assert label.startswith("Part des cas par classe d'organes, comparée entre "), label
    assert all(name in label for name in COMPARE_NAMES), label

    for name, description in (
        ("Taux de notification", "Taux de notification (cas déclarés pour 100 000 consommants par an"),
        ("Âge et sexe", "Taux de notification pour 100 000 consommants par classe d'âge"),
        ("Disproportionnalité (ROR)", "Diagramme en forêt"),
    ):
        chart = rendered_chart(open_tab(page, name))
        assert (chart.get_attribute("aria-label") or "").startswith(description), name
    assert_no_exception(page)
    assert page_not_found_dialogs(page) == []


def test_compare_csv_download_is_masked(page, real_server):
    goto(page, real_server, COMPARE_PATH, selector="h1", text=COMPARE_TITLE)
    button = page.get_by_role("button", name="Télécharger le tableau (CSV, valeurs masquées)")
    with page.expect_download() as info:
        button.click()
    download = info.value
    assert download.suggested_filename.endswith(".csv") and "ANSM-BNPV-2014-2018" in download.suggested_filename
    raw = download.path().read_bytes()
    # a plain header row first, no comment line (issue 13): the provenance is in the file name
    assert raw.startswith("\ufeffSubstance;".encode()), raw[:80]

    lines = raw.decode("utf-8-sig").splitlines()
    rows = list(csv.reader(lines, delimiter=";"))
    header, body = rows[0], rows[1:]
    assert header[:3] == ["Substance", "Classe d'organes (SOC)", "Cas"], header
    assert len(header) > 5 and all(len(row) == len(header) for row in body)
    assert {row[0].split(" ")[0] for row in body} == set(COMPARE_NAMES)
    shown = []
    for row in body:
        cas = row[header.index("Cas")]
        if cas in ("masqué", "—"):  # withheld (one status, small or not), no value
            continue
        assert re.fullmatch(r"\d{1,3}(\u202f\d{3})*", cas), f"unexpected Cas value {cas!r} in {row}"
        shown.append(int(cas.replace("\u202f", "")))
    assert shown and min(shown) >= 11, sorted(shown)[:5]


def test_national_view_tabs(page, real_server):
    goto(page, real_server, "/vue-nationale", selector="h1", text="Effets indésirables : vue nationale")
    page.get_by_text(re.compile(r"paires cas-substance")).first.wait_for(state="visible")
    tabs = ["Par année", "Par classe d'organes", "Âge et sexe", "Substances les plus citées"]
    assert tab_names(page, 4) == tabs
    for name in tabs[:3]:
        rendered_chart(open_tab(page, name))
    open_tab(page, tabs[3]).locator('[data-testid="stDataFrame"]').first.wait_for(state="visible")
    assert_no_exception(page)


@pytest.mark.parametrize(
    "path, title",
    [("/substance?substance=42215", "Anastrozole"), ("/medicament?cis=60002283", "ANASTROZOLE ACCORD 1 mg")],
    ids=["substance", "medicament"],
)
def test_adverse_effects_section(page, real_server, tmp_path, path, title):
    goto(page, real_server, path, selector="h1", text=title)
    page.get_by_role("heading", name="Effets indésirables déclarés", exact=True).wait_for(state="visible")
    summary = page.locator(MAIN).get_by_text(
        re.compile(r"^Entre 2014 et 2018, \d[\d\u202f]* cas d'effets indésirables")
    )
    text = summary.first.inner_text()
    assert "« anastrozole »" in text and "\\" not in text and "**" not in text, text
    metrics = page.locator(f"{METRIC} >> visible=true")
    metrics.nth(2).wait_for(state="visible")
    assert metrics.count() == 3, metrics.all_inner_texts()
    assert "300" in metrics.first.inner_text()  # cases declared, 2014-2018
    assert tab_names(page, 3) == ["Par classe d'organes", "Âge et sexe", "Évolution"]

    chart = rendered_chart(page.locator(f"{TAB_PANEL} >> visible=true").first, min_height=200)
    assert (chart.get_attribute("aria-label") or "").startswith("Part des cas par classe d'organes pour Anastrozole")
    data = screenshot_element(page, CHART, tmp_path / "soc.png")
    assert data[:8] == PNG_MAGIC and len(data) > 5_000, f"chart screenshot only {len(data)} bytes"

    method = page.locator(EXPANDER).filter(has_text="Méthode").first  # the section's, before the page's own
    method.locator("summary").click()
    method.get_by_text("Disproportionnalité").first.wait_for(state="visible")
    assert_no_exception(page)


# --- demo data ----------------------------------------------------------------------


def test_demo_home_banner_and_key_figures(page, demo_server):
    goto(page, demo_server, "/", selector="h1", text="DataMed")
    page.locator('[data-testid="stAlert"]').filter(has_text=DEMO_WARNING).first.wait_for(state="visible")
    metrics = page.locator(METRIC)
    metrics.nth(3).wait_for(state="visible")
    assert metrics.count() == 4
    values = metrics.locator('[data-testid="stMetricValue"]').all_inner_texts()
    for value in values:
        assert re.fullmatch(r"\d[\d\u202f\u00a0 ]*", value.strip()), values
    assert int(re.sub(r"\D", "", values[0])) > 0  # some specialities


def _demo_substance(prepared) -> tuple[str, str]:
    """A demo substance used by several specialities: (code, name)."""
    frame = (
        pl.read_parquet(prepared / "substances.parquet")
        .filter(pl.col("n_specialites") >= 2)
        .sort(["n_specialites", "code_substance"], descending=[True, False])
    )
    assert frame.height, "no demo substance used by two specialities"
    row = frame.row(0, named=True)
    return row["code_substance"], row["denomination"]


def test_demo_search_substance_click_through(page, demo_server, demo_prepared):
    code, name = _demo_substance(demo_prepared)
    goto(page, demo_server, "/", selector="h1", text="DataMed")
    search_from_header(page, name.lower())
    page.locator('[data-testid="stAlert"]').filter(has_text=DEMO_WARNING).first.wait_for(state="visible")

    # search result -> substance page
    link = page.locator(f'{PAGE_LINK}[href$="substance?substance={code}"]')
    assert link.count() == 1, page.locator(PAGE_LINK).all_inner_texts()
    click_and_wait(page, link, url=rf"/substance\?substance={code}", title=name.capitalize()[:20])
    table = page.locator(DATAFRAME).first
    table.wait_for(state="visible")

    # substance table row -> medicine page, whose composition links back to the substance
    click_first_row(page, table)
    page.wait_for_url(re.compile(r"/medicament\?cis=\d{8}"))
    wait_for_app(page, selector=f'{PAGE_LINK}[href$="substance?substance={code}"]')
    assert_no_exception(page)
    assert page.locator("h1").first.inner_text().strip() not in ("", "Médicament introuvable")
    page.get_by_role("heading", name="Composition").first.wait_for(state="visible")


def test_demo_home_screenshot_for_readme(page, demo_server, tmp_path):
    """The README's screenshot: the home page on the demo data.

    Written to docs/screenshot.png only with DATAMED_UPDATE_SCREENSHOT=1."""
    page.set_viewport_size({"width": 1400, "height": VIEWPORT["height"]})
    goto(page, demo_server, "/", selector="h1", text="DataMed")
    page.locator(METRIC).nth(3).wait_for(state="visible")
    update = os.environ.get("DATAMED_UPDATE_SCREENSHOT") == "1"
    out = REPO_ROOT / "docs" / "screenshot.png" if update else tmp_path / "home.png"
    out.parent.mkdir(exist_ok=True)
    data = screenshot_element(page, MAIN_BLOCK, out)
    assert data[:8] == PNG_MAGIC and len(data) > 10_000


def test_demo_compare_top_substances(page, demo_server, demo_prepared):
    top = (
        pl.read_parquet(demo_prepared / "ei_substances.parquet")
        .filter(pl.col("n_cas").is_not_null())
        .sort(["n_cas", "ei_id"], descending=[True, False])
        .head(2)
    )
    assert top.height == 2, "fewer than two demo substances with cases"
    query = urlencode([("s", ei_id) for ei_id in top["ei_id"]])
    goto(page, demo_server, f"/comparer?{query}", selector="h1", text=COMPARE_TITLE)
    page.locator('[data-testid="stAlert"]').filter(has_text=DEMO_WARNING).first.wait_for(state="visible")
    page.locator(DATAFRAME).first.wait_for(state="visible")
    label = rendered_chart(page.locator(f"{TAB_PANEL} >> visible=true").first).get_attribute("aria-label") or ""
    plain = strip_accents(label).lower()  # the page writes the BDPM's accents, the source has none
    assert all(strip_accents(name.split(" (")[0]).lower() in plain for name in top["nom"]), (
        label,
        top["nom"].to_list(),
    )
    assert_no_exception(page)
