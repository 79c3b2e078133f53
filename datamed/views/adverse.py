"""Adverse-effect profiles, comparisons and the national view, from the masked
``ei_*`` datasets. Pure functions returning plain data for the pages.

Every count here was masked in the pipeline; this module never sees a value
below the disclosure threshold, it only says how to show the masked ones.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field

import polars as pl

from datamed.core import disclosure, exposure
from datamed.core.labels import sentence_label
from datamed.core.moieties import FRACTION_PREFIX
from datamed.core.text import csv_safe, fr_int, fr_number, normalise, strip_accents
from datamed.core.vocabulary import AGE_LABELS_FR, SEX_LABELS_FR
from datamed.datasets import DS
from datamed.store import Store

PERIOD = "2014-2018"
MAX_COMPARE = 5
CAUSALITY_FR = (
    "Une déclaration d'effet indésirable ne prouve pas que le médicament en soit la cause : elle signale "
    "une suspicion, transmise par un professionnel de santé ou un patient."
)
# the official portal where patients and professionals report a suspected adverse effect
REPORT_URL = "https://signalement.social-sante.gouv.fr/"
REPORT_FR = (
    "Vous pensez avoir eu un effet indésirable ? Parlez-en à votre médecin ou à votre pharmacien, et "
    "déclarez-le sur le portail officiel de signalement du ministère de la Santé : chaque déclaration "
    "aide à mieux connaître les médicaments."
)
SOURCE_FR = (
    "Source : ANSM, base nationale de pharmacovigilance (cas déclarés de 2014 à 2018), croisée avec les "
    "consommants de l'Assurance maladie (Open Medic : personnes ayant eu au moins un remboursement, comptées une "
    "fois par produit)."
)

# the production site's caveat (data.ansm.sante.fr), in plain French
RATE_CAVEAT_FR = (
    "Un taux de notification n'est pas une fréquence : la plupart des effets indésirables ne sont jamais "
    "déclarés, et le nombre de déclarations dépend de la notoriété d'un effet et de l'attention qu'on lui porte. "
    "Comme le rappelle l'ANSM, ces données ne permettent pas de connaître la fréquence réelle d'un effet."
)


def members_table(p: Profile) -> pl.DataFrame:
    """A moiety's salts and forms, with their own cases (the drill-down)."""
    if p.members.is_empty():
        return pl.DataFrame()
    return pl.DataFrame(
        {
            "Forme de la substance": p.members["substance"],
            "Nom dans les données de pharmacovigilance": p.members["nom"],
            "Cas déclarés (2014-2018)": [
                fmt_count(v, st, p.seuil) for v, st in p.members.select("n_cas", "n_cas_statut").rows()
            ],
            "Consommants par an": ["—" if v is None else fr_int(v) for v in p.members["consommants_par_an"]],
            "Dans le total": [
                "non : mêmes cas qu'une autre forme" if dup else "oui" for dup in p.members["doublon"].fill_null(False)
            ],
        }
    )


_ORGANISM = re.compile(r"\s*\([^()]*/[^()]*\)")


def display_name(name: str) -> str:
    """'ETANERCEPT (MAMMIFERE/HAMSTER/CELLULES CHO)' -> 'Etanercept'; in sentence case,
    with the capitals and accents French writes ('DL-LYSINE' -> 'DL-lysine', see
    ``core.labels``)."""
    short = _ORGANISM.sub("", name).strip() or name
    return sentence_label(short)


def best_label(nom: str, bdpm_names: list[str]) -> str:
    """The BDPM spelling when the substance is linked (accents, usual word order), else the ANSM name."""
    if bdpm_names:
        return display_name(min(bdpm_names, key=lambda n: (len(n), n)))
    return display_name(nom)


def threshold(store: Store) -> int:
    return int(store.manifest.get("disclosure_threshold") or disclosure.DEFAULT_THRESHOLD)


def fmt_count(value, status: str | None, seuil: int) -> str:
    """'1 234', or 'masqué' for any withheld count (one status: which ones are small is not told)."""
    if status:
        return "masqué"
    if value is None:
        return "—"
    return fr_int(value)


def fmt_rate(rate, lo=None, hi=None) -> str:
    if rate is None:
        return "—"
    text = fr_number(rate, 1 if rate < 100 else 0)
    if lo is not None and hi is not None:
        text += f" [{fr_number(lo, 1 if lo < 100 else 0)} – {fr_number(hi, 1 if hi < 100 else 0)}]"
    return text


def fmt_pct(x) -> str:
    return "—" if x is None else f"{fr_number(x, 1)} %"


def has_data(store: Store) -> bool:
    return not store.table(DS.EI_SUBSTANCES).is_empty()


def soc_labels(store: Store) -> dict[str, tuple[str, str]]:
    def compute():
        soc = store.table(DS.SOC)
        return (
            {c: (fr, en) for c, fr, en in soc.select("soc_code", "soc_fr", "soc_en").rows()}
            if not soc.is_empty()
            else {}
        )

    return store.memo("soc_labels", compute)


def _with_soc(store: Store, frame: pl.DataFrame) -> pl.DataFrame:
    labels = soc_labels(store)
    return frame.with_columns(
        pl.col("soc_code").replace_strict({k: v[0] for k, v in labels.items()}, default=pl.col("soc_code")).alias("soc")
    )


@dataclass
class Profile:
    """One unit of the adverse-effect pages: a substance as the source names it, or an
    active moiety (``kind == "fraction"``) pooling its salts and forms."""

    ei_id: str  # the unit's id: a substance's ei_id, or a moiety's fraction_id
    nom: str
    n_cas: int | None
    n_cas_statut: str | None
    consommants_par_an: float | None
    taux: float | None
    taux_ic_bas: float | None
    taux_ic_haut: float | None
    annee: pl.DataFrame
    age: pl.DataFrame
    sexe: pl.DataFrame
    soc: pl.DataFrame
    bdpm_names: list[str]
    rank: Rank | None  # the rate among reliable rates of the same therapeutic class
    seuil: int
    motif_sans_taux: str | None = None  # why no rate (core.exposure), when the counts are published
    kind: str = "substance"
    members: pl.DataFrame = field(default_factory=pl.DataFrame)  # a moiety's substances (label, n_cas, statut)
    twins: list[str] = field(default_factory=list)  # labels of the substances with the very same case series

    moiety: str | None = None  # the active moiety's name, when not the substance's own (a lone salt)

    @property
    def label(self) -> str:
        if self.kind == "fraction":
            return display_name(self.nom)
        return with_moiety(best_label(self.nom, self.bdpm_names), self.moiety)

    @property
    def masked(self) -> bool:
        return self.n_cas is None

    @property
    def high_rate_fr(self) -> str | None:
        """Why a displayed rate above 10,000 per 100,000 can be (None when none is)."""
        rates = [self.taux]
        for frame in (self.annee, self.age, self.sexe):
            if not frame.is_empty() and "taux" in frame.columns:
                rates += frame["taux"].to_list()
        return exposure.HIGH_RATE_FR if any(r is not None and r > exposure.HIGH_RATE for r in rates) else None

    @property
    def withheld_rate_fr(self) -> str | None:
        """One sentence: why no rate is shown (None when one is, or when the counts are masked)."""
        if self.taux is not None or self.masked:
            return None
        if self.motif_sans_taux in exposure.WITHHELD_FR:
            return exposure.WITHHELD_FR[self.motif_sans_taux]
        return (
            "Aucun taux n'est calculé : une partie des effectifs annuels est masquée, ou l'exposition "
            "manque pour certaines années."
        )


@dataclass(frozen=True)
class Rank:
    """Where a reliable rate stands among the reliable rates of its therapeutic class."""

    share_below: float  # share of the class's other units with a lower rate
    n: int  # units of the class with a reliable rate (this one included)
    atc: str  # the class's ATC code (level 4, or 3 when level 4 is too small)
    atc_label: str

    def text_fr(self) -> str:
        if self.share_below >= 0.75:
            where = "plus élevé que pour la plupart des"
        elif self.share_below <= 0.25:
            where = "plus faible que pour la plupart des"
        else:
            where = "dans la moyenne des"
        return (
            f"un taux de notification {where} {self.n - 1} autres substances de la même classe thérapeutique "
            f"(ATC {self.atc}{', ' + self.atc_label.lower() if self.atc_label else ''}) dont le taux est fiable"
        )


MIN_RANK_CLASS = 5  # a class needs this many reliable rates (this one included) for a rank


def _unit_atc(store: Store) -> dict[str, str]:
    """Unit id (substance or moiety) -> its most frequent ATC level-4 code among the
    medicines holding it whose code is official (MITM list; ties: the smallest code)."""

    def compute():
        links, compo, atc = store.table(DS.EI_LIENS), store.table(DS.COMPOSITIONS), store.table(DS.SPECIALITE_ATC)
        if links.is_empty() or compo.is_empty() or atc.is_empty():
            return {}
        official = atc.filter(pl.col("source_atc") == "MITM") if "source_atc" in atc.columns else atc
        by_sub = (  # official codes only: a deduced code can miss the route (an eye drop's class)
            compo.select("cis", "code_substance")
            .unique()
            .join(official.select("cis", pl.col("code_atc").str.slice(0, 5).alias("atc4")), on="cis")
            .filter(pl.col("atc4").str.len_chars() == 5)
        )
        units = links.select("ei_id", "code_substance")
        members = store.table(DS.EI_FRACTIONS_MEMBRES) if store.has(DS.EI_FRACTIONS_MEMBRES) else pl.DataFrame()
        if not members.is_empty():
            units = pl.concat(
                [
                    units,
                    units.join(members.select("ei_id", "fraction_id"), on="ei_id").select(
                        pl.col("fraction_id").alias("ei_id"), "code_substance"
                    ),
                ]
            )
        counted = (
            units.join(by_sub, on="code_substance")
            .group_by("ei_id", "atc4")
            .agg(pl.col("cis").n_unique().alias("n"))
            .sort(["ei_id", "n", "atc4"], descending=[False, True, False])
            .unique("ei_id", keep="first", maintain_order=True)
        )
        return dict(counted.select("ei_id", "atc4").rows())

    return store.memo("ei_unit_atc", compute)


def _reliable_rates(store: Store) -> pl.DataFrame:
    """Every unit with a reliable rate: the substances that are not salts of a moiety (one
    per identical case series), and the moieties (``unit``, ``taux``, ``atc4``)."""

    def compute():
        subs = store.table(DS.EI_SUBSTANCES).select(pl.col("ei_id").alias("unit"), "taux")
        if store.has(DS.EI_FRACTIONS):
            frac = store.table(DS.EI_FRACTIONS)
            if not frac.is_empty():
                subs = pl.concat([subs, frac.select(pl.col("fraction_id").alias("unit"), "taux")])
        atc = _unit_atc(store)
        twins = [i for i, members in _series(store).items() if members[0] != i]  # one product: one rate
        out = subs.filter(pl.col("taux").is_not_null() & ~pl.col("unit").is_in(twins))
        return out.with_columns(pl.col("unit").replace_strict(atc, default=None, return_dtype=pl.String).alias("atc4"))

    return store.memo("ei_reliable_rates", compute)


def _rank(store: Store, unit: str, taux: float | None) -> Rank | None:
    """The rank among the reliable rates of the unit's ATC level-4 class, or of its level-3
    class when level 4 has fewer than ``MIN_RANK_CLASS``; None when neither has enough."""
    if taux is None:
        return None
    atc4 = _unit_atc(store).get(unit)
    if not atc4:
        return None
    rates = _reliable_rates(store)
    for code in (atc4, atc4[:4]):
        peers = rates.filter(pl.col("atc4").str.starts_with(code))
        if peers.height >= MIN_RANK_CLASS:
            others = peers.filter(pl.col("unit") != unit)["taux"]
            labels = store.table(DS.ATC)
            label = (
                labels.filter(pl.col("code_atc") == code)["libelle_fr"].drop_nulls().to_list()
                if not labels.is_empty()
                else []
            )
            return Rank(float((others < taux).sum() / len(others)), peers.height, code, label[0] if label else "")
    return None


def _part(store: Store, name: DS, key: str, value: str) -> pl.DataFrame:
    if not store.has(name):
        return pl.DataFrame()
    frame = store.table(name)
    return frame.filter(pl.col(key) == value) if not frame.is_empty() else frame


def _strata(store: Store, tables: tuple[DS, DS, DS], key: str, value: str):
    annee = _part(store, tables[0], key, value)
    annee = annee.sort("annee") if not annee.is_empty() else annee
    age = _part(store, tables[1], key, value)
    if not age.is_empty():
        age = age.with_columns(pl.col("age").replace_strict(AGE_LABELS_FR, default=pl.col("age")).alias("classe"))
    sexe = _part(store, tables[2], key, value)
    if not sexe.is_empty():
        sexe = sexe.with_columns(pl.col("sexe").replace_strict(SEX_LABELS_FR, default=pl.col("sexe")).alias("classe"))
    return annee, age, sexe


def _form_label(nom: str, label: str | None) -> str:
    """A form's label: the BDPM spelling when it names the same form (every word of the
    source's name in it), else the source's name with the accents of the BDPM's words
    it shares ('DICLOFENAC POTASSIQUE' linked to 'Diclofénac': 'Diclofénac potassique')."""
    words = set(re.findall(r"[A-Z]{3,}", strip_accents(nom).upper()))
    if label and words <= set(re.findall(r"[A-Z]{3,}", strip_accents(label).upper())):
        return label
    text = display_name(nom)
    for word in re.findall(r"\w+", label or ""):
        if word != strip_accents(word):  # an accented BDPM word: put its accents back
            text = re.sub(rf"\b{re.escape(strip_accents(word).lower())}\b", word.lower(), text)
            text = re.sub(rf"^{re.escape(strip_accents(word).lower().capitalize())}\b", word.capitalize(), text)
    return text


def _series(store: Store) -> dict[str, list[str]]:
    """Substance -> the members of its identical case series, the group's face first."""

    def compute():
        if not store.has(DS.EI_SERIES_IDENTIQUES):
            return {}
        series = store.table(DS.EI_SERIES_IDENTIQUES)
        groups: dict[str, list[str]] = {}
        for i, g in series.sort("groupe_id", "ei_id").select("ei_id", "groupe_id").rows():
            groups.setdefault(g, []).append(i)
        # the group's face: its first member that is not a salt of a moiety (a salt is
        # shown under its moiety), else its first member
        members_table = store.table(DS.EI_FRACTIONS_MEMBRES) if store.has(DS.EI_FRACTIONS_MEMBRES) else None
        salts = set(members_table["ei_id"]) if members_table is not None and not members_table.is_empty() else set()
        out = {}
        for members in groups.values():
            face = next((m for m in members if m not in salts), members[0])
            ordered = [face, *[m for m in members if m != face]]
            out.update({m: ordered for m in members})
        return out

    return store.memo("ei_series", compute)


def series_label(labels: list[str]) -> str:
    """One name for a product's components: their common leading words, or the names
    joined when few ('Cobicistat + Elvitégravir')."""
    words = [label.split() for label in labels]
    common = []
    for column in zip(*words):
        if len({w.lower() for w in column}) > 1:
            break
        common.append(column[0])
    if len(common) >= 2:
        return " ".join(common).rstrip(",;(") + " …"
    return " + ".join(labels[:3]) + (" …" if len(labels) > 3 else "")


def with_moiety(label: str, moiety: str | None) -> str:
    """A lone salt's label led by its active moiety, so that it is found and read under
    it: 'Acide clavulanique — potassium (clavulanate de)'; unchanged when the label
    already holds the moiety's words ('Tamoxifène (citrate de)')."""
    if not moiety:
        return label
    words = set(normalise(label).split())
    if set(normalise(moiety).split()) <= words:
        return label
    lead = label[:1].lower() if label[1:2].islower() else label[:1]  # "DL-lysine" keeps its capitals
    return f"{display_name(moiety)} — {lead}{label[1:]}"


def fraction_of(store: Store, ei_id: str) -> str | None:
    """The moiety that pools a substance with its salts and forms, if any."""
    if not store.has(DS.EI_FRACTIONS_MEMBRES):
        return None
    members = store.table(DS.EI_FRACTIONS_MEMBRES)
    hit = members.filter(pl.col("ei_id") == ei_id)["fraction_id"] if not members.is_empty() else []
    return hit[0] if len(hit) else None


def profile(store: Store, ei_id: str | None) -> Profile | None:
    """The profile of a substance (``ei_id``) or of an active moiety (``fraction_id``)."""
    if not ei_id:
        return None
    if ei_id.startswith(FRACTION_PREFIX):
        return _fraction_profile(store, ei_id)
    subs = store.table(DS.EI_SUBSTANCES)
    if subs.is_empty():
        return None
    row = subs.filter(pl.col("ei_id") == ei_id)
    if row.is_empty():
        return None
    r = row.row(0, named=True)
    annee, age, sexe = _strata(store, (DS.EI_ANNEE, DS.EI_AGE, DS.EI_SEXE), "ei_id", ei_id)
    soc = _part(store, DS.EI_SOC, "ei_id", ei_id)
    if not soc.is_empty():
        soc = _with_soc(store, soc).sort("n_cas", "soc", descending=[True, False], nulls_last=True)
    labels = substance_choices(store)
    return Profile(
        nom=r["nom"],
        annee=annee,
        age=age,
        sexe=sexe,
        soc=soc,
        bdpm_names=_bdpm_names(store, [ei_id]),
        moiety=r.get("fraction"),
        twins=[labels.get(i, i) for i in _series(store).get(ei_id, []) if i != ei_id],
        **_head(store, ei_id, r),
    )


def _head(store: Store, unit: str, r: dict) -> dict:
    """A unit's headline figures, as ``Profile`` fields (a row of ``ei_substances`` or
    ``ei_fractions``)."""
    return {
        "ei_id": unit,
        "n_cas": r["n_cas"],
        "n_cas_statut": r["n_cas_statut"],
        "consommants_par_an": r.get("consommants_par_an"),
        "taux": r["taux"],
        "taux_ic_bas": r["taux_ic_bas"],
        "taux_ic_haut": r["taux_ic_haut"],
        "rank": _rank(store, unit, r["taux"]),
        "seuil": threshold(store),
        "motif_sans_taux": r.get("motif_sans_taux"),
    }


def _bdpm_names(store: Store, ids: list[str]) -> list[str]:
    """The BDPM substances linked to these pharmacovigilance substances."""
    links = store.table(DS.EI_LIENS)
    if links.is_empty():
        return []
    return links.filter(pl.col("ei_id").is_in(ids))["denomination_bdpm"].unique().sort().to_list()


def pooled_without_measures_fr(profiles: list[Profile]) -> str | None:
    """Why the active moieties among ``profiles`` have no ROR, PRR or IC: one sentence, or None."""
    pooled = [p.label for p in profiles if p.kind == "fraction"]
    if not pooled:
        return None
    names = ", ".join(pooled)
    verb = "ses cas réunissent" if len(pooled) == 1 else "leurs cas réunissent"
    return (
        f"Pas de ROR, de PRR ni d'IC pour {names} : {verb} plusieurs sels ou formes, alors que ces mesures "
        "comparent un nom déclaré à toutes les autres substances et ne s'additionnent pas d'une forme à l'autre."
    )


POOLED_NO_MEASURE = ("ror", "ror_ic_bas", "ror_ic_haut", "prr", "prr_ic_bas", "prr_ic_haut", "chi2", "ic", "ic025")


def _fraction_profile(store: Store, fraction_id: str) -> Profile | None:
    heads = store.table(DS.EI_FRACTIONS) if store.has(DS.EI_FRACTIONS) else pl.DataFrame()
    row = heads.filter(pl.col("fraction_id") == fraction_id) if not heads.is_empty() else heads
    if row.is_empty():
        return None
    r = row.row(0, named=True)
    annee, age, sexe = _strata(
        store, (DS.EI_FRACTIONS_ANNEE, DS.EI_FRACTIONS_AGE, DS.EI_FRACTIONS_SEXE), "fraction_id", fraction_id
    )
    rows = _part(store, DS.EI_FRACTIONS_MEMBRES, "fraction_id", fraction_id)
    if "doublon" not in rows.columns:
        rows = rows.with_columns(pl.lit(False).alias("doublon"))
    member_ids = rows["ei_id"].to_list()
    counted = rows.filter(~pl.col("doublon"))["ei_id"].to_list()  # a twin's cases are another form's
    subs = store.table(DS.EI_SUBSTANCES).join(rows.select("ei_id", "doublon"), on="ei_id")
    labels = substance_choices(store)
    forms = [_form_label(n, labels.get(i)) for i, n in subs.select("ei_id", "nom").rows()]
    members = subs.select(
        "ei_id",
        pl.Series("substance", forms, dtype=pl.String),
        "nom",
        "n_cas",
        "n_cas_statut",
        "consommants_par_an",
        "doublon",
    ).sort(pl.col("n_cas").is_null(), pl.col("n_cas"), descending=[False, True], nulls_last=True)
    # organ classes: the sums of the salts' listed rows (each a lower bound of its cases)
    soc = pl.DataFrame()
    socs = store.table(DS.EI_SOC)
    if not socs.is_empty():
        pooled = socs.filter(pl.col("ei_id").is_in(counted)).group_by("soc_code").agg(pl.col("n_cas").sum())
        if not pooled.is_empty():
            total_ok = r["n_cas_statut"] is None and r["n_cas"]
            soc = _with_soc(
                store,
                pooled.with_columns(
                    pl.lit(None, dtype=pl.String).alias("n_cas_statut"),
                    (
                        (pl.col("n_cas") / r["n_cas"] * 100).round(1) if total_ok else pl.lit(None, dtype=pl.Float64)
                    ).alias("part_cas"),
                    # no disproportionality for a pooled moiety (the background is per substance)
                    *[pl.lit(None, dtype=pl.Float64).alias(c) for c in POOLED_NO_MEASURE],
                    pl.lit(None, dtype=pl.Boolean).alias("signal_evans"),
                    pl.lit(None, dtype=pl.Boolean).alias("signal_ror"),
                    pl.lit(None, dtype=pl.Boolean).alias("signal_ic"),
                ),
            ).sort("n_cas", "soc", descending=[True, False], nulls_last=True)
    return Profile(
        nom=r["fraction"],
        annee=annee,
        age=age,
        sexe=sexe,
        soc=soc,
        bdpm_names=_bdpm_names(store, member_ids),
        kind="fraction",
        members=members,
        **_head(store, fraction_id, r),
    )


def linked_codes(store: Store, code_substance: str) -> list[str]:
    """The BDPM substance codes whose adverse-effect reports stand for ``code_substance``:
    the code itself when reports are linked to it; for a therapeutic fraction (FT, the
    form a dose is expressed in, such as « amoxicilline anhydre »), which reports never
    name, the active substances (SA) it is the fraction of in the same compositions
    (amoxicilline trihydratée, amoxicilline sodique)."""
    links = store.table(DS.EI_LIENS)
    if links.is_empty() or (links["code_substance"] == code_substance).any():
        return [code_substance]
    compo = store.table(DS.COMPOSITIONS)
    pairs = ["cis", "numero_liaison_sa_ft"]
    fractions = compo.filter((pl.col("code_substance") == code_substance) & (pl.col("nature_composant") == "FT"))
    active = compo.filter(pl.col("nature_composant") == "SA").join(
        fractions.select(pairs).drop_nulls().unique(), on=pairs
    )
    codes = active["code_substance"].unique().sort().to_list()
    return codes or [code_substance]


def profiles_for_substance(store: Store, code_substance: str) -> list[Profile]:
    """The adverse-effect units linked to a BDPM substance code: a salt or form of an
    active moiety is shown as its moiety (its own figures are in the moiety's detail),
    unless the moiety's total is withheld."""
    links = store.table(DS.EI_LIENS)
    if links.is_empty():
        return []
    ids = links.filter(pl.col("code_substance").is_in(linked_codes(store, code_substance)))["ei_id"]
    ids = ids.unique().sort().to_list()
    profiles: list[Profile] = []
    for i in ids:
        moiety = fraction_of(store, i)
        p = profile(store, moiety) if moiety else None
        if p is None or p.masked:  # a moiety whose total is withheld: the substance's own figures
            p = profile(store, i)
        if p is not None and p.ei_id not in {x.ei_id for x in profiles}:
            profiles.append(p)
    return profiles


def summary_fr(p: Profile) -> str:
    """The plain-French summary for patients; the substance named as the BDPM spells it
    (« paracétamol », not the source's « PARACETAMOL »)."""
    label = p.label
    name = label[:1].lower() + label[1:] if label[1:2].islower() else label
    if p.masked:
        # one status for every withheld count: the text must not say whether it is small
        text = (
            f"Le nombre de cas d'effets indésirables déclarés en France entre 2014 et 2018 pour « {name} » "
            "n'est pas publié : il est masqué pour protéger le secret médical (il est faible, ou il permettrait "
            "de retrouver un petit effectif par calcul)."
        )
        shown = p.soc.filter(pl.col("n_cas").is_not_null()).sort("n_cas", descending=True).head(3)
        if not shown.is_empty():
            parts = [f"{soc.lower()} ({fr_int(n)} cas)" for soc, n in shown.select("soc", "n_cas").rows()]
            text += " Les classes d'organes les plus souvent touchées : " + ", ".join(parts) + "."
        return text
    if p.n_cas == 0:  # listed by the source with no report: says so, without reading as a proof of safety
        text = (
            f"Aucune déclaration d'effet indésirable n'est enregistrée pour « {name} » en France entre 2014 et 2018 "
            "dans ces données. Cela ne prouve pas que ce médicament n'en provoque pas : les déclarations peuvent "
            "être enregistrées sous un autre nom (un sel ou la base), et beaucoup d'effets ne sont jamais déclarés."
        )
        return text + (" " + p.withheld_rate_fr if p.withheld_rate_fr else "")
    text = f"Entre 2014 et 2018, {fr_int(p.n_cas)} cas d'effets indésirables ont été déclarés en France pour « {name} »"
    if p.kind == "fraction":
        text += " (toutes ses formes réunies)"
    if p.taux is not None and p.consommants_par_an:
        text += (
            f", pour environ {fr_int(p.consommants_par_an)} consommants chaque année (personnes ayant eu au moins "
            f"un remboursement, comptées une fois par produit) : soit un taux de notification de "
            f"{fmt_rate(p.taux)} cas déclarés pour 100 000 consommants par an"
        )
        if p.rank is not None:
            text += ", " + p.rank.text_fr()
    text += "."
    if p.withheld_rate_fr:
        text += " " + p.withheld_rate_fr
    if p.high_rate_fr:
        text += " " + p.high_rate_fr
    if p.twins:
        shown = ", ".join(f"« {t} »" for t in p.twins[:3]) + (" …" if len(p.twins) > 3 else "")
        text += (
            f" Ces cas sont exactement ceux de {len(p.twins)} autre{'s' if len(p.twins) > 1 else ''} composant"
            f"{'s' if len(p.twins) > 1 else ''} d'un même produit ({shown}) : ce sont les mêmes déclarations, "
            "attribuées à chaque composant (vaccin à plusieurs valences, association fixe). DataMed ne les compte "
            "qu'une fois dans les comparaisons."
        )
    top = p.soc.filter(pl.col("part_cas").is_not_null()).head(3) if not p.soc.is_empty() else p.soc
    if not top.is_empty():
        parts = [f"{soc.lower()} ({fmt_pct(pc)} des cas)" for soc, pc in top.select("soc", "part_cas").rows()]
        text += " Les effets les plus souvent déclarés concernent : " + ", ".join(parts) + "."
    return text


# --- tables for display ----------------------------------------------------------------------


def soc_table(p: Profile) -> pl.DataFrame:
    if p.soc.is_empty():
        return pl.DataFrame()
    return pl.DataFrame(
        {
            "Classe d'organes (SOC)": p.soc["soc"],
            "Cas": [fmt_count(v, s, p.seuil) for v, s in p.soc.select("n_cas", "n_cas_statut").rows()],
            "Part des cas": [fmt_pct(x) for x in p.soc["part_cas"]],
            "ROR [IC 95 %]": [
                fmt_ratio(r, lo, hi) for r, lo, hi in p.soc.select("ror", "ror_ic_bas", "ror_ic_haut").rows()
            ],
            "Signal": [signal_fr(e, i) for e, i in p.soc.select("signal_evans", "signal_ic").rows()],
        }
    )


def strata_table(frame: pl.DataFrame, label: str, seuil: int, column: str = "classe") -> pl.DataFrame:
    if frame.is_empty():
        return pl.DataFrame()
    return pl.DataFrame(
        {
            label: [str(x) for x in frame[column]],
            "Cas": [fmt_count(v, s, seuil) for v, s in frame.select("n_cas", "n_cas_statut").rows()],
            "Part des cas": [fmt_pct(x) for x in frame["part_cas"]],
            "Consommants": [fmt_count(v, s, seuil) for v, s in frame.select("n_conso", "n_conso_statut").rows()],
            "Taux de notification pour 100 000 [IC 95 %]": [
                fmt_rate(r, lo, hi) for r, lo, hi in frame.select("taux", "taux_ic_bas", "taux_ic_haut").rows()
            ],
        }
    )


SHARE_SERIES = ["Cas déclarés", "Consommants"]


def who_shares(frame: pl.DataFrame) -> pl.DataFrame:
    """Per age class (or sex): its share of the cases beside its share of the
    *consommants* (``classe``, ``mesure``, ``part``), so that a class that reports more
    than it takes shows. Empty unless every count of the breakdown is published."""
    if frame.is_empty() or "n_conso" not in frame.columns:
        return pl.DataFrame()
    if frame["n_cas"].null_count() or frame["n_conso"].null_count() or frame["part_cas"].null_count():
        return pl.DataFrame()
    total = frame["n_conso"].sum()
    if not total:
        return pl.DataFrame()
    cases = frame.select("classe", pl.lit(SHARE_SERIES[0]).alias("mesure"), pl.col("part_cas").alias("part"))
    people = frame.select(
        "classe", pl.lit(SHARE_SERIES[1]).alias("mesure"), (pl.col("n_conso") / total * 100).alias("part")
    )
    return pl.concat([cases, people])


def fmt_ratio(r, lo, hi) -> str:
    if r is None:
        return "—"
    return f"{fr_number(r, 2)} [{fr_number(lo, 2)} – {fr_number(hi, 2)}]" if lo is not None else fr_number(r, 2)


SIGNAL_YES = "Signal à expertiser"
SIGNAL_FR = (
    "**Qu'est-ce qu'un signal ?** Une classe d'organes plus souvent citée dans les déclarations pour cette "
    "substance que pour les autres. C'est une piste que les experts de pharmacovigilance doivent examiner, "
    "pas la preuve d'un risque : les déclarations dépendent de la notoriété d'un effet, de l'usage du "
    "médicament et des patients qui le prennent. DataMed ne retient un signal que si deux méthodes "
    "concordent (critères d'Evans : PRR ≥ 2, χ² ≥ 4, au moins 3 cas ; et borne basse de l'information "
    "component IC025 > 0), pour limiter les fausses alertes dues au grand nombre de comparaisons faites."
)


def signal_fr(evans, ic) -> str:
    """The table cell: a signal only when the Evans criteria and IC025 > 0 both hold
    (issue 13: the lower ROR bound alone flagged 30 % of the pairs, with no control of
    the thousands of comparisons made; both together flag 12.5 % on the real data)."""
    if evans is None and ic is None:
        return "—"
    return SIGNAL_YES if evans and ic else "Non"


# --- comparison ---------------------------------------------------------------------------------


@dataclass
class Comparison:
    profiles: list[Profile]
    unknown: list[str]
    soc: pl.DataFrame  # long: substance, soc, n_cas, statut, part_cas, ror...
    rates: pl.DataFrame
    age: pl.DataFrame
    sexe: pl.DataFrame


def parse_ids(values: list[str] | None) -> list[str]:
    """Clean ?s= values: strip, de-duplicate, keep order, at most MAX_COMPARE."""
    out: list[str] = []
    for v in values or []:
        v = (v or "").strip().lower()[:100]
        if v and v not in out:
            out.append(v)
    return out


def compare(store: Store, ids: list[str]) -> Comparison:
    profiles, unknown = [], []
    for i in ids[:MAX_COMPARE]:
        p = profile(store, i)
        (profiles if p else unknown).append(p or i)
    frames_soc, frames_age, frames_sexe, rates = [], [], [], []
    for p in profiles:
        if not p.soc.is_empty():
            frames_soc.append(p.soc.with_columns(pl.lit(p.label).alias("substance")))
        if not p.age.is_empty():
            frames_age.append(p.age.with_columns(pl.lit(p.label).alias("substance")))
        if not p.sexe.is_empty():
            frames_sexe.append(p.sexe.with_columns(pl.lit(p.label).alias("substance")))
        rates.append(
            {
                "substance": p.label,
                "ei_id": p.ei_id,
                "n_cas": p.n_cas,
                "n_cas_statut": p.n_cas_statut,
                "consommants_par_an": p.consommants_par_an,
                "taux": p.taux,
                "taux_ic_bas": p.taux_ic_bas,
                "taux_ic_haut": p.taux_ic_haut,
            }
        )

    def cat(frames):
        return pl.concat(frames, how="diagonal_relaxed") if frames else pl.DataFrame()

    rate_schema = {
        "substance": pl.String,
        "ei_id": pl.String,
        "n_cas": pl.Int64,
        "n_cas_statut": pl.String,
        "consommants_par_an": pl.Float64,
        "taux": pl.Float64,
        "taux_ic_bas": pl.Float64,
        "taux_ic_haut": pl.Float64,
    }
    return Comparison(
        profiles, unknown, cat(frames_soc), pl.DataFrame(rates, schema=rate_schema), cat(frames_age), cat(frames_sexe)
    )


def comparison_table(c: Comparison, seuil: int) -> pl.DataFrame:
    """The masked comparison table (one row per substance x SOC), for display and CSV."""
    if c.soc.is_empty():
        return pl.DataFrame()

    def num(column: str, decimals: int) -> list[str]:
        return ["" if x is None else fr_number(x, decimals) for x in c.soc[column]]

    return pl.DataFrame(
        {
            "Substance": c.soc["substance"],
            "Classe d'organes (SOC)": c.soc["soc"],
            "Cas": [fmt_count(v, s, seuil) for v, s in c.soc.select("n_cas", "n_cas_statut").rows()],
            "Part des cas (%)": num("part_cas", 1),
            "ROR": num("ror", 2),
            "ROR IC bas": num("ror_ic_bas", 2),
            "ROR IC haut": num("ror_ic_haut", 2),
            "PRR": num("prr", 2),
            "PRR IC bas": num("prr_ic_bas", 2),
            "PRR IC haut": num("prr_ic_haut", 2),
            "IC025": num("ic025", 2),
            "Signal": [signal_fr(e, i) for e, i in c.soc.select("signal_evans", "signal_ic").rows()],
        }
    )


def comparison_csv(c: Comparison, seuil: int) -> bytes:
    """The comparison table as CSV: a plain header row first (a ``#`` comment line broke
    simple imports, issue 13), ``;``-separated, UTF-8 with a byte-order mark for
    spreadsheets. The provenance is in the file name (``comparison_filename``)."""
    buf = io.BytesIO()
    table = comparison_table(c, seuil)
    if table.is_empty():
        return b""
    csv_safe(table).write_csv(buf, separator=";")
    return "\ufeff".encode() + buf.getvalue()


def comparison_filename(c: Comparison) -> str:
    """``datamed_comparaison_<substances>_ANSM-BNPV-2014-2018_masque.csv``: source, period
    and the masking of small counts, readable without opening the file."""
    subs = "-".join(p.ei_id[:20] for p in c.profiles)
    return f"datamed_comparaison_{subs}_ANSM-BNPV-{PERIOD}_masque.csv"


# --- national view ------------------------------------------------------------------------------


@dataclass
class National:
    total: int
    n_substances: int
    annee: pl.DataFrame
    age: pl.DataFrame
    sexe: pl.DataFrame
    soc: pl.DataFrame
    top: pl.DataFrame  # substances with the most cases
    seuil: int


def national(store: Store) -> National | None:
    if not has_data(store):
        return None
    subs = store.table(DS.EI_SUBSTANCES)
    annee = store.table(DS.EI_NATIONAL_ANNEE)
    age = store.table(DS.EI_NATIONAL_AGE).with_columns(
        pl.col("age").replace_strict(AGE_LABELS_FR, default=pl.col("age")).alias("classe")
    )
    sexe = store.table(DS.EI_NATIONAL_SEXE).with_columns(
        pl.col("sexe").replace_strict(SEX_LABELS_FR, default=pl.col("sexe")).alias("classe")
    )
    soc = _with_soc(store, store.table(DS.EI_NATIONAL_SOC))
    top = subs.filter(pl.col("n_cas").is_not_null()).sort("n_cas", descending=True).head(20)
    return National(
        total=int(annee["n_cas"].sum()) if not annee.is_empty() else 0,
        n_substances=subs.height,
        annee=annee,
        age=age,
        sexe=sexe,
        soc=soc,
        top=top,
        seuil=threshold(store),
    )


def substance_choices(store: Store) -> dict[str, str]:
    """ei_id -> label, substances with published counts first (for selectors)."""

    def compute():
        subs = store.table(DS.EI_SUBSTANCES)
        if subs.is_empty():
            return {}
        ordered = subs.sort(pl.col("n_cas").is_null(), "nom")
        links = store.table(DS.EI_LIENS)
        names: dict[str, list[str]] = {}
        if not links.is_empty():
            for i, n in links.select("ei_id", "denomination_bdpm").rows():
                names.setdefault(i, []).append(n)
        return {i: best_label(n, names.get(i, [])) for i, n in ordered.select("ei_id", "nom").rows()}

    return store.memo("ei_choices", compute)


def unit_choices(store: Store) -> dict[str, str]:
    """The units a professional compares, id -> label: one entry per active moiety (its
    forms as secondary text, so that typing a salt finds it) and every substance that
    is no moiety's form; published counts first, then by label."""

    def compute():
        subs = store.table(DS.EI_SUBSTANCES)
        if subs.is_empty():
            return {}
        labels = substance_choices(store)
        members = store.table(DS.EI_FRACTIONS_MEMBRES) if store.has(DS.EI_FRACTIONS_MEMBRES) else pl.DataFrame()
        heads = store.table(DS.EI_FRACTIONS) if store.has(DS.EI_FRACTIONS) else pl.DataFrame()
        rows = []
        salts = set(members["ei_id"]) if not members.is_empty() else set()
        if not heads.is_empty():
            forms: dict[str, list[str]] = {}
            noms = dict(subs.select("ei_id", "nom").rows())
            for i, f in members.select("ei_id", "fraction_id").rows():
                forms.setdefault(f, []).append(_form_label(noms.get(i, i), labels.get(i)).lower())
            for f, name, n in heads.select("fraction_id", "fraction", "n_cas").rows():
                label = display_name(name)
                others = sorted(x for x in forms.get(f, []) if x != label.lower())
                if others:
                    label += " (" + ", ".join(others) + ")"
                rows.append((n is None, label.lower(), f, label))
        active = subs["fraction"] if "fraction" in subs.columns else [None] * subs.height
        series = _series(store)
        for (i, n), moiety in zip(subs.select("ei_id", "n_cas").rows(), active):
            if i in salts:
                continue
            label = labels.get(i, i)
            if i in series:  # one product's components: one entry, under its face's id
                if series[i][0] != i:
                    continue
                label = f"{series_label([labels.get(m, m) for m in series[i]])} ({len(series[i])} composants aux cas identiques)"
            label = with_moiety(label, moiety)  # a lone salt: found under its moiety's name too
            rows.append((n is None, label.lower(), i, label))
        # two units whose names differ only by the organism (a yeast or a hamster cell line)
        # read alike once it is cut: give those their source name
        seen: dict[str, int] = {}
        for _m, _k, _i, label in rows:
            seen[label] = seen.get(label, 0) + 1
        names = dict(subs.select("ei_id", "nom").rows())
        out = {}
        for _m, _k, i, label in sorted(rows):
            out[i] = f"{label} ({names.get(i, i).lower()})" if seen[label] > 1 else label
        return out

    return store.memo("ei_units", compute)


def as_units(store: Store, ids: list[str]) -> list[str]:
    """Ids from a link (``?s=``): each form of a moiety replaced by its moiety, each
    component of an identical case series by the series' face; order kept."""
    out: list[str] = []
    series = _series(store)
    for i in ids:
        unit = fraction_of(store, i) or (series[i][0] if i in series else i)
        if unit not in out:
            out.append(unit)
    return out


class UnitSearch:
    """Search among ``unit_choices`` by name, with or without accents, any word order:
    every word of the query starts a word of the label (a moiety's label holds its forms,
    so "sodique" or "clavulanate" find theirs). Best first: the label's start, then
    published counts, then alphabetical."""

    def __init__(self, store: Store):
        self.store = store

    def __call__(self, query: str) -> list[str]:
        # a fixed combination ("amoxicilline + acide clavulanique"): each part's matches,
        # the best of each part first
        parts = [p for p in re.split(r"\+|,|;|\bet\b|\bavec\b", query or "") if normalise(p)]
        if len(parts) > 1:
            found = [self._one(p) for p in parts]
            out: list[str] = []
            for rank in range(max(len(f) for f in found)):
                out += [f[rank] for f in found if rank < len(f) and f[rank] not in out]
            return out
        return self._one(query)

    def _one(self, query: str) -> list[str]:
        words = normalise(query).split()
        if not words:
            return []
        index = self.store.memo(
            "ei_units_index", lambda: [(i, normalise(label).split()) for i, label in unit_choices(self.store).items()]
        )
        hits = []
        for rank, (i, label_words) in enumerate(index):  # unit_choices is ordered: published first
            if all(any(lw.startswith(w) for lw in label_words) for w in words):
                starts = label_words[: len(words)] and label_words[0].startswith(words[0])
                hits.append((not starts, rank, i))
        return [i for *_k, i in sorted(hits)]
