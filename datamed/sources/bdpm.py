"""Readers for every BDPM file: specs, typing and validation.

Each file is described by a ``FileSpec`` (official column order, the free-text
column that may hide tabs, and a type per column). ``read_bdpm_file`` returns a
typed polars DataFrame plus the rejected lines, each with file, line number and
reason. The invariant the tests check on every snapshot is::

    len(frame) == non-empty lines - len(rejects)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from datamed.core import codes
from datamed.core.text import html_to_text
from datamed.core.vocabulary import DISPO_STATUS
from datamed.datasets import DS
from datamed.sources.textfile import MAX_RAW_CHARS, Reject, read_tab_file

# --- column kinds ---------------------------------------------------------
# str: text kept as is; html: text whose bits of HTML become plain text
# (core.text.html_to_text; source_line points to the raw line); label: text
# with normalised case; cis/cip7/cip13/...:
# identifiers validated by regex and kept as strings; date_dmy (JJ/MM/AAAA),
# date_ymd (AAAAMMJJ), date_iso (AAAA-MM-JJ); price (decimal comma, optional
# thousands comma); int; oui_non (bool); list (";"-separated); rates (list of
# percentages as integers).

KEY_PATTERNS = {
    "cis": re.compile(codes.CIS),
    "cip7": re.compile(codes.CIP7),
    "cip13": re.compile(codes.CIP13),
    "cip13_opt": re.compile(codes.optional(codes.CIP13)),
    "code_substance": re.compile(codes.SUBSTANCE),
    "has_code": re.compile(codes.HAS_DOSSIER, re.IGNORECASE),
    "atc_opt": re.compile(codes.optional(codes.ATC)),
    "group_id": re.compile(codes.GROUP_ID),
    "status_code": re.compile(codes.DISPO_STATUS_CODE),
}


@dataclass(frozen=True)
class FileSpec:
    key: str  # official file stem, e.g. "CIS_bdpm"
    dataset: DS  # prepared dataset
    columns: tuple[tuple[str, str], ...]  # (name, kind)
    text_column: str  # where stray tabs are merged
    pattern: str  # regex on the file name
    history: bool = False  # keep every snapshot (availability)

    @property
    def names(self) -> list[str]:
        return [c for c, _ in self.columns]


def _spec(key, dataset, columns, text_column, pattern=None, history=False):
    return FileSpec(
        key=key,
        dataset=dataset,
        columns=tuple(columns),
        text_column=text_column,
        pattern=pattern or rf"^{re.escape(key)}\.txt$",
        history=history,
    )


SPECS: tuple[FileSpec, ...] = (
    _spec(
        "CIS_bdpm",
        DS.SPECIALITES,
        [
            ("cis", "cis"),
            ("denomination", "html"),
            ("forme_pharmaceutique", "str"),
            ("voies_administration", "list"),
            ("statut_amm", "label"),
            ("type_procedure_amm", "str"),
            ("etat_commercialisation", "label"),
            ("date_amm", "date_dmy"),
            ("statut_bdm", "label"),
            ("numero_autorisation_europeenne", "str"),
            ("titulaires", "list"),
            ("surveillance_renforcee", "oui_non"),
        ],
        "denomination",
    ),
    _spec(
        "CIS_CIP_bdpm",
        DS.PRESENTATIONS,
        [
            ("cis", "cis"),
            ("cip7", "cip7"),
            ("libelle_presentation", "str"),
            ("statut_admin_presentation", "label"),
            ("etat_commercialisation", "label"),
            ("date_declaration_commercialisation", "date_dmy"),
            ("cip13", "cip13"),
            ("agrement_collectivites", "oui_non"),
            ("taux_remboursement", "rates"),
            ("prix_medicament_euro", "price"),
            ("prix_public_euro", "price"),
            ("honoraires_dispensation_euro", "price"),
            ("indications_remboursement", "html"),
        ],
        "indications_remboursement",
    ),
    _spec(
        "CIS_COMPO_bdpm",
        DS.COMPOSITIONS,
        [
            ("cis", "cis"),
            ("designation_element", "str"),
            ("code_substance", "code_substance"),
            ("denomination_substance", "str"),
            ("dosage", "str"),
            ("reference_dosage", "str"),
            ("nature_composant", "label_upper"),
            ("numero_liaison_sa_ft", "int"),
        ],
        "dosage",
    ),
    _spec(
        "CIS_GENER_bdpm",
        DS.GENERIQUES,
        [
            ("id_groupe_generique", "group_id"),
            ("libelle_groupe_generique", "str"),
            ("cis", "cis"),
            ("type_generique", "int"),
            ("numero_tri", "int"),
        ],
        "libelle_groupe_generique",
    ),
    _spec(
        "CIS_CPD_bdpm",
        DS.CONDITIONS,
        [("cis", "cis"), ("condition_prescription_delivrance", "str")],
        "condition_prescription_delivrance",
    ),
    _spec(
        "CIS_HAS_SMR_bdpm",
        DS.HAS_SMR,
        [
            ("cis", "cis"),
            ("code_dossier_has", "has_code"),
            ("motif_evaluation", "str"),
            ("date_avis_ct", "date_ymd"),
            ("valeur_smr", "label"),
            ("libelle_smr", "html"),
        ],
        "libelle_smr",
    ),
    _spec(
        "CIS_HAS_ASMR_bdpm",
        DS.HAS_ASMR,
        [
            ("cis", "cis"),
            ("code_dossier_has", "has_code"),
            ("motif_evaluation", "str"),
            ("date_avis_ct", "date_ymd"),
            ("valeur_asmr", "str"),
            ("libelle_asmr", "html"),
        ],
        "libelle_asmr",
    ),
    _spec(
        "HAS_LiensPageCT_bdpm",
        DS.HAS_LIENS_CT,
        [("code_dossier_has", "has_code"), ("lien_avis_ct", "str")],
        "lien_avis_ct",
    ),
    _spec(
        "CIS_CIP_Dispo_Spec",
        DS.DISPONIBILITES,
        [
            ("cis", "cis"),
            ("cip13", "cip13_opt"),
            ("code_statut", "status_code"),
            ("libelle_statut", "str"),  # kept raw in libelle_statut_brut; the label comes from the code
            ("date_debut", "date_dmy"),
            ("date_mise_a_jour", "date_dmy"),
            ("date_remise_dispo", "date_dmy"),
            ("lien_ansm", "str"),
        ],
        "libelle_statut",
        history=True,
    ),
    _spec(
        "CIS_MITM",
        DS.MITM,
        [("cis", "cis"), ("code_atc", "atc_opt"), ("denomination", "html"), ("lien_bdpm", "str")],
        "denomination",
    ),
    _spec(
        "CIS_InfoImportantes",
        DS.INFOS_IMPORTANTES,
        [("cis", "cis"), ("date_debut", "date_iso"), ("date_fin", "date_iso"), ("texte", "str")],
        "texte",
        pattern=r"^CIS_InfoImportantes.*\.txt$",
    ),
)

SPEC_BY_KEY = {s.key: s for s in SPECS}
SPEC_BY_DATASET = {s.dataset: s for s in SPECS}


def spec_for_filename(name: str) -> FileSpec | None:
    for spec in SPECS:
        if re.match(spec.pattern, name, flags=re.IGNORECASE):
            return spec
    return None


# --- typing -----------------------------------------------------------------


def normalise_label(value: str) -> str:
    """'tension d'approvisionnement' -> "Tension d'approvisionnement"."""
    value = " ".join(value.split())
    return value[:1].upper() + value[1:] if value else value


def parse_price(value: str) -> float | None:
    """'24,34' -> 24.34; '1,195,27' -> 1195.27 (thousands comma); '' -> None.

    Raises ValueError on anything else.
    """
    if not value:
        return None
    parts = value.replace(" ", "").replace("\u00a0", "").split(",")
    if len(parts) == 1:
        number = parts[0]
    else:
        if any(len(p) != 3 for p in parts[1:-1]) or not parts[0]:
            raise ValueError(value)
        number = "".join(parts[:-1]) + "." + parts[-1]
    if not re.fullmatch(r"\d+(\.\d+)?", number):
        raise ValueError(value)
    return float(number)


def parse_rates(value: str) -> list[int]:
    """'65%' -> [65]; '65 %;100%' -> [65, 100]; '' -> []."""
    out = []
    for part in value.split(";"):
        part = part.strip().rstrip("%").strip()
        if not part:
            continue
        if not part.isdigit() or int(part) > 100:
            raise ValueError(value)
        out.append(int(part))
    return out


def _oui_non(value: str) -> bool | None:
    v = value.strip().lower()
    if v in ("oui", "o"):
        return True
    if v in ("non", "n"):
        return False
    if v in ("", "inconnu"):
        return None
    raise ValueError(value)


def _to_int(value: str) -> int | None:
    if value == "":
        return None
    return int(value)


def _split_list(value: str) -> list[str]:
    return [p.strip() for p in value.split(";") if p.strip()]


_DATE_FORMATS = {"date_dmy": "%d/%m/%Y", "date_ymd": "%Y%m%d", "date_iso": "%Y-%m-%d"}


def _type_columns(
    raw: dict[str, list[str]], lines: list[int], spec: FileSpec, file_label: str
) -> tuple[pl.DataFrame, list[Reject]]:
    """Validate and type the string columns; failing lines become rejects."""
    n = len(lines)
    bad: dict[int, str] = {}  # row index -> first reason

    def fail(i: int, column: str, value: str, what: str) -> None:
        bad.setdefault(i, f"{what} {value[:40]!r} in column {column}")

    typed: dict[str, pl.Series] = {}
    for name, kind in spec.columns:
        values = raw[name]
        if kind in KEY_PATTERNS:
            pattern = KEY_PATTERNS[kind]
            if kind == "has_code":
                values = [v.upper() for v in values]
            for i, v in enumerate(values):
                if not pattern.match(v):
                    fail(i, name, v, "invalid code")
            if kind == "status_code":
                typed[name] = pl.Series(name, [int(v) if v.isdigit() else None for v in values], dtype=pl.Int8)
            else:
                typed[name] = pl.Series(name, [v or None for v in values], dtype=pl.String)
        elif kind in ("str", "html", "label", "label_upper", "list"):
            # plain text never fails: typed with vectorised polars expressions
            if kind == "html":  # plain Python (a reader, not a page); values without markup return at once
                values = [html_to_text(v) for v in values]
            s = pl.Series(name, values, dtype=pl.String)
            if kind == "label":
                s = s.str.replace_all(r"\s+", " ").str.strip_chars()
                s = s.str.slice(0, 1).str.to_uppercase() + s.str.slice(1)
            elif kind == "label_upper":
                s = s.str.to_uppercase()
            if kind == "list":
                s = (
                    s.str.split(";")
                    .list.eval(pl.element().str.strip_chars())
                    .list.eval(pl.element().filter(pl.element() != ""))
                )
            else:
                s = pl.when(s == "").then(None).otherwise(s)
                s = pl.select(s.alias(name)).to_series()
            typed[name] = s
        elif kind in _DATE_FORMATS:
            s = pl.Series(name, values, dtype=pl.String)
            parsed = s.str.to_date(_DATE_FORMATS[kind], strict=False)
            failed = (s != "") & parsed.is_null()
            for i in failed.arg_true().to_list():
                fail(i, name, values[i], "unparseable date")
            typed[name] = parsed
        else:
            conv, dtype = {
                "price": (parse_price, pl.Float64),
                "rates": (parse_rates, pl.List(pl.Int16)),
                "int": (_to_int, pl.Int32),
                "oui_non": (_oui_non, pl.Boolean),
            }[kind]
            out = []
            for i, v in enumerate(values):
                try:
                    out.append(conv(v))
                except ValueError:
                    fail(i, name, v, f"unparseable {kind}")
                    out.append(None)
            typed[name] = pl.Series(name, out, dtype=dtype)

    frame = pl.DataFrame(typed, height=n).with_columns(pl.Series("source_line", lines, dtype=pl.Int32))
    rejects: list[Reject] = []
    if bad:
        keep = pl.Series([i not in bad for i in range(n)])
        for i, reason in sorted(bad.items()):
            raw_line = "\t".join(raw[c][i] for c in spec.names)
            rejects.append(Reject(file_label, lines[i], reason, raw_line[:MAX_RAW_CHARS]))
        frame = frame.filter(keep)
    return frame, rejects


@dataclass
class ReadResult:
    spec: FileSpec
    frame: pl.DataFrame
    rejects: list[Reject]
    encoding: str
    n_lines: int


def read_bdpm_file(path: Path, spec: FileSpec | None = None, file_label: str | None = None) -> ReadResult:
    """Read one BDPM file into a typed frame and its rejected lines.

    Raises ``RawFileError`` when the whole file is unusable (empty, binary).
    """
    spec = spec or spec_for_filename(path.name)
    if spec is None:
        raise ValueError(f"{path.name}: not a known BDPM file")
    label = file_label or path.name
    split = read_tab_file(path, spec.names, spec.text_column, label)
    frame, type_rejects = _type_columns(split.columns, split.line_numbers, spec, label)
    rejects = sorted(split.rejects + type_rejects, key=lambda r: r.line)
    return ReadResult(spec, _finish(spec, frame), rejects, split.encoding, split.n_lines)


def _finish(spec: FileSpec, frame: pl.DataFrame) -> pl.DataFrame:
    if spec.key == "CIS_CIP_Dispo_Spec":
        frame = frame.with_columns(
            pl.col("libelle_statut").alias("libelle_statut_brut"),
            pl.col("code_statut")
            .replace_strict(DISPO_STATUS, default=None, return_dtype=pl.String)
            .alias("libelle_statut"),
        )
    return frame


def empty_frame(spec: FileSpec) -> pl.DataFrame:
    """The typed, empty dataset of a file that is absent from the raw folder."""
    frame, _ = _type_columns({c: [] for c in spec.names}, [], spec, "")
    return _finish(spec, frame)
