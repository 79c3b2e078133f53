"""Checks of the "évolution" category and the ``qualite_evolution`` rows.

- the two newest raw BDPM snapshots of CIS_bdpm and CIS_CIP_bdpm: CIS and
  presentations added / removed, marketing and authorisation status changes, and
  two threshold checks (key count drop, share of keys gone);
- consecutive availability snapshots: per-CIS status changes;
- the previous build: row-count jumps of each dataset.

Threshold checks count one verification and one failure when the threshold is
crossed. The raw snapshots are read in a background thread started first
(``start_snapshot_reads``), while the other families run.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import re
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import polars as pl

from datamed.core.text import fr_int
from datamed.datasets import DS, MANIFEST
from datamed.datasets.quality import EVOLUTION_SCHEMA
from datamed.pipeline.quality.run import FAILS_SCHEMA, Run
from datamed.sources.bdpm import read_bdpm_file, spec_for_filename

SNAPSHOT_DROP = 0.05  # evolution: key count drop / share of keys removed
ROWS_JUMP = 0.10  # evolution: row-count change vs the previous build


def _fr_pct(x: float) -> str:
    return f"{100 * x:+.1f}".replace(".", ",") + " %"


SNAPSHOT_FILES = (
    # (spec key, dataset, key column, label column, state columns -> change label, added, removed, checks)
    {
        "key": "CIS_bdpm",
        "dataset": DS.SPECIALITES,
        "col": "cis",
        "label": "denomination",
        "states": (
            ("etat_commercialisation", "changement d'état de commercialisation"),
            ("statut_amm", "changement de statut AMM"),
        ),
        "added": "CIS ajouté",
        "removed": "CIS retiré",
        "count_check": (
            "evolution_nombre_cis",
            "Le nombre de CIS ne baisse pas de plus de 5 % entre les deux derniers instantanés de CIS_bdpm.",
        ),
        "gone_check": (
            "evolution_cis_disparus",
            "Moins de 5 % des CIS de l'avant-dernier instantané de CIS_bdpm ont disparu du dernier.",
        ),
        "noun": "CIS",
        "gone": "disparus",
    },
    {
        "key": "CIS_CIP_bdpm",
        "dataset": DS.PRESENTATIONS,
        "col": "cip13",
        "label": "libelle_presentation",
        "states": (("etat_commercialisation", "changement d'état de commercialisation"),),
        "added": "présentation ajoutée",
        "removed": "présentation retirée",
        "count_check": (
            "evolution_nombre_presentations",
            "Le nombre de présentations ne baisse pas de plus de 5 % entre les deux derniers instantanés de CIS_CIP_bdpm.",
        ),
        "gone_check": (
            "evolution_presentations_disparues",
            "Moins de 5 % des présentations de l'avant-dernier instantané de CIS_CIP_bdpm ont disparu du dernier.",
        ),
        "noun": "présentations",
        "gone": "disparues",
    },
)


def _raw_snapshots(raw: Path | None, spec_key: str) -> list[tuple[str, Path, str]]:
    """(snapshot, path, rel) of a BDPM file in raw/bdpm/<YYYY-MM-DD>/, newest first."""

    bdpm = raw / "bdpm" if raw else None
    if bdpm is None or not bdpm.is_dir():
        return []
    out = []
    for snap in bdpm.iterdir():
        if not snap.is_dir() or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", snap.name):
            continue
        for path in snap.iterdir():
            spec = spec_for_filename(path.name) if path.is_file() else None
            if spec is not None and spec.key == spec_key:
                out.append((snap.name, path, f"bdpm/{snap.name}/{path.name}"))
    return sorted(out, reverse=True)


def _light_spec(spec):
    """The file's spec without typing the columns the comparison never reads
    (prices, rates, booleans, integers, lists): keys, labels and states are
    still validated, at a third of the cost."""
    used = {c["col"] for c in SNAPSHOT_FILES} | {c["label"] for c in SNAPSHOT_FILES}
    used |= {s for c in SNAPSHOT_FILES for s, _ in c["states"]}
    costly = ("price", "rates", "oui_non", "int", "list")
    columns = tuple((n, "str" if k in costly and n not in used else k) for n, k in spec.columns)
    return dataclasses.replace(spec, columns=columns)


def _read_raw_snapshot(path: Path, rel: str) -> pl.DataFrame | None:
    try:
        return read_bdpm_file(path, _light_spec(spec_for_filename(path.name)), file_label=rel).frame
    except Exception:  # an unreadable old snapshot only disables the comparison
        return None


def start_snapshot_reads(run: Run) -> None:
    """Read the raw snapshots the comparison needs in a background thread (the
    reader is mostly Python; the checks are mostly polars, which releases the
    GIL), reusing the prepared frame when it comes from that very file."""
    jobs = {}
    for conf in SNAPSHOT_FILES:
        snaps = _raw_snapshots(run.raw, conf["key"])[:2]
        run.snapshots[conf["key"]] = snaps
        if len(snaps) < 2:
            continue
        for _, path, rel in snaps:
            current = run.frame(conf["dataset"])
            if current is not None and any(str(s.get("path")) == rel for s in run.by_dataset.get(conf["dataset"], [])):
                run.snapshot_frames[rel] = current
            else:
                jobs[rel] = path
    if jobs:
        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="qualite")
        for rel, path in jobs.items():
            run.snapshot_frames[rel] = pool.submit(_read_raw_snapshot, path, rel)
        pool.shutdown(wait=False)


def _snapshot_frame(run: Run, rel: str) -> pl.DataFrame | None:
    value = run.snapshot_frames.get(rel)
    if isinstance(value, Future):
        value = run.snapshot_frames[rel] = value.result()
    return value


def compare_snapshots(run: Run) -> None:
    for conf in SNAPSHOT_FILES:
        jeu, col = conf["dataset"], conf["col"]
        checks = (conf["count_check"], conf["gone_check"])
        snaps = run.snapshots.get(conf["key"], [])
        frames = []
        if len(snaps) >= 2:
            frames = [_snapshot_frame(run, rel) for _, _, rel in snaps[:2]]
        if len(frames) < 2 or any(f is None or col not in f.columns for f in frames):
            for controle, description in checks:
                run.na(controle, jeu, "évolution", "majeure", description)
            continue
        (snap_new, _, rel_new), (snap_old, _, rel_old) = snaps[0], snaps[1]
        new, old = frames
        label = conf["label"]
        keep = [
            c
            for c in dict.fromkeys([col, label, *(s for s, _ in conf["states"])])
            if c in new.columns and c in old.columns
        ]
        new_k = new.select(keep).filter(pl.col(col).is_not_null()).unique(col, keep="first")
        old_k = old.select(keep).filter(pl.col(col).is_not_null()).unique(col, keep="first")
        added = new_k.join(old_k.select(col), on=col, how="anti")
        removed = old_k.join(new_k.select(col), on=col, how="anti")
        state0 = conf["states"][0][0] if conf["states"][0][0] in keep else None
        parts = [
            added.select(
                pl.lit(conf["added"]).alias("changement"),
                pl.col(col).alias("cle"),
                (pl.col(label) if label in keep else pl.lit(None, pl.String)).alias("libelle"),
                pl.lit(None, pl.String).alias("avant"),
                (pl.col(state0) if state0 else pl.lit(None, pl.String)).alias("apres"),
            ),
            removed.select(
                pl.lit(conf["removed"]).alias("changement"),
                pl.col(col).alias("cle"),
                (pl.col(label) if label in keep else pl.lit(None, pl.String)).alias("libelle"),
                (pl.col(state0) if state0 else pl.lit(None, pl.String)).alias("avant"),
                pl.lit(None, pl.String).alias("apres"),
            ),
        ]
        both = new_k.join(old_k, on=col, how="inner", suffix="_avant")
        for state, change in conf["states"]:
            if state not in keep:
                continue
            diff = both.filter(pl.col(state).ne_missing(pl.col(f"{state}_avant")))
            parts.append(
                diff.select(
                    pl.lit(change).alias("changement"),
                    pl.col(col).alias("cle"),
                    (pl.col(label) if label in keep else pl.lit(None, pl.String)).alias("libelle"),
                    pl.col(f"{state}_avant").alias("avant"),
                    pl.col(state).alias("apres"),
                )
            )
        run.evolution.append(
            pl.concat(parts).with_columns(
                pl.lit(jeu).alias("jeu"),
                pl.lit(snap_old).alias("instantane_avant"),
                pl.lit(snap_new).alias("instantane_apres"),
            )
        )
        n_old, n_new = old_k.height, new_k.height
        fichier = f"{rel_old}, {rel_new}"
        noun = conf["noun"]
        (count_id, count_desc), (gone_id, gone_desc) = checks
        drop = (n_old - n_new) / n_old if n_old else 0.0
        detail = f"{noun} : {fr_int(n_old)} au {snap_old}, {fr_int(n_new)} au {snap_new} ({_fr_pct(-drop)}), seuil −5 %"
        fails = pl.DataFrame({"cle": [conf["key"]], "ligne": [None], "detail": [detail]}, schema=FAILS_SCHEMA)
        failed = drop > SNAPSHOT_DROP
        run.record(
            count_id,
            jeu,
            "évolution",
            "majeure",
            count_desc,
            1 if n_old else 0,
            fails if failed else None,
            fichier=fichier,
            key_name="fichier",
        )
        share = removed.height / n_old if n_old else 0.0
        detail = f"{fr_int(removed.height)} {noun} {conf['gone']} sur {fr_int(n_old)} ({_fr_pct(share).lstrip('+')}) entre le {snap_old} et le {snap_new}, seuil 5 %"
        fails = pl.DataFrame({"cle": [conf["key"]], "ligne": [None], "detail": [detail]}, schema=FAILS_SCHEMA)
        failed = share > SNAPSHOT_DROP
        run.record(
            gone_id,
            jeu,
            "évolution",
            "majeure",
            gone_desc,
            1 if n_old else 0,
            fails if failed else None,
            fichier=fichier,
            key_name="fichier",
        )


def availability_changes(run: Run) -> None:
    """Per-CIS availability status between consecutive snapshots of disponibilites."""
    dispo = run.frame(DS.DISPONIBILITES)
    if dispo is None or not {"snapshot", "cis", "libelle_statut"} <= set(dispo.columns):
        return
    snaps = sorted(d for d in dispo["snapshot"].unique().to_list() if d is not None)
    if len(snaps) < 2:
        return
    status = (
        dispo.filter(pl.col("snapshot").is_not_null() & pl.col("cis").is_not_null())
        .group_by("snapshot", "cis")
        .agg(pl.col("libelle_statut").drop_nulls().unique().sort().str.join(" ; ").alias("statut"))
    )
    absent = "absent de la liste"
    parts = []
    for before, after in itertools.pairwise(snaps):
        a = status.filter(pl.col("snapshot") == before).select("cis", pl.col("statut").alias("avant"))
        b = status.filter(pl.col("snapshot") == after).select("cis", pl.col("statut").alias("apres"))
        joined = a.join(b, on="cis", how="full", coalesce=True).with_columns(
            pl.col("avant").fill_null(absent), pl.col("apres").fill_null(absent)
        )
        diff = joined.filter(pl.col("avant") != pl.col("apres"))
        parts.append(
            diff.with_columns(
                pl.lit(before.isoformat()).alias("instantane_avant"),
                pl.lit(after.isoformat()).alias("instantane_apres"),
            )
        )
    changes = pl.concat(parts)
    names = run.frame(DS.SPECIALITES)
    if names is not None and {"cis", "denomination"} <= set(names.columns):
        changes = changes.join(
            names.select("cis", pl.col("denomination").alias("libelle")).unique("cis"), on="cis", how="left"
        )
    else:
        changes = changes.with_columns(pl.lit(None, pl.String).alias("libelle"))
    run.evolution.append(
        changes.select(
            pl.lit(DS.DISPONIBILITES).alias("jeu"),
            pl.lit("changement de statut de disponibilité").alias("changement"),
            pl.col("cis").alias("cle"),
            "libelle",
            "avant",
            "apres",
            "instantane_avant",
            "instantane_apres",
        ).sort("instantane_avant", "cle")
    )


def _previous_counts(previous: Path | None) -> tuple[dict[str, int], str]:
    """Rows per dataset of the previous build (manifest, else the parquet files) and its date."""
    if previous is None or not previous.is_dir():
        return {}, ""
    counts: dict[str, int] = {}
    built = ""
    manifest = previous / MANIFEST
    if manifest.exists():
        try:
            data = json.loads(manifest.read_text(encoding="utf-8"))
            built = str(data.get("built_at") or "")[:10]
            for name, entry in (data.get("datasets") or {}).items():
                if isinstance(entry, dict) and isinstance(entry.get("rows"), int):
                    counts[name] = entry["rows"]
        except (OSError, ValueError, AttributeError):
            counts = {}
    if not counts:
        for p in previous.glob("*.parquet"):
            try:
                counts[p.stem] = int(pl.scan_parquet(p).select(pl.len()).collect().item())
            except Exception:  # an unreadable file is simply not compared
                continue
    return counts, built


def compare_previous(run: Run) -> None:
    description = "Le nombre de lignes du jeu ne varie pas de plus de 10 % depuis la construction précédente."
    counts, built = _previous_counts(run.previous)
    rows = []
    for jeu in sorted(run.datasets):
        if jeu.startswith("qualite"):
            continue
        n_new = run.datasets[jeu].height
        if jeu not in counts:
            run.na("evolution_lignes", jeu, "évolution", "majeure", description)
            continue
        n_old = counts[jeu]
        change = (n_new - n_old) / n_old if n_old else (0.0 if n_new == 0 else float("inf"))
        jump = abs(change) > ROWS_JUMP
        pct = _fr_pct(change) if n_old else "nouveau"
        fails = None
        if jump:
            detail = f"{fr_int(n_old)} → {fr_int(n_new)} lignes ({pct}), seuil ±10 %"
            fails = pl.DataFrame({"cle": [jeu], "ligne": [None], "detail": [detail]}, schema=FAILS_SCHEMA)
            rows.append(
                {
                    "jeu": jeu,
                    "changement": "variation du nombre de lignes",
                    "cle": jeu,
                    "libelle": pct,
                    "avant": str(n_old),
                    "apres": str(n_new),
                    "instantane_avant": built or "construction précédente",
                    "instantane_apres": run.today.isoformat(),
                }
            )
        run.record("evolution_lignes", jeu, "évolution", "majeure", description, 1, fails, key_name="jeu")
    if rows:
        run.evolution.append(pl.DataFrame(rows, schema=EVOLUTION_SCHEMA))
