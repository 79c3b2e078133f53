"""``python -m datamed publish``: a versioned, documented, disclosure-safe open-data release.

Layout of the release folder (``--out``)::

    history.json                 every release, newest first (version, date, rows, changes)
    LATEST                       the version of the last good release
    <version>/                   one folder per release, never modified afterwards
        datapackage.json         Frictionless data package: one Table Schema per resource
        README.md                provenance, licences, method, disclosure control, contents
        CHANGELOG.md, changelog.json   diff against the previous release
        SHA256SUMS               checksum of every file of the release
        rapport_qualite.md / .html     data-quality and linking report
        data/<name>.csv          UTF-8, comma separated, header, ISO dates
        data/<name>.parquet      the same table

Steps: select the public datasets and columns (``release_schema``), write CSV
and Parquet into a temporary folder, run the disclosure gate over the written
files, diff against the previous release, document, checksum, then rename the
folder into place and update ``history.json`` / ``LATEST`` atomically. If the
data did not change since the last release, nothing is written (idempotent).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl

from datamed import __version__, audit
from datamed.core import disclosure
from datamed.core.rule import SOURCE_FLOOR, ProtectionRule
from datamed.core.text import csv_safe, fr_int
from datamed.datasets import DS
from datamed.datasets.public import public_frame, table_schema, unpublished
from datamed.datasets.registry import INTERNAL_COLUMNS, Dataset
from datamed.pipeline.build import sha256
from datamed.release.schema import BY_NAME, LICENCE_OUTPUTS, RESOURCES, SOURCE_LICENCES
from datamed.store import DataUnavailable, Store
from datamed.views import quality_report as report
from datamed.views import releases
from datamed.views.releases import HISTORY, LATEST, latest_release

# resources describing the build itself: they do not make a release "new"
META_RESOURCES = (
    DS.QUALITE,
    DS.QUALITE_ECHECS,
    DS.QUALITE_EVOLUTION,
    DS.LIENS_SYNTHESE,
    DS.LIENS_SCORES,
    DS.LIENS_NON_RELIES,
)


class PublishError(Exception):
    """The release cannot be written; the previous release is kept."""


class DisclosureLeak(PublishError):
    """The disclosure gate found a count below the threshold, or a recoverable one."""

    def __init__(self, leaks: list[str]):
        self.leaks = leaks
        shown = "\n  ".join(leaks[:20])
        more = f"\n  ... and {len(leaks) - 20} more" if len(leaks) > 20 else ""
        super().__init__(f"disclosure gate failed, {len(leaks)} leak(s):\n  {shown}{more}")


@dataclass
class Release:
    version: str | None
    folder: Path | None
    created: bool
    message: str
    rows: dict[str, int] = field(default_factory=dict)
    changes: dict[str, dict] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


# --- public tables ------------------------------------------------------------------------------


def _holding_foreign_keys(
    resource: Dataset, frame: pl.DataFrame, frames: dict[str, pl.DataFrame]
) -> tuple[list, list[str]]:
    """Foreign keys that hold in this release; the others are stated, not declared."""
    holding, broken = [], []
    for col, target, ref in resource.foreign_keys:
        if col not in frame.columns or target not in frames or ref not in frames[target].columns:
            continue
        values = frame.select(pl.col(col).drop_nulls().unique())
        missing = values.join(frames[target].select(pl.col(ref).alias(col)).unique(), on=col, how="anti").height
        if missing:
            broken.append(f"{missing} valeur(s) de « {col} » absente(s) de « {target} » (voir le rapport de qualité)")
        else:
            holding.append((col, target, ref))
    return holding, broken


def _pk_unique(resource: Dataset, frame: pl.DataFrame) -> bool:
    pk = list(resource.primary_key)
    if not pk or any(c not in frame.columns for c in pk):
        return False
    return (
        frame.select(pk).is_duplicated().sum() == 0
        and frame.select(pl.any_horizontal(pl.col(pk).is_null())).sum().item() == 0
    )


# --- the disclosure gate ------------------------------------------------------------------------


def _read_release_table(folder: Path, name: str, kind: str) -> pl.DataFrame:
    path = folder / "data" / f"{name}.{kind}"
    if kind == "parquet":
        return pl.read_parquet(path)
    twin = path.with_suffix(".parquet")  # the typed twin gives the types (an empty CSV has none)
    schema = pl.read_parquet_schema(twin) if twin.exists() else None
    return pl.read_csv(path, infer_schema_length=None, null_values=[""], schema_overrides=schema)


def scan(folder: Path, threshold: int) -> list[str]:
    """Every leak in a written release: small counts, unmasked derived values,
    recoverable masked cells, internal columns or undeclared files."""
    folder = Path(folder)
    leaks: list[str] = []
    data = folder / "data"
    names = sorted({p.stem for p in data.glob("*.*")})
    tables: dict[str, dict[str, pl.DataFrame]] = {"csv": {}, "parquet": {}}
    for p in sorted(data.iterdir()):
        if p.suffix not in (".csv", ".parquet") or p.stem not in BY_NAME:
            leaks.append(f"data/{p.name}: not a declared public resource")
    for kind in ("csv", "parquet"):
        for name in names:
            if name in BY_NAME and (data / f"{name}.{kind}").exists():
                try:
                    tables[kind][name] = _read_release_table(folder, name, kind)
                except (pl.exceptions.PolarsError, OSError) as exc:
                    leaks.append(f"data/{name}.{kind}: unreadable ({exc})")
    guarded = {"n_cas", "n_conso", "n_decla", "consommants_par_an"}
    for kind, frames in tables.items():
        for name, frame in frames.items():
            res = BY_NAME[name]
            for col in INTERNAL_COLUMNS:
                if col in frame.columns:
                    leaks.append(f"data/{name}.{kind}: internal column {col!r} published")
            rules = res.disclosure
            declared = set(rules.counts) if rules else set()
            for col in sorted((guarded & set(frame.columns)) - declared):
                leaks.append(f"data/{name}.{kind}: count column {col!r} has no disclosure rule")
            if not rules:
                continue
            for count in rules.counts:
                if count not in frame.columns:
                    continue
                small = frame.filter(pl.col(count).is_not_null() & (pl.col(count) >= 1) & (pl.col(count) < threshold))
                if small.height:
                    leaks.append(
                        f"data/{name}.{kind}: {small.height} value(s) of {count} below {threshold} (e.g. {small[count][0]})"
                    )
                status = f"{count}_statut"
                if status in frame.columns:
                    masked = frame.filter(pl.col(status).is_not_null())
                    shown = masked.filter(pl.col(count).is_not_null()).height
                    if shown:
                        leaks.append(f"data/{name}.{kind}: {shown} masked value(s) of {count} still published")
                    for derived in rules.derived.get(count, ()):
                        if derived in masked.columns:
                            n = masked.filter(pl.col(derived).is_not_null()).height
                            if n:
                                leaks.append(
                                    f"data/{name}.{kind}: {n} value(s) of {derived} published beside a masked {count}"
                                )
    leaks += audit_leaks(folder, threshold)
    return leaks


def _csv_text(frame: pl.DataFrame) -> str:
    """The release's CSV form of a table (the one place it is written)."""
    return csv_safe(frame).write_csv(None, date_format="%Y-%m-%d", null_value="")


def _csv_mirrors_parquet(folder: Path) -> bool:
    """Every pharmacovigilance CSV of the release is exactly the CSV form of its Parquet
    twin, so auditing the Parquet files audits both."""
    data = Path(folder) / "data"
    for csv_path in sorted(data.glob("ei_*.csv")):
        parquet = csv_path.with_suffix(".parquet")
        try:
            if not parquet.exists() or csv_path.read_text(encoding="utf-8") != _csv_text(pl.read_parquet(parquet)):
                return False
        except (OSError, UnicodeDecodeError, pl.exceptions.PolarsError):
            return False
    return True


def audit_leaks(folder: Path, threshold: int) -> list[str]:
    """The independent disclosure audit (``datamed.audit``) over the release folder:
    every withheld count's feasible interval by integer programming, the values
    computed from withheld counts, and every text (text columns, md/html/json files).
    The messages name tables and cells, never a value."""
    rule = dataclasses.replace(ProtectionRule.from_env(), threshold=threshold)
    leaks: list[str] = []
    for kind in ("parquet", "csv"):  # each copy of the tables, as an attacker may read either
        if kind == "csv" and _csv_mirrors_parquet(folder):
            continue  # byte for byte what the Parquet files hold: audited already
        try:
            tables, texts = audit.read_folder(folder, release=True, kind=kind)
            report = audit.audit_tables(tables, texts if kind == "parquet" else (), rule)
        except (OSError, pl.exceptions.PolarsError, audit.AuditError) as exc:
            leaks.append(f"audit ({kind}): the release cannot be audited ({exc})")
            continue
        leaks += [
            f"data/{cell.table}.{kind}: {cell.column} [{', '.join(map(str, cell.key))}]: "
            "withheld count recoverable (its feasible interval does not protect it)"
            for cell in report.exposed
        ]
        leaks += [
            f"data/{d.table}.{kind}: {d.rows} value(s) of {d.column} published beside a withheld input"
            for d in report.derived
        ]
        leaks += [f"{m.where}: a text states a count" for m in report.texts]
    return leaks


# --- changelog ----------------------------------------------------------------------------------


def _row_hashes(frame: pl.DataFrame, columns: list[str]) -> pl.Series:
    if not columns:
        return pl.Series("h", [0] * frame.height, dtype=pl.UInt64)
    return frame.select(columns).hash_rows(seed=42)


def diff_tables(old: pl.DataFrame | None, new: pl.DataFrame, key: tuple[str, ...]) -> dict:
    """Rows added, removed and changed (same key, other values) between two versions."""
    if old is None:
        return {
            "status": "nouveau",
            "added": new.height,
            "removed": 0,
            "changed": 0,
            "rows_before": 0,
            "rows_after": new.height,
        }
    out = {"rows_before": old.height, "rows_after": new.height}
    if old.schema != new.schema:
        out["columns_added"] = [c for c in new.columns if c not in old.columns]
        out["columns_removed"] = [c for c in old.columns if c not in new.columns]
        common = [c for c in new.columns if c in old.columns]
        out["columns_retyped"] = [c for c in common if old.schema[c] != new.schema[c]]
        old, new = old.select(common), new.select(common)
        old = old.with_columns(pl.col(c).cast(new.schema[c]) for c in common if old.schema[c] != new.schema[c])
    key = tuple(k for k in key if k in new.columns)
    if key and not old.select(key).is_duplicated().any() and not new.select(key).is_duplicated().any():
        rest = [c for c in new.columns if c not in key]
        o = old.select(*key, _row_hashes(old, rest).alias("__h"))
        n = new.select(*key, _row_hashes(new, rest).alias("__h"))
        both = o.join(n, on=list(key), how="inner", suffix="_new")
        out.update(
            added=n.join(o, on=list(key), how="anti").height,
            removed=o.join(n, on=list(key), how="anti").height,
            changed=both.filter(pl.col("__h") != pl.col("__h_new")).height,
        )
    else:  # no key: compare rows as a multiset
        cols = list(new.columns)
        o = _row_hashes(old, cols).alias("h").value_counts(name="o")
        n = _row_hashes(new, cols).alias("h").value_counts(name="n")
        j = (
            o.join(n, on="h", how="full", coalesce=True).fill_null(0).with_columns(pl.col("o", "n").cast(pl.Int64))
        )  # counts are UInt32
        out.update(
            added=int(j.select((pl.col("n") - pl.col("o")).clip(lower_bound=0).sum()).item()),
            removed=int(j.select((pl.col("o") - pl.col("n")).clip(lower_bound=0).sum()).item()),
            changed=None,
        )
    structure = out.get("columns_added") or out.get("columns_removed") or out.get("columns_retyped")
    out["status"] = "modifié" if out["added"] or out["removed"] or out.get("changed") or structure else "inchangé"
    return out


# --- documents ----------------------------------------------------------------------------------


def changelog_markdown(version: str, previous: str | None, changes: dict[str, dict]) -> str:
    lines = [f"# Journal des modifications — version {version}", ""]
    if previous is None:
        lines += ["Première publication : tous les jeux de données sont nouveaux.", ""]
    else:
        lines += [f"Différences avec la version {previous}.", ""]
    lines += [
        "| Jeu de données | État | Lignes avant | Lignes après | Ajoutées | Retirées | Modifiées |",
        "|---|---|--:|--:|--:|--:|--:|",
    ]
    for name, c in changes.items():
        changed = "—" if c.get("changed") is None else fr_int(c["changed"])
        lines.append(
            f"| {name} | {c['status']} | {fr_int(c['rows_before'])} | {fr_int(c['rows_after'])} | "
            f"{fr_int(c['added'])} | {fr_int(c['removed'])} | {changed} |"
        )
    notes = [
        f"- `{n}` : colonnes ajoutées {c.get('columns_added') or []}, retirées {c.get('columns_removed') or []}, "
        f"de type changé {c.get('columns_retyped') or []}"
        for n, c in changes.items()
        if c.get("columns_added") or c.get("columns_removed") or c.get("columns_retyped")
    ]
    if notes:
        lines += ["", "Changements de structure :", *notes]
    lines += [
        "",
        "« Modifiées » : lignes de même clé primaire dont une valeur a changé ; « — » pour les tables sans clé (comparées ligne à ligne).",
    ]
    return "\n".join(lines) + "\n"


def readme_markdown(
    manifest: dict, version: str, resources: list[dict], threshold: int, quality: pl.DataFrame | None
) -> str:
    demo = manifest.get("demo")
    files = sorted(manifest.get("sources", []), key=lambda s: (s.get("source", ""), s.get("path", "")))
    families = sorted({src for r in resources for src in r["x-sources"]})
    lines = [
        f"# DataMed — données ouvertes sur la sécurité des médicaments, version {version}",
        "",
    ]
    if demo:
        lines += [
            "> **Données de démonstration** : cette publication est construite à partir des données fictives livrées avec DataMed. Elle ne décrit aucun médicament réel.",
            "",
        ]
    lines += [
        f"Publication produite le {datetime.now(UTC).date().isoformat()} par DataMed {__version__} "
        f"(code {manifest.get('code_version', '')}), à partir des données préparées le {manifest.get('built_at', '')[:10]}.",
        "",
        "## Contenu",
        "",
        "Chaque jeu de données est fourni en CSV (UTF-8, séparateur virgule, en-tête, dates AAAA-MM-JJ, valeurs multiples séparées par « | ») "
        "et en Parquet, décrit par un schéma de table dans `datapackage.json` (format Frictionless Data Package : types, descriptions, contraintes, clés).",
        "",
        "Dans les CSV, une cellule de texte qui commence par `=`, `+`, `-`, `@`, une tabulation ou un retour chariot est précédée d'une apostrophe "
        "(sauf un nombre négatif, comme « -0,13 »), "
        "pour qu'un tableur l'affiche comme du texte au lieu de l'exécuter comme une formule (recommandation de l'OWASP contre l'injection "
        "de formules) ; le fichier Parquet garde la valeur exacte.",
        "",
        "| Jeu de données | Description | Lignes |",
        "|---|---|--:|",
        *[f"| `{r['name']}` | {r['description']} | {fr_int(r['x-rows'])} |" for r in resources],
        "",
        "## Licences",
        "",
        f"Les jeux de données produits par DataMed sont publiés sous la **{LICENCE_OUTPUTS['title']}** ({LICENCE_OUTPUTS['path']}). "
        "Ils dérivent des sources suivantes, dont la licence s'applique et qu'il faut citer :",
        "",
        *[f"- **{fam}** : {SOURCE_LICENCES.get(fam, 'licence indiquée par le producteur')}" for fam in families if fam],
        "",
        "## Provenance",
        "",
        "| Source | Fichier | Instantané | Lignes lues | Rejetées | SHA-256 |",
        "|---|---|---|--:|--:|---|",
        *[
            f"| {f.get('source', '')} | `{f.get('path', '')}` | {f.get('snapshot') or 'non daté'} | {fr_int(f.get('lines'))} | "
            f"{fr_int(f.get('rejected'))} | `{f.get('sha256', '')[:16]}…` |"
            for f in files
        ],
        "",
        f"À la construction : {fr_int(manifest.get('rejected_lines', 0))} ligne(s) illisible(s) rejetée(s) et "
        f"{fr_int(manifest.get('corrected_values', 0))} valeur(s) corrigée(s) ou écartée(s), la ligne étant gardée "
        "(toutes comptées et listées, jamais écartées en silence).",
        "",
        "## Méthode",
        "",
        "- Les fichiers sources sont lus avec leur encodage (UTF-8, sinon Windows-1252) ; une ligne illisible est rejetée avec son numéro et son motif.",
        "- Des contrôles de qualité sont exécutés à chaque construction (formats des codes CIS, CIP13 avec clé EAN-13, ATC, codes postaux et INSEE ; "
        "intégrité référentielle ; doublons ; dates ; libellés ; plausibilité des colonnes ; évolutions entre instantanés). Résultats : `qualite`, "
        "`qualite_echecs`, `qualite_evolution` et `rapport_qualite.html`.",
        "- Les liaisons entre bases (pharmacovigilance → BDPM, MITM → CIS, ruptures → CIS et CIP, libellés ATC, titulaires → sites) sont décrites "
        "dans `liens_synthese`, `liens_scores` et `liens_non_relies`.",
        "- Une notification d'effet indésirable n'établit pas que le médicament a causé l'effet. Les taux sont des taux de notification : "
        "des cas notifiés rapportés aux consommants (Open Medic : personnes ayant eu au moins un remboursement, comptées une fois par produit), "
        "calculés sur les seules années d'exposition plausible (`ei_exposition_alertes` liste les autres) ; ce ne sont pas des fréquences.",
        "- Les sels et formes d'une substance sont regroupés sous leur substance active (`ei_fractions*`, composition de `ei_fractions_membres`) ; "
        "les cas d'une substance active sont des paires cas-substance additionnées sur ses formes.",
        "",
        "## Secret statistique",
        "",
        f"Aucun effectif de 1 à {threshold - 1} n'est publié. Ces cellules sont vides, avec la mention « masqué » dans la colonne `*_statut`, "
        "comme d'autres cellules choisies ensemble sur tous les tableaux liés (par année, âge, sexe, exposition, totaux) pour qu'aucune ne "
        "puisse être retrouvée par calcul ; une seule mention pour toutes, qui ne dit pas lesquelles sont petites. Les valeurs dérivées "
        "(parts, taux, rapports, moyennes) d'une cellule masquée sont vides. Les croisements classe d'organes × âge ou sexe sont listés "
        f"à partir de {max(SOURCE_FLOOR, threshold)} cas, et les séries nationales additionnent les cellules publiées. Avant chaque publication, un audit "
        "indépendant calcule par programmation linéaire en nombres entiers l'intervalle de chaque cellule masquée et bloque la publication "
        "si l'une d'elles peut être située trop précisément.",
        "",
        "## Non publié",
        "",
        *[f"- `{name}` : {why}" for name, why in unpublished(manifest)],
        "",
        "## Vérifier",
        "",
        "`sha256sum -c SHA256SUMS` vérifie chaque fichier ; `frictionless validate datapackage.json` vérifie les données contre leurs schémas.",
    ]
    if quality is not None and not quality.is_empty():
        failed = quality.filter(pl.col("statut") == "échoué")
        lines += [
            "",
            "## Qualité en bref",
            "",
            f"{fr_int(quality.height)} contrôles, {fr_int(failed.height)} en échec (détail dans `rapport_qualite.md`).",
        ]
    return "\n".join(lines) + "\n"


# --- writing ------------------------------------------------------------------------------------


def read_history(out: Path) -> list[dict]:
    try:
        return releases.read_history(out)
    except releases.ReleaseHistoryError as exc:
        raise PublishError(str(exc)) from exc


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _next_version(out: Path, today: date) -> str:
    base = today.isoformat()
    if not (out / base).exists():
        return base
    n = 2
    while (out / f"{base}.{n}").exists():
        n += 1
    return f"{base}.{n}"


def _fingerprint(checksums: dict[str, str]) -> str:
    """Content of the data resources (build-description tables left out)."""
    lines = sorted(
        f"{k}:{v}" for k, v in checksums.items() if k.endswith(".csv") and Path(k).stem not in META_RESOURCES
    )
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def publish(
    prepared: Path, out: Path, threshold: int | None = None, today: date | None = None, force: bool = False
) -> Release:
    """Publish the prepared folder as a new release in ``out`` (see module docstring)."""

    t0 = time.perf_counter()
    seconds: dict[str, float] = {}
    prepared, out = Path(prepared), Path(out)
    try:
        store = Store(prepared)
    except DataUnavailable as exc:
        raise PublishError(str(exc)) from exc
    manifest = store.manifest
    threshold = (
        manifest.get("disclosure_threshold") or disclosure.threshold_from_env() if threshold is None else threshold
    )
    out.mkdir(parents=True, exist_ok=True)
    history = read_history(out)
    previous = latest_release(out)

    frames: dict[str, pl.DataFrame] = {}
    for res in RESOURCES:
        if res.name in manifest.get("datasets", {}):
            frames[res.name] = public_frame(res, store.table(res.name))
    if not frames:
        raise PublishError(f"{prepared}: no public dataset to publish")

    tmp = Path(tempfile.mkdtemp(prefix=".release-tmp-", dir=out))
    try:
        (tmp / "data").mkdir()
        resources = []
        for name, frame in frames.items():
            res = BY_NAME[name]
            (tmp / "data" / f"{name}.csv").write_text(_csv_text(frame), encoding="utf-8")
            frame.write_parquet(tmp / "data" / f"{name}.parquet", compression="zstd")
            fks, broken = _holding_foreign_keys(res, frame, frames)
            pk_ok = _pk_unique(res, frame)
            use = res if pk_ok or not res.primary_key else dataclasses.replace(res, primary_key=())
            description = res.description + ("" if not broken else " Attention : " + " ; ".join(broken) + ".")
            if res.primary_key and not pk_ok:
                description += (
                    f" Clé {list(res.primary_key)} non unique dans cette version (voir le rapport de qualité)."
                )
            schema = table_schema(use, frame, fks)
            base = {
                "title": res.title,
                "description": description,
                "schema": schema,
                "x-sources": list(res.sources),
                "x-rows": frame.height,
            }
            resources.append(
                {
                    "name": name,
                    "path": f"data/{name}.csv",
                    "format": "csv",
                    "mediatype": "text/csv",
                    "encoding": "utf-8",
                    **base,
                }
            )
            # frictionless reads Parquet through pandas: a null integer arrives as NaN
            pq_schema = {**{k: v for k, v in schema.items() if k != "foreignKeys"}, "missingValues": ["", "nan"]}
            resources.append(
                {
                    "name": f"{name}_parquet",
                    "path": f"data/{name}.parquet",
                    "format": "parquet",
                    **{**base, "schema": pq_schema, "title": res.title + " (Parquet)"},
                }
            )
        seconds["write"] = round(time.perf_counter() - t0, 3)

        t1 = time.perf_counter()
        leaks = scan(tmp, threshold)
        seconds["disclosure_gate"] = round(time.perf_counter() - t1, 3)
        if leaks:
            raise DisclosureLeak(leaks)

        checksums = {f"data/{p.name}": sha256(p) for p in sorted((tmp / "data").iterdir())}
        fingerprint = _fingerprint(checksums)
        last = history[0] if history else None
        if last and previous is not None and last.get("fingerprint") == fingerprint and not force:
            return Release(
                last["version"],
                previous,
                False,
                f"data unchanged since release {last['version']}: nothing published",
                seconds=seconds,
            )

        t1 = time.perf_counter()
        version = _next_version(out, today or datetime.now(UTC).date())
        changes = {}
        for name, frame in frames.items():
            old = None
            if previous is not None and (previous / "data" / f"{name}.parquet").exists():
                old = pl.read_parquet(previous / "data" / f"{name}.parquet")
            changes[name] = diff_tables(old, frame, BY_NAME[name].primary_key)
        if previous is not None:
            for p in (previous / "data").glob("*.parquet"):
                if p.stem not in frames:
                    changes[p.stem] = {
                        "status": "retiré",
                        "rows_before": pl.scan_parquet(p).select(pl.len()).collect().item(),
                        "rows_after": 0,
                        "added": 0,
                        "removed": None,
                        "changed": None,
                    }
        prev_version = previous.name if previous is not None else None
        (tmp / "CHANGELOG.md").write_text(changelog_markdown(version, prev_version, changes), encoding="utf-8")
        (tmp / "changelog.json").write_text(
            json.dumps(
                {"version": version, "previous": prev_version, "datasets": changes}, ensure_ascii=False, indent=2
            ),
            encoding="utf-8",
        )
        seconds["changelog"] = round(time.perf_counter() - t1, 3)

        quality = frames.get(DS.QUALITE)
        package = {
            "name": "datamed-" + ("demo" if manifest.get("demo") else "ansm"),
            "title": "DataMed — sécurité des médicaments en France"
            + (" (données de démonstration)" if manifest.get("demo") else ""),
            "description": "Catalogue des médicaments, disponibilité et ruptures, effets indésirables déclarés (masqués sous le seuil), sites pharmaceutiques, qualité des données et liaisons entre bases.",
            "version": version,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "licenses": [LICENCE_OUTPUTS],
            "sources": [
                {"title": fam, "x-licence": lic}
                for fam, lic in SOURCE_LICENCES.items()
                if any(fam in r["x-sources"] for r in resources)
            ],
            "x-demo": bool(manifest.get("demo")),
            "x-disclosure-threshold": threshold,
            "x-code-version": manifest.get("code_version"),
            "x-built-at": manifest.get("built_at"),
            "resources": resources,
        }
        (tmp / "datapackage.json").write_text(json.dumps(package, ensure_ascii=False, indent=2), encoding="utf-8")
        csv_resources = [r for r in resources if r["format"] == "csv"]
        (tmp / "README.md").write_text(
            readme_markdown(manifest, version, csv_resources, threshold, quality), encoding="utf-8"
        )
        try:
            md, html = report.render(store)
            (tmp / "rapport_qualite.md").write_text(md, encoding="utf-8")
            (tmp / "rapport_qualite.html").write_text(html, encoding="utf-8")
        except ImportError:
            pass
        all_files = sorted(p for p in tmp.rglob("*") if p.is_file())
        sums = [f"{sha256(p)}  {p.relative_to(tmp).as_posix()}" for p in all_files]
        (tmp / "SHA256SUMS").write_text("\n".join(sums) + "\n", encoding="utf-8")

        target = out / version
        os.replace(tmp, target)
        entry = {
            "version": version,
            "published_at": package["created"],
            "built_at": manifest.get("built_at"),
            "demo": bool(manifest.get("demo")),
            "fingerprint": fingerprint,
            "resources": len(csv_resources),
            "rows": {n: f.height for n, f in frames.items()},
            "changes": {
                n: {k: c.get(k) for k in ("status", "added", "removed", "changed")} for n, c in changes.items()
            },
            "previous": prev_version,
        }
        _write_atomic(out / HISTORY, json.dumps([entry, *history], ensure_ascii=False, indent=2))
        _write_atomic(out / LATEST, version + "\n")
        seconds["total"] = round(time.perf_counter() - t0, 3)
        return Release(
            version,
            target,
            True,
            f"release {version} published in {target}",
            {n: f.height for n, f in frames.items()},
            changes,
            seconds,
        )
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def validate(folder: Path) -> list[str]:
    """Frictionless validation of a release folder; returns the errors (empty = valid)."""
    import frictionless  # noqa: PLC0415 - ~1 s of imports that only validation needs

    report = frictionless.validate(str(Path(folder) / "datapackage.json"))
    if report.valid:
        return []
    return [
        f"{name}: {e.type} {e.note}"
        for name, errors in [("datapackage", report.errors), *((t.name, t.errors) for t in report.tasks)]
        for e in errors
    ]
