"""The adverse-effect pages of issue 13, in the browser, on the real data: diclofénac
(salts pooled), paracétamol (no rate, and why), amoxicilline + acide clavulanique (the
comparison, rates with intervals) and the pneumococcal vaccine (one case series for
its serotypes). Each test keeps a screenshot of what a user sees."""

from __future__ import annotations

import re

import polars as pl
import pytest

from .conftest import assert_no_exception, goto, screenshot_element
from .test_browser import CHART, MAIN, MAIN_BLOCK, METRIC, PNG_MAGIC, TAB_PANEL, open_tab, rendered_chart

pytestmark = pytest.mark.browser

SECTION = "Effets indésirables déclarés"


def _code(prepared, name: str) -> str:
    names = pl.read_parquet(prepared / "noms_substances.parquet")
    return names.filter(pl.col("denomination_substance") == name)["code_substance"][0]


def _open_substance(page, server, prepared, name: str, title: str) -> None:
    """The substance page of the BDPM substance ``name``, by its code."""
    goto(page, server, f"/substance?substance={_code(prepared, name)}", selector="h1", text=title)


def _summary(page) -> str:
    found = page.locator(MAIN).get_by_text(re.compile(r"^Entre 2014 et 2018, \d[\d\u202f]* cas d'effets indésirables"))
    found.first.wait_for(state="visible")
    return found.first.inner_text()


def _shot(page, tmp_path, name: str) -> None:
    data = screenshot_element(page, MAIN_BLOCK, tmp_path / f"{name}.png")
    assert data[:8] == PNG_MAGIC and len(data) > 20_000, f"{name}: screenshot only {len(data)} bytes"


def test_diclofenac_reads_as_one_active_moiety(page, real_server, real_prepared, tmp_path):
    _open_substance(page, real_server, real_prepared, "DICLOFÉNAC", "Diclofénac")
    page.get_by_role("heading", name=SECTION, exact=True).wait_for(state="visible")
    text = _summary(page)
    assert "« diclofénac » (toutes ses formes réunies)" in text, text
    assert "consommants" in text and "taux de notification de 4,7 cas" in text, text
    assert "patients traités" not in text and "17" not in text.split("cas d'effets")[0][-12:], text
    metrics = page.locator(f"{METRIC} >> visible=true")
    metrics.nth(2).wait_for(state="visible")
    labels = metrics.all_inner_texts()
    assert any("Consommants par an" in m for m in labels) and any(
        "Taux pour 100 000 consommants" in m for m in labels
    ), labels
    detail = page.locator(f'{MAIN} [data-testid="stExpander"]').filter(
        has_text=re.compile(r"Détail par forme de la substance \(5 formes regroupées\)")
    )
    detail.first.locator("summary").click()
    detail.first.locator('[data-testid="stDataFrame"]').first.wait_for(state="visible")
    detail.first.get_by_text("aucun taux n'est donné par forme").first.wait_for(state="visible")
    rendered_chart(page.locator(f"{TAB_PANEL} >> visible=true").first)
    _shot(page, tmp_path, "diclofenac")
    assert_no_exception(page)


def test_paracetamol_says_why_it_has_no_rate(page, real_server, real_prepared, tmp_path):
    _open_substance(page, real_server, real_prepared, "PARACÉTAMOL", "Paracétamol")
    text = _summary(page)
    assert "Aucun taux n'est calculé : la source compte plus de consommants que d'habitants en France" in text, text
    metrics = page.locator(f"{METRIC} >> visible=true")
    metrics.nth(2).wait_for(state="visible")
    assert metrics.nth(2).inner_text().strip().endswith("—")
    _shot(page, tmp_path, "paracetamol")
    assert_no_exception(page)


def test_amoxicillin_and_clavulanic_acid_compared(page, real_server, real_prepared, tmp_path):
    """The fixed combination's two parts, found by the French picker and compared; the
    rate chart draws each rate with its interval."""
    goto(page, real_server, "/comparer?s=fraction-amoxicilline", selector="h1", text="Comparer")
    box = page.get_by_label("Ajouter à la comparaison")
    box.fill("acide clavulanique")
    box.press("Enter")
    add = page.locator(MAIN).get_by_role("button", name=re.compile(r"^Acide clavulanique"))
    add.first.wait_for(state="visible")
    add.first.click()
    page.wait_for_url(re.compile(r"s=fraction-amoxicilline&s=potassium"))
    page.locator(f"{MAIN} [data-testid='stDataFrame'] >> visible=true").first.wait_for(state="visible")
    assert "No results" not in page.locator(MAIN).inner_text()
    panel = open_tab(page, "Taux de notification")
    chart = rendered_chart(panel, min_height=100)
    label = chart.get_attribute("aria-label") or ""
    assert label.startswith("Taux de notification") and "Amoxicilline" in label and "Acide clavulanique" in label, label
    assert re.search(r"\[\d[\d,\u202f]* – \d", label), label  # each rate with its interval, in words too
    data = screenshot_element(page, CHART + " >> visible=true", tmp_path / "amoxicilline_rates.png")
    assert data[:8] == PNG_MAGIC and len(data) > 5_000
    _shot(page, tmp_path, "amoxicilline_clavulanique")
    assert_no_exception(page)


def test_pneumococcal_vaccine_serotypes_are_one_case_series(page, real_server, real_prepared, tmp_path):
    series = pl.read_parquet(real_prepared / "ei_series_identiques.parquet")
    group = series.group_by("groupe_id").len().filter(pl.col("len") == 23)["groupe_id"][0]
    first = group.removeprefix("groupe-")
    links = pl.read_parquet(real_prepared / "ei_liens.parquet").filter(pl.col("ei_id") == first)
    goto(page, real_server, f"/substance?substance={links['code_substance'][0]}", selector="h1")
    text = _summary(page)
    assert "exactement ceux de 22 autres composants d'un même produit" in text, text
    assert "mêmes déclarations" in text and "qu'une fois dans les comparaisons" in text, text
    _shot(page, tmp_path, "vaccin_pneumococcique")
    assert_no_exception(page)
