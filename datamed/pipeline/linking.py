"""Report on every link between databases, from the prepared datasets.

``link_report(datasets)`` measures, for each link the build makes between two
databases, how many elements of the source find their counterpart in the
target, by which method, with which similarity scores, and lists the elements
left unlinked with up to three candidate matches. It returns three frames:

* ``liens_synthese``: one row per link (coverage, method mix, scores, weighted
  coverage);
* ``liens_scores``: the number of linked elements per score band, for the links
  that carry a similarity score;
* ``liens_non_relies``: the unlinked elements (at most ``MAX_UNMATCHED`` per
  link, heaviest first) with suggestions "NAME (score)".

The links (``lien`` ids, stable):

==========================  ====================================================
``pv_bdpm``                 pharmacovigilance substances -> BDPM substances
                            (``ei_substances``, ``ei_liens``, ``ei_non_lies``)
``mitm_cis``                MITM medicines -> BDPM CIS (``mitm``, ``specialites``)
``ruptures_cis``            availability reports -> BDPM CIS
``ruptures_cip``            availability reports -> BDPM presentations (CIP13)
``atc_libelles``            ATC codes of medicines -> ATC labels (``atc``)
``atc_classes_ruptures``    class labels of the 2014-2020 shortage counts ->
                            ATC classes (``ruptures_classes``)
``titulaires_sites``        holders -> industrial sites (``titulaires_sites``,
                            ``titulaires_non_relies``)
==========================  ====================================================

Method labels are those written upstream (in French); each is put in one of
four categories (``METHOD_CATEGORIES``):

==================================  ==========  =====================================
label                               category    where
==================================  ==========  =====================================
``exact``                           exact       pv_link, holder_link
``libellé exact``                   exact       shortages.map_class_labels
``code``                            exact       map_class_labels (code written as is)
``ordre des mots``                  normalisé   pv_link (same words, other order)
``sel ou hydrate``                  normalisé   pv_link (salt / hydrate / base aside)
``normalisé``                       normalisé   holder_link (legal forms etc. aside)
``code (O lu 0)``                   normalisé   map_class_labels (letter O read as 0)
``approché``                        approché    pv_link, holder_link (rapidfuzz)
``libellé approché``                approché    map_class_labels (rapidfuzz)
``groupe``                          autre       holder_link (curated list of groups)
``libellé anglais (OMS)``           autre       here: ATC code with only the WHO label
==================================  ==========  =====================================

An unknown label falls back on its words ("approch" -> approché, "normalis" ->
normalisé, "exact" -> exact, else autre). Code joins (CIS, CIP13, ATC code with
a French label) are ``exact`` without a score. An element linked several times
(a holder to several sites) counts once, with its strictest method (exact,
normalisé, autre, approché, in that order) and the best score of that method.

Suggestions, "NAME (score)", at most three, computed only for the listed
unlinked elements:

* ``pv_bdpm`` and ``titulaires_sites``: the candidates found upstream
  (``ei_non_lies``, ``titulaires_non_relies``), with a score recomputed here
  (pharmacovigilance: ``token_sort_ratio`` of the names with salts and hydrates
  set aside, best first; holders: holder_link's own ``WRatio`` of the company
  cores). When the upstream list is absent they are computed as below;
* names (MITM, shortages, class labels): rapidfuzz ``token_sort_ratio``
  (accents, case and punctuation ignored), ``limit=3``, at least 60, against
  the BDPM medicine names or the French level-2 ATC labels. The availability
  file gives no medicine name: an unknown CIS is named after the MITM list or,
  failing that, after its ANSM page address (``.../medicaments/febuxostat-80-mg-...``);
* codes: the presentations of the same CIS for an unknown CIP13, the ATC codes
  of the same level for an unknown ATC code (``fuzz.ratio`` of the codes), the
  level-2 codes for a class label written as a misread code ("NL0").

Every input may be missing or empty: a link whose source has no element, or
whose target is absent, gives no row; nothing raises.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import polars as pl
from rapidfuzz import fuzz, process

from datamed.core.text import normalise
from datamed.datasets import DS
from datamed.pipeline.holder_link import holders_with_counts, normalise_company
from datamed.pipeline.pv_link import key_reduced

MAX_UNMATCHED = 500  # unlinked elements listed per link
SUGGESTION_FLOOR = 60  # rapidfuzz score below which a name is not suggested
N_SUGGESTIONS = 3

EXACT, NORMALISE, APPROCHE, AUTRE = "exact", "normalise", "approche", "autre"
CATEGORY_RANK = {EXACT: 0, NORMALISE: 1, AUTRE: 2, APPROCHE: 3}
ENGLISH_ATC = "libellé anglais (OMS)"
METHOD_CATEGORIES: dict[str, str] = {
    "exact": EXACT,
    "libellé exact": EXACT,
    "code": EXACT,
    "ordre des mots": NORMALISE,
    "sel ou hydrate": NORMALISE,
    "normalisé": NORMALISE,
    "code (O lu 0)": NORMALISE,
    "approché": APPROCHE,
    "libellé approché": APPROCHE,
    "groupe": AUTRE,
    ENGLISH_ATC: AUTRE,
}

_CODE_LIKE = re.compile(r"[A-Z][A-Z0-9]{2}")  # "N02", "NO2", "NL0": a level-2 code, maybe misread
SCORE_BANDS: tuple[tuple[str, float], ...] = (
    ("100", 100),
    ("95–99", 95),
    ("90–94", 90),
    ("85–89", 85),
    ("80–84", 80),
    ("< 80", float("-inf")),
)

SYNTHESE_SCHEMA = {
    "lien": pl.String,
    "libelle": pl.String,
    "source": pl.String,
    "cible": pl.String,
    "unite": pl.String,
    "n_elements": pl.Int64,
    "n_relies": pl.Int64,
    "couverture": pl.Float64,
    "n_exact": pl.Int64,
    "n_normalise": pl.Int64,
    "n_approche": pl.Int64,
    "n_autre": pl.Int64,
    "score_min": pl.Float64,
    "score_median": pl.Float64,
    "methode": pl.String,
    "poids_relies": pl.Float64,
}
SCORES_SCHEMA = {"lien": pl.String, "tranche": pl.String, "n": pl.Int64}
NON_RELIES_SCHEMA = {
    "lien": pl.String,
    "element": pl.String,
    "libelle": pl.String,
    "poids": pl.Float64,
    "suggestions": pl.List(pl.String),
}
# per-link working frame: one row per source element
_ELEMENTS_SCHEMA = {
    "element": pl.String,
    "libelle": pl.String,
    "poids": pl.Float64,
    "relie": pl.Boolean,
    "categorie": pl.String,
    "score": pl.Float64,
}

DESCRIPTIONS = {
    DS.LIENS_SYNTHESE: (
        "Liens entre bases : couverture, méthodes (exacte, normalisée, approchée, autre) et scores, par lien"
    ),
    DS.LIENS_SCORES: "Liens entre bases : nombre d'éléments reliés par tranche de score de similarité",
    DS.LIENS_NON_RELIES: "Liens entre bases : éléments non reliés (500 au plus par lien), avec suggestions",
}


@dataclass(frozen=True)
class LinkSpec:
    lien: str
    libelle: str
    source: str
    cible: str
    unite: str
    methode: str
    weighted: bool


SPECS: dict[str, LinkSpec] = {
    s.lien: s
    for s in (
        LinkSpec(
            "pv_bdpm",
            "Substances de pharmacovigilance → substances BDPM",
            "Pharmacovigilance (ANSM, cas 2014-2018)",
            "Composition des médicaments (BDPM)",
            "substances",
            "Nom de la substance comparé aux dénominations de la composition BDPM, accents, casse et ponctuation "
            "ignorés : exact ; normalisé = mêmes mots dans un autre ordre, ou au sel, à l'hydrate ou à la base près ; "
            "approché = similarité rapidfuzz d'au moins 90, nettement devant le candidat suivant. Couverture pondérée "
            "par le nombre de cas publiés : les effectifs masqués (sous le seuil de diffusion) comptent pour 0.",
            True,
        ),
        LinkSpec(
            "mitm_cis",
            "Médicaments d'intérêt thérapeutique majeur → spécialités BDPM",
            "Liste des MITM (ANSM)",
            "Spécialités (BDPM)",
            "médicaments",
            "Code CIS de la liste des MITM cherché tel quel parmi les spécialités de la BDPM (jointure exacte sur le "
            "code). Pour un code absent, suggestions : dénominations BDPM les plus proches du nom MITM (rapidfuzz).",
            False,
        ),
        LinkSpec(
            "ruptures_cis",
            "Signalements de disponibilité → spécialités BDPM",
            "Disponibilité des médicaments (ANSM)",
            "Spécialités (BDPM)",
            "médicaments",
            "Code CIS des signalements de rupture, de tension ou d'arrêt cherché tel quel parmi les spécialités de la "
            "BDPM (jointure exacte sur le code). Le fichier de disponibilité ne donne pas le nom : pour un code "
            "absent, il est pris dans la liste des MITM ou, à défaut, dans l'adresse de la page ANSM du signalement, "
            "et les suggestions sont les dénominations BDPM les plus proches de ce nom (rapidfuzz).",
            False,
        ),
        LinkSpec(
            "ruptures_cip",
            "Signalements de disponibilité → présentations BDPM",
            "Disponibilité des médicaments (ANSM)",
            "Présentations (BDPM)",
            "présentations",
            "Code CIP13 des signalements qui visent une présentation cherché tel quel parmi les présentations de la "
            "BDPM (jointure exacte) ; les signalements sans CIP13 concernent toutes les présentations et ne sont pas "
            "comptés. Pour un code absent, suggestions : présentations du même CIS, classées par ressemblance du code.",
            False,
        ),
        LinkSpec(
            "atc_libelles",
            "Codes ATC des médicaments → libellés ATC",
            "Codes ATC des spécialités (liste des MITM et codes déduits des substances)",
            "Classification ATC",
            "codes ATC",
            "Code ATC cherché tel quel dans la classification : exact = libellé français ; autre = seul le libellé "
            "anglais de l'OMS existe, affiché faute de traduction ; non relié = code absent de la classification "
            "(libellé de la classe parente indiqué). Couverture pondérée par le nombre de médicaments portant le code.",
            True,
        ),
        LinkSpec(
            "atc_classes_ruptures",
            "Classes des signalements de ruptures 2014-2020 → classes ATC",
            "Signalements de ruptures par classe (ANSM / EIG DataMed)",
            "Classification ATC",
            "libellés de classe",
            "Libellé de classe rapproché des classes ATC de niveau 1 ou 2 : exact = même libellé (accents, casse et "
            "ponctuation ignorés) ou code ATC écrit tel quel ; normalisé = code dont la lettre O a été lue comme un "
            "zéro ; approché = similarité rapidfuzz d'au moins 80. Couverture pondérée par le nombre de signalements.",
            True,
        ),
        LinkSpec(
            "titulaires_sites",
            "Titulaires → sites industriels",
            "Titulaires des spécialités (BDPM)",
            "Sites industriels (IREP, FDA)",
            "titulaires",
            "Nom du titulaire rapproché du nom de l'exploitant du site : exact = même nom (accents, casse et "
            "ponctuation ignorés) ; normalisé = même nom une fois retirés formes juridiques, mots génériques, pays et "
            "mentions de site ; autre = même groupe pharmaceutique d'après une liste établie à la main ; approché = "
            "similarité rapidfuzz d'au moins 90. Les pharmacies ne sont pas candidates. Couverture pondérée par le "
            "nombre de médicaments (CIS) de chaque titulaire : un médicament à plusieurs titulaires compte pour "
            "chacun.",
            True,
        ),
    )
}


# --- helpers ----------------------------------------------------------------------


def category(label: str | None) -> str:
    """The category (exact, normalise, approche, autre) of an upstream method label."""
    if label is None:
        return AUTRE
    if label in METHOD_CATEGORIES:
        return METHOD_CATEGORIES[label]
    words = normalise(label)
    if "approch" in words:
        return APPROCHE
    if "normalis" in words:
        return NORMALISE
    if "exact" in words:
        return EXACT
    return AUTRE


def _frame(datasets: dict[str, pl.DataFrame], name: str, *columns: str) -> pl.DataFrame | None:
    """The dataset if present with all these columns, else None (empty frames are returned)."""
    frame = datasets.get(name)
    if frame is None or not isinstance(frame, pl.DataFrame) or any(c not in frame.columns for c in columns):
        return None
    return frame


def _nonempty(datasets: dict[str, pl.DataFrame], name: str, *columns: str) -> pl.DataFrame | None:
    frame = _frame(datasets, name, *columns)
    return frame if frame is not None and frame.height else None


def _codes(column: str) -> pl.Expr:
    """A code column as trimmed non-empty strings (null otherwise)."""
    value = pl.col(column).cast(pl.String).str.strip_chars()
    return pl.when(value.str.len_chars() > 0).then(value).otherwise(None)


def _norm_expr(expr: pl.Expr) -> pl.Expr:
    """Vectorised ``datamed.core.text.normalise``."""
    return (
        expr.str.replace_many(["œ", "Œ", "æ", "Æ", "ß", "’"], ["oe", "oe", "ae", "ae", "ss", "'"])
        .str.normalize("NFKD")
        .str.replace_all(r"\p{M}", "")
        .str.to_lowercase()
        .str.replace_all(r"[^0-9a-z]+", " ")
        .str.strip_chars()
    )


def _sorted_words(expr: pl.Expr) -> pl.Expr:
    """Normalised words in alphabetical order: ``fuzz.ratio`` of two such keys is their ``token_sort_ratio``."""
    return _norm_expr(expr).str.split(" ").list.sort().list.join(" ")


def _sort_words(text: str | None) -> str:
    return " ".join(sorted(normalise(text or "").split()))


class _Names:
    """Target names for fuzzy suggestions, ranked by rapidfuzz ``token_sort_ratio``
    (accents, case and punctuation ignored); words are sorted once, so the scorer
    itself is the plain ``fuzz.ratio``."""

    def __init__(self, names: pl.Series, floor: int = SUGGESTION_FLOOR):
        frame = (
            pl.DataFrame({"nom": names.cast(pl.String)})
            .drop_nulls()
            .with_columns(_sorted_words(pl.col("nom")).alias("cle"))
            .filter(pl.col("cle") != "")
            .unique("cle", keep="first", maintain_order=True)
        )
        self.keys = frame["cle"].to_list()
        self.names = frame["nom"].to_list()
        self.floor = floor

    def suggest(self, query: str | None) -> list[str]:
        key = _sort_words(query)
        if not key or not self.keys:
            return []
        hits = process.extract(key, self.keys, scorer=fuzz.ratio, limit=N_SUGGESTIONS, score_cutoff=self.floor)
        return [f"{self.names[i]} ({int(round(score))})" for _, score, i in hits]


def _slug_name(url: pl.Expr) -> pl.Expr:
    """The medicine name in an ANSM page address:
    .../medicaments/febuxostat-80-mg-comprime -> 'febuxostat 80 mg comprime'."""
    return url.str.extract(r"/([^/?#]+)/?(?:[?#].*)?$", 1).str.replace_all("-", " ").str.strip_chars()


def _best(links: pl.DataFrame, key: str) -> pl.DataFrame:
    """One row per key: the strictest category, then the best score. Needs columns key, categorie, score."""
    return (
        links.with_columns(
            pl.col("categorie").replace_strict(CATEGORY_RANK, default=9, return_dtype=pl.Int8).alias("_rang")
        )
        .sort([key, "_rang", "score"], descending=[False, False, True], nulls_last=True)
        .unique(key, keep="first", maintain_order=True)
        .select(key, "categorie", "score")
    )


def _best_links(links: pl.DataFrame, key: str) -> pl.DataFrame:
    """The strictest method (and its score) per linked ``key``."""
    return _best(
        links.select(
            pl.col(key).alias("element"),
            _method_category(links),
            (pl.col("score") if "score" in links.columns else pl.lit(None)).cast(pl.Float64).alias("score"),
        ),
        "element",
    )


def _method_category(links: pl.DataFrame) -> pl.Expr:
    """The category of each link's ``methode`` (see ``category``; "autre" when the column is absent)."""
    if "methode" not in links.columns:
        return pl.lit(AUTRE).alias("categorie")
    labels = links["methode"].cast(pl.String).drop_nulls().unique().to_list()
    mapping = {label: category(label) for label in labels}
    return (
        pl.col("methode")
        .cast(pl.String)
        .replace_strict(mapping, default=AUTRE, return_dtype=pl.String)
        .alias("categorie")
    )


def _linked_elements(base: pl.DataFrame, best: pl.DataFrame) -> pl.DataFrame:
    """Source elements with their best link (if any): linked when a category was found."""
    joined = base.join(best, on="element", how="left")
    return _elements(joined.with_columns(pl.col("categorie").is_not_null().alias("relie")))


def _elements(frame: pl.DataFrame) -> pl.DataFrame:
    """Cast a working frame to the elements schema (missing columns null)."""
    return frame.select(
        [(pl.col(c) if c in frame.columns else pl.lit(None)).cast(t).alias(c) for c, t in _ELEMENTS_SCHEMA.items()]
    )


Suggester = Callable[[pl.DataFrame], list[list[str]]]


@dataclass
class _Link:
    spec: LinkSpec
    elements: pl.DataFrame  # _ELEMENTS_SCHEMA
    suggest: Suggester  # capped unlinked elements -> suggestions, one list per row


# --- the links ----------------------------------------------------------------------


def _pv_bdpm(ds: dict[str, pl.DataFrame], cache: dict) -> _Link | None:
    subs = _nonempty(ds, DS.EI_SUBSTANCES, "ei_id")
    links = _frame(ds, DS.EI_LIENS, "ei_id")
    if subs is None or links is None:
        return None
    base = subs.select(
        pl.col("ei_id").alias("element"),
        (pl.col("nom") if "nom" in subs.columns else pl.lit(None, pl.String)).alias("libelle"),
        (pl.col("n_cas") if "n_cas" in subs.columns else pl.lit(None)).cast(pl.Float64).alias("poids"),
    ).unique("element", keep="first", maintain_order=True)
    best = _best_links(links, "ei_id")
    elements = _linked_elements(base, best)
    upstream: dict[str, list[str]] = {}
    non_lies = _frame(ds, DS.EI_NON_LIES, "ei_id", "suggestions")
    if non_lies is not None:
        upstream = {k: v for k, v in non_lies.select("ei_id", "suggestions").rows() if v is not None}

    def suggest(unmatched: pl.DataFrame) -> list[list[str]]:
        out: list[list[str]] = []
        names: _Names | None = None
        for ei_id, nom in unmatched.select("element", "libelle").rows():
            if ei_id in upstream:  # pv_link's candidates, scored on the names without salts
                reduced = key_reduced(nom or "")
                scored = [(s, int(round(fuzz.ratio(reduced, key_reduced(s))))) for s in upstream[ei_id]]
                scored.sort(key=lambda item: -item[1])  # stable: upstream order among ties
                out.append([f"{s} ({score})" for s, score in scored[:N_SUGGESTIONS]])
                continue
            if names is None:
                names = _Names(_bdpm_substance_names(ds))
            out.append(names.suggest(nom))
        return out

    return _Link(SPECS["pv_bdpm"], elements, suggest)


def _bdpm_substance_names(ds: dict[str, pl.DataFrame]) -> pl.Series:
    for name, column in (
        (DS.NOMS_SUBSTANCES, "denomination_substance"),
        (DS.COMPOSITIONS, "denomination_substance"),
        (DS.SUBSTANCES, "denomination"),
    ):
        frame = _nonempty(ds, name, column)
        if frame is not None:
            return frame[column].unique()
    return pl.Series("nom", [], pl.String)


def _cis_names(ds: dict[str, pl.DataFrame], cache: dict) -> Callable[[], _Names]:
    """BDPM medicine names, built on first use and shared by the links of one report."""

    def get() -> _Names:
        if "cis_names" not in cache:
            spec = _frame(ds, DS.SPECIALITES, "denomination")
            cache["cis_names"] = _Names(spec["denomination"] if spec is not None else pl.Series([], dtype=pl.String))
        return cache["cis_names"]

    return get


def _name_suggester(names: Callable[[], _Names]) -> Suggester:
    def suggest(unmatched: pl.DataFrame) -> list[list[str]]:
        return [names().suggest(label) for label in unmatched["libelle"].to_list()]

    return suggest


def _mitm_cis(ds: dict[str, pl.DataFrame], cache: dict) -> _Link | None:
    mitm = _nonempty(ds, DS.MITM, "cis")
    spec = _nonempty(ds, DS.SPECIALITES, "cis")
    if mitm is None or spec is None:
        return None
    base = (
        mitm.select(
            _codes("cis").alias("element"),
            (pl.col("denomination") if "denomination" in mitm.columns else pl.lit(None, pl.String)).alias("libelle"),
        )
        .drop_nulls("element")
        .unique("element", keep="first", maintain_order=True)
    )
    if base.is_empty():
        return None
    known = spec.select(_codes("cis").alias("element")).drop_nulls().unique()
    elements = _elements(_code_join(base, known))
    return _Link(SPECS["mitm_cis"], elements, _name_suggester(_cis_names(ds, cache)))


def _code_join(base: pl.DataFrame, known: pl.DataFrame) -> pl.DataFrame:
    """Mark elements whose code is among ``known`` (column element) as exact links."""
    linked = pl.col("element").is_in(known["element"].implode())
    return base.with_columns(
        linked.alias("relie"),
        pl.when(linked).then(pl.lit(EXACT)).otherwise(None).alias("categorie"),
    )


def _ruptures_cis(ds: dict[str, pl.DataFrame], cache: dict) -> _Link | None:
    dispo = _nonempty(ds, DS.DISPONIBILITES, "cis")
    spec = _nonempty(ds, DS.SPECIALITES, "cis")
    if dispo is None or spec is None:
        return None
    slug = _slug_name(pl.col("lien_ansm")) if "lien_ansm" in dispo.columns else pl.lit(None, pl.String)
    base = (
        dispo.select(_codes("cis").alias("element"), slug.alias("_slug"))
        .drop_nulls("element")
        .group_by("element", maintain_order=True)
        .agg(pl.col("_slug").drop_nulls().first())
    )
    if base.is_empty():
        return None
    mitm = _frame(ds, DS.MITM, "cis", "denomination")
    if mitm is not None:
        names = mitm.select(_codes("cis").alias("element"), pl.col("denomination").alias("_mitm")).unique("element")
        base = base.join(names, on="element", how="left")
    else:
        base = base.with_columns(pl.lit(None, pl.String).alias("_mitm"))
    base = base.with_columns(pl.coalesce("_mitm", "_slug").alias("libelle"))
    known = spec.select(_codes("cis").alias("element")).drop_nulls().unique()
    elements = _elements(_code_join(base, known))
    return _Link(SPECS["ruptures_cis"], elements, _name_suggester(_cis_names(ds, cache)))


def _ruptures_cip(ds: dict[str, pl.DataFrame], cache: dict) -> _Link | None:
    dispo = _nonempty(ds, DS.DISPONIBILITES, "cip13")
    pres = _nonempty(ds, DS.PRESENTATIONS, "cip13")
    if dispo is None or pres is None:
        return None
    slug = _slug_name(pl.col("lien_ansm")) if "lien_ansm" in dispo.columns else pl.lit(None, pl.String)
    cis = _codes("cis") if "cis" in dispo.columns else pl.lit(None, pl.String)
    base = (
        dispo.select(_codes("cip13").alias("element"), cis.alias("cis"), slug.alias("_slug"))
        .drop_nulls("element")
        .group_by("element", maintain_order=True)
        .agg(pl.col("cis").drop_nulls().first(), pl.col("_slug").drop_nulls().first())
    )
    if base.is_empty():
        return None
    spec = _frame(ds, DS.SPECIALITES, "cis", "denomination")
    if spec is not None:
        base = base.join(
            spec.select(_codes("cis").alias("cis"), pl.col("denomination").alias("_nom")).unique("cis"),
            on="cis",
            how="left",
        )
    else:
        base = base.with_columns(pl.lit(None, pl.String).alias("_nom"))
    base = base.with_columns(pl.coalesce("_nom", "_slug").alias("libelle"))
    known = pres.select(_codes("cip13").alias("element")).drop_nulls().unique()
    elements = _elements(_code_join(base, known))
    cis_of = dict(base.select("element", "cis").rows())

    def suggest(unmatched: pl.DataFrame) -> list[list[str]]:
        wanted = {cis_of.get(e) for e in unmatched["element"].to_list()} - {None}
        if not wanted or "cis" not in pres.columns:
            return [[] for _ in range(unmatched.height)]
        label = pl.col("libelle_presentation") if "libelle_presentation" in pres.columns else pl.lit(None, pl.String)
        same_cis: dict[str, list[tuple[str, str | None]]] = {}
        for c, cip, lab in (
            pres.select(_codes("cis").alias("cis"), _codes("cip13").alias("cip13"), label.alias("lab"))
            .filter(pl.col("cis").is_in(list(wanted)) & pl.col("cip13").is_not_null())
            .unique("cip13", keep="first", maintain_order=True)
            .rows()
        ):
            same_cis.setdefault(c, []).append((cip, lab))
        out = []
        for element in unmatched["element"].to_list():
            candidates = same_cis.get(cis_of.get(element), [])
            hits = process.extract(element, [cip for cip, _ in candidates], scorer=fuzz.ratio, limit=N_SUGGESTIONS)
            shown = [(candidates[i], int(round(score))) for _, score, i in hits]
            out.append([f"{cip}" + (f" – {label}" if label else "") + f" ({score})" for (cip, label), score in shown])
        return out

    return _Link(SPECS["ruptures_cip"], elements, suggest)


def _atc_table(ds: dict[str, pl.DataFrame]) -> pl.DataFrame | None:
    """code_atc, niveau, libelle (displayed), francais (Boolean: a French label exists); None if absent."""
    atc = _nonempty(ds, DS.ATC, "code_atc")
    if atc is None:
        return None
    cols = atc.columns
    fr = pl.col("libelle_fr") if "libelle_fr" in cols else pl.lit(None, pl.String)
    en = pl.col("libelle_en") if "libelle_en" in cols else pl.lit(None, pl.String)
    shown = pl.col("libelle") if "libelle" in cols else pl.coalesce(fr, en)
    if "langue" in cols:
        french = (pl.col("langue") == "fr") & shown.is_not_null()
    else:
        french = fr.is_not_null()
    level = pl.col("niveau").cast(pl.Int8) if "niveau" in cols else pl.lit(None, pl.Int8)
    return (
        atc.select(
            _codes("code_atc").alias("code_atc"),
            level.alias("niveau"),
            shown.cast(pl.String).alias("libelle"),
            french.fill_null(False).alias("francais"),
        )
        .drop_nulls("code_atc")
        .unique("code_atc", keep="first", maintain_order=True)
    )


def _atc_libelles(ds: dict[str, pl.DataFrame], cache: dict) -> _Link | None:
    atc = _atc_table(ds)
    if atc is None:
        return None
    parts = [
        frame.select(
            (_codes("cis") if "cis" in frame.columns else pl.lit(None, pl.String)).alias("cis"),
            _codes("code_atc").alias("element"),
        )
        for name in (DS.SPECIALITE_ATC, DS.MITM)
        if (frame := _frame(ds, name, "code_atc")) is not None
    ]
    if not parts:
        return None
    used = pl.concat(parts).drop_nulls("element")
    if used.is_empty():
        return None
    base = (
        used.group_by("element")
        .agg(pl.col("cis").drop_nulls().n_unique().cast(pl.Float64).alias("poids"))
        .sort("element")
    )
    labelled = atc.filter(pl.col("libelle").is_not_null())
    base = base.join(
        labelled.select(pl.col("code_atc").alias("element"), "francais"), on="element", how="left"
    ).with_columns(
        pl.col("francais").is_not_null().alias("relie"),
        pl.when(pl.col("francais"))
        .then(pl.lit(EXACT))
        .when(pl.col("francais").is_not_null())
        .then(pl.lit(METHOD_CATEGORIES[ENGLISH_ATC]))
        .otherwise(None)
        .alias("categorie"),
    )
    by_code = dict(labelled.select("code_atc", "libelle").rows())
    # the parent class of an unknown code, as its label: L01XX62 -> "classe parente L01XX : ..."
    parent = pl.lit(None, pl.String)
    for n in (1, 3, 4, 5):
        prefix = pl.col("element").str.slice(0, n)
        found = prefix.replace_strict(by_code, default=None, return_dtype=pl.String)
        parent = (
            pl.when((pl.col("element").str.len_chars() > n) & found.is_not_null())
            .then(pl.lit("classe parente ") + prefix + pl.lit(" : ") + found)
            .otherwise(parent)
        )
    elements = _elements(base.with_columns(pl.when(pl.col("relie")).then(None).otherwise(parent).alias("libelle")))
    codes_by_length: dict[int, list[str]] = {}
    for code in labelled["code_atc"].to_list():
        codes_by_length.setdefault(len(code), []).append(code)

    def suggest(unmatched: pl.DataFrame) -> list[list[str]]:
        out = []
        for code in unmatched["element"].to_list():
            pool = codes_by_length.get(len(code), [])
            hits = process.extract(code, pool, scorer=fuzz.ratio, limit=N_SUGGESTIONS, score_cutoff=70)
            out.append([f"{c} – {by_code[c]} ({int(round(s))})" for c, s, _ in hits])
        return out

    return _Link(SPECS["atc_libelles"], elements, suggest)


def _atc_classes_ruptures(ds: dict[str, pl.DataFrame], cache: dict) -> _Link | None:
    classes = _nonempty(ds, DS.RUPTURES_CLASSES, "libelle_source", "code_atc")
    atc = _atc_table(ds)
    if classes is None or atc is None:
        return None
    cols = classes.columns
    weight = pl.col("n_signalements") if "n_signalements" in cols else pl.lit(None)
    frame = classes.select(
        pl.col("libelle_source").cast(pl.String).alias("element"),
        _codes("code_atc").alias("code_atc"),
        (pl.col("methode") if "methode" in cols else pl.lit(None, pl.String)).alias("methode"),
        (pl.col("score") if "score" in cols else pl.lit(None)).cast(pl.Float64).alias("score"),
        weight.cast(pl.Float64).alias("poids"),
    ).filter(pl.col("element").is_not_null() & (pl.col("element").str.strip_chars() != ""))
    if frame.is_empty():
        return None
    base = frame.group_by("element").agg(pl.col("poids").sum()).sort("element")
    best = _best(
        frame.filter(pl.col("code_atc").is_not_null()).with_columns(_method_category(frame)),
        "element",
    )
    elements = _linked_elements(base, best)
    level2 = atc.filter((pl.col("niveau") == 2) & pl.col("francais") & pl.col("libelle").is_not_null())
    memo: list[tuple[_Names, list[str], dict[str, str]]] = []

    def suggest(unmatched: pl.DataFrame) -> list[list[str]]:
        if not memo:
            shown = level2.select(pl.col("code_atc") + pl.lit(" ") + pl.col("libelle"))
            labels = dict(level2.select("code_atc", "libelle").rows())
            memo.append((_Names(shown.to_series()), level2["code_atc"].to_list(), labels))
        names, codes, labels = memo[0]
        out = []
        for label in unmatched["element"].to_list():
            raw = label.strip().upper()
            if _CODE_LIKE.fullmatch(raw):
                # a code-like label ("NL0"): closest level-2 codes, the letter O read as 0
                fixed = raw[0] + raw[1:].replace("O", "0")
                hits = process.extract(fixed, codes, scorer=fuzz.ratio, limit=N_SUGGESTIONS, score_cutoff=60)
                out.append([f"{c} {labels[c]} ({int(round(s))})" for c, s, _ in hits])
            else:
                out.append(names.suggest(label))
        return out

    return _Link(SPECS["atc_classes_ruptures"], elements, suggest)


def _titulaires_sites(ds: dict[str, pl.DataFrame], cache: dict) -> _Link | None:
    spec = _nonempty(ds, DS.SPECIALITES, "cis", "titulaires")
    links = _frame(ds, DS.TITULAIRES_SITES, "titulaire")
    if spec is None or links is None or spec.schema["titulaires"] != pl.List(pl.String):
        return None
    non_relies = _frame(ds, DS.TITULAIRES_NON_RELIES, "titulaire")
    sites = _frame(ds, DS.SITES, "nom")
    if links.is_empty() and (non_relies is None or non_relies.is_empty()) and (sites is None or sites.is_empty()):
        return None  # no site data: the link could not be made

    counts = holders_with_counts(spec)
    if counts.is_empty():
        return None
    base = counts.select(pl.col("titulaire").alias("element"), pl.col("n_medicaments").cast(pl.Float64).alias("poids"))
    best = _best_links(links, "titulaire")
    elements = _linked_elements(base, best)
    upstream: dict[str, list[str]] = {}
    if non_relies is not None and "suggestions" in non_relies.columns:
        upstream = {k: v for k, v in non_relies.select("titulaire", "suggestions").rows() if v is not None}

    def suggest(unmatched: pl.DataFrame) -> list[list[str]]:
        out: list[list[str]] = []
        names: _Names | None = None
        for holder in unmatched["element"].to_list():
            core = normalise_company(holder)
            if holder in upstream:  # holder_link's suggestions, scored again with its scorer
                shown = upstream[holder][:N_SUGGESTIONS]
                out.append([f"{s} ({int(round(fuzz.WRatio(core, normalise_company(s))))})" for s in shown])
                continue
            if names is None:
                candidates = sites if sites is not None else pl.DataFrame({"nom": []}, schema={"nom": pl.String})
                if "type" in candidates.columns:
                    candidates = candidates.filter(pl.col("type").fill_null("") != "pharmacie")
                names = _Names(candidates["nom"])
            out.append(names.suggest(holder))
        return out

    return _Link(SPECS["titulaires_sites"], elements, suggest)


LINKS: tuple[Callable[[dict[str, pl.DataFrame], dict], _Link | None], ...] = (
    _pv_bdpm,
    _mitm_cis,
    _ruptures_cis,
    _ruptures_cip,
    _atc_libelles,
    _atc_classes_ruptures,
    _titulaires_sites,
)


# --- the report ---------------------------------------------------------------------


def _summary(link: _Link) -> dict:
    el = link.elements
    spec = link.spec
    n = el.height
    linked = el.filter(pl.col("relie"))
    by_cat = dict(linked.group_by("categorie").len().rows()) if linked.height else {}
    scores = linked["score"].drop_nulls()
    weighted = None
    if spec.weighted:
        total = float(el["poids"].fill_null(0).sum() or 0)
        if total > 0:
            weighted = float(linked["poids"].fill_null(0).sum() or 0) / total
    return {
        "lien": spec.lien,
        "libelle": spec.libelle,
        "source": spec.source,
        "cible": spec.cible,
        "unite": spec.unite,
        "n_elements": n,
        "n_relies": linked.height,
        "couverture": linked.height / n if n else None,
        "n_exact": by_cat.get(EXACT, 0),
        "n_normalise": by_cat.get(NORMALISE, 0),
        "n_approche": by_cat.get(APPROCHE, 0),
        "n_autre": sum(v for k, v in by_cat.items() if k not in (EXACT, NORMALISE, APPROCHE)),
        "score_min": float(scores.min()) if scores.len() else None,
        "score_median": float(scores.median()) if scores.len() else None,
        "methode": spec.methode,
        "poids_relies": weighted,
    }


def _bands(link: _Link) -> pl.DataFrame | None:
    scores = link.elements.filter(pl.col("relie"))["score"].drop_nulls()
    if not scores.len():
        return None
    tally = dict.fromkeys((label for label, _ in SCORE_BANDS), 0)
    for value in scores.to_list():
        tally[next(label for label, lower in SCORE_BANDS if value >= lower)] += 1
    counts = [(link.spec.lien, label, n) for label, n in tally.items()]
    return pl.DataFrame(counts, schema=SCORES_SCHEMA, orient="row")


def _unmatched(link: _Link) -> pl.DataFrame:
    rows = (
        link.elements.filter(~pl.col("relie"))
        .sort(["poids", "element"], descending=[True, False], nulls_last=True)
        .head(MAX_UNMATCHED)
    )
    suggestions = link.suggest(rows) if rows.height else []
    return rows.select(
        pl.lit(link.spec.lien).alias("lien"),
        "element",
        "libelle",
        "poids",
        pl.Series("suggestions", suggestions, dtype=pl.List(pl.String)),
    )


def link_report(datasets: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    """Coverage, methods, scores and unlinked elements of every link between databases.

    Returns ``liens_synthese``, ``liens_scores`` and ``liens_non_relies`` (see
    the module docstring); links whose inputs are absent are left out.
    """
    summaries: list[dict] = []
    bands: list[pl.DataFrame] = []
    unmatched: list[pl.DataFrame] = []
    cache: dict = {}
    for make in LINKS:
        link = make(datasets or {}, cache)
        if link is None or link.elements.is_empty():
            continue
        summaries.append(_summary(link))
        band = _bands(link)
        if band is not None:
            bands.append(band)
        unmatched.append(_unmatched(link))
    return {
        DS.LIENS_SYNTHESE: pl.DataFrame(summaries, schema=SYNTHESE_SCHEMA, orient="row"),
        DS.LIENS_SCORES: pl.concat(bands) if bands else pl.DataFrame(schema=SCORES_SCHEMA),
        DS.LIENS_NON_RELIES: (
            pl.concat([u.select(list(NON_RELIES_SCHEMA)).cast(NON_RELIES_SCHEMA) for u in unmatched])
            if unmatched
            else pl.DataFrame(schema=NON_RELIES_SCHEMA)
        ),
    }
