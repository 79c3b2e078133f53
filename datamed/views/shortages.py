"""Queries behind the "Ruptures et tensions" page and the medicine availability
section: filters, key figures, breakdowns, timeline, durations, alternatives."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import polars as pl

from datamed.core import stats
from datamed.core.labels import display_labels
from datamed.core.stats import CumulativeIncidence, KaplanMeier, aalen_johansen, kaplan_meier
from datamed.core.text import fr_date, fr_int, fr_number, fr_plural, normalise
from datamed.core.vocabulary import DISPO_STATUS, OPEN_STATUSES
from datamed.datasets import DS
from datamed.store import Store
from datamed.views.search import doses

STATUS_KEYS = {"rupture": 1, "tension": 2, "arret": 3, "remise": 4}
STATUS_KEY_LABELS = {
    "rupture": "Rupture de stock",
    "tension": "Tension d'approvisionnement",
    "arret": "Arrêt de commercialisation",
    "remise": "Remise à disposition",
}
PERIODS = {
    "12mois": "Débuts depuis 12 mois",
    "fiable": "Débuts depuis le 06/10/2023 (dates fiables)",
    "tout": "Toute la période",
}


def episodes(store: Store) -> pl.DataFrame:
    """The shortage episodes, their ATC labels as shown (accents, ``core.labels``)."""
    return store.memo(
        "episodes_display",
        lambda: display_labels(store.table(DS.RUPTURES_EPISODES), "atc1_libelle", "atc2_libelle"),
    )


def latest_snapshot(store: Store) -> date | None:
    eps = episodes(store)
    return eps["derniere_vue"].max() if not eps.is_empty() else None


@dataclass
class Filters:
    statuts: list[str]
    mitm: bool
    atc1: str | None
    periode: str

    @classmethod
    def parse(
        cls, statuts: list[str] | None, mitm: str | bool | None, atc1: str | None, periode: str | None
    ) -> Filters:
        st = [s for s in (statuts or []) if s in STATUS_KEYS] or ["rupture", "tension"]
        m = mitm in (True, "1", "true", "oui", "True")
        a = (atc1 or "").strip().upper()[:1] or None
        p = periode if periode in PERIODS else "tout"
        return cls(st, m, a if a and a.isalpha() else None, p)


def filter_episodes(store: Store, f: Filters) -> pl.DataFrame:
    eps = episodes(store)
    if eps.is_empty():
        return eps
    codes = [STATUS_KEYS[s] for s in f.statuts]
    out = eps.filter(pl.col("statut").is_in(codes))
    if f.mitm:
        out = out.filter(pl.col("mitm"))
    if f.atc1:
        out = out.filter(pl.col("atc1") == f.atc1)
    snap = latest_snapshot(store)
    if f.periode == "12mois" and snap:
        out = out.filter(pl.col("date_debut") >= snap - timedelta(days=365))
    elif f.periode == "fiable":
        out = out.filter(pl.col("date_debut") >= date(2023, 10, 6))
    return out


@dataclass
class Situation:
    snapshot: date | None
    ruptures: int
    tensions: int
    arrets: int
    remises: int
    mitm_share: float | None  # among current ruptures + tensions


def situation(store: Store) -> Situation:
    eps = episodes(store)
    snap = latest_snapshot(store)
    if eps.is_empty() or snap is None:
        return Situation(None, 0, 0, 0, 0, None)
    now = eps.filter(pl.col("derniere_vue") == snap)
    n = {s: now.filter(pl.col("statut") == s)["cis"].n_unique() for s in (1, 2, 3, 4)}
    active = now.filter(pl.col("statut").is_in([1, 2]))
    share = active.unique("cis")["mitm"].mean() if not active.is_empty() else None
    return Situation(snap, n[1], n[2], n[3], n[4], float(share) if share is not None else None)


def archive_text(store: Store) -> str | None:
    """One French paragraph on what the availability snapshot archive covers (manifest
    ``availability_archive``): span, count and the gaps where changes go unseen."""
    span = store.manifest.get("availability_archive") or {}
    if not span.get("count"):
        return None
    first, last = date.fromisoformat(span["first"]), date.fromisoformat(span["last"])
    n = int(span["count"])
    if n == 1:
        text = (
            f"Historique : un seul instantané du fichier de disponibilité ({fr_date(first, long=True)}). "
            "Les évolutions (retours, réouvertures) et les durées apparaîtront à mesure que les instantanés "
            "quotidiens s'accumulent."
        )
        return text
    text = (
        f"Historique reconstitué à partir de **{fr_plural(n, 'instantané')}** du fichier de disponibilité, "
        f"du {fr_date(first, long=True)} au {fr_date(last, long=True)}."
    )
    gaps = span.get("gaps") or []
    if gaps:
        longest = max(gaps, key=lambda g: g["days"])
        text += (
            f" {fr_plural(len(gaps), 'intervalle')} de plus de {fr_int(span.get('gap_days', 7))} jours sans "
            f"instantané (le plus long : {fr_int(longest['days'])} jours, du "
            f"{fr_date(date.fromisoformat(longest['after']))} au {fr_date(date.fromisoformat(longest['before']))}) : "
            "ce qui change entre deux instantanés n'y est pas vu."
        )
    else:
        text += f" Aucun intervalle de plus de {fr_int(span.get('gap_days', 7))} jours sans instantané."
    return text


#: the "Répartition" tab of the shortages page: title, column counted, label column
BREAKDOWNS = (
    ("Par classe ATC (niveau 1)", "atc1", "atc1_libelle"),
    ("Par classe ATC (niveau 2)", "atc2", "atc2_libelle"),
    ("Par forme pharmaceutique", "forme_pharmaceutique", None),
    ("Par voie d'administration", "voies", None),
    ("Par titulaire", "titulaire", None),
)


def breakdown_text(title: str) -> str:
    """The caption and text alternative of a breakdown chart of ``BREAKDOWNS``."""
    return f"Nombre de médicaments concernés {title.lower()}, les 15 catégories les plus fréquentes."


def breakdown(frame: pl.DataFrame, column: str, label: str | None = None, top: int = 15) -> pl.DataFrame:
    """Medicines (distinct CIS) per category, most frequent first."""
    if frame.is_empty():
        return pl.DataFrame(schema={"categorie": pl.String, "medicaments": pl.UInt32})
    if column == "voies":
        frame = frame.with_columns(pl.col("voies").str.replace_all(";", ", "))
    key = pl.col(label) if label else pl.col(column)
    return (
        frame.with_columns(
            pl.when(pl.col(column).is_null())
            .then(pl.lit("Non renseigné"))
            .otherwise(pl.concat_str([pl.col(column), pl.lit(" — "), key.fill_null("")]) if label else pl.col(column))
            .alias("categorie")
        )
        .group_by("categorie")
        .agg(pl.col("cis").n_unique().alias("medicaments"))
        .sort("medicaments", "categorie", descending=[True, False])
        .head(top)
    )


def monthly_starts(frame: pl.DataFrame) -> pl.DataFrame:
    if frame.is_empty():
        return pl.DataFrame(schema={"mois": pl.Date, "episodes": pl.UInt32, "dates_fiables": pl.Boolean})
    return (
        frame.filter(pl.col("date_debut").is_not_null())
        .with_columns(pl.col("date_debut").dt.truncate("1mo").alias("mois"))
        .group_by("mois")
        .agg(pl.len().alias("episodes"))
        .with_columns((pl.col("mois") >= date(2023, 10, 1)).alias("dates_fiables"))
        .sort("mois")
    )


MIN_AT_RISK = stats.MIN_AT_RISK  # the curve stops where fewer episodes are still followed


OUTCOME_LABELS = {1: "retour", 2: "arrêt"}  # the competing ends of a shortage episode


@dataclass
class Durations:
    """Durations of the shortage episodes (status 1 or 2 at their start) that have a known start.

    ``km``: Kaplan-Meier of the time to the *end* of the shortage (a return or a
    withdrawal), with late entry at the first snapshot that saw the episode;
    ``incidence``: Aalen-Johansen cumulative incidence of return and of withdrawal
    (competing events: a withdrawn medicine never returns); ``by_class``: the
    median per ATC class."""

    km: KaplanMeier
    incidence: CumulativeIncidence
    by_class: pl.DataFrame
    episodes: int
    returns: int
    withdrawals: int
    before_archive: int  # episodes that began before the archive's first snapshot


def incidence_text(ci: CumulativeIncidence, days: tuple[int, ...] = (30, 90, 180, 365)) -> str:
    """Text alternative of the cumulative incidence curves: the shares at a few durations
    still followed by at least ``MIN_AT_RISK`` episodes."""
    followed = ci.times[ci.at_risk >= MIN_AT_RISK]
    horizon = float(followed.max()) if len(followed) else 0.0
    parts = []
    for day in days:
        if day > horizon:
            break
        shares = " et ".join(f"{fr_int(round(100 * ci.at(cause, day)))} % par un {cause}" for cause in ci.incidence)
        parts.append(f"après {fr_int(day)} jours, {shares}")
    head = "Parts cumulées des épisodes terminés par un retour et par un arrêt de commercialisation"
    if not parts:
        return head + " : trop peu d'épisodes suivis pour les donner."
    return head + " : " + " ; ".join(parts) + "."


def episode_ends(frame: pl.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Survival inputs of episodes: duration (days), cause of the end (1 return, 2 withdrawal,
    0 censored) and late-entry time (days from the start to the first snapshot that listed it)."""
    cause = frame["issue"].replace_strict({"remise": 1, "arret": 2}, default=0, return_dtype=pl.Int8)
    return frame["duree_jours"].to_numpy(), cause.to_numpy(), frame["entree_jours"].fill_null(0).to_numpy()


def durations(frame: pl.DataFrame) -> Durations | None:
    """Durations of the episodes in ``frame`` (see ``Durations``); None when none is measurable."""
    usable = frame.filter(
        pl.col("duree_jours").is_not_null() & ~pl.col("debut_inconnu") & pl.col("statut_initial").is_in(OPEN_STATUSES)
    )
    if usable.is_empty():
        return None
    d, cause, entry = episode_ends(usable)
    km = kaplan_meier(d, cause > 0, entry)
    aj = aalen_johansen(d, cause, entry, names={1: OUTCOME_LABELS[1], 2: OUTCOME_LABELS[2]})
    rows = []
    for (atc1, label), group in usable.group_by("atc1", "atc1_libelle"):
        if group.height < 5:
            continue
        gd, gc, ge = episode_ends(group)
        k = kaplan_meier(gd, gc > 0, ge)
        rows.append(
            {
                "classe": f"{atc1} — {label}" if atc1 else "Non renseigné",
                "episodes": group.height,
                "fins_observees": int((gc > 0).sum()),
                "mediane_jours": k.median,
                "mediane_ic_bas": k.median_lower,
                "mediane_ic_haut": k.median_upper,
            }
        )
    by_class = pl.DataFrame(
        rows,
        schema={
            "classe": pl.String,
            "episodes": pl.Int64,
            "fins_observees": pl.Int64,
            "mediane_jours": pl.Float64,
            "mediane_ic_bas": pl.Float64,
            "mediane_ic_haut": pl.Float64,
        },
    ).sort("episodes", "classe", descending=[True, False])
    return Durations(
        km,
        aj,
        by_class,
        usable.height,
        int((cause == 1).sum()),
        int((cause == 2).sum()),
        usable.filter(pl.col("date_debut") < frame["premiere_vue"].min()).height,
    )


def current_table(frame: pl.DataFrame, text: str | None = None) -> pl.DataFrame:
    cur = frame.filter(pl.col("en_cours") | (pl.col("statut") == 3))
    if text:
        words = normalise(text).split()
        if words:
            hay = [
                normalise(" ".join(str(v) for v in r if v))
                for r in cur.select("denomination", "cis", "titulaire", "code_atc").rows()
            ]
            cur = cur.filter(pl.Series([all(w in h for w in words) for h in hay], dtype=pl.Boolean))
    return cur.sort("date_debut", descending=True, nulls_last=True)


def class_history(store: Store) -> pl.DataFrame:
    return store.table(DS.RUPTURES_CLASSES)


def class_series(store: Store, top: int = 6) -> pl.DataFrame:
    """Yearly signals of the ``top`` ATC level-2 classes, one row per class and year.

    The source writes a class either by its French label or by its code, sometimes
    with the letter O for the digit 0 ("NO6", "LO1"); both are mapped to the same code
    (``pipeline.shortages.map_class_labels``) and summed here, so that a year split
    over two spellings is not drawn as a collapse (issue 14)."""
    hist = class_history(store)
    if hist.is_empty():
        return hist
    mapped = (
        hist.filter(pl.col("code_atc").is_not_null() & (pl.col("niveau") == 2))
        .group_by("annee", "code_atc")
        .agg(
            pl.col("n_signalements").sum(),
            pl.col("libelle_atc").drop_nulls().first(),
            pl.col("libelle_source").sort().first(),
        )
    )
    best = (
        mapped.group_by("code_atc")
        .agg(pl.col("n_signalements").sum())
        .sort(["n_signalements", "code_atc"], descending=[True, False])
    )
    keep = best.head(top)["code_atc"].implode()
    return (
        mapped.filter(pl.col("code_atc").is_in(keep))
        .pipe(display_labels, "libelle_atc")  # the ATC label as shown (accents)
        .with_columns(
            (pl.col("code_atc") + " — " + pl.col("libelle_atc").fill_null(pl.col("libelle_source"))).alias("classe")
        )
        .sort("code_atc", "annee")
    )


# --- medicine page: episodes and alternatives ----------------------------------------------------


def medicine_episodes(store: Store, cis: str) -> pl.DataFrame:
    eps = episodes(store)
    return eps.filter(pl.col("cis") == cis).sort("date_debut", nulls_last=True) if not eps.is_empty() else eps


@dataclass(frozen=True)
class AbsentMedicine:
    text: str  # French: what the availability file says of it
    links: tuple[str, ...]  # its ANSM pages


def absent_medicine(store: Store, cis: str) -> AbsentMedicine | None:
    """A CIS the availability file lists but the catalogue does not (withdrawn, or not yet
    published): what the file says, and its ANSM pages; None when the file never listed it."""
    eps = medicine_episodes(store, cis)
    if eps.is_empty():
        return None
    last = eps.sort("derniere_vue", "date_debut", nulls_last=True).row(-1, named=True)
    state = DISPO_STATUS.get(last["statut"], "signalement").lower()
    when = "en cours" if last["en_cours"] else f"vu pour la dernière fois le {fr_date(last['derniere_vue'])}"
    text = (
        "Ce médicament ne figure plus (ou pas encore) dans la base publique des médicaments, mais le fichier "
        f"de disponibilité de l'ANSM le cite : {fr_plural(eps.height, 'épisode')}, le dernier ({state}) {when}."
    )
    links = (
        tuple(eps["lien_ansm"].drop_nulls().unique(maintain_order=True).to_list()) if "lien_ansm" in eps.columns else ()
    )
    return AbsentMedicine(text, links)


def status_by_cis(store: Store) -> dict[str, tuple[int, bool]]:
    """Per CIS in rupture (1) or tension (2) now: the worst status, and whether only some of
    its presentations are concerned (the current-shortage list, as on the shortage page)."""
    eps = episodes(store)
    if eps.is_empty():
        return {}
    cur = (
        eps.filter(pl.col("en_cours") & pl.col("statut").is_in(list(OPEN_STATUSES)))
        .group_by("cis")
        .agg(pl.col("statut").min().alias("statut"), pl.col("cip13").is_not_null().all().alias("partiel"))
    )
    return {cis: (int(st), bool(part)) for cis, st, part in cur.iter_rows()}


def _unavailable_now(store: Store) -> tuple[set[str], set[str]]:
    """CIS wholly in rupture/tension now, and CIP13s concerned individually."""
    eps = episodes(store)
    if eps.is_empty():
        return set(), set()
    cur = eps.filter(pl.col("en_cours"))
    whole = set(cur.filter(pl.col("cip13").is_null())["cis"].to_list())
    parts = set(cur.filter(pl.col("cip13").is_not_null())["cip13"].to_list())
    return whole, parts


ALTERNATIVE_SCHEMA = {
    "cis": pl.String,
    "cip13": pl.String,
    "denomination": pl.String,
    "presentation": pl.String,
    "raison": pl.String,
    "forme": pl.String,  # the alternative's pharmaceutical form
    "forme_differente": pl.Boolean,  # its form is not this medicine's
    "dosage_different": pl.Boolean,  # its strength (in mg, from its name or composition) is not this medicine's
}


def _signatures(store: Store) -> dict[str, str]:
    """Per CIS, its active substances and their dosages, as one comparable string.

    A substance's strength is its own dosage, else that of its therapeutic fraction
    (CHLORHYDRATE DE VENLAFAXINE has none; its fraction VENLAFAXINE says 37,5 mg). A
    medicine with a substance of unknown strength has no signature: two unknowns are
    not "the same dosage"."""

    def compute():
        compo = store.table(DS.COMPOSITIONS)
        if compo.is_empty():
            return {}
        clean = pl.col("dosage").str.replace_all(r"\s+", "").str.to_lowercase()
        link = ["cis", "numero_liaison_sa_ft"]
        fraction = (
            compo.filter(pl.col("nature_composant") == "FT")
            .group_by(link)
            .agg(clean.drop_nulls().first().alias("ft_dosage"))
        )
        sig = (
            compo.filter(pl.col("nature_composant") == "SA")
            .join(fraction, on=link, how="left")
            .with_columns(pl.coalesce(clean, pl.col("ft_dosage")).alias("strength"))
            .group_by("cis")
            .agg(
                (pl.col("code_substance") + "@" + pl.col("strength")).unique().sort().str.join("|").alias("signature"),
                pl.col("strength").is_null().any().alias("unknown"),
            )
            .filter(~pl.col("unknown"))
        )
        return dict(sig.select("cis", "signature").rows())

    return store.memo("sa_signatures", compute)


def _catalogue_facts(store: Store) -> dict:
    """Lookups the alternatives need, built once per data version."""

    def compute():
        spec = store.table(DS.SPECIALITES)
        ids = spec["cis"].to_list()
        by_signature: dict[str, list[str]] = {}
        for cis, signature in _signatures(store).items():
            by_signature.setdefault(signature, []).append(cis)
        return {
            "marketed": set(spec.filter(pl.col("etat_commercialisation") == "Commercialisée")["cis"].to_list()),
            "names": dict(zip(ids, spec["denomination"].to_list())),
            "forms": dict(zip(ids, spec["forme_pharmaceutique"].to_list())),
            "routes": dict(zip(ids, spec["voies_administration"].to_list())),
            "by_signature": {k: sorted(v) for k, v in by_signature.items()},
        }

    return store.memo("alternative_facts", compute)


def _name_strength(name: str | None) -> frozenset[str]:
    """The strengths a medicine's name states, in milligrams ("DOLIPRANE 1000 mg"); none
    for a name with a ratio ("50 mg/ml", "75 mg/75 mg", "0,5 mg/2 ml"), which generics
    write in too many ways to compare."""
    if not name or "/" in name:
        return frozenset()
    return doses(name)[0]


def alternatives(store: Store, cis: str) -> pl.DataFrame:
    """Currently available alternatives, each with the reason it is one, best first:
    other presentations of the medicine, then its generic group, then the same active
    substances at the same dosage by the same route; within each, the same form and
    strength before a different one (flagged, so the page can say so)."""
    whole, parts = _unavailable_now(store)
    facts = _catalogue_facts(store)
    marketed, names, forms = facts["marketed"], facts["names"], facts["forms"]
    rows: list[dict] = []
    seen: set[str] = set()
    # 1. other presentations of the same speciality
    if cis not in whole:
        pres = store.table(DS.PRESENTATIONS).filter(
            (pl.col("cis") == cis)
            & (pl.col("etat_commercialisation") == "Déclaration de commercialisation")
            & ~pl.col("cip13").is_in(list(parts))
        )
        for cip13, lib in pres.select("cip13", "libelle_presentation").rows():
            rows.append(
                {
                    "cis": cis,
                    "cip13": cip13,
                    "denomination": names.get(cis),
                    "presentation": lib,
                    "raison": "Autre présentation du même médicament",
                }
            )
    seen.add(cis)

    def available(other: str) -> bool:
        return other in marketed and other not in whole and other not in seen

    # 2. same generic group
    gen = store.table(DS.GENERIQUES)
    if not gen.is_empty():
        groups = gen.filter(pl.col("cis") == cis)["id_groupe_generique"].unique().to_list()
        for other, kind in (
            gen.filter(pl.col("id_groupe_generique").is_in(groups)).select("cis", "type_generique").rows()
        ):
            if available(other):
                label = "princeps" if kind == 0 else "générique"
                rows.append(
                    {
                        "cis": other,
                        "cip13": None,
                        "denomination": names.get(other),
                        "presentation": None,
                        "raison": f"Même groupe générique ({label})",
                    }
                )
                seen.add(other)
    # 3. same active substances, dosage and route
    sig = _signatures(store)
    mine = sig.get(cis)
    my_routes = set(facts["routes"].get(cis) or [])
    if mine and my_routes:
        for other in facts["by_signature"].get(mine, ()):
            if available(other) and my_routes & set(facts["routes"].get(other) or []):
                rows.append(
                    {
                        "cis": other,
                        "cip13": None,
                        "denomination": names.get(other),
                        "presentation": None,
                        "raison": "Même substance, même dosage, même voie",
                    }
                )
                seen.add(other)
    my_form, my_strength = _form_key(forms.get(cis)), _name_strength(names.get(cis))
    for r in rows:
        other = r["cis"]
        r["forme"] = forms.get(other)
        r["forme_differente"] = other != cis and _form_key(forms.get(other)) != my_form
        theirs = _name_strength(names.get(other))
        # the three rules select the same strength; a difference is a data error worth showing
        r["dosage_different"] = bool(other != cis and my_strength and theirs and theirs != my_strength)
    rows.sort(key=lambda r: (_REASON_ORDER.get(r["raison"], 3), r["forme_differente"], r["dosage_different"]))
    return pl.DataFrame(rows, schema=ALTERNATIVE_SCHEMA)


_REASON_ORDER = {
    "Autre présentation du même médicament": 0,
    "Même groupe générique (princeps)": 1,
    "Même groupe générique (générique)": 1,
    "Même substance, même dosage, même voie": 2,
}


def _form_key(form: str | None) -> str:
    return normalise(form or "")


def alternative_notes(row: dict) -> list[str]:
    """French notes on an alternative row of ``alternatives``: what differs from the medicine."""
    notes = []
    if row.get("forme_differente"):
        notes.append(f"forme différente ({row['forme']})" if row.get("forme") else "forme différente")
    if row.get("dosage_different"):
        notes.append("dosage différent")
    return notes


def status_label(code: int | None) -> str:
    return DISPO_STATUS.get(code, "—") if code else "—"


# --- risk model (computed in the pipeline) ---------------------------------------------------------


@dataclass
class RiskView:
    text: str  # the French summary (archive, windows, gains, decision)
    shown: bool
    reason: str | None  # why the model is hidden (French), None when shown
    means: pl.DataFrame  # one row per scorer, the metrics averaged over the windows (empty without windows)
    per_window: pl.DataFrame  # one row per window and scorer
    reliability: pl.DataFrame  # deciles of the calibrated probability (empty without windows)
    top: pl.DataFrame  # empty unless shown


def risk_view(store: Store, top: int = 100) -> RiskView | None:
    """The risk model's evaluation as the pipeline left it; None when it was not computed."""
    if not store.has(DS.RISQUE_RAPPORT):
        return None
    rapport = store.table(DS.RISQUE_RAPPORT)
    if rapport.is_empty():
        return None
    row = rapport.row(0, named=True)
    shown = bool(row["affiche"])
    evaluation = store.table(DS.RISQUE_EVALUATION) if store.has(DS.RISQUE_EVALUATION) else pl.DataFrame()
    means = evaluation.filter(pl.col("date_test").is_null()) if not evaluation.is_empty() else evaluation
    per_window = evaluation.filter(pl.col("date_test").is_not_null()) if not evaluation.is_empty() else evaluation
    reliability = store.table(DS.RISQUE_CALIBRATION) if store.has(DS.RISQUE_CALIBRATION) else pl.DataFrame()
    scores = store.table(DS.RISQUE_RUPTURES) if shown and store.has(DS.RISQUE_RUPTURES) else pl.DataFrame()
    return RiskView(
        text=row["texte"],
        shown=shown,
        reason=row["raison"],
        means=means,
        per_window=per_window,
        reliability=reliability,
        top=scores.head(top),
    )


def reliability_text(reliability: pl.DataFrame) -> str:
    """Text alternative of the reliability chart: predicted vs observed, decile by decile."""
    if reliability.is_empty():
        return ""
    parts = [
        f"classe {r['classe']} : prédit {fr_number(100 * r['predit_moyen'], 1)} %, observé "
        f"{fr_number(100 * r['observe'], 1)} % [{fr_number(100 * r['observe_bas'], 1)} – "
        f"{fr_number(100 * r['observe_haut'], 1)}] sur {fr_int(r['n'])}"
        for r in reliability.iter_rows(named=True)
    ]
    return "Fiabilité des probabilités, par décile de risque prédit : " + " ; ".join(parts) + "."


def medicine_risk(store: Store, cis: str) -> dict | None:
    """Probability, rank and drivers of one medicine, when scores are published."""
    scores = store.table(DS.RISQUE_RUPTURES)
    if scores.is_empty():
        return None
    ranked = scores.with_row_index("rang", offset=1)
    row = ranked.filter(pl.col("cis") == cis)
    if row.is_empty():
        return None
    r = row.row(0, named=True)
    drivers = [r[f"facteur_{i}"] for i in range(1, 4) if r.get(f"facteur_{i}")]
    return {
        "probabilite": r["probabilite"],
        "rang": r["rang"],
        "sur": scores.height,
        "facteurs": drivers,
        "episode_en_cours": r["episode_en_cours"],
    }


# what each indicator of the risk model's evaluation means, one sentence each (issue 14)
METRICS_HELP_FR = (
    "**PR-AUC** (précision moyenne) : en parcourant la liste du risque le plus élevé au plus faible, la part moyenne "
    "de médicaments qui ont vraiment connu un nouvel épisode ; un classement au hasard obtient la fréquence des épisodes.",
    "**ROC-AUC** : la probabilité qu'un médicament qui connaîtra un épisode soit classé plus à risque qu'un médicament "
    "qui n'en connaîtra pas ; 0,5 correspond au hasard.",
    "**Rappel dans le top 100** (rappel@100) : la part des nouveaux épisodes des 6 mois suivants que l'on retrouve "
    "parmi les 100 médicaments classés les plus à risque.",
    "**Score de Brier** : l'écart quadratique moyen entre la probabilité annoncée et ce qui s'est passé (0 ou 1) ; plus "
    "il est bas, plus les probabilités annoncées sont justes.",
    "**Intervalle à 95 %** du gain : obtenu en retirant au hasard, 1 000 fois, des groupes de médicaments de même "
    "substance (ATC 5) ou de même groupe générique ; la meilleure référence est choisie à nouveau à chaque tirage.",
)


def fmt_median(median: float | None, lower: float | None, upper: float | None) -> str:
    """'45 jours [30 – 62]', with 'non atteinte' for a bound the data does not reach."""
    if median is None:
        return "non estimable"
    hi = "non atteinte" if upper is None else fr_int(upper)
    lo = "—" if lower is None else fr_int(lower)
    return f"{fr_int(median)} jours [{lo} – {hi}]"
