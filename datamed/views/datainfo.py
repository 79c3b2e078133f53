"""Facts about the prepared data (sources, datasets, rejects) for the Données page."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import polars as pl

from datamed.core.reasons import reason_fr
from datamed.core.text import csv_safe, fr_date, fr_int, fr_number, fr_snapshot
from datamed.datasets import DS, registry
from datamed.datasets import quality as quality_scores
from datamed.datasets.public import public_frame, table_schema, unpublished
from datamed.datasets.registry import PUBLIC
from datamed.store import Store
from datamed.views.releases import ReleaseHistoryError, read_history


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
    frame = store.table(DS.EI_COLONNES)
    if frame.is_empty():
        return frame
    return frame.rename({"fichier": "Fichier", "colonne": "Colonne", "statut": "Verdict", "detail": "Détail"})


def rejects_table(store: Store) -> pl.DataFrame:
    """The rejected lines and set-aside values, with their reason in French (the dataset
    keeps the English reason the pipeline wrote)."""
    frame = store.table(DS.REJETS)
    if frame.is_empty():
        return frame
    reasons = {r: reason_fr(r) for r in frame["reason"].unique().to_list()}
    return frame.select(
        pl.col("file").alias("Fichier"),
        pl.col("line").alias("Ligne"),
        pl.col("reason").replace_strict(reasons, return_dtype=pl.String).alias("Motif"),
        pl.col("raw").alias("Contenu (début)"),
    )


# --- open-data catalogue (Données page) -------------------------------------------------


def public_datasets(store: Store) -> list[str]:
    """Names of the published datasets present in the prepared data, in catalogue order."""
    return [d.name for d in PUBLIC if store.has(d.name)]


def _freshness(store: Store, name: str):
    """Newest snapshot date of the raw files behind a dataset (its own, else its sources')."""
    own = store.snapshot_of(name)
    if own:
        return own
    families = set(registry.get(name).sources)
    dates = []
    for s in store.snapshots():
        src = s.get("source", "")
        fam = "BDPM" if src == "BDPM" else ("Pharmacovigilance" if "pharmacovigilance" in src.lower() else src)
        if fam in families and s.get("snapshot"):
            try:
                dates.append(date.fromisoformat(s["snapshot"]))
            except ValueError:
                continue
    return max(dates) if dates else None


def dataset_scores(store: Store) -> dict[str, float]:
    """Quality score (0-100) per dataset: the score of its own checks."""
    q = store.table(DS.QUALITE)
    if q.is_empty():
        return {}
    per = quality_scores.scores(q.with_columns(pl.col("jeu").alias("source")))
    return dict(per.select("source", "score").rows())


def catalogue_table(store: Store) -> pl.DataFrame:
    """One row per public dataset: title, description, rows, freshness, quality score."""
    scores = dataset_scores(store)
    rows = []
    for name in public_datasets(store):
        res = registry.get(name)
        fresh = _freshness(store, name)
        rows.append(
            {
                "jeu": name,
                "Titre": res.title,
                "Description": res.description,
                "Lignes": fr_int(store.manifest["datasets"][name]["rows"]),
                "Fraîcheur": fr_date(fresh) if fresh else "—",
                "Qualité": round(scores[name], 1) if scores.get(name) is not None else None,
            }
        )
    schema = {
        "jeu": pl.String,
        "Titre": pl.String,
        "Description": pl.String,
        "Lignes": pl.String,
        "Fraîcheur": pl.String,
        "Qualité": pl.Float64,
    }
    return pl.DataFrame(rows, schema=schema, orient="row") if rows else pl.DataFrame(schema=schema)


def public_table(store: Store, name: str) -> pl.DataFrame:
    """The dataset exactly as published (public columns only, masked counts)."""
    dataset = registry.get(name)
    if not dataset.public:
        raise KeyError(name)
    return store.memo(("public", dataset.name), lambda: public_frame(dataset, store.table(dataset.name)))


def columns_doc(store: Store, name: str) -> pl.DataFrame:
    """Columns of a published dataset: type and French description."""
    frame = public_table(store, name)
    schema = table_schema(registry.get(name), frame.head(0), [])
    types = {
        "string": "texte",
        "integer": "entier",
        "number": "nombre",
        "boolean": "oui/non",
        "date": "date",
        "datetime": "date et heure",
    }
    keys = set(registry.get(name).primary_key)
    return pl.DataFrame(
        {
            "Colonne": [f["name"] for f in schema["fields"]],
            "Type": [types.get(f["type"], f["type"]) for f in schema["fields"]],
            "Clé": ["oui" if f["name"] in keys else "" for f in schema["fields"]],
            "Description": [f["description"] for f in schema["fields"]],
        }
    )


def export_bytes(store: Store, name: str, kind: str) -> bytes:
    """The published file of a dataset, as bytes (CSV UTF-8 or Parquet)."""
    frame = public_table(store, name)
    buf = io.BytesIO()
    if kind == "csv":
        csv_safe(frame).write_csv(buf, date_format="%Y-%m-%d", null_value="")
    elif kind == "parquet":
        frame.write_parquet(buf, compression="zstd")
    else:
        raise ValueError(f"unknown format {kind!r}")
    return buf.getvalue()


def not_published(store: Store) -> list[tuple[str, str]]:
    return unpublished(store.manifest)


def release_history(releases) -> pl.DataFrame:
    """Past releases (newest first) from ``<releases>/history.json``; empty if none."""

    schema = {
        "Version": pl.String,
        "Publiée le": pl.String,
        "Jeux": pl.Int64,
        "Lignes": pl.String,
        "Jeux modifiés": pl.Int64,
        "Démo": pl.Boolean,
    }
    try:
        history = read_history(Path(releases))
    except ReleaseHistoryError:
        return pl.DataFrame(schema=schema)
    rows = []
    for h in history:
        changed = sum(1 for c in (h.get("changes") or {}).values() if c.get("status") != "inchangé")
        published = (h.get("published_at") or "")[:10]
        rows.append(
            (
                h.get("version"),
                fr_date(date.fromisoformat(published)) if published else "—",
                h.get("resources"),
                fr_int(sum((h.get("rows") or {}).values())),
                changed,
                bool(h.get("demo")),
            )
        )
    return pl.DataFrame(rows, schema=schema, orient="row")


COUNT_LABELS = {"n_cas": "cas", "n_conso": "consommants"}


def protection_table(store: Store) -> pl.DataFrame | None:
    """The disclosure control of the pharmacovigilance tables, per table and count:
    cells, cells withheld, the share of cases withheld (substances whose total is
    published), and the independent audit's verdict. None when the build has none."""
    levels = store.manifest.get("suppression") or {}
    audit = store.manifest.get("disclosure_audit") or {}
    counts = levels.get("substance") or next(iter(levels.values()), None)
    if not counts:
        return None
    audited = {(t["table"], t["colonne"]): t for t in audit.get("tables", [])}
    rows = []
    for name, entry in counts.items():
        table, col = name.rsplit(".", 1)
        checked = audited.get((table, col), {})
        share = entry.get("part_cas_masques_pct")
        rows.append(
            {
                "Tableau": registry.get(table).title,
                "Effectif": COUNT_LABELS.get(col, col),
                "Cellules": fr_int(entry["cellules"]),
                "Cellules masquées": fr_int(entry["masquees"]),
                "Part masquée": "—"
                if not entry["cellules"]
                else fr_number(100 * entry["masquees"] / entry["cellules"], 1) + " %",
                "Cas masqués (substances au total publié)": "—" if share is None else fr_number(share, 1) + " %",
                "Cellules exposées (audit)": fr_int(checked.get("cellules_exposees", 0)) if audit else "non audité",
                # the narrowest interval an attacker can compute for a withheld count that may be small
                "Intervalle le plus étroit": fr_int(checked["largeur_min"]) if "largeur_min" in checked else "—",
            }
        )
    return pl.DataFrame(rows)
