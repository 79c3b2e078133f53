"""End-to-end tests: a real browser against a live ``streamlit run app.py``.

Run with ``python -m pytest tests/browser -q``; skip with ``-m "not browser"``.
"""

from __future__ import annotations

import os
import re

import polars as pl
import pytest

from datamed.config import REPO_ROOT

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
DATAFRAME = f'{MAIN} [data-testid="stDataFrame"]'
METRIC = f'{MAIN} [data-testid="stMetric"]'
SEARCH_LABEL = "Rechercher un médicament"
DEMO_WARNING = "Données de démonstration"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


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
    assert page.get_by_label("Nom, substance, code CIS / CIP, classe ATC ou laboratoire").input_value() == "doliprane"

    goto(page, server, "/catalogue?atc=N02BE", selector="h1", text="Catalogue")
    page.locator(DATAFRAME).first.wait_for(state="visible")
    page.locator(MAIN).get_by_text(re.compile(r"^[1-9][\d\u202f\u00a0 ]* médicaments?\.$")).first.wait_for(state="visible")

    goto(page, server, "/donnees", selector="h1", text="Sources et rejets")
    page.locator(DATAFRAME).first.wait_for(state="visible")
    assert page.locator(METRIC).count() == 3

    goto(page, server, "/medicament?cis=abc", selector="h1", text="Médicament introuvable")
    page.get_by_text("n'est pas un code CIS valide").first.wait_for(state="visible")


def test_cold_deep_link_has_no_page_not_found_dialog(page, cold_server, real_prepared):
    server = cold_server(real_prepared)
    goto(page, server, "/medicament?cis=60002283", selector="h1", text="ANASTROZOLE ACCORD")
    page.wait_for_timeout(500)
    assert page_not_found_dialogs(page) == []


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
