"""Shortage risk: which marketed medicines start a rupture or tension soon?

**Target.** For every CIS of the catalogue (marketed specialities), the
probability that it *starts* a new rupture (status 1) or tension (status 2)
episode within ``horizon_days`` (182, i.e. six months) after a cutoff date T.

**Information used.** ``features_at`` only uses what was known before T:

- from ``ruptures_episodes``: the CIS, the start date ``date_debut`` and the
  first-seen status ``statut_initial`` (only to keep statuses 1, 2 and 3, i.e.
  the episode definition) of the episodes that *started before T*. Everything
  observed later (``date_fin``, ``statut``, ``en_cours``, ``duree_jours``,
  ``fin_observee``, ``derniere_vue``, ``date_mise_a_jour``...) is never read, and
  neither are episodes starting on or after T;
- from the catalogue (BDPM snapshot): static attributes of the speciality
  (ATC class, form, route, holder, generic group, MITM list, authorisation
  status, procedure and date, presentations declared by T).

**Model.** A small, regularised gradient-boosted tree model
(``HistGradientBoostingClassifier``, fixed parameters, no early stopping, so
fully deterministic). Class imbalance (~0.5 % positives): the positives get 10
times their weight in total, shared equally between shortage *events* (one
molecule-wide tension often starts for 10-30 generics the same day; see
``label_events``), and the probabilities are corrected back to the base rate
(prior correction of the odds), so they stay usable as probabilities.

**Evaluation.** Forward in time (``evaluate``): fit on the features at
T0 = T1 - horizon with the labels of (T0, T1], test on the features at T1 with
the labels of (T1, T1 + horizon]. By default T1 = last availability snapshot -
horizon, so the test window ends at the snapshot. The persistence baseline is
"had an episode in the past 12 months" (0/1), ranked by recency among the
flagged CIS (``baseline_score``). Metrics: PR-AUC (average precision, the
decision criterion), ROC-AUC, recall in the top 100, Brier score and a decile
calibration table, for both.

**Known limits of the data** (they are reported, not hidden):

- the availability file is a *current list*: with a single snapshot, an
  episode is only visible if it was still listed at the snapshot (open, or
  closed recently as "remise à disposition", whose start is then unknown and
  is therefore unusable here). Shortages that started and ended long before the
  snapshot are invisible, so past windows miss the short episodes;
- the list holds about one record per medicine, so a CIS whose earlier episode
  is still open cannot show a *new* start: past episodes are structurally
  followed by no new start in this data, which penalises the persistence
  baseline and makes a past episode *lower* the model's risk. With several
  snapshots kept over time, this artefact disappears;
- catalogue attributes come from the same (latest) BDPM snapshot and are
  assumed stable over the year before it; the population is the catalogue
  marketed at that snapshot, restricted to authorisations granted by T.
"""

from __future__ import annotations

import functools
import math
import time
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import polars as pl
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OrdinalEncoder
from threadpoolctl import threadpool_limits

from datamed.core.text import fr_date, fr_int, fr_number

HORIZON_DAYS = 182
PAST_STATUSES = (1, 2, 3)  # rupture, tension, arrêt: what counts as a past episode
TARGET_STATUSES = (1, 2)  # rupture, tension: what the model predicts
RECENT_DAYS = 365  # "past 12 months" (persistence baseline)
RECENCY_CAP_DAYS = 3 * 365  # days since the last start are capped here (and set here when none)
TOP_K = 100
MARKETED = "Commercialisée"

# --- features -------------------------------------------------------------------------------------

#: Every model feature: name -> (kind, short French label for the drivers, meaning).
FEATURES: dict[str, tuple[str, str, str]] = {
    "n_episodes_passes": ("num", "épisodes passés", "nombre d'épisodes (rupture, tension ou arrêt, dates de début distinctes) commencés avant T"),
    "jours_depuis_dernier": ("num", "jours depuis le dernier épisode", f"jours entre le début du dernier épisode et T (plafonné à {RECENCY_CAP_DAYS} ; {RECENCY_CAP_DAYS} si aucun)"),
    "episode_12_mois": ("num", "épisode dans les 12 mois", "1 si un épisode a commencé dans les 12 mois avant T (le critère de la référence)"),
    "groupe_episodes_12_mois": ("num", "épisodes récents du groupe générique", "autres spécialités du même groupe générique dont un épisode a commencé dans les 12 mois avant T"),
    "atc_episodes_12_mois": ("num", "épisodes récents de la même substance (ATC)", "autres spécialités de même code ATC dont un épisode a commencé dans les 12 mois avant T"),
    "titulaire_episodes_12_mois": ("num", "épisodes récents du titulaire", "autres spécialités du même titulaire dont un épisode a commencé dans les 12 mois avant T"),
    "atc1": ("cat", "classe ATC", "classe ATC de niveau 1 (lettre) ; « ? » si inconnue"),
    "forme_groupe": ("cat", "forme", "groupe de forme pharmaceutique (comprimé, gélule, injectable, buvable, granules...)"),
    "voie": ("cat", "voie", "voie d'administration principale (injectable si l'une des voies l'est, sinon la première)"),
    "titulaire_n_specialites": ("num", "taille du titulaire", "nombre de spécialités de la population détenues par le même titulaire"),
    "groupe_taille": ("num", "taille du groupe générique", "nombre de spécialités de la population dans le même groupe générique (0 hors répertoire)"),
    "groupe_n_titulaires": ("num", "titulaires du groupe générique", "nombre de titulaires distincts dans le groupe générique (0 hors répertoire)"),
    "type_generique": ("cat", "répertoire des génériques", "princeps, générique, autre type du répertoire, ou hors répertoire"),
    "mitm": ("num", "MITM", "1 si la spécialité figure sur la liste des médicaments d'intérêt thérapeutique majeur"),
    "statut_amm": ("cat", "statut de l'AMM", "autorisation active ou autre statut"),
    "procedure_amm": ("cat", "procédure d'AMM", "type de procédure (nationale, centralisée, décentralisée, reconnaissance mutuelle, enregistrement...)"),
    "age_amm_ans": ("num", "ancienneté de l'AMM", "âge de l'autorisation à la date T, en années"),
    "n_presentations": ("num", "présentations", "nombre de présentations (CIP) dont la déclaration date de T ou avant"),
}  # fmt: skip
NUMERIC = [k for k, v in FEATURES.items() if v[0] == "num"]
CATEGORICAL = [k for k, v in FEATURES.items() if v[0] == "cat"]

_FORM_GROUPS = [  # first match wins, on the lower-case form
    ("granules / globules", ("granules", "globules", "triturat")),  # mostly homeopathy
    ("injectable", ("injectable", "perfusion", "pour injection")),
    ("inhalation", ("inhal", "nébulis", "gaz")),
    ("collyre / ophtalmique", ("collyre", "ophtalm")),
    ("buvable", ("buvable", "sirop", "gouttes", "suspension orale", "solution orale")),
    ("comprimé", ("comprimé", "lyophilisat")),
    ("gélule / capsule", ("gélule", "capsule")),
    ("poudre / granulés", ("poudre", "granulé")),
    ("cutané", ("crème", "pommade", "gel", "pâte", "émulsion", "application", "lotion", "shampooing", "emplâtre", "pansement")),
    ("transdermique / dispositif", ("dispositif", "patch", "transdermique", "implant")),
    ("rectal / vaginal", ("suppositoire", "ovule", "rectal", "vaginal", "lavement")),
    ("pulvérisation", ("pulvérisation",)),
]  # fmt: skip
_INJECTABLE_ROUTES = {
    "intraveineuse", "sous-cutanée", "intramusculaire", "intrathécale", "péridurale", "intraartérielle",
    "périneurale", "infiltration", "intradermique", "intravitréenne", "intracérébroventriculaire",
    "intraarticulaire", "intralésionnelle", "intracaverneuse", "intracoronaire", "intrapéritonéale",
    "périarticulaire", "sous-conjonctivale", "intra-osseuse", "intracardiaque", "rétrobulbaire",
}  # fmt: skip
_ROUTE_GROUPS = {
    "orale": "orale", "sublinguale": "orale", "voie buccale autre": "orale", "buccogingivale": "orale",
    "gastrique": "orale", "cutanée": "cutanée / transdermique", "transdermique": "cutanée / transdermique",
    "ophtalmique": "ophtalmique", "inhalée": "inhalée / nasale", "nasale": "inhalée / nasale",
    "endotrachéobronchique": "inhalée / nasale", "rectale": "rectale / vaginale", "vaginale": "rectale / vaginale",
}  # fmt: skip


def form_group(form: str | None) -> str:
    """Coarse group of a BDPM pharmaceutical form."""
    f = (form or "").lower()
    if not f:
        return "inconnue"
    for group, keys in _FORM_GROUPS:
        if any(k in f for k in keys):
            return group
    return "autre"


def route_group(routes: list[str] | None) -> str:
    """Main route: injectable if any route is, else the group of the first route."""
    routes = [r.lower() for r in (routes or []) if r]
    if not routes:
        return "inconnue"
    if any(r in _INJECTABLE_ROUTES for r in routes):
        return "injectable"
    return _ROUTE_GROUPS.get(routes[0], "autre")


def _procedure_group(p: str | None) -> str:
    p = (p or "").lower()
    for key, label in (
        ("homéo", "enregistrement homéopathique"),
        ("phyto", "enregistrement phytothérapie"),
        ("décentralisée", "décentralisée"),  # before "centralisée", which it contains
        ("centralisée", "centralisée"),
        ("reconnaissance", "reconnaissance mutuelle"),
        ("importation", "importation parallèle"),
        ("nationale", "nationale"),
    ):
        if key in p:
            return label
    return "autre"


_GENERIC_TYPES = {0: "princeps", 1: "générique", 2: "autre (complémentarité, substituable)", 4: "autre (complémentarité, substituable)"}


#: The prepared datasets the model reads.
DATASETS = ("ruptures_episodes", "specialites", "generiques", "mitm", "specialite_atc", "presentations", "disponibilites")


def datasets_from_store(store) -> dict[str, pl.DataFrame]:
    """The ``DATASETS`` of a ``datamed.store.Store`` (absent ones are skipped)."""
    return {name: store.table(name) for name in DATASETS if store.has(name)}


def last_snapshot(datasets: dict[str, pl.DataFrame]) -> date:
    """Date of the latest availability snapshot (the end of the observed timeline)."""
    dispo = datasets.get("disponibilites")
    if dispo is not None and not dispo.is_empty() and "snapshot" in dispo.columns:
        return dispo["snapshot"].max()
    eps = datasets["ruptures_episodes"]
    return eps["derniere_vue"].max()


def _catalogue(datasets: dict[str, pl.DataFrame], cutoff: date) -> pl.DataFrame:
    """The population at T: marketed CIS whose authorisation dates from T or before."""
    spec = datasets["specialites"]
    return spec.filter(
        (pl.col("etat_commercialisation") == MARKETED) & (pl.col("date_amm").is_null() | (pl.col("date_amm") <= cutoff))
    )


def past_episodes(episodes: pl.DataFrame, cutoff: date) -> pl.DataFrame:
    """(cis, date_debut) of the episodes known at T: status 1, 2 or 3 and start strictly before T.

    Only these two columns (plus the status filter) leave this function: nothing
    observed after T can influence the features.
    """
    return (
        episodes.select("cis", "date_debut", "statut_initial")
        .filter(pl.col("statut_initial").is_in(PAST_STATUSES) & pl.col("date_debut").is_not_null())
        .filter(pl.col("date_debut") < cutoff)
        .select("cis", "date_debut")
        .unique()
    )


def _mapped(values: pl.Series, fn) -> pl.Expr:
    """``fn`` applied to each distinct value of a string column (fast, no per-row UDF)."""
    uniq = values.unique().to_list()
    mapping = {v: fn(v) for v in uniq if v is not None}
    return pl.col(values.name).replace_strict(mapping, default=fn(None), return_dtype=pl.String)


def features_at(datasets: dict[str, pl.DataFrame], cutoff: date) -> pl.DataFrame:
    """One row per CIS of the population at ``cutoff``, with the columns of ``FEATURES``.

    The population is the marketed catalogue restricted to authorisations dated
    on or before ``cutoff``. See ``FEATURES`` for the meaning of each column.
    """
    cat = _catalogue(datasets, cutoff).with_columns(pl.col("voies_administration").list.join("|").fill_null("").alias("_voies"))
    base = cat.select(
        "cis",
        "denomination",
        pl.col("titulaires").list.first().fill_null("?").alias("titulaire"),
        _mapped(cat["forme_pharmaceutique"], form_group).alias("forme_groupe"),
        _mapped(cat["_voies"], lambda v: route_group(v.split("|") if v else [])).alias("voie"),
        pl.when(pl.col("statut_amm") == "Autorisation active").then(pl.lit("active")).otherwise(pl.lit("autre")).alias("statut_amm"),
        _mapped(cat["type_procedure_amm"], _procedure_group).alias("procedure_amm"),
        ((pl.lit(cutoff) - pl.col("date_amm")).dt.total_days() / 365.25).fill_null(0.0).clip(0.0).alias("age_amm_ans"),
    )  # fmt: skip
    # catalogue relations
    atc = datasets.get("specialite_atc", pl.DataFrame(schema={"cis": pl.String, "code_atc": pl.String}))
    atc = atc.select("cis", "code_atc").drop_nulls().sort("cis", "code_atc").unique("cis", keep="first")
    mitm = datasets.get("mitm", pl.DataFrame(schema={"cis": pl.String})).select("cis").unique()
    gen = datasets.get("generiques", pl.DataFrame(schema={"cis": pl.String, "id_groupe_generique": pl.String, "type_generique": pl.Int32}))
    gen = gen.select("cis", "id_groupe_generique", "type_generique").sort("cis", "id_groupe_generique").unique("cis", keep="first")
    pres = datasets.get("presentations", pl.DataFrame(schema={"cis": pl.String, "date_declaration_commercialisation": pl.Date}))
    n_pres = (
        pres.filter(pl.col("date_declaration_commercialisation").is_null() | (pl.col("date_declaration_commercialisation") <= cutoff))
        .group_by("cis")
        .agg(pl.len().cast(pl.Int64).alias("n_presentations"))
    )  # fmt: skip
    frame = (
        base.join(atc, on="cis", how="left")
        .join(mitm.with_columns(pl.lit(1.0).alias("mitm")), on="cis", how="left")
        .join(gen, on="cis", how="left")
        .join(n_pres, on="cis", how="left")
        .with_columns(
            pl.col("mitm").fill_null(0.0),
            pl.col("n_presentations").fill_null(0),
            pl.col("code_atc").str.slice(0, 1).fill_null("?").alias("atc1"),
            pl.col("type_generique").replace_strict(_GENERIC_TYPES, default="hors répertoire", return_dtype=pl.String),
        )
    )
    frame = frame.with_columns(pl.len().over("titulaire").alias("titulaire_n_specialites"))
    grp = (
        frame.filter(pl.col("id_groupe_generique").is_not_null())
        .group_by("id_groupe_generique")
        .agg(pl.len().alias("groupe_taille"), pl.col("titulaire").n_unique().alias("groupe_n_titulaires"))
    )
    frame = frame.join(grp, on="id_groupe_generique", how="left").with_columns(
        pl.col("groupe_taille").fill_null(0), pl.col("groupe_n_titulaires").fill_null(0)
    )

    # history known at T
    past = past_episodes(datasets["ruptures_episodes"], cutoff)
    hist = past.group_by("cis").agg(
        pl.col("date_debut").n_unique().alias("n_episodes_passes"), pl.col("date_debut").max().alias("_dernier")
    )
    frame = frame.join(hist, on="cis", how="left").with_columns(
        pl.col("n_episodes_passes").fill_null(0),
        (pl.lit(cutoff) - pl.col("_dernier")).dt.total_days().fill_null(RECENCY_CAP_DAYS).clip(0, RECENCY_CAP_DAYS).alias("jours_depuis_dernier"),
    )  # fmt: skip
    frame = frame.with_columns((pl.col("jours_depuis_dernier") <= RECENT_DAYS).cast(pl.Float64).alias("episode_12_mois"))
    # the same, among the *other* CIS of the generic group, ATC code and holder
    recent = frame.select("id_groupe_generique", "code_atc", "titulaire", "episode_12_mois")
    for key, name in (
        ("id_groupe_generique", "groupe_episodes_12_mois"),
        ("code_atc", "atc_episodes_12_mois"),
        ("titulaire", "titulaire_episodes_12_mois"),
    ):
        sums = recent.filter(pl.col(key).is_not_null()).group_by(key).agg(pl.col("episode_12_mois").sum().alias("_s"))
        frame = frame.join(sums, on=key, how="left").with_columns(
            (pl.col("_s").fill_null(0.0) - pl.col("episode_12_mois")).clip(0.0).alias(name)
        ).drop("_s")
    cols = ["cis", "denomination", *FEATURES]
    return frame.select(cols).with_columns(
        [pl.col(c).cast(pl.Float64) for c in NUMERIC] + [pl.col(c).cast(pl.String) for c in CATEGORICAL]
    ).sort("cis")


def _target_starts(episodes: pl.DataFrame, cutoff: date, horizon_days: int) -> pl.DataFrame:
    """(cis, date_debut) of the status 1 or 2 episodes starting in (cutoff, cutoff + horizon]."""
    end = cutoff + timedelta(days=horizon_days)
    return episodes.filter(
        pl.col("statut_initial").is_in(TARGET_STATUSES)
        & pl.col("date_debut").is_not_null()
        & (pl.col("date_debut") > cutoff)
        & (pl.col("date_debut") <= end)
    ).select("cis", "date_debut")


def labels_at(episodes: pl.DataFrame, cutoff: date, horizon_days: int = HORIZON_DAYS) -> pl.DataFrame:
    """(cis, y), one row per CIS of ``episodes``: y = 1 when one of its episodes has
    ``statut_initial`` 1 or 2 and starts in (cutoff, cutoff + horizon_days], else 0.

    Both ends as written: a start on cutoff + horizon_days is included, a start on
    the cutoff day is excluded (and, since features only use starts strictly before
    the cutoff, it is neither a feature nor a label at that cutoff). Join on the
    population and fill 0 for CIS without any episode.
    """
    pos = _target_starts(episodes, cutoff, horizon_days).select("cis").unique().with_columns(pl.lit(1, dtype=pl.Int8).alias("y"))
    return (
        episodes.select("cis").unique().join(pos, on="cis", how="left")
        .with_columns(pl.col("y").fill_null(0).cast(pl.Int8)).sort("cis")
    )  # fmt: skip


def label_events(datasets: dict[str, pl.DataFrame], cutoff: date, horizon_days: int = HORIZON_DAYS) -> pl.DataFrame:
    """(cis, evenement) for the positives: the shortage *event* each one belongs to.

    Shortages come in bursts: all the generics of one molecule often enter a
    tension on the same day (e.g. 32 venlafaxine CIS on 20/03/2025). An event
    is one (ATC code, start date), or (generic group, start date) / (CIS,
    start date) when the ATC code is unknown. Used to weight the fit (each
    event counts once) and to report how many independent events a window has.
    """
    starts = _target_starts(datasets["ruptures_episodes"], cutoff, horizon_days)
    atc = datasets.get("specialite_atc", pl.DataFrame(schema={"cis": pl.String, "code_atc": pl.String}))
    atc = atc.select("cis", "code_atc").drop_nulls().sort("cis", "code_atc").unique("cis", keep="first")
    gen = datasets.get("generiques", pl.DataFrame(schema={"cis": pl.String, "id_groupe_generique": pl.String}))
    gen = gen.select("cis", "id_groupe_generique").sort("cis", "id_groupe_generique").unique("cis", keep="first")
    return (
        starts.sort("date_debut", "cis").unique("cis", keep="first")
        .join(atc, on="cis", how="left").join(gen, on="cis", how="left")
        .select(
            "cis",
            pl.concat_str(
                pl.coalesce(
                    pl.lit("atc:") + pl.col("code_atc"), pl.lit("groupe:") + pl.col("id_groupe_generique"), pl.lit("cis:") + pl.col("cis")
                ),
                pl.col("date_debut").cast(pl.String),
                separator="@",
            ).alias("evenement"),
        )
        .sort("cis")
    )  # fmt: skip


def dataset_at(datasets: dict[str, pl.DataFrame], cutoff: date, horizon_days: int = HORIZON_DAYS) -> pl.DataFrame:
    """Features at T, the label y of (T, T + horizon] (0 when no episode starts) and, for
    the positives, their ``evenement`` (see ``label_events``)."""
    feats = features_at(datasets, cutoff)
    lab = labels_at(datasets["ruptures_episodes"], cutoff, horizon_days)
    ev = label_events(datasets, cutoff, horizon_days)
    return (
        feats.join(lab, on="cis", how="left").join(ev, on="cis", how="left")
        .with_columns(pl.col("y").fill_null(0).cast(pl.Int8))
        .with_columns(pl.when(pl.col("y") == 1).then(pl.col("evenement")).alias("evenement"))
    )  # fmt: skip


def n_events(frame: pl.DataFrame) -> int:
    """Independent shortage events among the positives of a ``dataset_at`` frame."""
    return frame.filter(pl.col("y") == 1)["evenement"].n_unique()


# --- metrics --------------------------------------------------------------------------------------


def recall_at_k(y, score, k: int = TOP_K) -> float:
    """Share of the positives found among the k highest scores.

    Ties at the k-th score are shared out: the expected value when the tied
    rows are ordered at random (so the result does not depend on row order).
    """
    y = np.asarray(y, dtype=float)
    s = np.asarray(score, dtype=float)
    total = y.sum()
    if total == 0 or len(y) == 0:
        return float("nan")
    k = min(k, len(y))
    kth = np.sort(s)[::-1][k - 1]
    above = s > kth
    tied = s == kth
    slots = k - above.sum()
    found = y[above].sum() + (y[tied].sum() * slots / tied.sum() if tied.sum() else 0.0)
    return float(found / total)


def brier(y, p) -> float:
    """Mean squared difference between the probability and the 0/1 outcome."""
    y = np.asarray(y, dtype=float)
    p = np.asarray(p, dtype=float)
    return float(np.mean((p - y) ** 2)) if len(y) else float("nan")


def calibration_table(y, p, bins: int = 10) -> pl.DataFrame:
    """Deciles of the predicted probability: mean predicted vs observed rate.

    Bin edges are the deciles of ``p``; equal edges are merged, so a 0/1 score
    gives two bins.
    """
    y = np.asarray(y, dtype=float)
    p = np.asarray(p, dtype=float)
    schema = {"classe": pl.Int64, "n": pl.Int64, "positifs": pl.Int64, "predit_moyen": pl.Float64, "observe": pl.Float64}
    if len(p) == 0:
        return pl.DataFrame(schema=schema)
    edges = np.unique(np.quantile(p, np.linspace(0, 1, bins + 1)[1:-1]))
    idx = np.searchsorted(edges, p, side="left")  # a value equal to an edge goes to the lower bin
    rows = []
    for b, i in enumerate(np.unique(idx), start=1):
        m = idx == i
        rows.append({"classe": b, "n": int(m.sum()), "positifs": int(y[m].sum()), "predit_moyen": float(p[m].mean()), "observe": float(y[m].mean())})  # fmt: skip
    return pl.DataFrame(rows, schema=schema)


@dataclass
class Scores:
    """Metrics of one scorer on one test window."""

    pr_auc: float  # average precision
    roc_auc: float
    recall_at_100: float
    brier: float
    calibration: pl.DataFrame

    @classmethod
    def of(cls, y, score, prob=None) -> "Scores":
        y = np.asarray(y)
        prob = score if prob is None else prob
        both = len(np.unique(y)) == 2
        return cls(
            pr_auc=float(average_precision_score(y, score)) if both else float("nan"),
            roc_auc=float(roc_auc_score(y, score)) if both else float("nan"),
            recall_at_100=recall_at_k(y, score, TOP_K),
            brier=brier(y, prob),
            calibration=calibration_table(y, prob),
        )


# --- model ----------------------------------------------------------------------------------------


def _design(frame: pl.DataFrame):
    """pandas design matrix, columns in ``FEATURES`` order (numeric then categories are
    reordered by the column transformer)."""
    return frame.select(*FEATURES).to_pandas()


#: Class imbalance (~1 positive for 150-200 negatives): the positives weigh this much in
#: the fit in total (x their number), about the square root of the imbalance, enough for
#: the trees to split on ~100 positives; the prior correction undoes it afterwards. Within
#: the positives, each shortage event (``label_events``) gets the same weight.
POSITIVE_WEIGHT = 10.0
#: Small, strongly regularised trees: ~100 positives per training window do not support more.
MODEL_PARAMS = dict(
    learning_rate=0.1, max_iter=100, max_leaf_nodes=8, min_samples_leaf=80, l2_regularization=1.0, early_stopping=False
)


def _new_model(seed: int) -> Pipeline:
    pre = ColumnTransformer(
        [
            ("num", "passthrough", NUMERIC),
            ("cat", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1, encoded_missing_value=-1), CATEGORICAL),
        ]
    )
    clf = HistGradientBoostingClassifier(
        categorical_features=list(range(len(NUMERIC), len(NUMERIC) + len(CATEGORICAL))),
        random_state=seed,
        **MODEL_PARAMS,
    )
    return Pipeline([("pre", pre), ("clf", clf)])


#: encoded column order: the column transformer puts numeric features first
ENCODED = NUMERIC + CATEGORICAL


@dataclass
class RiskModel:
    """A fitted pipeline plus the prior correction of the class weights.

    Giving the positives w times their weight multiplies the odds the model
    learns by w; the probabilities are corrected back to the observed base rate
    by dividing the odds by w (``odds_factor`` = 1 / w), which keeps them usable
    as probabilities (Brier score, calibration).
    """

    pipeline: Pipeline
    odds_factor: float
    background: dict  # per encoded column: (values, weights) of the training population
    train_cutoff: date
    n_train: int
    n_train_pos: int

    def encode(self, frame: pl.DataFrame) -> np.ndarray:
        return np.asarray(self.pipeline[0].transform(_design(frame)), dtype=float)

    def _logit_encoded(self, x: np.ndarray) -> np.ndarray:
        return self.pipeline[-1].decision_function(x) + math.log(self.odds_factor)

    def logit(self, frame: pl.DataFrame) -> np.ndarray:
        return self._logit_encoded(self.encode(frame))

    def predict(self, frame: pl.DataFrame) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-self.logit(frame)))

    def contributions(self, frame: pl.DataFrame) -> np.ndarray:
        """(rows x features) log-odds contribution of each feature to each row, in ``ENCODED`` order.

        Contribution of feature j to a CIS = its log-odds minus the average of
        its log-odds when j takes the values of the training population (each
        category with its frequency; for numbers, the 10th, 30th, 50th, 70th
        and 90th percentiles), every other feature unchanged. It answers "how much more
        at risk is this medicine because of this feature, compared with a
        typical value". With trees, contributions interact and do not add up
        exactly to the total.
        """
        x = self.encode(frame)
        base = self._logit_encoded(x)
        out = np.zeros((len(x), len(ENCODED)))
        for j, name in enumerate(ENCODED):
            values, weights = self.background[name]
            alt = np.zeros(len(x))
            xj = x.copy()
            for v, w in zip(values, weights):
                xj[:, j] = v
                alt += w * self._logit_encoded(xj)
            out[:, j] = base - alt
        return out

    def drivers(self, frame: pl.DataFrame, top: int = 3) -> list[list[tuple[str, float]]]:
        """Per row, the ``top`` features that raise its risk most (positive contributions only)."""
        mat = self.contributions(frame)
        out = []
        for row in mat:
            order = np.argsort(-row, kind="stable")[:top]
            out.append([(ENCODED[j], float(row[j])) for j in order if row[j] > 1e-9])
        return out


def _background(x: np.ndarray) -> dict:
    """Reference distribution of each encoded column (see ``RiskModel.contributions``)."""
    bg = {}
    for j, name in enumerate(ENCODED):
        col = x[:, j]
        if name in CATEGORICAL:
            values, counts = np.unique(col, return_counts=True)
            bg[name] = (values, counts / counts.sum())
        else:  # the 10th, 30th ... 90th percentiles, equal ones merged with their weights added
            values, counts = np.unique(np.quantile(col, np.linspace(0.1, 0.9, 5)), return_counts=True)
            bg[name] = (values, counts / counts.sum())
    return bg


def sample_weights(train: pl.DataFrame) -> np.ndarray:
    """1 for negatives; positives share POSITIVE_WEIGHT x their number, equally per event."""
    y = train["y"].to_numpy()
    n_pos = int(y.sum())
    if "evenement" not in train.columns or n_pos == 0:
        return np.where(y == 1, POSITIVE_WEIGHT, 1.0)
    ev = train.select("y", pl.col("evenement").fill_null(pl.col("cis")).alias("e"))
    size = ev.select(pl.len().over("e"))["len"].to_numpy()
    n_ev = ev.filter(pl.col("y") == 1)["e"].n_unique()
    return np.where(y == 1, POSITIVE_WEIGHT * n_pos / n_ev / size, 1.0)


def fit(train: pl.DataFrame, train_cutoff: date, seed: int = 0) -> RiskModel | None:
    """Fit the model on a labelled frame (``dataset_at``); None when it has a single class."""
    y = train["y"].to_numpy()
    n_pos = int(y.sum())
    if n_pos == 0 or n_pos == len(y):
        return None
    pipe = _new_model(seed)
    pipe.fit(_design(train), y, clf__sample_weight=sample_weights(train))
    x = np.asarray(pipe[0].transform(_design(train)), dtype=float)
    return RiskModel(pipe, 1.0 / POSITIVE_WEIGHT, _background(x), train_cutoff, len(y), n_pos)


def importances(model: RiskModel, frame: pl.DataFrame, seed: int = 0, repeats: int = 3) -> pl.DataFrame:
    """Global permutation importance on a labelled frame: the drop of average
    precision when one feature's values are shuffled (mean and sd over ``repeats``)."""
    schema = {"variable": pl.String, "baisse_pr_auc": pl.Float64, "ecart_type": pl.Float64}
    y = frame["y"].to_numpy()
    if len(np.unique(y)) < 2:
        return pl.DataFrame(schema=schema)
    x = model.encode(frame)
    ref = average_precision_score(y, model._logit_encoded(x))
    rng = np.random.default_rng(seed)
    rows = []
    for j, name in enumerate(ENCODED):
        drops = []
        for _ in range(repeats):
            xp = x.copy()
            xp[:, j] = rng.permutation(xp[:, j])
            drops.append(ref - average_precision_score(y, model._logit_encoded(xp)))
        rows.append({"variable": name, "baisse_pr_auc": float(np.mean(drops)), "ecart_type": float(np.std(drops))})
    return pl.DataFrame(rows, schema=schema).sort(["baisse_pr_auc", "variable"], descending=[True, False])


def baseline_score(frame: pl.DataFrame) -> np.ndarray:
    """Persistence baseline, ranked: 1 if an episode started in the past 12 months, else 0,
    plus a recency tie-break below 0.001 (more recent start = higher), so its probability
    reading stays the 0/1 flag for the Brier score and calibration."""
    flag = frame["episode_12_mois"].to_numpy()
    recency = 1.0 - frame["jours_depuis_dernier"].to_numpy() / RECENCY_CAP_DAYS
    return flag + 1e-3 * recency * flag


# --- report ---------------------------------------------------------------------------------------

_METRICS = (
    ("pr_auc", "PR-AUC (précision moyenne)"),
    ("roc_auc", "ROC-AUC"),
    ("recall_at_100", "Rappel dans le top 100"),
    ("brier", "Score de Brier"),
)


@dataclass
class RiskReport:
    """Forward-in-time evaluation of the model against the persistence baseline.

    ``model`` is None when no model could be fitted (a single class in the
    training window); ``beats_baseline`` is then False.
    """

    train_cutoff: date
    test_cutoff: date
    horizon_days: int
    snapshot: date
    n_train: int
    n_train_positives: int
    n_train_events: int
    n_test: int
    n_test_positives: int
    n_test_events: int
    model: Scores | None
    baseline: Scores
    brier_constant: float  # Brier score of predicting the training base rate for everyone
    beats_baseline: bool
    seconds: float
    features: list[str] = field(default_factory=lambda: list(FEATURES))
    importance: pl.DataFrame | None = None  # permutation importance on the test window
    note: str = ""
    seed: int = 0

    def metrics_table(self) -> pl.DataFrame:
        """One row per metric: indicateur, modele, reference (the persistence baseline)."""
        rows = [
            {"indicateur": label, "modele": getattr(self.model, key) if self.model else None, "reference": getattr(self.baseline, key)}
            for key, label in _METRICS
        ]  # fmt: skip
        return pl.DataFrame(rows, schema={"indicateur": pl.String, "modele": pl.Float64, "reference": pl.Float64})

    def calibration(self) -> pl.DataFrame:
        """Both calibration tables stacked, with a ``score`` column (modèle / référence)."""
        parts = [self.baseline.calibration.with_columns(pl.lit("référence").alias("score"))]
        if self.model is not None:
            parts.insert(0, self.model.calibration.with_columns(pl.lit("modèle").alias("score")))
        return pl.concat(parts).select("score", pl.exclude("score"))

    def to_markdown_fr(self) -> str:
        """A French summary for the UI (decimal commas)."""

        def num(x, d=3):
            return "—" if x is None or (isinstance(x, float) and math.isnan(x)) else fr_number(x, d)

        prev = 100 * self.n_test_positives / self.n_test if self.n_test else float("nan")
        start = fr_date(self.test_cutoff + timedelta(days=1))
        end = fr_date(self.test_cutoff + timedelta(days=self.horizon_days))
        lines = [
            "### Risque de rupture ou de tension dans les 6 mois",
            "",
            f"Évaluation dans le temps : modèle appris sur la situation au {fr_date(self.train_cutoff)} et les "
            f"épisodes commencés jusqu'au {fr_date(self.test_cutoff)}, puis testé sur la situation au "
            f"{fr_date(self.test_cutoff)} et les épisodes commencés du {start} au {end}.",
            "",
            f"- Apprentissage : {fr_int(self.n_train)} spécialités commercialisées, dont "
            f"{fr_int(self.n_train_positives)} avec un nouvel épisode ({fr_int(self.n_train_events)} événements distincts).",
            f"- Test : {fr_int(self.n_test)} spécialités, dont {fr_int(self.n_test_positives)} avec un nouvel épisode "
            f"({num(prev, 2)} %, {fr_int(self.n_test_events)} événements distincts).",
            "",
            "| Indicateur | Modèle | Référence : épisode dans les 12 derniers mois |",
            "| --- | --- | --- |",
        ]
        for row in self.metrics_table().iter_rows(named=True):
            lines.append(f"| {row['indicateur']} | {num(row['modele'], 4)} | {num(row['reference'], 4)} |")
        lines += [
            "",
            f"Un score constant égal à la fréquence observée à l'apprentissage aurait un score de Brier de "
            f"{num(self.brier_constant, 4)} ; la PR-AUC d'un classement au hasard vaut la fréquence des nouveaux "
            f"épisodes ({num(prev / 100, 4)}).",
            "",
        ]
        if self.model is None:
            lines.append(f"**Le modèle n'a pas pu être appris** ({self.note}) : aucune liste n'est proposée.")
        elif self.beats_baseline:
            lines.append(
                f"**Le modèle fait mieux que la référence** (PR-AUC {num(self.model.pr_auc, 4)} contre "
                f"{num(self.baseline.pr_auc, 4)}) : son classement peut aider à choisir les médicaments à surveiller, "
                "mais la plupart des médicaments classés en tête n'auront pas de nouvel épisode."
            )
        else:
            lines.append(
                f"**Le modèle ne fait pas mieux que la référence** (PR-AUC {num(self.model.pr_auc, 4)} contre "
                f"{num(self.baseline.pr_auc, 4)}) : aucune liste de médicaments à risque n'est proposée."
            )
        lines += [
            "",
            "Limites : une seule photographie de la liste de disponibilité de l'ANSM est disponible. Un épisode n'y "
            "figure que s'il était encore listé à cette date : les épisodes courts et anciens manquent, et un "
            "médicament dont l'épisode est encore ouvert ne peut pas en montrer un nouveau, ce qui pénalise la "
            "référence. Les dates de début antérieures au 06/10/2023 sont des dates de mise à jour.",
        ]
        return "\n".join(lines)


def _single_threaded(fn):
    """Run with one OpenMP thread: the trees are small, and on a busy 2-core machine the
    thread barriers of parallel prediction cost far more than they save."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with threadpool_limits(limits=1, user_api="openmp"):
            return fn(*args, **kwargs)

    return wrapper


@_single_threaded
def evaluate(
    datasets: dict[str, pl.DataFrame],
    test_cutoff: date | None = None,
    horizon_days: int = HORIZON_DAYS,
    seed: int = 0,
    with_importance: bool = True,
) -> RiskReport:
    """Forward-in-time evaluation of the model against the persistence baseline.

    Train on the features at ``test_cutoff - horizon_days`` with the labels of
    the following ``horizon_days`` (up to ``test_cutoff``); test on the
    features at ``test_cutoff`` with the labels of (test_cutoff, test_cutoff +
    horizon_days]. By default ``test_cutoff`` = last snapshot - horizon_days,
    so the test window ends at the snapshot. ``beats_baseline`` is model PR-AUC
    > baseline PR-AUC.
    """
    t0 = time.perf_counter()
    snap = last_snapshot(datasets)
    if test_cutoff is None:
        test_cutoff = snap - timedelta(days=horizon_days)
    train_cutoff = test_cutoff - timedelta(days=horizon_days)
    train = dataset_at(datasets, train_cutoff, horizon_days)
    test = dataset_at(datasets, test_cutoff, horizon_days)
    y = test["y"].to_numpy()
    model = fit(train, train_cutoff, seed)
    base = Scores.of(y, baseline_score(test), test["episode_12_mois"].to_numpy())
    rate = float(train["y"].mean()) if train.height else float("nan")
    scores, importance, note = None, None, ""
    if model is None:
        note = "aucun nouvel épisode, ou rien que des nouveaux épisodes, dans la période d'apprentissage"
    else:
        scores = Scores.of(y, model.predict(test))
        if with_importance:
            importance = importances(model, test, seed)
    beats = scores is not None and not math.isnan(scores.pr_auc) and not math.isnan(base.pr_auc) and scores.pr_auc > base.pr_auc
    return RiskReport(
        train_cutoff=train_cutoff,
        test_cutoff=test_cutoff,
        horizon_days=horizon_days,
        snapshot=snap,
        n_train=train.height,
        n_train_positives=int(train["y"].sum()),
        n_train_events=n_events(train),
        n_test=test.height,
        n_test_positives=int(y.sum()),
        n_test_events=n_events(test),
        model=scores,
        baseline=base,
        brier_constant=brier(y, np.full(len(y), rate)),
        beats_baseline=bool(beats),
        seconds=time.perf_counter() - t0,
        importance=importance,
        note=note,
        seed=seed,
    )


def _driver_label(name: str, value) -> str:
    label = FEATURES[name][1]
    if name in CATEGORICAL:
        return f"{label} : {value}"
    if name == "mitm":
        return "MITM : oui" if value else "MITM : non"
    if name == "episode_12_mois":
        return f"{label} : {'oui' if value else 'non'}"
    if float(value).is_integer():
        return f"{label} : {fr_int(value)}"
    return f"{label} : {fr_number(value, 1)}"


@_single_threaded
def score_current(
    datasets: dict[str, pl.DataFrame], report: RiskReport, top: int = 3, drivers_for: int | None = None
) -> pl.DataFrame:
    """Risk of every marketed CIS for the ``horizon_days`` after the last snapshot.

    Only when ``report.beats_baseline``; otherwise an empty frame (same columns).
    The model is refitted on the latest window (features at snapshot - horizon,
    labels up to the snapshot) and applied to the features at the snapshot.

    Columns: cis, denomination, probabilite, episode_en_cours (a rupture or
    tension is open at the snapshot: a *new* start is then unlikely in this
    data), facteur_1..``top`` ("label : value" of the features that raise the
    risk most) and contribution_1..``top`` (their log-odds contribution, see
    ``RiskModel.contributions``); sorted by decreasing probability.
    """
    schema = {"cis": pl.String, "denomination": pl.String, "probabilite": pl.Float64, "episode_en_cours": pl.Boolean}
    for i in range(1, top + 1):
        schema[f"facteur_{i}"] = pl.String
        schema[f"contribution_{i}"] = pl.Float64
    if not report.beats_baseline:
        return pl.DataFrame(schema=schema)
    snap = report.snapshot
    train_cutoff = snap - timedelta(days=report.horizon_days)
    model = fit(dataset_at(datasets, train_cutoff, report.horizon_days), train_cutoff, report.seed)
    if model is None:
        return pl.DataFrame(schema=schema)
    now = features_at(datasets, snap)
    prob = model.predict(now)
    if drivers_for is not None and drivers_for < now.height:
        # drivers cost one prediction per feature value: compute them for the riskiest only
        order = np.argsort(-prob, kind="stable")[:drivers_for]
        drivers = [[] for _ in range(now.height)]
        for idx, drv in zip(order, model.drivers(now[order.tolist()], top)):
            drivers[idx] = drv
    else:
        drivers = model.drivers(now, top)
    eps = datasets["ruptures_episodes"]
    open_now = set(eps.filter(pl.col("en_cours") & pl.col("statut").is_in(TARGET_STATUSES))["cis"].to_list())
    rows = []
    for rec, p, drv in zip(now.iter_rows(named=True), prob, drivers):
        row = {"cis": rec["cis"], "denomination": rec["denomination"], "probabilite": float(p), "episode_en_cours": rec["cis"] in open_now}  # fmt: skip
        for i in range(top):
            name, c = drv[i] if i < len(drv) else (None, None)
            row[f"facteur_{i + 1}"] = _driver_label(name, rec[name]) if name else None
            row[f"contribution_{i + 1}"] = c
        rows.append(row)
    return pl.DataFrame(rows, schema=schema).sort(["probabilite", "cis"], descending=[True, False])
