"""Queries over the prepared medicine catalogue, for pages, CLI and tests.

Every function takes a ``Store`` and returns plain data (dataclasses, dicts,
polars frames). None of them imports Streamlit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

import polars as pl

from datamed.core import codes, config
from datamed.core.labels import display_label
from datamed.core.text import normalise
from datamed.datasets import DS
from datamed.store import Store

CIS_RE = codes.CIS_RE
SUBSTANCE_RE = re.compile(codes.SUBSTANCE)

GENERIC_TYPES = {
    0: "Princeps",
    1: "Générique",
    2: "Générique par complémentarité posologique",
    4: "Générique substituable",
}
ACTIVE_STATUSES = (1, 2)  # rupture, tension: an availability problem now
STATUS_SHORT = {
    1: "Rupture de stock",
    2: "Tension d'approvisionnement",
    3: "Arrêt de commercialisation",
    4: "Remise à disposition",
}


def valid_cis(value: str | None) -> str | None:
    value = (value or "").strip()
    return value if CIS_RE.match(value) else None


# --- key figures ---------------------------------------------------------------


@dataclass
class KeyFigures:
    specialites: int
    specialites_commercialisees: int
    substances: int
    presentations: int
    presentations_actives: int
    problemes_disponibilite: int  # CIS with a rupture or tension in the newest availability snapshot
    ruptures: int
    tensions: int
    disponibilite_date: date | None
    generic_groups: int
    mitm: int


def current_availability(store: Store) -> pl.DataFrame:
    """Records of the newest availability snapshot (one row per CIS/CIP13 record)."""

    def compute():
        dispo = store.table(DS.DISPONIBILITES)
        if dispo.is_empty():
            return dispo
        latest = dispo["snapshot"].max()
        return dispo.filter(pl.col("snapshot") == latest)

    return store.memo("current_availability", compute)


def key_figures(store: Store) -> KeyFigures:
    def compute():
        spec = store.table(DS.SPECIALITES)
        pres = store.table(DS.PRESENTATIONS)
        subs = store.table(DS.SUBSTANCES)
        cur = current_availability(store)
        gen = store.table(DS.GENERIQUES)
        mitm = store.table(DS.MITM)
        active = cur.filter(pl.col("code_statut").is_in(ACTIVE_STATUSES)) if not cur.is_empty() else cur
        n_active_subs = (
            subs.filter(pl.col("substance_active")).height if "substance_active" in subs.columns else subs.height
        )
        return KeyFigures(
            specialites=spec.height,
            specialites_commercialisees=spec.filter(pl.col("etat_commercialisation") == "Commercialisée").height,
            substances=n_active_subs,
            presentations=pres.height,
            presentations_actives=pres.filter(pl.col("statut_admin_presentation") == "Présentation active").height
            if not pres.is_empty()
            else 0,
            problemes_disponibilite=active["cis"].n_unique() if not active.is_empty() else 0,
            ruptures=active.filter(pl.col("code_statut") == 1)["cis"].n_unique() if not active.is_empty() else 0,
            tensions=active.filter(pl.col("code_statut") == 2)["cis"].n_unique() if not active.is_empty() else 0,
            disponibilite_date=cur["snapshot"].max() if not cur.is_empty() else None,
            generic_groups=gen["id_groupe_generique"].n_unique() if not gen.is_empty() else 0,
            mitm=mitm["cis"].n_unique() if not mitm.is_empty() else 0,
        )

    return store.memo("key_figures", compute)


# --- ATC ---------------------------------------------------------------------------


def atc_labels(store: Store) -> dict[str, str]:
    """ATC code -> its label as shown: the French labels with their accents
    (``core.labels``), the WHO's English ones as they are."""

    def compute():
        if not store.has(DS.ATC):
            return {}
        atc = store.table(DS.ATC)
        langs = atc["langue"].to_list() if "langue" in atc.columns else [None] * atc.height
        return {
            code: label if lang == "en" else display_label(label)
            for code, label, lang in zip(atc["code_atc"].to_list(), atc["libelle"].to_list(), langs)
        }

    return store.memo("atc_labels", compute)


def _atc_english(store: Store) -> set[str]:
    def compute():
        atc = store.table(DS.ATC)
        if atc.is_empty():
            return set()
        return set(atc.filter(pl.col("langue") == "en")["code_atc"].to_list())

    return store.memo("atc_english", compute)


def atc_hierarchy(store: Store, code: str) -> list[tuple[str, str, bool]]:
    """'N02BE01' -> [('N', 'Système nerveux', False), ..., ('N02BE', 'Anilides', True)].

    The flag is True when only the WHO English label is known.
    """
    labels = atc_labels(store)
    english = _atc_english(store)
    out = []
    for n in (1, 3, 4, 5, 7):
        if len(code) >= n:
            prefix = code[:n]
            out.append((prefix, labels.get(prefix, "libellé inconnu"), prefix in english))
    return out


# --- medicine page ----------------------------------------------------------------


@dataclass
class Medicine:
    cis: str
    identity: dict
    composition: pl.DataFrame
    presentations: pl.DataFrame
    generic_groups: list[dict]
    smr: pl.DataFrame
    asmr: pl.DataFrame
    conditions: list[str]
    availability_current: pl.DataFrame
    availability_history: pl.DataFrame
    mitm: bool
    atc: list[dict]
    infos: pl.DataFrame
    bdpm_url: str
    snapshots: dict = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.identity["denomination"]

    @property
    def status_now(self) -> int | None:
        """Worst current availability status (1 rupture < 2 tension < 3 arrêt < 4 remise)."""
        if self.availability_current.is_empty():
            return None
        return int(self.availability_current["code_statut"].min())


def _rows(frame: pl.DataFrame, cis: str) -> pl.DataFrame:
    if frame.is_empty() or "cis" not in frame.columns:
        return frame
    return frame.filter(pl.col("cis") == cis)


def medicine(store: Store, cis: str | None) -> Medicine | None:
    """Everything the medicine page shows, or None for an unknown/malformed CIS."""
    cis = valid_cis(cis)
    if cis is None:
        return None
    spec = _rows(store.table(DS.SPECIALITES), cis)
    if spec.is_empty():
        return None
    identity = spec.row(0, named=True)

    compo = _rows(store.table(DS.COMPOSITIONS), cis)
    if not compo.is_empty():
        compo = compo.sort("numero_liaison_sa_ft", "nature_composant", "designation_element").select(
            "designation_element",
            "code_substance",
            "denomination_substance",
            "dosage",
            "reference_dosage",
            "nature_composant",
            "numero_liaison_sa_ft",
        )

    pres = _rows(store.table(DS.PRESENTATIONS), cis)
    if not pres.is_empty():
        pres = pres.sort("cip13").drop("source_line")

    groups = []
    gen = store.table(DS.GENERIQUES)
    if not gen.is_empty():
        names = store.table(DS.SPECIALITES).select("cis", "denomination", "etat_commercialisation")
        for gid in _rows(gen, cis)["id_groupe_generique"].unique().sort().to_list():
            members = (
                gen.filter(pl.col("id_groupe_generique") == gid)
                .join(names, on="cis", how="left")
                .with_columns(
                    pl.col("type_generique")
                    .replace_strict(GENERIC_TYPES, default="Autre", return_dtype=pl.String)
                    .alias("type")
                )
                .sort("type_generique", "numero_tri")
                .select("cis", "denomination", "type", "type_generique", "etat_commercialisation")
            )
            label = gen.filter(pl.col("id_groupe_generique") == gid)["libelle_groupe_generique"][0]
            groups.append({"id": gid, "label": label, "members": members})

    links = store.table(DS.HAS_LIENS_CT)

    def with_links(frame: pl.DataFrame) -> pl.DataFrame:
        frame = _rows(frame, cis)
        if frame.is_empty():
            return frame
        if not links.is_empty():
            frame = frame.join(
                links.select("code_dossier_has", "lien_avis_ct").unique("code_dossier_has"),
                on="code_dossier_has",
                how="left",
            )
        else:
            frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias("lien_avis_ct"))
        return frame.sort("date_avis_ct", descending=True).drop("source_line")

    conditions = (
        _rows(store.table(DS.CONDITIONS), cis)["condition_prescription_delivrance"].to_list()
        if store.has(DS.CONDITIONS)
        else []
    )

    dispo = _rows(store.table(DS.DISPONIBILITES), cis)
    current = _rows(current_availability(store), cis)
    history = dispo
    if not dispo.is_empty():
        history = (
            dispo.sort("snapshot", descending=True)
            .unique(["cip13", "code_statut", "date_debut"], keep="first", maintain_order=True)
            .sort("date_mise_a_jour", "date_debut", descending=True, nulls_last=True)
            .drop("source_line")
        )

    atc_rows = _rows(store.table(DS.SPECIALITE_ATC), cis)
    atc = [
        {"code": r["code_atc"], "source": r["source_atc"], "hierarchy": atc_hierarchy(store, r["code_atc"])}
        for r in atc_rows.iter_rows(named=True)
    ]
    mitm = not _rows(store.table(DS.MITM), cis).is_empty()
    infos = _rows(store.table(DS.INFOS_IMPORTANTES), cis)
    if not infos.is_empty():
        infos = infos.sort("date_debut", descending=True).drop("source_line")

    return Medicine(
        cis=cis,
        identity=identity,
        composition=compo,
        presentations=pres,
        generic_groups=groups,
        smr=with_links(store.table(DS.HAS_SMR)),
        asmr=with_links(store.table(DS.HAS_ASMR)),
        conditions=conditions,
        availability_current=current.drop("source_line") if not current.is_empty() else current,
        availability_history=history,
        mitm=mitm,
        atc=atc,
        infos=infos,
        bdpm_url=config.BDPM_RECORD_URL.format(cis=cis),
        snapshots={
            name: store.snapshot_of(name)
            for name in (DS.SPECIALITES, DS.PRESENTATIONS, DS.HAS_SMR, DS.DISPONIBILITES, DS.MITM)
        },
    )


# --- substance page ---------------------------------------------------------------


@dataclass
class Substance:
    code: str
    name: str
    other_names: list[str]
    specialites: pl.DataFrame
    atc: list[dict]


def substance(store: Store, code: str | None) -> Substance | None:
    code = (code or "").strip()
    if not SUBSTANCE_RE.match(code):
        return None
    subs = store.table(DS.SUBSTANCES)
    row = subs.filter(pl.col("code_substance") == code)
    if row.is_empty():
        return None
    compo = store.table(DS.COMPOSITIONS).filter(pl.col("code_substance") == code)
    names = compo["denomination_substance"].unique().sort().to_list()
    spec = store.table(DS.SPECIALITES)
    dosages = compo.group_by("cis").agg(pl.col("dosage").unique().sort().str.join(" ; ").alias("dosage"))
    table = (
        spec.join(dosages, on="cis", how="inner")
        .with_columns(pl.col("titulaires").list.join(", ").alias("titulaire"))
        .select(
            "cis",
            "denomination",
            "dosage",
            "forme_pharmaceutique",
            "titulaire",
            "etat_commercialisation",
            "statut_amm",
        )
        .sort("denomination")
    )
    cis_list = table["cis"].to_list()
    atc_rows = store.table(DS.SPECIALITE_ATC).filter(pl.col("cis").is_in(cis_list))
    atc = []
    if not atc_rows.is_empty():
        counts = atc_rows.group_by("code_atc").len().sort("len", descending=True)
        for code_atc, n in counts.iter_rows():
            atc.append({"code": code_atc, "n": n, "hierarchy": atc_hierarchy(store, code_atc)})
    name = row["denomination"][0]
    return Substance(code, name, [n for n in names if n != name], table, atc)


# --- listings (catalogue filters) ---------------------------------------------------


def specialities_for(store: Store, *, atc: str | None = None, holder: str | None = None) -> pl.DataFrame:
    """Specialities in an ATC class (any level, by prefix) and/or of a holder."""
    spec = store.table(DS.SPECIALITES)
    frame = spec
    if atc:
        codes = store.table(DS.SPECIALITE_ATC).filter(pl.col("code_atc").str.starts_with(atc.upper()))
        frame = frame.join(codes.select("cis", "code_atc"), on="cis", how="inner")
    if holder:
        frame = frame.filter(pl.col("titulaires").list.contains(holder))
    if "code_atc" not in frame.columns:
        frame = frame.join(store.table(DS.SPECIALITE_ATC).select("cis", "code_atc"), on="cis", how="left")
    return (
        frame.with_columns(pl.col("titulaires").list.join(", ").alias("titulaire"))
        .select("cis", "denomination", "forme_pharmaceutique", "titulaire", "code_atc", "etat_commercialisation")
        .sort("denomination")
    )


def holders(store: Store) -> list[str]:
    return store.memo(
        "holders",
        lambda: (
            store.table(DS.SPECIALITES)
            .select(pl.col("titulaires").explode().drop_nulls().unique().sort())["titulaires"]
            .to_list()
        ),
    )


def filter_specialities(frame: pl.DataFrame, *, text: str | None = None, only_marketed: bool = False) -> pl.DataFrame:
    """Accent-insensitive text filter over the visible columns, plus marketing state."""

    if only_marketed and "etat_commercialisation" in frame.columns:
        frame = frame.filter(pl.col("etat_commercialisation") == "Commercialisée")
    words = normalise(text or "").split()
    if not words or frame.is_empty():
        return frame
    cols = [
        c
        for c in ("denomination", "dosage", "forme_pharmaceutique", "titulaire", "cis", "code_atc")
        if c in frame.columns
    ]
    haystack = [normalise(" ".join(str(v) for v in row if v is not None)) for row in frame.select(cols).iter_rows()]
    keep = [all(w in h for w in words) for h in haystack]
    return frame.filter(pl.Series(keep, dtype=pl.Boolean))
