"""Facts about the prepared data (sources, datasets, rejects) for the Données page."""

from __future__ import annotations

from datetime import date

import polars as pl

from datamed.store import Store
from datamed.text import fr_date, fr_int, fr_snapshot


def summary(store: Store) -> dict:
    sources = store.snapshots()
    n_lines = sum(s.get("lines", 0) for s in sources)
    n_rejected = sum(s.get("rejected", 0) for s in sources)
    n_values = sum(s.get("values_rejected", 0) for s in sources)
    built = store.built_at()
    sentence = (
        f"Données préparées le {fr_date(date.fromisoformat(built[:10])) if built else '—'} "
        f"par DataMed {store.manifest.get('code_version', '')}"
        + (" à partir des données de démonstration." if store.is_demo else ".")
    )
    return {
        "n_sources": len(sources),
        "n_lines": n_lines,
        "n_rejected": n_rejected,
        "n_values_rejected": n_values,
        "ignored": list(store.manifest.get("ignored", [])),
        "missing": list(store.manifest.get("missing_sources", [])),
        "sentence": sentence,
    }


def sources_table(store: Store) -> pl.DataFrame:
    rows = [
        {
            "Fichier": s["path"],
            "Jeu de données": s.get("dataset", ""),
            "Date de l'instantané": fr_snapshot(s.get("snapshot")),
            "Encodage": s.get("encoding", ""),
            "Lignes lues": fr_int(s.get("lines", 0)),
            "Lignes retenues": fr_int(s.get("rows", 0)),
            "Lignes rejetées": fr_int(s.get("rejected", 0)),
            "SHA-256": s.get("sha256", "")[:12] + "…",
        }
        for s in store.snapshots()
    ]
    return pl.DataFrame(rows) if rows else pl.DataFrame()


def datasets_table(store: Store) -> pl.DataFrame:
    rows = [
        {
            "Jeu de données": name,
            "Description": entry.get("description", ""),
            "Lignes": fr_int(entry.get("rows", 0)),
            "Colonnes": ", ".join(entry.get("columns", {})),
        }
        for name, entry in store.manifest.get("datasets", {}).items()
    ]
    return pl.DataFrame(rows) if rows else pl.DataFrame()


def columns_table(store: Store) -> pl.DataFrame:
    """The column inspection of the pharmacovigilance files."""
    frame = store.table("ei_colonnes")
    if frame.is_empty():
        return frame
    return frame.rename({"fichier": "Fichier", "colonne": "Colonne", "statut": "Verdict", "detail": "Détail"})


def link_summary(store: Store) -> dict | None:
    """Coverage of the pharmacovigilance -> BDPM substance links."""
    subs = store.table("ei_substances")
    if subs.is_empty():
        return None
    links = store.table("ei_liens")
    linked = set(links["ei_id"].to_list()) if not links.is_empty() else set()
    n = subs.height
    methods = links.unique("ei_id").group_by("methode").len().sort("len", descending=True).rows() if linked else []
    return {"n": n, "linked": len(linked), "share": len(linked) / n if n else 0.0, "methods": methods}


def holder_link_summary(store: Store) -> dict | None:
    """Coverage of the holder -> site links."""
    links = store.table("titulaires_sites")
    if links.is_empty():
        return None
    from datamed.holder_link import coverage, holders_with_counts

    return coverage(links, holders_with_counts(store.table("specialites")))


def rejects_table(store: Store) -> pl.DataFrame:
    frame = store.table("rejets")
    if frame.is_empty():
        return frame
    return frame.rename({"file": "Fichier", "line": "Ligne", "reason": "Motif", "raw": "Contenu (début)"})
