"""Issue-14 targets: a build over 60 daily availability snapshots of the real size.

Usage::

    python bench/bench_snapshots.py [--raw ../shared/data] [--days 60] [--runs 3]

Grows 60 daily snapshots (``datamed.demo.snapshots``) from the real availability
file, archives them in a scratch raw folder beside the real BDPM catalogue and
ATC files, then prints (asserts nothing):
- the episode step alone (``build_episodes`` over every snapshot; target <= 3 s);
- the whole build of that raw folder, in a child process (target <= 10 s);
- the shortage page's server-side script time, cold and warm (target <= 300 ms warm);
- the episode figures: episodes, returns, withdrawals, reopenings, current.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl

from datamed.demo.snapshots import daily_snapshots
from datamed.pipeline.build import build, read_bdpm_atc
from datamed.pipeline.episodes import build_episodes
from datamed.sources import archive

ROOT = Path(__file__).resolve().parents[1]


def make_raw(shared: Path, target: Path, days: int) -> Path:
    src = shared / "bdpm" / "2026-01-27"
    (target / "bdpm" / "2026-01-27").mkdir(parents=True)
    for f in src.iterdir():
        if f.name != "CIS_CIP_Dispo_Spec.txt":
            shutil.copy(f, target / "bdpm" / "2026-01-27" / f.name)
    if (shared / "atc").is_dir():
        shutil.copytree(shared / "atc", target / "atc")
    first = (src / "CIS_CIP_Dispo_Spec.txt").read_bytes().decode("cp1252")
    catalogue = [ln.split("\t")[0] for ln in (src / "CIS_bdpm.txt").read_bytes().decode("cp1252").splitlines() if ln]
    scratch = target / ".scratch.txt"
    for day, text in daily_snapshots(first, date(2026, 1, 27), days, catalogue):
        scratch.write_bytes(text.encode("cp1252"))
        archive.archive(target, scratch, datetime(day.year, day.month, day.day, 5, 0, tzinfo=UTC))
    scratch.unlink()
    return target


def time_build(raw: Path, runs: int) -> list[float]:
    walls = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            code = (
                "import time;from pathlib import Path;from datamed.pipeline.build import build;"
                f"t=time.perf_counter();build(Path({str(raw)!r}),Path({tmp!r})/'p');print(time.perf_counter()-t)"
            )
            out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
            walls.append(float(out.stdout.split()[-1]))
    return walls


def page_times(prepared: Path, warm_runs: int = 5, **query: str) -> tuple[float, float]:
    """Cold (first run, empty caches) and warm (median rerun of the same session) script times
    of the shortage page, opened with the URL parameters ``query``."""
    os.environ.setdefault("STREAMLIT_LOGGER_LEVEL", "error")
    import streamlit as st  # noqa: PLC0415
    from streamlit.testing.v1 import AppTest  # noqa: PLC0415

    from datamed.ui import routes  # noqa: PLC0415

    os.environ["DATAMED_PREPARED"] = str(prepared)
    st.cache_resource.clear()
    st.cache_data.clear()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    for key, value in query.items():
        at.query_params[key] = value
    at.switch_page(routes.SHORTAGES.file)
    times = []
    for _ in range(warm_runs + 1):
        t = time.perf_counter()
        at.run()
        times.append((time.perf_counter() - t) * 1000)
        assert not at.exception, at.exception
    return times[0], statistics.median(times[1:])


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--raw", default=str(ROOT.parent / "shared" / "data"))
    p.add_argument("--days", type=int, default=60)
    p.add_argument("--runs", type=int, default=3)
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        raw = make_raw(Path(args.raw), Path(tmp) / "raw", args.days)
        dispo = read_bdpm_atc(raw).datasets["disponibilites"]
        per_day = dispo.group_by("snapshot").len()["len"]
        print(
            f"{dispo['snapshot'].n_unique()} daily snapshots, {dispo.height} availability lines "
            f"({per_day.min()}-{per_day.max()} a day)"
        )
        steps = []
        for _ in range(args.runs):
            t = time.perf_counter()
            eps = build_episodes(dispo)
            steps.append(time.perf_counter() - t)
        print(
            f"episode step: {statistics.median(steps):.2f} s median of {args.runs} (max {max(steps):.2f} s)  [target <= 3 s]"
        )
        reopened = eps.filter(pl.col("evenements").list.eval(pl.element().str.contains("réouverture")).list.any())
        print(
            f"  {eps.height} episodes: {int(eps['en_cours'].sum())} current, "
            f"{eps.filter(pl.col('issue') == 'remise').height} returns, {eps.filter(pl.col('issue') == 'arret').height} "
            f"withdrawals, {eps.filter(pl.col('issue') == 'disparition').height} vanished, {reopened.height} reopenings, "
            f"{int(eps['debut_modifie'].sum())} start dates moved"
        )
        walls = time_build(raw, args.runs)
        print(
            f"whole build: {statistics.median(walls):.2f} s median of {args.runs} (max {max(walls):.2f} s)  [target <= 10 s]"
        )
        prepared = Path(tmp) / "prepared"
        build(raw, prepared)
        cold, warm = page_times(prepared)
        print(f"shortage page (AppTest, server side): cold {cold:.0f} ms, warm {warm:.0f} ms  [target <= 300 ms warm]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
