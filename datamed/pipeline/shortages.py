"""Shortages: episodes from every availability snapshot, enrichment, durations.

The ANSM availability file (CIS_CIP_Dispo_Spec) is a current list: each record
is a medicine (CIS, or one presentation CIP13) with a status (1 rupture,
2 tension, 3 arrêt, 4 remise à disposition), a start date, an update date and a
return date. Keeping every snapshot turns it into a history:

- an **episode** is one (CIS, CIP13 or all presentations, start date) seen with
  status 1, 2 or 3 in at least one snapshot; its status changes over snapshots
  are kept;
- it **ends** when a later record of the same medicine says "remise à
  disposition" (the return date is the end), or is censored at the last
  snapshot where it is still open;
- a "remise à disposition" record whose start was never seen starts an episode
  with an unknown start: it counts as a return, not as a duration.

Per the ANSM, a start date before 06/10/2023 is an update date, not the real
start: such episodes are flagged.
"""

from __future__ import annotations

import hashlib
import re
from datetime import date

import polars as pl
from rapidfuzz import fuzz, process

from datamed.core.text import normalise
from datamed.core.vocabulary import DISPO_STATUS, OPEN_STATUSES
from datamed.datasets import DS

RELIABLE_START = date(2023, 10, 6)


def _episode_id(cis: str, cip13: str | None, start: date | None) -> str:
    key = f"{cis}|{cip13 or ''}|{start.isoformat() if start else ''}"
    return hashlib.sha1(key.encode()).hexdigest()[:12]


def build_episodes(dispo: pl.DataFrame) -> pl.DataFrame:
    """One row per episode, from the availability records of every snapshot."""
    schema = {
        "episode_id": pl.String,
        "cis": pl.String,
        "cip13": pl.String,
        "date_debut": pl.Date,
        "debut_est_maj": pl.Boolean,
        "statut_initial": pl.Int8,
        "statut": pl.Int8,
        "statuts": pl.List(pl.String),
        "premiere_vue": pl.Date,
        "derniere_vue": pl.Date,
        "date_mise_a_jour": pl.Date,
        "date_fin": pl.Date,
        "fin_observee": pl.Boolean,
        "en_cours": pl.Boolean,
        "duree_jours": pl.Int32,
        "lien_ansm": pl.String,
        "n_instantanes": pl.Int16,
        "debut_inconnu": pl.Boolean,
    }
    if dispo.is_empty():
        return pl.DataFrame(schema=schema)
    latest = dispo["snapshot"].max()
    # within a snapshot, open records first: a return listed in the same file as
    # an open record of the same product closes an *earlier* episode, not that one
    rows = (
        dispo.with_columns((pl.col("code_statut") == 4).alias("_is_return"))
        .sort("snapshot", "_is_return", "date_mise_a_jour")
        .iter_rows(named=True)
    )
    episodes: dict[tuple, dict] = {}
    open_by_product: dict[tuple, list[tuple]] = {}
    for r in rows:
        product = (r["cis"], r["cip13"])
        status = r["code_statut"]
        if status in (1, 2, 3):
            key = (r["cis"], r["cip13"], r["date_debut"])
            ep = episodes.get(key)
            if ep is None:
                ep = episodes[key] = {
                    "cis": r["cis"],
                    "cip13": r["cip13"],
                    "date_debut": r["date_debut"],
                    "statut_initial": status,
                    "history": [],
                    "snapshots": set(),
                    "lien_ansm": r["lien_ansm"],
                    "date_fin": None,
                    "debut_inconnu": False,
                }
                open_by_product.setdefault(product, []).append(key)
            ep["statut"] = status
            ep["date_mise_a_jour"] = r["date_mise_a_jour"]
            ep["snapshots"].add(r["snapshot"])
            ep["lien_ansm"] = r["lien_ansm"] or ep["lien_ansm"]
            label = DISPO_STATUS[status]
            if not ep["history"] or ep["history"][-1] != label:
                ep["history"].append(label)
        else:  # remise à disposition: closes the open episodes of that product
            end = r["date_remise_dispo"] or r["date_mise_a_jour"]
            closed = False
            for key in open_by_product.get(product, []):
                ep = episodes[key]
                if (
                    ep["date_fin"] is None
                    and r["snapshot"] not in ep["snapshots"]
                    and (ep["date_debut"] is None or end is None or ep["date_debut"] <= end)
                ):
                    ep["date_fin"] = end
                    ep["statut"] = 4
                    ep["date_mise_a_jour"] = r["date_mise_a_jour"]
                    ep["snapshots"].add(r["snapshot"])
                    if ep["history"][-1] != DISPO_STATUS[4]:
                        ep["history"].append(DISPO_STATUS[4])
                    closed = True
            if not closed:
                key = (r["cis"], r["cip13"], None, end)
                if key not in episodes:
                    episodes[key] = {
                        "cis": r["cis"],
                        "cip13": r["cip13"],
                        "date_debut": None,
                        "statut_initial": 4,
                        "statut": 4,
                        "history": [DISPO_STATUS[4]],
                        "snapshots": set(),
                        "lien_ansm": r["lien_ansm"],
                        "date_fin": end,
                        "date_mise_a_jour": r["date_mise_a_jour"],
                        "debut_inconnu": True,
                    }
                episodes[key]["snapshots"].add(r["snapshot"])
    out = []
    for ep in episodes.values():
        snaps = sorted(ep["snapshots"])
        ended = ep["date_fin"] is not None
        in_latest = latest in ep["snapshots"]
        start = ep["date_debut"]
        en_cours = (not ended) and in_latest and ep["statut"] in OPEN_STATUSES
        if start is None:
            duration = None
        elif ended:
            duration = (ep["date_fin"] - start).days
        else:
            duration = ((latest if in_latest else snaps[-1]) - start).days
        out.append(
            {
                "episode_id": _episode_id(ep["cis"], ep["cip13"], start or ep["date_fin"]),
                "cis": ep["cis"],
                "cip13": ep["cip13"],
                "date_debut": start,
                "debut_est_maj": start is not None and start < RELIABLE_START,
                "statut_initial": ep["statut_initial"],
                "statut": ep["statut"],
                "statuts": ep["history"],
                "premiere_vue": snaps[0],
                "derniere_vue": snaps[-1],
                "date_mise_a_jour": ep["date_mise_a_jour"],
                "date_fin": ep["date_fin"],
                "fin_observee": ended,
                "en_cours": en_cours,
                "duree_jours": duration if duration is None or duration >= 0 else None,
                "lien_ansm": ep["lien_ansm"],
                "n_instantanes": len(snaps),
                "debut_inconnu": ep["debut_inconnu"],
            }
        )
    return pl.DataFrame(out, schema=schema).sort("date_debut", "cis", nulls_last=True)


def enrich(episodes: pl.DataFrame, datasets: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """Add catalogue facts: name, form, routes, holder, MITM, ATC, generic group."""
    spec = datasets[DS.SPECIALITES].select(
        "cis",
        "denomination",
        "forme_pharmaceutique",
        pl.col("voies_administration").list.join(";").alias("voies"),
        pl.col("titulaires").list.first().alias("titulaire"),
        "statut_amm",
        "date_amm",
    )
    atc = datasets.get(DS.SPECIALITE_ATC, pl.DataFrame(schema={"cis": pl.String, "code_atc": pl.String}))
    mitm = datasets.get(DS.MITM, pl.DataFrame(schema={"cis": pl.String}))
    gener = datasets.get(DS.GENERIQUES, pl.DataFrame(schema={"cis": pl.String, "id_groupe_generique": pl.String}))
    labels = datasets.get(DS.ATC, pl.DataFrame(schema={"code_atc": pl.String, "libelle": pl.String}))
    lab = dict(zip(labels["code_atc"].to_list(), labels["libelle"].to_list())) if not labels.is_empty() else {}
    out = (
        episodes.join(spec, on="cis", how="left")
        .join(atc.select("cis", "code_atc").unique("cis"), on="cis", how="left")
        .join(mitm.select("cis").unique().with_columns(pl.lit(True).alias("mitm")), on="cis", how="left")
        .join(gener.select("cis", "id_groupe_generique").unique("cis"), on="cis", how="left")
        .with_columns(
            pl.col("mitm").fill_null(False),
            pl.col("denomination").is_not_null().alias("au_catalogue"),
            pl.col("code_atc").str.slice(0, 1).alias("atc1"),
            pl.col("code_atc").str.slice(0, 3).alias("atc2"),
        )
    )
    return out.with_columns(
        pl.col("atc1").replace_strict(lab, default=None, return_dtype=pl.String).alias("atc1_libelle"),
        pl.col("atc2").replace_strict(lab, default=None, return_dtype=pl.String).alias("atc2_libelle"),
    )


# --- class-level history (ANSM / EIG DataMed, 2014-2020) ------------------------------------------

_CODE_LIKE = re.compile(r"^[A-Z][0-9O]{2}$")


def map_class_labels(labels: list[str], atc: pl.DataFrame) -> pl.DataFrame:
    """Map the French ATC class labels of the yearly signal counts to ATC codes."""
    candidates = atc.filter(pl.col("niveau") <= 2) if not atc.is_empty() else atc
    by_norm: dict[str, str] = {}
    if not candidates.is_empty():
        for code, fr, en in candidates.select("code_atc", "libelle_fr", "libelle_en").rows():
            for lab in (fr, en):
                if lab:
                    by_norm.setdefault(normalise(lab), code)
    keys = list(by_norm)
    codes = set(candidates["code_atc"].to_list()) if not candidates.is_empty() else set()
    rows = []
    for label in labels:
        code, method, score = None, None, None
        raw = label.strip().upper()
        if _CODE_LIKE.match(raw):
            fixed = raw[0] + raw[1:].replace("O", "0")
            if fixed in codes:
                code, method, score = fixed, "code (O lu 0)" if fixed != raw else "code", 100
        if code is None and normalise(label) in by_norm:
            code, method, score = by_norm[normalise(label)], "libellé exact", 100
        if code is None and keys:
            best = process.extractOne(normalise(label), keys, scorer=fuzz.ratio)
            if best and best[1] >= 80:
                code, method, score = by_norm[best[0]], "libellé approché", int(best[1])
        rows.append({"libelle_source": label, "code_atc": code, "methode": method, "score": score})
    return pl.DataFrame(
        rows, schema={"libelle_source": pl.String, "code_atc": pl.String, "methode": pl.String, "score": pl.Int16}
    )
