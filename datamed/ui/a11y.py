"""Accessibility (RGAA 4.1, WCAG 2.1 AA): the page-wide focus style and the known
non-conformities that come from Streamlit itself.

``STREAMLIT_EXCEPTIONS`` is the one list of axe-core violations DataMed cannot fix
(Streamlit's own markup). The browser test (tests/browser/test_browser_a11y.py)
tolerates a violation only when its rule *and* its element match an entry, and fails
when an entry matches nothing any more (a Streamlit upgrade fixed it: remove it). The
accessibility statement (pages/accessibility_page.py) lists the same entries in French.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import streamlit as st

#: the conformity state of the statement (RGAA): no full audit of the 106 criteria was made
CONFORMITY_FR = "partiellement conforme"
#: the day the automated (axe-core) and manual keyboard checks of the statement were last made
CHECKED_ON = date(2026, 12, 3)

#: WCAG 2.4.7 (RGAA 10.7): Streamlit removes the outline of links (menu, st.page_link,
#: heading anchors) and of chart toolbars and maps; their keyboard focus was a faint
#: background. The colour is the theme's primary colour (6.6:1 on white).
FOCUS_CSS = """<style>
a:focus-visible,
[data-testid="stBaseButton-elementToolbar"]:focus-visible,
[data-testid="stDeckGlJsonChart"]:focus-visible,
[data-testid="data-grid-canvas"]:focus-visible {
  outline: 2px solid #1f5fa8 !important;
  outline-offset: 2px !important;
}
</style>"""


def focus_style() -> None:
    """The focus style, on every page (a style-only st.html takes no room on the page)."""
    st.html(FOCUS_CSS)


@dataclass(frozen=True)
class KnownIssue:
    rule: str  # axe-core rule id
    selector: str  # CSS selector the violating element matches (checked in the page)
    why: str  # for developers
    criterion: str  # RGAA criterion (statement)
    text_fr: str  # for the accessibility statement (one sentence, no final full stop)


STREAMLIT_EXCEPTIONS = (
    KnownIssue(
        rule="list",
        selector='nav[data-testid="stSidebarNav"] > ul[data-testid="stSidebarNavItems"]',
        why="Streamlit's sidebar menu puts each section (a <div> with its header) directly in the <ul>.",
        criterion="9.3",
        text_fr="La liste du menu latéral, générée par Streamlit, contient des éléments qui ne sont pas des "
        "éléments de liste (les titres de rubrique)",
    ),
    KnownIssue(
        rule="listitem",
        selector='ul[data-testid="stSidebarNavItems"] > div > li',
        why="the same menu: the pages of a section are <li> inside that <div>, not directly inside a list.",
        criterion="9.3",
        text_fr="Les liens des rubriques du menu latéral sont des éléments de liste placés hors d'une liste",
    ),
)
