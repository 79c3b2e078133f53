"""Tests of the synthetic demo data generator (datamed.demo)."""

from __future__ import annotations

import csv
import json
import re
import unicodedata
from datetime import date, datetime
from pathlib import Path

import pytest

from datamed import demo
from datamed.demo import DEMO_MALFORMED, DEMO_SNAPSHOTS, write_demo

NEWEST, OLDEST = DEMO_SNAPSHOTS[-1], DEMO_SNAPSHOTS[0]
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
    "CIS_CIP_bdpm.txt", "CIS_COMPO_bdpm.txt", "CIS_CPD_bdpm.txt", "CIS_HAS_SMR_bdpm.txt", "CIS_HAS_ASMR_bdpm.txt",
    "CIS_CIP_Dispo_Spec.txt", "CIS_MITM.txt", "CIS_InfoImportantes.txt",
)
REAL_BRANDS = (
    "DOLIPRANE", "EFFERALGAN", "DAFALGAN", "ADVIL", "AUGMENTIN", "CLAMOXYL", "LEVOTHYROX", "KARDEGIC", "SPASFON",
    "SMECTA", "NUROFEN", "VOLTARENE", "XARELTO", "ELIQUIS", "GLUCOPHAGE", "INEXIUM", "MOPRAL", "TAHOR", "CRESTOR",
    "ZOCOR", "ZOLOFT", "PROZAC", "DEROXAT", "SEROPLEX", "XANAX", "LEXOMIL", "STILNOX", "IMOVANE", "LYRICA",
    "DEPAKINE", "KEPPRA", "LAMICTAL", "PLAVIX", "VENTOLINE", "AERIUS", "ZYRTEC", "GLIVEC", "HUMIRA", "LOVENOX",
    "ZITHROMAX", "CIFLOX", "ROCEPHINE", "TRIFLUCAN", "ZOVIR", "ZELITREX", "FLAGYL", "PLAQUENIL", "STROMECTOL",
    "SINGULAIR", "NASONEX", "XALATAN", "TIMOPTOL", "AMLOR", "COZAAR", "TAREG", "COTAREG", "TRIATEC", "LASILIX",
    "CORDARONE", "DIAMICRON", "JANUVIA", "JANUMET", "IMODIUM", "PRIMPERAN", "EUPANTOL", "INIPOMP", "VIAGRA",
    "OMIX", "SOLUPRED", "CORTANCYL", "NOLVADEX", "FEMARA", "BI-PROFENID", "CELEBREX", "ZYLORIC", "FOSAMAX",
    "SKENAN", "MOSCONTIN", "IXPRIM", "TOPALGIC", "CONTRAMAL", "ASPEGIC", "IMIGRANE", "SEROQUEL", "RISPERDAL",
    "EFFEXOR", "ARICEPT", "NICORETTE", "NICOPATCH", "BACTRIM", "FURADANTINE", "MODOPAR", "SINEMET", "FLUIMUCIL",
    "ZENTEL", "APROVEL", "BISOCE", "CARDENSIEL", "LOPRESSOR", "SELOKEN", "DIGOXINE NATIVELLE", "SPECIAFOLDINE",
    "NOVATREX", "LEDERTREXATE", "BRISTOPEN", "ORELOX", "BIAFINE", "FUCIDINE", "MYCOSTER", "MUPIDERM", "NALOREX",
    "NARCAN", "NYXOID", "ADEPAL", "MINIDRIL", "LEELOO", "OMNIC", "JOSIR", "NAPROSYNE", "APRANAX",
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
    assert DEMO_MALFORMED == {f"bdpm/{NEWEST}/CIS_bdpm.txt": 2}


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
    for rel in ("atc/atc_names_fr.json", "atc/WHO_ATC-DDD_2026-04-25.csv", "demo.json", "README.md"):
        assert (root / rel).is_file(), rel
    meta = json.loads((root / "demo.json").read_text(encoding="utf-8"))
    assert meta["demo"] is True and meta["generator"] == "datamed.demo" and meta["seed"] == 20261128
    assert meta["description"].startswith("Données de démonstration synthétiques")
    summary = generated[1]
    for snap, path in bdpm_files(root):
        assert summary[f"bdpm/{snap}/{path.name}"] == len(lines_of(path))
    assert 250 <= summary[f"bdpm/{NEWEST}/CIS_bdpm.txt"] <= 400


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
    by_snapshot = {}
    for snap in DEMO_SNAPSHOTS:
        today = date.fromisoformat(snap)
        rows = rows_of(root / "bdpm" / snap / "CIS_CIP_Dispo_Spec.txt")
        n_cis = len(cis_set(root, snap))
        assert 0.08 * n_cis <= len({r[0] for r in rows}) <= 0.18 * n_cis
        for r in rows:
            start, updated = (datetime.strptime(v, "%d/%m/%Y").date() for v in r[4:6])
            assert start <= updated <= today
            assert r[2] in "1234"
            assert r[3].lower() == demo.DISPO_LABELS[int(r[2])].lower()
            if r[2] == "4":
                assert r[6] and datetime.strptime(r[6], "%d/%m/%Y").date() <= today
            assert r[7].startswith("https://ansm.sante.fr/disponibilites-des-produits-de-sante/medicaments/")
        by_snapshot[snap] = {r[0]: r[2] for r in rows}
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
    source = Path(demo.__file__).read_text(encoding="utf-8")
    assert "shared" not in source and "open(" not in source and "read_" not in source
