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


def test_real_substances_group_by_the_bdpm_link_then_the_name_rules(shared_dir):
    """On the real pharmacovigilance substances and BDPM composition: diclofénac's five
    substances are one moiety; amoxicillin's salts one, clavulanic acid another; the
    BDPM's implausible fractions (contrast agents -> IODE, acetylcysteine -> CYSTEINE,
    calcium salts -> CALCIUM ELEMENT) and fixed combinations are not followed."""
    import json

    import polars as pl

    from datamed.pipeline.moieties import moieties
    from datamed.sources.bdpm import read_bdpm_file

    compo = read_bdpm_file(shared_dir / "bdpm" / "2026-01-27" / "CIS_COMPO_bdpm.txt").frame
    records = json.loads((shared_dir / "ansm_pharmacovigilance" / "sa_data_annee.json").read_text(encoding="utf-8"))
    names = sorted({r["MEDICAMENT"] for r in records})
    table = moieties(names, compo)
    assert table.height == len(names) and table["name"].to_list() == names
    of = dict(table.select("name", "moiety").rows())
    assert {n for n in names if of[n] == "DICLOFENAC"} == {
        "DICLOFENAC",
        "DICLOFENAC (EPOLAMINE DE)",
        "DICLOFENAC DE DIETHYLAMINE",
        "DICLOFENAC POTASSIQUE",
        "DICLOFENAC SODIQUE",
    }
    assert of["AMOXICILLINE SODIQUE"] == of["AMOXICILLINE TRIHYDRATEE"] == "AMOXICILLINE"
    assert of["POTASSIUM (CLAVULANATE DE)"] == "ACIDE CLAVULANIQUE"
    assert "IODE" not in of.values() and of["ACETYLCYSTEINE"] == "ACETYLCYSTEINE"
    assert not any(m.startswith("CALCIUM ELEMENT") for m in of.values())
    combo = [n for n in names if "SACUBITRIL" in n]
    assert combo and all(of[n] != "VALSARTAN" for n in combo)
    counts = table.group_by("regle").len()
    groups = table.group_by("moiety").len().filter(pl.col("len") > 1)
    print(f"moieties: {dict(counts.rows())}; {groups.height} moieties pool {groups['len'].sum()} substances")
    assert groups.height >= 80


def test_the_combined_grouping_is_precise_on_the_hand_labelled_pairs(shared_dir):
    """The BDPM link plus the name rules, on the fixture's names with the real BDPM
    composition file: at least 98 % of the names grouped get the right moiety."""
    from datamed.pipeline.moieties import moieties
    from datamed.sources.bdpm import read_bdpm_file

    compo = read_bdpm_file(shared_dir / "bdpm" / "2026-01-27" / "CIS_COMPO_bdpm.txt").frame
    pairs = _pairs()
    table = moieties([n for n, _ in pairs], compo)
    got, rule = dict(table.select("name", "moiety").rows()), dict(table.select("name", "regle").rows())
    grouped = [(n, m) for n, m in pairs if got[n] != normalise(n)]
    wrong = [(n, m, got[n], rule[n]) for n, m in grouped if got[n] != m]
    precision = 1 - len(wrong) / len(grouped)
    by_bdpm = sum(r == "bdpm" for r in rule.values())
    print(f"combined: {len(grouped)} grouped ({by_bdpm} by the BDPM link); precision {precision:.1%}; wrong {wrong}")
    assert len(grouped) >= 150 and precision >= 0.98, wrong
