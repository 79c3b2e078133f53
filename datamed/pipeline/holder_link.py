"""Link marketing-authorisation holders (BDPM ``titulaires``) to French sites.

Holders and site operators are spelt differently: "LES LABORATOIRES SERVIER"
vs "Laboratoires SERVIER Industrie", "SANOFI AVENTIS (ALLEMAGNE)" vs "SANOFI
CHIMIE - Site de Sisteron". Matching goes from strict to loose; each
(holder, site) pair records the strictest method that joins it:

1. ``exact``: same name once accents, case and punctuation are ignored;
2. ``normalisé``: same distinctive core once legal forms (SA, SAS, GMBH…),
   generic words (LABORATOIRES, PHARMA, FRANCE, INDUSTRIE, HOLDING…), country
   brackets ("(ALLEMAGNE)") and site suffixes ("- Site de Baupte") are dropped;
3. ``groupe``: both names begin with a name of the same pharmaceutical group,
   from a small curated list (``GROUPS``): "SANOFI WINTHROP INDUSTRIE" and
   "SANOFI CHIMIE", "GLAXOSMITHKLINE" and "GSKBIO", "BIOGARAN" and "SERVIER";
4. ``approché``: only for a holder with no link above, rapidfuzz
   ``token_set_ratio`` of the cores at or above ``FUZZY_CUTOFF``, ahead of the
   runner-up by ``FUZZY_MARGIN``, and with the same first distinctive word.

Two names of different known groups are never linked other than by an exact
name ("MERCK SHARP & DOHME" is MSD, "MERCK SANTE" is Merck KGaA).

``score`` is the similarity of the two cores (token_set_ratio, 0-100). A holder
may link to several sites and a site to several holders. Pharmacies are never
candidates. Precision comes first: a wrong link puts a factory on a medicine
page (see tests/fixtures/holder_site_links_labelled.csv).
"""

from __future__ import annotations

import math
import re

import polars as pl
from rapidfuzz import fuzz, process

from datamed.core.holders import holders_with_counts
from datamed.core.text import normalise
from datamed.core.vocabulary import HOLDER_LINK_METHODS

STOPWORDS = {"de", "d", "du", "des", "l", "la", "le", "les", "et", "ou", "and", "of", "the", "a", "en", "y"}
LEGAL_FORMS = {
    "sa",
    "sas",
    "sasu",
    "sarl",
    "snc",
    "eurl",
    "gie",
    "selas",
    "gmbh",
    "ltd",
    "limited",
    "inc",
    "bv",
    "nv",
    "spa",
    "srl",
    "sl",
    "ag",
    "kgaa",
    "corp",
    "corporation",
    "llc",
    "plc",
    "ab",
    "oy",
    "asa",
    "eeig",
    "uc",
    "co",
    "cie",
    "company",
    "societe",
    "ste",
    "sociedad",
}
GENERIC_WORDS = {
    # trade words
    "laboratoires",
    "laboratoire",
    "laboratorios",
    "laboratorio",
    "labo",
    "labs",
    "lab",
    "labortoires",
    "pharma",
    "pharmaceutique",
    "pharmaceutiques",
    "pharmaceutical",
    "pharmaceuticals",
    "pharmaceutica",
    "farmaceutici",
    "farmaceutica",
    "arzneimittel",
    "medicament",
    "medicaments",
    "industrie",
    "industries",
    "groupe",
    "group",
    "holding",
    "holdings",
    "healthcare",
    "health",
    "sante",
    "production",
    "productions",
    "manufacturing",
    "chimie",
    "chemie",
    "registration",
    "trading",
    "service",
    "services",
    "distribution",
    "developpement",
    "products",
    "produits",
    "international",
    "internacional",
    # countries and regions (outside brackets too: "ABBVIE DEUTSCHLAND")
    "france",
    "europe",
    "deutschland",
    "ireland",
    "irlande",
    "netherlands",
    "nederland",
    "belgium",
    "belgique",
    "espagne",
    "spain",
    "italie",
    "italia",
    "uk",
    "austria",
    "autriche",
    "suisse",
    "luxembourg",
    "danemark",
    "denmark",
    "sweden",
    "suede",
    "malta",
    "malte",
}
# "- Site de Baupte", "Usine de Bolbec", "Centre de production de Romainville", "Campus Mérieux"
_SITE_SUFFIX = re.compile(r"\b(site|usine|centre|campus|etablissement)\b.*$")
_BRACKETS = re.compile(r"\([^()]*\)?")

# Curated pharmaceutical groups: group -> name beginnings (normalised words) of
# its companies. Only names distinctive enough to identify the group; former
# members that left it (Sandoz from Novartis, Haleon from GSK, Zentiva and
# Opella from Sanofi, Organon from MSD, EUROAPI from Sanofi) are kept apart.
GROUPS: dict[str, tuple[str, ...]] = {
    "sanofi": ("sanofi", "sanofi aventis", "sanofi winthrop", "sanofi pasteur", "genzyme"),
    "euroapi": ("euroapi",),
    "opella": ("opella",),
    "servier": ("servier", "biogaran", "oril"),
    "pierre fabre": ("pierre fabre",),
    "ipsen": ("ipsen", "beaufour ipsen"),
    "boiron": ("boiron",),
    "guerbet": ("guerbet",),
    "pfizer": ("pfizer",),
    "novartis": ("novartis",),
    "sandoz": ("sandoz",),
    "roche": ("roche",),
    "bayer": ("bayer",),
    "merck kgaa": ("merck", "merck serono", "merck kgaa"),
    "msd": ("msd", "msd chibret", "merck sharp dohme"),
    "gsk": ("gsk", "gskbio", "glaxosmithkline", "glaxo smith kline", "glaxo wellcome", "viiv", "stiefel"),
    "astrazeneca": ("astrazeneca",),
    "janssen": ("janssen", "janssen cilag"),
    "kenvue": ("kenvue", "jntl"),
    "lilly": ("lilly", "eli lilly"),
    "abbvie": ("abbvie",),
    "abbott": ("abbott",),
    "teva": ("teva", "ratiopharm", "actavis"),
    "viatris": ("viatris", "mylan", "meda"),
    "zentiva": ("zentiva",),
    "delpharm": ("delpharm",),
    "fareva": ("fareva",),
    "recipharm": ("recipharm",),
    "cenexi": ("cenexi",),
    "corden": ("corden",),
    "boehringer ingelheim": ("boehringer ingelheim", "boehringer"),
    "novo nordisk": ("novo nordisk",),
    "daiichi sankyo": ("daiichi sankyo",),
    "octapharma": ("octapharma",),
    "lfb": ("lfb", "francais fractionnement"),
    "linde": ("linde",),
    "dsm": ("dsm", "dsm firmenich"),
    "galderma": ("galderma",),
    "besins": ("besins",),
    "biocodex": ("biocodex",),
    "aspen": ("aspen",),
    "recordati": ("recordati", "bouchara recordati", "casen recordati"),
    "septodont": ("septodont", "specialites septodont"),
    "cooper": ("cooper", "cooperation pharmaceutique francaise"),
    "upsa": ("upsa", "bms upsa"),
    "bristol myers squibb": ("bristol myers squibb", "bms"),
    "macopharma": ("maco pharma", "macopharma", "maco productions"),
    "curium": ("curium", "cis bio international"),
    "urgo": ("urgo",),
    "ethypharm": ("ethypharm",),
    "expanscience": ("expanscience",),
}
_LEADING = {"laboratoires", "laboratoire", "labo", "labs", "labortoires", "societe", "ste", "groupe", "group"}
_ALIASES = sorted(
    ((tuple(alias.split()), group) for group, aliases in GROUPS.items() for alias in aliases),
    key=lambda item: -len(item[0]),
)

FUZZY_CUTOFF = 90
FUZZY_MARGIN = 5  # the best site name must beat the runner-up by this much
MIN_WORD = 4  # the first word shared by an "approché" link has at least 4 letters
SUGGESTION_FLOOR = 65
METHODS = HOLDER_LINK_METHODS

LINKS_SCHEMA = {
    "titulaire": pl.String,
    "site_id": pl.String,
    "site_nom": pl.String,
    "methode": pl.String,
    "score": pl.Int16,
}
UNMATCHED_SCHEMA = {"titulaire": pl.String, "n_medicaments": pl.Int64, "suggestions": pl.List(pl.String)}


def _words(name: str) -> list[str]:
    """Normalised words without brackets, stop words and legal forms."""
    text = _BRACKETS.sub(" ", name or "")
    return [w for w in normalise(text).split() if w not in STOPWORDS and w not in LEGAL_FORMS]


def normalise_company(name: str) -> str:
    """The distinctive core of a company name.

    >>> normalise_company("SANOFI WINTHROP INDUSTRIE")
    'sanofi winthrop'
    >>> normalise_company("LABORATOIRES SERVIER")
    'servier'
    >>> normalise_company("CARGILL - Site de Baupte")
    'cargill'
    """
    text = " ".join(_words(name))
    cut = _SITE_SUFFIX.sub("", text).strip()
    words = [w for w in cut.split() if w not in GENERIC_WORDS and len(w) > 1]
    return " ".join(words)


def company_group(name: str) -> str | None:
    """The curated group whose name begins this company name, if any."""
    words = _words(name)
    while words and words[0] in _LEADING:
        words = words[1:]
    for alias, group in _ALIASES:
        if tuple(words[: len(alias)]) == alias:
            return group
    return None


def _candidate_sites(sites: pl.DataFrame) -> pl.DataFrame:
    frame = sites
    if "type" in frame.columns:
        frame = frame.filter(pl.col("type").fill_null("") != "pharmacie")
    return frame.filter(pl.col("nom").is_not_null() & (pl.col("nom").str.strip_chars() != "")).select("site_id", "nom")


def _same_first_word(a: str, b: str) -> bool:
    """The first distinctive words agree: "provepharm" / "provepharm life solutions"."""
    wa, wb = a.split(), b.split()
    return bool(wa and wb) and wa[0] == wb[0] and len(wa[0]) >= MIN_WORD


def _other_group(a: str | None, b: str | None) -> bool:
    """Both names belong to known groups, and not the same one ("MSD" vs "MERCK SANTE")."""
    return a is not None and b is not None and a != b


def link_holders(
    holders: list[str], sites: pl.DataFrame, counts: dict[str, int] | None = None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Return (links, unmatched).

    ``holders``: holder names, repeated once per medicine (CIS) held, e.g.
    ``specialites["titulaires"].explode().to_list()``; the repetitions give
    ``n_medicaments`` unless ``counts`` (holder -> CIS held) is given.
    ``sites``: the harmonised sites (site_id, nom, type…); pharmacies are ignored.

    ``links``: titulaire, site_id, site_nom, methode, score.
    ``unmatched``: titulaire, n_medicaments, suggestions (up to 3 site names).
    """
    n_held: dict[str, int] = {}
    for h in holders:
        if h is not None and str(h).strip():
            n_held[h] = n_held.get(h, 0) + 1
    if counts:
        n_held = {h: int(counts.get(h, n)) for h, n in n_held.items()}

    candidates = _candidate_sites(sites).rows()
    by_exact: dict[str, list[tuple[str, str]]] = {}
    by_core: dict[str, list[tuple[str, str]]] = {}
    by_group: dict[str, list[tuple[str, str]]] = {}
    core_of: dict[str, str] = {}
    group_of: dict[str, str | None] = {}
    for site_id, nom in candidates:
        core = normalise_company(nom)
        core_of[nom] = core
        group_of[nom] = company_group(nom)
        by_exact.setdefault(normalise(nom), []).append((site_id, nom))
        if core:
            by_core.setdefault(core, []).append((site_id, nom))
        if group_of[nom]:
            by_group.setdefault(group_of[nom], []).append((site_id, nom))
    core_keys = list(by_core)

    links: list[tuple[str, str, str, str, int]] = []
    unmatched: list[tuple[str, int, list[str]]] = []
    for holder in sorted(n_held):
        core = normalise_company(holder)
        group = company_group(holder)
        found: dict[str, tuple[str, str]] = {}  # site_id -> (nom, method)
        steps = (
            ("exact", by_exact.get(normalise(holder), [])),
            ("normalisé", by_core.get(core, []) if core else []),
            ("groupe", by_group.get(group or "", [])),
        )
        for method, hits in steps:
            for site_id, nom in hits:
                if method == "exact" or not _other_group(group, group_of[nom]):
                    found.setdefault(site_id, (nom, method))
        if not found and len(core) >= MIN_WORD:
            best = process.extract(core, core_keys, scorer=fuzz.token_set_ratio, limit=2)
            if (
                best
                and best[0][1] >= FUZZY_CUTOFF
                and (len(best) < 2 or best[0][1] - best[1][1] >= FUZZY_MARGIN)
                and _same_first_word(core, best[0][0])
            ):
                for site_id, nom in by_core[best[0][0]]:
                    if not _other_group(group, group_of[nom]):
                        found.setdefault(site_id, (nom, "approché"))
        if not found:
            suggestions: list[str] = []
            if core:
                for key, score, _ in process.extract(core, core_keys, scorer=fuzz.WRatio, limit=6):
                    name = sorted(nom for _, nom in by_core[key])[0]
                    if score >= SUGGESTION_FLOOR and name not in suggestions:
                        suggestions.append(name)
            unmatched.append((holder, n_held[holder], suggestions[:3]))
            continue
        for site_id, (nom, method) in sorted(found.items(), key=lambda kv: (METHODS.index(kv[1][1]), kv[1][0], kv[0])):
            score = 100 if method == "exact" else int(round(fuzz.token_set_ratio(core, core_of[nom])))
            links.append((holder, site_id, nom, method, score))

    links_frame = pl.DataFrame(links, schema=LINKS_SCHEMA, orient="row")
    unmatched_frame = pl.DataFrame(unmatched, schema=UNMATCHED_SCHEMA, orient="row").sort(
        ["n_medicaments", "titulaire"], descending=[True, False]
    )
    return links_frame, unmatched_frame


def coverage(links: pl.DataFrame, holders_with_counts: pl.DataFrame) -> dict:
    """Share of holders linked to at least one site, and share of medicines
    (CIS) whose first holder is linked (``n_premier``; ``n_medicaments`` if absent)."""
    linked = set(links["titulaire"].to_list()) if links.height else set()
    frame = holders_with_counts
    weight = "n_premier" if "n_premier" in frame.columns else "n_medicaments"
    is_linked = pl.col("titulaire").is_in(list(linked))
    n_holders = frame.height
    n_linked = frame.filter(is_linked).height
    n_cis = int(frame[weight].sum() or 0) if n_holders else 0
    n_cis_linked = int(frame.filter(is_linked)[weight].sum() or 0) if n_linked else 0
    return {
        "n_titulaires": n_holders,
        "n_titulaires_lies": n_linked,
        "part_titulaires": n_linked / n_holders if n_holders else math.nan,
        "n_medicaments": n_cis,
        "n_medicaments_lies": n_cis_linked,
        "part_medicaments": n_cis_linked / n_cis if n_cis else math.nan,
        "methodes": dict(sorted(links.group_by("methode").len().rows())) if links.height else {},
    }


def build_links(specialites: pl.DataFrame, sites: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The pipeline step: holder -> site links and unmatched holders of the prepared data."""
    counts = holders_with_counts(specialites)
    if counts.is_empty() or sites.is_empty() or "nom" not in sites.columns:
        return pl.DataFrame(schema=LINKS_SCHEMA), pl.DataFrame(schema=UNMATCHED_SCHEMA)
    return link_holders(
        counts["titulaire"].to_list(), sites, counts=dict(counts.select("titulaire", "n_medicaments").rows())
    )
