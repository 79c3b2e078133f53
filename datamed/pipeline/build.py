"""Build pipeline: raw folder -> typed Parquet datasets + manifest.json.

Steps (each a plain function, in the spirit of owid/etl's snapshot -> meadow ->
garden separation):

1. ``discover``: find every source file and its snapshot date in the raw folder
   (laid out like ``shared/data``: ``bdpm/<YYYY-MM-DD>/*.txt``, ``atc/``...);
2. read steps (``read_bdpm_atc``, ``read_class_history``, ``read_sites_step``,
   ``read_geo_step``, ``read_pharmacovigilance``): typed frames and rejected lines;
3. ``derive``: cross-file datasets (substances, ATC per speciality, shortage
   episodes, holder-site links); ``risk_step`` (in a worker process) and
   ``quality_step`` (checks and the linking report);
4. ``write``: Parquet + rejects + manifest into a temporary folder, then an
   atomic swap with the previous prepared data.

Every step returns a ``StepResult`` (its datasets, source entries, rejects,
ignored files); ``Prepared.add`` merges them and refuses a dataset made twice.

A failed build raises ``BuildError`` (file and line named) and leaves the
previous prepared data untouched.
"""

from __future__ import annotations

import ctypes
import json
import multiprocessing
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType

import polars as pl

from datamed import __version__, audit
from datamed.core import disclosure
from datamed.core.folders import install, recover
from datamed.core.rule import ProtectionRule
from datamed.datasets import DS, registry
from datamed.pipeline import atc_deduction, linking, quality, shortages
from datamed.pipeline.holder_link import build_links
from datamed.pipeline.pharmacovigilance import build_pharmacovigilance
from datamed.sources import archive
from datamed.sources.archive import sha256
from datamed.sources.atc import read_atc
from datamed.sources.bdpm import SPECS, FileSpec, empty_frame, read_bdpm_file, spec_for_filename
from datamed.sources.pharmacovigilance import PvFileError
from datamed.sources.sites import read_sites
from datamed.sources.textfile import RawFileError, Reject
from datamed.sources.world import read_world_countries

SNAPSHOT_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MAX_REJECT_SHARE = 0.05  # above this share of malformed lines a file is unusable
MANIFEST = "manifest.json"
SCHEMA_VERSION = 1


class BuildError(Exception):
    """A build cannot complete; the message names the file (and line)."""


@dataclass
class SourceFile:
    path: Path
    rel: str  # path relative to the raw folder, with "/"
    snapshot: str
    spec: FileSpec


@dataclass
class Discovery:
    files: dict[str, list[SourceFile]] = field(default_factory=dict)  # spec key -> files, newest first
    ignored: list[str] = field(default_factory=list)


@dataclass
class StepResult:
    """What one build step returns: the datasets it makes and the trace of what it read.

    Steps never write into a shared dictionary: they read the datasets made before
    them (a read-only mapping) and return their own, which ``Prepared.add`` merges."""

    datasets: dict[str, pl.DataFrame] = field(default_factory=dict)
    sources: list[dict] = field(default_factory=list)  # manifest entries (``source_entry``)
    rejects: list[Reject] = field(default_factory=list)  # lines dropped, values corrected
    ignored: list[str] = field(default_factory=list)  # files present but not used, and why
    missing: list[str] = field(default_factory=list)  # sources absent (datasets written empty)
    report: dict = field(default_factory=dict)  # manifest entries of the step (e.g. the suppression's figures)


class Prepared:
    """The datasets and trace of a build so far, each dataset made by exactly one step."""

    def __init__(self) -> None:
        self._datasets: dict[str, pl.DataFrame] = {}
        self._made_by: dict[str, str] = {}
        self.sources: list[dict] = []
        self.rejects: list[Reject] = []
        self.ignored: list[str] = []
        self.missing: list[str] = []
        self.report: dict = {}

    @property
    def datasets(self) -> Mapping[str, pl.DataFrame]:
        return MappingProxyType(self._datasets)

    def add(self, step: str, result: StepResult) -> None:
        for name, frame in result.datasets.items():
            registry.get(name)  # UnknownDataset for a name the registry does not know
            if name in self._made_by:
                raise BuildError(f"step {step!r} makes dataset '{name}', already made by {self._made_by[name]!r}")
            self._datasets[name] = frame
            self._made_by[name] = step
        self.sources += result.sources
        self.rejects += result.rejects
        self.ignored += result.ignored
        self.missing += result.missing
        self.report.update(result.report)


def discover(raw: Path) -> Discovery:
    """List BDPM files per kind, newest snapshot first; note what is ignored."""
    found = Discovery()
    bdpm = raw / "bdpm"
    if not bdpm.is_dir():
        raise BuildError(f"{raw}: no bdpm/ folder (expected bdpm/<YYYY-MM-DD>/CIS_bdpm.txt ...)")
    for snap_dir in sorted(bdpm.iterdir(), reverse=True):
        if not snap_dir.is_dir():
            continue
        if not SNAPSHOT_RE.match(snap_dir.name):
            found.ignored.append(f"bdpm/{snap_dir.name}/ (folder name is not a YYYY-MM-DD snapshot date)")
            continue
        for path in sorted(snap_dir.iterdir()):
            rel = f"bdpm/{snap_dir.name}/{path.name}"
            spec = spec_for_filename(path.name) if path.is_file() else None
            if spec is None:
                found.ignored.append(f"{rel} (not a known BDPM file)")
                continue
            found.files.setdefault(spec.key, []).append(SourceFile(path, rel, snap_dir.name, spec))
    if "CIS_bdpm" not in found.files:
        raise BuildError(f"{bdpm}: no CIS_bdpm.txt in any bdpm/<YYYY-MM-DD>/ snapshot folder")
    _add_availability_archive(raw, found)
    return found


def _add_availability_archive(raw: Path, found: Discovery) -> None:
    """Add the archived availability files (``datamed.sources.archive``) to those of the
    bdpm/<date>/ folders: one file per day, the day's latest fetch (an archived file is
    later than a bdpm/<date>/ copy of the same day); the others are listed as ignored."""
    listing = archive.list_archive(raw)
    found.ignored.extend(listing.problems)
    spec = spec_for_filename(archive.STEM + ".txt")
    if spec is None or not listing.files:
        return
    by_day: dict[str, SourceFile] = {f.snapshot: f for f in found.files.get(spec.key, [])}
    for a in listing.files:  # oldest first: a later fetch of the same day replaces an earlier one
        rel = f"{archive.FOLDER}/{a.path.name}"
        if a.day in by_day:
            found.ignored.append(f"{by_day[a.day].rel} (superseded by {rel}, fetched later the same day)")
        by_day[a.day] = SourceFile(a.path, rel, a.day, spec)
    found.files[spec.key] = [by_day[d] for d in sorted(by_day, reverse=True)]


def source_entry(
    path: Path,
    rel: str,
    source: str,
    dataset: str,
    *,
    lines: int,
    rows: int,
    rejected: int = 0,
    snapshot: str | None = None,
    file: str | None = None,
    encoding: str = "utf-8",
    **extra,
) -> dict:
    """One entry of the manifest's ``sources``: a raw file read, with its checksum and size.

    ``rel`` is its path relative to the raw folder; ``snapshot`` None for an undated
    file; ``file`` defaults to the file name; ``extra`` (e.g. ``values_rejected``)
    is appended."""
    return {
        "path": rel,
        "source": source,
        "file": file or path.name,
        "dataset": dataset,
        "snapshot": snapshot,
        "sha256": sha256(path),
        "bytes": path.stat().st_size,
        "encoding": encoding,
        "lines": lines,
        "rows": rows,
        "rejected": rejected,
        **extra,
    }


def code_version() -> str:
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=Path(__file__).parent,
            capture_output=True,
            text=True,
            timeout=5,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        sha = ""
    return f"{__version__}+{sha}" if sha else __version__


# --- derived datasets ---------------------------------------------------------


def derive_substances(compo: pl.DataFrame) -> pl.DataFrame:
    """One row per substance code: its most common name, and usage counts."""
    if compo.is_empty():
        return pl.DataFrame(
            schema={
                "code_substance": pl.String,
                "denomination": pl.String,
                "n_specialites": pl.UInt32,
                "substance_active": pl.Boolean,
            }
        )
    names = (
        compo.group_by("code_substance", "denomination_substance")
        .len()
        .sort(["code_substance", "len", "denomination_substance"], descending=[False, True, False])
        .group_by("code_substance", maintain_order=True)
        .first()
        .select("code_substance", pl.col("denomination_substance").alias("denomination"))
    )
    usage = compo.group_by("code_substance").agg(
        pl.col("cis").n_unique().alias("n_specialites"),
        (pl.col("nature_composant") == "SA").any().alias("substance_active"),
    )
    return names.join(usage, on="code_substance").sort("denomination", "code_substance")


# --- the build ------------------------------------------------------------------


def _check_rejects(name: str, n_lines: int, rejects: list[Reject]) -> None:
    every_line = n_lines and len(rejects) == n_lines  # e.g. an error page saved in place of the file
    if every_line or (n_lines and len(rejects) / n_lines > MAX_REJECT_SHARE and len(rejects) > 2):
        first = rejects[0]
        raise BuildError(
            f"{first.file}, line {first.line}: {len(rejects)} of {n_lines} lines are malformed "
            f"({first.reason}); the file looks corrupted"
        )


def read_bdpm_atc(raw: Path) -> StepResult:
    """Every BDPM file (newest snapshot, or all snapshots of a history file) and the
    ATC classification; a missing source gives its dataset empty, with its schema."""
    found = discover(raw)
    result = StepResult(ignored=list(found.ignored))
    datasets, sources, all_rejects, missing = result.datasets, result.sources, result.rejects, result.missing
    ignored = result.ignored
    history_names: list[pl.DataFrame] = []
    for spec in SPECS:
        files = found.files.get(spec.key, [])
        if not files:
            frame = empty_frame(spec)
            if spec.history:
                frame = frame.with_columns(pl.lit(None, dtype=pl.Date).alias("snapshot"))
            datasets[spec.dataset] = frame
            missing.append(spec.key)
            continue
        used = files if spec.history else files[:1]
        if spec.key == "CIS_COMPO_bdpm":
            # older snapshots still name substances of the 2014-2018 adverse-effect data
            for old in files[1:]:
                try:
                    names = read_bdpm_file(old.path, spec, file_label=old.rel).frame
                except RawFileError:
                    continue
                history_names.append(names.select("code_substance", "denomination_substance"))
        ignored.extend(
            f"{f.rel} (superseded by {files[0].snapshot}"
            + (", substance names kept for linking)" if spec.key == "CIS_COMPO_bdpm" else ")")
            for f in files[len(used) :]
        )
        frames = []
        for i, src in enumerate(used):
            try:
                try:
                    read = read_bdpm_file(src.path, spec, file_label=src.rel)
                except RawFileError as exc:
                    raise BuildError(str(exc)) from exc
                except OSError as exc:
                    raise BuildError(f"{src.rel}: cannot read ({exc.strerror})") from exc
                _check_rejects(src.rel, read.n_lines, read.rejects)
            except BuildError as exc:
                if not spec.history or i == 0:
                    raise
                # an older snapshot of a history that cannot be read is set aside, said, and
                # does not block every later build; the newest one must be readable
                ignored.append(f"{src.rel} (unreadable older snapshot, set aside: {exc})")
                continue
            all_rejects += read.rejects
            frame = read.frame
            if spec.history:
                frame = frame.with_columns(pl.lit(src.snapshot).str.to_date().alias("snapshot"))
            frames.append(frame)
            sources.append(
                source_entry(
                    src.path,
                    src.rel,
                    "BDPM",
                    spec.dataset,
                    file=spec.key,
                    snapshot=src.snapshot,
                    encoding=read.encoding,
                    lines=read.n_lines,
                    rows=frame.height,
                    rejected=len(read.rejects),
                )
            )
        datasets[spec.dataset] = pl.concat(frames, how="vertical_relaxed") if len(frames) > 1 else frames[0]

    atc_dir = raw / "atc"
    if atc_dir.is_dir():
        try:
            atc, atc_rejects, atc_files = read_atc(atc_dir)
        except (ValueError, pl.exceptions.PolarsError) as exc:
            raise BuildError(str(exc)) from exc
        if atc.is_empty():
            missing.append("ATC")
        datasets[DS.ATC] = atc
        all_rejects += atc_rejects
        for f in atc_files:
            sources.append(
                source_entry(
                    f["path"],
                    f["label"],
                    "ATC",
                    DS.ATC,
                    snapshot=_file_date(f["path"]),
                    lines=f["lines"],
                    rows=f["rows"],
                    rejected=f["rejected"],
                )
            )
    else:
        datasets[DS.ATC], _, _ = read_atc(atc_dir)  # typed and empty
        missing.append("ATC")
    datasets[DS.NOMS_SUBSTANCES] = (
        pl.concat([datasets[DS.COMPOSITIONS].select("code_substance", "denomination_substance"), *history_names])
        .unique()
        .sort("code_substance", "denomination_substance", nulls_last=True)
    )  # deterministic row order
    datasets[DS.DISPONIBILITES], dated_rejects = check_availability_dates(datasets[DS.DISPONIBILITES], sources)
    all_rejects += dated_rejects
    read_days = [s["snapshot"] for s in sources if s["dataset"] == DS.DISPONIBILITES and s.get("snapshot")]
    result.report["availability_archive"] = archive.span(read_days)
    # every dated copy of the catalogue files (the newest is read above; the risk model
    # takes older ones for its earlier cutoffs, see pipeline/risk/catalogues.py)
    listing: dict[str, dict[str, str]] = {}
    for spec in SPECS:
        if spec.history:
            continue
        for f in found.files.get(spec.key, []):
            if re.fullmatch(r"\d{4}-\d{2}-\d{2}", f.snapshot or ""):
                listing.setdefault(f.snapshot, {})[spec.key] = f.rel
    result.report["catalogue_snapshots"] = dict(sorted(listing.items()))
    return result


def _file_date(path: Path) -> str | None:
    """Snapshot date of an undated-folder source: a date in its name, else in a
    sibling's name (the ATC files travel together), else None (undated: a file's
    modification time says when it was copied, not what it describes)."""
    for name in [path.name, *sorted(p.name for p in path.parent.iterdir())]:
        m = re.search(r"(\d{4}-\d{2}-\d{2})", name)
        if m:
            return m.group(1)
    return None


def read_pharmacovigilance(raw: Path, datasets: Mapping[str, pl.DataFrame], threshold: int) -> StepResult:
    """The pharmacovigilance step: masked ei_* datasets, their sources and rejects."""
    try:
        pv = build_pharmacovigilance(raw, threshold, datasets[DS.NOMS_SUBSTANCES], datasets.get(DS.COMPOSITIONS))
    except (PvFileError, ValueError) as exc:
        raise BuildError(str(exc)) from exc
    result = StepResult(
        datasets=dict(pv.datasets),
        rejects=list(pv.rejects),
        ignored=list(pv.ignored),
        report={"suppression": pv.protection} if pv.protection else {},
    )
    for src in pv.sources:
        path = src["path_obj"]
        result.sources.append(
            source_entry(
                path,
                src["path"],
                src["source"],
                src["dataset"],
                file=src["file"],
                snapshot=_file_date(path),
                lines=src["lines"],
                rows=src["rows"],
                rejected=src["rejected"],
                values_rejected=src["values_rejected"],
            )
        )
    return result


def disclosure_audit(datasets: Mapping[str, pl.DataFrame], threshold: int) -> StepResult:
    """The independent audit (``datamed.audit``) over the prepared pharmacovigilance
    data and every text: a withheld count left unprotected, a value computed from a
    withheld count, or a count stated in a text fails the build (the previous
    prepared data is kept). Its per-table figures go to the manifest."""
    if not any(name.startswith("ei_") for name in datasets):
        return StepResult()
    rule = replace(ProtectionRule.from_env(), threshold=threshold)
    report = audit.audit_tables(*audit.audited_parts(datasets), rule)
    if not report.passed:
        raise BuildError(f"the prepared data would disclose small counts; nothing written\n{report.summary()}")
    tables = [
        {k: v for k, v in row.items() if v is not None} for row in report.tables.iter_rows(named=True)
    ]  # largeur_min is absent where no withheld count may be small
    return StepResult(
        report={
            "disclosure_audit": {
                "withheld": report.masked,
                "threshold": rule.threshold,
                "min_width": rule.min_width,
                "exposed": 0,
                "contradictions": len(report.inconsistent),
                "seconds": round(report.seconds, 2),
                "tables": tables,
            }
        }
    )


def derive(datasets: Mapping[str, pl.DataFrame]) -> StepResult:
    """Cross-file datasets: substances, ATC per speciality, shortage episodes, holder-site links."""
    compo = datasets[DS.COMPOSITIONS]
    made = {
        DS.SUBSTANCES: derive_substances(compo),
        DS.SPECIALITE_ATC: atc_deduction.specialite_atc(compo, datasets.get(DS.SPECIALITES), datasets.get(DS.MITM)),
    }
    episodes = shortages.build_episodes(datasets[DS.DISPONIBILITES])
    made[DS.RUPTURES_EPISODES] = shortages.enrich(episodes, {**datasets, **made})
    if DS.SITES in datasets:
        made[DS.TITULAIRES_SITES], made[DS.TITULAIRES_NON_RELIES] = build_links(
            datasets[DS.SPECIALITES], datasets[DS.SITES]
        )
    return StepResult(datasets=made)


RISK_DRIVERS_FOR = 300  # medicines whose risk drivers are computed (the riskiest)
RISK_INPUTS = (
    DS.RUPTURES_EPISODES,
    DS.SPECIALITES,
    DS.PRESENTATIONS,
    DS.GENERIQUES,
    DS.MITM,
    DS.SPECIALITE_ATC,
    DS.DISPONIBILITES,
)


def _warm_up() -> None:
    """Import ``pipeline.risk`` (scikit-learn, ~1 s) in the worker while the main process reads."""
    import datamed.pipeline.risk  # noqa: F401, PLC0415


def _risk_in_worker(
    inputs: dict[str, pl.DataFrame], listing: dict | None = None, raw: Path | None = None
) -> tuple[str, dict[str, pl.DataFrame]]:
    return risk_step(inputs, listing, raw)


def _die_with_parent(parent: int) -> None:
    """Worker initializer: on Linux, ask the kernel to kill this process when the
    build that started it dies (even by SIGKILL), so no orphan keeps computing. A
    build that died while the worker was still importing is caught here too."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: the pool's own pipes end it soon after
        pass
    if os.getppid() != parent:  # the build is already gone
        os._exit(1)


class _risk_worker:
    """A one-process pool (spawned, warmed up), or None where processes cannot start."""

    def __enter__(self):
        try:
            self.pool = ProcessPoolExecutor(
                max_workers=1,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_die_with_parent,
                initargs=(os.getpid(),),
            )
            self.pool.submit(_warm_up)
        except (OSError, ValueError, RuntimeError):
            self.pool = None
        return self.pool

    def __exit__(self, *exc):
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)


def risk_step(
    datasets: Mapping[str, pl.DataFrame], catalogue_snapshots: dict | None = None, raw: Path | None = None
) -> tuple[str, dict[str, pl.DataFrame]]:
    """Shortage-risk model evaluated forward in time over the snapshot archive; scores
    are published only if the lower bound of its PR-AUC gain over the best baseline is > 0.

    Returns a one-line status for the manifest and the ``risque_*`` datasets made:
    always the report (its French text says why the model is hidden), the
    evaluation and reliability tables when the archive allows a window, the
    scores when the model is shown. ``catalogue_snapshots`` (the build's listing of
    dated catalogue files, relative to ``raw``) gives the catalogue as it was: a
    cutoff before the newest snapshot uses the newest one dated on or before it. ``pipeline.risk`` (scikit-learn) is imported
    here, in the worker process, so that a build that never reaches this step
    does not pay for it.
    """
    from datamed.pipeline import risk  # noqa: PLC0415 - heavy, imported in the worker only

    made: dict[str, pl.DataFrame] = {}
    datasets = dict(datasets)
    try:
        snaps = risk.snapshot_dates(datasets)
        dates = risk.needed_dates(snaps) if risk.windows(snaps) else []
        asof = risk.history_as_of(datasets, dates) if dates else {}
        older = risk.older_snapshots(catalogue_snapshots, raw) if raw is not None else []
        frames, used, unreadable = risk.catalogues_as_of(older, dates, risk.catalogue_date(catalogue_snapshots))
        report = risk.evaluate(datasets, asof=asof, catalogues=(frames, used))
    except Exception as exc:  # the model is optional: never fail the build for it
        return f"not computed: {type(exc).__name__}: {exc}", made
    made[DS.RISQUE_RAPPORT] = pl.DataFrame([{"texte": report.to_markdown_fr(), **report.summary_row()}])
    if report.windows:
        made[DS.RISQUE_EVALUATION] = report.metrics_table()
    if report.reliability is not None:
        made[DS.RISQUE_CALIBRATION] = report.reliability
    note = f"; dated catalogue snapshots set aside: {' | '.join(unreadable)}" if unreadable else ""
    if used:
        note += f"; dated catalogues used: {', '.join(sorted({d.isoformat() for d in used.values()}))}"
    if not report.windows:
        return (
            f"not evaluated: the availability archive spans {report.archive.days} days "
            f"({report.archive.count} snapshots); {2 * report.horizon_days} are needed",
            made,
        )
    if not report.gains:
        return "evaluated: no window had both a model and new episodes to find; hidden" + note, made
    gain = report.gains["pr_auc"]
    verdict = f"PR-AUC gain {gain.estimate:+.4f} [{gain.low:+.4f}, {gain.high:+.4f}] over {gain.baseline}"
    if not report.shown:
        return f"hidden: {verdict} (lower bound not above 0){note}", made
    try:
        made[DS.RISQUE_RUPTURES] = risk.score_current(
            datasets, report, drivers_for=RISK_DRIVERS_FOR, asof=asof, catalogues=frames
        )
    except Exception as exc:  # optional too
        return f"evaluated ({verdict}), scores not computed: {type(exc).__name__}: {exc}", made
    return f"shown: {verdict}; scores published{note}", made


def check_availability_dates(dispo: pl.DataFrame, sources: list[dict]) -> tuple[pl.DataFrame, list[Reject]]:
    """Availability records dated after their own snapshot are rejected, with file and
    line; the counts of their ``sources`` entries are updated. Returns the records kept.

    A return date before the start date is *kept*: the episode machine closes the
    episode and flags it (the source often updates a start after the return), and
    the date-order check reports it on the Qualité page."""
    if dispo.is_empty():
        return dispo, []
    files = {s["snapshot"]: s for s in sources if s.get("dataset") == DS.DISPONIBILITES}
    reason = (
        pl.when(pl.col("date_debut") > pl.col("snapshot"))
        .then(pl.lit("start date after the snapshot date (in the future)"))
        .when(pl.col("date_mise_a_jour") > pl.col("snapshot"))
        .then(pl.lit("update date after the snapshot date (in the future)"))
        .otherwise(None)
    )
    flagged = dispo.with_columns(reason.alias("_reason"))
    bad = flagged.filter(pl.col("_reason").is_not_null())
    rejects = []
    for r in bad.iter_rows(named=True):
        src = files.get(r["snapshot"].isoformat())
        path = src["path"] if src else "CIS_CIP_Dispo_Spec.txt"
        rejects.append(
            Reject(
                path,
                r["source_line"],
                r["_reason"],
                f"{r['cis']}\t{r['cip13'] or ''}\t{r['code_statut']}\t{r['date_debut']}\t{r['date_mise_a_jour']}\t{r['date_remise_dispo']}",
            )
        )
        if src:
            src["rows"] -= 1
            src["rejected"] += 1
    return flagged.filter(pl.col("_reason").is_null()).drop("_reason"), rejects


def read_sites_step(raw: Path) -> StepResult:
    """Harmonised pharmaceutical sites (France) and FDA establishments per country."""
    if not (raw / "sites").is_dir():
        return StepResult()
    try:
        result = read_sites(raw)
    except ValueError as exc:
        raise BuildError(str(exc)) from exc
    step = StepResult(ignored=list(result.ignored))
    datasets, sources = step.datasets, step.sources
    datasets[DS.SITES] = result.sites
    datasets[DS.SITES_PAYS] = result.countries
    world = read_world_countries()
    if world is not None:
        datasets[DS.PAYS_GEO], world_path = world
        n = datasets[DS.PAYS_GEO].height
        sources.append(
            source_entry(
                world_path,
                "natural_earth/naturalearth_lowres.shp",
                "Natural Earth (paquet pyogrio)",
                DS.PAYS_GEO,
                snapshot="110m",
                encoding="binary",
                lines=n,
                rows=n,
            )
        )
    datasets[DS.SITES_NON_PLACES] = result.unplaced
    if result.communes is not None and not result.communes.is_empty():
        datasets[DS.COMMUNES] = result.communes
    for src in result.sources:
        path = raw / src["path"]
        sources.append(
            source_entry(
                path,
                src["path"],
                src["source"],
                src["dataset"],
                file=src["file"],
                snapshot=src.get("snapshot") or _file_date(path),
                encoding=src["encoding"],
                lines=src["lines"],
                rows=src["rows"],
                rejected=src["rejected"],
                values_rejected=sum(1 for c in result.corrections if c.file == src["path"]),
            )
        )
    corrections = [Reject(c.file, c.line, "corrected (row kept): " + c.reason, c.raw) for c in result.corrections]
    step.rejects += result.rejects + corrections
    return step


def _round_coords(value, digits: int):
    if isinstance(value, (int, float)):
        return round(float(value), digits)
    return [_round_coords(v, digits) for v in value or []]


GEO_FILES = ("departements-version-simplifiee.geojson", "departements-avec-outre-mer.geojson")


def read_geo_step(raw: Path) -> StepResult:
    """Départements outlines (GeoJSON), the base layer of the offline maps."""
    for name in GEO_FILES:
        path = raw / "geo" / name
        if path.exists():
            break
    else:
        return StepResult()
    rel = f"geo/{path.name}"
    try:
        data = json.loads(path.read_bytes().decode("utf-8"))
        features = data["features"]
    except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as exc:
        raise BuildError(f"{rel}: not a GeoJSON FeatureCollection ({exc})") from exc
    rows, rejects = [], []
    for i, f in enumerate(features, start=1):
        props = (f or {}).get("properties") or {}
        geom = (f or {}).get("geometry") or {}
        if not props.get("code") or geom.get("type") not in ("Polygon", "MultiPolygon"):
            rejects.append(Reject(rel, i, "feature without a département code or a polygon", str(props)[:300]))
            continue
        geom = {"type": geom["type"], "coordinates": _round_coords(geom.get("coordinates"), 3)}  # ~100 m: lighter maps
        rows.append((str(props["code"]), str(props.get("nom") or ""), json.dumps(geom, separators=(",", ":"))))
    outlines = pl.DataFrame(rows, schema={"code": pl.String, "nom": pl.String, "geometrie": pl.String}, orient="row")
    source = [
        source_entry(
            path,
            rel,
            "IGN / INSEE (france-geojson)",
            DS.DEPARTEMENTS_GEO,
            snapshot="2018",
            lines=len(features),
            rows=len(rows),
            rejected=len(rejects),
        )
    ]
    return StepResult(datasets={DS.DEPARTEMENTS_GEO: outlines}, sources=source, rejects=rejects)


def read_class_history(raw: Path, datasets: Mapping[str, pl.DataFrame]) -> StepResult:
    """Yearly shortage signals per ATC class (ANSM / EIG DataMed, 2014-2020)."""
    path = raw / "ansm_datamed" / "ruptures_by_atc_by_annee.json"
    if not path.exists():
        return StepResult()
    rel = "ansm_datamed/" + path.name
    try:
        data = json.loads(path.read_bytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BuildError(f"{rel}: not valid UTF-8 JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise BuildError(f"{rel}: expected an object {{year: {{class label: count}}}}")
    rows, rejects, n = [], [], 0
    for year, classes in data.items():
        if not isinstance(classes, dict):
            rejects.append(Reject(rel, 0, f"year {year!r}: expected an object of counts", str(classes)[:300]))
            continue
        for label, count in classes.items():
            n += 1
            if not re.fullmatch(r"\d{4}", str(year)):
                rejects.append(Reject(rel, n, f"invalid year {year!r}", f"{label}: {count}"))
            elif isinstance(count, bool) or not isinstance(count, int) or count < 0:
                rejects.append(Reject(rel, n, f"count is not a non-negative integer: {count!r}", f"{year} {label}"))
            else:
                rows.append((int(year), label, count))
    frame = pl.DataFrame(
        rows, schema={"annee": pl.Int16, "libelle_source": pl.String, "n_signalements": pl.Int64}, orient="row"
    )
    mapping = shortages.map_class_labels(sorted(set(frame["libelle_source"])), datasets.get(DS.ATC, pl.DataFrame()))
    atc = datasets.get(DS.ATC)
    labels = dict(zip(atc["code_atc"], atc["libelle"])) if atc is not None and not atc.is_empty() else {}
    frame = frame.join(mapping, on="libelle_source", how="left").with_columns(
        pl.col("code_atc")
        .str.len_chars()
        .replace_strict({1: 1, 3: 2}, default=None, return_dtype=pl.Int8)
        .alias("niveau"),
        pl.col("code_atc").replace_strict(labels, default=None, return_dtype=pl.String).alias("libelle_atc"),
    )
    source = [
        source_entry(
            path,
            rel,
            "ANSM DataMed",
            DS.RUPTURES_CLASSES,
            snapshot=_file_date(path),
            lines=n,
            rows=frame.height,
            rejected=len(rejects),
        )
    ]
    return StepResult(
        datasets={DS.RUPTURES_CLASSES: frame.sort("annee", "libelle_source")}, sources=source, rejects=rejects
    )


def rejects_frame(rejects: list[Reject]) -> pl.DataFrame:
    return pl.DataFrame(
        [r.as_dict() for r in rejects],
        schema={"file": pl.String, "line": pl.Int64, "reason": pl.String, "raw": pl.String},
    )


def quality_step(
    datasets: Mapping[str, pl.DataFrame], sources: list[dict], rejects: pl.DataFrame, raw: Path, previous: Path | None
) -> StepResult:
    """Cross-database linking report, then the data-quality checks over every source."""
    checks = quality.run_checks(dict(datasets), sources, rejects, raw, previous)
    evolution = checks[DS.QUALITE_EVOLUTION]  # stable row order: releases are compared byte for byte
    checks[DS.QUALITE_EVOLUTION] = evolution.sort(evolution.columns, nulls_last=True)
    return StepResult(datasets={**linking.link_report(dict(datasets)), **checks})


def _write(out_tmp: Path, datasets: Mapping[str, pl.DataFrame]) -> dict:
    """Write every dataset as Parquet; only registered datasets may be written."""
    entries = {}
    for name, frame in datasets.items():
        declared = registry.get(name)  # UnknownDataset for a name the registry does not know
        path = out_tmp / f"{declared.name}.parquet"
        frame.write_parquet(path, compression="zstd")
        entries[declared.name] = {
            "file": path.name,
            "rows": frame.height,
            "columns": {c: str(t) for c, t in frame.schema.items()},
            "description": declared.description,
        }
    return entries


def _write_problem(exc: OSError) -> str:
    if isinstance(exc, (FileExistsError, NotADirectoryError)):
        return "a parent folder is a file"
    return exc.strerror or str(exc)


def check_out(out: Path) -> None:
    """Fail before any work if the prepared folder cannot be written: the new data is
    written into a temporary folder beside it, then swapped in."""
    try:
        if out.exists() and not out.is_dir():
            raise BuildError(f"{out}: exists and is not a folder")
        out.parent.mkdir(parents=True, exist_ok=True)
        os.rmdir(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    except OSError as exc:
        raise BuildError(f"{out}: cannot write the prepared folder ({_write_problem(exc)})") from exc


def swap_in(tmp: Path, out: Path, *, staging: bool = False) -> None:
    """Make the complete folder ``tmp`` the data of ``out``: a new version behind the
    link ``out`` (``core.folders.install``), or, for a ``staging`` folder that gates
    will check before it is installed, a plain folder in its place."""
    if not staging:
        install(tmp, out)
        return
    if out.is_symlink() or out.is_file():
        out.unlink()
    elif out.exists():
        shutil.rmtree(out)
    os.replace(tmp, out)


def build(
    raw: Path, out: Path, threshold: int | None = None, previous: Path | None = None, *, staging: bool = False
) -> dict:
    """Build prepared datasets from ``raw`` into ``out`` atomically; return the manifest.

    ``out`` becomes a link to a new version (``core.folders``); with ``staging``, a plain
    folder that the caller checks and then installs with ``swap_in``. ``previous`` is
    the prepared data the quality checks compare with (default: what ``out`` holds
    before the build)."""
    raw, out = Path(raw), Path(out)
    if not raw.is_dir():
        raise BuildError(f"{raw}: raw folder not found")
    check_out(out)
    try:
        recovered = recover(out)
    except OSError as exc:
        raise BuildError(f"{out}: cannot tidy the prepared folder's parent ({_write_problem(exc)})") from exc
    if previous is None and (out / MANIFEST).exists():
        previous = out.resolve()  # the version read now, not the link the build will switch
    started = time.perf_counter()
    steps: dict[str, float] = {}

    def lap(name: str, t0: float) -> float:
        now = time.perf_counter()
        steps[name] = round(now - t0, 3)
        return now

    t = started
    threshold = disclosure.threshold_from_env() if threshold is None else threshold
    # The risk model (CPU-bound, ~2 s) runs in a worker process on the other core, beside
    # pharmacovigilance and the quality checks; the worker starts (imports) while the
    # sources are read. Threads would not help: the readers hold the GIL.
    prep = Prepared()
    with _risk_worker() as pool:
        prep.add("bdpm_atc", read_bdpm_atc(raw))
        t = lap("bdpm_atc", t)
        prep.add("shortage_classes", read_class_history(raw, prep.datasets))
        prep.add("sites", read_sites_step(raw))
        prep.add("geo", read_geo_step(raw))
        t = lap("sites_geo", t)
        prep.add("derive", derive(prep.datasets))
        t = lap("derive_shortages", t)
        risk_inputs = {k: prep.datasets[k] for k in RISK_INPUTS if k in prep.datasets}
        listing = prep.report.get("catalogue_snapshots")
        risk_future, worker_note = None, ""
        if pool is not None:
            try:  # a pool whose worker already died refuses new work: compute here instead
                risk_future = pool.submit(_risk_in_worker, risk_inputs, listing, raw)
            except (BrokenProcessPool, RuntimeError) as exc:
                worker_note = f" (worker process unavailable: {type(exc).__name__}; computed in the main process)"
        prep.add("pharmacovigilance", read_pharmacovigilance(raw, prep.datasets, threshold))
        t = lap("pharmacovigilance", t)
        rejected = rejects_frame(prep.rejects)  # every reject is known from here on
        prep.add("quality_linking", quality_step(prep.datasets, prep.sources, rejected, raw, previous))
        t = lap("quality_linking", t)
        if risk_future is not None:
            try:
                risk_status, risk_frames = risk_future.result()
            except Exception as exc:  # a broken worker must not fail the build
                risk_status, risk_frames = _risk_in_worker(risk_inputs, listing, raw)
                risk_status += f" (worker process failed: {type(exc).__name__}; computed in the main process)"
        else:
            risk_status, risk_frames = _risk_in_worker(risk_inputs, listing, raw)
            risk_status += worker_note
        t = lap("risk_model_wait", t)
    prep.add("risk_model", StepResult(datasets=risk_frames))
    prep.add("rejects", StepResult(datasets={DS.REJETS: rejected}))
    prep.add("disclosure_audit", disclosure_audit(prep.datasets, threshold))
    t = lap("disclosure_audit", t)
    sources, rejects = prep.sources, prep.rejects
    # a reject is a line dropped, or a value corrected or set aside with its row kept
    corrected_values = sum(s.get("values_rejected", 0) for s in sources)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    except OSError as exc:
        raise BuildError(f"{out}: cannot write the prepared folder ({_write_problem(exc)})") from exc
    try:
        entries = _write(tmp, prep.datasets)
        demo_marker = raw / "demo.json"
        manifest = {
            "schema_version": SCHEMA_VERSION,
            "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "code_version": code_version(),
            "raw_dir": str(raw.resolve()),
            "demo": demo_marker.exists(),
            "sources": sources,
            "datasets": entries,
            "rejected_lines": len(rejects) - corrected_values,
            "corrected_values": corrected_values,
            "ignored": prep.ignored,
            "recovered": recovered,
            "missing_sources": prep.missing,
            "disclosure_threshold": threshold,
            **prep.report,
            "risk_model": risk_status,
            "build_seconds": round(time.perf_counter() - started, 3),
            "step_seconds": steps,
        }
        (tmp / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
        swap_in(tmp, out, staging=staging)
    except OSError as exc:  # e.g. a full disk: the previous prepared data is kept
        raise BuildError(f"{out}: cannot write the prepared data ({_write_problem(exc)})") from exc
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return manifest
