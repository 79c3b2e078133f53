"""Features and labels of the shortage-risk model.

``features_at`` describes every marketed CIS at a cutoff date T with only what
was known before T (see ``FEATURES``); ``labels_at`` / ``label_events`` say which
CIS start a rupture or tension episode in the ``horizon_days`` after T, and which
shortage event each belongs to; ``dataset_at`` joins them.
"""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl

from datamed.datasets import DS

HORIZON_DAYS = 182
PAST_STATUSES = (1, 2, 3)  # rupture, tension, arrêt: what counts as a past episode
TARGET_STATUSES = (1, 2)  # rupture, tension: what the model predicts
RECENT_DAYS = 365  # "past 12 months" (persistence baseline)
RECENCY_CAP_DAYS = 3 * 365  # days since the last start are capped here (and set here when none)
MARKETED = "Commercialisée"

#: Every model feature: name -> (kind, short French label for the drivers, meaning).
FEATURES: dict[str, tuple[str, str, str]] = {
    "n_episodes_passes": (
        "num",
        "épisodes passés",
        "nombre d'épisodes (rupture, tension ou arrêt, dates de début distinctes) commencés à T ou avant, "
        "tels que les photographies du fichier datées de T ou avant les montraient",
    ),
    "jours_depuis_dernier": (
        "num",
        "jours depuis le dernier épisode",
        f"jours entre le début du dernier épisode et T, en semaines entières (plafonné à {RECENCY_CAP_DAYS} ; "
        f"{RECENCY_CAP_DAYS} si aucun)",
    ),
    "episode_en_cours": (
        "num",
        "rupture ou tension en cours",
        "1 si une rupture ou une tension du médicament était en cours dans la dernière photographie du fichier "
        "datée de T ou avant",
    ),
    "episode_12_mois": (
        "num",
        "épisode dans les 12 mois",
        "1 si un épisode a commencé dans les 12 mois avant T (le critère de la référence)",
    ),
    "groupe_episodes_12_mois": (
        "num",
        "épisodes récents du groupe générique",
        "autres spécialités du même groupe générique dont un épisode a commencé dans les 12 mois avant T",
    ),
    "atc_episodes_12_mois": (
        "num",
        "épisodes récents de la même substance (ATC)",
        "autres spécialités de même code ATC dont un épisode a commencé dans les 12 mois avant T",
    ),
    "titulaire_episodes_12_mois": (
        "num",
        "épisodes récents du titulaire",
        "autres spécialités du même titulaire dont un épisode a commencé dans les 12 mois avant T",
    ),
    "atc1": ("cat", "classe ATC", "classe ATC de niveau 1 (lettre) ; « ? » si inconnue"),
    "forme_groupe": (
        "cat",
        "forme",
        "groupe de forme pharmaceutique (comprimé, gélule, injectable, buvable, granules...)",
    ),
    "voie": (
        "cat",
        "voie",
        "voie d'administration principale (injectable si l'une des voies l'est, sinon la première)",
    ),
    "titulaire_n_specialites": (
        "num",
        "taille du titulaire",
        "nombre de spécialités de la population détenues par le même titulaire",
    ),
    "groupe_taille": (
        "num",
        "taille du groupe générique",
        "nombre de spécialités de la population dans le même groupe générique (0 hors répertoire)",
    ),
    "groupe_n_titulaires": (
        "num",
        "titulaires du groupe générique",
        "nombre de titulaires distincts dans le groupe générique (0 hors répertoire)",
    ),
    "type_generique": (
        "cat",
        "répertoire des génériques",
        "princeps, générique, autre type du répertoire, ou hors répertoire",
    ),
    "mitm": ("num", "MITM", "1 si la spécialité figure sur la liste des médicaments d'intérêt thérapeutique majeur"),
    "statut_amm": ("cat", "statut de l'AMM", "autorisation active ou autre statut"),
    "procedure_amm": (
        "cat",
        "procédure d'AMM",
        "type de procédure (nationale, centralisée, décentralisée, reconnaissance mutuelle, enregistrement...)",
    ),
    "age_amm_ans": ("num", "ancienneté de l'AMM", "âge de l'autorisation à la date T, en années (par demi-année)"),
    "n_presentations": ("num", "présentations", "nombre de présentations (CIP) dont la déclaration date de T ou avant"),
}
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
    (
        "cutané",
        ("crème", "pommade", "gel", "pâte", "émulsion", "application", "lotion", "shampooing", "emplâtre", "pansement"),
    ),
    ("transdermique / dispositif", ("dispositif", "patch", "transdermique", "implant")),
    ("rectal / vaginal", ("suppositoire", "ovule", "rectal", "vaginal", "lavement")),
    ("pulvérisation", ("pulvérisation",)),
]
_INJECTABLE_ROUTES = {
    "intraveineuse",
    "sous-cutanée",
    "intramusculaire",
    "intrathécale",
    "péridurale",
    "intraartérielle",
    "périneurale",
    "infiltration",
    "intradermique",
    "intravitréenne",
    "intracérébroventriculaire",
    "intraarticulaire",
    "intralésionnelle",
    "intracaverneuse",
    "intracoronaire",
    "intrapéritonéale",
    "périarticulaire",
    "sous-conjonctivale",
    "intra-osseuse",
    "intracardiaque",
    "rétrobulbaire",
}
_ROUTE_GROUPS = {
    "orale": "orale",
    "sublinguale": "orale",
    "voie buccale autre": "orale",
    "buccogingivale": "orale",
    "gastrique": "orale",
    "cutanée": "cutanée / transdermique",
    "transdermique": "cutanée / transdermique",
    "ophtalmique": "ophtalmique",
    "inhalée": "inhalée / nasale",
    "nasale": "inhalée / nasale",
    "endotrachéobronchique": "inhalée / nasale",
    "rectale": "rectale / vaginale",
    "vaginale": "rectale / vaginale",
}


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


_GENERIC_TYPES = {
    0: "princeps",
    1: "générique",
    2: "autre (complémentarité, substituable)",
    4: "autre (complémentarité, substituable)",
}


#: The prepared datasets the model reads.
DATASETS = (
    DS.RUPTURES_EPISODES,
    DS.SPECIALITES,
    DS.GENERIQUES,
    DS.MITM,
    DS.SPECIALITE_ATC,
    DS.PRESENTATIONS,
    DS.DISPONIBILITES,
)


def datasets_from_store(store) -> dict[str, pl.DataFrame]:
    """The ``DATASETS`` of a ``datamed.store.Store`` (absent ones are skipped)."""
    return {name: store.table(name) for name in DATASETS if store.has(name)}


def last_snapshot(datasets: dict[str, pl.DataFrame]) -> date:
    """Date of the latest availability snapshot (the end of the observed timeline)."""
    dispo = datasets.get(DS.DISPONIBILITES)
    if dispo is not None and not dispo.is_empty() and "snapshot" in dispo.columns:
        return dispo["snapshot"].max()
    eps = datasets[DS.RUPTURES_EPISODES]
    return eps["derniere_vue"].max()


def _catalogue(datasets: dict[str, pl.DataFrame], cutoff: date) -> pl.DataFrame:
    """The population at T: marketed CIS whose authorisation dates from T or before."""
    spec = datasets[DS.SPECIALITES]
    return spec.filter(
        (pl.col("etat_commercialisation") == MARKETED) & (pl.col("date_amm").is_null() | (pl.col("date_amm") <= cutoff))
    )


def past_episodes(episodes: pl.DataFrame, cutoff: date) -> pl.DataFrame:
    """(cis, date_debut) of the episodes known at T: status 1, 2 or 3 and start on or before T.

    ``episodes`` should be the episodes *as known at T* (``episodes_as_of``);
    the date filter is a second guard. Only these two columns (plus the status
    filter) leave this function.
    """
    return (
        episodes.select("cis", "date_debut", "statut_initial")
        .filter(pl.col("statut_initial").is_in(PAST_STATUSES) & pl.col("date_debut").is_not_null())
        .filter(pl.col("date_debut") <= cutoff)
        .select("cis", "date_debut")
        .unique()
    )


def _mapped(values: pl.Series, fn) -> pl.Expr:
    """``fn`` applied to each distinct value of a string column (fast, no per-row UDF)."""
    uniq = values.unique().to_list()
    mapping = {v: fn(v) for v in uniq if v is not None}
    return pl.col(values.name).replace_strict(mapping, default=fn(None), return_dtype=pl.String)


def features_at(
    datasets: dict[str, pl.DataFrame],
    cutoff: date,
    known: pl.DataFrame | None = None,
    catalogue: dict[str, pl.DataFrame] | None = None,
) -> pl.DataFrame:
    """One row per CIS of the population at ``cutoff``, with the columns of ``FEATURES``.

    ``known`` is the shortage history as it was known at ``cutoff``
    (``episodes_as_of``: the snapshots dated on or before it); by default the
    ``ruptures_episodes`` of ``datasets``, which is right only at the last
    snapshot. ``catalogue`` replaces the catalogue datasets by those of a dated
    snapshot (``catalogues.catalogues_as_of``). The population is the marketed
    catalogue restricted to authorisations dated on or before ``cutoff``. See
    ``FEATURES`` for the meaning of each column.
    """
    known = datasets[DS.RUPTURES_EPISODES] if known is None else known
    datasets = {**datasets, **(catalogue or {})}
    cat = _catalogue(datasets, cutoff).with_columns(
        pl.col("voies_administration").list.join("|").fill_null("").alias("_voies")
    )
    base = cat.select(
        "cis",
        "denomination",
        pl.col("titulaires").list.first().fill_null("?").alias("titulaire"),
        _mapped(cat["forme_pharmaceutique"], form_group).alias("forme_groupe"),
        _mapped(cat["_voies"], lambda v: route_group(v.split("|") if v else [])).alias("voie"),
        pl.when(pl.col("statut_amm") == "Autorisation active")
        .then(pl.lit("active"))
        .otherwise(pl.lit("autre"))
        .alias("statut_amm"),
        _mapped(cat["type_procedure_amm"], _procedure_group).alias("procedure_amm"),
        # half-years and whole weeks (below): at most 255 distinct values, so the trees bin them
        # exactly instead of computing weighted percentiles (about 10 times slower)
        ((pl.lit(cutoff) - pl.col("date_amm")).dt.total_days() / 365.25 * 2)
        .floor()
        .truediv(2)
        .fill_null(0.0)
        .clip(0.0)
        .alias("age_amm_ans"),
    )
    # catalogue relations
    atc = datasets.get(DS.SPECIALITE_ATC, pl.DataFrame(schema={"cis": pl.String, "code_atc": pl.String}))
    atc = atc.select("cis", "code_atc").drop_nulls().sort("cis", "code_atc").unique("cis", keep="first")
    mitm = datasets.get(DS.MITM, pl.DataFrame(schema={"cis": pl.String})).select("cis").unique()
    gen = datasets.get(
        DS.GENERIQUES,
        pl.DataFrame(schema={"cis": pl.String, "id_groupe_generique": pl.String, "type_generique": pl.Int32}),
    )
    gen = (
        gen.select("cis", "id_groupe_generique", "type_generique")
        .sort("cis", "id_groupe_generique")
        .unique("cis", keep="first")
    )
    pres = datasets.get(
        DS.PRESENTATIONS, pl.DataFrame(schema={"cis": pl.String, "date_declaration_commercialisation": pl.Date})
    )
    n_pres = (
        pres.filter(
            pl.col("date_declaration_commercialisation").is_null()
            | (pl.col("date_declaration_commercialisation") <= cutoff)
        )
        .group_by("cis")
        .agg(pl.len().cast(pl.Int64).alias("n_presentations"))
    )
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
    past = past_episodes(known, cutoff)
    open_now = (
        known.filter(pl.col("en_cours") & pl.col("statut").is_in(TARGET_STATUSES))
        .select("cis")
        .unique()
        .with_columns(pl.lit(1.0).alias("episode_en_cours"))
    )
    frame = frame.join(open_now, on="cis", how="left").with_columns(pl.col("episode_en_cours").fill_null(0.0))
    hist = past.group_by("cis").agg(
        pl.col("date_debut").n_unique().alias("n_episodes_passes"), pl.col("date_debut").max().alias("_dernier")
    )
    frame = frame.join(hist, on="cis", how="left").with_columns(
        pl.col("n_episodes_passes").fill_null(0),
        ((pl.lit(cutoff) - pl.col("_dernier")).dt.total_days() // 7 * 7)
        .fill_null(RECENCY_CAP_DAYS)
        .clip(0, RECENCY_CAP_DAYS)
        .alias("jours_depuis_dernier"),
    )
    frame = frame.with_columns(
        (pl.col("jours_depuis_dernier") <= RECENT_DAYS).cast(pl.Float64).alias("episode_12_mois")
    )
    # the same, among the *other* CIS of the generic group, ATC code and holder
    recent = frame.select("id_groupe_generique", "code_atc", "titulaire", "episode_12_mois")
    for key, name in (
        ("id_groupe_generique", "groupe_episodes_12_mois"),
        ("code_atc", "atc_episodes_12_mois"),
        ("titulaire", "titulaire_episodes_12_mois"),
    ):
        sums = recent.filter(pl.col(key).is_not_null()).group_by(key).agg(pl.col("episode_12_mois").sum().alias("_s"))
        frame = (
            frame.join(sums, on=key, how="left")
            .with_columns((pl.col("_s").fill_null(0.0) - pl.col("episode_12_mois")).clip(0.0).alias(name))
            .drop("_s")
        )
    cols = ["cis", "denomination", *FEATURES]
    return (
        frame.select(cols)
        .with_columns([pl.col(c).cast(pl.Float64) for c in NUMERIC] + [pl.col(c).cast(pl.String) for c in CATEGORICAL])
        .sort("cis")
    )


# --- labels ---------------------------------------------------------------------------------------


def _target_starts(episodes: pl.DataFrame, cutoff: date, horizon_days: int) -> pl.DataFrame:
    """(cis, date_debut) of the status 1 or 2 episodes starting in (cutoff, cutoff + horizon]
    and first listed after the cutoff (an episode already listed at T is not news at T,
    even if the source later moved its start date past T)."""
    end = cutoff + timedelta(days=horizon_days)
    new = (
        (pl.col("premiere_vue") > cutoff) | pl.col("premiere_vue").is_null()
        if "premiere_vue" in episodes.columns
        else pl.lit(True)
    )
    return episodes.filter(
        pl.col("statut_initial").is_in(TARGET_STATUSES)
        & pl.col("date_debut").is_not_null()
        & (pl.col("date_debut") > cutoff)
        & (pl.col("date_debut") <= end)
        & new
    ).select("cis", "date_debut")


def labels_at(episodes: pl.DataFrame, cutoff: date, horizon_days: int = HORIZON_DAYS) -> pl.DataFrame:
    """(cis, y), one row per CIS of ``episodes``: y = 1 when one of its episodes has
    ``statut_initial`` 1 or 2, starts in (cutoff, cutoff + horizon_days] and was
    first listed after the cutoff, else 0.

    Both ends as written: a start on cutoff + horizon_days is included, a start on
    the cutoff day is excluded (it is in the snapshot of that day, hence a
    feature). Join on the population and fill 0 for CIS without any episode.
    """
    pos = (
        _target_starts(episodes, cutoff, horizon_days)
        .select("cis")
        .unique()
        .with_columns(pl.lit(1, dtype=pl.Int8).alias("y"))
    )
    return (
        episodes.select("cis")
        .unique()
        .join(pos, on="cis", how="left")
        .with_columns(pl.col("y").fill_null(0).cast(pl.Int8))
        .sort("cis")
    )


def label_events(
    datasets: dict[str, pl.DataFrame],
    cutoff: date,
    horizon_days: int = HORIZON_DAYS,
    truth: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """(cis, evenement) for the positives: the shortage *event* each one belongs to.

    Shortages come in bursts: all the generics of one molecule often enter a
    tension on the same day (e.g. 32 venlafaxine CIS on 20/03/2025). An event
    is one (ATC code, start date), or (generic group, start date) / (CIS,
    start date) when the ATC code is unknown. Used to weight the fit (each
    event counts once) and to report how many independent events a window has.
    ``truth`` is the history the labels come from (default ``ruptures_episodes``).
    """
    truth = datasets[DS.RUPTURES_EPISODES] if truth is None else truth
    starts = _target_starts(truth, cutoff, horizon_days)
    atc = datasets.get(DS.SPECIALITE_ATC, pl.DataFrame(schema={"cis": pl.String, "code_atc": pl.String}))
    atc = atc.select("cis", "code_atc").drop_nulls().sort("cis", "code_atc").unique("cis", keep="first")
    gen = datasets.get(DS.GENERIQUES, pl.DataFrame(schema={"cis": pl.String, "id_groupe_generique": pl.String}))
    gen = gen.select("cis", "id_groupe_generique").sort("cis", "id_groupe_generique").unique("cis", keep="first")
    return (
        starts.sort("date_debut", "cis")
        .unique("cis", keep="first")
        .join(atc, on="cis", how="left")
        .join(gen, on="cis", how="left")
        .select(
            "cis",
            pl.concat_str(
                pl.coalesce(
                    pl.lit("atc:") + pl.col("code_atc"),
                    pl.lit("groupe:") + pl.col("id_groupe_generique"),
                    pl.lit("cis:") + pl.col("cis"),
                ),
                pl.col("date_debut").cast(pl.String),
                separator="@",
            ).alias("evenement"),
        )
        .sort("cis")
    )


def dataset_at(
    datasets: dict[str, pl.DataFrame],
    cutoff: date,
    horizon_days: int = HORIZON_DAYS,
    known: pl.DataFrame | None = None,
    truth: pl.DataFrame | None = None,
    catalogue: dict[str, pl.DataFrame] | None = None,
) -> pl.DataFrame:
    """Features at T (from ``known``, the history as known at T), the label y of
    (T, T + horizon] (0 when no episode starts) and, for the positives, their
    ``evenement`` (see ``label_events``). Labels come from ``truth`` (default:
    the whole history, ``ruptures_episodes``); a training window passes the
    history as known when the model is trained, so it sees no later correction."""
    truth = datasets[DS.RUPTURES_EPISODES] if truth is None else truth
    feats = features_at(datasets, cutoff, known, catalogue)
    lab = labels_at(truth, cutoff, horizon_days)
    ev = label_events(datasets, cutoff, horizon_days, truth)
    return (
        feats.join(lab, on="cis", how="left")
        .join(ev, on="cis", how="left")
        .with_columns(pl.col("y").fill_null(0).cast(pl.Int8))
        .with_columns(pl.when(pl.col("y") == 1).then(pl.col("evenement")).alias("evenement"))
    )


def n_events(frame: pl.DataFrame) -> int:
    """Independent shortage events among the positives of a ``dataset_at`` frame."""
    return frame.filter(pl.col("y") == 1)["evenement"].n_unique()
