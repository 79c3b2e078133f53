"""Browser tests of the Sites page: the offline pydeck map renders, with its layers."""

from __future__ import annotations

import pytest

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


@pytest.mark.parametrize("view", ["densite", "departements"])
def test_sites_other_views_render(page, real_server, view, tmp_path):
    goto(page, real_server, f"/carte-des-sites?type=pharmacie&vue={view}", selector="h1", text=TITLE)
    deck = page.locator(DECK).first
    deck.locator("canvas").first.wait_for(state="visible")
    page.wait_for_timeout(1000)
    data = screenshot_element(page, DECK, tmp_path / f"{view}.png")
    assert len(data) > 20_000
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
