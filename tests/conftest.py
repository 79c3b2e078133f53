"""Shared fixtures: real data from ../shared/data, the bundled demo data, and
prepared folders built from each (once per test run).

Under pytest-xdist (`-n 2`, the fast tier) every worker is its own session; the
prepared folders are then built once, by whichever worker comes first, into the
run's shared base temp folder, under a file lock, and the other workers reuse them.
Tests only read these folders (tests that modify prepared data copy them first)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from filelock import FileLock

from datamed.core.config import DEMO_RAW_DIR, REPO_ROOT
from datamed.pipeline.build import build
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


def _built_once(name: str, raw: Path, tmp_path_factory, worker_id: str) -> Path:
    """The prepared folder built from `raw`, built once per run even across xdist workers."""
    if worker_id == "master":  # plain pytest: one session
        out = tmp_path_factory.mktemp(name) / "prepared"
        build(raw, out)
        return out
    root = tmp_path_factory.getbasetemp().parent  # shared by every worker of this run
    out = root / name / "prepared"
    with FileLock(str(root / f"{name}.lock")):
        if not (out / "manifest.json").exists():
            build(raw, out)
    return out


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
def real_store(real_prepared) -> Store:
    return Store(real_prepared)


@pytest.fixture(scope="session")
def demo_store(demo_prepared) -> Store:
    return Store(demo_prepared)
