"""Report on the links between databases (datamed.pipeline.linking): figures on the real
data checked against independent recomputations (from the prepared frames and,
for MITM, from the raw BDPM files), method mix, score bands, unlinked lists,
suggestions, and robustness to missing or empty inputs."""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl
import pytest

from datamed.pipeline import linking
from datamed.pipeline.linking import (
    MAX_UNMATCHED,
    NON_RELIES_SCHEMA,
    SCORE_BANDS,
    SCORES_SCHEMA,
    SYNTHESE_SCHEMA,
    category,
    link_report,
)

ALL_LINKS = [
    "pv_bdpm",
    "mitm_cis",
    "ruptures_cis",
    "ruptures_cip",
    "atc_libelles",
    "atc_classes_ruptures",
    "titulaires_sites",
]
SUGGESTION = re.compile(r"^.+ \((\d{1,3})\)$")


def _load(folder: Path) -> dict[str, pl.DataFrame]:
    return {p.stem: pl.read_parquet(p) for p in folder.glob("*.parquet")}


@pytest.fixture(scope="module")
def real(real_prepared) -> dict[str, pl.DataFrame]:
    return _load(real_prepared)


@pytest.fixture(scope="module")
def report(real) -> dict[str, pl.DataFrame]:
    return link_report(real)


@pytest.fixture(scope="module")
def demo(demo_prepared) -> dict[str, pl.DataFrame]:
    return _load(demo_prepared)


def _row(report: dict[str, pl.DataFrame], lien: str) -> dict:
    rows = report["liens_synthese"].filter(pl.col("lien") == lien).to_dicts()
    assert len(rows) == 1, f"{lien}: {len(rows)} rows"
    return rows[0]


def _unmatched(report: dict[str, pl.DataFrame], lien: str) -> pl.DataFrame:
    return report["liens_non_relies"].filter(pl.col("lien") == lien)


def _read_raw(path: Path) -> list[list[str]]:
    """A raw BDPM file: UTF-8 strict, else Windows-1252; tab-separated, no header."""
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("cp1252")
    return [line.split("\t") for line in text.splitlines() if line.strip()]


# --- shape ----------------------------------------------------------------------------------------


def test_report_frames_and_columns(report):
    assert set(report) == {"liens_synthese", "liens_scores", "liens_non_relies"}
    assert report["liens_synthese"].schema == pl.Schema(SYNTHESE_SCHEMA)
    assert report["liens_scores"].schema == pl.Schema(SCORES_SCHEMA)
    assert report["liens_non_relies"].schema == pl.Schema(NON_RELIES_SCHEMA)
    synthese = report["liens_synthese"]
    assert synthese["lien"].to_list() == ALL_LINKS  # one row per link, stable order
    for row in synthese.to_dicts():
        assert row["n_elements"] > 0
        assert 0 <= row["n_relies"] <= row["n_elements"]
        assert row["couverture"] == pytest.approx(row["n_relies"] / row["n_elements"])
        assert row["n_exact"] + row["n_normalise"] + row["n_approche"] + row["n_autre"] == row["n_relies"]
        assert "→" in row["libelle"] and row["source"] and row["cible"] and row["unite"]
        assert len(row["methode"]) > 40
        if row["poids_relies"] is not None:
            assert 0 <= row["poids_relies"] <= 1
    units = dict(synthese.select("lien", "unite").rows())
    assert units["pv_bdpm"] == "substances" and units["ruptures_cip"] == "présentations"
    assert units["atc_libelles"] == "codes ATC" and units["titulaires_sites"] == "titulaires"
    # weighted coverage only where a weight exists
    weighted = dict(synthese.select("lien", "poids_relies").rows())
    assert weighted["mitm_cis"] is None and weighted["ruptures_cis"] is None
    assert weighted["pv_bdpm"] is not None and weighted["titulaires_sites"] is not None


# --- pharmacovigilance -> BDPM ------------------------------------------------------------------------


def test_pv_bdpm_figures(report, real):
    subs, links = real["ei_substances"], real["ei_liens"]
    row = _row(report, "pv_bdpm")
    ids = set(subs["ei_id"].to_list())
    linked = ids & set(links["ei_id"].to_list())
    assert row["n_elements"] == len(ids)
    assert row["n_relies"] == len(linked) == links["ei_id"].n_unique()
    # one method per substance on this data: count them independently
    per_id = links.group_by("ei_id").agg(pl.col("methode").first(), pl.col("methode").n_unique().alias("n"))
    assert per_id["n"].max() == 1
    counts = dict(per_id.group_by("methode").len().rows())
    assert row["n_exact"] == counts.get("exact", 0) > 0
    assert row["n_normalise"] == counts.get("ordre des mots", 0) + counts.get("sel ou hydrate", 0) > 0
    assert row["n_approche"] == counts.get("approché", 0)
    assert row["n_autre"] == 0
    scores = links.group_by("ei_id").agg(pl.col("score").max())["score"]
    assert row["score_min"] == scores.min() and row["score_median"] == scores.median()
    # weighted by published cases, masked counts as 0
    cases = subs.select("ei_id", pl.col("n_cas").fill_null(0))
    total = cases["n_cas"].sum()
    linked_cases = cases.filter(pl.col("ei_id").is_in(list(linked)))["n_cas"].sum()
    assert row["poids_relies"] == pytest.approx(linked_cases / total)
    assert "masqués" in row["methode"] and "0" in row["methode"]


def test_pv_bdpm_unmatched(report, real):
    unmatched = _unmatched(report, "pv_bdpm")
    expected = set(real["ei_substances"]["ei_id"]) - set(real["ei_liens"]["ei_id"])
    assert set(unmatched["element"]) == expected == set(real["ei_non_lies"]["ei_id"])
    names = dict(real["ei_substances"].select("ei_id", "nom").rows())
    assert all(names[e] == lab for e, lab in unmatched.select("element", "libelle").rows())
    # heaviest first (n_cas), masked counts last
    poids = unmatched["poids"].to_list()
    published = [p for p in poids if p is not None]
    assert published == sorted(published, reverse=True)
    assert poids[: len(published)] == published
    # suggestions: the upstream candidates, each with a score
    upstream = dict(real["ei_non_lies"].select("ei_id", "suggestions").rows())
    for element, suggestions in unmatched.select("element", "suggestions").rows():
        assert len(suggestions) <= 3
        assert {SUGGESTION.match(s).group(0).rsplit(" (", 1)[0] for s in suggestions} <= set(upstream[element])
    assert sum(len(s) > 0 for s in unmatched["suggestions"]) > len(expected) / 2


# --- MITM -> CIS, against the raw files ----------------------------------------------------------


def test_mitm_coverage_from_raw_files(report, shared_dir):
    folder = shared_dir / "bdpm" / "2026-01-27"
    mitm = {fields[0].strip() for fields in _read_raw(folder / "CIS_MITM.txt")}
    bdpm = {fields[0].strip() for fields in _read_raw(folder / "CIS_bdpm.txt")}
    assert len(mitm) > 1000 and len(bdpm) > 10000
    row = _row(report, "mitm_cis")
    assert row["n_elements"] == len(mitm)
    assert row["n_relies"] == len(mitm & bdpm) == row["n_exact"]
    assert row["score_min"] is None and row["score_median"] is None
    unmatched = _unmatched(report, "mitm_cis")
    assert set(unmatched["element"]) == mitm - bdpm
    assert unmatched["libelle"].null_count() == 0
    for suggestions in unmatched["suggestions"]:
        assert 1 <= len(suggestions) <= 3
        assert all(60 <= int(SUGGESTION.match(s).group(1)) <= 100 for s in suggestions)


def test_planted_mitm_cis_gets_its_near_twin_first(real):
    spec = real["specialites"]
    keys = spec.select(
        "denomination",
        pl.col("denomination").str.to_lowercase().str.replace_all(r"[^a-z0-9]+", " ").alias("k"),
    )
    unique = keys.filter(pl.col("k").is_unique() & pl.col("denomination").str.contains("^[A-Z ]+ [0-9]+ mg, comprimé$"))
    name = unique["denomination"][0]  # e.g. "XXX 500 mg, comprimé"
    planted = name.lower().replace(",", "").replace("é", "e") + "s"  # near-identical spelling
    mitm = pl.concat(
        [real["mitm"], pl.DataFrame({"cis": ["99999999"], "denomination": [planted]})],
        how="diagonal_relaxed",
    )
    result = link_report({**real, "mitm": mitm})
    row = _unmatched(result, "mitm_cis").filter(pl.col("element") == "99999999").to_dicts()
    assert len(row) == 1 and row[0]["libelle"] == planted
    first = row[0]["suggestions"][0]
    assert first.startswith(name + " (") and int(SUGGESTION.match(first).group(1)) >= 90


def test_fuzzy_suggestions_small_example():
    spec = pl.DataFrame(
        {
            "cis": ["1", "2", "3"],
            "denomination": [
                "ABACAVIR ARROW 300 mg, comprimé",
                "ABACAVIR TEVA 300 mg, comprimé",
                "DOLIPRANE 500 mg, gélule",
            ],
        }
    )
    mitm = pl.DataFrame(
        {"cis": ["1", "9"], "denomination": ["ABACAVIR ARROW 300 mg, comprimé", "abacavir teva 300mg comprime"]}
    )
    result = link_report({"specialites": spec, "mitm": mitm})
    row = _row(result, "mitm_cis")
    assert (row["n_elements"], row["n_relies"], row["n_exact"]) == (2, 1, 1)
    unmatched = _unmatched(result, "mitm_cis")
    assert unmatched["element"].to_list() == ["9"]
    suggestions = unmatched["suggestions"][0].to_list()
    assert suggestions[0].startswith("ABACAVIR TEVA 300 mg, comprimé (")
    assert not any(s.startswith("DOLIPRANE") for s in suggestions)  # below the floor
    assert result["liens_scores"].is_empty()  # code joins carry no score


# --- shortages -> CIS / CIP ------------------------------------------------------------------------


def test_ruptures_cis_and_cip(report, real):
    dispo, spec, pres = real["disponibilites"], real["specialites"], real["presentations"]
    cis = set(dispo["cis"].drop_nulls())
    row = _row(report, "ruptures_cis")
    assert row["n_elements"] == len(cis)
    assert row["n_relies"] == len(cis & set(spec["cis"])) == row["n_exact"]
    unmatched = _unmatched(report, "ruptures_cis")
    assert set(unmatched["element"]) == cis - set(spec["cis"])
    # names come from the ANSM page address when the CIS is not in MITM; suggestions from them
    assert unmatched["libelle"].null_count() == 0
    assert sum(len(s) > 0 for s in unmatched["suggestions"]) >= unmatched.height / 2

    cip = set(dispo["cip13"].drop_nulls())
    row = _row(report, "ruptures_cip")
    assert row["n_elements"] == len(cip)
    assert row["n_relies"] == len(cip & set(pres["cip13"].drop_nulls())) == row["n_exact"]
    unmatched = _unmatched(report, "ruptures_cip")
    assert set(unmatched["element"]) == cip - set(pres["cip13"])
    # suggestions: presentations of the same CIS
    cis_of_dispo = dict(dispo.drop_nulls("cip13").select("cip13", "cis").rows())
    cis_of_pres = dict(pres.select("cip13", "cis").rows())
    for element, suggestions in unmatched.select("element", "suggestions").rows():
        for s in suggestions:
            assert cis_of_pres[s.split(" ", 1)[0]] == cis_of_dispo[element]
    assert sum(len(s) for s in unmatched["suggestions"]) > 0


# --- ATC ----------------------------------------------------------------------------------------------


def test_atc_labels(report, real):
    atc = real["atc"]
    used = set(real["specialite_atc"]["code_atc"].drop_nulls()) | set(real["mitm"]["code_atc"].drop_nulls())
    french = set(atc.filter(pl.col("langue") == "fr")["code_atc"])
    english = set(atc.filter(pl.col("langue") == "en")["code_atc"])
    row = _row(report, "atc_libelles")
    assert row["n_elements"] == len(used)
    assert row["n_exact"] == len(used & french)
    assert row["n_autre"] == len(used & english - french) > 0  # WHO English label only
    assert row["n_relies"] == len(used & (french | english))
    assert "anglais" in row["methode"]
    assert set(_unmatched(report, "atc_libelles")["element"]) == used - set(atc["code_atc"])


def test_atc_classes_of_shortages(report, real):
    classes = real["ruptures_classes"]
    labels = set(classes["libelle_source"])
    linked = classes.filter(pl.col("code_atc").is_not_null())
    row = _row(report, "atc_classes_ruptures")
    assert row["n_elements"] == len(labels)
    assert row["n_relies"] == linked["libelle_source"].n_unique()
    mapping = {"libellé exact": "exact", "code": "exact", "code (O lu 0)": "normalise", "libellé approché": "approche"}
    per_label = linked.unique("libelle_source").with_columns(pl.col("methode").replace_strict(mapping).alias("cat"))
    counts = dict(per_label.group_by("cat").len().rows())
    assert row["n_exact"] == counts.get("exact", 0)
    assert row["n_normalise"] == counts.get("normalise", 0) > 0
    assert row["n_approche"] == counts.get("approche", 0) > 0
    assert row["poids_relies"] == pytest.approx(linked["n_signalements"].sum() / classes["n_signalements"].sum())
    unmatched = _unmatched(report, "atc_classes_ruptures")
    assert set(unmatched["element"]) == labels - set(linked["libelle_source"])
    weights = classes.group_by("libelle_source").agg(pl.col("n_signalements").sum())
    assert dict(unmatched.select("element", "poids").rows()) == {
        k: float(v) for k, v in weights.filter(pl.col("libelle_source").is_in(unmatched["element"].implode())).rows()
    }


# --- holders -> sites -----------------------------------------------------------------------------


def test_holders_to_sites(report, real):
    held = (
        real["specialites"]
        .select("cis", "titulaires")
        .explode("titulaires")
        .drop_nulls()
        .unique()
        .group_by("titulaires")
        .len()
    )
    n_held = dict(held.rows())
    links = real["titulaires_sites"]
    linked = set(n_held) & set(links["titulaire"])
    row = _row(report, "titulaires_sites")
    assert row["n_elements"] == len(n_held)
    assert row["n_relies"] == len(linked)
    methods = links.group_by("titulaire").agg(pl.col("methode").unique())
    strict = {"exact": 0, "normalisé": 1, "groupe": 2, "approché": 3}
    best = [min(m, key=strict.__getitem__) for m in methods["methode"].to_list()]
    assert row["n_exact"] == best.count("exact")
    assert row["n_normalise"] == best.count("normalisé")
    assert row["n_autre"] == best.count("groupe") > 0  # curated group list
    assert row["n_approche"] == best.count("approché")
    assert row["poids_relies"] == pytest.approx(sum(n_held[h] for h in linked) / sum(n_held.values()))
    # unmatched: capped, heaviest first, exactly the heaviest unlinked holders
    unmatched = _unmatched(report, "titulaires_sites")
    unlinked = {h: n for h, n in n_held.items() if h not in linked}
    assert MAX_UNMATCHED == 500
    assert unmatched.height == min(500, len(unlinked))
    assert set(unmatched["element"]) <= set(unlinked)
    listed = unmatched["poids"].to_list()
    assert listed == sorted(listed, reverse=True)
    left_out = [n for h, n in unlinked.items() if h not in set(unmatched["element"])]
    assert not left_out or max(left_out) <= min(listed)
    assert all(n_held[h] == p for h, p in unmatched.select("element", "poids").rows())
    upstream = dict(real["titulaires_non_relies"].select("titulaire", "suggestions").rows())
    for element, suggestions in unmatched.head(50).select("element", "suggestions").rows():
        assert [s.rsplit(" (", 1)[0] for s in suggestions] == list(upstream[element])[:3]


# --- scores ---------------------------------------------------------------------------------------------


def test_score_bands(report, real):
    synthese = report["liens_synthese"]
    scores = report["liens_scores"]
    scored = synthese.filter(pl.col("score_min").is_not_null())["lien"].to_list()
    assert scored == ["pv_bdpm", "atc_classes_ruptures", "titulaires_sites"]
    assert scores["lien"].unique(maintain_order=True).to_list() == scored
    labels = [label for label, _ in SCORE_BANDS]
    for lien in scored:
        bands = scores.filter(pl.col("lien") == lien)
        assert bands["tranche"].to_list() == labels
        assert bands["n"].sum() == _row(report, lien)["n_relies"]
    # independent count for pharmacovigilance: one score per substance
    per_id = real["ei_liens"].group_by("ei_id").agg(pl.col("score").max())["score"]
    pv = dict(scores.filter(pl.col("lien") == "pv_bdpm").select("tranche", "n").rows())
    bounds = {
        "100": (100, 999),
        "95–99": (95, 100),
        "90–94": (90, 95),
        "85–89": (85, 90),
        "80–84": (80, 85),
        "< 80": (-1, 80),
    }
    for label, (low, high) in bounds.items():
        assert pv[label] == ((per_id >= low) & (per_id < high)).sum(), label


def test_score_band_edges():
    values = [100, 99, 95, 94, 90, 89, 85, 84, 80, 79, 0]
    ids = [f"s{i}" for i in range(len(values))]
    datasets = {
        "ei_substances": pl.DataFrame({"ei_id": ids + ["x"], "nom": ids + ["X"], "n_cas": [1] * len(values) + [None]}),
        "ei_liens": pl.DataFrame({"ei_id": ids, "methode": ["approché"] * len(values), "score": values}),
    }
    result = link_report(datasets)
    bands = dict(result["liens_scores"].select("tranche", "n").rows())
    assert bands == {"100": 1, "95–99": 2, "90–94": 2, "85–89": 2, "80–84": 2, "< 80": 2}
    row = _row(result, "pv_bdpm")
    assert (row["n_elements"], row["n_relies"], row["n_approche"]) == (12, 11, 11)
    assert (row["score_min"], row["score_median"]) == (0.0, 89.0)
    assert row["poids_relies"] == 1.0  # the unlinked substance's count is masked: 0
    assert _unmatched(result, "pv_bdpm").to_dicts() == [
        {"lien": "pv_bdpm", "element": "x", "libelle": "X", "poids": None, "suggestions": []}
    ]


def test_unmatched_lists_are_complete(report):
    synthese = report["liens_synthese"]
    unmatched = report["liens_non_relies"]
    for row in synthese.to_dicts():
        rows = unmatched.filter(pl.col("lien") == row["lien"])
        assert rows.height == min(MAX_UNMATCHED, row["n_elements"] - row["n_relies"])
        assert rows["element"].n_unique() == rows.height
        assert rows["suggestions"].null_count() == 0
        assert all(SUGGESTION.match(s) for lst in rows["suggestions"] for s in lst)


# --- method labels --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "label, expected",
    [
        ("exact", "exact"),
        ("libellé exact", "exact"),
        ("code", "exact"),
        ("ordre des mots", "normalise"),
        ("sel ou hydrate", "normalise"),
        ("normalisé", "normalise"),
        ("code (O lu 0)", "normalise"),
        ("approché", "approche"),
        ("libellé approché", "approche"),
        ("groupe", "autre"),
        ("liste établie à la main", "autre"),
        ("nom approché (rapidfuzz)", "approche"),
        (None, "autre"),
    ],
)
def test_method_categories(label, expected):
    assert category(label) == expected


def test_every_real_method_label_is_mapped(real):
    labels = set()
    for name in ("ei_liens", "ruptures_classes", "titulaires_sites"):
        labels |= set(real[name]["methode"].drop_nulls())
    assert labels <= set(linking.METHOD_CATEGORIES)


# --- missing and empty inputs --------------------------------------------------------------------------


def test_no_input_gives_empty_typed_frames():
    for datasets in ({}, {"specialites": pl.DataFrame()}, {"mitm": pl.DataFrame({"x": [1]})}):
        result = link_report(datasets)
        assert result["liens_synthese"].is_empty() and result["liens_synthese"].schema == pl.Schema(SYNTHESE_SCHEMA)
        assert result["liens_scores"].is_empty() and result["liens_non_relies"].is_empty()
        assert result["liens_non_relies"].schema == pl.Schema(NON_RELIES_SCHEMA)


def test_missing_or_empty_datasets_never_raise(demo):
    full = link_report(demo)["liens_synthese"]
    assert full["lien"].to_list() == ALL_LINKS
    assert link_report({k: v.clear() for k, v in demo.items()})["liens_synthese"].is_empty()
    needs = {
        "ei_substances": "pv_bdpm",
        "ei_liens": "pv_bdpm",
        "mitm": "mitm_cis",
        "disponibilites": "ruptures_cip",
        "presentations": "ruptures_cip",
        "atc": "atc_libelles",
        "ruptures_classes": "atc_classes_ruptures",
        "titulaires_sites": "titulaires_sites",
        "specialites": "titulaires_sites",
    }
    read = {
        "ei_substances",
        "ei_liens",
        "ei_non_lies",
        "noms_substances",
        "compositions",
        "substances",
        "mitm",
        "specialites",
        "disponibilites",
        "presentations",
        "specialite_atc",
        "atc",
        "ruptures_classes",
        "titulaires_sites",
        "titulaires_non_relies",
        "sites",
    }
    for name in sorted(read & set(demo)):
        for variant in ("missing", "empty", "one column"):
            datasets = dict(demo)
            if variant == "missing":
                datasets.pop(name)
            elif variant == "empty":
                datasets[name] = demo[name].clear()
            else:
                datasets[name] = demo[name].select(pl.first())
            result = link_report(datasets)
            assert result["liens_synthese"].schema == pl.Schema(SYNTHESE_SCHEMA)
            if variant == "missing" and name in needs:
                assert needs[name] not in result["liens_synthese"]["lien"].to_list(), (name, variant)


def test_pv_suggestions_computed_when_not_provided(demo):
    datasets = {k: v for k, v in demo.items() if k != "ei_non_lies"}
    with_upstream = _unmatched(link_report(demo), "pv_bdpm")
    without = _unmatched(link_report(datasets), "pv_bdpm")
    assert without["element"].to_list() == with_upstream["element"].to_list()
    assert all(SUGGESTION.match(s) for lst in without["suggestions"] for s in lst)
