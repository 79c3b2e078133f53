"""The one access module to prepared data.

Pages never read Parquet themselves: they get a ``Store`` (cached once per
process by the app) and call query functions with it. The store loads each
dataset lazily, once, as a read-only polars DataFrame.
"""

from __future__ import annotations

import json
import threading
from datetime import date
from pathlib import Path

import polars as pl

from datamed.datasets import DS, MANIFEST


class DataUnavailable(Exception):
    """No prepared data, and none could be built."""


class Store:
    def __init__(self, folder: Path):
        # the version folder behind the `prepared` link, resolved once: every dataset of
        # this store comes from the same version even if a refresh switches the link
        self.folder = Path(folder).resolve()
        path = self.folder / MANIFEST
        if not path.exists():
            raise DataUnavailable(f"{self.folder}: no {MANIFEST}; run `python3 -m datamed build --raw DIR`")
        self.manifest: dict = json.loads(path.read_text(encoding="utf-8"))
        self._frames: dict[str, pl.DataFrame] = {}
        self._lock = threading.Lock()
        self._cache: dict = {}
        self._released = False

    def release(self) -> None:
        """Drop the datasets and derived values held in memory (the app calls this when
        the version is evicted from its cache). A page run still using the store keeps
        working: it reads from disk, without keeping what it reads."""
        with self._lock:
            self._released = True
            self._frames.clear()
            self._cache.clear()

    # --- datasets -------------------------------------------------------------
    def has(self, name: DS | str) -> bool:
        return DS.of(name) in self.manifest.get("datasets", {})

    def table(self, name: DS | str) -> pl.DataFrame:
        """A prepared dataset (``UnknownDataset`` for a name the registry does not know);
        an empty frame when this build did not write it (e.g. an optional source absent)."""
        name = DS.of(name)
        frame = self._frames.get(name)
        if frame is None:
            with self._lock:
                frame = self._frames.get(name)
                if frame is None:
                    entry = self.manifest.get("datasets", {}).get(name)
                    try:
                        frame = pl.read_parquet(self.folder / entry["file"]) if entry else pl.DataFrame()
                    except FileNotFoundError as exc:  # a version pruned under a page that still read it
                        raise DataUnavailable(f"{self.folder}: {entry['file']} is gone") from exc
                    if not self._released:
                        self._frames[name] = frame
        return frame

    def memo(self, key, compute):
        """Cache a derived value for the life of the store (thread-safe enough)."""
        if key not in self._cache:
            value = compute()
            with self._lock:
                if self._released:
                    return value
                self._cache.setdefault(key, value)
        return self._cache[key]

    # --- manifest facts ---------------------------------------------------------
    @property
    def is_demo(self) -> bool:
        return bool(self.manifest.get("demo"))

    def snapshots(self) -> list[dict]:
        """One entry per source file used: what, snapshot date, rows, rejects."""
        return list(self.manifest.get("sources", []))

    def snapshot_of(self, dataset: str) -> date | None:
        dates = []
        for s in self.manifest.get("sources", []):
            if s.get("dataset") == dataset and s.get("snapshot"):
                try:
                    dates.append(date.fromisoformat(s["snapshot"]))
                except ValueError:  # a year or a month only
                    continue
        return max(dates) if dates else None

    def built_at(self) -> str:
        return self.manifest.get("built_at", "")
