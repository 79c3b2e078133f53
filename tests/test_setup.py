"""Set-up on stock Debian: `.ci/setup` in a fresh copy of the repository.

Debian's own /usr/bin/python3 (3.11, "externally managed", PEP 668) creates the
virtual environment; the lock (requirements.txt) and DataMed (editable) are
installed in it; the console script and the app's route table then work. pip's
cache makes this take about a minute or two; a second run is a no-op.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from datamed.core.config import REPO_ROOT

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1500)]

DEBIAN_PYTHON = Path("/usr/bin/python3")
INSTALL_TIMEOUT = 1200  # seconds: the whole lock, from pip's cache or PyPI
RUN_TIMEOUT = 120

# Not part of a fresh checkout: local environments, caches, built and downloaded data.
_IGNORE = shutil.ignore_patterns(
    ".git", ".venv", "__pycache__", "*.pyc", ".pytest_cache", ".hypothesis", ".ruff_cache", "*.egg-info"
)
_IGNORE_DATA = {"prepared", "raw", "releases"}


def _ignore(folder: str, names: list[str]) -> set[str]:
    ignored = set(_IGNORE(folder, names))
    if Path(folder) == REPO_ROOT / "data":
        ignored |= _IGNORE_DATA & set(names)
        ignored |= {n for n in names if n.startswith(".prepared")}
    if Path(folder) == REPO_ROOT / "bench":
        ignored.add("results")
    return ignored


def _debian_python_can_make_venvs(tmp: Path) -> str | None:
    """None when /usr/bin/python3 is a Python >= 3.11 that can create a venv with pip, else why not."""
    if not DEBIAN_PYTHON.exists():
        return f"{DEBIAN_PYTHON} not found (not a Debian machine?)"
    probe = subprocess.run(
        [str(DEBIAN_PYTHON), "-c", "import sys; print(sys.version_info >= (3, 11))"],
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
    )
    if probe.stdout.strip() != "True":
        return f"{DEBIAN_PYTHON} is not Python >= 3.11"
    made = subprocess.run(
        [str(DEBIAN_PYTHON), "-m", "venv", str(tmp / "probe")], capture_output=True, text=True, timeout=RUN_TIMEOUT
    )
    if made.returncode != 0:
        return f"{DEBIAN_PYTHON} -m venv is unavailable (apt-get install python3-venv): {made.stderr.strip()[-300:]}"
    return None


def _pins(text: str) -> set[tuple[str, str]]:
    """(normalised name, version) of each `name==version` line (comments and options skipped)."""
    pins = set()
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, version = line.split("==", 1)
            pins.add((re.sub(r"[-_.]+", "-", name.strip()).lower(), version.strip()))
    return pins


def _run(cmd: list[str], cwd: Path, env: dict[str, str], timeout: float) -> subprocess.CompletedProcess:
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, (
        f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    )
    return done


def test_setup_on_debian_python(tmp_path):
    why_not = _debian_python_can_make_venvs(tmp_path)
    if why_not:
        pytest.skip(why_not)

    repo = tmp_path / "checkout"
    shutil.copytree(REPO_ROOT, repo, ignore=_ignore, symlinks=True)
    assert (repo / ".ci" / "setup").exists() and (repo / "requirements.txt").exists()

    env = {k: v for k, v in os.environ.items() if k not in {"VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME"}}
    env.update(PYTHON=str(DEBIAN_PYTHON), DATAMED_VENV=".venv", PIP_NO_INPUT="1")
    # The venv must be the only Python on the way: drop the test runner's venv from PATH.
    runner_bin = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if p and p != runner_bin)

    _run(["bash", ".ci/setup"], repo, env, INSTALL_TIMEOUT)
    venv = repo / ".venv"
    cfg = (venv / "pyvenv.cfg").read_text()
    assert "include-system-site-packages = false" in cfg
    assert f"home = {DEBIAN_PYTHON.parent}" in cfg, cfg

    # The console script of pyproject.toml, from the editable install of this copy.
    helped = _run([str(venv / "bin" / "datamed"), "--help"], repo, env, RUN_TIMEOUT)
    assert "serve" in helped.stdout and "build" in helped.stdout
    where = _run(
        [str(venv / "bin" / "python"), "-c", "import datamed.ui.routes as r; print(r.__file__)"],
        tmp_path,  # not the repository root: the package must come from the install, not the current folder
        env,
        RUN_TIMEOUT,
    )
    assert Path(where.stdout.strip()).resolve().is_relative_to(repo.resolve()), where.stdout
    # Exactly the lock is installed: every pinned version, nothing else, no broken requirement.
    _run([str(venv / "bin" / "python"), "-m", "pip", "check"], repo, env, RUN_TIMEOUT)
    frozen = _run([str(venv / "bin" / "python"), "-m", "pip", "freeze", "--exclude-editable"], repo, env, RUN_TIMEOUT)
    installed = _pins(frozen.stdout)  # pip freeze leaves out pip and setuptools
    assert installed == _pins((repo / "requirements.txt").read_text()), "installed packages differ from the lock"
    ruff = _run([str(venv / "bin" / "ruff"), "--version"], repo, env, RUN_TIMEOUT)
    assert ruff.stdout.split()[-1] in (repo / "requirements.txt").read_text()

    # Idempotent: a second run installs nothing.
    again = _run(["bash", ".ci/setup"], repo, env, RUN_TIMEOUT)
    assert "up to date" in again.stdout
