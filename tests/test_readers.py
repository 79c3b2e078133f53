"""Readers on every real BDPM snapshot, and on hand-made malformed input."""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl
import pytest
from conftest import SHARED_DIR

from datamed.sources.bdpm import SPECS, parse_price, parse_rates, read_bdpm_file, spec_for_filename
from datamed.sources.textfile import RawFileError, decode

REAL_FILES = sorted((SHARED_DIR / "bdpm").glob("*/*.txt"))


def non_empty_lines(path: Path) -> int:
    """Independent count: lines split on LF only, CRs and blanks ignored."""
    return sum(1 for line in path.read_bytes().split(b"\n") if line.replace(b"\r", b"").strip())


@pytest.mark.slow
@pytest.mark.parametrize("path", REAL_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_real_snapshot_rows_equal_lines_minus_rejects(path, shared_dir):
    spec = spec_for_filename(path.name)
    assert spec is not None, f"no reader for {path.name}"
    result = read_bdpm_file(path)
    assert result.n_lines == non_empty_lines(path)
    assert result.frame.height == result.n_lines - len(result.rejects)
    # each reject names its file, line and reason
    for r in result.rejects:
        assert r.file == path.name and r.line >= 1 and r.reason
    # codes stay strings, typed columns are typed
    schema = result.frame.schema
    if "cis" in schema:
        assert schema["cis"] == pl.String
        assert result.frame["cis"].str.contains(r"^\d{8}$").all()
    for name, kind in spec.columns:
        if kind.startswith("date"):
            assert schema[name] == pl.Date, name
        if kind == "price":
            assert schema[name] == pl.Float64, name
    # no stray carriage return or tab survives in any text
    for name, dtype in schema.items():
        if dtype == pl.String:
            assert not result.frame[name].drop_nulls().str.contains(r"[\r\t]").any(), name


def test_all_real_files_have_a_reader(shared_dir):
    assert len(REAL_FILES) == 17
    keys = {spec_for_filename(p.name).key for p in REAL_FILES}
    assert keys == {s.key for s in SPECS} - {"CIS_InfoImportantes"}


def test_encoding_detected_per_file(shared_dir):
    cip_2026 = read_bdpm_file(shared_dir / "bdpm/2026-01-27/CIS_CIP_bdpm.txt")
    cip_2022 = read_bdpm_file(shared_dir / "bdpm/2022-06-02/CIS_CIP_bdpm.txt")
    assert cip_2026.encoding == "utf-8" and cip_2022.encoding == "cp1252"
    for r in (cip_2026, cip_2022):
        labels = r.frame["libelle_presentation"]
        assert labels.str.contains("comprimé").any()
        assert not labels.str.contains("Ã").any(), "UTF-8 read as cp1252"


def test_tabs_inside_text_are_merged(shared_dir):
    compo = read_bdpm_file(shared_dir / "bdpm/2022-06-02/CIS_COMPO_bdpm.txt").frame
    rows = compo.filter(pl.col("cis") == "68285029")
    assert rows.height >= 3
    assert set(rows["dosage"]) >= {"4CH à 30CH et 7DH à 60DH"}
    assert set(rows["reference_dosage"]) == {"une gomme"}
    gener = read_bdpm_file(shared_dir / "bdpm/2022-06-02/CIS_GENER_bdpm.txt").frame
    pali = gener.filter(pl.col("id_groupe_generique") == "1809")
    assert pali.height == 2 and set(pali["cis"]) == {"67215259", "69616681"}
    assert pali["libelle_groupe_generique"].str.contains("XEPLION").all()


def test_trailing_tab_and_stray_cr(shared_dir):
    old = read_bdpm_file(shared_dir / "bdpm/2022-06-02/CIS_COMPO_bdpm.txt")
    assert old.frame["numero_liaison_sa_ft"].null_count() == 0
    cpd = read_bdpm_file(shared_dir / "bdpm/2026-01-27/CIS_CPD_bdpm.txt")
    assert cpd.frame.height == 27856 and not cpd.rejects


def test_prices_with_thousands_comma(shared_dir):
    path = shared_dir / "bdpm/2026-01-27/CIS_CIP_bdpm.txt"
    frame = read_bdpm_file(path).frame
    # independent re-parse of every raw price with a thousands comma
    expected = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        f = line.split("\t")
        if re.fullmatch(r"\d+,\d{3},\d+", f[9]):
            whole, thousands, cents = f[9].split(",")
            expected[f[6]] = float(f"{whole}{thousands}.{cents}")
    assert len(expected) > 100
    got = dict(zip(frame["cip13"], frame["prix_medicament_euro"]))
    for cip13, value in expected.items():
        assert got[cip13] == pytest.approx(value)
    assert min(expected.values()) >= 1000


def test_labels_and_leading_spaces(shared_dir):
    spec = read_bdpm_file(shared_dir / "bdpm/2026-01-27/CIS_bdpm.txt").frame
    holders = spec["titulaires"].explode().drop_nulls()
    assert not holders.str.starts_with(" ").any()
    assert spec["surveillance_renforcee"].dtype == pl.Boolean
    dispo = read_bdpm_file(shared_dir / "bdpm/2026-01-27/CIS_CIP_Dispo_Spec.txt").frame
    raw = set(dispo["libelle_statut_brut"])
    assert "tension d'approvisionnement" in {r.lower() for r in raw}
    assert set(dispo["libelle_statut"]) <= {
        "Rupture de stock",
        "Tension d'approvisionnement",
        "Arrêt de commercialisation",
        "Remise à disposition",
    }
    counts = dict(dispo.group_by("code_statut").len().iter_rows())
    assert counts == {4: 438, 2: 434, 1: 76, 3: 45}  # SOURCES.md: 435+3, 431+3, 76, 45


def test_html_in_bdpm_texts_becomes_plain_text(shared_dir):
    """The BDPM writes a little HTML in names and the HAS opinions: « 10<sup>6</sup> »,
    ``<br>``, and "¿" for the characters its export lost. Readers see plain text (10⁶,
    line breaks, "•", "œ", "’"); ``source_line`` points to the raw line."""
    folder = shared_dir / "bdpm/2026-01-27"
    spec = read_bdpm_file(folder / "CIS_bdpm.txt").frame
    imukin = spec.filter(pl.col("denomination").str.starts_with("IMUKIN"))
    assert imukin["denomination"].to_list() == ["IMUKIN 2 x 10⁶ UI (0,1 mg), solution injectable"]
    raw = (folder / "CIS_bdpm.txt").read_bytes().decode("utf-8", "replace").splitlines()
    assert "10<sup>6</sup>" in raw[imukin["source_line"][0] - 1]
    has = shared_dir / "bdpm/2023-11-18"
    for name, column in (("CIS_HAS_SMR_bdpm.txt", "libelle_smr"), ("CIS_HAS_ASMR_bdpm.txt", "libelle_asmr")):
        texts = read_bdpm_file(has / name).frame[column].drop_nulls()
        assert not texts.str.contains(r"<br|<sup|&[a-z]+;").any(), name
        assert texts.str.contains("\n• ").any(), name  # bullets, one per line
        assert texts.str.count_matches("¿").sum() <= 2, texts.filter(texts.str.contains("¿")).to_list()
    reimbursed = read_bdpm_file(folder / "CIS_CIP_bdpm.txt").frame["indications_remboursement"].drop_nulls()
    assert reimbursed.str.contains("l’œil").any() and not reimbursed.str.contains("<br|¿").any()


@pytest.mark.parametrize(
    "raw, text",
    [
        ("IMUKIN 2 x 10<sup>6</sup> UI", "IMUKIN 2 x 10⁶ UI"),
        ("H<sub>2</sub>O &amp; CO<sub>2</sub>", "H₂O & CO₂"),
        (
            "Compte tenu :<br>¿ des données<br>? Tumeurs<br>-¿chez le sujet",
            "Compte tenu :\n• des données\n• Tumeurs\n- chez le sujet",
        ),
        ("l¿enfant, l¿¿il, un ¿dème, compte¿: fin.<br>¿", "l’enfant, l’œil, un œdème, compte\u00a0: fin."),
        ("DOLIPRANE 1000 mg, comprimé", "DOLIPRANE 1000 mg, comprimé"),
        ("Quoi ? Rien", "Quoi ? Rien"),
        (None, None),
    ],
)
def test_html_to_text(raw, text):
    from datamed.core.text import html_to_text

    assert html_to_text(raw) == text


def test_substance_codes_keep_leading_zeros(shared_dir):
    compo = read_bdpm_file(shared_dir / "bdpm/2026-01-27/CIS_COMPO_bdpm.txt").frame
    assert compo["code_substance"].str.starts_with("0").any()
    assert compo.filter(pl.col("code_substance") == "02202")["denomination_substance"][0] == "PARACÉTAMOL"


# --- hand-made input --------------------------------------------------------------


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_malformed_lines_are_rejected_with_reason(tmp_path):
    lines = [
        "60000001\tGENE 1 mg, comprimé\tcomprimé\torale\tAutorisation active\tProcédure nationale\tCommercialisée\t01/02/2003\t\t\t LABO\tNon",
        "6A000002\tBAD CIS\tcomprimé\torale\tAutorisation active\tProcédure nationale\tCommercialisée\t01/02/2003\t\t\t LABO\tNon",
        "60000003\ttoo few fields",
        "",
        "60000004\tBAD DATE\tcomprimé\torale\tAutorisation active\tProcédure nationale\tCommercialisée\t31/02/2003\t\t\t LABO\tNon",
        "60000005\tTAB\tIN NAME, comprimé\tcomprimé\torale\tAutorisation active\tProcédure nationale\tCommercialisée\t01/02/2003\t\t\t LABO\tOui",
    ]
    path = write(tmp_path, "CIS_bdpm.txt", "\r\n".join(lines).encode("cp1252") + b"\r\n")
    result = read_bdpm_file(path)
    assert result.n_lines == 5
    assert result.frame["cis"].to_list() == ["60000001", "60000005"]
    assert result.frame["denomination"][1] == "TAB IN NAME, comprimé"
    reasons = {r.line: r.reason for r in result.rejects}
    assert set(reasons) == {2, 3, 5}
    assert "invalid code '6A000002' in column cis" in reasons[2]
    assert "expected 12 tab-separated fields, found 2" in reasons[3]
    assert "unparseable date '31/02/2003'" in reasons[5]


def test_status_code_outside_range_is_rejected(tmp_path):
    rows = [
        "60000001\t\t1\tRupture de stock\t01/01/2025\t02/01/2025\t\thttps://ansm.sante.fr/x",
        "60000002\t\t7\tInconnu\t01/01/2025\t02/01/2025\t\thttps://ansm.sante.fr/y",
    ]
    path = write(tmp_path, "CIS_CIP_Dispo_Spec.txt", ("\r\n".join(rows) + "\r\n").encode("cp1252"))
    result = read_bdpm_file(path)
    assert result.frame.height == 1 and result.rejects[0].line == 2
    assert "column code_statut" in result.rejects[0].reason


def test_last_line_without_line_break_is_rejected_as_truncated(tmp_path):
    """A file cut inside its last field parses fine but is incomplete: the line is rejected, listed."""
    rows = ["60000001\tprescription hospitalière", "60000002\tprescription réservée aux spéciali"]
    path = write(tmp_path, "CIS_CPD_bdpm.txt", "\r\n".join(rows).encode("cp1252"))
    result = read_bdpm_file(path)
    assert result.frame["cis"].to_list() == ["60000001"]
    assert [(r.line, r.reason) for r in result.rejects] == [
        (2, "last line has no line break: the file looks truncated")
    ]


def test_utf8_file_cut_inside_its_last_character_stays_utf8():
    text, enc = decode("CAFÉ\nthé".encode()[:-1])
    assert (text, enc) == ("CAFÉ\nth\ufffd", "utf-8")


def test_utf16_file_is_refused_with_a_clear_message(tmp_path):
    path = write(tmp_path, "CIS_bdpm.txt", "60000001\tDOLIPRANE\r\n".encode("utf-16"))
    with pytest.raises(RawFileError, match="UTF-16"):
        read_bdpm_file(path)


def test_whole_file_errors(tmp_path):
    with pytest.raises(RawFileError, match="empty"):
        read_bdpm_file(write(tmp_path, "CIS_bdpm.txt", b"\r\n\r\n"))
    with pytest.raises(RawFileError, match="line 2: binary content"):
        read_bdpm_file(write(tmp_path, "CIS_MITM.txt", b"60000001\tA\tB\tC\n\x00\x01\x02garbage"))


def test_decode_utf8_else_cp1252_including_undefined_bytes():
    assert decode("é’".encode()) == ("é’", "utf-8")
    assert decode("é’".encode("cp1252")) == ("é’", "cp1252")
    text, enc = decode(b"a\x81b\x92")  # 0x81 is undefined in cp1252
    assert enc == "cp1252" and text == "a\x81b’"


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("24,34", 24.34),
        ("1,195,27", 1195.27),
        ("66,596,20", 66596.2),
        ("2", 2.0),
        ("", None),
        ("1,234,567,89", 1234567.89),
    ],
)
def test_parse_price(raw, expected):
    assert parse_price(raw) == (pytest.approx(expected) if expected is not None else None)


@pytest.mark.parametrize("raw", ["abc", "1,2,3", ",50", "12.5.3", "1,23,45"])
def test_parse_price_rejects_garbage(raw):
    with pytest.raises(ValueError):
        parse_price(raw)


def test_parse_rates():
    assert parse_rates("65%") == [65]
    assert parse_rates("65 %;100%") == [65, 100]
    assert parse_rates("") == []
    with pytest.raises(ValueError):
        parse_rates("150%")
