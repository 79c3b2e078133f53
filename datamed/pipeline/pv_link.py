"""Link pharmacovigilance substance names to BDPM substances (CIS_COMPO codes).

Names differ in form more than in substance: "ABACAVIR (SULFATE D')" vs
"SULFATE D'ABACAVIR", "THEOPHYLLINE MONOHYDRATEE" vs "THÉOPHYLLINE",
"ETANERCEPT (MAMMIFERE/HAMSTER/CELLULES CHO)" vs "ÉTANERCEPT". Matching goes
from strict to loose, and every link records its method and score:

1. ``exact``: same name once accents, case and punctuation are ignored;
2. ``ordre des mots``: same words in another order ("(S)-MALATE DE CABOZANTINIB");
3. ``sel ou hydrate``: same words once salts, hydrates, "base" and the
   production organism in brackets are set aside;
4. ``approché``: rapidfuzz similarity of the reduced names above a cut-off,
   only when the best candidate is clearly ahead of the next one.

A name may link to several BDPM codes (the salt and the base of one molecule
often have two codes). Unlinked names are listed with their best suggestions.
"""

from __future__ import annotations

import re

import polars as pl
from rapidfuzz import fuzz, process

from datamed.core.text import normalise

STOPWORDS = {"de", "d", "du", "des", "l", "la", "le", "les", "a", "en", "et"}
SALT_WORDS = {
    "acetate",
    "acetonide",
    "aceponate",
    "anhydre",
    "arginine",
    "aspartate",
    "base",
    "benzoate",
    "besilate",
    "bicarbonate",
    "bitartrate",
    "bromhydrate",
    "bromure",
    "butyrate",
    "calcique",
    "calcium",
    "carbonate",
    "chlorhydrate",
    "chlorure",
    "citrate",
    "cyclopentylpropionate",
    "decanoate",
    "diacetate",
    "dichlorhydrate",
    "dihydrate",
    "dihydratee",
    "dimesilate",
    "dipropionate",
    "disodique",
    "dipotassique",
    "embonate",
    "enantate",
    "epolamine",
    "esilate",
    "fumarate",
    "furoate",
    "gluconate",
    "heptahydrate",
    "hemifumarate",
    "hemihydrate",
    "hemihydratee",
    "hemitartrate",
    "hexahydrate",
    "hyclate",
    "hydrate",
    "hydratee",
    "hydrochlorure",
    "hydrogenotartrate",
    "hydrogenosuccinate",
    "hydroxyde",
    "iodure",
    "isethionate",
    "lactate",
    "lysine",
    "magnesique",
    "maleate",
    "malate",
    "mesilate",
    "metilsulfate",
    "monohydrate",
    "monohydratee",
    "monosodique",
    "nitrate",
    "oxalate",
    "palmitate",
    "pamoate",
    "phosphate",
    "pivalate",
    "potassique",
    "potassium",
    "propionate",
    "sesquihydrate",
    "sodique",
    "sodium",
    "stearate",
    "succinate",
    "sulfate",
    "tartrate",
    "tetrahydrate",
    "tosilate",
    "trihydrate",
    "trihydratee",
    "trometamol",
    "undecanoate",
    "valerate",
    "camsilate",
    "s",
    "r",
}
_HYDRATE = re.compile(r"^(hemi|sesqui|mono|di|tri|tetra|penta|hexa|hepta|octa|nona|deca|dodeca)*hydratee?$")


def _is_salt(word: str) -> bool:
    return word in SALT_WORDS or bool(_HYDRATE.match(word))


_ORGANISM = re.compile(r"\([^()]*/[^()]*\)")  # (MAMMIFERE/HAMSTER/CELLULES CHO)

FUZZY_CUTOFF = 90
FUZZY_MARGIN = 3  # the best candidate must beat the runner-up by this much


def words(name: str) -> list[str]:
    return [w for w in normalise(name).split() if w not in STOPWORDS]


def key_order(name: str) -> str:
    return " ".join(sorted(words(name)))


def key_reduced(name: str) -> str:
    """Sorted words without salts, hydrates and the production organism."""
    base = _ORGANISM.sub(" ", name)
    kept = [w for w in words(base) if not _is_salt(w)]
    return " ".join(sorted(kept)) if kept else key_order(base)


def salts(name: str) -> set[str]:
    """Salt words of a name, hydration states and 'base' aside."""
    return {w for w in words(_ORGANISM.sub(" ", name)) if w in SALT_WORDS and not _HYDRATE.match(w)} - {
        "base",
        "anhydre",
        "s",
        "r",
    }


def _compatible(pv: str, bdpm_name: str) -> bool:
    """Diclofenac potassium is not diclofenac sodium; a salt and its base are one substance."""
    a, b = salts(pv), salts(bdpm_name)
    return not a or not b or a == b


def _digits(key: str) -> set[str]:
    """Words carrying digits (strains, serotypes, 2a/2b variants) must agree exactly."""
    return {w for w in key.split() if any(ch.isdigit() for ch in w)}


def link_substances(pv_names: list[str], bdpm: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Return (links, unmatched).

    ``bdpm`` has columns code_substance and denomination_substance (every
    spelling found in CIS_COMPO). ``links``: nom, code_substance,
    denomination_bdpm, methode, score. ``unmatched``: nom, suggestions.
    """
    pairs = (
        bdpm.select("code_substance", "denomination_substance")
        .unique()
        .sort("code_substance", "denomination_substance")
        .rows()
    )
    by_exact: dict[str, set[tuple[str, str]]] = {}
    by_order: dict[str, set[tuple[str, str]]] = {}
    by_reduced: dict[str, set[tuple[str, str]]] = {}
    for code, name in pairs:
        by_exact.setdefault(normalise(name), set()).add((code, name))
        by_order.setdefault(key_order(name), set()).add((code, name))
        by_reduced.setdefault(key_reduced(name), set()).add((code, name))
    reduced_keys = list(by_reduced)

    links: list[tuple[str, str, str, str, int]] = []
    unmatched: list[tuple[str, list[str]]] = []
    for pv in pv_names:
        found: set[tuple[str, str]] = set()
        method, score = "", 0
        for m, table, key in (
            ("exact", by_exact, normalise(pv)),
            ("ordre des mots", by_order, key_order(pv)),
            ("sel ou hydrate", by_reduced, key_reduced(pv)),
        ):
            candidates = {c for c in table.get(key, ()) if _compatible(pv, c[1])}
            if candidates:
                found, method, score = candidates, m, 100
                break
        if not found:
            reduced = key_reduced(pv)
            best = process.extract(reduced, reduced_keys, scorer=fuzz.token_sort_ratio, limit=2)
            if (
                best
                and best[0][1] >= FUZZY_CUTOFF
                and (len(best) < 2 or best[0][1] - best[1][1] >= FUZZY_MARGIN)
                and _digits(reduced) == _digits(best[0][0])
            ):
                found = {c for c in by_reduced[best[0][0]] if _compatible(pv, c[1])}
                method, score = "approché", int(round(best[0][1]))
            if not found:
                suggestions = [
                    sorted(by_reduced[k])[0][1]
                    for k, s, _ in process.extract(reduced, reduced_keys, scorer=fuzz.token_set_ratio, limit=3)
                    if s >= 60
                ]
                unmatched.append((pv, suggestions))
                continue
        for code, name in sorted(found):
            links.append((pv, code, name, method, score))
    links_frame = pl.DataFrame(
        links,
        schema={
            "nom": pl.String,
            "code_substance": pl.String,
            "denomination_bdpm": pl.String,
            "methode": pl.String,
            "score": pl.Int16,
        },
        orient="row",
    ).unique(["nom", "code_substance"], keep="first", maintain_order=True)
    unmatched_frame = pl.DataFrame(
        unmatched, schema={"nom": pl.String, "suggestions": pl.List(pl.String)}, orient="row"
    )
    return links_frame, unmatched_frame
