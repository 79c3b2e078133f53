"""Tests of the synthetic demo data generator (datamed.demo)."""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from datetime import date, datetime
from pathlib import Path

import pytest

import datamed.demo as demo
from datamed.demo import (
    DEMO_MALFORMED,
    DEMO_PV_EXPOSURE_CONFLICTS,
    DEMO_PV_MALFORMED,
    DEMO_SNAPSHOTS,
    write_demo,
)

NEWEST, OLDEST = DEMO_SNAPSHOTS[-1], DEMO_SNAPSHOTS[0]
PV = "ansm_pharmacovigilance"
SEX_CODE = {"Femmes": "F", "Hommes": "M"}
AGE_CODE = {"0-19 ans": 0, "20-59 ans": 20, "60 ans et plus": 60}
PV_TABLES = ("annee", "age", "sexe", "soclong_age", "soclong_sexe", "notif_age", "notif_sexe")
FIELDS = {
    "CIS_bdpm.txt": 12,
    "CIS_CIP_bdpm.txt": 13,
    "CIS_COMPO_bdpm.txt": 8,
    "CIS_GENER_bdpm.txt": 5,
    "CIS_CPD_bdpm.txt": 2,
    "CIS_HAS_SMR_bdpm.txt": 6,
    "CIS_HAS_ASMR_bdpm.txt": 6,
    "HAS_LiensPageCT_bdpm.txt": 2,
    "CIS_CIP_Dispo_Spec.txt": 8,
    "CIS_MITM.txt": 4,
    "CIS_InfoImportantes.txt": 4,
}
# Files whose first column is a CIS that must exist in the snapshot's CIS_bdpm.
CIS_KEYED = (
    "CIS_CIP_bdpm.txt",
    "CIS_COMPO_bdpm.txt",
    "CIS_CPD_bdpm.txt",
    "CIS_HAS_SMR_bdpm.txt",
    "CIS_HAS_ASMR_bdpm.txt",
    "CIS_CIP_Dispo_Spec.txt",
    "CIS_MITM.txt",
    "CIS_InfoImportantes.txt",
)
REAL_BRANDS = (
    "DOLIPRANE",
    "EFFERALGAN",
    "DAFALGAN",
    "ADVIL",
    "AUGMENTIN",
    "CLAMOXYL",
    "LEVOTHYROX",
    "KARDEGIC",
    "SPASFON",
    "SMECTA",
    "NUROFEN",
    "VOLTARENE",
    "XARELTO",
    "ELIQUIS",
    "GLUCOPHAGE",
    "INEXIUM",
    "MOPRAL",
    "TAHOR",
    "CRESTOR",
    "ZOCOR",
    "ZOLOFT",
    "PROZAC",
    "DEROXAT",
    "SEROPLEX",
    "XANAX",
    "LEXOMIL",
    "STILNOX",
    "IMOVANE",
    "LYRICA",
    "DEPAKINE",
    "KEPPRA",
    "LAMICTAL",
    "PLAVIX",
    "VENTOLINE",
    "AERIUS",
    "ZYRTEC",
    "GLIVEC",
    "HUMIRA",
    "LOVENOX",
    "ZITHROMAX",
    "CIFLOX",
    "ROCEPHINE",
    "TRIFLUCAN",
    "ZOVIR",
    "ZELITREX",
    "FLAGYL",
    "PLAQUENIL",
    "STROMECTOL",
    "SINGULAIR",
    "NASONEX",
    "XALATAN",
    "TIMOPTOL",
    "AMLOR",
    "COZAAR",
    "TAREG",
    "COTAREG",
    "TRIATEC",
    "LASILIX",
    "CORDARONE",
    "DIAMICRON",
    "JANUVIA",
    "JANUMET",
    "IMODIUM",
    "PRIMPERAN",
    "EUPANTOL",
    "INIPOMP",
    "VIAGRA",
    "OMIX",
    "SOLUPRED",
    "CORTANCYL",
    "NOLVADEX",
    "FEMARA",
    "BI-PROFENID",
    "CELEBREX",
    "ZYLORIC",
    "FOSAMAX",
    "SKENAN",
    "MOSCONTIN",
    "IXPRIM",
    "TOPALGIC",
    "CONTRAMAL",
    "ASPEGIC",
    "IMIGRANE",
    "SEROQUEL",
    "RISPERDAL",
    "EFFEXOR",
    "ARICEPT",
    "NICORETTE",
    "NICOPATCH",
    "BACTRIM",
    "FURADANTINE",
    "MODOPAR",
    "SINEMET",
    "FLUIMUCIL",
    "ZENTEL",
    "APROVEL",
    "BISOCE",
    "CARDENSIEL",
    "LOPRESSOR",
    "SELOKEN",
    "DIGOXINE NATIVELLE",
    "SPECIAFOLDINE",
    "NOVATREX",
    "LEDERTREXATE",
    "BRISTOPEN",
    "ORELOX",
    "BIAFINE",
    "FUCIDINE",
    "MYCOSTER",
    "MUPIDERM",
    "NALOREX",
    "NARCAN",
    "NYXOID",
    "ADEPAL",
    "MINIDRIL",
    "LEELOO",
    "OMNIC",
    "JOSIR",
    "NAPROSYNE",
    "APRANAX",
)


def text_of(path: Path) -> str:
    """Decode as the generator wrote it: newest CIS_CIP in UTF-8, the rest cp1252."""
    data = path.read_bytes()
    if path.name == "CIS_CIP_bdpm.txt" and path.parent.name == NEWEST:
        return data.decode("utf-8")
    return data.decode("cp1252")


def lines_of(path: Path) -> list[str]:
    """Data lines, without the terminator and without CPD's stray lone-CR lines."""
    text = text_of(path)
    eol = "\n" if "\r\n" not in text else "\r\n"
    assert text.endswith(eol), f"{path.name}: no final line terminator"
    return [line for line in text[: -len(eol)].split(eol) if line != "\r"]


def rows_of(path: Path) -> list[list[str]]:
    return [line.split("\t") for line in lines_of(path)]


def bdpm_files(root: Path):
    for snap in DEMO_SNAPSHOTS:
        for path in sorted((root / "bdpm" / snap).iterdir()):
            yield snap, path


def is_malformed_cis_line(fields: list[str]) -> bool:
    return len(fields) != FIELDS["CIS_bdpm.txt"] or not (fields[0].isdigit() and len(fields[0]) == 8)


def cis_set(root: Path, snap: str) -> set[str]:
    return {f[0] for f in rows_of(root / "bdpm" / snap / "CIS_bdpm.txt") if not is_malformed_cis_line(f)}


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("demo")
    return root, write_demo(root)


@pytest.fixture(scope="module")
def root(generated) -> Path:
    return generated[0]


def test_public_api():
    assert list(DEMO_SNAPSHOTS) == sorted(DEMO_SNAPSHOTS)
    assert all(date.fromisoformat(s) for s in DEMO_SNAPSHOTS)
    assert {f"bdpm/{NEWEST}/CIS_bdpm.txt": 2} == DEMO_MALFORMED
    assert {f"{PV}/sa_data_annee.json": 2, f"{PV}/sa_data_soclong_age.json": 1} == DEMO_PV_MALFORMED
    assert {f"{PV}/sa_data_annee.json": 3} == DEMO_PV_EXPOSURE_CONFLICTS


def test_deterministic(tmp_path, root, generated):
    summary = write_demo(tmp_path)
    assert summary == generated[1]
    first = {p.relative_to(root): p.read_bytes() for p in root.rglob("*") if p.is_file()}
    second = {p.relative_to(tmp_path): p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    assert first.keys() == second.keys()
    for rel in first:
        assert first[rel] == second[rel], f"{rel} differs between two runs"


def test_other_seed_differs(tmp_path, root):
    write_demo(tmp_path, seed=1)
    rel = Path("bdpm", NEWEST, "CIS_bdpm.txt")
    assert (tmp_path / rel).read_bytes() != (root / rel).read_bytes()


def test_rewrite_replaces_owned_files_only(tmp_path):
    stale = tmp_path / "bdpm" / NEWEST / "stale.txt"
    stale.parent.mkdir(parents=True)
    stale.write_text("old")
    keep = tmp_path / "bdpm" / "1999-01-01" / "CIS_bdpm.txt"
    keep.parent.mkdir(parents=True)
    keep.write_text("not ours")
    write_demo(tmp_path)
    assert not stale.exists() and keep.read_text() == "not ours"


def test_expected_files(root, generated):
    for snap in DEMO_SNAPSHOTS:
        names = {p.name for p in (root / "bdpm" / snap).iterdir()}
        assert set(demo.CORE_FILES) <= names
        if snap == NEWEST:
            assert names == set(FIELDS) == set(demo.CORE_FILES + demo.NEWEST_ONLY_FILES)
    pv_files = [f"{PV}/sa_data_{t}.json" for t in PV_TABLES] + [f"{PV}/prod_data_annee.csv"]
    for rel in (
        "atc/atc_names_fr.json",
        "atc/WHO_ATC-DDD_2026-04-25.csv",
        "demo.json",
        "README.md",
        "meddra/meddra_soc.csv",
        *pv_files,
    ):
        assert (root / rel).is_file(), rel
    assert {p.name for p in (root / PV).iterdir()} == {rel.split("/")[1] for rel in pv_files}
    meta = json.loads((root / "demo.json").read_text(encoding="utf-8"))
    assert meta["demo"] is True and meta["generator"] == "datamed.demo" and meta["seed"] == 20261128
    assert meta["description"].startswith("Données de démonstration synthétiques")
    summary = generated[1]
    for snap, path in bdpm_files(root):
        assert summary[f"bdpm/{snap}/{path.name}"] == len(lines_of(path))
    assert 250 <= summary[f"bdpm/{NEWEST}/CIS_bdpm.txt"] <= 400
    assert summary["meddra/meddra_soc.csv"] == 27
    for t in PV_TABLES:
        assert summary[f"{PV}/sa_data_{t}.json"] == len(pv_json(root, t))
    assert summary[f"{PV}/prod_data_annee.csv"] == len(prod_rows(root)) - 1
    readme = (root / "README.md").read_text(encoding="utf-8")
    assert "meddra/meddra_soc.csv" in readme and "ansm_pharmacovigilance/" in readme


def test_encodings_and_line_endings(root):
    for snap, path in bdpm_files(root):
        data = path.read_bytes()
        assert data.endswith(b"\n")
        if path.name == "CIS_CIP_bdpm.txt" and snap == NEWEST:
            data.decode("utf-8")
            assert b"\r" not in data
            continue
        assert data.count(b"\n") == data.count(b"\r\n"), f"{snap}/{path.name}: not CRLF"
        if path.name == "HAS_LiensPageCT_bdpm.txt":
            data.decode("ascii")
        else:
            data.decode("cp1252")
            if any(b >= 0x80 for b in data):
                with pytest.raises(UnicodeDecodeError):  # accented text really is Windows-1252
                    data.decode("utf-8")
    assert "’" in text_of(root / "bdpm" / NEWEST / "CIS_HAS_SMR_bdpm.txt")


def test_field_counts(root):
    for snap, path in bdpm_files(root):
        expected = FIELDS[path.name]
        if snap == OLDEST and path.name in ("CIS_COMPO_bdpm.txt", "CIS_GENER_bdpm.txt"):
            expected += 1  # trailing tab
        rows = rows_of(path)
        assert rows, path
        if path.name == "CIS_bdpm.txt":
            bad = [r for r in rows if is_malformed_cis_line(r)]
            assert len(bad) == DEMO_MALFORMED.get(f"bdpm/{snap}/{path.name}", 0)
            rows = [r for r in rows if not is_malformed_cis_line(r)]
        for row in rows:
            assert len(row) == expected, f"{snap}/{path.name}: {row}"
            if expected == FIELDS[path.name] + 1:
                assert row[-1] == ""


def test_quirks(root):
    newest = root / "bdpm" / NEWEST
    assert (newest / "CIS_CPD_bdpm.txt").read_bytes().count(b"\r\r\n") == 2
    cis_rows = rows_of(newest / "CIS_bdpm.txt")
    assert all(r[10].startswith(" ") for r in cis_rows if len(r) == 12)
    assert any(r[0] == "6A123456" for r in cis_rows)
    assert any(len(r) < 12 for r in cis_rows)
    cip = rows_of(newest / "CIS_CIP_bdpm.txt")
    assert any(line.endswith("\t") for line in lines_of(newest / "CIS_CIP_bdpm.txt"))
    assert any("<br>" in r[12] for r in cip)
    smr = rows_of(newest / "CIS_HAS_SMR_bdpm.txt")
    assert any(r[5].startswith('"') for r in smr)
    labels = {r[3] for r in rows_of(newest / "CIS_CIP_Dispo_Spec.txt")}
    assert any(label[0].islower() for label in labels) and any(label[0].isupper() for label in labels)


def parse_price(value: str) -> float:
    parts = value.split(",")
    return float("".join(parts[:-1]) + "." + parts[-1])


def test_presentations_codes_and_prices(root):
    rows = rows_of(root / "bdpm" / NEWEST / "CIS_CIP_bdpm.txt")
    assert any(len(r[9].split(",")) == 3 for r in rows), "no price with a thousands comma"
    for r in rows:
        cip7, cip13 = r[1], r[6]
        assert len(cip7) == 7 and cip7.isdigit()
        assert len(cip13) == 13 and cip13.isdigit() and cip13.startswith("3400")
        total = sum(int(c) * (3 if i % 2 else 1) for i, c in enumerate(cip13[:12]))
        assert int(cip13[12]) == (10 - total % 10) % 10, f"bad EAN-13 check digit: {cip13}"
        assert r[8] in ("65%", "30%", "15%", "100%", "")
        assert r[7] in ("oui", "non", "inconnu")
        if r[8]:
            price, public, fee = (parse_price(v) for v in r[9:12])
            assert public == pytest.approx(price + fee)
        else:
            assert r[9:12] == ["", "", ""]
    cip7s = [r[1] for r in rows]
    assert len(cip7s) == len(set(cip7s))


def test_referential_integrity(root):
    for snap in DEMO_SNAPSHOTS:
        known = cis_set(root, snap)
        assert all(len(c) == 8 and c.startswith("6") for c in known)
        for name in CIS_KEYED + ("CIS_GENER_bdpm.txt",):
            path = root / "bdpm" / snap / name
            if not path.exists():
                continue
            column = 2 if name == "CIS_GENER_bdpm.txt" else 0
            missing = {r[column] for r in rows_of(path)} - known
            assert not missing, f"{snap}/{name}: unknown CIS {sorted(missing)[:5]}"
    newest = root / "bdpm" / NEWEST
    links = {r[0] for r in rows_of(newest / "HAS_LiensPageCT_bdpm.txt")}
    for name in ("CIS_HAS_SMR_bdpm.txt", "CIS_HAS_ASMR_bdpm.txt"):
        for r in rows_of(newest / name):
            assert r[1] in links and r[1].startswith("CT-")
            datetime.strptime(r[3], "%Y%m%d")
    dispo_cip = {r[6] for r in rows_of(newest / "CIS_CIP_bdpm.txt")}
    assert all(r[1] in dispo_cip for r in rows_of(newest / "CIS_CIP_Dispo_Spec.txt") if r[1])


def test_catalogue_evolves(root):
    sets = [cis_set(root, snap) for snap in DEMO_SNAPSHOTS]
    assert sets[0] - sets[-1], "no CIS removed"
    assert sets[-1] - sets[0], "no CIS added"


def test_availability_history(root):
    by_snapshot, moved, conflicts = {}, [], []
    for snap in DEMO_SNAPSHOTS:
        today = date.fromisoformat(snap)
        rows = rows_of(root / "bdpm" / snap / "CIS_CIP_Dispo_Spec.txt")
        n_cis = len(cis_set(root, snap))
        assert 0.08 * n_cis <= len({r[0] for r in rows}) <= 0.18 * n_cis
        for r in rows:
            start, updated = (datetime.strptime(v, "%d/%m/%Y").date() for v in r[4:6])
            assert updated <= today
            if start > updated:  # planted: a return whose start the source moved after it
                moved.append((snap, r[2], datetime.strptime(r[6], "%d/%m/%Y").date() < start))
            assert r[2] in "1234"
            if r[3].lower() != demo.DISPO_LABELS[int(r[2])].lower():  # planted: coded 4, labelled tension
                conflicts.append((snap, r[2], r[3].lower(), r[6]))
                continue
            if r[2] == "4":
                assert r[6] and datetime.strptime(r[6], "%d/%m/%Y").date() <= today
            assert r[7].startswith("https://ansm.sante.fr/disponibilites-des-produits-de-sante/medicaments/")
        by_snapshot[snap] = {r[0]: r[2] for r in rows}
    assert moved == [(NEWEST, "4", True)]
    assert conflicts == [(NEWEST, "4", "tension d'approvisionnement", "")]
    old, new = by_snapshot[OLDEST], by_snapshot[NEWEST]
    assert any(old.get(cis) in ("1", "2") and code == "4" for cis, code in new.items()), "no episode ends"
    assert set(new) - set(old), "no new episode"
    assert any(code in ("1", "2") and cis in old for cis, code in new.items()), "no ongoing episode"


def test_atc_files(root):
    names = json.loads((root / "atc" / "atc_names_fr.json").read_text(encoding="utf-8"))
    assert names["N02BE01"] == "paracétamol" and names["N"] == "Système nerveux"
    assert {len(code) for code in names} == {1, 3, 4, 5, 7}
    with open(root / "atc" / "WHO_ATC-DDD_2026-04-25.csv", encoding="utf-8", newline="") as f:
        who = list(csv.reader(f))
    assert who[0] == ["atc_code", "atc_name", "ddd", "uom", "adm_r", "note"]
    codes = [r[0] for r in who[1:]]
    assert any(codes.count(c) > 1 for c in codes), "no code with two routes"
    assert set(codes) - set(names), "no code without a French label"
    assert all(len(r) == 6 for r in who)
    mitm = rows_of(root / "bdpm" / NEWEST / "CIS_MITM.txt")
    assert {r[1] for r in mitm} <= set(names) & set(codes)
    assert {r[1][0] for r in mitm} >= set("ABCJLMN")
    assert 0.3 <= len(mitm) / len(cis_set(root, NEWEST)) <= 0.7


def plain_upper(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().upper()


@pytest.mark.slow
def test_no_real_brand_names_in_any_file(root):
    """No real brand as a word anywhere (accent- and case-insensitive).

    A bare substring test is impossible here: LEVOTHYROX is a prefix of the INN
    levothyroxine. Brand-like tokens get the strict substring test below.
    """
    patterns = [re.compile(rf"(?<![A-Z0-9]){re.escape(b)}(?![A-Z0-9])") for b in REAL_BRANDS]
    for path in root.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            try:
                text = plain_upper(data.decode("utf-8"))
            except UnicodeDecodeError:
                text = plain_upper(data.decode("cp1252"))
            for brand, pattern in zip(REAL_BRANDS, patterns):
                assert not pattern.search(text), f"{brand} found in {path.relative_to(root)}"


def test_no_real_brand_substring_in_names(root):
    """Every word of every medicine name and holder, except INN words, contains no real brand."""
    inn_words = {w for p in demo.PRODUCTS for w in re.split(r"[+ ]", plain_upper(p[3]))}
    inn_words |= {w for salt, _ in demo.SALTS.values() for w in re.split(r"[ ’']", plain_upper(salt))}
    tokens = set()
    for snap in DEMO_SNAPSHOTS:
        for r in rows_of(root / "bdpm" / snap / "CIS_bdpm.txt"):
            names = [r[1]] + (r[10].split(";") if len(r) > 10 else [])
            tokens |= {t for name in names for t in re.split(r"[^A-Z0-9]+", plain_upper(name)) if len(t) > 3}
    tokens -= inn_words
    assert any(t.endswith("DEMO") for t in tokens)
    for token in tokens:
        for brand in REAL_BRANDS:
            assert brand.replace(" ", "") not in token, f"{brand} in {token}"


def test_module_does_not_read_shared_data():
    modules = sorted(Path(demo.__file__).parent.glob("*.py"))
    assert {m.stem for m in modules} >= {"vocabulary", "bdpm", "atc", "pharmacovigilance", "sites", "generate"}
    for module in modules:
        source = module.read_text(encoding="utf-8")
        assert "shared" not in source and "open(" not in source and "read_" not in source, module.name


# --- MedDRA organ classes and ANSM pharmacovigilance aggregates ---------------------
def pv_json(root: Path, table: str) -> list:
    data = (root / PV / f"sa_data_{table}.json").read_bytes()
    assert not data.startswith(b"\xef\xbb\xbf")
    records = json.loads(data.decode("utf-8"))
    assert isinstance(records, list) and all(isinstance(r, dict) for r in records)
    return records


def prod_rows(root: Path) -> list[list[str]]:
    data = (root / PV / "prod_data_annee.csv").read_bytes()
    assert data.startswith(b"\xef\xbb\xbf"), "no UTF-8 BOM"
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))


def soc_list(root: Path) -> list[dict]:
    with open(root / "meddra" / "meddra_soc.csv", encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def is_count(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def is_valid(table: str, record: dict, soc_fr: set[str]) -> bool:
    """The checks a reader must make; DEMO_PV_MALFORMED counts the records failing them."""
    counts = {
        "annee": ("n_cas", "n_conso"),
        "age": ("n_cas", "n_conso"),
        "sexe": ("n_cas", "n_conso"),
        "notif_age": ("n_decla",),
        "notif_sexe": ("n_decla",),
    }.get(table, ("n_decla_eff", "n_cas"))
    if not record.get("MEDICAMENT") or not all(is_count(record.get(c)) for c in counts):
        return False
    if table.startswith("soclong"):
        return record["SOC_LONG"] in soc_fr and record["n_decla_eff"] <= record["n_cas"]
    return True


@pytest.fixture(scope="module")
def pv(root) -> dict[str, list]:
    """Valid records of each sa_ table, the malformed ones set aside."""
    soc_fr = {r["soc_name_fr"] for r in soc_list(root)}
    return {t: [r for r in pv_json(root, t) if is_valid(t, r, soc_fr)] for t in PV_TABLES}


def test_meddra_soc(root):
    data = (root / "meddra" / "meddra_soc.csv").read_bytes()
    data.decode("utf-8")
    assert data.startswith(b"soc_code,soc_name_en,soc_name_fr\n")
    rows = soc_list(root)
    assert len(rows) == 27
    for column in ("soc_code", "soc_name_en", "soc_name_fr"):
        assert len({r[column] for r in rows}) == 27, column
    assert all(re.fullmatch(r"100\d{5}", r["soc_code"]) for r in rows)
    by_code = {r["soc_code"]: (r["soc_name_en"], r["soc_name_fr"]) for r in rows}
    assert by_code["10005329"] == (
        "Blood and lymphatic system disorders",
        "Affections hématologiques et du système lymphatique",
    )
    assert by_code["10018065"][1] == "Troubles généraux et anomalies au site d'administration"
    assert by_code["10029104"] == (
        "Neoplasms benign, malignant and unspecified (incl cysts and polyps)",
        "Tumeurs bénignes, malignes et non précisées (incl kystes et polypes)",
    )
    assert by_code["10077536"] == ("Product issues", "Problèmes de produit")
    assert b'"Injury, poisoning and procedural complications"' in data  # quoted: it holds commas


def test_pv_files_parse(root):
    expected_keys = {
        "annee": {"MEDICAMENT", "ANNEE", "n_cas", "n_conso"},
        "age": {"MEDICAMENT", "AGE", "n_cas", "n_conso"},
        "sexe": {"MEDICAMENT", "SEXE", "n_cas", "n_conso"},
        "soclong_age": {"MEDICAMENT", "AGE", "SOC_LONG", "n_decla_eff", "n_cas", "pour_cas_soclong"},
        "soclong_sexe": {"MEDICAMENT", "SEXE", "SOC_LONG", "n_decla_eff", "n_cas", "pour_cas_soclong"},
        "notif_age": {"MEDICAMENT", "AGE", "TYP_NOTIF", "n_decla"},
        "notif_sexe": {"MEDICAMENT", "SEXE", "TYP_NOTIF", "n_decla"},
    }
    strata = {
        "annee": ("ANNEE", {2014, 2015, 2016, 2017, 2018}),
        "age": ("AGE", {"0-19 ans", "20-59 ans", "60 ans et plus"}),
        "sexe": ("SEXE", {"Femmes", "Hommes"}),
        "soclong_age": ("AGE", {0, 20, 60}),
        "soclong_sexe": ("SEXE", {"F", "M"}),
        "notif_age": ("AGE", {0, 20, 60}),
        "notif_sexe": ("SEXE", {"F", "M"}),
    }
    for t in PV_TABLES:
        records = pv_json(root, t)
        assert records, t
        column, values = strata[t]
        for r in records:
            assert set(r) <= expected_keys[t] and set(r) >= expected_keys[t] - {"n_cas"}, (t, r)
            assert r[column] in values and type(r[column]) is type(next(iter(values))), (t, r)
            assert r["MEDICAMENT"] == r["MEDICAMENT"].upper()
    assert "é" in (root / PV / "sa_data_soclong_age.json").read_text(encoding="utf-8")  # ensure_ascii=False
    rows = prod_rows(root)
    assert rows[0] == ["MEDICAMENT", "ANNEE", "n_cas", "n_conso"]
    brands = {}
    for name, year, n_cas, n_conso in rows[1:]:
        brands.setdefault(name, set()).add(int(year))
        assert 0 <= int(n_cas) <= int(n_conso)
    assert 3 <= len(brands) <= 8 and all(years == {2014, 2015, 2016, 2017, 2018} for years in brands.values())
    catalogue = {
        f[1].split()[0]
        for snap in DEMO_SNAPSHOTS
        for f in rows_of(root / "bdpm" / snap / "CIS_bdpm.txt")
        if not is_malformed_cis_line(f)
    }
    assert set(brands) <= catalogue


def test_pv_malformed_and_conflicts(root, pv):
    soc_fr = {r["soc_name_fr"] for r in soc_list(root)}
    for t in PV_TABLES:
        rel = f"{PV}/sa_data_{t}.json"
        records = pv_json(root, t)
        assert len(records) - len(pv[t]) == DEMO_PV_MALFORMED.get(rel, 0), rel
        conflicts = [r for r in pv[t] if "n_conso" in r and r["n_cas"] > r["n_conso"]]
        assert len(conflicts) == DEMO_PV_EXPOSURE_CONFLICTS.get(rel, 0), rel
        assert all(r["n_conso"] == 0 for r in conflicts)
    bad = [r for r in pv_json(root, "annee") if not is_valid("annee", r, soc_fr)]
    assert any("n_cas" not in r for r in bad) and any(r.get("n_cas", 0) < 0 for r in bad)
    bad = [r for r in pv_json(root, "soclong_age") if not is_valid("soclong_age", r, soc_fr)]
    assert len(bad) == 1 and bad[0]["SOC_LONG"] not in soc_fr and bad[0]["n_decla_eff"] >= 10


def test_pv_one_record_per_cell(pv):
    names = {r["MEDICAMENT"] for r in pv["annee"]}
    assert 65 <= len(names) <= 75
    for t, per_name in (("annee", 5), ("age", 3), ("sexe", 2)):
        keys = [(r["MEDICAMENT"], r.get("ANNEE", r.get("AGE", r.get("SEXE")))) for r in pv[t]]
        assert len(keys) == len(set(keys)) == per_name * len(names), t


def totals_by(records: list[dict], column: str = "n_cas") -> dict[str, int]:
    out: dict[str, int] = {}
    for r in records:
        out[r["MEDICAMENT"]] = out.get(r["MEDICAMENT"], 0) + r[column]
    return out


def test_pv_case_totals_agree(pv):
    total = totals_by(pv["annee"])
    assert totals_by(pv["age"]) == total and totals_by(pv["sexe"]) == total
    exposure = totals_by(pv["annee"], "n_conso")
    assert totals_by(pv["age"], "n_conso") == exposure and totals_by(pv["sexe"], "n_conso") == exposure
    values = sorted(total.values())
    small = sum(v < 11 for v in values) / len(values)
    assert 0.10 <= small <= 0.20 and values.count(0) >= 1
    assert min(v for v in values if v >= 11) >= 11 and values[-1] <= 5000 and values[-1] >= 1000
    assert all(200 <= r["n_conso"] <= 2_000_000 for r in pv["annee"] if r["n_conso"])


def test_pv_soclong(pv):
    total = totals_by(pv["annee"])
    strata = {("age", AGE_CODE[r["AGE"]], r["MEDICAMENT"]): r["n_cas"] for r in pv["age"]}
    strata |= {("sexe", SEX_CODE[r["SEXE"]], r["MEDICAMENT"]): r["n_cas"] for r in pv["sexe"]}
    socs_of: dict[str, set[str]] = {}
    for t, column in (("soclong_age", "AGE"), ("soclong_sexe", "SEXE")):
        assert pv[t]
        for r in pv[t]:
            assert r["n_cas"] == total[r["MEDICAMENT"]]  # the substance total, not the stratum's
            assert 10 <= r["n_decla_eff"] <= strata[(t[8:], r[column], r["MEDICAMENT"])]
            assert isinstance(r["pour_cas_soclong"], float)
            assert r["pour_cas_soclong"] == pytest.approx(100 * r["n_decla_eff"] / r["n_cas"])
            socs_of.setdefault(r["MEDICAMENT"], set()).add(r["SOC_LONG"])
        keys = [(r["MEDICAMENT"], r[column], r["SOC_LONG"]) for r in pv[t]]
        assert len(keys) == len(set(keys))
    assert all(len(s) <= 15 for s in socs_of.values())
    assert not {n for n, v in total.items() if v < 10} & set(socs_of)
    rows_per_soc: dict[str, int] = {}
    for r in pv["soclong_age"]:
        rows_per_soc[r["SOC_LONG"]] = rows_per_soc.get(r["SOC_LONG"], 0) + 1
    top4 = set(sorted(rows_per_soc, key=rows_per_soc.get, reverse=True)[:4])
    common = {
        "Affections gastro-intestinales",
        "Affections de la peau et du tissu sous-cutané",
        "Troubles généraux et anomalies au site d'administration",
        "Affections du système nerveux",
    }
    assert len(top4 & common) >= 3


def test_pv_notif(pv):
    cases = {
        "notif_age": {(r["MEDICAMENT"], AGE_CODE[r["AGE"]]): r["n_cas"] for r in pv["age"] if r["n_cas"]},
        "notif_sexe": {(r["MEDICAMENT"], SEX_CODE[r["SEXE"]]): r["n_cas"] for r in pv["sexe"] if r["n_cas"]},
    }
    for t, column in (("notif_age", "AGE"), ("notif_sexe", "SEXE")):
        ints = [r for r in pv[t] if isinstance(r["TYP_NOTIF"], int)]
        others = [r for r in pv[t] if not isinstance(r["TYP_NOTIF"], int)]
        assert ints and others
        assert sum(r["TYP_NOTIF"] == r["n_decla"] for r in ints) >= 0.9 * len(ints)
        assert all(r["TYP_NOTIF"] == "Notificateur(s) < 10 cas" and 1 <= r["n_decla"] <= 9 for r in others)
        assert all(r["n_decla"] >= 10 for r in ints)
        sums: dict[tuple, int] = {}
        for r in pv[t]:
            sums[(r["MEDICAMENT"], r[column])] = sums.get((r["MEDICAMENT"], r[column]), 0) + r["n_decla"]
        assert sums == cases[t]  # the declarations of a stratum add up to its cases


def test_pv_names_link_to_demo_bdpm(root, pv):
    compo = {plain_upper(r[3].replace("\u2019", "'")) for r in rows_of(root / "bdpm" / NEWEST / "CIS_COMPO_bdpm.txt")}
    compo_words = {w for c in compo for w in re.split(r"[^A-Z]+", c) if w}
    names = sorted({r["MEDICAMENT"] for r in pv["annee"]})
    exact = [n for n in names if n in compo]
    brackets = [n for n in names if re.search(r"\((?:[A-Z]+ )+D(?:E|')\)", n)]
    unmatched = [n for n in names if not set(re.split(r"[^A-Z]+", n)) - {""} - {"CHLORHYDRATE", "DE"} & compo_words]
    assert 0.55 <= len(exact) / len(names) <= 0.8
    assert 0.15 <= len(brackets) / len(names) <= 0.25
    assert any(n.endswith("HYDRATEE") for n in names)
    assert len(unmatched) == 3, unmatched
    assert "PARACETAMOL" in exact and "AMLODIPINE (BESILATE D')" in brackets
    for name, base, _ in demo.PV_SUBSTANCES:
        if base:
            assert plain_upper(base) in compo, base
