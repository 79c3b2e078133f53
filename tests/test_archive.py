"""The availability snapshot archive: written once, checksummed, read whole by the build."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime, timedelta

import polars as pl
import pytest

from datamed.pipeline.build import build, discover
from datamed.sources import archive

T0 = datetime(2026, 11, 2, 5, 30, tzinfo=UTC)


def _file(tmp_path, text: str, name="src.txt"):
    path = tmp_path / name
    path.write_bytes(text.encode("cp1252"))
    return path


def test_archive_writes_once_dated_and_checksummed(tmp_path):
    raw = tmp_path / "raw"
    a = _file(tmp_path, "60000001\t\t1\tRupture de stock\t01/10/2026\t01/11/2026\t\thttps://x\r\n")
    path, new = archive.archive(raw, a, T0)
    digest = archive.sha256(a)
    assert new and path.name == f"CIS_CIP_Dispo_Spec_2026-11-02T053000Z_{digest[:12]}.txt"
    assert (raw / "disponibilites/SHA256SUMS").read_text() == f"{digest}  {path.name}\n"
    # same content, same day: the existing file, nothing written
    assert archive.archive(raw, a, T0 + timedelta(hours=3)) == (path, False)
    # other content the same day, and the same content the next day: new files
    b = _file(
        tmp_path, "60000001\t\t4\tRemise à disposition\t01/10/2026\t02/11/2026\t02/11/2026\thttps://x\r\n", "b.txt"
    )
    p2, new2 = archive.archive(raw, b, T0 + timedelta(hours=4))
    p3, new3 = archive.archive(raw, a, T0 + timedelta(days=1))
    assert new2 and new3 and len({path, p2, p3}) == 3
    listing = archive.list_archive(raw)
    assert [f.path for f in listing.files] == [path, p2, p3] and not listing.problems
    assert path.read_bytes() == a.read_bytes()  # untouched
    assert len((raw / "disponibilites/SHA256SUMS").read_text().splitlines()) == 3


def test_tampered_or_misnamed_files_are_set_aside_with_the_reason(tmp_path):
    raw = tmp_path / "raw"
    path, _ = archive.archive(raw, _file(tmp_path, "a\r\n"), T0)
    other, _ = archive.archive(raw, _file(tmp_path, "b\r\n", "b.txt"), T0 + timedelta(days=1))
    other.write_bytes(b"changed\r\n")
    (raw / "disponibilites/notes.txt").write_text("x")
    listing = archive.list_archive(raw)
    assert [f.path for f in listing.files] == [path]
    assert any("checksum mismatch" in p and other.name in p for p in listing.problems)
    assert any("notes.txt" in p and "not an archived" in p for p in listing.problems)


def test_span_and_gaps():
    days = [date(2026, 1, 1), date(2026, 1, 2), date(2026, 1, 20), date(2026, 1, 21)]
    span = archive.span(days)
    assert (span["first"], span["last"], span["count"]) == ("2026-01-01", "2026-01-21", 4)
    assert span["gaps"] == [{"after": "2026-01-02", "before": "2026-01-20", "days": 18}]
    assert archive.span([])["count"] == 0


@pytest.fixture
def archived_raw(tmp_path, shared_dir):
    """The real catalogue and availability file, plus two later archived snapshots made from
    it: one returns a product in shortage, one reopens it."""
    raw = tmp_path / "raw"
    (raw / "bdpm/2026-01-27").mkdir(parents=True)
    for name in ("CIS_bdpm.txt", "CIS_CIP_Dispo_Spec.txt"):
        shutil.copy(shared_dir / "bdpm/2026-01-27" / name, raw / "bdpm/2026-01-27")
    text = (raw / "bdpm/2026-01-27/CIS_CIP_Dispo_Spec.txt").read_bytes().decode("cp1252")
    lines = [ln for ln in text.split("\r\n") if ln]
    target = next(ln for ln in lines if ln.split("\t")[2] == "1" and not ln.split("\t")[1])
    cis, start = target.split("\t")[0], target.split("\t")[4]
    returned = target.split("\t")
    returned[2:4], returned[5:7] = ["4", "Remise à disposition"], ["05/02/2026", "05/02/2026"]
    later = [ln for ln in lines if ln != target] + ["\t".join(returned)]
    src = tmp_path / "later.txt"
    src.write_bytes(("\r\n".join(later) + "\r\n").encode("cp1252"))
    archive.archive(raw, src, datetime(2026, 2, 10, 4, 0, tzinfo=UTC))
    reopened = target.split("\t")
    reopened[5] = "20/02/2026"
    again = [ln for ln in lines if ln != target] + ["\t".join(reopened)]
    src.write_bytes(("\r\n".join(again) + "\r\n").encode("cp1252"))
    archive.archive(raw, src, datetime(2026, 3, 1, 4, 0, tzinfo=UTC))
    return raw, cis, start


def test_discover_reads_the_archive_beside_the_dated_folders(archived_raw):
    raw, _, _ = archived_raw
    found = discover(raw)
    days = [f.snapshot for f in found.files["CIS_CIP_Dispo_Spec"]]
    assert days == ["2026-03-01", "2026-02-10", "2026-01-27"]  # newest first
    # a later fetch the same day as a dated folder's copy supersedes it, said
    shutil.copy(found.files["CIS_CIP_Dispo_Spec"][0].path, raw / "x.txt")
    archive.archive(raw, raw / "x.txt", datetime(2026, 1, 27, 20, 0, tzinfo=UTC))
    (raw / "x.txt").unlink()
    found = discover(raw)
    assert len(found.files["CIS_CIP_Dispo_Spec"]) == 3
    assert any(
        i.startswith("bdpm/2026-01-27/CIS_CIP_Dispo_Spec.txt (superseded by disponibilites/") for i in found.ignored
    )


@pytest.mark.slow
def test_build_reads_every_archived_snapshot(archived_raw, tmp_path):
    raw, cis, start = archived_raw
    manifest = build(raw, tmp_path / "out")
    span = manifest["availability_archive"]
    assert (span["first"], span["last"], span["count"]) == ("2026-01-27", "2026-03-01", 3)
    assert [g["days"] for g in span["gaps"]] == [14, 19]
    dispo = pl.read_parquet(tmp_path / "out/disponibilites.parquet")
    assert dispo["snapshot"].n_unique() == 3
    eps = pl.read_parquet(tmp_path / "out/ruptures_episodes.parquet").filter(
        (pl.col("cis") == cis) & pl.col("cip13").is_null()
    )
    # returned on 05/02, reopened: the new episode is current, the old one ended
    assert eps.sort("premiere_vue")["issue"].to_list() == ["remise", None]
    assert eps.filter(pl.col("en_cours")).height == 1
    # a corrupted older archived snapshot is set aside, said, and the build goes on
    bad = sorted((raw / "disponibilites").glob("CIS_CIP_Dispo_Spec_2026-02-10*"))[0]
    bad.chmod(0o644)
    bad.write_bytes(b"\xff" * 10)
    manifest = build(raw, tmp_path / "out2")
    assert manifest["availability_archive"]["count"] == 2
    assert any("checksum mismatch" in i for i in manifest["ignored"])
    # an unreadable older snapshot (dated folder) is set aside too; the newest must be readable
    (raw / "bdpm/2025-12-01").mkdir()
    (raw / "bdpm/2025-12-01/CIS_CIP_Dispo_Spec.txt").write_bytes(b"not\ta\tvalid\tline\r\n" * 10)
    manifest = build(raw, tmp_path / "out3")
    assert manifest["availability_archive"]["count"] == 2
    assert any(
        i.startswith("bdpm/2025-12-01/CIS_CIP_Dispo_Spec.txt (unreadable older snapshot") for i in manifest["ignored"]
    )
