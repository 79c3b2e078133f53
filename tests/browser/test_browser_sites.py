"""Browser tests of the Sites page (the offline pydeck map renders, with its layers) and of the pharmacy finder."""

from __future__ import annotations

import io
import re

import polars as pl
import pytest
from PIL import Image
from playwright.sync_api import expect

from .conftest import assert_no_exception, goto, page_not_found_dialogs, screenshot_element

pytestmark = pytest.mark.browser

MAIN = '[data-testid="stMain"]'
DECK = f'{MAIN} [data-testid="stDeckGlJsonChart"]'
TITLE = "Sites pharmaceutiques"


def test_sites_map_on_cold_server(page, cold_server, real_prepared, tmp_path):
    server = cold_server(real_prepared)
    goto(page, server, "/carte-des-sites?type=principe_actif&type=fabrication&vue=points", selector="h1", text=TITLE)
    assert page_not_found_dialogs(page) == []
    deck = page.locator(DECK).first
    deck.wait_for(state="visible")
    canvas = deck.locator("canvas").first
    canvas.wait_for(state="visible")
    box = canvas.bounding_box()
    assert box and box["width"] > 400 and box["height"] > 300
    page.wait_for_timeout(1500)  # let deck.gl draw the base layer and the points
    data = screenshot_element(page, DECK, tmp_path / "carte.png")
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000
    assert_no_exception(page)


@pytest.mark.parametrize(
    "view, title", [("densite", "Nombre de sites par hexagone"), ("departements", "Nombre de sites par département")]
)
def test_sites_other_views_render(page, real_server, view, title, tmp_path):
    goto(page, real_server, f"/carte-des-sites?type=pharmacie&vue={view}", selector="h1", text=TITLE)
    deck = page.locator(DECK).first
    deck.locator("canvas").first.wait_for(state="visible")
    page.wait_for_timeout(1000)
    data = screenshot_element(page, DECK, tmp_path / f"{view}.png")
    assert len(data) > 20_000
    # the colour scale of this view under the map: swatches, each with its counts in words
    legend = page.locator(f"{MAIN} .legende-carte")
    legend.wait_for(state="visible")
    text = legend.inner_text()
    assert text.startswith(title), text
    classes = legend.locator(".legende-classe").all_inner_texts()
    assert len(classes) >= 3, classes
    assert all(re.fullmatch(r"\d{1,3}(\u202f\d{3})*( à \d{1,3}(\u202f\d{3})*)?", c.strip()) for c in classes), classes
    assert "\u202f" in classes[-1]  # more than 999 pharmacies in the densest class: French thousands
    box, map_box = legend.bounding_box(), deck.bounding_box()
    assert box["y"] >= map_box["y"] + map_box["height"] - 1  # under the map
    assert len(legend.screenshot(path=str(tmp_path / f"legende_{view}.png"))) > 1_000
    assert page.locator(f"{MAIN}").get_by_text("Légende : ").count() == 0  # no dot legend: no dots drawn
    assert_no_exception(page)


def test_world_map_renders(page, real_server, tmp_path):
    goto(page, real_server, "/carte-des-sites", selector="h1", text=TITLE)
    page.get_by_role("tab", name="Dans le monde (FDA)").click()
    world = page.locator(f'{MAIN} [data-testid="stDeckGlJsonChart"] >> visible=true').last
    world.locator("canvas").first.wait_for(state="visible")
    page.wait_for_timeout(1500)
    box = world.bounding_box()
    assert box and box["height"] > 300
    data = world.screenshot(path=str(tmp_path / "monde.png"))
    assert len(data) > 20_000
    assert_no_exception(page)


def test_pharmacy_deep_link(page, real_server, tmp_path):
    """/pharmacies?cp=75011: the table (addresses with a street number, distances in km), the offline map
    and the coverage statement; the real lists publish no pharmacy name, and the page says so."""
    goto(page, real_server, "/pharmacies?cp=75011", selector="h1", text="Trouver une pharmacie")
    assert page_not_found_dialogs(page) == []
    # the box shows "" for a frame (about 50 ms) before its value from the URL: read it with retries
    expect(page.get_by_label("Code postal ou commune")).to_have_value("75011")
    page.get_by_text("Couverture partielle").first.wait_for(state="visible")
    page.locator(f"{MAIN} h3", has_text="Les pharmacies les plus proches de 75011 (Paris 11)").wait_for()
    cells = page.locator(f'{MAIN} [data-testid="stDataFrame"] [role="gridcell"]')
    cells.filter(has_text=" km").first.wait_for(state="attached")
    texts = [t.strip() for t in cells.all_inner_texts()]
    distances = [t for t in texts if re.fullmatch(r"\d+,\d{1,2} km", t)]
    assert len(distances) == 10
    values = [float(d.removesuffix(" km").replace(",", ".")) for d in distances]
    assert values == sorted(values) and values[0] < 1
    assert any(re.match(r"\d+ (Rue|Avenue|Boulevard|Place)\b", t) for t in texts), texts  # a street number
    page.get_by_text("Nom de la pharmacie : non publié par ces listes").wait_for(state="visible")
    deck = page.locator(DECK).first
    deck.scroll_into_view_if_needed()
    canvas = deck.locator("canvas").first
    canvas.wait_for(state="visible")
    box = canvas.bounding_box()
    assert box and box["width"] > 400 and box["height"] > 300
    page.wait_for_timeout(1500)  # deck.gl draws the outlines, the place and the numbered pharmacies
    assert len(screenshot_element(page, DECK, tmp_path / "pharmacies.png")) > 10_000
    coverage = page.locator(MAIN).get_by_text("Santé.fr n'en liste que 508, soit 12,7 %", exact=False)
    coverage.scroll_into_view_if_needed()
    coverage.wait_for(state="visible")
    assert_no_exception(page)


def test_world_tab_is_in_french(page, real_server):
    goto(page, real_server, "/carte-des-sites?onglet=Dans+le+monde+%28FDA%29", selector="h1", text=TITLE)
    chart = page.locator(f"{MAIN} [data-testid='stVegaLiteChart']").first
    chart.locator("svg text").first.wait_for(state="attached")
    labels = chart.locator("svg text").all_text_contents()
    assert {"États-Unis", "Inde", "Chine", "Allemagne", "Corée du Sud"} <= set(labels), labels
    assert not {"United States", "India", "Korea, South"} & set(labels)
    table = page.locator(f"{MAIN} [data-testid='stDataFrame']").first
    table.locator("[role='gridcell']").first.wait_for(state="attached")
    headers = table.locator("[role='columnheader']").all_text_contents()
    assert headers[:4] == ["Pays", "Établissements", "Dont principe actif", "Part mondiale principe actif"], headers
    cells = table.locator("[role='gridcell']").all_text_contents()
    assert cells[:4] == ["États-Unis", "5\u202f738", "539", "22,0 %"], cells[:8]
    assert "Inde" in cells and "21,5 %" in cells
    legend = page.locator(f"{MAIN} .legende-carte")
    assert legend.inner_text().startswith("Établissements de fabrication de principe actif par pays")
    assert_no_exception(page)


def _drawn_box(png: bytes) -> tuple[int, int, int, int, int, int]:
    """(left, top, right, bottom, width, height) of what is drawn on a white map: the
    département outlines and fills are darker than the page's white."""
    image = Image.open(io.BytesIO(png)).convert("L")
    width, height = image.size
    dark = image.point(lambda v: 255 if v < 246 else 0)
    left, top, right, bottom = dark.getbbox()
    return left, top, right, bottom, width, height


def test_holder_sites_map_shows_the_whole_of_france(page, real_server, real_store):
    holder = "SANOFI WINTHROP INDUSTRIE"
    cis = real_store.table("specialites").filter(pl.col("titulaires").list.contains(holder))["cis"][0]
    goto(page, real_server, f"/medicament?cis={cis}", selector="h1")
    page.get_by_text("Sites industriels connus de l'entreprise titulaire").first.wait_for(state="visible")
    deck = page.locator(DECK).first
    deck.scroll_into_view_if_needed()
    deck.locator("canvas").first.wait_for(state="visible")
    page.wait_for_timeout(2000)  # let deck.gl draw the départements
    box = deck.bounding_box()
    assert box and round(box["height"]) == 320
    left, top, right, bottom, width, height = _drawn_box(deck.screenshot())
    # France (Dunkirk to Corsica, Brittany to Alsace) drawn whole: a margin on every side
    assert top >= 3 and bottom <= height - 3 and left >= 3 and right <= width - 3, (left, top, right, bottom)
    assert bottom - top >= 0.8 * height  # and not drawn tiny
    assert_no_exception(page)
