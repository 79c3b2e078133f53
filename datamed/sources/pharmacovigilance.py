"""Readers for the ANSM pharmacovigilance aggregates (BNPV cases x Open Medic exposure).

Files, laid out like ``shared/data/ansm_pharmacovigilance``::

    {sa,prod}_data_{annee,age,sexe,soclong_age,soclong_sexe,notif_age,notif_sexe}.{json,csv}

``sa_`` files are keyed by active substance, ``prod_`` files by product name;
both have the same columns. JSON files are arrays of records; CSV files (the
ANSM's export format) have a header row and ``;`` or ``,`` separators.

Every record is validated; a bad record becomes a ``Reject`` naming the file,
the record number and the reason. Every column is inspected before it is
trusted (``inspect_columns``): a column whose values make no sense is reported
as unusable and is never charted.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from datamed.core.text import normalise
from datamed.core.vocabulary import MEDDRA_SOC
from datamed.sources.textfile import Reject, decode

FILE_RE = re.compile(
    r"^(sa|prod)_data_(annee|age|sexe|soclong_age|soclong_sexe|notif_age|notif_sexe)\.(json|csv)$", re.I
)
LEVELS = {"sa": "substance", "prod": "produit"}

# canonical age classes; the source writes them as labels ("0-19 ans") in the
# *_age files and as numbers (0/20/60) in the soclong/notif files
_AGE_ALIASES = {
    "0-19 ans": "0-19",
    "0-19": "0-19",
    "0": "0-19",
    "20-59 ans": "20-59",
    "20-59": "20-59",
    "20": "20-59",
    "60 ans et plus": "60+",
    "60+": "60+",
    "60": "60+",
}
_SEX_ALIASES = {"f": "F", "femmes": "F", "femme": "F", "m": "M", "hommes": "M", "homme": "M"}

# table -> (stratum column, count columns); every table has MEDICAMENT
TABLES = {
    "annee": ("ANNEE", ("n_cas", "n_conso")),
    "age": ("AGE", ("n_cas", "n_conso")),
    "sexe": ("SEXE", ("n_cas", "n_conso")),
    "soclong_age": ("AGE", ("n_decla_eff", "n_cas")),
    "soclong_sexe": ("SEXE", ("n_decla_eff", "n_cas")),
    "notif_age": ("AGE", ("n_decla",)),
    "notif_sexe": ("SEXE", ("n_decla",)),
}


@dataclass
class SocList:
    """The 27 MedDRA System Organ Classes, French label -> (code, fr, en)."""

    by_key: dict[str, tuple[str, str, str]]

    @classmethod
    def read(cls, path: Path) -> SocList:
        text, _ = decode(path.read_bytes())
        rows = list(csv.DictReader(io.StringIO(text)))
        return cls({normalise(r["soc_name_fr"]): (r["soc_code"], r["soc_name_fr"], r["soc_name_en"]) for r in rows})

    @classmethod
    def builtin(cls) -> SocList:
        """The 27 MedDRA SOC codes and names kept in the code, for raw folders without meddra/."""

        return cls({normalise(fr): (code, fr, en) for code, en, fr in MEDDRA_SOC})

    def lookup(self, label: str) -> tuple[str, str, str] | None:
        return self.by_key.get(normalise(label))

    def frame(self) -> pl.DataFrame:
        rows = sorted(self.by_key.values())
        return pl.DataFrame(rows, schema=["soc_code", "soc_fr", "soc_en"], orient="row")


@dataclass
class PvFile:
    path: Path
    rel: str
    level: str  # substance | produit
    table: str
    fmt: str  # json | csv


@dataclass
class PvRead:
    file: PvFile
    frame: pl.DataFrame
    rejects: list[Reject] = field(default_factory=list)
    n_records: int = 0
    raw_columns: dict[str, list] = field(default_factory=dict)  # for column inspection


def discover(folder: Path, rel_prefix: str = "ansm_pharmacovigilance") -> tuple[list[PvFile], list[str]]:
    files, ignored = [], []
    for path in sorted(folder.iterdir()):
        m = FILE_RE.match(path.name)
        if not m or not path.is_file():
            ignored.append(f"{rel_prefix}/{path.name} (not a pharmacovigilance aggregate)")
            continue
        files.append(
            PvFile(
                path, f"{rel_prefix}/{path.name}", LEVELS[m.group(1).lower()], m.group(2).lower(), m.group(3).lower()
            )
        )
    return files, ignored


class PvFileError(ValueError):
    """The whole file is unusable."""


def _load_records(f: PvFile) -> list[dict]:
    data = f.path.read_bytes()
    if not data.strip():
        raise PvFileError(f"{f.rel}: the file is empty")
    if b"\x00" in data:
        raise PvFileError(f"{f.rel}: binary content (NUL byte)")
    text, _ = decode(data)
    if f.fmt == "json":
        try:
            records = json.loads(text)
        except json.JSONDecodeError as exc:
            raise PvFileError(f"{f.rel}, line {exc.lineno}: invalid JSON ({exc.msg})") from exc
        if not isinstance(records, list):
            raise PvFileError(f"{f.rel}: expected a JSON array of records")
        return records
    first = text.split("\n", 1)[0]
    sep = ";" if first.count(";") > first.count(",") else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=sep)
    return [dict(r) for r in reader]


# fields of a record that hold counts (TYP_NOTIF too: its codes equal the count in 99 %
# of the rows); a rejected record is shown without them
COUNT_FIELDS = {"n_cas", "n_conso", "n_decla", "n_decla_eff", "pour_cas_soclong", "TYP_NOTIF"}


def record_text(rec: dict) -> str:
    """A rejected record as it may be shown: its substance and stratum, never a count."""
    kept = {k: v for k, v in rec.items() if k not in COUNT_FIELDS}
    return json.dumps(kept, ensure_ascii=False)[:300]


def _count(value) -> int:
    """A non-negative integer count; raises ValueError otherwise."""
    if isinstance(value, bool) or value is None:
        raise ValueError("missing")
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError("not an integer")
        value = int(value)
    if isinstance(value, str):
        v = value.strip().replace("\u202f", "").replace(" ", "")
        if not re.fullmatch(r"-?\d+", v):
            raise ValueError("not an integer" if v else "missing")
        value = int(v)
    if not isinstance(value, int):
        raise ValueError("not an integer")
    if value < 0:
        raise ValueError("negative")
    return value


def _age(value) -> str:
    key = str(value).strip().lower() if value is not None else ""
    if key not in _AGE_ALIASES:
        raise ValueError(f"unknown age class {value!r}")
    return _AGE_ALIASES[key]


def _sex(value) -> str:
    key = str(value).strip().lower() if value is not None else ""
    if key not in _SEX_ALIASES:
        raise ValueError(f"unknown sex {value!r}")
    return _SEX_ALIASES[key]


def stratum_of(field: str, value) -> str:
    """The stratum key (as in the ei_* tables) of a source record's ANNEE, AGE or SEXE
    value; raises ValueError for a value the readers reject."""
    if field == "ANNEE":
        return str(_year(value))
    if field == "AGE":
        return _age(value)
    if field == "SEXE":
        return _sex(value)
    raise ValueError(f"not a stratum field: {field!r}")


def _year(value) -> int:
    year = _count(value)
    if not 1960 <= year <= 2100:
        raise ValueError(f"implausible year {year}")
    return year


def read_pv_file(f: PvFile, socs: SocList) -> PvRead:
    """Validate every record of one file into a typed frame."""
    records = _load_records(f)
    stratum, counts = TABLES[f.table]
    out: dict[str, list] = {"nom": [], "strate": [], "record": []}
    for c in counts:
        out[c] = []
    if "n_conso" in counts:  # the value as the file gives it, before the blanking below
        out["n_conso_source"] = []
    if f.table.startswith("soclong"):
        out.update({"soc_code": [], "pour_cas_source": []})
    if f.table.startswith("notif"):
        out["typ_notif"] = []
    raw_cols: dict[str, list] = {}
    rejects: list[Reject] = []
    for i, rec in enumerate(records, start=1):
        if not isinstance(rec, dict):
            rejects.append(Reject(f.rel, i, "record is not an object", ""))
            continue
        for k, v in rec.items():
            raw_cols.setdefault(k, []).append(v)
        try:
            name = str(rec.get("MEDICAMENT") or "").strip()
            if not name:
                raise ValueError("missing MEDICAMENT")
            if stratum == "ANNEE":
                strate = str(_year(rec.get("ANNEE")))
            elif stratum == "AGE":
                strate = _age(rec.get("AGE"))
            else:
                strate = _sex(rec.get("SEXE"))
            values = {}
            for c in counts:
                try:
                    values[c] = _count(rec.get(c))
                except ValueError as exc:
                    raise ValueError(f"{c} {exc}") from None
            soc = None
            if f.table.startswith("soclong"):
                soc = socs.lookup(str(rec.get("SOC_LONG") or ""))
                if soc is None:
                    raise ValueError(f"unknown SOC {rec.get('SOC_LONG')!r}")
                if values["n_decla_eff"] > values["n_cas"]:
                    raise ValueError("n_decla_eff greater than n_cas")
        except ValueError as exc:
            rejects.append(Reject(f.rel, i, str(exc), record_text(rec)))
            continue
        out["nom"].append(name)
        out["strate"].append(strate)
        out["record"].append(i)
        for c in counts:
            out[c].append(values[c])
        if soc is not None:
            out["soc_code"].append(soc[0])
            pct = rec.get("pour_cas_soclong")
            try:
                out["pour_cas_source"].append(float(str(pct).replace(",", ".")) if pct not in (None, "") else None)
            except ValueError:
                out["pour_cas_source"].append(None)
        if f.table.startswith("notif"):
            out["typ_notif"].append(str(rec.get("TYP_NOTIF")))
        if "n_conso" in values:
            out["n_conso_source"].append(values["n_conso"])
        if "n_conso" in values and values["n_cas"] > values["n_conso"]:
            # the case count stands; the exposure of this cell cannot be right
            out["n_conso"][-1] = None
            rejects.append(
                Reject(
                    f.rel,
                    i,
                    "cases greater than exposure: exposure set to missing for this cell, cases kept",
                    record_text(rec),
                )
            )
    schema = {"nom": pl.String, "strate": pl.String, "record": pl.Int32}
    schema.update({c: pl.Int64 for c in counts})
    if "n_conso" in counts:
        schema["n_conso_source"] = pl.Int64
    if f.table.startswith("soclong"):
        schema.update({"soc_code": pl.String, "pour_cas_source": pl.Float64})
    if f.table.startswith("notif"):
        schema["typ_notif"] = pl.String
    frame = pl.DataFrame(out, schema=schema)
    return PvRead(f, frame, rejects, len(records), raw_cols)


# --- column inspection -----------------------------------------------------------------


def inspect_columns(reads: list[PvRead]) -> list[dict]:
    """One verdict per file x column: usable, normalised, redundant or unusable."""
    report = []

    def add(f: PvFile, column: str, status: str, detail: str) -> None:
        report.append({"fichier": f.rel, "colonne": column, "statut": status, "detail": detail})

    age_encodings: dict[str, set[str]] = {}
    for r in reads:
        f, cols = r.file, r.raw_columns
        for column, values in cols.items():
            if column == "AGE":
                kinds = {"libellé" if isinstance(v, str) and not str(v).isdigit() else "nombre" for v in values}
                age_encodings.setdefault(", ".join(sorted(kinds)), set()).add(f.rel)
                add(
                    f,
                    column,
                    "normalisée",
                    f"classes d'âge codées en {' et '.join(sorted(kinds))} ; ramenées à 0-19, 20-59, 60+",
                )
            elif column == "TYP_NOTIF":
                counts = cols.get("n_decla", [])
                ints = [
                    (v, n) for v, n in zip(values, counts) if isinstance(v, int) or (isinstance(v, str) and v.isdigit())
                ]
                equal = sum(1 for v, n in ints if str(v) == str(n))
                share = equal / len(ints) if ints else 0
                if share >= 0.5:
                    add(
                        f,
                        column,
                        "inutilisable",
                        f"les codes numériques égalent le compte n_decla dans {share:.0%} des lignes "
                        "et aucune liste de codes n'est publiée : colonne jamais représentée",
                    )
                else:
                    add(f, column, "inutilisable", "codes de notificateur sans liste de référence publiée")
            elif column == "pour_cas_soclong":
                pairs = [
                    (p, d, n)
                    for p, d, n in zip(values, cols.get("n_decla_eff", []), cols.get("n_cas", []))
                    if isinstance(p, (int, float)) and isinstance(d, (int, float)) and isinstance(n, (int, float)) and n
                ]
                worst = max((abs(p - 100 * d / n) for p, d, n in pairs), default=0.0)
                add(
                    f,
                    column,
                    "redondante",
                    f"égale 100 × n_decla_eff / n_cas (écart max {worst:.2g}) : recalculée après masquage, jamais publiée telle quelle",
                )
            elif column == "SOC_LONG":
                add(f, column, "utilisable", "libellés français des 27 classes MedDRA (SOC), reliés à leur code")
            elif column in ("n_cas", "n_conso", "n_decla", "n_decla_eff"):
                detail = {
                    "n_cas": "nombre de cas (total de la substance dans les fichiers soclong)",
                    "n_conso": "consommants (Open Medic) : personnes ayant eu au moins un remboursement, comptées une fois par produit",
                    "n_decla": "nombre de déclarations",
                    "n_decla_eff": "cas ayant au moins un effet dans la classe d'organes",
                }[column]
                add(f, column, "utilisable", detail)
            else:
                add(f, column, "utilisable", "")
    if len(age_encodings) > 1:
        report.append(
            {
                "fichier": "(tous)",
                "colonne": "AGE",
                "statut": "normalisée",
                "detail": "deux codages selon les fichiers : "
                + " ; ".join(f"{k} dans {len(v)} fichier(s)" for k, v in sorted(age_encodings.items())),
            }
        )
    return report
