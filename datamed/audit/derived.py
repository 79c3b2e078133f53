"""Values computed from counts (rates, intervals, shares, ratios, means): published
only where every count they are computed from is published.

A rate with its count gives the exposure; a share with its count gives the total;
a disproportionality ratio with its count gives the substance's total; a mean
exposure gives the sum of the yearly exposures. None of these is in the linear
model (``model.py``), so each must come with all its inputs in clear. The inputs
are declared here, from the formulas, independently of the build's own list.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

import polars as pl

from datamed.datasets import DS

RATE = ("taux", "taux_ic_bas", "taux_ic_haut")
DISPROPORTIONALITY = (
    "part_cas",
    "ror",
    "ror_ic_bas",
    "ror_ic_haut",
    "prr",
    "prr_ic_bas",
    "prr_ic_haut",
    "chi2",
    "ic",
    "ic025",
    "signal_evans",
    "signal_ror",
    "signal_ic",
)

# table -> [(derived columns, inputs)]; an input is "n_cas" / "n_conso" (the row's
# own count), "total" (the substance's cases) or "years" (every yearly exposure
# and count of the substance)
DERIVED: dict[str, list[tuple[tuple[str, ...], tuple[str, ...]]]] = {
    DS.EI_ANNEE: [(RATE, ("n_cas", "n_conso")), (("part_cas",), ("n_cas", "total"))],
    DS.EI_AGE: [(RATE, ("n_cas", "n_conso")), (("part_cas",), ("n_cas", "total"))],
    DS.EI_SEXE: [(RATE, ("n_cas", "n_conso")), (("part_cas",), ("n_cas", "total"))],
    DS.EI_SUBSTANCES: [((*RATE, "consommants_par_an", "n_annees_expo"), ("total", "years"))],
    DS.EI_FRACTIONS_ANNEE: [(RATE, ("n_cas", "n_conso")), (("part_cas",), ("n_cas", "total"))],
    DS.EI_FRACTIONS_AGE: [(RATE, ("n_cas", "n_conso")), (("part_cas",), ("n_cas", "total"))],
    DS.EI_FRACTIONS_SEXE: [(RATE, ("n_cas", "n_conso")), (("part_cas",), ("n_cas", "total"))],
    DS.EI_FRACTIONS: [((*RATE, "consommants_par_an", "n_annees_expo"), ("total", "years"))],
    DS.EI_SOC: [(DISPROPORTIONALITY, ("n_cas", "total"))],
    DS.EI_SOC_AGE: [(("part_cas",), ("n_cas", "total"))],
    DS.EI_SOC_SEXE: [(("part_cas",), ("n_cas", "total"))],
    DS.EI_NON_LIES: [(("n_cas",), ("total",))],
}


@dataclass
class DerivedLeak:
    table: str
    column: str
    rows: int  # rows where the value is published while an input is withheld


def _published(value, status) -> bool:
    return value is not None and status is None


# the two units: (head table with the totals, yearly table, key column)
UNITS = ((DS.EI_SUBSTANCES, DS.EI_ANNEE, "ei_id"), (DS.EI_FRACTIONS, DS.EI_FRACTIONS_ANNEE, "fraction_id"))


def _unit_inputs(tables: Mapping[str, pl.DataFrame], head_table: str, year_table: str, key: str):
    """Per unit id: is its total published; is every one of its years (cases and exposure)."""
    head = tables.get(head_table)
    total_ok: dict[str, bool] = {}
    if head is not None:
        status = head["n_cas_statut"] if "n_cas_statut" in head.columns else pl.Series([None] * head.height)
        total_ok = {i: _published(v, s) for i, v, s in zip(head[key], head["n_cas"], status)}
    years_ok: dict[str, bool] = defaultdict(lambda: True)
    annee = tables.get(year_table)
    if annee is not None:
        cols = [c if c in annee.columns else None for c in ("n_cas", "n_cas_statut", "n_conso", "n_conso_statut")]
        for row in annee.iter_rows(named=True):
            get = [row[c] if c else None for c in cols]
            if not (_published(get[0], get[1]) and _published(get[2], get[3])):
                years_ok[row[key]] = False
    return total_ok, years_ok


def check_derived(tables: Mapping[str, pl.DataFrame]) -> list[DerivedLeak]:
    inputs_of = {key: _unit_inputs(tables, head, years, key) for head, years, key in UNITS}
    leaks = []
    for table, rules in DERIVED.items():
        frame = tables.get(table)
        if frame is None:
            continue
        key = "fraction_id" if "fraction_id" in frame.columns else "ei_id"
        total_ok, years_ok = inputs_of[key]
        for derived, inputs in rules:
            ok = pl.lit(True)
            for inp in inputs:
                if inp in ("n_cas", "n_conso"):
                    if inp not in frame.columns:
                        continue
                    own = pl.col(inp).is_not_null()
                    if f"{inp}_statut" in frame.columns:
                        own = own & pl.col(f"{inp}_statut").is_null()
                    ok = ok & own
                elif inp == "total":
                    ok = ok & pl.col(key).replace_strict(total_ok, default=False, return_dtype=pl.Boolean)
                elif inp == "years":
                    ok = ok & pl.col(key).replace_strict(dict(years_ok), default=True, return_dtype=pl.Boolean)
            for col in derived:
                if col not in frame.columns:
                    continue
                shown = pl.col(col).is_not_null()
                if frame.schema[col] == pl.List:
                    shown = shown & (pl.col(col).list.len() > 0)
                n = frame.select((shown & ~ok).sum()).item()
                if n:
                    leaks.append(DerivedLeak(table, col, int(n)))
    return leaks
