"""The medicine page's "En bref" band in the browser (issue 15, part 1): the answer at the
top, alternatives when in shortage, prices, the section menu, and a phone-sized screen."""

from __future__ import annotations

import os
import re
from pathlib import Path

import polars as pl
import pytest
from playwright.sync_api import expect

from datamed.store import Store
from datamed.views import shortages

from .conftest import APP_TIMEOUT_MS, VIEWPORT, goto, guard_external_requests, screenshot_element, wait_for_app

pytestmark = pytest.mark.browser

BAND = ".st-key-en_bref"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def cases(real_prepared) -> dict[str, str]:
    store = Store(real_prepared)
    spec = store.table("specialites")
    eps = store.table("ruptures_episodes").filter(
        pl.col("en_cours") & pl.col("cip13").is_null() & pl.col("au_catalogue") & pl.col("statut").is_in([1, 2])
    )
    shortage = None
    for cis in eps["cis"].unique().sort().to_list():
        alts = shortages.alternatives(store, cis)
        if alts.height >= 3 and alts.head(3)["forme_differente"].any():
            shortage = cis
            break
    assert shortage, "no medicine in shortage whose alternatives differ in form"
    doliprane = spec.filter(pl.col("denomination") == "DOLIPRANE 1000 mg, comprimé")["cis"][0]
    return {"shortage": shortage, "reimbursed": doliprane}


def test_band_in_shortage_shows_the_answer_and_three_alternatives(page, real_server, cases, tmp_path):
    goto(page, real_server, f"/medicament?cis={cases['shortage']}", selector=BAND, text="En bref")
    band = page.locator(BAND)
    answer = band.get_by_text("Rupture de stock").or_(band.get_by_text("Tension d'approvisionnement")).first
    answer.wait_for(state="visible")
    size = answer.evaluate("el => parseFloat(getComputedStyle(el).fontSize)")
    assert size >= 24, f"the availability is in {size}px type"
    # the answer is above the fold, before the detailed sections
    assert answer.bounding_box()["y"] < VIEWPORT["height"]
    links = band.locator('[data-testid="stPageLink-NavLink"]')
    expect(links).to_have_count(3)  # waits: a loaded server may still be streaming the band
    for i in range(3):
        assert links.nth(i).get_attribute("href").lstrip("/").startswith("medicament?cis=")
    assert band.get_by_text("Attention : forme différente").first.is_visible()
    # a phone or a narrow window never cuts a name: the link is the name alone, the reason below
    for i in range(3):
        assert links.nth(i).evaluate("el => el.scrollWidth <= el.clientWidth + 1"), links.nth(i).inner_text()
    assert band.get_by_text("Demandez conseil à votre pharmacien").first.is_visible()
    data = screenshot_element(page, BAND, tmp_path / "en_bref_rupture.png")
    if os.environ.get("DATAMED_SHOTS"):
        (Path(os.environ["DATAMED_SHOTS"]) / "en_bref_rupture.png").write_bytes(data)
    assert data[:8] == PNG_MAGIC and len(data) > 10_000
    # an alternative opens its own page
    target = links.first.get_attribute("href").split("cis=")[-1]
    links.first.click()
    page.wait_for_url(re.compile(f"/medicament\\?cis={target}$"))
    wait_for_app(page, selector=BAND, text="En bref")


def test_band_gives_price_reimbursement_links_and_a_working_menu(page, real_server, cases):
    cis = cases["reimbursed"]
    goto(page, real_server, f"/medicament?cis={cis}", selector=BAND, text="En bref")
    band = page.locator(BAND)
    band.get_by_text("Disponible", exact=True).wait_for(state="visible")
    text = band.inner_text()
    assert "Disponible" in text and "2,09\u00a0€" in text and "Remboursé à 65 %" in text
    notice = band.get_by_role("link", name="Notice (pour le patient)")
    assert notice.get_attribute("href").endswith(f"specid={cis}&typedoc=N")
    assert band.get_by_role("link", name="Déclarer un effet indésirable").get_attribute("href") == (
        "https://signalement.social-sante.gouv.fr/"
    )
    # every heading anchor is unique: a menu link cannot land on the band's own heading
    dupes = page.evaluate(
        "() => { const seen = {}; for (const e of document.querySelectorAll('[data-testid=stMain] :is(h1, h2, h3, h4)[id]'))"
        " seen[e.id] = (seen[e.id] || 0) + 1; return Object.keys(seen).filter(k => seen[k] > 1); }"
    )
    assert dupes == []
    # the menu scrolls to the detailed section, and the page stays the same
    band.get_by_role("link", name="Disponibilité", exact=True).click()
    heading = page.locator("h2#disponibilite")
    page.wait_for_function(
        "() => { const h = document.querySelector('h2#disponibilite');"
        " const r = h && h.getBoundingClientRect(); return r && r.top >= 0 && r.top < window.innerHeight; }",
        timeout=APP_TIMEOUT_MS,
    )
    assert heading.is_visible()
    assert page.url.endswith("#disponibilite") and f"cis={cis}" in page.url


def test_band_fits_a_phone_screen(browser, real_server, cases):
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="fr-FR", is_mobile=True)
    context.set_default_timeout(APP_TIMEOUT_MS)
    outside = guard_external_requests(context)
    try:
        page = context.new_page()
        for cis in (cases["shortage"], cases["reimbursed"]):
            goto(page, real_server, f"/medicament?cis={cis}", selector=BAND, text="En bref")
            band = page.locator(BAND)
            box = band.bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= 390 + 0.5, box
            # nothing in the band or the page scrolls sideways
            overflow = page.evaluate(
                """() => {
                    const wide = [];
                    for (const el of document.querySelectorAll('.st-key-en_bref *')) {
                        const r = el.getBoundingClientRect();
                        if (r.width > 0 && r.right > window.innerWidth + 1) wide.push(el.tagName + ' ' + (el.textContent || '').slice(0, 40));
                    }
                    const main = document.querySelector('[data-testid="stMain"]');
                    return {wide, page: document.documentElement.scrollWidth - window.innerWidth,
                            main: main.scrollWidth - main.clientWidth};
                }"""
            )
            assert overflow["wide"] == [], overflow["wide"][:5]
            assert overflow["page"] <= 0 and overflow["main"] <= 0, overflow
            assert "Prix et remboursement" in band.inner_text()
    finally:
        context.close()
    assert outside == []
