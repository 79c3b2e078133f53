"""End-to-end tests of the shortages dashboard (/ruptures) and the medicine availability section.

Run with ``python -m pytest tests/browser/test_browser_shortages.py -q``.
"""

from __future__ import annotations

import re

import polars as pl
import pytest
from playwright.sync_api import expect

from datamed.store import Store
from datamed.views import shortages as shortage_views

from .conftest import assert_no_exception, goto, page_not_found_dialogs, screenshot_element, wait_for_app

pytestmark = pytest.mark.browser

MAIN = '[data-testid="stMain"]'
PAGE_LINK = f'{MAIN} [data-testid="stPageLink-NavLink"]'
CHART = '[data-testid="stVegaLiteChart"]'
TAB = f'{MAIN} [data-testid="stTab"]'
TAB_PANEL = f'{MAIN} [role="tabpanel"]'  # Streamlit only mounts the selected tab's panel
EXPANDER = f'{MAIN} [data-testid="stExpander"]'
METRIC = f'{MAIN} [data-testid="stMetric"]'
ALERT = '[data-testid="stAlert"]'
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

TITLE = "Ruptures et tensions d'approvisionnement"
TABS = ["Répartition", "Chronologie", "Durées", "Épisodes en cours", "Historique 2014-2020", "Risque (expérimental)"]
DEMO_WARNING = "Données de démonstration"
PHARMACIST = "Demandez conseil à votre pharmacien ou médecin."


# --- helpers (kept local: test_browser.py is edited elsewhere) ----------------------


def chart_box(chart) -> dict:
    """Size of a chart's svg/canvas once Vega has drawn its marks, and how many marks (pixels for a canvas)."""
    chart.locator("svg .role-mark > *, canvas").first.wait_for(state="attached")
    return chart.evaluate(
        """el => {
            const g = el.querySelector('svg, canvas'), r = g.getBoundingClientRect();
            const marks = g.tagName.toLowerCase() === 'svg'
                ? g.querySelectorAll('.role-mark > *').length : g.width * g.height;
            return {width: r.width, height: r.height, marks};
        }"""
    )


def visible_charts(scope, *, at_least: int = 1) -> list:
    """The visible Vega charts of ``scope``, each once drawn (non-empty, at least 300 px wide)."""
    charts = scope.locator(f"{CHART} >> visible=true")
    charts.nth(at_least - 1).wait_for(state="visible")
    out = []
    for i in range(charts.count()):
        info = chart_box(charts.nth(i))
        assert info["marks"] > 0 and info["width"] > 300, info
        out.append((charts.nth(i), info))
    return out


def tab_names(page, expected: int) -> list[str]:
    page.locator(TAB).nth(expected - 1).wait_for(state="visible")
    return [t.strip() for t in page.locator(TAB).all_inner_texts()]


def open_tab(page, name: str):
    """Click the tab ``name`` (client-side, no rerun) and return its panel."""
    page.locator(TAB).filter(has_text=name).first.click()
    page.locator(f'{TAB}[aria-selected="true"]').filter(has_text=name).first.wait_for(state="visible")
    return page.locator(f"{TAB_PANEL} >> visible=true").first


def selected_statuses(page, expected: int | None = None) -> list[str]:
    """The chips of the Statut multiselect; waits for ``expected`` chips to be drawn first."""
    tags = page.locator(f'{MAIN} [data-testid="stMultiSelect"]').filter(has_text="Statut").locator("[data-tag]")
    if expected:
        tags.nth(expected - 1).wait_for(state="visible")
    return [t.strip() for t in tags.all_inner_texts()]


def click_first_row(page, table) -> None:
    """Select the first row of a ``st.dataframe(selection_mode="single-row")`` (a canvas)."""
    table.scroll_into_view_if_needed()
    box = table.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + 15, box["y"] + 35 + 17)  # row-marker column, below the 35 px header


@pytest.fixture(scope="module")
def in_rupture(real_prepared) -> tuple[str, str, list[str]]:
    """A catalogued medicine currently in rupture (whole CIS) with alternatives: (cis, name, alternative CIS)."""
    current = (
        pl.read_parquet(real_prepared / "ruptures_episodes.parquet")
        .filter(pl.col("en_cours") & pl.col("cip13").is_null() & pl.col("au_catalogue") & (pl.col("statut") == 1))
        .sort("cis")
    )
    store = Store(real_prepared)
    for cis, name in current.select("cis", "denomination").unique(maintain_order=True).rows():
        alts = shortage_views.alternatives(store, cis)
        others = alts.filter(pl.col("cis") != cis)["cis"].head(25).to_list()
        if others:
            return cis, name, others
    pytest.fail("no medicine currently in rupture has an alternative in the prepared data")


# --- /ruptures, real data ------------------------------------------------------------


def test_shortages_deep_link_on_cold_server(page, cold_server, real_prepared, tmp_path):
    """The filtered dashboard is the server's very first request."""
    server = cold_server(real_prepared)
    goto(page, server, "/ruptures?statut=rupture&atc=N&mitm=true", selector="h1", text=TITLE)
    assert page.locator("h1").first.inner_text().strip() == TITLE
    page.locator(METRIC).nth(4).wait_for(state="visible")
    assert page.locator(METRIC).count() == 5

    # filters restored from the URL
    assert selected_statuses(page, 1) == ["Rupture de stock"]
    # a widget's value from the URL shows a frame after the widget itself: read it with retries
    expect(page.get_by_role("switch", name="MITM")).to_be_checked()
    expect(page.get_by_role("combobox", name="Classe ATC")).to_have_value(re.compile("^N — "))
    assert tab_names(page, 6) == TABS

    # first tab: one bar chart per breakdown; the tallest is well over 100 px
    charts = visible_charts(page.locator(f"{TAB_PANEL} >> visible=true").first)
    tallest = max(range(len(charts)), key=lambda i: charts[i][1]["height"])
    chart, info = charts[tallest]
    box = chart.bounding_box()
    assert box is not None and box["height"] > 100, (box, info)
    data = screenshot_element(page, f"{CHART} >> visible=true >> nth={tallest}", tmp_path / "ruptures_repartition.png")
    assert data[:8] == PNG_MAGIC and len(data) > 5_000, f"chart screenshot only {len(data)} bytes"
    assert_no_exception(page)
    assert page_not_found_dialogs(page) == []


def test_status_filter_is_synced_to_url(page, real_server):
    goto(page, real_server, "/ruptures?statut=rupture", selector="h1", text=TITLE)
    assert selected_statuses(page, 1) == ["Rupture de stock"]
    caption = page.locator(MAIN).get_by_text(re.compile(r"médicaments?, .* épisodes? : ")).first
    assert "tension" not in caption.inner_text()

    page.get_by_role("combobox", name="Statut").click()
    page.get_by_role("option", name="Tension d'approvisionnement").click()
    page.keyboard.press("Escape")
    expect(page).to_have_url(re.compile(r"statut=tension"))
    wait_for_app(page, selector=MAIN, text="rupture de stock, tension d'approvisionnement ·")
    assert re.search(r"[?&]statut=rupture&statut=tension(&|$)", page.url), page.url
    assert selected_statuses(page, 2) == ["Rupture de stock", "Tension d'approvisionnement"]
    assert "rupture de stock, tension d'approvisionnement" in caption.inner_text()
    assert_no_exception(page)

    # the URL so produced is a working deep link
    goto(page, real_server, page.url.removeprefix(real_server.url), selector="h1", text=TITLE)
    assert selected_statuses(page, 2) == ["Rupture de stock", "Tension d'approvisionnement"]


def test_shortages_tabs(page, real_server):
    goto(page, real_server, "/ruptures?statut=rupture&statut=tension&periode=fiable", selector="h1", text=TITLE)
    assert tab_names(page, 6) == TABS

    visible_charts(open_tab(page, "Chronologie"))
    assert_no_exception(page)

    # one real snapshot: every episode enters the archive when it is last seen, no end is
    # observed after entry, so the page says durations are not estimable (no empty chart)
    durations = open_tab(page, "Durées")
    durations.locator(ALERT).filter(has_text="les durées ne sont pas estimables").first.wait_for(state="visible")
    expect(durations.get_by_text("entrée tardive").first).to_be_visible()
    assert durations.locator(CHART).count() == 0
    assert_no_exception(page)

    history = open_tab(page, "Historique 2014-2020")
    charts = visible_charts(history)
    assert (charts[0][0].get_attribute("aria-label") or "").startswith("Signalements de ruptures par année")
    assert_no_exception(page)

    method = page.locator(EXPANDER).filter(has_text="Méthode").first
    method.locator("summary").click()
    method.get_by_text("Kaplan-Meier").first.wait_for(state="visible")


def test_current_episode_search_and_row_click(page, real_server, in_rupture):
    """Search the current episodes for one medicine, then click its row: its page opens."""
    cis, name, _ = in_rupture
    goto(page, real_server, "/ruptures", selector="h1", text=TITLE)
    panel = open_tab(page, "Épisodes en cours")
    caption = panel.locator('[data-testid="stCaptionContainer"]').filter(has_text="Cliquez sur une ligne").first
    total = int(re.sub(r"\D", "", caption.inner_text().split("épisode")[0]))
    assert total > 10, caption.inner_text()

    box = panel.get_by_label("Rechercher dans les épisodes en cours (nom, CIS, titulaire, ATC)")
    box.fill(cis)
    box.press("Enter")
    expect(caption).not_to_have_text(re.compile(rf"^{total}\b"))
    wait_for_app(page, selector=TAB_PANEL, text="Cliquez sur une ligne")
    shown = int(re.sub(r"\D", "", caption.inner_text().split("épisode")[0]))
    assert 1 <= shown < total, caption.inner_text()

    table = panel.locator('[data-testid="stDataFrame"]').first
    table.wait_for(state="visible")
    click_first_row(page, table)
    page.wait_for_url(re.compile(rf"/medicament\?cis={cis}$"))
    wait_for_app(page, selector="h1", text=name[:20])
    assert_no_exception(page)
    page.get_by_role("heading", name="Disponibilité").first.wait_for(state="visible")


# --- medicine page of a medicine in rupture ------------------------------------------


def test_medicine_in_rupture_shows_alternatives(page, real_server, in_rupture, tmp_path):
    cis, name, others = in_rupture
    goto(page, real_server, f"/medicament?cis={cis}", selector="h1", text=name[:20])
    page.get_by_role("heading", name="Disponibilité").first.wait_for(state="visible")
    status = page.locator(f"{MAIN} p").filter(has_text=re.compile(r"^Situation au ")).first
    assert "rupture" in status.inner_text().lower(), status.inner_text()

    page.get_by_role("heading", name="Alternatives disponibles").first.wait_for(state="visible")
    links = page.locator(f'{PAGE_LINK}[href*="medicament?cis="]')
    links.first.wait_for(state="visible")  # the heading can be drawn before the links under it
    hrefs = [links.nth(i).get_attribute("href") or "" for i in range(links.count())]
    linked = {m.group(1) for h in hrefs if (m := re.search(r"cis=(\d{8})", h))}
    assert linked & set(others), (hrefs, others)
    assert cis not in linked
    page.locator(ALERT).filter(has_text=PHARMACIST).first.wait_for(state="visible")

    timeline = page.locator(f'{MAIN} {CHART}[aria-label^="Chronologie des épisodes"]').first
    timeline.wait_for(state="visible")
    info = chart_box(timeline)
    assert info["marks"] > 0 and info["width"] > 300 and info["height"] > 40, info
    history = page.locator(EXPANDER).filter(has_text=re.compile(r"Historique des épisodes \(\d+\)")).first
    history.wait_for(state="visible")
    data = screenshot_element(
        page, f'{MAIN} {CHART}[aria-label^="Chronologie des épisodes"]', tmp_path / "timeline.png"
    )
    assert data[:8] == PNG_MAGIC
    assert_no_exception(page)


# --- demo data ----------------------------------------------------------------------


def test_demo_shortages_durations(page, demo_server, tmp_path):
    goto(page, demo_server, "/ruptures", selector="h1", text=TITLE)
    page.locator(ALERT).filter(has_text=DEMO_WARNING).first.wait_for(state="visible")
    page.locator(METRIC).nth(4).wait_for(state="visible")
    visible_charts(page.locator(f"{TAB_PANEL} >> visible=true").first)

    durations = open_tab(page, "Durées")
    median = durations.get_by_text("Durée médiane d'un épisode, jusqu'au retour ou à l'arrêt")
    median.first.wait_for(state="visible")
    text = median.first.inner_text()
    assert re.search(
        r"à l'arrêt : \d[\d\u202f\u00a0 ]* jours \[(?:\d[\d\u202f\u00a0 ]*|—) – (?:\d[\d\u202f\u00a0 ]*|non atteinte)\]",
        text,
    ), text
    charts = visible_charts(durations, at_least=2)
    labels = [(c.get_attribute("aria-label") or "") for c, *_ in charts]
    assert labels[0].startswith("Courbe de Kaplan-Meier") and labels[1].startswith(
        "Parts cumulées des épisodes terminés"
    )
    screenshot_element(page, f"{CHART} >> visible=true", tmp_path / "demo_km.png")
    assert_no_exception(page)


def test_risk_tab_on_a_two_year_archive(page, start_server, long_demo_prepared, tmp_path):
    """Two years of weekly snapshots: the evaluation, its gains with intervals, the reliability
    chart (drawn, with its text alternative) and why no list is shown."""
    server = start_server(long_demo_prepared)
    goto(page, server, "/ruptures", selector="h1", text=TITLE)
    panel = open_tab(page, "Risque (expérimental)")
    panel.get_by_text("Le modèle est masqué").first.wait_for(state="visible")
    expect(panel.get_by_text("Gain de PR-AUC sur la meilleure référence").first).to_be_visible()
    panel.locator(ALERT).filter(has_text="Aucune liste de médicaments à risque").first.wait_for(state="visible")
    charts = visible_charts(panel)
    label = charts[0][0].get_attribute("aria-label") or ""
    assert label.startswith("Fiabilité des probabilités, par décile de risque prédit : classe 1 : prédit"), label
    png = screenshot_element(page, f"{TAB_PANEL} {CHART} >> visible=true", tmp_path / "reliability.png")
    assert png.startswith(PNG_MAGIC)
    assert_no_exception(page)
