"""Synthetic availability series (made by ``datamed.demo.snapshots``) handled as real
ones: read by the BDPM reader (``snapshot_frame``) or archived as ``refresh`` would
(``archive_series``). For tests, benches and the risk notebook; nothing here is real."""

from __future__ import annotations

import tempfile
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl

from datamed.sources import archive
from datamed.sources.bdpm import read_bdpm_file


def snapshot_frame(series: list[tuple[date, str]]) -> pl.DataFrame:
    """The availability lines of ``series`` as the build reads them (one ``snapshot`` per day)."""
    frames = []
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "CIS_CIP_Dispo_Spec.txt"
        for day, text in series:
            path.write_bytes(text.encode("cp1252"))
            frames.append(read_bdpm_file(path).frame.with_columns(pl.lit(day).alias("snapshot")))
    return pl.concat(frames)


def archive_series(raw: Path, series: list[tuple[date, str]]) -> int:
    """Archive every (date, text) of ``series`` into ``raw`` as ``refresh`` would (fetched at
    05:00 UTC that day); returns how many files were archived."""
    with tempfile.TemporaryDirectory() as folder:
        scratch = Path(folder) / "CIS_CIP_Dispo_Spec.txt"
        for day, text in series:
            scratch.write_bytes(text.encode("cp1252"))
            archive.archive(raw, scratch, datetime(day.year, day.month, day.day, 5, 0, tzinfo=UTC))
    return len(series)
