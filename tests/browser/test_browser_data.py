"""End-to-end tests of the open-data pages: /qualite (charts, drill-down) and /donnees (downloads).

Run with ``python -m pytest tests/browser/test_browser_data.py -q``.
"""

from __future__ import annotations

import csv
import io

import pytest

from datamed.core import disclosure

from .conftest import assert_no_exception, goto, page_not_found_dialogs, screenshot_element

pytestmark = pytest.mark.browser

MAIN = '[data-testid="stMain"]'
CHART = f'{MAIN} [data-testid="stVegaLiteChart"]'
DATAFRAME = f'{MAIN} [data-testid="stDataFrame"] >> visible=true'
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def drawn(chart) -> dict:
    """Wait until Vega has drawn marks in ``chart``; return its size and mark count."""
    chart.locator("svg .role-mark > *, canvas").first.wait_for(state="attached")
    return chart.evaluate(
        """el => {
            const g = el.querySelector('svg, canvas'), r = g.getBoundingClientRect();
            const marks = g.tagName.toLowerCase() === 'svg' ? g.querySelectorAll('.role-mark > *').length : 1;
            return {width: r.width, height: r.height, marks: marks, label: el.getAttribute('aria-label') || ''};
        }"""
    )


def test_quality_page_cold_deep_link_draws_charts(page, cold_server, real_prepared, tmp_path):
    """/qualite with a chosen link is the server's first request: the score chart and the
    link charts are drawn, with French descriptions, and the failing rows are listed."""
    server = cold_server(real_prepared)
    goto(
        page,
        server,
        "/qualite?lien=pv_bdpm&controle=presentations:dates_futures",
        selector="h1",
        text="Qualité des données",
    )
    charts = page.locator(CHART)
    charts.nth(2).wait_for(state="visible")
    scores = drawn(charts.nth(0))
    assert scores["label"].startswith("Score de qualité sur 100 de chaque source"), scores
    assert scores["height"] > 300 and scores["marks"] >= 20  # one bar and one label per source
    coverage = drawn(charts.nth(1))
    assert coverage["label"].startswith("Couverture de chaque liaison"), coverage
    bands = drawn(charts.nth(2))
    assert "tranche de score" in bands["label"] and "pharmacovigilance" in bands["label"].lower(), bands
    png = screenshot_element(page, f"{MAIN} [data-testid='stVegaLiteChart']", tmp_path / "scores.png")
    assert png[:8] == PNG_MAGIC and len(png) > 5_000
    # the CIP declared on 2924-11-29 (the grid draws on a canvas; its accessible cells stay hidden)
    page.locator('[role="gridcell"]', has_text="3400955097891").first.wait_for(state="attached")
    assert_no_exception(page)
    assert page_not_found_dialogs(page) == []


def test_data_page_csv_download_is_the_masked_public_file(page, real_server, real_store):
    goto(page, real_server, "/donnees?jeu=ei_annee", selector="h1", text="Données ouvertes")
    button = page.get_by_role("button", name="Télécharger en CSV")
    with page.expect_download() as info:
        button.click()
    download = info.value
    assert download.suggested_filename == "ei_annee.csv"
    rows = list(csv.DictReader(io.StringIO(download.path().read_bytes().decode("utf-8"))))
    assert len(rows) == real_store.table("ei_annee").height
    assert "source_line" not in rows[0] and {"n_cas", "n_cas_statut", "taux"} <= set(rows[0])
    shown = [int(r["n_cas"]) for r in rows if r["n_cas"]]
    # zero identifies nobody; every other published count is at least the threshold
    assert shown and all(n == 0 or n >= disclosure.DEFAULT_THRESHOLD for n in shown) and max(shown) > 0
    masked = [r for r in rows if r["n_cas_statut"]]
    assert masked and all(r["n_cas"] == "" and r["taux"] == "" and r["part_cas"] == "" for r in masked)
    assert {r["n_cas_statut"] for r in masked} == {"masqué"}  # one status
    assert_no_exception(page)
