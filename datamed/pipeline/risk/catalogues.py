"""The catalogue as it was at a cutoff, where a dated BDPM snapshot exists.

``download`` keeps each day's catalogue under ``bdpm/<date>/``; the build reads
the newest. For a cutoff T, the risk model takes its catalogue attributes
(population, holder, form, route, authorisation, presentations, generic group)
from the newest snapshot dated on or before T. When only the current catalogue
exists on or before T (or none at all), the current one is used, filtered by the
dates it carries (authorisation, presentation declaration). The MITM list and the
ATC classes are never dated: the oldest snapshots have no MITM file, and the ATC
deduction needs the compositions.
"""

from __future__ import annotations

import bisect
from datetime import date
from pathlib import Path

import polars as pl

from datamed.datasets import DS
from datamed.sources.bdpm import SPEC_BY_KEY, read_bdpm_file
from datamed.sources.textfile import RawFileError

#: the catalogue files read from a dated snapshot, and the dataset each one stands for
DATED_FILES = {"CIS_bdpm": DS.SPECIALITES, "CIS_CIP_bdpm": DS.PRESENTATIONS, "CIS_GENER_bdpm": DS.GENERIQUES}


def older_snapshots(listing: dict[str, dict[str, str]] | None, raw: Path) -> list[tuple[date, dict[str, Path]]]:
    """The dated catalogue snapshots older than the newest, from the build's
    ``catalogue_snapshots`` listing ({date: {file key: path relative to raw}}).
    A folder without ``CIS_bdpm`` is not a catalogue snapshot."""
    if not listing:
        return []
    dated = sorted((date.fromisoformat(d), files) for d, files in listing.items() if "CIS_bdpm" in files)
    return [(d, {k: raw / rel for k, rel in files.items()}) for d, files in dated[:-1]]


def catalogue_date(listing: dict[str, dict[str, str]] | None) -> date | None:
    """Date of the current (newest) catalogue snapshot."""
    dated = [date.fromisoformat(d) for d, files in (listing or {}).items() if "CIS_bdpm" in files]
    return max(dated) if dated else None


def catalogues_as_of(
    older: list[tuple[date, dict[str, Path]]], dates: list[date], current: date | None
) -> tuple[dict[date, dict[str, pl.DataFrame]], dict[date, date], list[str]]:
    """For each cutoff whose newest catalogue snapshot on or before it is an *older*
    one (not ``current``, the date of the catalogue the build read): that snapshot's
    datasets (``DATED_FILES``). Returns them by cutoff, the snapshot date used by
    cutoff, and the snapshots that could not be read (set aside, said)."""
    if not older:
        return {}, {}, []
    if current is not None:
        dates = [d for d in dates if d < current]
    older = sorted(older, key=lambda x: x[0])
    days = [d for d, _ in older]
    by_cutoff: dict[date, dict[str, pl.DataFrame]] = {}
    used: dict[date, date] = {}
    cache: dict[date, dict[str, pl.DataFrame] | None] = {}
    problems: list[str] = []
    for cutoff in dates:
        i = bisect.bisect_right(days, cutoff) - 1
        if i < 0:
            continue
        snap, files = older[i]  # the newest older snapshot on or before the cutoff
        if snap not in cache:
            cache[snap] = _read(files, problems, snap)
        if cache[snap] is not None:
            by_cutoff[cutoff] = cache[snap]
            used[cutoff] = snap
    return by_cutoff, used, problems


def _read(files: dict[str, Path], problems: list[str], snap: date) -> dict[str, pl.DataFrame] | None:
    out = {}
    for key, dataset in DATED_FILES.items():
        path = files.get(key)
        if path is None:
            continue
        try:
            out[dataset] = read_bdpm_file(path, SPEC_BY_KEY[key]).frame
        except (RawFileError, OSError, pl.exceptions.PolarsError) as exc:
            problems.append(f"{path.name} of {snap.isoformat()}: {exc}")
            return None
    return out if DS.SPECIALITES in out else None
