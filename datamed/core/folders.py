"""The prepared folder's layout: versions switched by one atomic symlink, and tidying
what a build or swap that died half-way left behind.

``data/prepared`` is a relative symbolic link to ``data/.prepared.versions/<version>``.
A build writes a complete new folder beside it, moves it into the versions folder and
replaces the link with one ``rename``: every reader (all app processes sharing the
folder) sees either the old version or the new one, never a mix and never nothing. The
last ``KEEP_VERSIONS`` versions are kept, so a page still reading the previous one
finishes on it, and an operator can roll back by pointing the link at an older one.

Kept apart from the build (no heavy imports): ``datamed serve`` calls ``recover``
before deciding whether there is data to serve.
"""

from __future__ import annotations

import os
import shutil
import time
from datetime import UTC, datetime
from pathlib import Path

STALE_SECONDS = 3600  # a temporary build folder untouched this long belongs to a build that died
KEEP_VERSIONS = 3  # the current version and the two before it
MANIFEST = "manifest.json"  # (datamed.datasets.MANIFEST; not imported: this module stays light)


def pid_alive(pid: int) -> bool:
    """Whether a process with this id exists (one owned by another user counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def versions_dir(out: Path) -> Path:
    """Where the versions behind the link ``out`` live."""
    out = Path(out)
    return out.parent / f".{out.name}.versions"


def versions(out: Path) -> list[Path]:
    """The complete versions of ``out`` (those holding a manifest), oldest first."""
    folder = versions_dir(out)
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_dir() and (p / MANIFEST).exists())


def current_version(out: Path) -> Path | None:
    """The version folder ``out`` points at (None when it is not a link, or dangles)."""
    out = Path(out)
    if not out.is_symlink() or not out.exists():
        return None
    return out.resolve()


def _new_version_name(now: datetime | None = None) -> str:
    """Names sort in time order: ``20261203T031500123456Z-<pid>``."""
    now = now or datetime.now(UTC)
    return f"{now:%Y%m%dT%H%M%S}{now.microsecond:06d}Z-{os.getpid()}"


def _point(out: Path, target: Path) -> None:
    """Make ``out`` a link to ``target`` in one rename (atomic on POSIX)."""
    link = out.parent / f".{out.name}.link-{os.getpid()}"
    link.unlink(missing_ok=True)
    link.symlink_to(os.path.relpath(target, out.parent))
    try:
        if out.is_dir() and not out.is_symlink():
            # a plain folder (the layout before versions): it becomes a version; between
            # this rename and the next, `recover` relinks the newest version if killed
            built = datetime.fromtimestamp((out / MANIFEST).stat().st_mtime if (out / MANIFEST).exists() else 0, UTC)
            os.replace(out, versions_dir(out) / f"{_new_version_name(built)}-previous")
        os.replace(link, out)
    finally:
        link.unlink(missing_ok=True)


def install(tmp: Path, out: Path, keep: int = KEEP_VERSIONS) -> Path:
    """Make the complete prepared folder ``tmp`` the current version of ``out``; return
    the version folder. On failure ``out`` still points at the previous version."""
    tmp, out = Path(tmp), Path(out)
    store = versions_dir(out)
    store.mkdir(parents=True, exist_ok=True)
    target = store / _new_version_name()
    os.replace(tmp, target)
    try:
        _point(out, target)
    except OSError:
        os.replace(target, tmp)  # the caller removes its temporary folder
        raise
    prune(out, keep)
    return target


def prune(out: Path, keep: int = KEEP_VERSIONS) -> list[str]:
    """Remove all but the newest ``keep`` versions (never the current one)."""
    current = current_version(out)
    folder = versions_dir(out)
    if not folder.is_dir():
        return []
    every = sorted(p for p in folder.iterdir() if p.is_dir())
    done = []
    for path in every[: max(len(every) - keep, 0)]:
        if current is not None and path.resolve() == current:
            continue
        shutil.rmtree(path, ignore_errors=True)
        done.append(f"{path.name}: old version removed")
    return done


def recover(out: Path) -> list[str]:
    """Undo what a build or swap killed half-way left behind, before anything reads or
    writes ``out``; return what was done (English, for logs).

    - ``out`` missing or dangling while complete versions exist: it is pointed at the
      newest one (the last good data, never the demo data instead);
    - link files of dead swaps, and temporary build or staging folders untouched for an
      hour, are removed.
    """
    out = Path(out)
    done: list[str] = []
    parent = out.parent
    if not parent.is_dir():
        return done
    for link in parent.glob(f".{out.name}.link-*"):
        pid = link.name.rsplit("-", 1)[-1]
        if pid.isdigit() and not pid_alive(int(pid)):
            link.unlink(missing_ok=True)
            done.append(f"{link.name}: removed (left by a swap that did not finish)")
    if not out.exists():
        complete = versions(out)
        if complete:
            if out.is_symlink():
                out.unlink()
            _point(out, complete[-1])
            done.append(f"{out}: pointed at {complete[-1].name} (a swap was interrupted)")
    now = time.time()
    stale = [p for p in parent.glob(f".{out.name}.tmp-*") if now - p.stat().st_mtime > STALE_SECONDS]
    stale += [p for p in parent.glob(f".{out.name}.staging") if now - p.stat().st_mtime > STALE_SECONDS]
    for path in stale:
        shutil.rmtree(path, ignore_errors=True)
        done.append(f"{path.name}: removed (left by a build that did not finish)")
    return done
