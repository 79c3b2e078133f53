"""Shared fixtures: real data from ../shared/data, the bundled demo data, and
prepared folders built from each (once per session)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

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


@pytest.fixture(scope="session")
def real_prepared(shared_dir, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("real") / "prepared"
    build(shared_dir, out)
    return out


@pytest.fixture(scope="session")
def demo_raw() -> Path:
    assert (DEMO_RAW_DIR / "demo.json").exists(), "bundled demo data missing: run python -m datamed demo"
    return DEMO_RAW_DIR


@pytest.fixture(scope="session")
def demo_prepared(demo_raw, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("demo") / "prepared"
    build(demo_raw, out)
    return out


@pytest.fixture(scope="session")
def real_store(real_prepared) -> Store:
    return Store(real_prepared)


@pytest.fixture(scope="session")
def demo_store(demo_prepared) -> Store:
    return Store(demo_prepared)
