"""Active moieties of the substances (issue 13): the BDPM's own link first, the name
rules where it is silent or implausible.

In the BDPM composition file a substance (SA, e.g. ÉPOLAMINE DE DICLOFÉNAC) is tied to
its therapeutic fraction (FT, e.g. DICLOFÉNAC) by ``numero_liaison_sa_ft`` within a
medicine. The fractions linked to a substance, reduced by the name rules
(``AMOXICILLINE BASE`` -> ``AMOXICILLINE``) and kept if plausible
(``core.moieties.plausible_fraction``), give its moiety; a substance linked to two
different moieties is a fixed combination and stays its own. For substances the BDPM
never links, or links implausibly, the name rules give it.
"""

from __future__ import annotations

import polars as pl

from datamed.core.moieties import moiety, normalise, plausible_fraction


def fraction_links(compo: pl.DataFrame) -> dict[str, dict[str, int]]:
    """Normalised substance name -> {fraction's moiety by the name rules: links}."""
    sa = compo.filter(pl.col("nature_composant") == "SA").select(
        "cis", "numero_liaison_sa_ft", pl.col("denomination_substance").alias("sa")
    )
    ft = compo.filter(pl.col("nature_composant") == "FT").select(
        "cis", "numero_liaison_sa_ft", pl.col("denomination_substance").alias("ft")
    )
    pairs = sa.join(ft, on=["cis", "numero_liaison_sa_ft"]).select("sa", "ft").rows()
    votes: dict[str, dict[str, int]] = {}
    for sa_name, ft_name in pairs:  # a few thousand pairs: plain Python, build side
        by_ft = votes.setdefault(normalise(sa_name), {})
        key = moiety(ft_name)
        by_ft[key] = by_ft.get(key, 0) + 1
    return votes


def moieties(names: list[str], compo: pl.DataFrame | None) -> pl.DataFrame:
    """One row per name: ``name``, ``moiety`` (upper case, unaccented) and ``regle``
    (``bdpm`` when the BDPM's fraction gave it, ``nom`` for the name rules, ``identique``
    when the name is its own moiety)."""
    links = fraction_links(compo) if compo is not None and not compo.is_empty() else {}
    rows = []
    for name in names:
        key = normalise(name)
        by_name = moiety(name)
        plausible = sorted(((n, f) for f, n in links.get(key, {}).items() if plausible_fraction(name, f)), reverse=True)
        if len({f for _, f in plausible}) > 1:  # a fixed combination (sacubitril + valsartan): its own
            rows.append((name, key, "identique"))
        elif plausible:
            rows.append((name, plausible[0][1], "bdpm"))
        elif by_name != key:
            rows.append((name, by_name, "nom"))
        else:
            rows.append((name, key, "identique"))
    return pl.DataFrame(rows, schema={"name": pl.String, "moiety": pl.String, "regle": pl.String}, orient="row")
