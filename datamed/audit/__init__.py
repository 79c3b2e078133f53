"""Independent disclosure audit: play the attacker over what DataMed publishes.

The audit reads the published pharmacovigilance tables (a release folder or the
prepared data) and the texts around them, and reports every withheld count whose
value an attacker can place too precisely (``datamed.core.rule``):

- ``model``: the attacker's linear model (published counts, withheld unknowns, the
  additive facts and the source's floors, the national totals);
- ``bounds``: each withheld count's feasible interval by integer programming (HiGHS);
- ``derived``: rates, shares, ratios and means published only with all their inputs;
- ``texts``: no count stated in a text (quality reports, rejects, descriptions).

It shares no code with the suppression (``datamed.core.disclosure`` and
``datamed.pipeline.pharmacovigilance``): only the rule's parameters and the
dataset names. See docs/disclosure.md for the threat model.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl

from datamed.audit.bounds import AuditError, solve_bounds
from datamed.audit.derived import DerivedLeak, check_derived
from datamed.audit.model import AttackerModel, build_model
from datamed.audit.texts import TextLeak, count_mentions, folder_texts, frame_texts
from datamed.core.rule import ProtectionRule
from datamed.datasets import DS

__all__ = ["AuditError", "AuditReport", "ExposedCell", "audit_tables", "read_folder"]


@dataclass
class ExposedCell:
    table: str
    key: tuple
    column: str
    lo: float
    hi: float


@dataclass
class AuditReport:
    rule: ProtectionRule
    tables: pl.DataFrame  # table, colonne, cellules_masquees, cellules_exposees, largeur_min
    exposed: list[ExposedCell] = field(default_factory=list)
    derived: list[DerivedLeak] = field(default_factory=list)
    texts: list[TextLeak] = field(default_factory=list)
    inconsistent: list[str] = field(default_factory=list)
    seconds: float = 0.0
    lp_solves: int = 0
    ip_solves: int = 0

    @property
    def ok(self) -> bool:
        return not (self.exposed or self.derived or self.texts)

    @property
    def masked(self) -> int:
        return int(self.tables["cellules_masquees"].sum()) if self.tables.height else 0

    @property
    def passed(self) -> bool:
        """Nothing exposed, no derived value beside a withheld input, no count in a text."""
        return not (self.exposed or self.derived or self.texts)

    def summary(self) -> str:
        """One English paragraph for the CLI and the build report (no value in it)."""
        lines = [
            f"disclosure audit: {self.masked} withheld counts, {len(self.exposed)} exposed "
            f"(threshold {self.rule.threshold}, min width {self.rule.min_width}), "
            f"{len(self.derived)} derived columns published without their inputs, "
            f"{len(self.texts)} texts stating a count; {self.seconds:.1f} s, "
            f"{self.lp_solves} LP + {self.ip_solves} IP solves"
        ]
        for row in self.tables.filter(pl.col("cellules_exposees") > 0).iter_rows(named=True):
            lines.append(
                f"  {row['table']}.{row['colonne']}: {row['cellules_exposees']} of {row['cellules_masquees']} exposed"
            )
        for leak in self.derived:
            lines.append(f"  {leak.table}.{leak.column}: published on {leak.rows} rows with a withheld input")
        by_place: dict[str, int] = {}
        for leak in self.texts:
            place = ":".join(leak.where.split(":")[:2])  # table:column, or the file
            by_place[place] = by_place.get(place, 0) + 1
        for place, n in sorted(by_place.items()):
            lines.append(f"  {place}: {n} count(s) stated in text")
        if self.inconsistent:
            lines.append(
                f"  {len(self.inconsistent)} published facts contradict each other (first: {self.inconsistent[0]})"
            )
        return "\n".join(lines)


def _table_report(model: AttackerModel, lo: np.ndarray, hi: np.ndarray, exposed: np.ndarray) -> pl.DataFrame:
    rows: dict[tuple[str, str], list] = {}
    for j, var in enumerate(model.vars):
        if not var.audited:
            continue
        key = (str(var.cell[0]), var.cell[2])
        entry = rows.setdefault(key, [0, 0, np.inf])
        entry[0] += 1
        entry[1] += int(exposed[j])
        if model.rule.may_be_small(lo[j], hi[j]):
            entry[2] = min(entry[2], hi[j] - lo[j])
    return pl.DataFrame(
        [(t, c, m, e, None if not np.isfinite(w) else int(w)) for (t, c), (m, e, w) in sorted(rows.items())],
        schema={
            "table": pl.String,
            "colonne": pl.String,
            "cellules_masquees": pl.Int64,
            "cellules_exposees": pl.Int64,
            "largeur_min": pl.Int64,
        },
        orient="row",
    )


def audit_tables(
    tables: Mapping[str, pl.DataFrame],
    texts: Iterable[tuple[str, str]] = (),
    rule: ProtectionRule | None = None,
) -> AuditReport:
    """Audit the pharmacovigilance tables in ``tables`` and the ``(where, text)`` pairs.

    ``largeur_min`` is the narrowest interval among the cells that may be small
    (an interval already shown to protect is reported at its witnessed width,
    a lower bound of its true width)."""
    rule = rule or ProtectionRule.from_env()
    started = time.perf_counter()
    model = build_model(tables, rule)
    bounds = solve_bounds(model)
    exposed_mask = np.zeros(len(model.vars), dtype=bool)
    exposed = []
    for j, var in enumerate(model.vars):
        if var.audited and rule.exposes(bounds.lo[j], bounds.hi[j]):
            exposed_mask[j] = True
            exposed.append(ExposedCell(str(var.cell[0]), var.cell[1], var.cell[2], bounds.lo[j], bounds.hi[j]))
    return AuditReport(
        rule=rule,
        tables=_table_report(model, bounds.lo, bounds.hi, exposed_mask),
        exposed=exposed,
        derived=check_derived(tables),
        texts=count_mentions(texts),
        inconsistent=model.inconsistent,
        seconds=time.perf_counter() - started,
        lp_solves=bounds.lp_solves,
        ip_solves=bounds.ip_solves,
    )


TEXT_TABLES = (DS.QUALITE, DS.QUALITE_ECHECS, DS.REJETS, DS.EI_COLONNES)


def audited_parts(frames: Mapping[str, pl.DataFrame]) -> tuple[dict[str, pl.DataFrame], list[tuple[str, str]]]:
    """From named frames (prepared datasets or release tables): the tables the model
    reads (``ei_*``; ``rejets`` names the blanked exposures) and the texts to scan."""
    tables, texts = {}, []
    for name, frame in frames.items():
        if name.startswith("ei_") or name in TEXT_TABLES:
            if name.startswith("ei_") or name == DS.REJETS:
                tables[name] = frame
            texts += frame_texts(name, frame)
    return tables, texts


def read_folder(
    folder: Path, release: bool = False, kind: str = "parquet"
) -> tuple[dict[str, pl.DataFrame], list[tuple[str, str]]]:
    """The pharmacovigilance tables and the texts of a prepared folder, or of a release
    folder (``data/*.parquet``, or ``data/*.csv`` with ``kind="csv"``, and its
    md/html/json/csv files)."""
    folder = Path(folder)
    data = folder / "data" if release else folder
    if not data.is_dir():
        raise FileNotFoundError(f"{data}: no such folder")

    def read(path: Path) -> pl.DataFrame:
        if kind == "csv":
            return pl.read_csv(path, infer_schema_length=None, null_values=[""])
        return pl.read_parquet(path)

    frames = {
        path.stem: read(path)
        for path in sorted(data.glob(f"*.{kind}"))
        if path.stem.startswith("ei_") or path.stem in TEXT_TABLES
    }
    tables, texts = audited_parts(frames)
    if release:
        texts += folder_texts(folder)
    return tables, texts
