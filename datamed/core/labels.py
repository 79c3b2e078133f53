"""Source labels made fit to read: case and accents, for display only.

The sources write some labels without accents (the French ATC labels of the DataMed
project: "Autres medicaments", "Antiinflammatoires non steroidiens") or in capitals
(substance names of the BDPM and of the pharmacovigilance files, which pages put in
sentence case: "DL-LYSINE (ACÉTYLSALICYLATE DE)" became "Dl-lysine (acétylsalicylate
de)"). ``display_label`` returns the label to show; the prepared data keep the source's
label, and search keeps matching on it (its matching is accent- and case-blind).

Two parts, both reviewed by hand against the real labels (tests/test_labels.py):

* ``ACCENTS``: French words the sources write without their accents, with their
  spelling. Only whole words are replaced, only words that cannot be read another way
  without accents (no "a"/"ou"/"la", no "active"/"inactive", no drug name that may be
  an English one).
* generic rules, which only restore what a capitalised source had written, or what
  French chemistry and biology write in capitals: stereo prefixes (DL-, D-, L-, N-),
  Roman numerals (facteur VIII), single letters (vitamine B12, groupe C, hépatite A),
  codes holding a digit (CRM197, H1N1), dotted initials (T.S.H.), a short list of
  acronyms (ADN, BCG, VRS, SARS-CoV-2...) and genera of Latin names (Neisseria
  meningitidis), and the preposition "a" between two words, which is "à".
"""

from __future__ import annotations

import functools
import re

import polars as pl

# reviewed: unaccented word (lower case) -> French spelling
ACCENTS: dict[str, str] = {
    "acetate": "acétate",
    "acetyl": "acétyl",
    "acetylsalicylate": "acétylsalicylate",
    "acetylsalicylique": "acétylsalicylique",
    "acne": "acné",
    "activite": "activité",
    "adrenergiques": "adrénergiques",
    "adsorbe": "adsorbé",
    "adsorbee": "adsorbée",
    "agregation": "agrégation",
    "alcaloides": "alcaloïdes",
    "allergenique": "allergénique",
    "aminobenzoique": "aminobenzoïque",
    "analgesiques": "analgésiques",
    "androgenes": "androgènes",
    "anesthesiques": "anesthésiques",
    "angioedeme": "angiœdème",
    "antiacneiques": "antiacnéiques",
    "antibacteriens": "antibactériens",
    "antidiarrheiques": "antidiarrhéiques",
    "antiemetiques": "antiémétiques",
    "antigene": "antigène",
    "antigenes": "antigènes",
    "antilepreux": "antilépreux",
    "antimetabolites": "antimétabolites",
    "antineoplasiques": "antinéoplasiques",
    "antipyretiques": "antipyrétiques",
    "apparentes": "apparentés",
    "arterielle": "artérielle",
    "associee": "associée",
    "associees": "associées",
    "associes": "associés",
    "attenue": "atténué",
    "bacterie": "bactérie",
    "bacteriens": "bactériens",
    "benigne": "bénigne",
    "benzodiazepine": "benzodiazépine",
    "benzodiazepines": "benzodiazépines",
    "benzoique": "benzoïque",
    "beta": "bêta",
    "bioflavonoides": "bioflavonoïdes",
    "capsaicine": "capsaïcine",
    "cephalosporines": "céphalosporines",
    "concentres": "concentrés",
    "conjugue": "conjugué",
    "conjugues": "conjugués",
    "corticoides": "corticoïdes",
    "decongestionnants": "décongestionnants",
    "derive": "dérivé",
    "derivee": "dérivée",
    "derives": "dérivés",
    "desinfectants": "désinfectants",
    "desordres": "désordres",
    "detection": "détection",
    "diclofenac": "diclofénac",
    "dietetiques": "diététiques",
    "dihydrogenophosphate": "dihydrogénophosphate",
    "diphterique": "diphtérique",
    "diuretiques": "diurétiques",
    "dodecahydrate": "dodécahydraté",
    "echographie": "échographie",
    "efavirenz": "éfavirenz",
    "electrolytes": "électrolytes",
    "elements": "éléments",
    "emollients": "émollients",
    "entrainant": "entraînant",
    "epargneurs": "épargneurs",
    "equine": "équine",
    "erection": "érection",
    "estrogenes": "estrogènes",
    "ethambutol": "éthambutol",
    "ethers": "éthers",
    "ethinylestradiol": "éthinylestradiol",
    "ethyliques": "éthyliques",
    "ezetimibe": "ézétimibe",
    "fragmente": "fragmenté",
    "oesophagien": "œsophagien",
    "glycerophosphate": "glycérophosphate",
    "gynecologiques": "gynécologiques",
    "hematologie": "hématologie",
    "hemodialyse": "hémodialyse",
    "hemofiltration": "hémofiltration",
    "hemorroides": "hémorroïdes",
    "hemostatiques": "hémostatiques",
    "heparine": "héparine",
    "heparines": "héparines",
    "hepatique": "hépatique",
    "hepatite": "hépatite",
    "hepatites": "hépatites",
    "hydrogenomalate": "hydrogénomalate",
    "hereditaire": "héréditaire",
    "imidazoles": "imidazolés",
    "interferon": "interféron",
    "iodes": "iodés",
    "levofolinate": "lévofolinate",
    "liberation": "libération",
    "lyophilise": "lyophilisé",
    "magnesium": "magnésium",
    "maleate": "maléate",
    "manganese": "manganèse",
    "medicament": "médicament",
    "medicamenteux": "médicamenteux",
    "medicaments": "médicaments",
    "medoxomil": "médoxomil",
    "meglumine": "méglumine",
    "metabolisme": "métabolisme",
    "methane": "méthane",
    "mineraux": "minéraux",
    "monohydrate": "monohydraté",
    "motricite": "motricité",
    "obesite": "obésité",
    "olmesartan": "olmésartan",
    "omega": "oméga",
    "osmolarite": "osmolarité",
    "pantothenate": "pantothénate",
    "parenterale": "parentérale",
    "parenterales": "parentérales",
    "peginterferon": "peginterféron",
    "penemes": "pénèmes",
    "penicillines": "pénicillines",
    "perindopril": "périndopril",
    "peripheriques": "périphériques",
    "phenol": "phénol",
    "phenothiazine": "phénothiazine",
    "phenothiazines": "phénothiazines",
    "phenylbutyrate": "phénylbutyrate",
    "phenylephrine": "phényléphrine",
    "phenylpiperidine": "phénylpipéridine",
    "poliomyelitique": "poliomyélitique",
    "pregnene": "prégnène",
    "preparation": "préparation",
    "preparations": "préparations",
    "proteine": "protéine",
    "proteines": "protéines",
    "proteiques": "protéiques",
    "proteolytiques": "protéolytiques",
    "psoralenes": "psoralènes",
    "pyrethrines": "pyréthrines",
    "quinoleine": "quinoléine",
    "quinoleines": "quinoléines",
    "regime": "régime",
    "regimes": "régimes",
    "reticuloendothelial": "réticuloendothélial",
    "sclerosants": "sclérosants",
    "sedatifs": "sédatifs",
    "selectifs": "sélectifs",
    "sequentielle": "séquentielle",
    "serotonine": "sérotonine",
    "serotype": "sérotype",
    "serotypes": "sérotypes",
    "sesquihydrate": "sesquihydraté",
    "specifiques": "spécifiques",
    "steptogramines": "streptogramines",  # a typo of the source
    "steroidiens": "stéroïdiens",
    "substituees": "substituées",
    "synthese": "synthèse",
    "systeme": "système",
    "systemique": "systémique",
    "systemiques": "systémiques",
    "technetium": "technétium",
    "tenofovir": "ténofovir",
    "tetanique": "tétanique",
    "tetracycline": "tétracycline",
    "tetracyclines": "tétracyclines",
    "tetrahydrate": "tétrahydraté",
    "therapeutique": "thérapeutique",
    "therapeutiques": "thérapeutiques",
    "tres": "très",
    "tretinoine": "trétinoïne",
    "triglycerides": "triglycérides",
    "trihydrate": "trihydraté",
    "trometamol": "trométamol",
    "uree": "urée",
    "utilises": "utilisés",
    "vesicules": "vésicules",
}

# reviewed: acronyms and codes (lower case) -> their spelling
ACRONYMS: dict[str, str] = {
    "adn": "ADN",
    "arn": "ARN",
    "arnm": "ARNm",
    "bcg": "BCG",
    "chikv": "CHIKV",
    "cncm": "CNCM",
    "cov": "CoV",
    "gbm": "GBM",
    "crm": "CRM",
    "hpv": "HPV",
    "hynic": "HYNIC",
    "iec": "IEC",
    "mva": "MVA",
    "oms": "OMS",
    "omv": "OMV",
    "ppv": "PPV",
    "rgo": "RGO",
    "sars": "SARS",
    "sras": "SRAS",
    "uv": "UV",
    "vih": "VIH",
    "vrs": "VRS",
    "vzv": "VZV",
    "xbb": "XBB",
}

# genera of the Latin names found in substance labels (the species stays in lower case)
GENERA = frozenset(
    {
        "bacillus",
        "bifidobacterium",
        "bordetella",
        "clostridium",
        "corynebacterium",
        "escherichia",
        "haemophilus",
        "lactobacillus",
        "mycobacterium",
        "neisseria",
        "saccharomyces",
        "salmonella",
        "staphylococcus",
        "streptococcus",
        "vibrio",
        "vipera",
    }
)

ROMAN = frozenset({"ii", "iii", "iv", "vi", "vii", "viii", "ix", "xi", "xii", "xiii"})
#: words after which a single letter names a vitamin, group, type, strain or virus (B12, C, A)
LETTER_AFTER = frozenset(
    {"vitamine", "vitamines", "vit", "groupe", "groupes", "type", "types", "sous-groupe", "hépatite", "hepatite"}
)

_WORD = re.compile(r"[^\W_]+(?:-[^\W_]+)*", re.UNICODE)  # words, hyphenated ones whole ("gastro-oesophagien")
_STEREO = re.compile(r"(?<![\w'’])(dl|d,l|d|l|n|o)-(?=[^\W\d_])", re.IGNORECASE)
_DOTTED = re.compile(r"(?<![\w.])((?:[^\W\d_]\.){2,})", re.UNICODE)
_LETTER_LIST = re.compile(r"(?<![\w'’-])([a-z](?:, ?[a-z])+)(?![\w'’])", re.IGNORECASE)  # méningocoques A,C,Y
_LETTER_CODE = re.compile(r"(?<![\w'’-])([a-z])(?=-\d)")  # W-135, I-745
_A = re.compile(r"(?<=[^\W\d_]{2}) a (?=[^\W\d_]{2})")


def _match_case(word: str, spelling: str) -> str:
    """``spelling`` with the case of ``word`` (capitalised or not)."""
    return spelling[:1].upper() + spelling[1:] if word[:1].isupper() else spelling


def _shouted(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return len(letters) >= 3 and all(c.isupper() for c in letters)


def _part(part: str, original: str | None, previous: str) -> str:
    """One word, or one part of a hyphenated word: its accents or capitals.
    ``original``: the same part as the source wrote it (before lower-casing)."""
    lower = part.lower()
    if lower in ACCENTS:
        return _match_case(part, ACCENTS[lower])
    if lower in ACRONYMS:
        return ACRONYMS[lower]
    if lower in GENERA:
        return lower.capitalize()
    if lower in ROMAN:
        return lower.upper()
    if previous in LETTER_AFTER and re.fullmatch(r"[a-z]\d{0,2}", lower):
        return lower.upper()  # vitamine A, vit B1, hépatite B, groupe C
    if original is not None and (any(c.isdigit() for c in original) or (len(original) == 1 and original not in "AaÀà")):
        return original  # CRM197, H1N1, 18F; groupe Y, antigène F: as the source wrote them
    return part


def _words(text: str, source: str | None) -> str:
    """Word by word (each part of a hyphenated word on its own): accents, acronyms,
    genera, Roman numerals, letters and codes. ``source``: the text as the source wrote
    it, before it was put in lower case (its words are at the same places), or None."""
    source_words = [m.group(0) for m in _WORD.finditer(source)] if source is not None else None
    out, last, previous = [], 0, ""
    for i, m in enumerate(_WORD.finditer(text)):
        word = m.group(0)
        elided = text[m.end() : m.end() + 1] in ("'", "’")  # L'ACIDE, D'ALUMINIUM: an article, not a letter
        original = source_words[i] if source_words is not None and i < len(source_words) and not elided else None
        parts, originals = word.split("-"), original.split("-") if original else None
        if originals is not None and len(originals) != len(parts):
            originals = None
        new = []
        for j, part in enumerate(parts):
            new.append(_part(part, originals[j] if originals else None, previous))
            previous = part.lower()
        out.append(text[last : m.start()] + "-".join(new))
        last = m.end()
    out.append(text[last:])
    return "".join(out)


@functools.lru_cache(maxsize=1 << 14)
def display_label(text: str | None, sentence: bool = False) -> str:
    """``text`` as shown to the reader: capitals of a shouted source put in sentence case
    ("DL-LYSINE (ACÉTYLSALICYLATE DE)" -> "DL-lysine (acétylsalicylate de)"; every label
    too with ``sentence``), known unaccented words accented ("Autres medicaments" ->
    "Autres médicaments"), the preposition "a" written "à". Idempotent."""
    if not text:
        return text or ""
    source = None
    if sentence or _shouted(text):
        source = text
        lowered = text.lower()
        text = lowered[:1].upper() + lowered[1:]
    text = _words(text, source)
    text = _LETTER_LIST.sub(lambda m: m.group(1).upper(), text)
    text = _LETTER_CODE.sub(lambda m: m.group(1).upper(), text)
    text = _A.sub(" à ", text)
    text = _STEREO.sub(lambda m: m.group(1).upper() + "-", text)
    text = _DOTTED.sub(lambda m: m.group(1).upper(), text)
    return " ".join(text.split()) if "  " in text else text


def sentence_label(text: str | None) -> str:
    """``display_label`` in sentence case: the first letter only in capitals."""
    return display_label(text, sentence=True)


def display_labels(frame: pl.DataFrame, *columns: str, sentence: bool = False) -> pl.DataFrame:
    """``frame`` (polars) with its text ``columns`` through ``display_label``; each
    distinct label is cleaned once (plain Python over the distinct values, never a
    Python function inside polars: see ``core.text.fr_column``)."""
    out = []
    for column in columns:
        if column not in frame.columns:
            continue
        values = frame[column].drop_nulls().unique().to_list()
        mapping = {v: display_label(v, sentence) for v in values}
        if any(k != v for k, v in mapping.items()):
            out.append(pl.col(column).replace_strict(mapping, default=pl.col(column), return_dtype=pl.String))
    return frame.with_columns(out) if out else frame
