"""Tidying a prepared folder's surroundings after a build or swap that died half-way.

Kept apart from the build (no heavy imports): ``datamed serve`` calls ``recover``
before deciding whether there is data to serve.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

STALE_SECONDS = 3600  # a temporary build folder untouched this long belongs to a build that died


def pid_alive(pid: int) -> bool:
    """Whether a process with this id exists (one owned by another user counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def recover(out: Path) -> list[str]:
    """Undo what a build or swap killed half-way left behind, before anything reads or
    writes ``out``; return what was done (English, for logs).

    - ``out`` missing while a backup of a dead swap exists (``.<name>.old-<pid>``):
      the backup is the last good data, renamed back;
    - backups of dead swaps, and temporary build or staging folders untouched for an
      hour, are removed.
    """
    out = Path(out)
    done: list[str] = []
    parent = out.parent
    if not parent.is_dir():
        return done
    backups = []
    for path in parent.glob(f".{out.name}.old-*"):
        pid = path.name.rsplit("-", 1)[-1]
        if pid.isdigit() and not pid_alive(int(pid)):
            backups.append(path)
    backups.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    if backups and not out.exists():
        os.replace(backups[0], out)
        done.append(f"{out}: restored from {backups[0].name} (a swap was interrupted)")
        backups = backups[1:]
    now = time.time()
    stale = [p for p in parent.glob(f".{out.name}.tmp-*") if now - p.stat().st_mtime > STALE_SECONDS]
    stale += [p for p in parent.glob(f".{out.name}.staging") if now - p.stat().st_mtime > STALE_SECONDS]
    for path in [*backups, *stale]:
        shutil.rmtree(path, ignore_errors=True)
        done.append(f"{path.name}: removed (left by a build that did not finish)")
    return done
