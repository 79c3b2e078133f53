"""Accessibility (issue 15, part 7; RGAA 4.1, WCAG 2.1 AA) in a real browser.

- axe-core (the copy shipped in the axe-playwright-python package, injected into the
  page: no CDN) runs the WCAG 2.0/2.1 A and AA rules on every page of
  ``routes.ROUTES`` plus the not-found page, on the real data, once each page has
  rendered. No serious or critical violation is allowed, except those of
  ``datamed.ui.a11y.STREAMLIT_EXCEPTIONS`` (Streamlit's own markup), matched on the
  rule *and* the element; an exception that matches nothing any more fails too.
- The page language is French, on a cold server's very first request (a deep link) and
  under plain ``streamlit run app.py``.
- The keyboard alone reaches the search box and the first result, and opens it; the
  focus of a link is visible.
"""

from __future__ import annotations

import re
import time
import urllib.request

import pytest
from axe_playwright_python.sync_playwright import Axe

from datamed.ui import a11y, routes

from .conftest import StreamlitServer, assert_no_exception, guard_external_requests, wait_for_app

pytestmark = pytest.mark.browser

AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
    "resultTypes": ["violations"],
}
BLOCKING = {"serious", "critical"}

#: query strings of the pages that show little without one (real medicines, substances...)
QUERIES = {
    routes.SEARCH.url_path: "?q=doliprane",
    routes.MEDICINE.url_path: "?cis=60002283",  # ANASTROZOLE ACCORD 1 mg
    routes.SUBSTANCE.url_path: "?substance=02202",  # paracétamol
    routes.COMPARE.url_path: "?s=abacavir-sulfate-d&s=anastrozole&s=paracetamol",
    "pharmacies": "?cp=75011",
}
NOT_FOUND_PATH = "/nimporte-quoi"


def page_paths() -> list[tuple[str, str]]:
    """(name, path) of every page: each route (the home page at "/"), then the not-found page."""
    out = []
    for route in routes.ROUTES:
        path = "/" if route is routes.HOME else f"/{route.url_path}"
        out.append((route.url_path, path + QUERIES.get(route.url_path, "")))
    return [*out, ("introuvable", NOT_FOUND_PATH)]


def wait_for_graphics(page, timeout: float = 20_000) -> None:
    """Visible charts have drawn (svg or canvas) and visible maps have their canvas."""
    page.wait_for_function(
        """() => [...document.querySelectorAll('[data-testid="stVegaLiteChart"], [data-testid="stDeckGlJsonChart"]')]
            .filter(el => el.offsetParent !== null)
            .every(el => el.querySelector('svg, canvas'))""",
        timeout=timeout,
    )


def excepted(page, node: dict, rule: str) -> a11y.KnownIssue | None:
    """The known Streamlit issue this violating element is, if any (same rule, element matches)."""
    target = node.get("target") or []
    if len(target) != 1 or not isinstance(target[0], str):  # inside a frame or a shadow root: never excepted
        return None
    for issue in a11y.STREAMLIT_EXCEPTIONS:
        if issue.rule == rule and page.evaluate(
            "([target, selector]) => { const el = document.querySelector(target); return !!el && el.matches(selector); }",
            [target[0], issue.selector],
        ):
            return issue
    return None


def test_every_page_has_no_serious_axe_violation(browser, real_server):
    """One browser context, the pages in sequence; a per-page summary is printed (pytest -s)."""
    context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="fr-FR")
    context.set_default_timeout(60_000)
    outside = guard_external_requests(context)
    axe = Axe()
    failures: list[str] = []
    used: set[a11y.KnownIssue] = set()
    summary = []
    try:
        page = context.new_page()
        for name, path in page_paths():
            start = time.monotonic()
            page.goto(real_server.url + path)
            wait_for_app(page, selector="h1", timeout=60_000)
            assert_no_exception(page)
            wait_for_graphics(page)
            if name == "introuvable":
                assert page.locator("h1").first.inner_text().strip() == "Page introuvable"
            lang = page.evaluate("document.documentElement.lang")
            if lang != "fr":
                failures.append(f"{path}: <html lang={lang!r}>, not 'fr'")
            violations = axe.run(page, options=AXE_OPTIONS).response["violations"]
            counts = {"bloquantes": 0, "exceptions Streamlit": 0, "mineures": 0}
            for violation in violations:
                for node in violation["nodes"]:
                    issue = excepted(page, node, violation["id"])
                    if issue is not None:
                        used.add(issue)
                        counts["exceptions Streamlit"] += 1
                    elif violation["impact"] in BLOCKING:
                        counts["bloquantes"] += 1
                        failures.append(
                            f"{path}: {violation['id']} ({violation['impact']}) {violation['help']} — "
                            f"{node['target']} {node['html'][:160]}"
                        )
                    else:
                        counts["mineures"] += 1
            rules = sorted({v["id"] for v in violations})
            summary.append(
                f"{path:<62} {time.monotonic() - start:5.1f} s  lang={lang}  "
                + "  ".join(f"{k}={v}" for k, v in counts.items())
                + (f"  règles: {', '.join(rules)}" if rules else "")
            )
    finally:
        context.close()
        print("\naxe-core (WCAG 2.0/2.1 A, AA), par page :\n" + "\n".join(summary))
    assert outside == [], f"requests to other hosts than the app's: {sorted(set(outside))[:10]}"
    assert not failures, "\n".join(failures)
    stale = [f"{i.rule} {i.selector}" for i in a11y.STREAMLIT_EXCEPTIONS if i not in used]
    assert not stale, f"known Streamlit issues no page shows any more (remove them from datamed/ui/a11y.py): {stale}"


def test_the_checker_fails_on_our_own_markup(page, real_server):
    """Not vacuous: the same faults as Streamlit's menu, made in the page's content (a list
    holding a <div>, an item outside a list), and an image without a text, are reported and
    never excepted."""
    page.goto(real_server.url + "/donnees")
    wait_for_app(page, selector="h1", text="Données ouvertes")
    page.locator('[data-testid="stMainBlockContainer"]').evaluate(
        """el => el.insertAdjacentHTML('afterbegin',
            '<ul id="faulty-list"><div><li>a</li></div></ul>'
            + '<img id="faulty-image" src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" width="20" height="20">')"""
    )
    violations = Axe().run(page, options=AXE_OPTIONS).response["violations"]
    found = {
        (v["id"], node["target"][0]) for v in violations for node in v["nodes"] if not excepted(page, node, v["id"])
    }
    assert ("list", "#faulty-list") in found and ("image-alt", "#faulty-image") in found, found
    assert any(rule == "listitem" and "#faulty-list" in target for rule, target in found), found


# --- page language -------------------------------------------------------------------


def test_page_is_french_from_a_cold_servers_first_deep_link(page, cold_server, real_prepared):
    """The HTML of the very first request (a deep link) declares lang="fr", and so does the page."""
    server = cold_server(real_prepared)
    with urllib.request.urlopen(server.url + "/ruptures?vue=chronologie", timeout=10) as resp:
        html = resp.read().decode()
    assert re.search(r'<html lang="fr">', html), html[:500]
    assert 'lang="en"' not in html

    page.goto(server.url + "/medicament?cis=60002283")
    assert page.evaluate("document.documentElement.lang") == "fr"  # before any script ran: the HTML itself
    wait_for_app(page, selector="h1", text="ANASTROZOLE ACCORD")
    assert page.evaluate("document.documentElement.lang") == "fr"
    page.locator('[data-testid="stSidebarNavLink"]').filter(has_text="Ruptures et tensions").click()
    wait_for_app(page, selector="h1", text="Ruptures et tensions")
    assert page.evaluate("document.documentElement.lang") == "fr"


def test_page_is_french_under_plain_streamlit_run(page, real_prepared, _server_logs):
    """Plain `streamlit run app.py` serves Streamlit's HTML (lang="en"); a script of the app
    sets the language once the page has rendered."""
    server = StreamlitServer(real_prepared, _server_logs / "plain.log", launcher=("-m", "streamlit", "run", "app.py"))
    server.start()
    try:
        page.goto(server.url + "/donnees")
        wait_for_app(page, selector="h1", text="Données ouvertes")
        page.wait_for_function("document.documentElement.lang === 'fr'", timeout=10_000)
    finally:
        server.stop()


# --- keyboard ----------------------------------------------------------------------------

SEARCH_FIELD = "Nom, substance, code CIS / CIP, classe ATC ou laboratoire"
RESULT_LINK = '[data-testid="stMain"] a[data-testid="stPageLink-NavLink"]'
MAX_TABS = 40


def tab_until(page, locator, what: str) -> int:
    """Press Tab until ``locator`` has the focus; the number of presses."""
    for presses in range(1, MAX_TABS + 1):
        page.keyboard.press("Tab")
        if locator.evaluate("el => el === document.activeElement"):
            return presses
    raise AssertionError(f"{what} not reached with {MAX_TABS} presses of Tab")


def wait_for_focus_style(page) -> None:
    """DataMed's focus style (datamed.ui.a11y.FOCUS_CSS) comes with the first script run of
    a session, a moment after the page shows."""
    page.wait_for_function(
        """() => [...document.styleSheets].some(sheet => {
            try { return [...sheet.cssRules].some(r => (r.selectorText || '').includes('a:focus-visible')); }
            catch (e) { return false; }
        })"""
    )


def focus_ring(locator) -> dict:
    return locator.evaluate(
        "el => { const cs = getComputedStyle(el); "
        "return {style: cs.outlineStyle, width: parseFloat(cs.outlineWidth), color: cs.outlineColor, "
        "focused: el === document.activeElement}; }"
    )


def focused_ring(locator, timeout_s: float = 5.0) -> dict:
    """The outline of ``locator``, which has the keyboard focus, once its focus style shows (CI
    once read 'none' on the focused menu link, presumably while a script run redrew the style
    element); the last reading if it never shows."""
    deadline = time.monotonic() + timeout_s
    ring = focus_ring(locator)
    while ring["style"] == "none" and time.monotonic() < deadline:
        time.sleep(0.05)
        ring = focus_ring(locator)
    return ring


def test_search_and_open_a_result_with_the_keyboard_only(page, real_server):
    page.goto(real_server.url + "/recherche")
    wait_for_app(page, selector="h1", text="Recherche")
    wait_for_focus_style(page)

    field = page.get_by_label(SEARCH_FIELD, exact=True)
    tab_until(page, field, "the search field")
    page.keyboard.type("doliprane")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/recherche\?q=doliprane"))
    first = page.locator(RESULT_LINK).first
    first.wait_for(state="visible")
    wait_for_app(page, selector=RESULT_LINK, text="DOLIPRANE")
    label = first.inner_text().strip()
    assert "DOLIPRANE" in label

    page.locator("body").evaluate("el => document.activeElement && document.activeElement.blur()")
    tab_until(page, first, "the first result")
    ring = focused_ring(first)
    assert ring["style"] != "none" and ring["width"] >= 2, f"no visible focus on a link: {ring}"
    assert focus_ring(page.locator(RESULT_LINK).nth(1))["style"] == "none"  # the ring is the focus's own

    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/medicament\?cis=\d{8}"))
    wait_for_app(page, selector="h1", text="DOLIPRANE")
    assert page.locator("h1").first.inner_text().strip() == label
    assert_no_exception(page)


def test_menu_links_show_their_focus(page, real_server):
    page.goto(real_server.url + "/donnees")
    wait_for_app(page, selector="h1", text="Données ouvertes")
    wait_for_focus_style(page)
    menu_link = page.locator('[data-testid="stSidebarNavLink"]').filter(has_text="Accueil")
    tab_until(page, menu_link, "the menu's first link")
    ring = focused_ring(menu_link)
    assert ring["focused"] and ring["style"] == "solid" and ring["width"] >= 2, ring


# --- the statement -------------------------------------------------------------------------


def test_footer_links_to_the_accessibility_statement(page, real_server):
    page.goto(real_server.url + "/catalogue")
    wait_for_app(page, selector="h1", text="Catalogue")
    link = page.locator(RESULT_LINK).filter(has_text="Accessibilité : partiellement conforme")
    link.click()
    page.wait_for_url(re.compile(r"/accessibilite$"))
    wait_for_app(page, selector="h1", text="Déclaration d'accessibilité")
    assert_no_exception(page)
    page.get_by_text("Défenseur des droits").first.wait_for(state="visible")
