"""Active moieties by name rules, measured against a hand-labelled fixture (issue 13)."""

from __future__ import annotations

import csv

from datamed.core.config import REPO_ROOT
from datamed.core.moieties import moiety, normalise

FIXTURE = REPO_ROOT / "tests" / "fixtures" / "moieties.csv"


def _pairs() -> list[tuple[str, str]]:
    with open(FIXTURE, encoding="utf-8", newline="") as f:
        return [(row["name"], row["moiety"]) for row in csv.DictReader(f)]


def test_the_grouping_is_precise_on_the_hand_labelled_pairs():
    """At least 150 salt -> moiety pairs (salts, esters, hydrates, accents and case
    as the sources write them, and names that must stay as they are); of the names the
    rules group, at least 98 % get the right moiety."""
    pairs = _pairs()
    salts = [(n, m) for n, m in pairs if normalise(n) != m]
    assert len(salts) >= 150
    grouped = [(n, m, moiety(n)) for n, m in pairs if moiety(n) != normalise(n)]
    wrong = [(n, m, got) for n, m, got in grouped if got != m]
    precision = 1 - len(wrong) / len(grouped)
    recall = sum(moiety(n) == m for n, m in salts) / len(salts)
    print(f"moieties: {len(pairs)} pairs, {len(salts)} salts; precision {precision:.1%}, recall {recall:.1%}")
    assert precision >= 0.98, wrong
    assert recall >= 0.90, [(n, m, moiety(n)) for n, m in salts if moiety(n) != m]
    # names that are their own moiety stay as they are (inorganic salts, plain names)
    kept = [(n, moiety(n)) for n, m in pairs if normalise(n) == m and moiety(n) != m]
    assert not kept, kept


def test_diclofenac_and_its_salts_are_one_moiety():
    names = ["DICLOFENAC", "DICLOFENAC (EPOLAMINE DE)", "DICLOFENAC DE DIETHYLAMINE", "Diclofénac potassique"]
    assert {moiety(n) for n in names} == {"DICLOFENAC"}


def test_amoxicillin_and_clavulanic_acid_stay_two_moieties():
    assert moiety("AMOXICILLINE SODIQUE") == "AMOXICILLINE"
    assert moiety("POTASSIUM (CLAVULANATE DE)") == "ACIDE CLAVULANIQUE"
