"""The sites source files: which file is which source (``SPECS``), the newest
snapshot of each (``discover``, ``snapshot_of``), and the CSV reader that keeps
every value a string and turns malformed records into rejects (``read_csv``)."""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from datamed.datasets import DS
from datamed.sources.textfile import MAX_RAW_CHARS, Reject, decode


@dataclass(frozen=True)
class SourceSpec:
    key: str
    pattern: re.Pattern
    dataset: DS
    label: str  # short source label
    prefix: str  # site_id prefix
    required: tuple[str, ...]


SPECS = (
    SourceSpec(
        "irep",
        re.compile(r"^irep_.*pharma.*\.csv$", re.I),
        DS.SITES,
        "IREP",
        "irep",
        (
            "identifiant_irep",
            "nom_etablissement",
            "adresse",
            "code_postal",
            "commune",
            "departement",
            "code_ape",
            "libelle_ape",
            "latitude",
            "longitude",
        ),
    ),
    SourceSpec(
        "fda_france",
        re.compile(r"^fda_decrs_france_establishments_.*\.csv$", re.I),
        DS.SITES,
        "FDA DECRS",
        "fda",
        (
            "fei_number",
            "duns_number",
            "firm_name",
            "address",
            "operations",
            "postal_code",
            "city_as_written",
            "latitude_approx",
            "longitude_approx",
        ),
    ),
    SourceSpec(
        "santefr",
        re.compile(r"^pharmacies_.*santefr.*\.csv$", re.I),
        DS.SITES,
        "Santé.fr",
        "santefr",
        ("finess_et", "adresse_voie_1", "code_postal", "commune", "latitude", "longitude"),
    ),
    SourceSpec(
        "sirene",
        re.compile(r"^pharmacies_.*sirene.*\.csv$", re.I),
        DS.SITES,
        "SIRENE",
        "sirene",
        (
            "activitePrincipaleEtablissement",
            "typeVoieEtablissement",
            "libelleVoieEtablissement",
            "libelleCommuneEtablissement",
            "codeCommuneEtablissement",
        ),
    ),
    SourceSpec(
        "fda_world",
        re.compile(r"^fda_decrs_drug_establishments_.*\.csv$", re.I),
        DS.SITES_PAYS,
        "FDA DECRS",
        "",
        ("country_iso3", "country_name", "operations"),
    ),
    SourceSpec(
        "fda_country",
        re.compile(r"^fda_decrs_establishments_by_country_.*\.csv$", re.I),
        DS.SITES_PAYS,
        "FDA DECRS",
        "",
        ("country_iso3", "country_name", "n_establishments", "n_api_manufacture", "n_manufacture"),
    ),
)
LAPOSTE_FILE = "laposte_hexasmal.csv"


def snapshot_of(name: str) -> str | None:
    """ "..._2025-08.csv" -> "2025-08"; "irep_2015_..." -> "2015"; else None."""
    m = re.search(r"(?<!\d)((?:19|20)\d{2})(?:-(0[1-9]|1[0-2]))?(?!\d)", name)
    if not m:
        return None
    return f"{m.group(1)}-{m.group(2)}" if m.group(2) else m.group(1)


@dataclass
class CsvTable:
    rel: str
    header: list[str]
    records: list[tuple[int, dict[str, str], str]]  # (line, values, raw text)
    rejects: list[Reject]
    encoding: str
    n_records: int  # data records read (kept in ``records`` or rejected)


def read_csv(path: Path, rel: str, required: tuple[str, ...]) -> CsvTable:
    """Read a header + RFC-4180 CSV, every value a stripped string. A record
    with the wrong number of fields becomes a reject; an empty file, a file with
    no data row or without a required column raises ValueError naming it."""
    data = path.read_bytes()
    text, encoding = decode(data)
    if not text.strip():
        raise ValueError(f"{rel}: empty file")
    lines = re.split(r"\r\n|\r|\n", text)  # as io.StringIO(newline="") counts them
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip() for h in next(reader)]
    except (StopIteration, csv.Error) as exc:
        raise ValueError(f"{rel}: unreadable header ({exc})") from exc
    missing = [c for c in required if c not in header]
    if missing:
        raise ValueError(f"{rel}: missing column(s) {', '.join(missing)} (found: {', '.join(header)})")
    records, rejects, n = [], [], 0
    start = reader.line_num + 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:  # e.g. a NUL byte or an unterminated quote
            n += 1
            rejects.append(
                Reject(
                    rel,
                    start,
                    f"unreadable CSV record ({exc})",
                    "\n".join(lines[start - 1 : start + 1])[:MAX_RAW_CHARS],
                )
            )
            start = reader.line_num + 1
            continue
        end = reader.line_num
        raw = "\n".join(lines[start - 1 : end]).rstrip("\r")
        line, start = start, end + 1
        if not row or all(not v.strip() for v in row):
            continue
        n += 1
        if len(row) != len(header):
            rejects.append(Reject(rel, line, f"expected {len(header)} fields, found {len(row)}", raw[:MAX_RAW_CHARS]))
            continue
        records.append((line, {h: v.strip() for h, v in zip(header, row)}, raw))
    if n == 0:
        raise ValueError(f"{rel}: no data row (empty file)")
    return CsvTable(rel, header, records, rejects, encoding, n)


def discover(raw: Path) -> tuple[dict[str, Path], list[str]]:
    """The newest file of each source kind in ``raw/sites`` (by name: the
    snapshot date is in it), and the older ones, ignored."""
    found: dict[str, list[Path]] = defaultdict(list)
    folder = Path(raw) / "sites"
    if folder.is_dir():
        for path in sorted(folder.iterdir()):
            if not path.is_file():
                continue
            for spec in SPECS:
                if spec.pattern.match(path.name):
                    found[spec.key].append(path)
                    break
    chosen, ignored = {}, []
    for key, paths in found.items():
        paths.sort(key=lambda p: (snapshot_of(p.name) or "", p.name))
        chosen[key] = paths[-1]
        ignored += [f"sites/{p.name} (older than {paths[-1].name})" for p in paths[:-1]]
    return chosen, ignored
