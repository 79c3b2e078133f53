"""Search on the real catalogue: codes, names, typos, ranking, odd queries, CLI."""

from __future__ import annotations

import json
import subprocess
import sys

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from datamed.core.config import REPO_ROOT
from datamed.core.text import normalise
from datamed.views.search import SearchIndex


@pytest.fixture(scope="module")
def index(real_store) -> SearchIndex:
    return SearchIndex.from_store(real_store)


def test_exact_codes_rank_first(index, real_store):
    pres = real_store.table("presentations").row(0, named=True)
    for query, kind, target in [
        ("60002283", "cis", "60002283"),
        (pres["cip13"], "cip13", pres["cis"]),
        (pres["cip7"], "cip7", pres["cis"]),
        ("N02BE01", "atc", "N02BE01"),
        ("n02be01", "atc", "N02BE01"),
    ]:
        top = index.search(query)[0]
        assert (top.kind, top.target, top.tier, top.score) == (kind, target, 0, 100), query


def test_code_prefix(index):
    hits = index.search("3400949497")
    assert hits and all(h.kind == "cip13" and h.id.startswith("3400949497") for h in hits)
    assert [h.tier for h in hits] == [2] * len(hits)


def test_brand_name(index, real_store):
    hits = index.search("doliprane", limit=10)
    assert len(hits) == 10
    assert all(h.kind == "speciality" and h.label.startswith("DOLIPRANE") for h in hits)
    n_doliprane = real_store.table("specialites").filter(pl.col("denomination").str.starts_with("DOLIPRANE")).height
    assert len(index.search("doliprane", limit=200)) >= n_doliprane


@pytest.mark.parametrize(
    "query, expected_kind, expected_label",
    [
        ("paracetamol", "substance", "PARACÉTAMOL"),  # no accent
        ("PARACÉTAMOL", "substance", "PARACÉTAMOL"),
        ("amoxiciline", "substance", "AMOXICILLINE"),  # missing letter
        ("ibuprofenne", "substance", "IBUPROFÈNE"),  # extra letter
        ("levothyroxine", "substance", "LÉVOTHYROXINE"),
    ],
)
def test_accents_case_and_typos(index, query, expected_kind, expected_label):
    top3 = index.search(query, limit=3)
    assert any(h.kind == expected_kind and h.label == expected_label for h in top3), [h.label for h in top3]


def test_typo_in_brand(index):
    hits = index.search("dolipranne", limit=5)
    assert hits and all("DOLIPRANE" in h.label for h in hits)
    hits = index.search("spasfon lyok", limit=3)
    assert hits and "SPASFON LYOC" in hits[0].label


def test_brand_before_substances_that_start_alike(index):
    hits = index.search("levothyrox", limit=20)
    assert hits[0].kind == "speciality" and hits[0].label.startswith("LEVOTHYROX ")
    first_other = next(i for i, h in enumerate(hits) if not h.label.startswith("LEVOTHYROX "))
    assert all(h.label.startswith("LEVOTHYROX ") for h in hits[:first_other]) and first_other >= 8
    assert any(h.kind == "substance" for h in index.search("levothyrox", limit=40))  # still listed, after


@pytest.mark.parametrize("query", ["dafalgan 1g", "dafalgan 1 g", "DAFALGAN 1000 mg", "dafalgan 1000mg"])
def test_a_typed_dose_comes_first(index, query):
    hits = index.search(query, limit=30)
    assert "1000 mg" in hits[0].label and hits[0].label.startswith("DAFALGAN")
    tiers = [h.tier for h in hits]
    n_dose = sum(t < 5 for t in tiers)
    assert all("1000 mg" in h.label for h in hits[:n_dose])  # every 1 g first...
    assert any("500 mg" in h.label for h in hits[n_dose:])  # ...then the other strengths, marked tier 5
    assert tiers == sorted(tiers)


def test_typed_doses_as_a_reader_writes_them():
    from datamed.views.search import typed_doses_fr

    assert typed_doses_fr("dafalgan 1g") == "1 g"
    assert typed_doses_fr("doliprane 500MG 1g 500 mg") == "500 mg ou 1 g"
    assert typed_doses_fr("ventoline 0.1 mg") == "0,1 mg"
    assert typed_doses_fr("doliprane") == ""


def test_doses_in_milligrams():
    from datamed.views.search import doses

    assert doses("DAFALGAN 1 g, comprimé")[0] == {"1000mg"}
    assert doses("dafalgan 1g")[0] == doses("X 1000 mg")[0] == {"1000mg"}
    assert doses("LEVOTHYROX 25 microgrammes")[0] == {"0.025mg"}
    assert doses("AUGMENTIN 500 mg/62,5 mg")[0] == {"500mg", "62.5mg"}
    assert doses("paracetamol 500")[0] == frozenset()  # a number without a unit is a word


@pytest.mark.parametrize(
    "query, brand",
    [
        ("augmantin", "AUGMENTIN "),
        ("glucofage", "GLUCOPHAGE "),
        ("dolipranne", "DOLIPRANE "),
        ("kardegik", "KARDEGIC "),
    ],
)
def test_typos_of_long_labels_keep_the_brand_first(index, query, brand):
    hits = index.search(query, limit=5)
    assert hits and hits[0].label.startswith(brand), [h.label for h in hits]


def test_french_labels_before_english_ones(index):
    hits = index.search("ibuprofen", limit=10)
    assert hits[0].kind == "substance" and hits[0].label == "IBUPROFÈNE"
    english = [i for i, h in enumerate(hits) if h.english]
    french = [i for i, h in enumerate(hits) if not h.english]
    assert not english or max(french[:3]) < min(english)
    assert all(h.tier >= 2 for h in hits if h.english)  # an exact English name is not an exact match


def test_honest_counts(index):
    few = index.find("doliprane", limit=30)
    assert len(few.hits) == 30 and few.total == len(index.search("doliprane", limit=200)) > 30
    assert few.hits == index.search("doliprane", limit=30) and not few.capped
    many = index.find("a", limit=30)  # too common: the count is a lower bound
    assert many.total >= len(many.hits)
    broad = index.find("comprime", limit=30)
    assert broad.capped and broad.total >= 200  # shown as "plus de 200"


def test_holder_and_atc_label(index):
    assert any(h.kind == "holder" and h.id.startswith("SANOFI") for h in index.search("sanofi", limit=5))
    assert any(h.kind == "atc" and h.id == "N02" for h in index.search("analgesiques", limit=10))


def test_ranking_tiers_are_ordered(index):
    for query in ("doliprane", "amox", "paracetamol 500", "3400", "N02", "sanofi aventis"):
        hits = index.search(query, limit=30)
        tiers = [h.tier for h in hits]
        assert tiers == sorted(tiers), query
        assert len({(h.kind, h.id) for h in hits}) == len(hits)


def test_limit_does_not_change_ranking(index):
    assert index.search("doliprane", limit=3) == index.search("doliprane", limit=20)[:3]


@pytest.mark.parametrize(
    "query",
    ["", "   ", "x" * 10_000, "🙂💊", ".*(", "[a-z]+$", "'; DROP TABLE specialites; --", "\x00\n\t", "é" * 500, "a"],
)
def test_odd_queries_never_crash(index, query):
    hits = index.search(query, limit=10)
    assert isinstance(hits, list) and len(hits) <= 10
    if not normalise(query):
        assert hits == []


@pytest.mark.slow
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=300), st.integers(min_value=1, max_value=50))
def test_any_text_is_safe(index, query, limit):
    hits = index.search(query, limit=limit)
    assert len(hits) <= limit
    assert all(0 <= h.score <= 100 for h in hits)


def run(*args, stdin=None):
    return subprocess.run(
        [sys.executable, "-m", "datamed", "search", *args],
        cwd=REPO_ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_json(real_prepared):
    done = run("doliprane", "--limit", "3", "--json", "--data", str(real_prepared))
    assert done.returncode == 0, done.stderr
    hits = json.loads(done.stdout)
    assert len(hits) == 3
    for h in hits:
        assert set(h) == {"kind", "id", "label", "score"}
        assert h["kind"] == "speciality" and h["label"].startswith("DOLIPRANE")


@pytest.mark.slow
def test_cli_stdin_one_line_per_query(real_prepared):
    done = run("-", "--limit", "2", "--json", "--data", str(real_prepared), stdin="60002283\n\nparacetamol\n🙂\n")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 4
    first, empty, para, emoji = (json.loads(x) for x in lines)
    assert first[0] == {
        "kind": "cis",
        "id": "60002283",
        "label": "ANASTROZOLE ACCORD 1 mg, comprimé pelliculé",
        "score": 100,
    }
    assert empty == [] and emoji == []
    assert para[0]["label"] == "PARACÉTAMOL"


def test_cli_without_prepared_data(tmp_path):
    done = run("x", "--data", str(tmp_path))
    assert done.returncode == 1 and "no manifest.json" in done.stderr
