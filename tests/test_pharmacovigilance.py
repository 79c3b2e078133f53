"""Pharmacovigilance: readers, linking, indicators and disclosure, on the real files."""

from __future__ import annotations

import csv
import json
import math
import shutil
import statistics
from collections import Counter, defaultdict
from pathlib import Path

import polars as pl
import pytest

from datamed.core import disclosure, stats
from datamed.core.rule import ProtectionRule
from datamed.pipeline.build import BuildError, build
from datamed.pipeline.pharmacovigilance import slug
from datamed.pipeline.pv_link import link_substances
from datamed.sources.pharmacovigilance import SocList, discover, inspect_columns, read_pv_file
from datamed.views import adverse

FIXTURE = Path(__file__).parent / "fixtures" / "pv_substance_links_labelled.csv"
AGE_MAP = {"0": "0-19", "20": "20-59", "60": "60+", "0-19 ans": "0-19", "20-59 ans": "20-59", "60 ans et plus": "60+"}


@pytest.fixture(scope="module")
def pv_dir(shared_dir) -> Path:
    return shared_dir / "ansm_pharmacovigilance"


@pytest.fixture(scope="module")
def raw_json(pv_dir):
    return {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in pv_dir.glob("sa_data_*.json")}


@pytest.fixture(scope="module")
def socs(shared_dir) -> SocList:
    return SocList.read(shared_dir / "meddra/meddra_soc.csv")


# --- readers ----------------------------------------------------------------------------------


def test_every_file_read_and_every_record_accounted_for(pv_dir, socs, raw_json):
    files, ignored = discover(pv_dir)
    assert len(files) == 7 and not ignored
    for f in files:
        r = read_pv_file(f, socs)
        hard = {x.line for x in r.rejects if "exposure set to missing" not in x.reason}
        assert r.n_records == len(raw_json[f.path.stem])
        assert r.frame.height + len(hard) == r.n_records, f.rel
    conflicts = Counter(
        f.path.stem for f in files for x in read_pv_file(f, socs).rejects if "exposure set to missing" in x.reason
    )
    expected = Counter()
    for stem in ("sa_data_annee", "sa_data_age", "sa_data_sexe"):
        expected[stem] = sum(1 for r in raw_json[stem] if r["n_cas"] > r["n_conso"])
    assert conflicts == expected and sum(expected.values()) == 412


def test_ages_normalised_and_socs_coded(pv_dir, socs):
    files, _ = discover(pv_dir)
    by_table = {f.table: read_pv_file(f, socs).frame for f in files}
    for table in ("age", "soclong_age", "notif_age"):
        assert set(by_table[table]["strate"]) == {"0-19", "20-59", "60+"}, table
    for table in ("sexe", "soclong_sexe", "notif_sexe"):
        assert set(by_table[table]["strate"]) == {"F", "M"}, table
    assert by_table["soclong_age"]["soc_code"].n_unique() == 27
    assert len(socs.by_key) == 27


def test_column_inspection_flags_unusable_columns(pv_dir, socs):
    files, _ = discover(pv_dir)
    report = inspect_columns([read_pv_file(f, socs) for f in files])
    verdicts = {(r["fichier"].split("/")[-1], r["colonne"]): r["statut"] for r in report}
    assert verdicts[("sa_data_notif_age.json", "TYP_NOTIF")] == "inutilisable"
    assert verdicts[("sa_data_notif_sexe.json", "TYP_NOTIF")] == "inutilisable"
    assert verdicts[("sa_data_soclong_age.json", "pour_cas_soclong")] == "redondante"
    assert verdicts[("(tous)", "AGE")] == "normalisée"


def test_csv_and_product_variants(tmp_path, pv_dir, socs):
    folder = tmp_path / "ansm_pharmacovigilance"
    folder.mkdir()
    records = json.loads((pv_dir / "sa_data_age.json").read_text(encoding="utf-8"))
    with open(folder / "sa_data_age.csv", "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(records[0]), delimiter=";")
        w.writeheader()
        w.writerows(records)
    with open(folder / "prod_data_annee.csv", "w", encoding="utf-8", newline="") as fh:
        fh.write("MEDICAMENT,ANNEE,n_cas,n_conso\nPRODUIT X,2016,12,3400\nPRODUIT X,2017,-1,3400\n")
    files, _ = discover(folder)
    reads = {f.table: (f, read_pv_file(f, socs)) for f in files}
    f_age, r_age = reads["age"]
    f_json = next(f for f in discover(pv_dir)[0] if f.table == "age")
    assert f_age.fmt == "csv" and r_age.frame.equals(read_pv_file(f_json, socs).frame)
    f_prod, r_prod = reads["annee"]
    assert f_prod.level == "produit" and r_prod.frame.height == 1
    assert r_prod.rejects[0].line == 2 and "n_cas negative" in r_prod.rejects[0].reason


@pytest.mark.parametrize(
    "record, reason",
    [
        ({"MEDICAMENT": "X", "ANNEE": 2015, "n_cas": -3, "n_conso": 10}, "n_cas negative"),
        ({"MEDICAMENT": "X", "ANNEE": 2015, "n_conso": 10}, "n_cas missing"),
        ({"MEDICAMENT": "X", "ANNEE": 2015, "n_cas": 2.5, "n_conso": 10}, "not an integer"),
        ({"MEDICAMENT": "", "ANNEE": 2015, "n_cas": 1, "n_conso": 10}, "missing MEDICAMENT"),
        ({"MEDICAMENT": "X", "ANNEE": 1815, "n_cas": 1, "n_conso": 10}, "implausible year"),
        ({"MEDICAMENT": "X", "ANNEE": 2015, "n_cas": 12, "n_conso": 3}, "exposure set to missing"),
    ],
)
def test_malformed_records_rejected_with_reason(tmp_path, socs, record, reason):
    folder = tmp_path / "pv"
    folder.mkdir()
    good = {"MEDICAMENT": "Y", "ANNEE": 2015, "n_cas": 1, "n_conso": 10}
    (folder / "sa_data_annee.json").write_text(json.dumps([good, record]), encoding="utf-8")
    (f,), _ = discover(folder)
    r = read_pv_file(f, socs)
    assert len(r.rejects) == 1 and r.rejects[0].line == 2 and reason in r.rejects[0].reason
    assert r.rejects[0].file.endswith("sa_data_annee.json")


def test_unknown_soc_rejected(tmp_path, socs):
    folder = tmp_path / "pv"
    folder.mkdir()
    rec = {
        "MEDICAMENT": "X",
        "AGE": 20,
        "SOC_LONG": "Affections imaginaires",
        "n_decla_eff": 12,
        "n_cas": 40,
        "pour_cas_soclong": 30.0,
    }
    (folder / "sa_data_soclong_age.json").write_text(json.dumps([rec]), encoding="utf-8")
    (f,), _ = discover(folder)
    assert "unknown SOC 'Affections imaginaires'" in read_pv_file(f, socs).rejects[0].reason


@pytest.mark.slow
@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "empty"),
        (b'[{"a": 1,,]', "invalid JSON"),
        (b"\x00\x01", "binary"),
        (
            b"[" + b",".join([b'{"MEDICAMENT": "X", "ANNEE": "vingt", "n_cas": 1, "n_conso": 2}'] * 20) + b"]",
            "record 1: 20 of 20",
        ),
    ],
)
def test_unusable_pv_file_fails_the_build_keeping_previous(tmp_path, shared_dir, content, message):
    raw = tmp_path / "raw"
    (raw / "bdpm/2026-01-27").mkdir(parents=True)
    shutil.copy(shared_dir / "bdpm/2026-01-27/CIS_bdpm.txt", raw / "bdpm/2026-01-27")
    shutil.copytree(shared_dir / "meddra", raw / "meddra")
    (raw / "ansm_pharmacovigilance").mkdir()
    shutil.copy(shared_dir / "ansm_pharmacovigilance/sa_data_annee.json", raw / "ansm_pharmacovigilance")
    out = tmp_path / "out"
    build(raw, out)
    before = (out / "manifest.json").read_bytes()
    (raw / "ansm_pharmacovigilance/sa_data_annee.json").write_bytes(content)
    with pytest.raises(BuildError, match=message):
        build(raw, out)
    assert (out / "manifest.json").read_bytes() == before


# --- linking ---------------------------------------------------------------------------------


def test_link_coverage_of_substances_with_10_cases(real_store, raw_json):
    totals = Counter()
    for r in raw_json["sa_data_annee"]:
        totals[r["MEDICAMENT"]] += r["n_cas"]
    big = {slug(n) for n, t in totals.items() if t >= 10}
    linked = set(real_store.table("ei_liens")["ei_id"])
    coverage = len(big & linked) / len(big)
    assert coverage >= 0.95, coverage
    unmatched = real_store.table("ei_non_lies")
    assert unmatched.height == len(totals) - len(set(linked))
    assert unmatched["suggestions"].list.len().sum() > 0


def test_link_precision_on_hand_labelled_pairs(real_store):
    with open(FIXTURE, encoding="utf-8") as fh:
        labelled = {(r["nom"], r["denomination_bdpm"]): r["correct"] == "1" for r in csv.DictReader(fh)}
    assert len(labelled) >= 150
    links = set(real_store.table("ei_liens").select("nom", "denomination_bdpm").rows())
    judged = [labelled[p] for p in links if p in labelled]
    assert len(judged) >= 150, "the labelled pairs no longer match the linker's output"
    precision = sum(judged) / len(judged)
    assert precision >= 0.98, precision
    methods = set(real_store.table("ei_liens")["methode"])
    assert methods <= {"exact", "ordre des mots", "sel ou hydrate", "approché"}


def test_linker_rules():
    bdpm = pl.DataFrame(
        {
            "code_substance": ["1", "2", "3", "4", "5", "6"],
            "denomination_substance": [
                "SULFATE D'ABACAVIR",
                "DICLOFÉNAC SODIQUE",
                "ÉTANERCEPT",
                "PEGINTERFÉRON ALFA-2A",
                "THÉOPHYLLINE",
                "CHOLESTYRAMINE",
            ],
        }
    )
    names = [
        "ABACAVIR (SULFATE D')",
        "DICLOFENAC POTASSIQUE",
        "ETANERCEPT (MAMMIFERE/HAMSTER/CELLULES CHO)",
        "PEGINTERFERON ALFA-2B (BACTERIE/ESCHERICHIA COLI)",
        "THEOPHYLLINE MONOHYDRATEE",
        "COLESTYRAMINE",
    ]
    links, unmatched = link_substances(names, bdpm)
    got = {n: (c, m) for n, c, _, m, _ in links.rows()}
    assert got["ABACAVIR (SULFATE D')"] == ("1", "ordre des mots")
    assert got["ETANERCEPT (MAMMIFERE/HAMSTER/CELLULES CHO)"] == ("3", "sel ou hydrate")
    assert got["THEOPHYLLINE MONOHYDRATEE"] == ("5", "sel ou hydrate")
    assert got["COLESTYRAMINE"] == ("6", "approché")
    assert "DICLOFENAC POTASSIQUE" not in got  # another salt is another substance
    assert "PEGINTERFERON ALFA-2B (BACTERIE/ESCHERICHIA COLI)" not in got  # 2a is not 2b
    assert set(unmatched["nom"]) == {"DICLOFENAC POTASSIQUE", "PEGINTERFERON ALFA-2B (BACTERIE/ESCHERICHIA COLI)"}


# --- indicators against an independent recomputation -------------------------------------------


def test_poisson_ci_known_values():
    lo, hi = stats.poisson_ci(10)
    assert lo == pytest.approx(4.7954, abs=1e-3) and hi == pytest.approx(18.3904, abs=1e-3)
    assert stats.poisson_ci(0) == (0.0, pytest.approx(3.6889, abs=1e-3))


def _plausible_years(rows: list[tuple[int, int, int]]) -> list[tuple[int, int, int]]:
    """Independent reading of docs/exposure.md: (year, cases, exposure) kept for a rate."""
    kept = [r for r in rows if r[1] <= r[2] and 1_000 <= r[2] <= 66_900_000]
    out = []
    for year, n, c in kept:
        others = sorted(x[2] for x in kept if x[0] != year)
        if others:
            median = statistics.median(others)
            if c > 5 * median or 5 * c < median:
                continue
        out.append((year, n, c))
    return out


def test_rates_equal_recomputation_from_raw(real_store, raw_json):
    """Headline rates from the plausible years only; a moiety's salts get none."""
    years = defaultdict(list)
    for r in raw_json["sa_data_annee"]:
        years[slug(r["MEDICAMENT"])].append((int(r["ANNEE"]), r["n_cas"], r["n_conso"]))
    salts = set(real_store.table("ei_fractions_membres")["ei_id"])
    subs = real_store.table("ei_substances")
    shown = subs.filter(pl.col("taux").is_not_null())
    assert shown.height > 550  # the others: a withheld yearly count, no plausible year, or a salt
    assert not salts & set(shown["ei_id"])
    for ei_id, taux, lo, hi in shown.select("ei_id", "taux", "taux_ic_bas", "taux_ic_haut").rows():
        kept = _plausible_years(years[ei_id])
        expected = sum(n for _, n, _ in kept) / sum(c for _, _, c in kept) * 100_000
        assert taux == pytest.approx(expected, rel=1e-9), ei_id
        assert lo <= taux <= hi
    row = subs.filter(pl.col("ei_id") == "abacavir-sulfate-d").row(0, named=True)
    assert row["taux"] is None and row["motif_sans_taux"] == "sel"  # abacavir's rate is its moiety's
    # no rate above 10,000 per 100,000 (issue 13: 21 substances were, trimétazidine at 80,556)
    assert subs["taux"].drop_nulls().max() < 10_000
    assert real_store.table("ei_fractions")["taux"].drop_nulls().max() < 10_000


def test_soc_shares_and_disproportionality_from_raw(real_store, raw_json):
    """Organ-class counts are the larger of the sums of the age rows and of the sex rows
    of 11 cases or more (capped by the substance's cases); the comparator is every other
    substance whose total is published and that has organ-class data."""
    n_sub, by_age, by_sex = Counter(), Counter(), Counter()
    for r in raw_json["sa_data_annee"]:
        n_sub[slug(r["MEDICAMENT"])] += r["n_cas"]
    for name, sums in (("sa_data_soclong_age", by_age), ("sa_data_soclong_sexe", by_sex)):
        for r in raw_json[name]:
            if r["n_decla_eff"] >= disclosure.DEFAULT_THRESHOLD:
                sums[(slug(r["MEDICAMENT"]), r["SOC_LONG"])] += r["n_decla_eff"]
    a = Counter({k: min(max(by_age[k], by_sex[k]), n_sub[k[0]]) for k in set(by_age) | set(by_sex)})
    with_soc = {s for s, _ in a}
    # one product's components (identical case series) count once: their first member
    series = real_store.table("ei_series_identiques")
    twins = set(series.filter(pl.col("groupe_id") != "groupe-" + pl.col("ei_id"))["ei_id"])
    published = set(real_store.table("ei_substances").filter(pl.col("n_cas").is_not_null())["ei_id"]) & with_soc
    published -= twins
    soc = adverse.profile(real_store, "abacavir-sulfate-d").soc
    row = soc.filter(pl.col("soc") == "Affections gastro-intestinales").row(0, named=True)
    a_ = a[("abacavir-sulfate-d", "Affections gastro-intestinales")]
    n = n_sub["abacavir-sulfate-d"]
    assert row["n_cas"] == a_ and row["part_cas"] == pytest.approx(100 * a_ / n)
    c = sum(
        v
        for (s, soc_), v in a.items()
        if soc_ == "Affections gastro-intestinales" and s != "abacavir-sulfate-d" and s in published
    )
    d = sum(v for s, v in n_sub.items() if s in published) - n - c
    b = n - a_
    ror = (a_ / b) / (c / d)
    se = math.sqrt(1 / a_ + 1 / b + 1 / c + 1 / d)
    assert row["ror"] == pytest.approx(ror)
    assert row["ror_ic_bas"] == pytest.approx(math.exp(math.log(ror) - 1.959964 * se), rel=1e-5)
    prr = (a_ / n) / (c / (c + d))
    assert row["prr"] == pytest.approx(prr)
    assert row["signal_ror"] == (row["ror_ic_bas"] > 1)


def test_disproportionality_hand_example():
    counts = pl.DataFrame({"ei_id": ["x", "y"], "soc_code": ["s", "s"], "a": [20, 30], "n": [100, 900]})
    out = stats.disproportionality(counts).filter(pl.col("ei_id") == "x").row(0, named=True)
    assert (out["b"], out["c"], out["d"]) == (80, 30, 870)
    assert out["ror"] == pytest.approx((20 / 80) / (30 / 870))
    assert out["prr"] == pytest.approx((20 / 100) / (30 / 900))
    assert out["signal_evans"] is True  # PRR 6, chi2 >> 4, a >= 3


# --- disclosure on the prepared data --------------------------------------------------------------


COUNT_COLUMNS = ("n_cas", "n_conso", "n_decla")


def test_no_count_below_threshold_leaves_the_pipeline(real_prepared):
    seuil = disclosure.DEFAULT_THRESHOLD
    scanned = 0
    for path in sorted(real_prepared.glob("ei_*.parquet")):
        frame = pl.read_parquet(path)
        for column in COUNT_COLUMNS:
            if column in frame.columns:
                scanned += 1
                values = frame[column].drop_nulls()
                assert ((values == 0) | (values >= seuil)).all(), f"{path.name}.{column} leaks a count below {seuil}"
                if f"{column}_statut" in frame.columns:
                    masked = frame.filter(pl.col(f"{column}_statut").is_not_null())
                    assert masked[column].null_count() == masked.height
                    assert set(masked[f"{column}_statut"]) <= {"masqué"}, path.name  # one status, whatever the reason
        for forbidden in ("b", "c", "d", "n_cas_total", "pour_cas_source", "n", "_vrai_n_cas"):
            assert forbidden not in frame.columns, f"{path.name} publishes {forbidden}"
    assert scanned >= 10


def test_derived_figures_hidden_with_their_counts(real_store):
    withheld = set(real_store.table("ei_substances").filter(pl.col("n_cas").is_null())["ei_id"])
    assert withheld
    soc = real_store.table("ei_soc")
    assert soc["n_cas_statut"].null_count() == soc.height  # organ-class counts are never withheld
    hidden = soc.filter(pl.col("ei_id").is_in(list(withheld)))
    assert hidden.height > 0
    for column in ("part_cas", "ror", "ror_ic_bas", "prr", "ic", "ic025", "chi2"):
        assert hidden[column].null_count() == hidden.height, column
    for name in ("ei_annee", "ei_age", "ei_sexe"):
        frame = real_store.table(name)
        hidden = frame.filter(pl.col("n_cas_statut").is_not_null() | pl.col("n_conso").is_null())
        for column in ("taux", "taux_ic_bas", "taux_ic_haut"):
            assert hidden[column].null_count() == hidden.height, (name, column)
        shares = frame.filter(pl.col("n_cas_statut").is_not_null() | pl.col("ei_id").is_in(list(withheld)))
        assert shares["part_cas"].null_count() == shares.height, name
    # the headline rate and mean exposure need every yearly count and exposure
    years = real_store.table("ei_annee")
    partial = set(years.filter(pl.col("n_cas").is_null() | pl.col("n_conso").is_null())["ei_id"])
    head = real_store.table("ei_substances").filter(pl.col("ei_id").is_in(list(partial | withheld)))
    for column in ("taux", "taux_ic_bas", "taux_ic_haut", "consommants_par_an", "n_annees_expo"):
        assert head[column].null_count() == head.height, column


@pytest.mark.parametrize("name, stratum", [("ei_annee", "annee"), ("ei_age", "age"), ("ei_sexe", "sexe")])
def test_withheld_cells_share_enough_against_published_totals(real_store, name, stratum):
    """A simple check beside the audit: in every breakdown with a published total, the
    withheld cells share at least min_width (10) cases, so none is pinned by subtraction."""
    width = ProtectionRule().min_width
    totals = dict(real_store.table("ei_substances").select("ei_id", "n_cas").rows())
    frame = real_store.table(name)
    checked = 0
    for (ei_id,), group in frame.group_by("ei_id"):
        total = totals.get(ei_id)
        statuses = group["n_cas_statut"].to_list()
        if total is None or not any(statuses):
            continue
        assert sum(1 for st in statuses if st) >= 2, ei_id
        masked_sum = total - sum(v for v, st in zip(group["n_cas"].to_list(), statuses) if st is None)
        assert masked_sum >= width, ei_id
        checked += 1
    assert checked > 50


def test_organ_class_rows_are_listed_from_the_threshold(real_store):
    """Organ-class crossings are listed from 11 cases (the source lists them from 10):
    nothing is withheld there, and an organ class's count is the larger of the sums of
    its age rows and of its sex rows (each a lower bound of its cases)."""
    soc = real_store.table("ei_soc")
    for name in ("ei_soc_age", "ei_soc_sexe"):
        cells = real_store.table(name)
        assert (cells["n_cas"] >= disclosure.DEFAULT_THRESHOLD).all(), name
        assert cells["n_cas_statut"].null_count() == cells.height, name
    age = real_store.table("ei_soc_age").group_by("ei_id", "soc_code").agg(pl.col("n_cas").sum().alias("a"))
    sex = real_store.table("ei_soc_sexe").group_by("ei_id", "soc_code").agg(pl.col("n_cas").sum().alias("b"))
    sums = age.join(sex, on=["ei_id", "soc_code"], how="full", coalesce=True).with_columns(
        pl.max_horizontal("a", "b").alias("s")
    )
    joined = soc.join(sums, on=["ei_id", "soc_code"])
    assert joined.height == soc.height
    totals = dict(real_store.table("ei_substances").select("ei_id", "n_cas").rows())
    # the larger sum, capped by the substance's cases where that total is published
    assert all(
        n == s or (totals[i] is not None and n == totals[i] < s)
        for i, n, s in joined.select("ei_id", "n_cas", "s").rows()
    )
    # the sex rows prove a higher count than the age rows in many pairs (56 % of them, issue 13)
    assert (joined["b"].fill_null(0) > joined["a"].fill_null(0)).sum() > joined.height / 3


@pytest.mark.slow
def test_threshold_is_configurable(tmp_path, shared_dir):
    raw = tmp_path / "raw"
    (raw / "bdpm/2026-01-27").mkdir(parents=True)
    shutil.copy(shared_dir / "bdpm/2026-01-27/CIS_bdpm.txt", raw / "bdpm/2026-01-27")
    shutil.copytree(shared_dir / "meddra", raw / "meddra")
    shutil.copytree(shared_dir / "ansm_pharmacovigilance", raw / "ansm_pharmacovigilance")
    manifest = build(raw, tmp_path / "out", threshold=50)
    assert manifest["disclosure_threshold"] == 50
    subs = pl.read_parquet(tmp_path / "out/ei_substances.parquet")
    published = subs["n_cas"].drop_nulls()
    assert ((published == 0) | (published >= 50)).all()
    assert (pl.read_parquet(tmp_path / "out/ei_soc_age.parquet")["n_cas"] >= 50).all()  # listed from the threshold
    assert subs.filter(pl.col("n_cas").is_null())["n_cas_statut"].null_count() == 0


def test_notifier_cells_cannot_be_recovered_from_stratum_cases(real_store, raw_json):
    seuil = disclosure.DEFAULT_THRESHOLD
    raw_sum = Counter()
    for r in raw_json["sa_data_notif_age"]:
        raw_sum[(slug(r["MEDICAMENT"]), AGE_MAP[str(r["AGE"])])] += r["n_decla"]
    age_cases = {
        (i, a): (n, s)
        for i, a, n, s in real_store.table("ei_age").select("ei_id", "age", "n_cas", "n_cas_statut").rows()
    }
    notif = real_store.table("ei_notif_age")
    checked = 0
    for (ei_id, age), group in notif.group_by("ei_id", "age"):
        n_age, status = age_cases.get((ei_id, age), (None, None))
        statuses = group["n_decla_statut"].to_list()
        if status is not None:  # masked stratum: every cell hidden
            assert all(statuses), (ei_id, age)
            continue
        if n_age is None or raw_sum[(ei_id, age)] != n_age or not any(statuses):
            continue
        published = sum(v for v, s in zip(group["n_decla"].to_list(), statuses) if s is None)
        assert n_age - published >= seuil, (ei_id, age)
        checked += 1
    assert checked > 100


@pytest.mark.slow
def test_build_without_meddra_folder_uses_the_builtin_soc_list(tmp_path, shared_dir):
    raw = tmp_path / "raw"
    (raw / "bdpm/2026-01-27").mkdir(parents=True)
    shutil.copy(shared_dir / "bdpm/2026-01-27/CIS_bdpm.txt", raw / "bdpm/2026-01-27")
    (raw / "ansm_pharmacovigilance").mkdir()
    for name in ("sa_data_annee.json", "sa_data_soclong_age.json"):
        shutil.copy(shared_dir / "ansm_pharmacovigilance" / name, raw / "ansm_pharmacovigilance")
    manifest = build(raw, tmp_path / "out")
    assert any("built-in list of the 27 MedDRA organ classes" in i for i in manifest["ignored"])
    soc = pl.read_parquet(tmp_path / "out/ei_soc.parquet")
    assert soc["soc_code"].n_unique() == 27
    # only the exposure conflicts of sa_data_annee (values corrected, rows kept): every SOC label is known
    assert (manifest["rejected_lines"], manifest["corrected_values"]) == (0, 281)


@pytest.mark.parametrize(
    "name, stratum, national",
    [
        ("ei_annee", "annee", "ei_national_annee"),
        ("ei_age", "age", "ei_national_age"),
        ("ei_sexe", "sexe", "ei_national_sexe"),
        ("ei_soc", "soc_code", "ei_national_soc"),
    ],
)
def test_national_figures_are_sums_of_published_cells(real_store, name, stratum, national):
    """National series add the published cells only: they give no equation on a withheld
    cell (before, 5 withheld organ-class cells adding up to 50 were each exactly 10)."""
    frame = real_store.table(name)
    nat = real_store.table(national).with_columns(pl.col(stratum).cast(frame.schema[stratum]))
    sums = frame.group_by(stratum).agg(pl.col("n_cas").fill_null(0).sum().alias("s"))
    joined = nat.join(sums, on=stratum, how="full", coalesce=True)
    assert joined.height == nat.height >= 2
    assert (joined["n_cas"] == joined["s"]).all()
    assert nat["n_cas_statut"].null_count() == nat.height


def test_a_small_split_is_withheld_with_a_partner(real_store):
    """Tinidazole: 11 cases, all female; by age 0 / small / the rest: the two non-zero age
    cells are withheld together (each could be 0 to 11), the total and the sexes stay."""
    head = real_store.table("ei_substances").filter(pl.col("ei_id") == "tinidazole").row(0, named=True)
    assert head["n_cas"] == 11 and head["n_cas_statut"] is None
    assert head["taux"] is None  # its yearly counts are withheld
    age = real_store.table("ei_age").filter(pl.col("ei_id") == "tinidazole").sort("age")
    assert age["n_cas"].to_list() == [0, None, None]
    assert age["n_cas_statut"].to_list() == [None, "masqué", "masqué"]
