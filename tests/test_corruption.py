"""Corruption corpus: damaged copies of the real BDPM files, built end to end.

Each test writes a raw folder in tmp_path laid out like shared/data, with the
untouched files symlinked to the real ones and one file corrupted, builds it,
and asserts that the damage is caught -- by the build (``BuildError`` naming
the file and line, previous prepared data kept) or by the quality checks
(``qualite`` / ``qualite_echecs`` naming the key and the source line) -- and
that nothing is lost: for every raw file, the rows kept plus the rejected lines
equal its non-empty lines, line number by line number.

To keep the runtime low the raw folder is reduced to the BDPM files of the
newest snapshot (2026-01-27; without CIS_CIP_Dispo_Spec, so the shortage-risk
model is not trained), CIS_bdpm / CIS_CIP_bdpm of the snapshot before
(2022-06-02, which the evolution checks compare with) and atc/. Counts, line
numbers and snapshot dates are read from the real files, not hard-coded.
"""

from __future__ import annotations

import codecs
import functools
import json
import os
import random
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import polars as pl
import pytest

from datamed.core.config import REPO_ROOT
from datamed.pipeline.build import BuildError, build
from datamed.pipeline.quality import MAX_FAILURES

# the newest BDPM snapshot and the one before (2026-01-27 and 2022-06-02 in shared/data)
SHARED = Path(os.environ.get("DATAMED_SHARED", REPO_ROOT.parent / "shared" / "data")).resolve()


def _snapshots_with(name: str) -> list[str]:
    bdpm = SHARED / "bdpm"
    if not bdpm.is_dir():
        return []
    dated = (p.name for p in bdpm.iterdir() if re.fullmatch(r"\d{4}-\d{2}-\d{2}", p.name) and (p / name).is_file())
    return sorted(dated, reverse=True)


_SNAPS = _snapshots_with("CIS_bdpm.txt") or ["2026-01-27"]
NEW = f"bdpm/{_SNAPS[0]}"
OLD = f"bdpm/{_SNAPS[1]}" if len(_SNAPS) > 1 else None
_NEW_FILES = (
    "CIS_bdpm.txt",
    "CIS_CIP_bdpm.txt",
    "CIS_COMPO_bdpm.txt",
    "CIS_GENER_bdpm.txt",
    "CIS_CPD_bdpm.txt",
    "CIS_MITM.txt",
)
_new = tuple(n for n in _NEW_FILES if (SHARED / NEW / n).is_file())
REDUCED = {NEW: _new}
if OLD:
    REDUCED[OLD] = tuple(n for n in ("CIS_bdpm.txt", "CIS_CIP_bdpm.txt") if n in _new and (SHARED / OLD / n).is_file())
CIS_BDPM = f"{NEW}/CIS_bdpm.txt"
CIS_CIP = f"{NEW}/CIS_CIP_bdpm.txt"
CIS_CPD = f"{NEW}/CIS_CPD_bdpm.txt"
CIS_GENER = f"{NEW}/CIS_GENER_bdpm.txt"
CIS_MITM = f"{NEW}/CIS_MITM.txt"
NNBSP = "\u202f"  # thousands separator of the French counts in the details
SEED = 20260127


def need(*rels: str) -> None:
    """Skip when a file the corruption needs is not in the reduced raw folder."""
    present = {f"{snap}/{name}" for snap, names in REDUCED.items() for name in names}
    missing = [r for r in rels if r not in present]
    if missing:
        pytest.skip(f"not in the shared data: {missing}")


# --- an independent reading of the raw files ------------------------------------------


def _c1(err: UnicodeDecodeError):
    # bytes that Windows-1252 leaves undefined become the C1 code point of the same value
    return "".join(chr(b) for b in err.object[err.start : err.end]), err.end


codecs.register_error("test_corruption_c1", _c1)


def decode(data: bytes) -> str:
    if data.startswith(codecs.BOM_UTF8):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="test_corruption_c1")


def nonempty_lines(data: bytes) -> dict[int, str]:
    """{line number: text} of the non-empty lines (split on \\n only, CRs dropped)."""
    out = {}
    for number, line in enumerate(decode(data).split("\n"), start=1):
        line = line.replace("\r", " ")
        if line.strip():
            out[number] = line
    return out


def byte_lines(data: bytes) -> list[bytes]:
    """The file split on \\n, bytes untouched (line i+1 is element i)."""
    return data.split(b"\n")


def fields_of(line: bytes) -> list[bytes]:
    return line.rstrip(b"\r").split(b"\t")


def with_fields(line: bytes, fields: list[bytes]) -> bytes:
    return b"\t".join(fields) + (b"\r" if line.endswith(b"\r") else b"")


def ean13_check_digit(first12: str) -> int:
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(first12))
    return (10 - total % 10) % 10


def french_int(n: int) -> str:
    return f"{n:,}".replace(",", NNBSP)


def price(value: str) -> float | None:
    """'24,34' -> 24.34; '1,195,27' -> 1195.27 (the last comma is the decimal one)."""
    if not value:
        return None
    head, _, cents = value.rpartition(",")
    return float(head.replace(",", "") + "." + cents) if head else float(cents)


# --- raw folders, builds and reports ----------------------------------------------------


def real(shared_dir: Path, rel: str) -> bytes:
    need(rel)
    return (shared_dir / rel).read_bytes()


@functools.cache
def n_lines(rel: str) -> int:
    """Non-empty lines of a real file (15 799 for CIS_bdpm, 20 875 for CIS_CIP_bdpm)."""
    return len(nonempty_lines((SHARED / rel).read_bytes()))


def make_raw(root: Path, shared_dir: Path, corrupt: dict[str, bytes] | None = None) -> Path:
    """A reduced raw folder: real files symlinked, ``corrupt`` {rel path: bytes} written."""
    corrupt = dict(corrupt or {})
    raw = root / "raw"
    for snapshot, names in REDUCED.items():
        (raw / snapshot).mkdir(parents=True)
        for name in names:
            rel = f"{snapshot}/{name}"
            if rel in corrupt:
                (raw / rel).write_bytes(corrupt.pop(rel))
            else:
                (raw / rel).symlink_to(shared_dir / rel)
    assert not corrupt, f"not part of the reduced raw folder: {sorted(corrupt)}"
    (raw / "atc").symlink_to(shared_dir / "atc", target_is_directory=True)
    return raw


def folder_state(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def read_manifest(out: Path) -> dict:
    return json.loads((out / "manifest.json").read_text(encoding="utf-8"))


def check(out: Path, controle: str, jeu: str) -> dict:
    q = pl.read_parquet(out / "qualite.parquet")
    rows = q.filter((pl.col("controle") == controle) & (pl.col("jeu") == jeu)).to_dicts()
    assert len(rows) == 1, (controle, jeu, rows)
    return rows[0]


def failures(out: Path, controle: str, jeu: str) -> pl.DataFrame:
    e = pl.read_parquet(out / "qualite_echecs.parquet")
    return e.filter((pl.col("controle") == controle) & (pl.col("jeu") == jeu))


def rejects_of(out: Path, rel: str) -> pl.DataFrame:
    return pl.read_parquet(out / "rejets.parquet").filter(pl.col("file") == rel)


def source_entry(manifest: dict, rel: str) -> dict:
    entries = [s for s in manifest["sources"] if s["path"] == rel]
    assert len(entries) == 1, (rel, manifest["sources"])
    return entries[0]


def assert_nothing_lost(raw: Path, out: Path, manifest: dict) -> None:
    """For every raw file: kept rows + rejected lines == its non-empty lines.

    BDPM files are checked line number by line number against an independent
    reading of the raw bytes; the other files against the manifest and rejets.
    """
    rejets = pl.read_parquet(out / "rejets.parquet")
    # rejets lists the lines dropped and the values corrected (row kept)
    assert manifest["rejected_lines"] + manifest["corrected_values"] == rejets.height
    assert manifest["sources"], "no source in the manifest"
    for src in manifest["sources"]:
        rel = src["path"]
        mine = rejets.filter(pl.col("file") == rel)
        assert src["rows"] + src["rejected"] == src["lines"], src
        assert mine.height == src["rejected"], (rel, mine)
        if src["source"] != "BDPM":
            continue
        expected = nonempty_lines((raw / rel).read_bytes())
        assert src["lines"] == len(expected), rel
        dataset = pl.read_parquet(out / f"{src['dataset']}.parquet")
        kept = dataset["source_line"].to_list()
        assert len(kept) == src["rows"] == manifest["datasets"][src["dataset"]]["rows"], rel
        rejected = mine["line"].to_list()
        assert sorted(kept + rejected) == sorted(expected), f"{rel}: lines lost or counted twice"


def assert_refused(raw: Path, out: Path, *expected: str) -> str:
    """The build fails with a message holding ``expected``; ``out`` is untouched."""
    before = folder_state(out)
    built_at = read_manifest(out)["built_at"]
    with pytest.raises(BuildError) as err:
        build(raw, out)
    message = str(err.value)
    for part in expected:
        assert part in message, (part, message)
    assert folder_state(out) == before
    assert read_manifest(out)["built_at"] == built_at
    assert [p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}")] == []  # no temp left
    return message


@pytest.fixture(scope="module")
def reference(shared_dir, tmp_path_factory):
    """The reduced raw folder, untouched, built once: the good previous build."""
    root = tmp_path_factory.mktemp("corruption_reference")
    raw = make_raw(root, shared_dir)
    out = root / "prepared"
    manifest = build(raw, out)
    return SimpleNamespace(raw=raw, out=out, manifest=manifest)


@pytest.fixture
def previous(reference, tmp_path) -> Path:
    """A copy of the good build: the prepared data a corrupted build must keep or compare with."""
    out = tmp_path / "prepared"
    shutil.copytree(reference.out, out)
    return out


def build_corrupted(tmp_path: Path, shared_dir: Path, corrupt: dict[str, bytes], out: Path | None = None):
    raw = make_raw(tmp_path, shared_dir, corrupt)
    out = out or tmp_path / "fresh"
    manifest = build(raw, out)
    assert_nothing_lost(raw, out, manifest)
    return raw, out, manifest


@pytest.mark.slow
def test_reference_build_loses_nothing_and_passes_the_checks_the_corpus_breaks(reference):
    assert_nothing_lost(reference.raw, reference.out, reference.manifest)
    assert source_entry(reference.manifest, CIS_BDPM)["rows"] == n_lines(CIS_BDPM)
    assert source_entry(reference.manifest, CIS_CIP)["rows"] == n_lines(CIS_CIP)
    for controle, jeu in [
        ("cis_unique", "specialites"),
        ("cip13_cle", "presentations"),
        ("libelles_mojibake", "specialites"),
        ("libelles_mojibake", "presentations"),
        ("lignes_rejetees", "specialites"),
    ]:
        assert check(reference.out, controle, jeu)["statut"] == "réussi", (controle, jeu)
    assert check(reference.out, "evolution_lignes", "specialites")["statut"] == "non applicable"  # no previous build
    if OLD:
        assert check(reference.out, "evolution_nombre_cis", "specialites")["statut"] == "réussi"


# --- 1. wrong encoding -----------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be"])
def test_utf16_catalogue_is_refused_naming_the_file(shared_dir, tmp_path, previous, encoding):
    data = decode(real(shared_dir, CIS_BDPM)).encode(encoding)
    line = data.count(b"\n", 0, data.index(b"\x00")) + 1
    raw = make_raw(tmp_path, shared_dir, {CIS_BDPM: data})
    assert_refused(raw, previous, f"{CIS_BDPM}, line {line}: UTF-16 text", "re-encode the file")
    assert line == 1


def cp1252_mojibake(data: bytes) -> bytes:
    """A file converted to UTF-8, then read back as Windows-1252 and saved as UTF-8
    again: every accent becomes two or three characters ('é' -> 'Ã©')."""
    utf8 = decode(data).encode("utf-8")
    return utf8.decode("cp1252", errors="test_corruption_c1").encode("utf-8")


SHORT_TEXT_FIELDS = {1: False, 2: False, 3: True, 4: False, 6: False, 10: True}  # CIS_bdpm field -> ";"-list


def short_text_values(line: str) -> list[str]:
    """Values of the labels libelles_mojibake reads in a CIS_bdpm line."""
    f = line.split("\t")
    out = []
    for i, is_list in SHORT_TEXT_FIELDS.items():
        parts = f[i].split(";") if is_list else [f[i]]
        out += [p.strip() for p in parts if p.strip()]
    return out


@pytest.mark.slow
def test_mojibake_catalogue_fails_the_mojibake_check_naming_the_rows(shared_dir, tmp_path, reference):
    original = nonempty_lines(real(shared_dir, CIS_BDPM))
    _, out, manifest = build_corrupted(tmp_path, shared_dir, {CIS_BDPM: cp1252_mojibake(real(shared_dir, CIS_BDPM))})
    src = source_entry(manifest, CIS_BDPM)
    n = n_lines(CIS_BDPM)
    assert (src["encoding"], src["lines"], src["rows"], src["rejected"]) == ("utf-8", n, n, 0)

    values = [v for line in original.values() for v in short_text_values(line)]
    with_e_acute = sum("é" in v for v in values)
    non_ascii = sum(not v.isascii() for v in values)
    assert check(reference.out, "libelles_mojibake", "specialites")["statut"] == "réussi"
    r = check(out, "libelles_mojibake", "specialites")
    assert r["statut"] == "échoué"
    assert with_e_acute <= r["n_echecs"] <= non_ascii, (with_e_acute, r["n_echecs"], non_ascii)
    f = failures(out, "libelles_mojibake", "specialites")
    assert f.height == min(r["n_echecs"], MAX_FAILURES)
    # every failure names a line whose original labels had accents, with its own CIS
    for cle, ligne in f.select("cle", "ligne").iter_rows():
        assert original[ligne].split("\t")[0] == cle
        assert not all(v.isascii() for v in short_text_values(original[ligne])), ligne
    # the first denomination with an 'é' is named with its line and the mis-decoded text
    first = next(k for k, line in original.items() if "é" in line.split("\t")[1])
    cis = original[first].split("\t")[0]
    hit = f.filter((pl.col("cle") == cis) & (pl.col("ligne") == first) & pl.col("detail").str.contains("denomination"))
    assert hit.height == 1 and "Ã©" in hit["detail"][0], hit
    examples = json.loads(r["exemples"])
    assert examples and all("cis" in e and "ligne" in e for e in examples)


@pytest.fixture(scope="module")
def line_mojibake(shared_dir, tmp_path_factory):
    """CIS_bdpm (Windows-1252) with UTF-8 accents pasted into the denomination of some
    lines, which therefore read 'Ã©' ('é') or 'Ã‰' ('É')."""
    data = real(shared_dir, CIS_BDPM)
    if data.isascii() or decode(data) == data.decode("utf-8", errors="replace"):
        pytest.skip("CIS_bdpm is not a Windows-1252 file here")
    lines = byte_lines(data)
    capital = [i + 1 for i, line in enumerate(lines) if len(fields_of(line)) > 1 and b"\xc9" in fields_of(line)[1]]
    lower = [i + 1 for i, line in enumerate(lines) if len(fields_of(line)) > 1 and b"\xe9" in fields_of(line)[1]]
    lower = [n for n in lower if n not in capital][:20]
    for n in capital + lower:
        f = fields_of(lines[n - 1])
        f[1] = f[1].replace(b"\xc9", "É".encode()) if n in capital else f[1].replace(b"\xe9", "é".encode())
        lines[n - 1] = with_fields(lines[n - 1], f)
    root = tmp_path_factory.mktemp("line_mojibake")
    _, out, manifest = build_corrupted(root, shared_dir, {CIS_BDPM: b"\n".join(lines)})
    original = nonempty_lines(data)
    cis = {n: original[n].split("\t")[0] for n in capital + lower}
    assert capital and len(lower) == 20  # 11 and 20 lines in the 2026-01-27 file
    return SimpleNamespace(out=out, manifest=manifest, capital=capital, lower=lower, cis=cis)


def flagged_denominations(out: Path) -> dict[int, str]:
    f = failures(out, "libelles_mojibake", "specialites").filter(pl.col("detail").str.contains("dans denomination"))
    return dict(zip(f["ligne"].to_list(), f["cle"].to_list()))


@pytest.mark.slow
def test_line_level_mojibake_is_flagged_with_key_and_line(line_mojibake):
    m = line_mojibake
    assert source_entry(m.manifest, CIS_BDPM)["encoding"] == "cp1252"
    flagged = flagged_denominations(m.out)
    assert {n: flagged.get(n) for n in m.lower} == {n: m.cis[n] for n in m.lower}
    assert set(flagged) <= set(m.lower) | set(m.capital)  # no false positive
    assert check(m.out, "libelles_mojibake", "specialites")["n_echecs"] >= len(m.lower)


@pytest.mark.slow
def test_line_level_mojibake_of_capital_accents_is_flagged(line_mojibake):
    m = line_mojibake
    flagged = flagged_denominations(m.out)
    assert {n: flagged.get(n) for n in m.capital} == {n: m.cis[n] for n in m.capital}


# --- 2. truncated files ------------------------------------------------------------------


@pytest.mark.slow
def test_file_cut_in_the_middle_of_a_line_rejects_that_line_only(shared_dir, tmp_path):
    data = real(shared_dir, CIS_BDPM)
    lines = byte_lines(data)
    cut_line = n_lines(CIS_BDPM) - 9  # the file stops inside the denomination of this line
    partial = lines[cut_line - 1][: len(fields_of(lines[cut_line - 1])[0]) + 1 + 10]
    assert partial.count(b"\t") == 1
    truncated = b"\n".join(lines[: cut_line - 1]) + b"\n" + partial
    _, out, manifest = build_corrupted(tmp_path, shared_dir, {CIS_BDPM: truncated})
    src = source_entry(manifest, CIS_BDPM)
    assert (src["lines"], src["rows"], src["rejected"]) == (cut_line, cut_line - 1, 1)
    rej = rejects_of(out, CIS_BDPM).to_dicts()
    assert rej == [
        {
            "file": CIS_BDPM,
            "line": cut_line,
            "reason": "last line has no line break: the file looks truncated",
            "raw": nonempty_lines(truncated)[cut_line],
        }
    ]
    assert pl.read_parquet(out / "specialites.parquet")["source_line"].max() == cut_line - 1
    r = check(out, "lignes_rejetees", "specialites")
    assert (r["statut"], r["n_verifies"], r["n_echecs"]) == ("échoué", cut_line, 1)
    cis = fields_of(lines[cut_line - 1])[0].decode()
    assert failures(out, "lignes_rejetees", "specialites").select("cle", "ligne").rows() == [(cis, cut_line)]


@pytest.mark.slow
def test_utf8_file_cut_inside_a_character_rejects_only_that_line(shared_dir, tmp_path, reference):
    """CIS_CIP_bdpm is UTF-8: cut after the first byte of an 'é', the file stays UTF-8 (the cut
    character becomes U+FFFD) instead of turning every accent into mojibake; the partial
    line is rejected as truncated and no label is garbled."""
    data = real(shared_dir, CIS_CIP)
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        pytest.skip("CIS_CIP_bdpm is not a UTF-8 file here")
    lines = byte_lines(data)
    n = n_lines(CIS_CIP)
    cut_line = next(k for k in range(n // 2, n) if "é".encode() in fields_of(lines[k - 1])[2])
    line = lines[cut_line - 1]
    partial = line[: line.index("é".encode()) + 1]
    truncated = b"\n".join(lines[: cut_line - 1]) + b"\n" + partial
    _, out, manifest = build_corrupted(tmp_path, shared_dir, {CIS_CIP: truncated})
    src = source_entry(manifest, CIS_CIP)
    assert (src["lines"], src["rows"], src["rejected"]) == (cut_line, cut_line - 1, 1)
    assert src["encoding"] == "utf-8"
    rej = rejects_of(out, CIS_CIP)
    assert rej["line"].to_list() == [cut_line]
    assert rej["reason"][0] == "last line has no line break: the file looks truncated"
    assert rej["raw"][0].endswith("\ufffd")
    assert check(out, "libelles_mojibake", "presentations")["statut"] == "réussi"
    labels = pl.read_parquet(out / "presentations.parquet")["libelle_presentation"]
    reference_labels = pl.read_parquet(reference.out / "presentations.parquet")["libelle_presentation"]
    assert labels.to_list() == reference_labels.head(cut_line - 1).to_list()


def test_file_cut_inside_its_last_field_is_reported(shared_dir, tmp_path):
    rel = CIS_CPD
    lines = byte_lines(real(shared_dir, rel))
    cut_line = next(
        k for k in range(1000, len(lines)) if len(fields_of(lines[k - 1])) == 2 and len(fields_of(lines[k - 1])[1]) > 40
    )
    full = lines[cut_line - 1].rstrip(b"\r")
    partial = full[: len(full) - 20]
    assert partial.count(b"\t") == 1  # cut inside the condition text
    _, out, manifest = build_corrupted(tmp_path, shared_dir, {rel: b"\n".join(lines[: cut_line - 1]) + b"\n" + partial})
    assert rejects_of(out, rel)["line"].to_list() == [cut_line]


def pct(change: float) -> str:
    return f"{100 * change:+.1f}".replace(".", ",") + " %"


@pytest.mark.slow
def test_file_truncated_to_half_its_lines_fails_the_evolution_checks(shared_dir, tmp_path, previous, reference):
    if not OLD:
        pytest.skip("a single BDPM snapshot: no snapshot comparison")
    data = real(shared_dir, CIS_BDPM)
    lines = byte_lines(data)
    n = n_lines(CIS_BDPM)
    assert len(nonempty_lines(b"\n".join(lines[: n // 2]))) == n // 2  # no blank line in the first half
    kept = n // 2
    half = b"\n".join(lines[:kept]) + b"\n"
    _, out, manifest = build_corrupted(tmp_path, shared_dir, {CIS_BDPM: half}, out=previous)
    src = source_entry(manifest, CIS_BDPM)
    assert (src["lines"], src["rows"], src["rejected"]) == (kept, kept, 0)

    # against the previous build
    r = check(out, "evolution_lignes", "specialites")
    assert r["statut"] == "échoué"
    f = failures(out, "evolution_lignes", "specialites").to_dicts()
    assert len(f) == 1 and f[0]["cle"] == "specialites"
    assert f[0]["detail"] == f"{french_int(n)} → {french_int(kept)} lignes ({pct((kept - n) / n)}), seuil ±10 %"
    assert pct((kept - n) / n) == "-50,0 %"
    # against the previous raw snapshot (2022-06-02)
    old_cis = {line.split("\t")[0] for line in nonempty_lines(real(shared_dir, f"{OLD}/CIS_bdpm.txt")).values()}
    new_cis = {line.split("\t")[0] for line in nonempty_lines(half).values()}
    r = check(out, "evolution_nombre_cis", "specialites")
    assert r["statut"] == "échoué" and r["fichier"] == f"{OLD}/CIS_bdpm.txt, {NEW}/CIS_bdpm.txt"
    detail = failures(out, "evolution_nombre_cis", "specialites")["detail"].to_list()
    drop = (len(old_cis) - len(new_cis)) / len(old_cis)
    assert drop > 0.4
    old_date, new_date = OLD.split("/")[1], NEW.split("/")[1]
    assert detail == [
        f"CIS : {french_int(len(old_cis))} au {old_date}, {french_int(len(new_cis))} au {new_date} ({pct(-drop)}), seuil −5 %"
    ]
    gone = old_cis - new_cis
    assert check(out, "evolution_cis_disparus", "specialites")["statut"] == "échoué"
    detail = failures(out, "evolution_cis_disparus", "specialites")["detail"][0]
    assert detail.startswith(f"{french_int(len(gone))} CIS disparus sur {french_int(len(old_cis))} (")
    assert f"entre le {old_date} et le {new_date}, seuil 5 %" in detail
    # the presentations of the CIS cut away are orphans, each named with its line
    cip = nonempty_lines(real(shared_dir, CIS_CIP))
    orphans = {k for k, line in cip.items() if line.split("\t")[0] not in new_cis}
    r = check(out, "cis_dans_specialites", "presentations")
    assert r["n_echecs"] == len(orphans) > check(reference.out, "cis_dans_specialites", "presentations")["n_echecs"]
    f = failures(out, "cis_dans_specialites", "presentations")
    assert f.height == min(len(orphans), MAX_FAILURES) and set(f["ligne"].to_list()) <= orphans
    assert all(cip[k].split("\t")[0] == c for c, k in f.select("cle", "ligne").iter_rows())


# --- 3. duplicated CIS -----------------------------------------------------------------------


@pytest.mark.slow
def test_duplicated_cis_line_fails_cis_unique_naming_both_lines(shared_dir, tmp_path, reference):
    lines = byte_lines(real(shared_dir, CIS_BDPM))
    n = n_lines(CIS_BDPM)
    dup = n // 3
    lines.insert(dup, lines[dup - 1])  # the copy is line dup + 1
    _, out, manifest = build_corrupted(tmp_path, shared_dir, {CIS_BDPM: b"\n".join(lines)})
    assert source_entry(manifest, CIS_BDPM)["rows"] == n + 1
    cis = fields_of(lines[dup - 1])[0].decode()
    assert check(reference.out, "cis_unique", "specialites")["statut"] == "réussi"
    r = check(out, "cis_unique", "specialites")
    assert (r["statut"], r["n_verifies"], r["n_echecs"]) == ("échoué", n + 1, 2)
    f = failures(out, "cis_unique", "specialites").sort("ligne")
    assert f.select("cle", "ligne", "detail").rows() == [
        (cis, dup, f"cis présent 2 fois (première occurrence ligne {dup})"),
        (cis, dup + 1, f"cis présent 2 fois (première occurrence ligne {dup})"),
    ]
    assert json.loads(r["exemples"])[0] == {
        "cis": cis,
        "ligne": dup,
        "detail": f"cis présent 2 fois (première occurrence ligne {dup})",
    }


# --- 4. broken references --------------------------------------------------------------------


@pytest.mark.slow
def test_presentations_of_unknown_cis_fail_the_integrity_check(shared_dir, tmp_path, reference):
    known = {line.split("\t")[0] for line in nonempty_lines(real(shared_dir, CIS_BDPM)).values()}
    lines = byte_lines(real(shared_dir, CIS_CIP))
    n = n_lines(CIS_CIP)
    planted = {100: "99999901", n // 4: "99999902", n - 5: "99999903"}
    assert not set(planted.values()) & known
    for k, cis in planted.items():
        f = fields_of(lines[k - 1])
        f[0] = cis.encode()
        lines[k - 1] = with_fields(lines[k - 1], f)
    _, out, manifest = build_corrupted(tmp_path, shared_dir, {CIS_CIP: b"\n".join(lines)})
    assert source_entry(manifest, CIS_CIP)["rows"] == n
    before = check(reference.out, "cis_dans_specialites", "presentations")["n_echecs"]
    r = check(out, "cis_dans_specialites", "presentations")
    assert r["statut"] == "échoué" and r["n_echecs"] == before + len(planted)
    f = failures(out, "cis_dans_specialites", "presentations")
    for k, cis in planted.items():
        rows = f.filter(pl.col("cle") == cis).select("ligne", "detail").rows()
        assert rows == [(k, f"cis {cis} absent de : spécialités (CIS_bdpm)")]


# --- 5. invalid CIP13 check digit -------------------------------------------------------------


@pytest.mark.slow
def test_wrong_cip13_check_digit_fails_cip13_cle(shared_dir, tmp_path, reference):
    lines = byte_lines(real(shared_dir, CIS_CIP))
    n = next(
        k
        for k in range(1234, len(lines))
        if (c := fields_of(lines[k - 1])[6].decode()) and int(c[12]) == ean13_check_digit(c[:12])
    )
    f = fields_of(lines[n - 1])
    good = f[6].decode()
    right = ean13_check_digit(good[:12])
    wrong = (right + 1) % 10
    bad = good[:12] + str(wrong)
    f[6] = bad.encode()
    lines[n - 1] = with_fields(lines[n - 1], f)
    _, out, manifest = build_corrupted(tmp_path, shared_dir, {CIS_CIP: b"\n".join(lines)})
    assert source_entry(manifest, CIS_CIP)["rows"] == n_lines(CIS_CIP)  # a well-formed code: kept, flagged
    assert check(reference.out, "cip13_cle", "presentations")["statut"] == "réussi"
    r = check(out, "cip13_cle", "presentations")
    assert (r["statut"], r["n_verifies"], r["n_echecs"]) == ("échoué", n_lines(CIS_CIP), 1)
    assert failures(out, "cip13_cle", "presentations").select("cle", "ligne", "detail").rows() == [
        (bad, n, f"clé EAN-13 attendue {right}, trouvée {wrong}")
    ]
    assert check(out, "cip7_cip13_coherence", "presentations")["statut"] == "réussi"


# --- 6. shuffled columns -------------------------------------------------------------------------


def swap_columns(data: bytes, i: int, j: int) -> bytes:
    out = []
    for line in byte_lines(data):
        if line.strip():
            f = fields_of(line)
            f[i], f[j] = f[j], f[i]
            line = with_fields(line, f)
        out.append(line)
    return b"\n".join(out)


@pytest.mark.slow
@pytest.mark.parametrize(
    "rel, i, j, column",
    [(CIS_BDPM, 0, 1, "cis"), (CIS_CIP, 1, 6, "cip7")],
    ids=["CIS_bdpm-cis-denomination", "CIS_CIP_bdpm-cip7-cip13"],
)
def test_swapped_columns_are_refused_and_previous_data_kept(shared_dir, tmp_path, previous, rel, i, j, column):
    data = real(shared_dir, rel)
    n = n_lines(rel)
    first_value = nonempty_lines(data)[1].split("\t")[j]
    raw = make_raw(tmp_path, shared_dir, {rel: swap_columns(data, i, j)})
    assert_refused(
        raw,
        previous,
        f"{rel}, line 1: {n} of {n} lines are malformed (invalid code {first_value[:40]!r} in column {column})",
        "the file looks corrupted",
    )


@pytest.mark.slow
def test_swapped_price_columns_fail_the_price_order_check(shared_dir, tmp_path, reference):
    data = real(shared_dir, CIS_CIP)
    _, out, _ = build_corrupted(tmp_path, shared_dir, {CIS_CIP: swap_columns(data, 9, 10)})
    both = {}
    for n, line in nonempty_lines(data).items():
        f = line.split("\t")
        med, pub = price(f[9]), price(f[10])
        if med is not None and pub is not None:
            both[n] = (f[6], med, pub)
    inverted = {n for n, (_, med, pub) in both.items() if pub > med}  # after the swap: public < medicine
    r = check(out, "prix_public_coherent", "presentations")
    assert r["statut"] == "échoué" and r["n_verifies"] == len(both) and r["n_echecs"] == len(inverted)
    assert (
        r["n_echecs"] > 0.9 * r["n_verifies"]
        and check(reference.out, "prix_public_coherent", "presentations")["n_echecs"] < 5
    )
    f = failures(out, "prix_public_coherent", "presentations")
    assert f.height == min(len(inverted), MAX_FAILURES) and set(f["ligne"].to_list()) <= inverted
    assert all(both[k][0] == cle for cle, k in f.select("cle", "ligne").iter_rows())


@pytest.mark.slow
def test_swapped_status_columns_are_caught(shared_dir, tmp_path, reference):
    _, out, _ = build_corrupted(tmp_path, shared_dir, {CIS_BDPM: swap_columns(real(shared_dir, CIS_BDPM), 4, 6)})
    q_ref = pl.read_parquet(reference.out / "qualite.parquet").filter(pl.col("jeu") == "specialites")
    q = pl.read_parquet(out / "qualite.parquet").filter(pl.col("jeu") == "specialites")
    passed_before = set(q_ref.filter(pl.col("statut") == "réussi")["controle"])
    assert passed_before & set(q.filter(pl.col("statut") == "échoué")["controle"])


# --- 7. empty files ---------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(
    "rel, content",
    [(CIS_BDPM, b""), (CIS_GENER, b""), (CIS_BDPM, b"\r\n\r\n\r\n")],
    ids=["CIS_bdpm-0-byte", "CIS_GENER_bdpm-0-byte", "CIS_bdpm-blank-lines"],
)
def test_empty_file_is_refused_naming_it(shared_dir, tmp_path, previous, rel, content):
    """Even an optional child file (CIS_GENER) that is present but empty stops the build:
    an empty download is not mistaken for a file without rows."""
    need(rel)
    raw = make_raw(tmp_path, shared_dir, {rel: content})
    message = assert_refused(raw, previous, f"{rel}: the file is empty")
    assert message == f"{rel}: the file is empty"


# --- 8. binary garbage -------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("rel", [CIS_BDPM, CIS_CIP, CIS_MITM], ids=["CIS_bdpm", "CIS_CIP_bdpm", "CIS_MITM"])
def test_random_bytes_are_refused_naming_the_file_and_line(shared_dir, tmp_path, previous, rel):
    need(rel)
    data = random.Random(SEED).randbytes(64 * 1024)
    line = data.count(b"\n", 0, data.index(b"\x00")) + 1
    raw = make_raw(tmp_path, shared_dir, {rel: data})
    assert_refused(raw, previous, f"{rel}, line {line}: binary content (NUL byte): not a BDPM text file")


@pytest.mark.slow
def test_random_bytes_without_nul_are_refused_as_malformed(shared_dir, tmp_path, previous):
    data = random.Random(SEED).randbytes(64 * 1024).replace(b"\x00", b"")
    lines = nonempty_lines(data)
    raw = make_raw(tmp_path, shared_dir, {CIS_BDPM: data})
    assert_refused(
        raw,
        previous,
        f"{CIS_BDPM}, line {min(lines)}: {len(lines)} of {len(lines)} lines are malformed (expected 12 tab-separated fields",
        "the file looks corrupted",
    )


@pytest.mark.slow
def test_one_line_garbage_catalogue_is_refused(shared_dir, tmp_path, previous):
    page = b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body>502</body></html>\r\n"
    raw = make_raw(tmp_path, shared_dir, {CIS_BDPM: page})
    assert_refused(raw, previous, f"{CIS_BDPM}, line 1")


# --- the message reaches the command line ----------------------------------------------------------


@pytest.mark.slow
def test_cli_build_of_a_corrupted_file_exits_1_keeping_previous_data(shared_dir, tmp_path, previous):
    raw = make_raw(tmp_path, shared_dir, {CIS_BDPM: swap_columns(real(shared_dir, CIS_BDPM), 0, 1)})
    before = folder_state(previous)
    done = subprocess.run(
        [sys.executable, "-m", "datamed", "build", "--raw", str(raw), "--out", str(previous)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 1, done.stderr
    assert "previous prepared data kept" in done.stderr
    n = n_lines(CIS_BDPM)
    assert f"{CIS_BDPM}, line 1: {n} of {n} lines are malformed" in done.stderr
    assert "looks corrupted" in done.stderr
    assert folder_state(previous) == before
