"""Shared fixtures: real data from ../shared/data, the bundled demo data, and
prepared folders built from each (once per test run).

Under pytest-xdist (`-n 2`, the fast tier) every worker is its own session; the
prepared folders are then built once, by whichever worker comes first, into the
run's shared base temp folder, under a file lock, and the other workers reuse them.
Tests only read these folders (tests that modify prepared data copy them first)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from filelock import FileLock

# every chart drawn in the tests (AppTest in-process, the browser tests' servers) passes
# Altair's schema check, which page runs skip (datamed/ui/charting.py)
os.environ["DATAMED_VALIDATE_CHARTS"] = "1"

from datamed.core.config import DEMO_RAW_DIR, REPO_ROOT
from datamed.demo.snapshots import daily_snapshots, structured_hazard
from datamed.pipeline.build import build
from datamed.sources.synthetic import archive_series
from datamed.store import Store


def _shared_dir() -> Path:
    return Path(os.environ.get("DATAMED_SHARED", REPO_ROOT.parent / "shared" / "data")).resolve()


SHARED_DIR = _shared_dir()


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    path = SHARED_DIR
    if not (path / "bdpm").is_dir():
        pytest.skip(f"real data not found at {path} (set DATAMED_SHARED)")
    return path


def _built_once(name: str, raw: Path, tmp_path_factory, worker_id: str, make_raw=None) -> Path:
    """The prepared folder built from `raw`, built once per run even across xdist workers.

    With ``make_raw(folder)``, the raw folder is first made there (``raw`` is ignored)."""
    if worker_id == "master":  # plain pytest: one session
        root = tmp_path_factory.mktemp(name)
        out = root / "prepared"
        if make_raw is not None:
            raw = root / "raw"
            make_raw(raw)
        build(raw, out)
        return out
    root = tmp_path_factory.getbasetemp().parent  # shared by every worker of this run
    out = root / name / "prepared"
    with FileLock(str(root / f"{name}.lock")):
        if not (out / "manifest.json").exists():
            if make_raw is not None:
                raw = root / name / "raw"
                shutil.rmtree(raw, ignore_errors=True)
                make_raw(raw)
            build(raw, out)
    return out


#: in the long demo archive, a newer catalogue (dated inside the archive) withdraws these
#: medicines, so earlier cutoffs must still see them (the catalogue as it was)
WITHDRAWN_LATER = 5


def long_archive_raw(
    source: Path, folder: str, days: int = 730, structured: bool = True, newer: str | None = None, **grow
) -> Callable:
    """A maker of a raw folder: the BDPM catalogue of ``source/bdpm/<folder>`` (and its ATC
    files) plus a weekly availability archive grown over ``days`` days from its file,
    with the hidden risk structure of ``structured_hazard`` (uniform risk otherwise).
    With ``newer`` (a date), a copy of the catalogue dated then, in which the first
    ``WITHDRAWN_LATER`` marketed medicines are no longer marketed."""

    def make(raw: Path) -> None:
        src = source / "bdpm" / folder
        shutil.copytree(src, raw / "bdpm" / folder)
        if newer:
            later = raw / "bdpm" / newer
            later.mkdir()
            for name in ("CIS_CIP_bdpm.txt", "CIS_GENER_bdpm.txt"):
                shutil.copy(src / name, later / name)
            rows, changed = [], 0
            for line in (src / "CIS_bdpm.txt").read_bytes().decode("cp1252").splitlines():
                cells = line.split("\t")
                if changed < WITHDRAWN_LATER and len(cells) > 6 and cells[6] == "Commercialisée":
                    cells[6], changed = "Non commercialisée", changed + 1
                rows.append("\t".join(cells))
            (later / "CIS_bdpm.txt").write_bytes(("\r\n".join(rows) + "\r\n").encode("cp1252"))
        if (source / "atc").is_dir():
            shutil.copytree(source / "atc", raw / "atc")
        first = (src / "CIS_CIP_Dispo_Spec.txt").read_bytes().decode("cp1252")
        catalogue, weights = structured_hazard((src / "CIS_bdpm.txt").read_bytes().decode("cp1252"))
        start = date.fromisoformat(folder)
        series = daily_snapshots(
            first, start, days, catalogue, weights=weights if structured else None, every=7, **grow
        )
        archive_series(raw, series[1:])  # the first is the file already in bdpm/<folder>

    return make


@pytest.fixture(scope="session")
def real_prepared(shared_dir, tmp_path_factory, worker_id) -> Path:
    return _built_once("real", shared_dir, tmp_path_factory, worker_id)


@pytest.fixture(scope="session")
def demo_raw() -> Path:
    assert (DEMO_RAW_DIR / "demo.json").exists(), "bundled demo data missing: run python -m datamed demo"
    return DEMO_RAW_DIR


@pytest.fixture(scope="session")
def demo_prepared(demo_raw, tmp_path_factory, worker_id) -> Path:
    return _built_once("demo", demo_raw, tmp_path_factory, worker_id)


@pytest.fixture(scope="session")
def long_demo_prepared(demo_raw, tmp_path_factory, worker_id) -> Path:
    """The demo catalogue with two years of weekly availability snapshots and a newer
    catalogue dated 01/03/2027 (the risk model is evaluated with the catalogue as it
    was; on about 290 marketed medicines it does not beat the baselines)."""
    make = long_archive_raw(demo_raw, "2026-01-15", newer="2027-03-01", new_per_day=(0, 1), seed=21)
    return _built_once("long_demo", demo_raw, tmp_path_factory, worker_id, make)


@pytest.fixture(scope="session")
def long_real_prepared(shared_dir, tmp_path_factory, worker_id) -> Path:
    """The real catalogue with two years of weekly availability snapshots grown from the
    real file, with a learnable risk structure: the risk model is shown."""
    return _built_once("long_real", shared_dir, tmp_path_factory, worker_id, long_archive_raw(shared_dir, "2026-01-27"))


@pytest.fixture(scope="session")
def real_store(real_prepared) -> Store:
    return Store(real_prepared)


@pytest.fixture(scope="session")
def demo_store(demo_prepared) -> Store:
    return Store(demo_prepared)
