"""Search rankings as a user sees them (issue 15, part 2), on the real data: brand first,
the typed dose first, typos of long names, French before English, honest counts, and the
availability badge on each medicine."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest

from .conftest import goto

pytestmark = pytest.mark.browser

MAIN = '[data-testid="stMain"]'
RESULT = f'{MAIN} [data-testid="stPageLink-NavLink"]'


def results(page, real_server, query: str) -> list[str]:
    goto(page, real_server, f"/recherche?q={quote(query)}", selector=RESULT)
    texts = [t.strip() for t in page.locator(RESULT).all_inner_texts()]
    return [t for t in texts if "Accessibilité :" not in t]  # not the footer's link


@pytest.mark.parametrize(
    "query, first",
    [
        ("levothyrox", "LEVOTHYROX"),  # the brand before the substances that start alike
        ("augmantin", "AUGMENTIN"),  # a typo of a long brand name
        ("glucofage", "GLUCOPHAGE"),
        ("ibuprofen", "IBUPROFÈNE"),  # the French substance before the WHO's English label
    ],
)
def test_first_result(page, real_server, query, first):
    shown = results(page, real_server, query)
    assert shown and shown[0].upper().startswith(first), shown[:5]


def test_typed_dose_first_and_others_marked(page, real_server):
    shown = results(page, real_server, "dafalgan 1g")
    assert "1 g" in shown[0] or "1000 mg" in shown[0], shown[:5]
    others = [s for s in shown if "500 mg" in s]
    assert others and shown.index(others[0]) > 0
    assert page.locator(MAIN).get_by_text("Pas en 1 g").first.is_visible()  # not "another strength": codeine ones too


def test_honest_count_and_availability_badges(page, real_server):
    shown = results(page, real_server, "doliprane")
    assert len(shown) == 30, shown[28:]
    caption = page.locator(MAIN).get_by_text("premiers résultats sur").first.inner_text()
    assert caption.startswith("Les 30 premiers résultats sur ") and "pour « doliprane »" in caption
    total = int(caption.split(" sur ")[1].split(" pour")[0].replace("\u202f", ""))
    assert total > 30
    # every result is a medicine here, and each carries its availability badge
    main = page.locator(MAIN)
    ok = main.get_by_text("Pas de rupture signalée").filter(visible=True).count()  # not the method text
    short = main.get_by_text(re.compile(r"(Rupture de stock|Tension d.approvisionnement)")).filter(visible=True).count()
    assert ok + short == 30 and ok > 0, (ok, short)
