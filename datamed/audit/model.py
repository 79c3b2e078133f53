"""The attacker's model: every published pharmacovigilance count as a constant, every
withheld one as an integer unknown, and every linear fact that ties them together.

Written from the published tables and the source's public rules only: nothing here
comes from the suppression code (``datamed.core.disclosure``,
``datamed.pipeline.pharmacovigilance``), so an error there cannot hide here.

What the attacker knows, per substance i (``ei_substances`` holds its total T_i):

- cases by year, by age class, by sex: three partitions of T_i;
- exposure (patients, *consommants*) by year, by age class, by sex: three
  partitions of the same (unpublished) total C_i;
- an exposure withheld with no masking status was blanked because the cases
  exceeded it: exposure <= cases - 1; so is an exposure that the rejected-lines
  table (``rejets``) names with that reason, whatever its status; every other
  exposure holds at least its cases (published ones always; withheld ones when
  the rejected lines, which name every blanked exposure, are known);
- organ class k: K_ik is at least the sum of its listed age rows and at least that
  of its listed sex rows, and at most either plus its missing rows; it is at most
  T_i; its rows by age (sex) are at most the cases of that age class (sex);
- substances with identical case series (``ei_series_identiques``, one product's
  components): every case cell of a member equals the first member's;
- an active moiety (``ei_fractions_membres`` names its substances): its total, and
  its cases and exposure of each year, age class and sex, are the sums of its
  substances' cells (cases over the members not marked ``doublon``, whose cases are
  another member's); its cells of a breakdown add up to its total;
- the floors: an organ-class row by age or sex that is listed holds at least
  ``source_floor`` cases (the source's rule); a row not listed holds at most
  ``published_floor - 1`` (the source leaves out rows under 10, DataMed those
  under the threshold). Both hold for every release, old or new. So an organ class
  with no age row at all has at most 3 x (floor - 1) cases;

and nationally, each year, age class, sex and organ class adds up over the
substances to its national figure (``ei_national_*``): over every cell, or, for
the series the registry declares ``sums_of_published`` (DataMed's), over the
published cells only.

A masking status narrows a cell when it says which kind of mask it is:
"primaire" (below the threshold) gives 0..threshold-1, "secondaire" gives
threshold or more; any other status (the single "masqué") gives nothing.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

import polars as pl

from datamed.core.rule import ProtectionRule
from datamed.datasets import DS, registry
from datamed.sources.pharmacovigilance import stratum_of

INF = math.inf
STRATA = (
    (DS.EI_ANNEE, "annee", DS.EI_NATIONAL_ANNEE),
    (DS.EI_AGE, "age", DS.EI_NATIONAL_AGE),
    (DS.EI_SEXE, "sexe", DS.EI_NATIONAL_SEXE),
)
FRACTION_STRATA = (
    (DS.EI_FRACTIONS_ANNEE, "annee", DS.EI_ANNEE),
    (DS.EI_FRACTIONS_AGE, "age", DS.EI_AGE),
    (DS.EI_FRACTIONS_SEXE, "sexe", DS.EI_SEXE),
)
SOC_STRATA = ((DS.EI_SOC_AGE, "age", DS.EI_AGE), (DS.EI_SOC_SEXE, "sexe", DS.EI_SEXE))

Cell = tuple[str, tuple, str]  # (table, key values, column)
BLANKED_REASONS = ("greater than exposure", "plus nombreux que les patients exposés")
STRATUM_FIELDS = (("ANNEE", DS.EI_ANNEE), ("AGE", DS.EI_AGE), ("SEXE", DS.EI_SEXE))  # source field -> table


def blanked_from_rejects(tables: Mapping[str, pl.DataFrame]) -> set[tuple[str, str, str]]:
    """(table, ei_id, stratum) of the exposures that the rejected-lines table says were
    emptied because the cases exceeded them: a fact the attacker reads there."""
    rejets, subs = tables.get(DS.REJETS), tables.get(DS.EI_SUBSTANCES)
    if rejets is None or subs is None or "nom" not in subs.columns or not {"reason", "raw"} <= set(rejets.columns):
        return set()  # no rejected-lines table (or not one the build wrote): nothing named
    ids = dict(zip(subs["nom"], subs["ei_id"]))
    found = set()
    hits = rejets.filter(pl.col("reason").str.contains("|".join(BLANKED_REASONS), literal=False))
    for raw in hits["raw"].to_list():
        try:
            record = json.loads(raw or "")
        except json.JSONDecodeError:
            continue
        ei_id = ids.get(str(record.get("MEDICAMENT") or "").strip())
        for source_field, table in STRATUM_FIELDS:
            if ei_id and source_field in record:
                try:
                    found.add((table, ei_id, stratum_of(source_field, record[source_field])))
                except ValueError:
                    continue
    return found


@dataclass
class Var:
    cell: Cell
    lo: float
    hi: float
    audited: bool  # a withheld count (False: an unpublished total the model needs)


@dataclass
class Row:
    coefs: dict[int, float]
    lo: float
    hi: float
    label: str


@dataclass
class AttackerModel:
    rule: ProtectionRule
    vars: list[Var] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    value: dict[Cell, float | int] = field(default_factory=dict)  # published counts
    index: dict[Cell, int] = field(default_factory=dict)  # withheld counts -> variable
    inconsistent: list[str] = field(default_factory=list)  # facts the published constants contradict

    # --- cells -------------------------------------------------------------------

    def status_bounds(self, status: str | None) -> tuple[float, float]:
        text = (status or "").strip().lower()
        if text.startswith("primaire"):
            return 0, self.rule.threshold - 1
        if text.startswith("secondaire"):
            return self.rule.threshold, INF
        return 0, INF

    def cell(self, cell: Cell, value, status: str | None, *, floor: int = 0) -> None:
        """A count as published: a constant, or an unknown when masked or left empty."""
        if status is None and value is not None:
            self.value[cell] = value
            return
        lo, hi = self.status_bounds(status)
        self.unknown(cell, max(lo, floor), hi)

    def unknown(self, cell: Cell, lo: float = 0, hi: float = INF, *, audited: bool = True) -> int:
        self.index[cell] = len(self.vars)
        self.vars.append(Var(cell, lo, hi, audited))
        return self.index[cell]

    def has(self, cell: Cell) -> bool:
        return cell in self.value or cell in self.index

    # --- facts -------------------------------------------------------------------

    def fact(self, terms: list[tuple[float, Cell]], lo: float, hi: float, label: str) -> None:
        """lo <= sum(coef x cell) <= hi; constants move to the bounds."""
        coefs: dict[int, float] = defaultdict(float)
        const = 0.0
        for coef, cell in terms:
            if cell in self.value:
                const += coef * self.value[cell]
            elif cell in self.index:
                coefs[self.index[cell]] += coef
            else:
                return  # a cell the release does not hold: no fact
        coefs = {j: c for j, c in coefs.items() if c}
        lo, hi = lo - const, hi - const
        if not coefs:
            if lo > 1e-9 or hi < -1e-9:
                self.inconsistent.append(label)
            return
        self.rows.append(Row(coefs, lo, hi, label))

    def equal(self, terms, label: str, rhs: float = 0) -> None:
        self.fact(terms, rhs, rhs, label)

    def at_most(self, terms, rhs: float, label: str) -> None:
        self.fact(terms, -INF, rhs, label)

    def national(self, cells: list[Cell], total: Cell) -> None:
        """A national figure: the sum of every cell it covers; or, where the registry
        says it is the sum of the published cells only (the code is public) and it is
        indeed, no fact on a withheld cell."""
        rules = registry.get(DS(total[0])).disclosure
        published = sum(self.value[c] for c in cells if c in self.value)
        if rules is not None and rules.sums_of_published and self.value.get(total) == published:
            return  # as declared: nothing on the withheld cells
        # otherwise (an older release, or a figure that is not what the code says): the
        # figure is the true total of every cell it covers
        self.equal([(1, c) for c in cells] + [(-1, total)], f"{total[0]} {total[1]}")


def _rows(frame: pl.DataFrame, *cols: str) -> list[tuple]:
    present = [c for c in cols if c in frame.columns]
    missing = [c for c in cols if c not in frame.columns]
    out = frame.select(present).rows()
    if missing:  # e.g. a status column a table does not carry: nothing masked there
        pos = [cols.index(c) for c in present]
        out = [tuple(r[pos.index(i)] if i in pos else None for i in range(len(cols))) for r in out]
    return out


def build_model(tables: Mapping[str, pl.DataFrame], rule: ProtectionRule) -> AttackerModel:
    """The attacker's model over the pharmacovigilance tables in ``tables`` (public or prepared frames)."""
    m = AttackerModel(rule)
    subs = tables.get(DS.EI_SUBSTANCES)
    if subs is None:
        return m
    ids = subs["ei_id"].to_list()
    for ei_id, n, st in _rows(subs, "ei_id", "n_cas", "n_cas_statut"):
        m.cell((DS.EI_SUBSTANCES, (ei_id,), "n_cas"), n, st)
    if any(t in tables and "n_conso" in tables[t].columns for t, _, _ in STRATA):
        for ei_id in ids:
            m.unknown(("exposition", (ei_id,), "n_conso"), audited=False)  # C_i, never published

    # --- cases and exposure by year, age, sex
    blanked = blanked_from_rejects(tables)
    rejets = tables.get(DS.REJETS)
    know_blanked = rejets is not None and {"reason", "raw"} <= set(rejets.columns)  # they name every blanked exposure
    strata_values: dict[str, list] = {}
    for table, col, national in STRATA:
        frame = tables.get(table)
        if frame is None:
            continue
        strata_values[col] = sorted({v for v in frame[col].to_list() if v is not None}, key=str)
        by_id: dict[str, list] = defaultdict(list)
        for ei_id, s, n, st, c, cst in _rows(frame, "ei_id", col, "n_cas", "n_cas_statut", "n_conso", "n_conso_statut"):
            cases, expo = (table, (ei_id, s), "n_cas"), (table, (ei_id, s), "n_conso")
            m.cell(cases, n, st)
            if "n_conso" in frame.columns:
                m.cell(expo, c, cst)
                if (c is None and cst is None) or (table, ei_id, str(s)) in blanked:  # the cases exceeded it
                    m.at_most([(1, expo), (-1, cases)], -1, f"{table} {ei_id} {s}: blanked exposure < cases")
                elif c is not None or know_blanked:  # not blanked: the exposure holds the cases
                    m.at_most([(1, cases), (-1, expo)], 0, f"{table} {ei_id} {s}: cases <= exposure")
            by_id[ei_id].append(s)
        for ei_id, values in by_id.items():
            total = (DS.EI_SUBSTANCES, (ei_id,), "n_cas")
            m.equal([(1, (table, (ei_id, s), "n_cas")) for s in values] + [(-1, total)], f"{table} {ei_id}: cases")
            if "n_conso" in frame.columns:
                m.equal(
                    [(1, (table, (ei_id, s), "n_conso")) for s in values] + [(-1, ("exposition", (ei_id,), "n_conso"))],
                    f"{table} {ei_id}: exposure",
                )
        nat = tables.get(national)
        if nat is not None:
            for s, n, st in _rows(nat, col, "n_cas", "n_cas_statut"):
                m.cell((national, (s,), "n_cas"), n, st)
            for s in strata_values[col]:
                m.national(
                    [(table, (ei_id, s), "n_cas") for ei_id in by_id if s in by_id[ei_id]], (national, (s,), "n_cas")
                )

    _fractions(m, tables, strata_values)
    _identical(m, tables)

    # --- organ classes
    soc = tables.get(DS.EI_SOC)
    if soc is None:
        return m
    floor = rule.source_floor  # every listed row holds at least this
    missing = rule.published_floor - 1  # every row not listed holds at most this
    for ei_id, k, n, st in _rows(soc, "ei_id", "soc_code", "n_cas", "n_cas_statut"):
        cell = (DS.EI_SOC, (ei_id, k), "n_cas")
        m.cell(cell, n, st, floor=floor)
        m.at_most([(1, cell), (-1, (DS.EI_SUBSTANCES, (ei_id,), "n_cas"))], 0, f"soc {ei_id} {k} <= total")
    rows_of: dict[str, dict[tuple, list]] = {}
    for table, col, parent in SOC_STRATA:
        frame = tables.get(table)
        rows_of[col] = defaultdict(list)
        if frame is None:
            continue
        for ei_id, k, s, n, st in _rows(frame, "ei_id", "soc_code", col, "n_cas", "n_cas_statut"):
            cell = (table, (ei_id, k, s), "n_cas")
            m.cell(cell, n, st, floor=floor)
            m.at_most([(1, cell), (-1, (parent, (ei_id, s), "n_cas"))], 0, f"{table} {ei_id} {k} {s} <= stratum")
            rows_of[col][(ei_id, k)].append(s)
    n_age = max(len(strata_values.get("age", [])), 3)
    n_sex = max(len(strata_values.get("sexe", [])), 2)
    pairs = set(rows_of["age"]) | set(rows_of["sexe"]) | {(i, k) for i, k in _rows(soc, "ei_id", "soc_code")}
    for ei_id, k in sorted(pairs):
        total = (DS.EI_SOC, (ei_id, k), "n_cas")
        ages, sexes = rows_of["age"].get((ei_id, k), []), rows_of["sexe"].get((ei_id, k), [])
        age_terms = [(1, (DS.EI_SOC_AGE, (ei_id, k, s), "n_cas")) for s in ages]
        sex_terms = [(1, (DS.EI_SOC_SEXE, (ei_id, k, s), "n_cas")) for s in sexes]
        slack_age, slack_sex = missing * (n_age - len(ages)), missing * (n_sex - len(sexes))
        if m.has(total):
            # K is at least each sum of listed rows (DataMed publishes the larger one; an
            # older release, the age sum), and at most either sum plus its missing rows
            for terms, slack, what in ((age_terms, slack_age, "age"), (sex_terms, slack_sex, "sex")):
                if terms:
                    m.at_most([*terms, (-1, total)], 0, f"soc {ei_id} {k}: {what} rows <= total")
                    m.at_most(
                        [(1, total)] + [(-c, cell) for c, cell in terms],
                        slack,
                        f"soc {ei_id} {k}: total <= {what} rows",
                    )
        elif sexes:  # no age row at all: every age row < floor
            m.at_most(sex_terms, missing * n_age, f"soc {ei_id} {k}: sex rows without age rows")
    nat = tables.get(DS.EI_NATIONAL_SOC)
    if nat is not None:
        by_soc: dict[str, list] = defaultdict(list)
        for ei_id, k in _rows(soc, "ei_id", "soc_code"):
            by_soc[k].append(ei_id)
        for k, n, st in _rows(nat, "soc_code", "n_cas", "n_cas_statut"):
            cell = (DS.EI_NATIONAL_SOC, (k,), "n_cas")
            m.cell(cell, n, st)
            m.national([(DS.EI_SOC, (i, k), "n_cas") for i in by_soc.get(k, [])], cell)
    return m


def _fractions(m: AttackerModel, tables: Mapping[str, pl.DataFrame], strata_values: dict[str, list]) -> None:
    """Active moieties: each published cell of ``ei_fractions*`` is the sum of the same
    cell over the moiety's substances (an exposure left empty with no status was not
    summed: the cell is not in the release)."""
    members, heads = tables.get(DS.EI_FRACTIONS_MEMBRES), tables.get(DS.EI_FRACTIONS)
    if members is None or heads is None:
        return
    of: dict[str, list[str]] = defaultdict(list)  # every member: exposure
    cases_of: dict[str, list[str]] = defaultdict(list)  # members whose cases are summed (not a twin's)
    for ei_id, f, dup in _rows(members, "ei_id", "fraction_id", "doublon"):
        of[f].append(ei_id)
        if not dup:
            cases_of[f].append(ei_id)
    for f, n, st in _rows(heads, "fraction_id", "n_cas", "n_cas_statut"):
        cell = (DS.EI_FRACTIONS, (f,), "n_cas")
        m.cell(cell, n, st)
        m.equal([(1, (DS.EI_SUBSTANCES, (i,), "n_cas")) for i in cases_of[f]] + [(-1, cell)], f"fraction {f}: total")
    for table, col, parent in FRACTION_STRATA:
        frame = tables.get(table)
        if frame is None:
            continue
        by_f: dict[str, list] = defaultdict(list)
        for f, s, n, st, c, cst in _rows(
            frame, "fraction_id", col, "n_cas", "n_cas_statut", "n_conso", "n_conso_statut"
        ):
            for column, value, status in (("n_cas", n, st), ("n_conso", c, cst)):
                if column == "n_conso" and value is None and status is None:
                    continue  # not summed (a member's exposure unknown): not published
                cell = (table, (f, s), column)
                m.cell(cell, value, status)
                parts = [(parent, (i, s), column) for i in (cases_of[f] if column == "n_cas" else of[f])]
                parts = [x for x in parts if m.has(x)]
                m.equal([(1, x) for x in parts] + [(-1, cell)], f"{table} {f} {s}: {column}")
            by_f[f].append(s)
        for f, values in by_f.items():
            m.equal(
                [(1, (table, (f, s), "n_cas")) for s in values] + [(-1, (DS.EI_FRACTIONS, (f,), "n_cas"))],
                f"{table} {f}: cases",
            )


def _identical(m: AttackerModel, tables: Mapping[str, pl.DataFrame]) -> None:
    """Identical case series: a member's total and case cells equal its group's first member's."""
    series = tables.get(DS.EI_SERIES_IDENTIQUES)
    if series is None:
        return
    for ei_id, group in _rows(series, "ei_id", "groupe_id"):
        first = str(group).removeprefix("groupe-")
        if ei_id == first:
            continue
        m.equal(
            [(1, (DS.EI_SUBSTANCES, (ei_id,), "n_cas")), (-1, (DS.EI_SUBSTANCES, (first,), "n_cas"))], f"series {ei_id}"
        )
        for table, col, _national in STRATA:
            frame = tables.get(table)
            if frame is None:
                continue
            for s in frame.filter(pl.col("ei_id") == first)[col].to_list():
                m.equal([(1, (table, (ei_id, s), "n_cas")), (-1, (table, (first, s), "n_cas"))], f"series {ei_id} {s}")
