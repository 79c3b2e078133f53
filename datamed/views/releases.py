"""Reading the open-data release folder (history and latest version), for the app and the release."""

from __future__ import annotations

import json
from pathlib import Path

HISTORY = "history.json"
LATEST = "LATEST"


class ReleaseHistoryError(ValueError):
    """``history.json`` cannot be read."""


def read_history(out: Path) -> list[dict]:
    path = Path(out) / HISTORY
    if not path.exists():
        return []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ReleaseHistoryError(f"{path}: unreadable release history ({exc}); fix or remove it") from exc
    return data if isinstance(data, list) else []


def latest_release(out: Path) -> Path | None:
    out = Path(out)
    marker = out / LATEST
    if marker.exists():
        folder = out / marker.read_text(encoding="utf-8").strip()
        if (folder / "datapackage.json").exists():
            return folder
    return None
