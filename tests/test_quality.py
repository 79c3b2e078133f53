"""Data-quality checks (datamed.pipeline.quality): real data, planted defects, missing
data, snapshot comparison against an independent reading of the raw files,
scores and the integrity gate."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest

from datamed.pipeline import quality
from datamed.pipeline.quality import CATEGORIES, GRAVITES, STATUTS

QUALITE_COLUMNS = {
    "source": pl.String,
    "jeu": pl.String,
    "fichier": pl.String,
    "controle": pl.String,
    "categorie": pl.String,
    "description": pl.String,
    "gravite": pl.String,
    "n_verifies": pl.Int64,
    "n_echecs": pl.Int64,
    "taux_echec": pl.Float64,
    "statut": pl.String,
    "exemples": pl.String,
}
ECHECS_COLUMNS = {"controle": pl.String, "jeu": pl.String, "cle": pl.String, "ligne": pl.Int64, "detail": pl.String}
EVOLUTION_COLUMNS = ["jeu", "changement", "cle", "libelle", "avant", "apres", "instantane_avant", "instantane_apres"]
TODAY = date(2026, 11, 28)


# --- helpers ------------------------------------------------------------------


def load_inputs(prepared: Path) -> tuple[dict[str, pl.DataFrame], list[dict], pl.DataFrame]:
    datasets = {p.stem: pl.read_parquet(p) for p in prepared.glob("*.parquet") if p.stem != "rejets"}
    manifest = json.loads((prepared / "manifest.json").read_text(encoding="utf-8"))
    return datasets, manifest["sources"], pl.read_parquet(prepared / "rejets.parquet")


def row(qualite: pl.DataFrame, controle: str, jeu: str) -> dict:
    rows = qualite.filter((pl.col("controle") == controle) & (pl.col("jeu") == jeu)).to_dicts()
    assert len(rows) == 1, (controle, jeu, rows)
    return rows[0]


def failures(out: dict, controle: str, jeu: str) -> pl.DataFrame:
    e = out["qualite_echecs"]
    return e.filter((pl.col("controle") == controle) & (pl.col("jeu") == jeu))


def ean13_check_digit(first12: str) -> int:
    """Independent EAN-13 key: weights 1, 3, 1, 3... from the left."""
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(first12))
    return (10 - total % 10) % 10


def raw_lines(path: Path) -> list[list[str]]:
    """Fields of every non-empty line of a BDPM file, read without the project's reader."""
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    return [line.rstrip("\r").split("\t") for line in text.split("\n") if line.strip("\r\n\t ")]


def label(value: str) -> str:
    value = " ".join(value.split())
    return value[:1].upper() + value[1:]


# --- fixtures -----------------------------------------------------------------


@pytest.fixture(scope="module")
def real_inputs(real_prepared):
    return load_inputs(real_prepared)


@pytest.fixture(scope="module")
def real_out(real_inputs, shared_dir):
    datasets, sources, rejects = real_inputs
    return quality.run_checks(datasets, sources, rejects, shared_dir, None, today=TODAY)


# --- shape and consistency on real data ----------------------------------------------


def test_real_frames_have_the_exact_columns(real_out):
    assert set(real_out) == {"qualite", "qualite_echecs", "qualite_evolution"}
    assert dict(real_out["qualite"].schema) == QUALITE_COLUMNS
    assert dict(real_out["qualite_echecs"].schema) == ECHECS_COLUMNS
    evolution = real_out["qualite_evolution"]
    assert evolution.columns == EVOLUTION_COLUMNS
    assert all(t == pl.String for t in evolution.schema.values())


def test_real_one_row_per_check_and_dataset(real_out):
    q = real_out["qualite"]
    assert q.height > 150
    assert q.select("controle", "jeu").is_duplicated().sum() == 0
    # the per-file checks cover every raw file, the files of a dataset together
    files = q.filter(pl.col("controle") == "lignes_rejetees")
    sites = files.filter(pl.col("jeu") == "sites")["fichier"][0].split(", ")
    assert len(sites) == 4 and all(f.startswith("sites/") for f in sites)


def test_real_status_is_consistent_with_the_counts(real_out):
    q = real_out["qualite"]
    assert set(q["statut"].unique()) <= set(STATUTS)
    assert set(q["gravite"].unique()) <= set(GRAVITES)
    assert set(q["categorie"].unique()) == set(CATEGORIES), "every check category is present"
    for r in q.iter_rows(named=True):
        expected = "non applicable" if r["n_verifies"] == 0 else ("échoué" if r["n_echecs"] > 0 else "réussi")
        assert r["statut"] == expected, r
        assert 0 <= r["n_echecs"] <= max(r["n_verifies"], 0)
        assert r["taux_echec"] == pytest.approx(r["n_echecs"] / r["n_verifies"] if r["n_verifies"] else 0.0)
        examples = json.loads(r["exemples"])
        assert isinstance(examples, list) and len(examples) <= 5
        assert (len(examples) > 0) == (r["statut"] == "échoué"), r
        assert r["description"] and r["description"].endswith(".")
    # drill-down: at most 500 rows per check x dataset, never more than the failures
    counts = real_out["qualite_echecs"].group_by("controle", "jeu").len()
    totals = q.group_by("controle", "jeu").agg(pl.col("n_echecs").sum())
    joined = counts.join(totals, on=["controle", "jeu"], how="left")
    assert joined.filter((pl.col("len") > 500) | (pl.col("len") > pl.col("n_echecs"))).is_empty()


def test_real_truncates_the_drill_down_at_500_rows(real_out):
    r = row(real_out["qualite"], "cis_dans_specialites", "generiques")
    assert r["n_echecs"] > 500  # CIS of generic groups absent from CIS_bdpm (real data)
    assert failures(real_out, "cis_dans_specialites", "generiques").height == 500


def test_real_code_checks_pass_where_they_should(real_out):
    q = real_out["qualite"]
    cis = q.filter(pl.col("controle") == "cis_format")
    assert {"specialites", "presentations", "compositions", "generiques", "disponibilites", "mitm"} <= set(cis["jeu"])
    assert set(cis.filter(pl.col("statut") != "non applicable")["statut"]) == {"réussi"}
    for controle, jeu in [
        ("cip13_format", "presentations"),
        ("cip13_cle", "presentations"),
        ("cip13_format", "disponibilites"),
        ("cip13_cle", "disponibilites"),
        ("cip7_format", "presentations"),
        ("cip7_cip13_coherence", "presentations"),
        ("cis_unique", "specialites"),
        ("cip13_unique", "presentations"),
        ("cip7_unique", "presentations"),
        ("code_atc_unique", "atc"),
        ("atc_format", "atc"),
        ("atc_format", "mitm"),
        ("site_id_unique", "sites"),
        ("code_postal_format", "communes"),
        ("code_insee_format", "sites"),
        ("champs_obligatoires", "specialites"),
    ]:
        r = row(q, controle, jeu)
        assert r["statut"] == "réussi" and r["n_verifies"] > 0, r
    assert row(q, "cip13_cle", "presentations")["n_verifies"] == 20875


def test_real_rejected_lines_match_the_manifest(real_out, real_inputs):
    _, sources, _ = real_inputs
    q = real_out["qualite"]
    by_dataset: dict[str, list[dict]] = {}
    for s in sources:
        by_dataset.setdefault(s["dataset"], []).append(s)
    assert set(q.filter(pl.col("controle") == "lignes_rejetees")["jeu"]) == set(by_dataset)
    for jeu, entries in by_dataset.items():
        rejected = row(q, "lignes_rejetees", jeu)
        assert rejected["n_verifies"] == sum(s["lines"] for s in entries)
        assert rejected["n_echecs"] == sum(s["rejected"] for s in entries), jeu
        assert rejected["fichier"] == ", ".join(s["path"] for s in entries)
        # corrections (row kept) are reported apart, never as rejected lines
        corrected = row(q, "valeurs_corrigees", jeu)
        assert corrected["n_echecs"] == sum(s.get("values_rejected", 0) for s in entries), jeu
    assert row(q, "valeurs_corrigees", "sites")["n_echecs"] == 8
    # the availability record that returns before it starts is kept: the date-order check reports it
    assert row(q, "lignes_rejetees", "disponibilites")["statut"] == "réussi"
    order = failures(real_out, "dates_ordre", "disponibilites")
    assert order.select("cle", "ligne").rows() == [("62678246", 463)]
    # with several files, a failure names its file
    detail = failures(real_out, "valeurs_corrigees", "sites")["detail"]
    assert detail.str.starts_with("sites/pharmacies_idf_sirene.csv : corrigé (ligne conservée) : ").sum() == 7


def test_real_known_defects_are_reported(real_out, shared_dir):
    q = real_out["qualite"]
    # a declaration date in year 2924 in CIS_CIP_bdpm 2026-01
    future = failures(real_out, "dates_futures", "presentations")
    assert "3400955097891" in future["cle"].to_list()
    # "tension d'approvisionnement" next to "Tension d'approvisionnement" (SOURCES.md 1.4)
    variants = failures(real_out, "libelles_variantes", "disponibilites")
    assert variants.height == row(q, "libelles_variantes", "disponibilites")["n_echecs"] == 6
    assert variants["detail"].str.contains("tension d'approvisionnement").any()
    # pharmacovigilance: TYP_NOTIF columns are unusable
    for jeu in ("ei_notif_age", "ei_notif_sexe"):
        r = row(q, "pv_colonnes", jeu)
        assert r["statut"] == "échoué" and failures(real_out, "pv_colonnes", jeu)["cle"].to_list() == ["TYP_NOTIF"]
    assert row(q, "pv_colonnes", "ei_annee")["statut"] == "réussi"
    # generic groups: independent count of CIS absent from CIS_bdpm, from the raw files
    snap = shared_dir / "bdpm" / "2026-01-27"
    cis = {f[0] for f in raw_lines(snap / "CIS_bdpm.txt")}
    orphans = [f[2] for f in raw_lines(snap / "CIS_GENER_bdpm.txt") if f[2] not in cis]
    r = row(q, "cis_dans_specialites", "generiques")
    assert r["n_echecs"] == len(orphans) > 0
    assert set(failures(real_out, "cis_dans_specialites", "generiques")["cle"]) <= set(orphans)


def test_real_snapshot_comparison_matches_an_independent_set_difference(real_out, shared_dir):
    old_dir, new_dir = shared_dir / "bdpm" / "2022-06-02", shared_dir / "bdpm" / "2026-01-27"
    evolution = real_out["qualite_evolution"]

    def keys(change: str) -> set[str]:
        part = evolution.filter(pl.col("changement") == change)
        assert set(part["instantane_avant"]) == {"2022-06-02"} and set(part["instantane_apres"]) == {"2026-01-27"}
        return set(part["cle"])

    old = {f[0]: f for f in raw_lines(old_dir / "CIS_bdpm.txt")}
    new = {f[0]: f for f in raw_lines(new_dir / "CIS_bdpm.txt")}
    added, removed = set(new) - set(old), set(old) - set(new)
    assert added and removed
    assert keys("CIS ajouté") == added
    assert keys("CIS retiré") == removed
    state = {c for c in set(old) & set(new) if label(old[c][6]) != label(new[c][6])}
    part = evolution.filter(
        (pl.col("jeu") == "specialites") & (pl.col("changement") == "changement d'état de commercialisation")
    )
    assert set(part["cle"]) == state

    old_cip = {f[6] for f in raw_lines(old_dir / "CIS_CIP_bdpm.txt")}
    new_cip = {f[6] for f in raw_lines(new_dir / "CIS_CIP_bdpm.txt")}
    assert keys("présentation ajoutée") == new_cip - old_cip
    assert keys("présentation retirée") == old_cip - new_cip

    q = real_out["qualite"]
    gone = row(q, "evolution_cis_disparus", "specialites")
    assert gone["statut"] == ("échoué" if len(removed) / len(old) > 0.05 else "réussi")
    count = row(q, "evolution_nombre_cis", "specialites")
    assert count["statut"] == ("échoué" if (len(old) - len(new)) / len(old) > 0.05 else "réussi")
    assert count["fichier"] == "bdpm/2022-06-02/CIS_bdpm.txt, bdpm/2026-01-27/CIS_bdpm.txt"


# --- planted defects -------------------------------------------------------------


@pytest.fixture(scope="module")
def planted(real_inputs):
    """Real datasets with one planted defect per check, and what was planted."""
    datasets, sources, rejects = real_inputs
    d = dict(datasets)
    spec, pres, compo, dispo = d["specialites"], d["presentations"], d["compositions"], d["disponibilites"]
    known = set(spec["cis"])

    # a CIP13 whose check digit is wrong
    good = pres["cip13"][10]
    right = ean13_check_digit(good[:12])
    assert int(good[12]) == right
    bad_cip = good[:12] + str((right + 1) % 10)
    d["presentations"] = pres.with_columns(
        pl.when(pl.col("cip13") == good).then(pl.lit(bad_cip)).otherwise(pl.col("cip13")).alias("cip13")
    )
    # a duplicated CIS, a date in the future, a mojibake label: three different CIS
    dup_cis, future_cis, moji_cis = spec["cis"][100], spec["cis"][200], spec["cis"][300]
    future = TODAY + timedelta(days=400)
    spec = spec.with_columns(
        pl.when(pl.col("cis") == future_cis).then(pl.lit(future)).otherwise(pl.col("date_amm")).alias("date_amm"),
        pl.when(pl.col("cis") == moji_cis)
        .then(pl.lit("PARACÃ©TAMOL TEST 500 mg, comprimÃ©"))
        .otherwise(pl.col("denomination"))
        .alias("denomination"),
    )
    copy = spec.filter(pl.col("cis") == dup_cis).with_columns(pl.lit(99999, dtype=pl.Int32).alias("source_line"))
    d["specialites"] = pl.concat([spec, copy])
    # a composition whose CIS is absent from specialites
    orphan = "99999999"
    assert orphan not in known
    d["compositions"] = pl.concat(
        [
            compo,
            compo.head(1).with_columns(pl.lit(orphan).alias("cis"), pl.lit(88888, dtype=pl.Int32).alias("source_line")),
        ]
    )
    # an availability record returning before it starts
    target = dispo.filter(pl.col("date_debut").is_not_null() & pl.col("date_remise_dispo").is_null()).row(0, named=True)
    d["disponibilites"] = dispo.with_columns(
        pl.when(pl.col("source_line") == target["source_line"])
        .then(pl.lit(target["date_debut"] - timedelta(days=10)))
        .otherwise(pl.col("date_remise_dispo"))
        .alias("date_remise_dispo")
    )
    out = quality.run_checks(d, sources, rejects, None, None, today=TODAY)
    base = quality.run_checks(datasets, sources, rejects, None, None, today=TODAY)
    planted = {
        "bad_cip": bad_cip,
        "right": right,
        "dup_cis": dup_cis,
        "future_cis": future_cis,
        "moji_cis": moji_cis,
        "orphan": orphan,
        "dispo": target,
    }
    return out, base, planted


@pytest.mark.parametrize(
    "controle, jeu",
    [
        ("cip13_cle", "presentations"),
        ("cis_unique", "specialites"),
        ("cis_dans_specialites", "compositions"),
        ("dates_futures", "specialites"),
        ("libelles_mojibake", "specialites"),
    ],
)
def test_planted_defect_fails_a_check_that_passes_on_real_data(planted, controle, jeu):
    out, base, _ = planted
    assert row(base["qualite"], controle, jeu)["statut"] == "réussi"
    r = row(out["qualite"], controle, jeu)
    assert r["statut"] == "échoué" and r["n_echecs"] >= 1


def test_planted_wrong_check_digit(planted):
    out, _, p = planted
    f = failures(out, "cip13_cle", "presentations")
    assert f["cle"].to_list() == [p["bad_cip"]]
    assert f["detail"][0] == f"clé EAN-13 attendue {p['right']}, trouvée {(p['right'] + 1) % 10}"
    assert f["ligne"][0] is not None
    example = json.loads(row(out["qualite"], "cip13_cle", "presentations")["exemples"])[0]
    assert example["cip13"] == p["bad_cip"] and example["ligne"] == f["ligne"][0]


def test_planted_duplicate_cis(planted):
    out, _, p = planted
    f = failures(out, "cis_unique", "specialites")
    assert set(f["cle"]) == {p["dup_cis"]}
    assert 99999 in f["ligne"].to_list() and f.height == 2


def test_planted_orphan_composition(planted):
    out, _, p = planted
    f = failures(out, "cis_dans_specialites", "compositions")
    assert f["cle"].to_list() == [p["orphan"]] and f["ligne"].to_list() == [88888]


def test_planted_future_date_mojibake_and_return_before_start(planted):
    out, _, p = planted
    assert failures(out, "dates_futures", "specialites")["cle"].to_list() == [p["future_cis"]]
    moji = failures(out, "libelles_mojibake", "specialites")
    assert moji["cle"].to_list() == [p["moji_cis"]]
    assert "Ã©" in moji["detail"][0]
    order = failures(out, "dates_ordre", "disponibilites")
    # the planted record beside the real one (line 463), both kept and reported
    assert set(order.select("cle", "ligne").rows()) == {
        (p["dispo"]["cis"], p["dispo"]["source_line"]),
        ("62678246", 463),
    }


def test_planted_defects_lower_the_score_and_raise_the_integrity_rate(planted):
    out, base, _ = planted
    label = "BDPM · spécialités (CIS_bdpm)"
    before = quality.scores(base["qualite"]).filter(pl.col("source") == label).row(0, named=True)
    after = quality.scores(out["qualite"]).filter(pl.col("source") == label).row(0, named=True)
    assert after["score"] < before["score"]
    assert after["n_echecs_controles"] == before["n_echecs_controles"] + 3
    assert quality.integrity_failure_rate(out["qualite"]) > quality.integrity_failure_rate(base["qualite"])


# --- missing, empty and partial data ---------------------------------------------


def test_missing_datasets_are_not_applicable():
    out = quality.run_checks({}, [], pl.DataFrame(), None, None)
    q = out["qualite"]
    assert dict(q.schema) == QUALITE_COLUMNS and q.height > 50
    assert set(q["statut"]) == {"non applicable"}
    assert (q["n_verifies"] == 0).all() and (q["taux_echec"] == 0.0).all()
    assert out["qualite_echecs"].is_empty() and out["qualite_evolution"].is_empty()
    assert quality.integrity_failure_rate(q) == 0.0
    assert quality.scores(q)["score"].null_count() == quality.scores(q).height


def test_empty_datasets_and_bad_folders_are_not_applicable(real_inputs, tmp_path):
    datasets, sources, rejects = real_inputs
    empty = {name: frame.clear() for name, frame in datasets.items()}
    (tmp_path / "raw" / "bdpm" / "2026-01-01").mkdir(parents=True)
    (tmp_path / "previous").mkdir()
    out = quality.run_checks(empty, [], rejects.clear(), tmp_path / "raw", tmp_path / "previous")
    assert set(out["qualite"]["statut"]) == {"non applicable"}
    out = quality.run_checks(empty, [], None, tmp_path / "nowhere", tmp_path / "nowhere")
    assert set(out["qualite"]["statut"]) == {"non applicable"}


def test_partial_datasets(real_inputs):
    datasets, sources, rejects = real_inputs
    partial = {"specialites": datasets["specialites"], "compositions": datasets["compositions"].head(0)}
    q = quality.run_checks(partial, sources[:1], None, None, None)["qualite"]
    assert row(q, "cis_format", "specialites")["statut"] == "réussi"
    assert row(q, "cis_dans_specialites", "compositions")["statut"] == "non applicable"
    assert row(q, "cis_dans_specialites", "presentations")["statut"] == "non applicable"
    # without the parent, integrity cannot be verified
    q = quality.run_checks({"compositions": datasets["compositions"]}, [], None, None, None)["qualite"]
    assert row(q, "cis_dans_specialites", "compositions")["statut"] == "non applicable"


# --- availability history and previous build ----------------------------------------


def test_demo_availability_status_changes(demo_prepared):
    datasets, sources, rejects = load_inputs(demo_prepared)
    out = quality.run_checks(datasets, sources, rejects, None, None)
    dispo = datasets["disponibilites"]
    snaps = sorted(set(dispo["snapshot"].to_list()))
    assert len(snaps) >= 2
    status: dict[tuple, set] = {}
    for r in dispo.iter_rows(named=True):
        status.setdefault((r["snapshot"], r["cis"]), set()).add(r["libelle_statut"])
    expected = set()
    for before, after in zip(snaps, snaps[1:]):
        for cis in {c for s, c in status if s in (before, after)}:
            if status.get((before, cis)) != status.get((after, cis)):
                expected.add((before.isoformat(), after.isoformat(), cis))
    part = out["qualite_evolution"].filter(pl.col("changement") == "changement de statut de disponibilité")
    assert expected and set(part.select("instantane_avant", "instantane_apres", "cle").iter_rows()) == expected


@pytest.mark.slow
def test_row_count_jumps_since_the_previous_build(real_inputs, tmp_path):
    datasets, sources, rejects = real_inputs
    previous = tmp_path / "previous"
    previous.mkdir()
    rows = {name: {"rows": frame.height} for name, frame in datasets.items()}
    rows["specialites"]["rows"] = int(datasets["specialites"].height / 1.5)  # +50 % since
    rows["presentations"]["rows"] = int(datasets["presentations"].height * 1.05)  # -4.8 %: no jump
    (previous / "manifest.json").write_text(json.dumps({"built_at": "2026-01-01T00:00:00+00:00", "datasets": rows}))
    out = quality.run_checks(datasets, sources, rejects, None, previous, today=TODAY)
    q = out["qualite"]
    assert row(q, "evolution_lignes", "specialites")["statut"] == "échoué"
    assert row(q, "evolution_lignes", "presentations")["statut"] == "réussi"
    jumps = out["qualite_evolution"].filter(pl.col("changement") == "variation du nombre de lignes")
    assert jumps["jeu"].to_list() == ["specialites"]
    j = jumps.row(0, named=True)
    assert (j["avant"], j["apres"]) == (str(rows["specialites"]["rows"]), str(datasets["specialites"].height))
    assert (j["instantane_avant"], j["instantane_apres"]) == ("2026-01-01", TODAY.isoformat())

    # no manifest: row counts come from the previous parquet files
    (previous / "manifest.json").unlink()
    datasets["mitm"].head(10).write_parquet(previous / "mitm.parquet")
    q = quality.run_checks(datasets, sources, rejects, None, previous)["qualite"]
    assert row(q, "evolution_lignes", "mitm")["statut"] == "échoué"
    assert row(q, "evolution_lignes", "specialites")["statut"] == "non applicable"


# --- scores and gate ------------------------------------------------------------


def _qualite(rows: list[tuple]) -> pl.DataFrame:
    cols = ["source", "categorie", "gravite", "n_verifies", "n_echecs", "statut"]
    frame = pl.DataFrame(rows, schema=cols, orient="row")
    return frame.with_columns(
        pl.col("n_verifies").cast(pl.Int64),
        pl.col("n_echecs").cast(pl.Int64),
        pl.when(pl.col("n_verifies") > 0)
        .then(pl.col("n_echecs") / pl.col("n_verifies"))
        .otherwise(0.0)
        .alias("taux_echec"),
    )


def test_scores_on_hand_made_frames():
    q = _qualite(
        [
            ("A", "doublons", "bloquante", 10, 5, "échoué"),  # 1 - 0.5, weight 3
            ("A", "libellés", "mineure", 4, 0, "réussi"),  # 1, weight 1
            ("A", "dates", "majeure", 0, 0, "non applicable"),  # ignored
            ("B", "dates", "majeure", 0, 0, "non applicable"),
            ("C", "types", "majeure", 100, 0, "réussi"),
        ]
    )
    s = quality.scores(q)
    assert s.columns == ["source", "score", "n_controles", "n_reussis", "n_echecs_controles"]
    assert s.schema["score"] == pl.Float64
    by = {r["source"]: r for r in s.iter_rows(named=True)}
    assert by["A"]["score"] == pytest.approx(100 * (3 * 0.5 + 1 * 1.0) / 4)
    assert (by["A"]["n_controles"], by["A"]["n_reussis"], by["A"]["n_echecs_controles"]) == (2, 1, 1)
    assert by["B"]["score"] is None and by["B"]["n_controles"] == 0
    assert by["C"]["score"] == 100.0
    assert quality.scores(q.clear()).is_empty()
    assert "pondérée" in quality.SCORE_METHOD_FR and quality.SCORE_METHOD_FR.endswith(".")


def test_integrity_failure_rate_on_hand_made_frames():
    q = _qualite(
        [
            ("A", "intégrité référentielle", "majeure", 100, 1, "échoué"),
            ("B", "intégrité référentielle", "majeure", 300, 3, "échoué"),
            ("B", "intégrité référentielle", "majeure", 0, 0, "non applicable"),
            ("C", "doublons", "bloquante", 10, 10, "échoué"),  # not an integrity check
        ]
    )
    assert quality.integrity_failure_rate(q) == pytest.approx(4 / 400)
    assert quality.integrity_failure_rate(q.filter(pl.col("categorie") == "doublons")) == 0.0
    assert quality.integrity_failure_rate(q.clear()) == 0.0


def test_real_integrity_rate_is_pooled_over_the_integrity_checks(real_out):
    q = real_out["qualite"]
    part = q.filter((pl.col("categorie") == "intégrité référentielle") & (pl.col("statut") != "non applicable"))
    rate = quality.integrity_failure_rate(q)
    assert rate == pytest.approx(part["n_echecs"].sum() / part["n_verifies"].sum())
    assert 0.0 < rate < 1.0
