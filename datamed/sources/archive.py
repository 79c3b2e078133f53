"""The availability snapshot archive: every CIS_CIP_Dispo_Spec file ever fetched, kept.

The ANSM availability file is a current list, rewritten every day: its history
exists only if each fetch is kept. ``download`` (and so ``refresh``) archives
the file it fetched under ``<raw>/disponibilites/``::

    CIS_CIP_Dispo_Spec_<YYYY-MM-DD>T<HHMMSS>Z_<sha256[:12]>.txt
    SHA256SUMS          one "<sha256>  <file name>" line per archived file

Files are written once, never overwritten (a hard link of a complete temporary
copy: an interrupted write leaves no archive file). A second fetch the same day
with the same content adds nothing; with other content it adds a file, and the
build uses the day's latest.

The build reads every archived file, checks its checksum against SHA256SUMS and
its name (a file whose content changed after archiving is set aside with the
reason, never read), plus the older layout ``bdpm/<YYYY-MM-DD>/CIS_CIP_Dispo_Spec.txt``.
``span`` describes what the archive covers: first and last snapshot, count, and
the gaps longer than ``GAP_DAYS``.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

FOLDER = "disponibilites"
STEM = "CIS_CIP_Dispo_Spec"
SUMS = "SHA256SUMS"
NAME_RE = re.compile(rf"^{STEM}_(\d{{4}}-\d{{2}}-\d{{2}})T(\d{{6}})Z_([0-9a-f]{{12}})\.txt$")
GAP_DAYS = 7  # consecutive snapshots further apart than this leave a gap in the history


@dataclass(frozen=True)
class Archived:
    path: Path
    day: str  # YYYY-MM-DD (UTC date of the fetch)
    time: str  # HHMMSS
    sha256: str


@dataclass
class Listing:
    files: list[Archived] = field(default_factory=list)  # oldest first
    problems: list[str] = field(default_factory=list)  # files set aside, with the reason


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _read_sums(folder: Path) -> dict[str, str]:
    sums: dict[str, str] = {}
    path = folder / SUMS
    if not path.is_file():
        return sums
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        digest, _, name = line.strip().partition("  ")
        if name and re.fullmatch(r"[0-9a-f]{64}", digest):
            sums[name.strip()] = digest
    return sums


def list_archive(raw: Path) -> Listing:
    """The archived files whose content is intact, oldest first; the others in ``problems``."""
    folder = Path(raw) / FOLDER
    out = Listing()
    if not folder.is_dir():
        return out
    sums = _read_sums(folder)
    for path in sorted(folder.iterdir()):
        if path.name == SUMS or path.name.startswith(".") or not path.is_file():
            continue
        rel = f"{FOLDER}/{path.name}"
        m = NAME_RE.match(path.name)
        if not m:
            out.problems.append(f"{rel} (not an archived availability file name: {STEM}_<date>T<time>Z_<sha12>.txt)")
            continue
        digest = sha256(path)
        recorded = sums.get(path.name)
        if not digest.startswith(m.group(3)) or (recorded is not None and recorded != digest):
            out.problems.append(f"{rel} (checksum mismatch: the file changed after it was archived; not read)")
            continue
        if recorded is None:
            out.problems.append(f"{rel} (missing from {FOLDER}/{SUMS}; read, its name's checksum matches)")
        try:
            date.fromisoformat(m.group(1))
        except ValueError:
            out.problems.append(f"{rel} (impossible date {m.group(1)})")
            continue
        out.files.append(Archived(path, m.group(1), m.group(2), digest))
    out.files.sort(key=lambda a: (a.day, a.time))
    return out


def archive(raw: Path, source: Path, fetched_at: datetime | None = None) -> tuple[Path, bool]:
    """Keep ``source`` in the archive; return (archived path, whether a new file was written).

    Never overwrites: the same content fetched the same day is the existing file."""
    fetched_at = (fetched_at or datetime.now(UTC)).astimezone(UTC)
    folder = Path(raw) / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    digest = sha256(source)
    day = fetched_at.date().isoformat()
    for old in list_archive(raw).files:
        if old.day == day and old.sha256 == digest:
            return old.path, False
    name = f"{STEM}_{day}T{fetched_at:%H%M%S}Z_{digest[:12]}.txt"
    target = folder / name
    if target.exists():
        return target, False
    tmp = folder / f".{name}.tmp-{os.getpid()}"
    try:
        with open(source, "rb") as src, open(tmp, "wb") as out:
            while chunk := src.read(1 << 20):
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        os.link(tmp, target)  # fails if the name exists: never overwrite
    finally:
        tmp.unlink(missing_ok=True)
    with open(folder / SUMS, "a", encoding="utf-8") as sums:
        sums.write(f"{digest}  {name}\n")
        sums.flush()
        os.fsync(sums.fileno())
    return target, True


def span(days: list[str] | list[date]) -> dict:
    """First and last snapshot, count, and the gaps longer than ``GAP_DAYS`` (for the manifest)."""
    ds = sorted({d if isinstance(d, date) else date.fromisoformat(d) for d in days})
    if not ds:
        return {"first": None, "last": None, "count": 0, "gap_days": GAP_DAYS, "gaps": []}
    gaps = [
        {"after": a.isoformat(), "before": b.isoformat(), "days": (b - a).days}
        for a, b in zip(ds, ds[1:])
        if (b - a).days > GAP_DAYS
    ]
    return {
        "first": ds[0].isoformat(),
        "last": ds[-1].isoformat(),
        "count": len(ds),
        "gap_days": GAP_DAYS,
        "gaps": gaps,
    }
