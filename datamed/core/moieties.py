"""Active moieties from substance names (issue 13, part 1: the name rules).

The *active moiety* is the part of a molecule responsible for its action, without the
appended parts that make it a salt, an ester or a hydrate (the FDA's definition):
diclofénac for diclofénac sodique, potassique, épolamine and diéthylamine. The ANSM
aggregates count cases and exposure per *substance* as the BDPM names it, so one
medicine is split over its salts; the moiety pools them back.

This module holds the name rules, used where the BDPM composition file's own link
between a substance (SA) and its therapeutic fraction (FT) is silent. They work on
names as the sources write them (upper or lower case, with or without accents) and
return an upper-case, unaccented moiety name:

- ``X (CHLORHYDRATE D')``, ``X (SULFATE DE) MONOHYDRATE`` -> ``X``;
- ``CHLORHYDRATE DE X``, ``X DE DIETHYLAMINE``, ``EPOLAMINE DE X`` -> ``X``;
- ``X SODIQUE``, ``X MAGNESIQUE DIHYDRATE``, ``X BASE``, ``X ANHYDRE`` -> ``X``;
- an acid's anion with its cation, ``CLAVULANATE DE POTASSIUM``,
  ``VALPROATE DE SODIUM``, ``ALENDRONATE MONOSODIQUE`` -> ``ACIDE CLAVULANIQUE``,
  ``ACIDE VALPROIQUE``, ``ACIDE ALENDRONIQUE``;
- inorganic salts and everything else are their own moiety (``CHLORURE DE SODIUM``).

``tests/fixtures/moieties.csv`` is a hand-labelled set of salt -> moiety pairs the
rules are measured against (``tests/test_moieties.py``).
"""

from __future__ import annotations

import re

from datamed.core.text import strip_accents

# a moiety's id in the prepared data: never a substance's (``diclofenac`` is the base,
# ``fraction-diclofenac`` its moiety)
FRACTION_PREFIX = "fraction-"

# counter-ions and ester groups written before the moiety ("CHLORHYDRATE DE X") or
# in brackets after it ("X (CHLORHYDRATE DE)")
COUNTER_IONS = (
    "ACETATE",
    "ACETONIDE",
    "ADIPATE",
    "ASPARTATE",
    "BENZOATE",
    "BESILATE",
    "BESYLATE",
    "BICARBONATE",
    "BISULFATE",
    "BITARTRATE",
    "BROMHYDRATE",
    "BROMURE",
    "BUTYRATE",
    "CAMSILATE",
    "CHLORHYDRATE",
    "CITRATE",
    "CYPIONATE",
    "DECANOATE",
    "DIACETATE",
    "DICHLORHYDRATE",
    "DIHYDROGENOCITRATE",
    "DIHYDROGENOPHOSPHATE",
    "DIMALEATE",
    "DIPROPIONATE",
    "EDISILATE",
    "EMBONATE",
    "ENANTATE",
    "ESILATE",
    "ESTOLATE",
    "ETHYLSUCCINATE",
    "FUMARATE",
    "FUROATE",
    "GLUCONATE",
    "HEMIFUMARATE",
    "HEMISUCCINATE",
    "HEMITARTRATE",
    "HYCLATE",
    "HYDROBROMURE",
    "HYDROCHLORURE",
    "HYDROGENOFUMARATE",
    "HYDROGENOMALEATE",
    "HYDROGENOSUCCINATE",
    "HYDROGENOSULFATE",
    "HYDROGENOTARTRATE",
    "IODHYDRATE",
    "ISETHIONATE",
    "LACTATE",
    "LACTOBIONATE",
    "LYSINATE",
    "MALATE",
    "MALEATE",
    "MESILATE",
    "MESYLATE",
    "METHYLSULFATE",
    "MOFETIL",
    "NAPADISILATE",
    "NICOTINATE",
    "NITRATE",
    "OLEATE",
    "OXALATE",
    "PALMITATE",
    "PAMOATE",
    "PHOSPHATE",
    "PIVALATE",
    "PROPIONATE",
    "SALICYLATE",
    "STEARATE",
    "SUCCINATE",
    "SULFATE",
    "TARTRATE",
    "TEBUTATE",
    "TOSILATE",
    "TRIFENATATE",
    "UNDECANOATE",
    "UNDECYLATE",
    "VALERATE",
    "XINAFOATE",
)
# organic bases and cations a drug acid is sold with ("X DE DIETHYLAMINE", "EPOLAMINE DE X")
BASES = (
    "ARGININE",
    "BENZATHINE",
    "CALCIUM",
    "DIETHYLAMINE",
    "DIOLAMINE",
    "EPOLAMINE",
    "ERBUMINE",
    "LITHIUM",
    "LYSINE",
    "MAGNESIUM",
    "MEGLUMINE",
    "OLAMINE",
    "POTASSIUM",
    "PROCAINE",
    "SODIUM",
    "TERT-BUTYLAMINE",
    "TROMETAMOL",
    "ZINC",
)
# the same cations as adjectives after the moiety ("X SODIQUE")
CATION_ADJECTIVES = (
    "SODIQUE",
    "DISODIQUE",
    "MONOSODIQUE",
    "TRISODIQUE",
    "POTASSIQUE",
    "DIPOTASSIQUE",
    "MONOPOTASSIQUE",
    "CALCIQUE",
    "MAGNESIQUE",
    "LITHIQUE",
    "ZINCIQUE",
)
# ester and pro-drug groups written after the moiety ("CANDESARTAN CILEXETIL")
ESTER_SUFFIXES = (
    "ALAFENAMIDE",
    "AXETIL",
    "CILEXETIL",
    "DISOPROXIL",
    "ETEXILATE",
    "MEDOXOMIL",
    "MOFETIL",
    "PIVOXIL",
    "PROXETIL",
)
# hydrates, solvates and forms
FORM_WORDS = (
    "ANHYDRE",
    "BASE",
    "DIHYDRATE",
    "DIHYDRATEE",
    "HEMIHEPTAHYDRATE",
    "HEMIHYDRATE",
    "HEMIPENTAHYDRATE",
    "HEPTAHYDRATE",
    "HEXAHYDRATE",
    "HYDRATE",
    "HYDRATEE",
    "MONOHYDRATE",
    "MONOHYDRATEE",
    "PENTAHYDRATE",
    "SESQUIHYDRATE",
    "TETRAHYDRATE",
    "TRIHYDRATE",
    "TRIHYDRATEE",
    "AMORPHE",
    "MICRONISE",
    "MICRONISEE",
)
# moieties that are themselves inorganic: "CHLORURE DE SODIUM" stays what it is
INORGANIC = {
    "SODIUM",
    "POTASSIUM",
    "CALCIUM",
    "MAGNESIUM",
    "LITHIUM",
    "ZINC",
    "FER",
    "AMMONIUM",
    "ALUMINIUM",
    "CUIVRE",
    "MANGANESE",
    "STRONTIUM",
    "ARGENT",
    "BARYUM",
}

_ALT = "|".join
_ION = rf"(?:{_ALT(COUNTER_IONS)})"
_BASE = rf"(?:{_ALT(BASES)})"
_FORMS = rf"(?:\s+(?:{_ALT(FORM_WORDS)}))*"
_ADJ = rf"(?:{_ALT(CATION_ADJECTIVES)})"
# after a moiety: a cation adjective or noun ("ESOMEPRAZOLE MAGNESIUM"), an ester group
_SUFFIX = rf"(?:{_ALT(CATION_ADJECTIVES + ESTER_SUFFIXES)}|SODIUM|POTASSIUM|MAGNESIUM|CALCIUM)"

# mineral salts keep their whole name: "CALCIUM (CARBONATE DE)" is calcium, not an acid
MINERAL_ANIONS = {
    "CARBONATE",
    "CHLORURE",
    "FLUORURE",
    "GLUCEPTATE",
    "GLUCOHEPTONATE",
    "GLYCEROPHOSPHATE",
    "HYDROXYDE",
    "IODURE",
    "OXYDE",
    "PIDOLATE",
    "SILICATE",
    "THIOSULFATE",
}

# "X (CHLORHYDRATE D') MONOHYDRATE", "X (EPOLAMINE DE)"; "POTASSIUM (CLAVULANATE DE)"
_BRACKET = re.compile(rf"^(?P<m>.+?)\s*\((?P<w>[A-Z-]+)(?:\s+{_ADJ})?\s+D(?:E|')\s*\)(?:\s+{_ADJ})?{_FORMS}$")
# "CHLORHYDRATE DE X", "EPOLAMINE DE X", "CHLORHYDRATE D'X"
_BEFORE = re.compile(rf"^(?:MONO|DI|TRI|HEMI)?(?:{_ION}|{_BASE})\s+D(?:E\s+|')(?P<m>.+?){_FORMS}$")
# "X DE DIETHYLAMINE", "X DE SODIUM"
_AFTER = re.compile(rf"^(?P<m>[A-Z-]+?)\s+D(?:E\s+|')(?:{_BASE}){_FORMS}$")
# "X SODIQUE DIHYDRATE", "X BASE"
_ADJECTIVE = re.compile(rf"^(?P<m>[^()]+?)(?<! DE)(?<!D')(?:\s+{_SUFFIX})+{_FORMS}$")
_FORM_ONLY = re.compile(rf"^(?P<m>.+?){_FORMS}$")
# an acid's anion ("VALPROATE") -> the acid ("ACIDE VALPROIQUE")
_ANION = re.compile(r"^(?P<stem>[A-Z]+?)ATE$")
_IONS, _BASES_SET, _ADJS = set(COUNTER_IONS), set(BASES), set(CATION_ADJECTIVES)


def normalise(name: str) -> str:
    """Upper case, no accents, single spaces, straight apostrophes."""
    text = strip_accents(name or "").upper().replace("\u2019", "'").replace("`", "'")
    return re.sub(r"\s+", " ", text).strip()


# anions whose acid is not their stem + IQUE: divalproate (valproate semisodique) is valproate
ANION_ACIDS = {"DIVALPROATE": "ACIDE VALPROIQUE"}
# the ANSM's inverted acid "VALPROIQUE (ACIDE)" -> "ACIDE VALPROIQUE"
_ACID_INVERTED = re.compile(rf"^(?P<stem>[A-Z-]+IQUE)\s*\(ACIDE\){_FORMS}$")


def _acid(anion: str) -> str | None:
    """'VALPROATE' -> 'ACIDE VALPROIQUE' (one word; not a counter-ion or mineral anion)."""
    if anion in ANION_ACIDS:
        return ANION_ACIDS[anion]
    match = _ANION.match(anion)
    if not match or anion in _IONS or anion in MINERAL_ANIONS:
        return None
    return f"ACIDE {match['stem']}IQUE"


def _step(text: str) -> str:
    """One rule applied (the first that matches); the text itself when none does."""
    if m := _ACID_INVERTED.match(text):
        return f"ACIDE {m['stem']}"
    if m := _BRACKET.match(text):
        stem, word = m["m"].strip(), m["w"]
        if stem in INORGANIC:  # "POTASSIUM (CLAVULANATE DE)": the anion carries the drug
            return _acid(word) or text
        if word in _IONS or word in _BASES_SET or word in _ADJS:
            return stem
        return text
    if (m := _AFTER.match(text)) and m["m"] not in _IONS and m["m"] not in MINERAL_ANIONS:
        stem = m["m"]
        return _acid(stem) or stem
    if (m := _BEFORE.match(text)) and m["m"] not in INORGANIC:
        return m["m"]
    if (m := _ADJECTIVE.match(text)) and m["m"] not in _IONS and m["m"] not in MINERAL_ANIONS:
        stem = m["m"]
        return (_acid(stem) or stem) if " " not in stem else stem
    if (m := _FORM_ONLY.match(text)) and m["m"] != text:
        return m["m"]
    return text


def moiety(name: str) -> str:
    """The active moiety's name by the name rules (upper case, no accents); the name
    itself when no rule applies."""
    text = normalise(name)
    for _ in range(3):  # "X (SULFATE DE) SODIQUE" can need two steps
        after = _step(text).strip()
        if after == text:
            break
        text = after
    return text


def _words(text: str) -> set[str]:
    return set(re.findall(r"[A-Z0-9]+", text))


def plausible_fraction(substance: str, fraction: str) -> bool:
    """Whether a therapeutic fraction the BDPM links to a substance names its moiety:
    the fraction's words (but ACIDE) are words of the substance's name, or both give the
    same moiety by the name rules. The BDPM also links contrast agents to "IODE",
    acetylcysteine to "CYSTEINE" and calcium salts to "CALCIUM ELEMENT": those are
    rejected (the name rules decide)."""
    sub, frac = normalise(substance), moiety(fraction)
    if frac == moiety(sub):
        return True
    words = _words(frac) - {"ACIDE"}
    return bool(words) and words <= _words(sub)
