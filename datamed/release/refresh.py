"""``python -m datamed refresh``: download -> build -> quality gate -> publish, for cron or CI.

- Idempotent: a run on unchanged sources publishes nothing new (exit 0).
- Safe: the new data is built into a staging folder; the prepared folder the app
  reads and the last good release are only replaced once every gate passed.
- Observable: every step is timed and logged (``<releases>/logs/refresh.log``,
  one line per event, and ``last_refresh.json`` with the whole run).
- Exclusive: a lock file stops two refreshes from overlapping.

Exit codes (``EXIT``): 0 published or unchanged, 1 failure (download, build,
write), 2 usage, 3 stopped by a quality gate, 4 stopped by the disclosure gate,
5 another refresh is running.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
import tomllib
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from datamed.core.folders import pid_alive
from datamed.datasets import quality
from datamed.pipeline.build import BuildError, build, swap_in
from datamed.release.publish import DisclosureLeak, PublishError, latest_release, publish
from datamed.release.publish import validate as validate_release
from datamed.sources.download import DownloadError
from datamed.sources.download import download as fetch

EXIT = {"published": 0, "unchanged": 0, "error": 1, "usage": 2, "quality_gate": 3, "disclosure_gate": 4, "locked": 5}
LOCK = ".refresh.lock"


@dataclass
class Gates:
    """Thresholds that stop a refresh and keep the last good release."""

    max_cis_drop: float = 0.05  # share of CIS lost vs the last good data
    # rise of the referential-integrity failure rate over the last good data; an absolute
    # limit would block every real refresh: the official files carry ~7.6 % structural
    # failures (CIS of CIS_GENER / HAS files absent from CIS_bdpm)
    max_integrity_failures: float = 0.01
    max_rejected_share: float = 0.01  # rejected raw lines / lines read
    max_blocking_failures: int = 0  # failed checks of gravity "bloquante"

    @classmethod
    def from_file(cls, path: Path) -> Gates:
        """Read gates from a TOML file (keys as the field names)."""

        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        unknown = set(data) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"{path}: unknown gate(s) {sorted(unknown)}; known: {sorted(cls.__dataclass_fields__)}")
        return cls(**{k: type(getattr(cls(), k))(v) for k, v in data.items()})


@dataclass
class RefreshResult:
    status: str  # published | unchanged | error | quality_gate | disclosure_gate | locked
    message: str
    exit_code: int
    version: str | None = None
    steps: dict[str, float] = field(default_factory=dict)
    gates: list[dict] = field(default_factory=list)
    started_at: str = ""


def _logger(releases: Path) -> logging.Logger:
    log_dir = releases / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    logger = logging.getLogger(f"datamed.release.refresh.{releases.resolve()}")
    logger.setLevel(logging.INFO)
    logger.propagate = False
    if not logger.handlers:
        handler = logging.FileHandler(log_dir / "refresh.log", encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        logger.addHandler(handler)
    return logger


class _Lock:
    def __init__(self, path: Path):
        self.path = path
        self.held = False

    def __enter__(self):
        try:
            fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            pid = self.path.read_text(encoding="utf-8").strip() if self.path.exists() else ""
            if pid.isdigit() and not pid_alive(int(pid)):
                self.path.unlink(missing_ok=True)  # stale lock of a dead run
                return self.__enter__()
            return self
        with os.fdopen(fd, "w") as fh:
            fh.write(str(os.getpid()))
        self.held = True
        return self

    def __exit__(self, *exc):
        if self.held:
            self.path.unlink(missing_ok=True)


def evaluate_gates(staging: Path, reference: Path | None, gates: Gates) -> list[dict]:
    """Each gate with its measured value and verdict; ``reference`` is the last good
    prepared data (or None on the first run)."""
    manifest = json.loads((staging / "manifest.json").read_text(encoding="utf-8"))
    results = []

    def gate(name: str, value: float, limit: float, passed: bool, detail: str) -> None:
        results.append({"gate": name, "value": value, "limit": limit, "passed": passed, "detail": detail})

    new_cis = pl.read_parquet(staging / "specialites.parquet", columns=["cis"]).height
    if reference is not None and (reference / "specialites.parquet").exists():
        old_cis = pl.read_parquet(reference / "specialites.parquet", columns=["cis"]).height
        drop = (old_cis - new_cis) / old_cis if old_cis else 0.0
        gate(
            "max_cis_drop",
            round(drop, 4),
            gates.max_cis_drop,
            drop <= gates.max_cis_drop,
            f"CIS: {old_cis} -> {new_cis}",
        )
    else:
        gate("max_cis_drop", 0.0, gates.max_cis_drop, True, f"CIS: {new_cis} (no previous data to compare)")
    q = pl.read_parquet(staging / "qualite.parquet") if (staging / "qualite.parquet").exists() else None
    if q is not None:
        rate = quality.integrity_failure_rate(q)
        old_q = reference / "qualite.parquet" if reference is not None else None
        if old_q is not None and old_q.exists():
            before = quality.integrity_failure_rate(pl.read_parquet(old_q))
            rise = rate - before
            gate(
                "max_integrity_failures",
                round(rise, 4),
                gates.max_integrity_failures,
                rise <= gates.max_integrity_failures,
                f"referential-integrity failure rate {rate:.2%} (last good data {before:.2%})",
            )
        else:
            gate(
                "max_integrity_failures",
                0.0,
                gates.max_integrity_failures,
                True,
                f"referential-integrity failure rate {rate:.2%}; no last good data to compare with",
            )
        blocking = q.filter((pl.col("gravite") == "bloquante") & (pl.col("statut") == "échoué"))
        gate(
            "max_blocking_failures",
            blocking.height,
            gates.max_blocking_failures,
            blocking.height <= gates.max_blocking_failures,
            ", ".join(f"{r['jeu']}:{r['controle']}" for r in blocking.head(5).iter_rows(named=True)) or "none",
        )
    lines = sum(s.get("lines", 0) for s in manifest["sources"])
    rejected = sum(s.get("rejected", 0) for s in manifest["sources"])
    share = rejected / lines if lines else 0.0
    gate(
        "max_rejected_share",
        round(share, 5),
        gates.max_rejected_share,
        share <= gates.max_rejected_share,
        f"{rejected} of {lines} raw lines rejected",
    )
    return results


def refresh(
    raw: Path,
    prepared: Path,
    releases: Path,
    *,
    url: str | None = None,
    download: bool = True,
    gates: Gates | None = None,
    validate: bool = False,
    timeout: float = 30,
    echo=print,
) -> RefreshResult:
    raw, prepared, releases = Path(raw), Path(prepared), Path(releases)
    gates = gates or Gates()
    releases.mkdir(parents=True, exist_ok=True)
    log = _logger(releases)
    started = datetime.now(UTC).isoformat(timespec="seconds")
    steps: dict[str, float] = {}
    result = RefreshResult("error", "", EXIT["error"], started_at=started)

    def say(message: str, level=logging.INFO) -> None:
        log.log(level, message)
        echo(message)

    def finish(status: str, message: str, **extra) -> RefreshResult:
        result.status, result.message, result.exit_code = status, message, EXIT[status]
        result.steps = steps
        for k, v in extra.items():
            setattr(result, k, v)
        say(f"refresh {status}: {message}", logging.INFO if result.exit_code == 0 else logging.ERROR)
        record = asdict(result)
        try:
            (releases / "logs" / "last_refresh.json").write_text(
                json.dumps(record, ensure_ascii=False, indent=2), encoding="utf-8"
            )
        except OSError as exc:  # the disk that failed the refresh may fail this too
            say(f"cannot write last_refresh.json ({exc.strerror or exc})", logging.ERROR)
        return result

    with _Lock(releases / LOCK) as lock:
        if not lock.held:
            return finish("locked", f"another refresh holds {releases / LOCK}")
        say(f"refresh started: raw={raw} prepared={prepared} releases={releases}")
        try:
            t = time.perf_counter()
            if download:
                try:
                    got = fetch(raw, url=url, timeout=timeout)
                except DownloadError as exc:
                    steps["download"] = round(time.perf_counter() - t, 3)
                    return finish("error", f"download failed, nothing changed: {exc}")
                say(
                    f"downloaded {len(got.files)} file(s) into {got.folder}"
                    + (f"; not available: {', '.join(got.missing)}" if got.missing else "")
                    + (
                        f"; availability snapshot {'archived' if got.archived_new else 'already archived today'}: "
                        f"{got.archived.name}"
                        if got.archived
                        else ""
                    )
                )
            steps["download"] = round(time.perf_counter() - t, 3)

            t = time.perf_counter()
            staging = prepared.with_name(f".{prepared.name}.staging")
            if staging.exists():
                shutil.rmtree(staging)
            try:
                manifest = build(raw, staging, previous=prepared if prepared.exists() else None, staging=True)
            except BuildError as exc:
                steps["build"] = round(time.perf_counter() - t, 3)
                shutil.rmtree(staging, ignore_errors=True)
                return finish("error", f"build failed, previous data and release kept: {exc}")
            steps["build"] = round(time.perf_counter() - t, 3)
            say(
                f"built {len(manifest['datasets'])} datasets in {manifest['build_seconds']:.2f} s ({manifest['rejected_lines']} rejected line(s))"
            )

            t = time.perf_counter()

            reference = prepared if (prepared / "manifest.json").exists() else None
            verdicts = evaluate_gates(staging, reference, gates)
            steps["quality_gate"] = round(time.perf_counter() - t, 3)
            for v in verdicts:
                say(
                    f"gate {v['gate']}: {v['value']} (limit {v['limit']}) {'ok' if v['passed'] else 'FAILED'} - {v['detail']}"
                )
            failed = [v for v in verdicts if not v["passed"]]
            if failed:
                shutil.rmtree(staging, ignore_errors=True)
                last = latest_release(releases)
                kept = f"last good release {last.name} kept" if last else "no release published"
                return finish(
                    "quality_gate",
                    f"{', '.join(v['gate'] for v in failed)} failed; previous data and {kept}",
                    gates=verdicts,
                )

            t = time.perf_counter()
            try:
                release = publish(staging, releases, threshold=manifest.get("disclosure_threshold"))
            except DisclosureLeak as exc:
                steps["publish"] = round(time.perf_counter() - t, 3)
                shutil.rmtree(staging, ignore_errors=True)
                return finish("disclosure_gate", str(exc), gates=verdicts)
            except PublishError as exc:
                steps["publish"] = round(time.perf_counter() - t, 3)
                shutil.rmtree(staging, ignore_errors=True)
                return finish("error", f"publish failed, previous data and release kept: {exc}", gates=verdicts)
            steps["publish"] = round(time.perf_counter() - t, 3)
            if validate and release.created:
                t = time.perf_counter()
                errors = validate_release(release.folder)
                steps["validate"] = round(time.perf_counter() - t, 3)
                if errors:
                    say(f"frictionless: {len(errors)} error(s), first: {errors[0]}", logging.ERROR)
                    return finish(
                        "error",
                        f"release {release.version} does not validate ({len(errors)} errors)",
                        gates=verdicts,
                        version=release.version,
                    )

            t = time.perf_counter()
            swap_in(staging, prepared)
            steps["swap"] = round(time.perf_counter() - t, 3)
            say(f"prepared data updated in {prepared}")
            return finish(
                "published" if release.created else "unchanged",
                release.message,
                gates=verdicts,
                version=release.version,
            )
        except OSError as exc:  # a full disk, a folder turned read-only: one line, logged, nothing swapped
            shutil.rmtree(prepared.with_name(f".{prepared.name}.staging"), ignore_errors=True)
            where = f"{exc.filename}: " if exc.filename else ""
            return finish("error", f"file system error ({where}{exc.strerror or exc}); previous data and release kept")
