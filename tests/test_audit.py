"""The independent disclosure audit (datamed/audit): the attacker's model, exact
feasible intervals, derived values and texts.

Each of the five attacks of issue 11 is rebuilt on a small synthetic release and
must be caught; the intervals are checked against brute-force enumeration; on the
real data, every fact of the attacker's model must hold.
"""

from __future__ import annotations

import ast
import itertools
import json
import math
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from datamed.audit import audit_tables, read_folder
from datamed.audit.bounds import solve_bounds
from datamed.audit.model import build_model
from datamed.audit.texts import count_mentions
from datamed.core.config import REPO_ROOT
from datamed.core.rule import ProtectionRule
from datamed.datasets import DS

RULE = ProtectionRule()
M = "masqué"


def substances(rows):
    return pl.DataFrame(rows, schema={"ei_id": pl.String, "n_cas": pl.Int64, "n_cas_statut": pl.String}, orient="row")


def strata(col, rows):
    """rows: (ei_id, stratum, n_cas, statut[, n_conso, statut]); exposure columns only if given."""
    schema = {"ei_id": pl.String, col: pl.String, "n_cas": pl.Int64, "n_cas_statut": pl.String}
    if any(len(r) == 6 for r in rows):
        schema |= {"n_conso": pl.Int64, "n_conso_statut": pl.String}
    return pl.DataFrame(rows, schema=schema, orient="row")


def soc_rows(rows, col=None):
    schema = {"ei_id": pl.String, "soc_code": pl.String}
    if col:
        schema[col] = pl.String
    schema |= {"n_cas": pl.Int64, "n_cas_statut": pl.String}
    return pl.DataFrame(rows, schema=schema, orient="row")


def national(col, rows):
    return pl.DataFrame(rows, schema={col: pl.String, "n_cas": pl.Int64, "n_cas_statut": pl.String}, orient="row")


def exposed_cells(tables, texts=()):
    report = audit_tables(tables, texts, RULE)
    return {(c.table, c.key, c.column): (c.lo, c.hi) for c in report.exposed}, report


# --- the five attacks -------------------------------------------------------------


def test_attack_1_text_leaks_are_found_and_never_repeated():
    leaky = [
        ("qualite_echecs:detail:3", "n_cas (1) supérieur aux patients exposés n_conso (0) : exposition mise à vide"),
        ("rapport_qualite.md", "ACETATE DE X, année 2016 : 4 cas pour 2 patients exposés"),
        ("rejets:raw:7", '{"MEDICAMENT": "ACETATE DE X", "ANNEE": 2016, "n_cas": 3, "n_conso": 1}'),
    ]
    clean = [
        (
            "qualite_echecs:detail:4",
            "cas supérieurs aux patients exposés (ACETATE DE X, 2016, ligne 73) : exposition masquée",
        ),
        ("ei_notif_age:typ_notif:1", "Notificateur(s) < 10 cas"),
        ("README.md", "Les effectifs inférieurs à 11 cas sont masqués ; au moins 10 cas par ligne dans la source."),
        ("rejets:raw:8", '{"MEDICAMENT": "ACETATE DE X", "ANNEE": 2016}'),
    ]
    found = count_mentions(leaky + clean)
    assert {leak.where for leak in found} == {"qualite_echecs:detail:3", "rapport_qualite.md", "rejets:raw:7"}
    report = audit_tables({DS.EI_SUBSTANCES: substances([("x", 40, None)])}, leaky, RULE)
    assert not report.ok
    assert "(1)" not in report.summary() and "4 cas" not in report.summary()


def test_attack_2_source_floor_and_primary_status_pin_a_cell():
    # an organ class x age row exists only from 10 cases: "primaire" (< 11) means exactly 10
    tables = {
        DS.EI_SUBSTANCES: substances([("x", 300, None)]),
        DS.EI_AGE: strata("age", [("x", "0-19", 50, None), ("x", "20-59", 100, None), ("x", "60+", 150, None)]),
        DS.EI_SOC: soc_rows([("x", "10040785", None, "secondaire")]),
        DS.EI_SOC_AGE: soc_rows(
            [("x", "10040785", "0-19", None, "primaire"), ("x", "10040785", "20-59", None, "secondaire")], "age"
        ),
    }
    exposed, _ = exposed_cells(tables)
    assert exposed[(DS.EI_SOC_AGE, ("x", "10040785", "0-19"), "n_cas")] == (10, 10)
    # one status for every mask: the same cells are no longer placed
    for name in (DS.EI_SOC, DS.EI_SOC_AGE):
        tables[name] = tables[name].with_columns(pl.lit(M).alias("n_cas_statut"))
    exposed, _ = exposed_cells(tables)
    assert not exposed


def test_attack_3_national_totals_pin_cells_across_substances():
    # three substances, their 2016 cells masked; the national 2016 figure minus the
    # published cells leaves 12 for three masked cells, each >= ... a single solution
    subs = substances([("a", 30, None), ("b", 40, None), ("c", 50, None)])
    years = strata(
        "annee",
        [
            ("a", "2015", 26, None),
            ("a", "2016", None, M),
            ("b", "2015", 36, None),
            ("b", "2016", None, M),
            ("c", "2015", 46, None),
            ("c", "2016", None, M),
        ],
    )
    tables = {DS.EI_SUBSTANCES: subs, DS.EI_ANNEE: years}
    # each substance's total pins its own masked year: a linked-table attack on its own
    exposed, _ = exposed_cells(tables)
    assert exposed[(DS.EI_ANNEE, ("a", "2016"), "n_cas")] == (4, 4)
    # totals masked instead: only the national figure links the cells
    tables[DS.EI_SUBSTANCES] = substances([("a", None, M), ("b", None, M), ("c", None, M)])
    assert not exposed_cells(tables)[0]
    tables[DS.EI_NATIONAL_ANNEE] = national("annee", [("2015", 108, None), ("2016", 3, None)])
    exposed, _ = exposed_cells(tables)
    # the 2016 cells share 3: each is 0..3; the totals (26..29 and so on) are not small
    assert exposed == {(DS.EI_ANNEE, (i, "2016"), "n_cas"): (0, 3) for i in "abc"}


def test_attack_4_narrow_interval_within_one_breakdown():
    # 38 cases, 20 published: two "primaire" cells (0..10 each) share 18, so each is 8..10
    tables = {
        DS.EI_SUBSTANCES: substances([("x", 38, None)]),
        DS.EI_AGE: strata(
            "age", [("x", "0-19", None, "primaire"), ("x", "20-59", None, "primaire"), ("x", "60+", 20, None)]
        ),
    }
    exposed, _ = exposed_cells(tables)
    assert exposed[(DS.EI_AGE, ("x", "0-19"), "n_cas")] == (8, 10)
    # without the kind of mask, 0..18 each: contains 0 and 18 wide, protected
    tables[DS.EI_AGE] = tables[DS.EI_AGE].with_columns(
        pl.when(pl.col("n_cas").is_null()).then(pl.lit(M)).alias("n_cas_statut")
    )
    assert not exposed_cells(tables)[0]


def test_attack_5_blanked_exposure_places_the_cases():
    # an exposure emptied without a status says "cases > exposure": a masked count of
    # cases 0..10 becomes 1..10
    years = strata(
        "annee",
        [("x", "2015", None, "primaire", None, None), ("x", "2016", 30, None, 500, None)],
    )
    tables = {DS.EI_SUBSTANCES: substances([("x", None, "secondaire")]), DS.EI_ANNEE: years}
    exposed, _ = exposed_cells(tables)
    assert exposed[(DS.EI_ANNEE, ("x", "2015"), "n_cas")] == (1, 10)
    # the same exposure under the common status: nothing placed
    tables[DS.EI_ANNEE] = strata("annee", [("x", "2015", None, M, None, M), ("x", "2016", 30, None, 500, None)])
    tables[DS.EI_SUBSTANCES] = substances([("x", None, M)])
    assert not exposed_cells(tables)[0]


def test_derived_values_need_all_their_inputs():
    tables = {
        DS.EI_SUBSTANCES: substances([("x", 40, None)]).with_columns(
            pl.lit(12.5).alias("taux"), pl.lit(300.0).alias("consommants_par_an")
        ),
        DS.EI_ANNEE: strata(
            "annee", [("x", "2015", 15, None, 200, None), ("x", "2016", 25, None, None, M)]
        ).with_columns(pl.Series("taux", [7.5, None]), pl.Series("part_cas", [37.5, 62.5])),
    }
    report = audit_tables(tables, (), RULE)
    leaks = {(d.table, d.column): d.rows for d in report.derived}
    assert leaks == {(DS.EI_SUBSTANCES, "taux"): 1, (DS.EI_SUBSTANCES, "consommants_par_an"): 1}


# --- exact intervals --------------------------------------------------------------


def brute_force(model, box: int = 40):
    """Min and max of every unknown over all integer points of a small model."""
    n = len(model.vars)
    ranges = [range(int(v.lo), int(min(v.hi, box)) + 1) for v in model.vars]
    rows = [(list(r.coefs.items()), r.lo - 1e-9, r.hi + 1e-9) for r in model.rows]
    lo, hi = [math.inf] * n, [-math.inf] * n
    for point in itertools.product(*ranges):
        if all(low <= sum(c * point[j] for j, c in coefs) <= high for coefs, low, high in rows):
            for j, v in enumerate(point):
                lo[j], hi[j] = min(lo[j], v), max(hi[j], v)
    return lo, hi


def truthful(status, value):
    """A status that does not contradict the value (a "primaire" cell is below the threshold)."""
    if (status == "primaire" and value >= RULE.threshold) or (status == "secondaire" and value < RULE.threshold):
        return M
    return status


@st.composite
def small_release(draw):
    """One or two substances by age class, one to three counts masked (any kind), a
    national figure or not: small enough to enumerate every integer table."""
    ids = ["a", "b"][: draw(st.integers(1, 2))]
    ages = ["0-19", "20-59", "60+"]
    values = {(i, a): draw(st.integers(0, 14)) for i in ids for a in ages}
    places = [(i, None) for i in ids] + list(values)
    masked = draw(st.sets(st.sampled_from(places), min_size=1, max_size=3))
    kinds = st.sampled_from([M, M, "primaire", "secondaire"])

    def status(place, value):
        return truthful(draw(kinds), value) if place in masked else None

    subs, cells = [], []
    for i in ids:
        total = sum(values[(i, a)] for a in ages)
        s = status((i, None), total)
        subs.append((i, None if s else total, s))
        for a in ages:
            s = status((i, a), values[(i, a)])
            cells.append((i, a, None if s else values[(i, a)], s))
    tables = {DS.EI_SUBSTANCES: substances(subs), DS.EI_AGE: strata("age", cells)}
    if draw(st.booleans()):
        tables[DS.EI_NATIONAL_AGE] = national("age", [(a, sum(values[(i, a)] for i in ids), None) for a in ages])
    return tables


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_release())
def test_intervals_match_brute_force(tables):
    model = build_model(tables, RULE)
    assert 1 <= len(model.vars) <= 3
    # cells are at most 14, totals at most 3 x 14: a box of 45 holds every solution
    for v in model.vars:
        v.hi = min(v.hi, 45)
    bounds = solve_bounds(model)
    lo, hi = brute_force(model, 45)
    for j, v in enumerate(model.vars):
        if not v.audited:
            continue
        if bounds.exact[j]:
            assert (bounds.lo[j], bounds.hi[j]) == (lo[j], hi[j]), v.cell
        else:  # witnessed values: inside the true interval, and already protecting
            assert lo[j] <= bounds.lo[j] <= bounds.hi[j] <= hi[j], v.cell
            assert RULE.protects(bounds.lo[j], bounds.hi[j])
        assert RULE.exposes(bounds.lo[j], bounds.hi[j]) == RULE.exposes(lo[j], hi[j]), v.cell


# --- independence and the real data -----------------------------------------------


def test_the_audit_shares_no_code_with_the_suppression():
    forbidden = ("datamed.core.disclosure", "datamed.pipeline", "datamed.release", "datamed.views")
    for path in sorted((REPO_ROOT / "datamed" / "audit").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            assert not [n for n in names if n.startswith(forbidden)], (path.name, names)


@pytest.mark.slow
def test_real_data_satisfies_every_fact_of_the_attackers_model(real_prepared: Path):
    tables, texts = read_folder(real_prepared)
    model = build_model(tables, RULE)
    assert len(model.vars) > 5_000 and len(model.rows) > 10_000
    assert model.inconsistent == []  # the facts hold on the published constants
    # the rejected-lines table names 412 blanked exposures (record and rule, no value)
    blanked = [r for r in model.rows if r.label.endswith("blanked exposure < cases")]
    assert len(blanked) == 412
    # quality checks, rejects and their reasons state no count
    assert len(texts) > 100_000
    assert count_mentions(texts) == []


def test_an_exposure_named_in_the_rejects_counts_as_blanked():
    # 40 cases, 30 published: 2015 and 2016 share 10 (0..10 each: protected) until the
    # rejected-lines table says 2015's exposure was emptied because its cases exceeded it
    subs = substances([("x", 40, None)]).with_columns(pl.lit("ACETATE DE X").alias("nom"))
    years = strata(
        "annee",
        [
            ("x", "2015", None, M, None, M),
            ("x", "2016", None, M, 800, None),
            ("x", "2017", 30, None, 900, None),
        ],
    )
    tables = {DS.EI_SUBSTANCES: subs, DS.EI_ANNEE: years}
    assert not exposed_cells(tables)[0]
    tables[DS.REJETS] = pl.DataFrame(
        {
            "file": ["ansm_pharmacovigilance/sa_data_annee.json"],
            "line": [3],
            "reason": ["cases greater than exposure: exposure set to missing for this cell, cases kept"],
            "raw": ['{"MEDICAMENT": "ACETATE DE X", "ANNEE": 2015}'],
        }
    )
    exposed, _ = exposed_cells(tables)
    assert exposed[(DS.EI_ANNEE, ("x", "2015"), "n_cas")] == (1, 10)


def test_real_build_is_audited_with_nothing_exposed(real_prepared: Path):
    """The build ran the audit (it fails otherwise): the manifest holds its figures and
    the suppression's, per table, and they agree with the prepared data."""
    manifest = json.loads((real_prepared / "manifest.json").read_text(encoding="utf-8"))
    audit = manifest["disclosure_audit"]
    assert audit["exposed"] == 0 and audit["contradictions"] == 0
    tables = {(t["table"], t["colonne"]): t for t in audit["tables"]}
    assert all(t["cellules_exposees"] == 0 for t in tables.values())
    assert all(t["largeur_min"] >= RULE.min_width for t in tables.values() if "largeur_min" in t)
    counts = manifest["suppression"]["substance"]
    for name in ("ei_annee", "ei_age", "ei_sexe", "ei_substances"):
        frame = pl.read_parquet(real_prepared / f"{name}.parquet")
        withheld = frame.filter(pl.col("n_cas_statut").is_not_null()).height
        assert counts[f"{name}.n_cas"]["masquees"] == withheld == tables[(name, "n_cas")]["cellules_masquees"]
        assert counts[f"{name}.n_cas"]["cellules"] == frame.height
    assert audit["withheld"] == sum(c["masquees"] for c in counts.values()) > 4_000
    # the share of cases withheld is reported where it follows from published figures
    shares = {k: v["part_cas_masques_pct"] for k, v in counts.items() if "part_cas_masques_pct" in v}
    assert set(shares) >= {"ei_annee.n_cas", "ei_age.n_cas", "ei_sexe.n_cas"}
    assert all(0 < shares[k] < 10 for k in ("ei_annee.n_cas", "ei_age.n_cas", "ei_sexe.n_cas"))
    assert "part_cas_masques_pct" not in counts["ei_substances.n_cas"]  # it would state the withheld totals' sum


def test_a_build_whose_suppression_leaves_a_count_exposed_fails_and_keeps_the_previous(
    demo_raw: Path, demo_prepared: Path, tmp_path: Path, monkeypatch
):
    """The build's own audit is the gate: with the joint suppression reduced to the
    small counts alone (no partner cells), the build stops before writing anything."""
    import shutil

    from datamed.pipeline import suppression
    from datamed.pipeline.build import BuildError, build

    out = tmp_path / "prepared"
    shutil.copytree(demo_prepared, out)
    before = (out / "manifest.json").read_bytes()

    def primary_only(problem, rule, **_):
        value = np.array(problem.value)
        with np.errstate(invalid="ignore"):
            masked = np.array(problem.hidden) | ((value >= 1) & (value < rule.threshold))
        masked[list(problem.blanked)] = True
        return masked

    monkeypatch.setattr(suppression, "choose", primary_only)
    with pytest.raises(BuildError, match="would disclose small counts") as failure:
        build(demo_raw, out)
    assert "exposed" in str(failure.value)
    assert (out / "manifest.json").read_bytes() == before  # the previous prepared data is kept
