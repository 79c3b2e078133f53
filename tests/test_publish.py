"""Open-data releases (``datamed.release.publish``): layout, checksums, Data Package,
disclosure gate, idempotence, changelog, frictionless validation and the CLI."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import shutil
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from datamed.core.config import REPO_ROOT
from datamed.core.text import fr_int
from datamed.pipeline.build import build
from datamed.release.publish import (
    META_RESOURCES,
    DisclosureLeak,
    diff_tables,
    public_frame,
    publish,
    scan,
    validate,
)
from datamed.release.schema import (
    BY_NAME,
    COLUMNS_FR,
    INTERNAL_COLUMNS,
    LICENCE_OUTPUTS,
    NOT_PUBLISHED,
    RESOURCES,
    SOURCE_LICENCES,
)

TODAY = date(2026, 1, 15)
RELEASE_FILES = {
    "datapackage.json",
    "README.md",
    "CHANGELOG.md",
    "changelog.json",
    "SHA256SUMS",
    "rapport_qualite.md",
    "rapport_qualite.html",
    "data",
}


# --- helpers ------------------------------------------------------------------------------------


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "datamed", *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=300
    )


def public_names(prepared: Path) -> list[str]:
    manifest = json.loads((prepared / "manifest.json").read_text(encoding="utf-8"))
    return [r.name for r in RESOURCES if r.name in manifest["datasets"]]


def snapshot(out: Path) -> dict[str, bytes | None]:
    """What a failed or idempotent publish must leave untouched."""
    return {
        "entries": "\n".join(sorted(p.name for p in out.iterdir())).encode(),
        "history": (out / "history.json").read_bytes() if (out / "history.json").exists() else None,
        "latest": (out / "LATEST").read_bytes() if (out / "LATEST").exists() else None,
    }


def csv_records(path: Path) -> tuple[list[str], list[list[str]]]:
    """Header and records of a release CSV, decoded as strict UTF-8."""
    text = path.read_bytes().decode("utf-8")  # raises on anything but UTF-8
    rows = list(csv.reader(io.StringIO(text, newline="")))
    return rows[0], rows[1:]


def read_release_csv(path: Path) -> pl.DataFrame:
    return pl.read_csv(path, infer_schema_length=None, null_values=[""])


def rewrite_csv(path: Path, frame: pl.DataFrame) -> None:
    frame.write_csv(path, null_value="", date_format="%Y-%m-%d")


def threshold_of(folder: Path) -> int:
    return json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))["x-disclosure-threshold"]


def leak_small_count(prepared: Path) -> None:
    """Write a published count of 3 into ei_annee.parquet of a prepared folder."""
    path = prepared / "ei_annee.parquet"
    frame = pl.read_parquet(path)
    row = frame.with_row_index("__i").filter(pl.col("n_cas_statut").is_null() & pl.col("n_cas").is_not_null())["__i"][0]
    frame = frame.with_columns(
        pl.when(pl.int_range(pl.len()) == row)
        .then(pl.lit(3, dtype=frame.schema["n_cas"]))
        .otherwise(pl.col("n_cas"))
        .alias("n_cas")
    )
    frame.write_parquet(path)


# --- a release of the real data -----------------------------------------------------------------


@pytest.fixture(scope="module")
def real_release(real_prepared, tmp_path_factory):
    out = tmp_path_factory.mktemp("real_releases")
    release = publish(real_prepared, out, today=TODAY)
    assert release.created and release.version == TODAY.isoformat()
    return release


@pytest.fixture(scope="module")
def real_package(real_release) -> dict:
    return json.loads((real_release.folder / "datapackage.json").read_text(encoding="utf-8"))


@pytest.fixture
def real_copy(real_release, tmp_path) -> Path:
    """A copy of the real release folder that a test may tamper with."""
    return Path(shutil.copytree(real_release.folder, tmp_path / "release"))


def test_real_release_layout(real_release, real_prepared):
    out, version = real_release.folder.parent, real_release.version
    assert sorted(p.name for p in out.iterdir()) == sorted([version, "history.json", "LATEST"])  # no temp folder left
    assert (out / "LATEST").read_text(encoding="utf-8").strip() == version
    assert {p.name for p in real_release.folder.iterdir()} == RELEASE_FILES
    names = public_names(real_prepared)
    assert len(names) >= 30
    assert {p.name for p in (real_release.folder / "data").iterdir()} == {
        f"{n}.{k}" for n in names for k in ("csv", "parquet")
    }
    history = json.loads((out / "history.json").read_text(encoding="utf-8"))
    assert [h["version"] for h in history] == [version]
    assert history[0]["previous"] is None and history[0]["demo"] is False
    assert history[0]["rows"] == real_release.rows
    assert set(history[0]["rows"]) == set(names)
    changelog = json.loads((real_release.folder / "changelog.json").read_text(encoding="utf-8"))
    assert changelog["previous"] is None
    assert {c["status"] for c in changelog["datasets"].values()} == {"nouveau"}


def test_real_release_checksums(real_release):
    folder = real_release.folder
    lines = (folder / "SHA256SUMS").read_text(encoding="utf-8").splitlines()
    listed = set()
    for line in lines:
        match = re.fullmatch(r"([0-9a-f]{64})  (\S+)", line)
        assert match, f"not a sha256sum line: {line!r}"
        digest, rel = match.groups()
        assert hashlib.sha256((folder / rel).read_bytes()).hexdigest() == digest, rel
        listed.add(rel)
    every = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
    assert listed == every - {"SHA256SUMS"}
    if shutil.which("sha256sum"):
        check = subprocess.run(
            ["sha256sum", "--check", "--quiet", "SHA256SUMS"], cwd=folder, capture_output=True, text=True
        )
        assert check.returncode == 0, check.stdout + check.stderr


@pytest.mark.slow
def test_real_datapackage_resources(real_release, real_package, real_prepared):
    names = public_names(real_prepared)
    resources = real_package["resources"]
    assert len(resources) == 2 * len(names)
    assert real_package["licenses"] == [LICENCE_OUTPUTS]
    assert real_package["version"] == real_release.version and real_package["x-demo"] is False
    for name in names:
        csv_res = [r for r in resources if r["path"] == f"data/{name}.csv"]
        pq_res = [r for r in resources if r["path"] == f"data/{name}.parquet"]
        assert len(csv_res) == 1 and len(pq_res) == 1, name
        csv_res, pq_res = csv_res[0], pq_res[0]
        assert (csv_res["name"], csv_res["format"], csv_res["encoding"]) == (name, "csv", "utf-8")
        assert (pq_res["name"], pq_res["format"]) == (f"{name}_parquet", "parquet")
        assert csv_res["title"] == BY_NAME[name].title and csv_res["description"].startswith(BY_NAME[name].description)
        fields = [f["name"] for f in csv_res["schema"]["fields"]]
        header, _ = csv_records(real_release.folder / csv_res["path"])
        assert header == fields, name
        assert list(pl.read_parquet_schema(real_release.folder / pq_res["path"])) == fields, name
        assert [f["name"] for f in pq_res["schema"]["fields"]] == fields
        for spec in csv_res["schema"]["fields"]:
            assert isinstance(spec.get("description"), str) and spec["description"].strip(), (name, spec["name"])


def _undocumented(package: dict) -> list[str]:
    """Fields whose description is only the column name (no French text written for it)."""
    return [
        f"{r['name']}.{f['name']}"
        for r in package["resources"]
        if r["format"] == "csv"
        for f in r["schema"]["fields"]
        if f["description"] == f["name"].replace("_", " ")
    ]


def test_real_data_fields_have_french_descriptions(real_package):
    # the data resources are fully documented; the build-description tables are checked below
    undocumented = [f for f in _undocumented(real_package) if f.split(".")[0] not in META_RESOURCES]
    assert undocumented == []
    spec = next(r for r in real_package["resources"] if r["name"] == "ei_annee")
    described = {f["name"]: f["description"] for f in spec["schema"]["fields"]}
    assert described["n_cas"] == COLUMNS_FR["n_cas"] and "seuil" in described["n_cas"]


def test_every_field_has_a_french_description(real_package):
    assert _undocumented(real_package) == []


@pytest.mark.slow
def test_real_release_publishes_nothing_internal(real_release, real_package, real_prepared):
    manifest = json.loads((real_prepared / "manifest.json").read_text(encoding="utf-8"))
    withheld = [n for n in NOT_PUBLISHED if n in manifest["datasets"]]
    assert "rejets" in withheld and "risque_rapport" in withheld  # the check below is not vacuous
    # the prepared data does carry internal columns
    assert any(c in manifest["datasets"][n]["columns"] for n in manifest["datasets"] for c in INTERNAL_COLUMNS)
    stems = {p.stem for p in (real_release.folder / "data").iterdir()}
    assert not stems & set(NOT_PUBLISHED)
    assert stems <= set(BY_NAME)
    assert not {r["name"].removesuffix("_parquet") for r in real_package["resources"]} & set(NOT_PUBLISHED)
    for path in sorted((real_release.folder / "data").iterdir()):
        columns = csv_records(path)[0] if path.suffix == ".csv" else list(pl.read_parquet_schema(path))
        assert not set(columns) & set(INTERNAL_COLUMNS), path.name
    for r in real_package["resources"]:
        assert not {f["name"] for f in r["schema"]["fields"]} & set(INTERNAL_COLUMNS), r["name"]
    readme = (real_release.folder / "README.md").read_text(encoding="utf-8")
    for name in withheld:
        assert f"- `{name}` : {NOT_PUBLISHED[name]}" in readme


def test_real_release_rows_and_encoding(real_release, real_package, real_store):
    for res in real_package["resources"]:
        if res["format"] != "csv":
            continue
        name = res["name"]
        prepared = real_store.table(name)
        _, records = csv_records(real_release.folder / res["path"])  # strict UTF-8
        assert len(records) == prepared.height == res["x-rows"] == real_release.rows[name], name
        published = pl.read_parquet(real_release.folder / f"data/{name}.parquet")
        assert_frame_equal(published, public_frame(BY_NAME[name], prepared))
    # accents survive the round trip
    text = (real_release.folder / "data" / "specialites.csv").read_text(encoding="utf-8")
    assert "é" in text and "Ã©" not in text


def test_real_readme_licences(real_release, real_package):
    readme = (real_release.folder / "README.md").read_text(encoding="utf-8")
    assert "Licence Ouverte" in readme and f"**{LICENCE_OUTPUTS['title']}**" in readme
    assert LICENCE_OUTPUTS["path"] in readme
    families = {fam for r in real_package["resources"] for fam in r["x-sources"]}
    assert {"BDPM", "Pharmacovigilance", "MedDRA", "FDA DECRS"} <= families
    for fam in families:
        assert f"- **{fam}** : {SOURCE_LICENCES[fam]}" in readme, fam
    assert "démonstration" not in readme and "démonstration" not in real_package["title"]
    assert real_package["name"] == "datamed-ansm"


def test_real_primary_keys_unique(real_release, real_package, real_store):
    declared = 0
    for res in real_package["resources"]:
        if res["format"] != "csv":
            continue
        name, pk = res["name"], list(BY_NAME[res["name"]].primary_key)
        if not pk:
            assert "primaryKey" not in res["schema"]
            continue
        prepared = real_store.table(name)
        truly_unique = (
            not prepared.select(pk).is_duplicated().any()
            and prepared.select(pk).null_count().sum_horizontal().item() == 0
        )
        # a key is declared exactly when it holds; otherwise the description says so
        assert (res["schema"].get("primaryKey") == pk) == truly_unique, name
        if not truly_unique:
            assert "non unique" in res["description"]
            continue
        declared += 1
        frame = pl.read_csv(real_release.folder / res["path"], infer_schema=False)
        assert frame.height == prepared.height
        assert not frame.select(pk).is_duplicated().any(), name
        assert frame.select(pk).null_count().sum_horizontal().item() == 0, name
    assert declared >= 15


@pytest.mark.slow
def test_real_release_validates(real_release):
    assert validate(real_release.folder) == []


@pytest.mark.slow
def test_rebuild_of_the_same_real_data_publishes_nothing(real_release, shared_dir, tmp_path):
    """Two builds of the same raw data give byte-identical public CSVs (row order included)."""
    out = Path(shutil.copytree(real_release.folder.parent, tmp_path / "releases"))
    before = snapshot(out)
    rebuilt = tmp_path / "prepared"
    build(shared_dir, rebuilt)
    again = publish(rebuilt, out, today=TODAY + timedelta(days=1))
    assert again.created is False, again.message
    assert snapshot(out) == before


# --- frictionless on a small release ------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_release(demo_prepared, tmp_path_factory):
    out = tmp_path_factory.mktemp("demo_releases")
    return publish(demo_prepared, out, today=TODAY)


def test_demo_release_is_labelled(demo_release):
    readme = (demo_release.folder / "README.md").read_text(encoding="utf-8")
    package = json.loads((demo_release.folder / "datapackage.json").read_text(encoding="utf-8"))
    assert "> **Données de démonstration**" in readme
    assert "démonstration" in package["title"]
    assert package["x-demo"] is True and package["name"] == "datamed-demo"
    history = json.loads((demo_release.folder.parent / "history.json").read_text(encoding="utf-8"))
    assert history[0]["demo"] is True


@pytest.mark.slow
def test_demo_release_validates(demo_release):
    assert validate(demo_release.folder) == []


def _tamper_specialites(folder: Path, how: str) -> None:
    path = folder / "data" / "specialites.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    assert re.match(r"^[0-9]{8},", lines[1])
    if how == "pattern":
        lines[1] = "ABC" + lines[1][8:]
    else:  # a duplicated primary key
        lines.append(lines[1])
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.mark.slow
@pytest.mark.parametrize(("how", "expected"), [("pattern", "pattern"), ("duplicate", "primary-key")])
def test_validate_reports_a_tampered_csv(demo_release, tmp_path, how, expected):
    folder = Path(shutil.copytree(demo_release.folder, tmp_path / "release"))
    _tamper_specialites(folder, how)
    errors = validate(folder)
    assert errors
    assert any(e.startswith("specialites: ") and expected in e for e in errors), errors[:5]
    assert not any(e.startswith("specialites_parquet: ") for e in errors)  # the Parquet file was not touched


# --- the disclosure gate ------------------------------------------------------------------------


def test_scan_of_the_real_release_is_clean(real_release):
    assert scan(real_release.folder, threshold_of(real_release.folder)) == []


def test_scan_catches_a_small_count(real_copy):
    path = real_copy / "data" / "ei_annee.csv"
    frame = read_release_csv(path)
    published = pl.col("n_cas_statut").is_null() & pl.col("n_cas").is_not_null()
    target = frame.with_row_index("__i").filter(published)["__i"][0]
    rewrite_csv(
        path,
        frame.with_columns(pl.when(pl.int_range(pl.len()) == target).then(3).otherwise(pl.col("n_cas")).alias("n_cas")),
    )
    leaks = scan(real_copy, threshold_of(real_copy))
    assert any(leak.startswith("data/ei_annee.csv: 1 value(s) of n_cas below") for leak in leaks), leaks
    assert not any(leak.startswith("data/ei_annee.parquet") for leak in leaks)


def _two_cell_substance(folder: Path) -> tuple[str, pl.DataFrame]:
    """A substance whose two sex cells are published and add up to its published total."""
    sexe = read_release_csv(folder / "data" / "ei_sexe.csv")
    totals = read_release_csv(folder / "data" / "ei_substances.csv").filter(pl.col("n_cas_statut").is_null())
    candidates = (
        sexe.group_by("ei_id")
        .agg(
            pl.len().alias("k"),
            pl.col("n_cas_statut").is_null().all().alias("published"),
            pl.col("n_cas").sum().alias("sum"),
        )
        .filter((pl.col("k") == 2) & pl.col("published"))
        .join(totals.select("ei_id", "n_cas"), on="ei_id")
        .filter(pl.col("sum") == pl.col("n_cas"))
        .sort("ei_id")
    )
    # no organ-class row by sex: a rewritten sex cell stays consistent with them
    soc_sexe = read_release_csv(folder / "data" / "ei_soc_sexe.csv")
    candidates = candidates.join(soc_sexe.select("ei_id").unique(), on="ei_id", how="anti")
    assert candidates.height, "no substance with two published cells in ei_sexe"
    return candidates["ei_id"][0], sexe


def _withhold_female_cell(folder: Path, female_cases: int | None = None) -> str:
    """Withhold the F cell of a two-sex substance ("masqué", with what is derived from it);
    with ``female_cases``, rewrite the M cell so that F = total - M = female_cases."""
    ei_id, sexe = _two_cell_substance(folder)
    total = read_release_csv(folder / "data" / "ei_substances.csv").filter(pl.col("ei_id") == ei_id)["n_cas"][0]
    female = (pl.col("ei_id") == ei_id) & (pl.col("sexe") == "F")
    male = (pl.col("ei_id") == ei_id) & (pl.col("sexe") == "M")
    derived = ["taux", "taux_ic_bas", "taux_ic_haut", "part_cas"]
    sexe = sexe.with_columns(
        *[pl.when(female).then(None).otherwise(pl.col(c)).alias(c) for c in ["n_cas", *derived]],
        pl.when(female).then(pl.lit("masqué")).otherwise(pl.col("n_cas_statut")).alias("n_cas_statut"),
    )
    if female_cases is not None:  # M's exposure and rates withheld too: only the sum pins F
        sexe = sexe.with_columns(
            pl.when(male).then(total - female_cases).otherwise(pl.col("n_cas")).alias("n_cas"),
            *[pl.when(male).then(None).otherwise(pl.col(c)).alias(c) for c in ["n_conso", *derived]],
            pl.when(male).then(pl.lit("masqué")).otherwise(pl.col("n_conso_statut")).alias("n_conso_statut"),
        )
    rewrite_csv(folder / "data" / "ei_sexe.csv", sexe)
    # the national series stay what the code says they are: sums of the published cells
    national = read_release_csv(folder / "data" / "ei_national_sexe.csv")
    sums = sexe.group_by("sexe").agg(pl.col("n_cas").fill_null(0).sum().alias("__sum"))
    national = national.join(sums, on="sexe", how="left").with_columns(pl.col("__sum").alias("n_cas")).drop("__sum")
    rewrite_csv(folder / "data" / "ei_national_sexe.csv", national)
    return ei_id


@pytest.mark.slow
def test_scan_leaves_a_withheld_count_known_to_be_large(real_copy):
    # F = total - M exactly, but F is large: it reveals no small count (docs/disclosure.md)
    ei_id = _withhold_female_cell(real_copy)
    leaks = scan(real_copy, threshold_of(real_copy))
    assert not [leak for leak in leaks if ei_id in leak], leaks


@pytest.mark.slow
def test_scan_catches_a_small_count_recoverable_by_subtraction(real_copy):
    ei_id = _withhold_female_cell(real_copy, female_cases=5)
    leaks = scan(real_copy, threshold_of(real_copy))
    assert any(
        leak.startswith("data/ei_sexe.csv: n_cas") and f"[{ei_id}, F]" in leak and "recoverable" in leak
        for leak in leaks
    ), leaks
    assert not any("5" in leak.split("]:")[-1] for leak in leaks)  # the gate never states the value


@pytest.mark.slow
@pytest.mark.parametrize(("name", "column"), [("ei_annee", "taux"), ("ei_sexe", "part_cas"), ("ei_annee", "n_cas")])
def test_scan_catches_a_value_beside_a_masked_count(real_copy, name, column):
    path = real_copy / "data" / f"{name}.csv"
    frame = read_release_csv(path)
    target = frame.with_row_index("__i").filter(pl.col("n_cas_statut").is_not_null())["__i"][0]
    value = pl.lit(42.5) if column != "n_cas" else pl.lit(50)
    rewrite_csv(
        path,
        frame.with_columns(
            pl.when(pl.int_range(pl.len()) == target).then(value).otherwise(pl.col(column)).alias(column)
        ),
    )
    leaks = scan(real_copy, threshold_of(real_copy))
    wanted = (
        f"value(s) of {column} published beside a masked n_cas"
        if column != "n_cas"
        else "masked value(s) of n_cas still published"
    )
    assert any(leak.startswith(f"data/{name}.csv: 1 ") and wanted in leak for leak in leaks), leaks


@pytest.mark.slow
def test_scan_catches_internal_columns_and_undeclared_files(real_copy):
    path = real_copy / "data" / "specialites.csv"
    frame = read_release_csv(path)
    rewrite_csv(path, frame.with_columns(pl.int_range(pl.len()).alias("source_line")))
    shutil.copy(real_copy / "data" / "mitm.csv", real_copy / "data" / "rejets.csv")
    (real_copy / "data" / "notes.txt").write_text("internal", encoding="utf-8")
    leaks = scan(real_copy, threshold_of(real_copy))
    assert "data/specialites.csv: internal column 'source_line' published" in leaks
    assert "data/rejets.csv: not a declared public resource" in leaks
    assert "data/notes.txt: not a declared public resource" in leaks
    assert len(leaks) == 3, leaks


# --- publish() on demo data: gate, idempotence, changelog ---------------------------------------


def test_publish_refuses_a_leaking_prepared_folder(demo_prepared, tmp_path):
    out = tmp_path / "releases"
    first = publish(demo_prepared, out, today=TODAY)
    assert first.created
    leaky = Path(shutil.copytree(demo_prepared, tmp_path / "leaky"))
    leak_small_count(leaky)
    before = snapshot(out)
    with pytest.raises(DisclosureLeak) as info:
        publish(leaky, out, today=TODAY + timedelta(days=1))
    assert any("ei_annee" in leak and "below" in leak for leak in info.value.leaks), info.value.leaks
    assert "disclosure gate failed" in str(info.value)
    assert not (out / (TODAY + timedelta(days=1)).isoformat()).exists()
    assert snapshot(out) == before  # history.json, LATEST and the folder list untouched, no temp folder left
    assert not any(p.name.startswith(".") for p in out.iterdir())


def test_publish_refuses_a_leak_on_the_first_release(demo_prepared, tmp_path):
    out = tmp_path / "releases"
    leaky = Path(shutil.copytree(demo_prepared, tmp_path / "leaky"))
    leak_small_count(leaky)
    with pytest.raises(DisclosureLeak):
        publish(leaky, out, today=TODAY)
    assert list(out.iterdir()) == []


def test_publish_is_idempotent(demo_prepared, tmp_path):
    out = tmp_path / "releases"
    first = publish(demo_prepared, out, today=TODAY)
    assert first.created and first.version == TODAY.isoformat()
    before = snapshot(out)
    second = publish(demo_prepared, out, today=TODAY + timedelta(days=3))
    assert second.created is False
    assert second.version == first.version and second.folder == first.folder
    assert "unchanged" in second.message
    assert snapshot(out) == before
    forced = publish(demo_prepared, out, today=TODAY, force=True)
    assert forced.created and forced.version == f"{TODAY.isoformat()}.2"
    assert (out / "LATEST").read_text(encoding="utf-8").strip() == forced.version
    history = json.loads((out / "history.json").read_text(encoding="utf-8"))
    assert [h["version"] for h in history] == [forced.version, first.version]
    assert history[0]["previous"] == first.version
    changelog = json.loads((forced.folder / "changelog.json").read_text(encoding="utf-8"))
    assert changelog["previous"] == first.version
    assert {c["status"] for c in changelog["datasets"].values()} == {"inchangé"}


def test_changelog_against_the_previous_release(demo_prepared, tmp_path):
    out = tmp_path / "releases"
    first = publish(demo_prepared, out, today=TODAY)
    prepared = Path(shutil.copytree(demo_prepared, tmp_path / "prepared"))
    path = prepared / "specialites.parquet"
    spec = pl.read_parquet(path)
    n_removed = 3
    changed_cis = spec["cis"][10]
    assert "99999999" not in spec["cis"].to_list()
    new = spec.slice(n_removed).with_columns(
        pl.when(pl.col("cis") == changed_cis)
        .then(pl.lit("DÉNOMINATION MODIFIÉE"))
        .otherwise(pl.col("denomination"))
        .alias("denomination")
    )
    new = pl.concat([new, spec.slice(20, 1).with_columns(pl.lit("99999999").alias("cis"))])
    new.write_parquet(path)
    # a table without a key: one row's value changes (= one row removed, one added)
    compo_path = prepared / "compositions.parquet"
    compo = pl.read_parquet(compo_path)
    compo = compo.with_columns(
        pl.when(pl.int_range(pl.len()) == 5).then(pl.lit("999 mg")).otherwise(pl.col("dosage")).alias("dosage")
    )
    compo.write_parquet(compo_path)
    manifest_path = prepared / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["datasets"]["specialites"]["rows"] = new.height
    manifest_path.write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")

    second = publish(prepared, out, today=TODAY + timedelta(days=1))
    assert second.created and second.version == (TODAY + timedelta(days=1)).isoformat()
    changelog = json.loads((second.folder / "changelog.json").read_text(encoding="utf-8"))
    assert changelog["version"] == second.version and changelog["previous"] == first.version
    spec_change = changelog["datasets"]["specialites"]
    assert spec_change["status"] == "modifié"
    assert (spec_change["added"], spec_change["removed"], spec_change["changed"]) == (1, n_removed, 1)
    assert (spec_change["rows_before"], spec_change["rows_after"]) == (spec.height, spec.height - n_removed + 1)
    compo_change = changelog["datasets"]["compositions"]
    assert (compo_change["status"], compo_change["added"], compo_change["removed"], compo_change["changed"]) == (
        "modifié",
        1,
        1,
        None,
    )
    others = {n: c for n, c in changelog["datasets"].items() if n not in ("specialites", "compositions")}
    assert set(others) == set(public_names(prepared)) - {"specialites", "compositions"}
    for name, change in others.items():
        assert change["status"] == "inchangé", (name, change)
        assert (change["added"], change["removed"]) == (0, 0), name
    markdown = (second.folder / "CHANGELOG.md").read_text(encoding="utf-8")
    assert f"version {second.version}" in markdown and f"Différences avec la version {first.version}" in markdown
    assert (
        f"| specialites | modifié | {spec.height} | {spec.height - n_removed + 1} | 1 | {n_removed} | 1 |" in markdown
    )
    history = json.loads((out / "history.json").read_text(encoding="utf-8"))
    assert history[0]["changes"]["specialites"] == {"status": "modifié", "added": 1, "removed": n_removed, "changed": 1}
    assert history[0]["previous"] == first.version
    # the first release is left as it was
    assert (first.folder / "data" / "specialites.parquet").exists()
    assert pl.read_parquet(first.folder / "data" / "specialites.parquet").height == spec.height


def test_changelog_of_a_withdrawn_dataset(demo_prepared, tmp_path):
    out = tmp_path / "releases"
    publish(demo_prepared, out, today=TODAY)
    prepared = Path(shutil.copytree(demo_prepared, tmp_path / "prepared"))
    manifest = json.loads((prepared / "manifest.json").read_text(encoding="utf-8"))
    rows = manifest["datasets"].pop("ruptures_classes")["rows"]
    (prepared / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    second = publish(prepared, out, today=TODAY + timedelta(days=1))
    assert second.created
    change = json.loads((second.folder / "changelog.json").read_text(encoding="utf-8"))["datasets"]["ruptures_classes"]
    assert change["status"] == "retiré" and change["rows_before"] == rows and change["rows_after"] == 0
    assert not (second.folder / "data" / "ruptures_classes.csv").exists()


# --- diff_tables --------------------------------------------------------------------------------


def test_diff_tables_with_a_key():
    old = pl.DataFrame({"id": [1, 2, 3, 4], "v": ["a", "b", "c", "d"]})
    new = pl.DataFrame({"id": [2, 3, 4, 5, 6], "v": ["b", "C", "d", "e", "f"]})
    diff = diff_tables(old, new, ("id",))
    assert diff == {"rows_before": 4, "rows_after": 5, "added": 2, "removed": 1, "changed": 1, "status": "modifié"}
    # order does not matter
    same = diff_tables(old, old.reverse(), ("id",))
    assert (same["status"], same["added"], same["removed"], same["changed"]) == ("inchangé", 0, 0, 0)


def test_diff_tables_without_a_key_is_a_multiset_comparison():
    old = pl.DataFrame({"a": [1, 1, 2, 7], "b": ["x", "x", "y", "z"]})
    new = pl.DataFrame({"a": [7, 1, 2, 2, 3], "b": ["z", "x", "y", "y", "w"]})
    diff = diff_tables(old, new, ())
    # one copy of (1, x) removed; one more (2, y) and a new (3, w) added
    assert (diff["added"], diff["removed"], diff["changed"], diff["status"]) == (2, 1, None, "modifié")
    assert (diff["rows_before"], diff["rows_after"]) == (4, 5)
    same = diff_tables(old, old.sample(fraction=1.0, shuffle=True, seed=1), ())
    assert (same["added"], same["removed"], same["status"]) == (0, 0, "inchangé")
    # duplicates count: a row appearing twice is not the same as once
    assert diff_tables(pl.DataFrame({"a": [1, 1]}), pl.DataFrame({"a": [1]}), ())["removed"] == 1
    # one row replaced by another (the per-row count differences cancel out in unsigned arithmetic)
    replaced = diff_tables(pl.DataFrame({"a": [1, 2]}), pl.DataFrame({"a": [1, 3]}), ())
    assert (replaced["added"], replaced["removed"], replaced["status"]) == (1, 1, "modifié")


def test_diff_tables_with_a_duplicated_key_falls_back_to_rows():
    old = pl.DataFrame({"id": [1, 1, 2], "v": ["a", "b", "c"]})
    new = pl.DataFrame({"id": [1, 1, 2], "v": ["a", "B", "c"]})
    diff = diff_tables(old, new, ("id",))
    assert (diff["added"], diff["removed"], diff["changed"]) == (1, 1, None)


def test_diff_tables_first_release_and_changed_schema():
    new = pl.DataFrame({"id": [1, 2], "v": ["a", "b"], "z": [True, False]})
    assert diff_tables(None, new, ("id",)) == {
        "status": "nouveau",
        "added": 2,
        "removed": 0,
        "changed": 0,
        "rows_before": 0,
        "rows_after": 2,
    }
    old = pl.DataFrame({"id": [1, 2, 3], "v": ["a", "B", "c"], "w": [0.5, 1.5, 2.5]})
    diff = diff_tables(old, new, ("id",))
    assert diff["columns_added"] == ["z"] and diff["columns_removed"] == ["w"]
    # rows compared on the common columns: id 2 changed (v), id 3 removed
    assert (diff["added"], diff["removed"], diff["changed"], diff["status"]) == (0, 1, 1, "modifié")
    # a column added with nothing else changed is still a change
    only_new_column = diff_tables(new.drop("z"), new, ("id",))
    assert only_new_column["status"] == "modifié" and only_new_column["columns_added"] == ["z"]
    assert (only_new_column["added"], only_new_column["removed"], only_new_column["changed"]) == (0, 0, 0)
    # a widened type on a common column is compared by value
    widened = diff_tables(
        pl.DataFrame({"id": [1, 2], "n": pl.Series([5, 6], dtype=pl.Int32)}),
        pl.DataFrame({"id": [1, 2], "n": [5, 7]}),
        ("id",),
    )
    assert (widened["added"], widened["removed"], widened["changed"]) == (0, 0, 1)


# --- the CLI ------------------------------------------------------------------------------------


@pytest.mark.slow
def test_cli_publish(demo_prepared, tmp_path):
    out = tmp_path / "releases"
    first = run_cli("publish", "--out", str(out), "--data", str(demo_prepared))
    assert first.returncode == 0, first.stderr
    version = (out / "LATEST").read_text(encoding="utf-8").strip()
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", version)
    assert f"release {version} published" in first.stdout
    assert "specialites" in first.stdout and "nouveau" in first.stdout

    second = run_cli("publish", "--out", str(out), "--data", str(demo_prepared))
    assert second.returncode == 0, second.stderr
    assert "unchanged" in second.stdout and version in second.stdout
    assert sorted(p.name for p in out.iterdir()) == sorted([version, "history.json", "LATEST"])

    leaky = Path(shutil.copytree(demo_prepared, tmp_path / "leaky"))
    leak_small_count(leaky)
    before = snapshot(out)
    third = run_cli("publish", "--out", str(out), "--data", str(leaky), "--force")
    assert third.returncode == 4, third.stdout + third.stderr
    assert "disclosure" in third.stderr and "ei_annee" in third.stderr
    assert snapshot(out) == before


@pytest.mark.slow
def test_cli_publish_without_prepared_data(tmp_path):
    result = run_cli("publish", "--out", str(tmp_path / "releases"), "--data", str(tmp_path / "missing"))
    assert result.returncode == 1
    assert "manifest.json" in result.stderr


def test_real_readme_names_rejected_lines_and_corrected_values(real_release, real_prepared):
    manifest = json.loads((real_prepared / "manifest.json").read_text(encoding="utf-8"))
    readme = (real_release.folder / "README.md").read_text(encoding="utf-8")
    lines, values = manifest["rejected_lines"], manifest["corrected_values"]
    assert values > 0  # the real pharmacovigilance files carry corrected values
    assert f"{fr_int(lines)} ligne(s) illisible(s) rejetée(s) et {fr_int(values)} valeur(s) corrigée(s)" in readme
    # an undated source reads "non daté" in the provenance table, never an empty cell
    undated = [s for s in manifest["sources"] if s["snapshot"] is None]
    assert undated
    for source in undated:
        assert f"| `{source['path']}` | non daté |" in readme, source["path"]


def test_csv_cells_a_spreadsheet_would_run_are_neutralised(demo_prepared, tmp_path):
    """OWASP CSV injection: in the release CSV and the app's downloads, a text cell that
    starts with =, +, -, @, a tab or a carriage return gets a leading apostrophe, unless it
    is a negative number written as text (the comparison download's "-0,13" stays a number);
    numbers (negative ones too) and the Parquet file keep the exact value."""
    from datamed.core.text import csv_safe
    from datamed.store import Store
    from datamed.views import datainfo

    frame = pl.DataFrame(
        {
            "texte": [
                '=HYPERLINK("http://x")',
                "+1",
                "-2+3",
                "-cmd|' /C calc'!A0",
                "@SUM(A1)",
                "\tx",
                "\rx",
                "ok",
                None,
                "a=b",
            ]
            + ["-2", "-0,13", "-1\u202f234,5", "-2,5\u202f%", "-1,5-1"],
            "nombre": list(range(-1, 14)),
        }
    )
    safe = csv_safe(frame)
    assert safe["texte"].to_list() == [
        '\'=HYPERLINK("http://x")',
        "'+1",
        "'-2+3",
        "'-cmd|' /C calc'!A0",
        "'@SUM(A1)",
        "'\tx",
        "'\rx",
        "ok",
        None,
        "a=b",
        "-2",
        "-0,13",
        "-1\u202f234,5",
        "-2,5\u202f%",
        "'-1,5-1",
    ]
    assert safe["nombre"].to_list() == frame["nombre"].to_list()
    # the app's download and the release go through it
    prepared = Path(shutil.copytree(demo_prepared, tmp_path / "prepared"))
    path = prepared / "specialites.parquet"
    specs = pl.read_parquet(path)
    specs = specs.with_columns(
        pl.when(pl.int_range(pl.len()) == 0)
        .then(pl.lit("=1+1"))
        .otherwise(pl.col("denomination"))
        .alias("denomination")
    )
    specs.write_parquet(path)
    csv_text = datainfo.export_bytes(Store(prepared), "specialites", "csv").decode("utf-8")
    assert "'=1+1" in csv_text and "\n=1+1" not in csv_text
    release = publish(prepared, tmp_path / "releases", today=TODAY)
    released = (release.folder / "data" / "specialites.csv").read_text(encoding="utf-8")
    assert "'=1+1" in released
    assert pl.read_parquet(release.folder / "data" / "specialites.parquet")["denomination"][0] == "=1+1"
    assert "injection" in (release.folder / "README.md").read_text(encoding="utf-8")
