"""Browser tests: what the charts and widgets write is French (numbers, labels, widget texts)."""

from __future__ import annotations

import re

import pytest

from .conftest import assert_no_exception, goto

pytestmark = pytest.mark.browser

MAIN = '[data-testid="stMain"]'
CHART = f"{MAIN} [data-testid='stVegaLiteChart']"
ENGLISH_WIDGET_TEXTS = ("Choose an option", "Choose options", "Select all", "No results")


def _chart_texts(page, index: int = 0) -> list[str]:
    chart = page.locator(CHART).nth(index)
    chart.locator("svg text").first.wait_for(state="attached")
    return [t.strip() for t in chart.locator("svg text").all_text_contents()]


def test_chart_axes_write_numbers_the_french_way(page, real_server):
    """The charts' locale reaches Vega: its own tick labels read 100 000 (narrow no-break
    space), not 100,000; the bar labels read 106 440."""
    goto(page, real_server, "/vue-nationale", selector="h1", text="Effets indésirables : vue nationale")
    texts = _chart_texts(page)
    ticks = [t for t in texts if re.fullmatch(r"[\d\u202f,. ]+", t)]
    assert "100\u202f000" in ticks and "50\u202f000" in ticks, ticks
    assert not [t for t in ticks if "," in t or "." in t], ticks
    assert "106\u202f440" in texts  # 2014's pairs, written on its bar
    assert_no_exception(page)


def test_chart_decimals_use_a_comma(page, real_server):
    goto(page, real_server, "/medicament?cis=60002283", selector="h1")
    texts = _chart_texts(page)
    decimals = [t for t in texts if re.fullmatch(r"\d+[,.]\d", t)]
    assert decimals and all("," in t for t in decimals), texts
    assert "21,3" in decimals
    assert_no_exception(page)


def test_widgets_have_no_english_texts(page, real_server):
    goto(page, real_server, "/carte-des-sites", selector="h1", text="Sites pharmaceutiques")
    main = page.locator(MAIN)
    kinds = main.locator("[data-testid='stMultiSelect']").filter(has_text="Type de site")
    kinds.locator("input").first.click()
    options = page.locator("[role='option']")
    options.first.wait_for(state="visible")
    shown = [o.strip() for o in options.all_inner_texts()]
    assert "Fabrication de principe actif" in shown and "Pharmacie" in shown, shown
    assert not [o for o in shown if o.startswith(("Select", "Sélection"))], shown  # no English "Select all"
    page.keyboard.press("Escape")
    body = main.inner_text()
    assert not [t for t in ENGLISH_WIDGET_TEXTS if t in body], body[:500]
    for path in ("/catalogue", "/ruptures", "/qualite"):
        goto(page, real_server, path, selector="h1")
        body = page.locator(MAIN).inner_text()
        assert not [t for t in ENGLISH_WIDGET_TEXTS if t in body], path
    assert_no_exception(page)
