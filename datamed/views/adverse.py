"""Adverse-effect profiles, comparisons and the national view, from the masked
``ei_*`` datasets. Pure functions returning plain data for the pages.

Every count here was masked in the pipeline; this module never sees a value
below the disclosure threshold, it only says how to show the masked ones.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

import polars as pl

from datamed.core import disclosure
from datamed.core.text import csv_safe, fr_int, fr_number
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
    "patients traités de l'Assurance maladie (Open Medic)."
)


_ORGANISM = re.compile(r"\s*\([^()]*/[^()]*\)")


def display_name(name: str) -> str:
    """'ETANERCEPT (MAMMIFERE/HAMSTER/CELLULES CHO)' -> 'Etanercept'."""
    short = _ORGANISM.sub("", name).strip() or name
    return short[:1].upper() + short[1:].lower()


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
    ei_id: str
    nom: str
    n_cas: int | None
    n_cas_statut: str | None
    patients_par_an: float | None
    taux: float | None
    taux_ic_bas: float | None
    taux_ic_haut: float | None
    annee: pl.DataFrame
    age: pl.DataFrame
    sexe: pl.DataFrame
    soc: pl.DataFrame
    bdpm_names: list[str]
    rank_share: float | None  # share of substances with a lower published rate
    seuil: int

    @property
    def label(self) -> str:
        return best_label(self.nom, self.bdpm_names)

    @property
    def masked(self) -> bool:
        return self.n_cas is None


def _rates_rank(store: Store) -> pl.Series:
    return store.memo("ei_rates_sorted", lambda: store.table(DS.EI_SUBSTANCES)["taux"].drop_nulls().sort())


def profile(store: Store, ei_id: str | None) -> Profile | None:
    if not ei_id:
        return None
    subs = store.table(DS.EI_SUBSTANCES)
    if subs.is_empty():
        return None
    row = subs.filter(pl.col("ei_id") == ei_id)
    if row.is_empty():
        return None
    r = row.row(0, named=True)

    def part(name: str) -> pl.DataFrame:
        frame = store.table(name)
        return frame.filter(pl.col("ei_id") == ei_id) if not frame.is_empty() else frame

    annee = part(DS.EI_ANNEE).sort("annee")
    age = (
        part(DS.EI_AGE).with_columns(pl.col("age").replace_strict(AGE_LABELS_FR, default=pl.col("age")).alias("classe"))
        if store.has(DS.EI_AGE)
        else pl.DataFrame()
    )
    sexe = (
        part(DS.EI_SEXE).with_columns(
            pl.col("sexe").replace_strict(SEX_LABELS_FR, default=pl.col("sexe")).alias("classe")
        )
        if store.has(DS.EI_SEXE)
        else pl.DataFrame()
    )
    soc = part(DS.EI_SOC)
    if not soc.is_empty():
        soc = _with_soc(store, soc).sort("n_cas", "soc", descending=[True, False], nulls_last=True)
    links = store.table(DS.EI_LIENS)
    names = (
        links.filter(pl.col("ei_id") == ei_id)["denomination_bdpm"].unique().sort().to_list()
        if not links.is_empty()
        else []
    )
    rank = None
    if r["taux"] is not None:
        rates = _rates_rank(store)
        if len(rates) > 1:
            rank = float((rates < r["taux"]).sum() / len(rates))
    return Profile(
        ei_id=ei_id,
        nom=r["nom"],
        n_cas=r["n_cas"],
        n_cas_statut=r["n_cas_statut"],
        patients_par_an=r["patients_par_an"],
        taux=r["taux"],
        taux_ic_bas=r["taux_ic_bas"],
        taux_ic_haut=r["taux_ic_haut"],
        annee=annee,
        age=age,
        sexe=sexe,
        soc=soc,
        bdpm_names=names,
        rank_share=rank,
        seuil=threshold(store),
    )


def profiles_for_substance(store: Store, code_substance: str) -> list[Profile]:
    """Pharmacovigilance substances linked to a BDPM substance code."""
    links = store.table(DS.EI_LIENS)
    if links.is_empty():
        return []
    ids = links.filter(pl.col("code_substance") == code_substance)["ei_id"].unique().sort().to_list()
    return [p for p in (profile(store, i) for i in ids) if p is not None]


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
    text = f"Entre 2014 et 2018, {fr_int(p.n_cas)} cas d'effets indésirables ont été déclarés en France pour « {name} »"
    if p.taux is not None and p.patients_par_an:
        text += (
            f", pour environ {fr_int(p.patients_par_an)} patients traités chaque année : soit "
            f"{fmt_rate(p.taux)} cas pour 100 000 patients traités par an"
        )
        if p.rank_share is not None:
            if p.rank_share >= 0.75:
                text += ", un taux plus élevé que pour la plupart des substances"
            elif p.rank_share <= 0.25:
                text += ", un taux plus faible que pour la plupart des substances"
            else:
                text += ", un taux dans la moyenne des substances"
    text += "."
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
            "Patients traités": [fmt_count(v, s, seuil) for v, s in frame.select("n_conso", "n_conso_statut").rows()],
            "Taux pour 100 000 [IC 95 %]": [
                fmt_rate(r, lo, hi) for r, lo, hi in frame.select("taux", "taux_ic_bas", "taux_ic_haut").rows()
            ],
        }
    )


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
                "patients_par_an": p.patients_par_an,
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
        "patients_par_an": pl.Float64,
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
