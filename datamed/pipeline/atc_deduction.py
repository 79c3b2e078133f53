"""ATC code per medicine (CIS): official from the MITM list, else deduced, else unknown.

The MITM list (CIS_MITM) is the only BDPM file carrying ATC codes. For another
CIS a code is *deduced* only when some MITM medicines share its **key** and all
of them carry one single code. The key is:

- the set of its active substances (SA lines of CIS_CIP_COMPO, by substance code);
- its routes of administration (the sorted set);
- the family of its pharmaceutical form (``form_family``: oral, ophtalmique,
  injectable, cutané, inhalé, nasal, rectal, vaginal, auriculaire, buccal...).

Substances alone are not enough: diclofenac is M01AB05 by mouth, M02AA15 on the
skin and S01BC03 in the eye, so VOLTARENE LP 75 mg (oral) must not borrow an
eye-drop's code. Where the key is unmatched or ambiguous the class stays unknown.

``leave_one_out`` measures the rule on the official codes themselves: each MITM
medicine's code is hidden in turn and deduced from the others (precision and
coverage; the tests and bench/ print them).
"""

from __future__ import annotations

import re

import polars as pl

from datamed.core.text import normalise

SOURCE_OFFICIAL = "MITM"
SOURCE_DEDUCED = "déduit : mêmes substances, voie et forme qu'un MITM"

# (family, words of the normalised form label that place it there), first match wins
_FAMILIES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("ophtalmique", ("collyre", "ophtalmique", "intraoculaire", "intravitreen")),
    ("auriculaire", ("auriculaire",)),
    ("inhalé", ("inhalation", "nebuliseur", "inhaler")),
    ("nasal", ("nasal", "nasale")),
    ("injectable", ("injectable", "perfusion", "implant", "intravesical", "intravesicale")),
    ("rectal", ("suppositoire", "rectal", "rectale", "lavement")),
    ("vaginal", ("ovule", "vaginal", "vaginale", "anneau")),
    (
        "cutané",
        (
            "creme",
            "gel",
            "pommade",
            "emplatre",
            "transdermique",
            "application",
            "shampooing",
            "cutane",
            "cutanee",
            "vernis",
            "pansement",
            "pate",
            "lotion",
            "mousse",
        ),
    ),
    ("buccal", ("gingivale", "bain de bouche", "buccal", "buccale", "dentaire", "collutoire", "gomme")),
    (
        "oral",
        (
            "comprime",
            "gelule",
            "capsule",
            "buvable",
            "sirop",
            "granule",
            "granules",
            "pastille",
            "lyophilisat",
            "sucer",
            "croquer",
            "orodispersible",
            "film orodispersible",
            "tisane",
            "poudre orale",
            "sachet",
        ),
    ),
)
_WORDS = re.compile(r"[a-z]+")


def form_family(form: str | None) -> str:
    """A coarse family of a BDPM pharmaceutical form label ("autre : <label>" if none)."""
    text = normalise(form or "")
    words = set(_WORDS.findall(text))
    for family, keys in _FAMILIES:
        for key in keys:
            if (" " in key and key in text) or key in words:
                return family
    return f"autre : {text}" if text else "inconnue"


def keys(compo: pl.DataFrame, specialites: pl.DataFrame) -> pl.DataFrame:
    """(cis, cle): the substance set, routes and form family of every CIS with active substances."""
    sets = (
        compo.filter(pl.col("nature_composant") == "SA")
        .group_by("cis")
        .agg(pl.col("code_substance").unique().sort().str.join("+").alias("substances"))
    )
    forms = specialites.select(
        "cis",
        pl.col("voies_administration")
        .list.eval(pl.element().str.to_lowercase())
        .list.sort()
        .list.join(";")
        .alias("voies"),
        pl.col("forme_pharmaceutique").map_elements(form_family, return_dtype=pl.String).alias("famille"),
    )
    return sets.join(forms, on="cis", how="inner").select(
        "cis", pl.concat_str(["substances", "voies", "famille"], separator=" | ").alias("cle")
    )


def official_codes(mitm: pl.DataFrame | None) -> pl.DataFrame:
    if mitm is None or mitm.is_empty():
        return pl.DataFrame(schema={"cis": pl.String, "code_atc": pl.String})
    return (
        mitm.filter(pl.col("code_atc").is_not_null() & (pl.col("code_atc").str.len_chars() > 0))
        .group_by("cis")
        .agg(pl.col("code_atc").first())
        .sort("cis")
    )


def specialite_atc(compo: pl.DataFrame, specialites: pl.DataFrame | None, mitm: pl.DataFrame | None) -> pl.DataFrame:
    """(cis, code_atc, source_atc): official codes, then the deduced ones (module docstring)."""
    schema = {"cis": pl.String, "code_atc": pl.String, "source_atc": pl.String}
    official = official_codes(mitm)
    if official.is_empty():
        return pl.DataFrame(schema=schema)
    out = [official.with_columns(pl.lit(SOURCE_OFFICIAL).alias("source_atc"))]
    if specialites is not None and not specialites.is_empty():
        k = keys(compo, specialites)
        by_key = (
            k.join(official, on="cis")
            .group_by("cle")
            .agg(pl.col("code_atc").unique().alias("codes"))
            .filter(pl.col("codes").list.len() == 1)
            .select("cle", pl.col("codes").list.first().alias("code_atc"))
        )
        out.append(
            k.join(official.select("cis"), on="cis", how="anti")
            .join(by_key, on="cle")
            .select("cis", "code_atc", pl.lit(SOURCE_DEDUCED).alias("source_atc"))
        )
    return pl.concat([o.select(list(schema)) for o in out]).sort("cis")


def leave_one_out(compo: pl.DataFrame, specialites: pl.DataFrame, mitm: pl.DataFrame) -> pl.DataFrame:
    """Each official code hidden in turn and deduced from the other MITM medicines:
    (cis, code_atc official, deduit: the deduced code or null)."""
    official = official_codes(mitm)
    k = keys(compo, specialites).join(official, on="cis")
    per_key = k.group_by("cle", "code_atc").agg(pl.len().alias("n"))
    totals = per_key.group_by("cle").agg(pl.col("n").sum().alias("total"), pl.len().alias("n_codes"))
    scored = k.join(per_key, on=["cle", "code_atc"]).join(totals, on="cle")
    # without itself: the others of its key are total - 1; they agree on its own code when
    # n_codes == 1 (and n > 1), or on one other code when n == 1 and n_codes == 2
    other = per_key.rename({"code_atc": "autre", "n": "n_autre"})
    two = (
        scored.filter((pl.col("n") == 1) & (pl.col("n_codes") == 2))
        .join(other, on="cle")
        .filter(pl.col("autre") != pl.col("code_atc"))
    )
    own = scored.filter((pl.col("n_codes") == 1) & (pl.col("n") > 1)).with_columns(pl.col("code_atc").alias("deduit"))
    deduced = pl.concat([own.select("cis", "deduit"), two.select("cis", pl.col("autre").alias("deduit"))])
    return official.join(deduced, on="cis", how="left").sort("cis")
