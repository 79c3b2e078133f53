"""The joint suppression (datamed/pipeline/suppression.py), checked by the independent audit.

Random small releases (substances by year, age class and sex, cases and exposure,
national totals) go through the suppression, then through the audit: no withheld
count may be exposed, and every small count must be withheld.
"""

from __future__ import annotations

import numpy as np
import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from datamed.audit import audit_tables
from datamed.core.rule import ProtectionRule
from datamed.pipeline.suppression import MASK, apply, choose, problem_from_tables

RULE = ProtectionRule()
YEARS, AGES, SEXES = ["2014", "2015", "2016"], ["0-19", "20-59", "60+"], ["F", "M"]


def split(draw, total: int, parts: int) -> list[int]:
    cuts = sorted(draw(st.lists(st.integers(0, total), min_size=parts - 1, max_size=parts - 1)))
    return [b - a for a, b in zip([0, *cuts], [*cuts, total])]


@st.composite
def true_release(draw):
    n = draw(st.integers(1, 4))
    ids = [f"s{i}" for i in range(n)]
    subs, tables = [], {"ei_annee": [], "ei_age": [], "ei_sexe": []}
    for i in ids:
        total = draw(st.integers(0, 60))
        exposure = draw(st.integers(0, 400))
        subs.append((i, total))
        for name, strata in (("ei_annee", YEARS), ("ei_age", AGES), ("ei_sexe", SEXES)):
            for s, c, e in zip(strata, split(draw, total, len(strata)), split(draw, exposure, len(strata))):
                tables[name].append((i, s, c, e if e >= c else None))  # the reader blanks an exposure below its cases
    out = {"ei_substances": pl.DataFrame(subs, schema={"ei_id": pl.String, "n_cas": pl.Int64}, orient="row")}
    for (name, rows), col in zip(tables.items(), ("annee", "age", "sexe")):
        frame = pl.DataFrame(
            rows, schema={"ei_id": pl.String, col: pl.String, "n_cas": pl.Int64, "n_conso": pl.Int64}, orient="row"
        )
        out[name] = frame
        if draw(st.booleans()):
            out[f"ei_national_{col}"] = frame.group_by(col).agg(pl.col("n_cas").sum())
    return out


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(true_release())
def test_suppressed_release_passes_the_independent_audit(true):
    problem = problem_from_tables(true, RULE)
    masked = choose(problem, RULE)
    published = apply(true, problem, masked)
    report = audit_tables(published, (), RULE)
    assert report.exposed == [], [(c.table, c.key, c.column) for c in report.exposed]
    # every small count is withheld, with the one status
    for name, frame in published.items():
        for count in ("n_cas", "n_conso"):
            if count not in frame.columns:
                continue
            small = true[name][count].is_between(1, RULE.threshold - 1)
            assert frame.filter(small)[count].null_count() == int(small.sum()), (name, count)
            assert set(frame[f"{count}_statut"].drop_nulls()) <= {MASK}


def test_a_lone_small_cell_gets_a_partner_large_enough():
    true = {
        "ei_substances": pl.DataFrame({"ei_id": ["x"], "n_cas": [120]}),
        "ei_age": pl.DataFrame({"ei_id": ["x"] * 3, "age": AGES, "n_cas": [4, 16, 100], "n_conso": [300, 900, 5000]}),
    }
    problem = problem_from_tables(true, RULE)
    masked = choose(problem, RULE)
    published = apply(true, problem, masked)["ei_age"]
    # 4 is withheld with the smallest cell that widens it enough (16), not the 100
    assert published["n_cas"].to_list() == [None, None, 100]
    assert not audit_tables(apply(true, problem, masked), (), RULE).exposed
    assert np.count_nonzero(masked) == 2 + 1  # the two cells and the hidden exposure total


def _frame(col, rows):
    return pl.DataFrame(
        rows, schema={"ei_id": pl.String, col: pl.String, "n_cas": pl.Int64, "n_conso": pl.Int64}, orient="row"
    )


def _protected(true):
    problem = problem_from_tables(true, RULE)
    published = apply(true, problem, choose(problem, RULE))
    return published, audit_tables(published, (), RULE)


def test_attack_3_and_4_true_tables_come_out_protected():
    """The true tables behind attacks 3 (a national figure over substances) and 4 (two
    small cells sharing 18) go through the suppression; the audit then places nothing."""
    true = {
        "ei_substances": pl.DataFrame({"ei_id": ["a", "b", "c"], "n_cas": [30, 40, 38]}),
        "ei_annee": _frame(
            "annee",
            [
                ("a", "2015", 26, 900),
                ("a", "2016", 4, 800),
                ("b", "2015", 36, 900),
                ("b", "2016", 4, 800),
                ("c", "2015", 34, 900),
                ("c", "2016", 4, 800),
            ],
        ),
        "ei_age": _frame("age", [("c", "0-19", 9, 500), ("c", "20-59", 9, 700), ("c", "60+", 20, 500)]),
        "ei_national_annee": pl.DataFrame({"annee": ["2015", "2016"], "n_cas": [96, 12]}),
    }
    published, report = _protected(true)
    assert report.exposed == [] and report.inconsistent == []
    assert published["ei_annee"].filter(pl.col("annee") == "2016")["n_cas"].null_count() == 3
    assert published["ei_age"].filter(pl.col("age") != "60+")["n_cas"].null_count() == 2


def test_attack_5_blanked_exposure_comes_out_protected():
    # 2015's exposure was blanked (cases above it): its cases are at least 1, so
    # hiding them with one partner of 0..10 is not enough; the suppression widens
    true = {
        "ei_substances": pl.DataFrame({"ei_id": ["x"], "n_cas": [70]}),
        "ei_annee": _frame("annee", [("x", "2015", 5, None), ("x", "2016", 3, 500), ("x", "2017", 62, 900)]),
    }
    published, report = _protected(true)
    assert report.exposed == [] and report.inconsistent == []
    years = published["ei_annee"]
    assert years.filter(pl.col("annee") == "2015")["n_conso_statut"].to_list() == [MASK]  # blanked: the one status
    assert years["n_cas"].null_count() >= 2
