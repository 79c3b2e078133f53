"""Plausibility rules for the exposure behind a reporting rate (issue 13).

The ANSM's exposure is the number of *consommants* of a substance in a year: people
who received at least one reimbursed dispensing of a product holding it (Open
Medic), counted once per product and summed over the products. It is not a count
of distinct patients: someone who took two products is counted twice. A rate of
cases per 100,000 *consommants* is a *taux de notification* (reports per exposed
people), not a frequency of the effect: most effects are never reported.

A year's exposure is used for a rate only if it passes every rule below; the rate
of a substance is computed from its passing years only. The rules, in the order
their reason is given:

- ``absente``: no exposure for the year (left empty by the source, or emptied by the
  reader because the cases exceeded it);
- ``cas_superieurs``: more cases than *consommants* (impossible if both count the
  same people);
- ``minimum``: fewer than ``MIN_EXPOSURE`` *consommants*: too few for a rate per
  100,000, and typical of a coding that moved to another name (a salt, the base);
- ``population``: more *consommants* than people living in France
  (``FRENCH_POPULATION``): a sum over products, not people;
- ``saut``: more than ``JUMP`` times above or below the median of the substance's
  other years that pass the rules above: a coding change between years, not a
  real change in use.

A substance whose cases and exposure can be coded to different names (a salt and
its base) gets no rate at the salt level: its rate is given for its active moiety.
"""

from __future__ import annotations

import polars as pl

MIN_EXPOSURE = 1_000
# INSEE, population of France on 1 January 2018 (the last year of the 2014-2018 data),
# rounded down: 66.9 million
FRENCH_POPULATION = 66_900_000
JUMP = 5.0

REASONS_FR = {
    "absente": "exposition absente ou écartée (plus de cas que de consommants)",
    "cas_superieurs": "plus de cas déclarés que de consommants",
    "minimum": f"moins de {MIN_EXPOSURE:,} consommants".replace(",", "\u202f"),
    "population": "plus de consommants que d'habitants en France (une somme sur les produits)",
    "saut": f"écart de plus de {int(JUMP)} fois avec les autres années (changement de codage probable)",
}
# one sentence, for a page that shows no rate
WITHHELD_FR = {
    "absente": "Aucun taux n'est calculé : l'exposition (nombre de consommants) manque pour ces années.",
    "cas_superieurs": "Aucun taux n'est calculé : la source compte plus de cas que de consommants, ce qui est impossible.",
    "minimum": (
        "Aucun taux n'est calculé : moins de 1\u202f000 consommants par an, trop peu pour un taux pour 100\u202f000 "
        "(et souvent le signe d'un codage passé à un autre nom, un sel ou la base)."
    ),
    "population": (
        "Aucun taux n'est calculé : la source compte plus de consommants que d'habitants en France, "
        "car elle additionne les produits."
    ),
    "saut": (
        "Aucun taux n'est calculé : l'exposition change de plus de 5 fois d'une année à l'autre, "
        "signe d'un changement de codage plutôt que d'usage."
    ),
    "sel": (
        "Aucun taux n'est calculé pour un sel ou une forme de la substance : les cas et les consommants peuvent "
        "être comptés sous des noms différents ; le taux est donné pour la substance active."
    ),
}

# a rate above this passed every rule, yet reads as implausible: the page says why it can be
HIGH_RATE = 10_000.0
HIGH_RATE_FR = (
    "Ce taux dépasse 10\u202f000 cas pour 100\u202f000 consommants alors que l'exposition passe toutes les règles "
    "de plausibilité : c'est le cas d'un médicament surtout utilisé à l'hôpital, dont Open Medic (qui ne compte que "
    "les délivrances en ville) sous-estime les consommants, et de patients très surveillés, dont les effets sont "
    "plus souvent déclarés."
)


def flag_years(frame: pl.DataFrame, key: str) -> pl.DataFrame:
    """``frame`` (``key``, ``annee``, ``n_cas``, ``n_conso``) with ``expo_motif``: the
    first rule the year's exposure fails (null: it passes). True values only (before
    masking): the flags are a property of the source, published without the counts."""
    base = frame.with_columns(
        pl.when(pl.col("n_conso").is_null())
        .then(pl.lit("absente"))
        .when(pl.col("n_cas") > pl.col("n_conso"))
        .then(pl.lit("cas_superieurs"))
        .when(pl.col("n_conso") < MIN_EXPOSURE)
        .then(pl.lit("minimum"))
        .when(pl.col("n_conso") > FRENCH_POPULATION)
        .then(pl.lit("population"))
        .otherwise(None)
        .alias("expo_motif")
    )
    # the jump rule: against the median of the substance's *other* years that pass so far
    rows = base.select(key, "annee", "n_conso", "expo_motif").rows()
    by_key: dict = {}
    for k, year, conso, motif in rows:
        if motif is None:
            by_key.setdefault(k, []).append((year, conso))
    jumped = set()
    for k, years in by_key.items():
        for year, conso in years:
            others = sorted(c for y, c in years if y != year)
            if not others:
                continue
            mid = len(others) // 2
            median = others[mid] if len(others) % 2 else (others[mid - 1] + others[mid]) / 2
            if conso > JUMP * median or conso * JUMP < median:
                jumped.add((k, year))
    if jumped:
        hit = pl.Series([(k, y) in jumped for k, y, _c, _m in rows], dtype=pl.Boolean)
        base = base.with_columns(
            pl.when(pl.lit(hit)).then(pl.lit("saut")).otherwise(pl.col("expo_motif")).alias("expo_motif")
        )
    return base


def implausible_cell(cases: pl.Expr, conso: pl.Expr, years: pl.Expr | int = 1) -> pl.Expr:
    """The rules that hold for one cell on its own (an age class or a sex over the
    period): more cases than *consommants*, fewer than ``MIN_EXPOSURE`` or more than the
    population a year. A class's exposure is the sum of its ``years`` (the *consommants*
    of each year): compared with a year's bounds, women's 69.7 million *consommants*
    of amoxicillin over five years read as more than the population. True where the
    cell's exposure is not fit for a rate."""
    return (cases > conso) | (conso < MIN_EXPOSURE * years) | (conso > FRENCH_POPULATION * years)


def headline_reason(motifs: list[str | None]) -> str | None:
    """Why a substance gets no rate: None when at least one year passes, else the most
    frequent reason among its years (ties: the order of ``REASONS_FR``)."""
    if not motifs or any(m is None for m in motifs):
        return None
    order = list(REASONS_FR)
    return max(set(motifs), key=lambda m: (motifs.count(m), -order.index(m)))
