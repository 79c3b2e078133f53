"""Issue-14 part 6: the shortage-risk model over a two-year availability archive.

Usage::

    python bench/bench_risk.py [--raw ../shared/data] [--uniform] [--boot 1000]

The real archive holds one availability snapshot, so the model is not evaluated
on it. This bench grows 105 weekly snapshots (two years) from the real file over
the real catalogue, with the hidden risk structure of
``datamed.demo.snapshots.structured_hazard`` (``--uniform``: every medicine equally
at risk), archives them beside the real catalogue and ATC files, then prints
(asserts nothing):
- the whole build of that raw folder, and how long it waited for the risk worker;
- the shortage page's "Risque" tab, server side, cold and warm (target <= 300 ms warm);
- the time of each part: history as known at each cutoff, forward evaluation
  (fits, calibration, bootstrap), scoring of the current list;
- the windows, the mean metrics of the model and of each baseline, the gains
  over the best baseline with their 95 % bootstrap intervals, and the verdict;
- the reliability table of the calibrated probabilities.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import polars as pl
from bench_snapshots import page_times  # bench/ is on the path when run as a script

from datamed.demo.snapshots import daily_snapshots, structured_hazard
from datamed.pipeline import risk
from datamed.pipeline.build import build
from datamed.sources.synthetic import archive_series
from datamed.store import Store

ROOT = Path(__file__).resolve().parents[1]


def make_raw(shared: Path, target: Path, uniform: bool) -> list[tuple]:
    """The real catalogue and ATC files, and 104 weekly snapshots after the real one archived."""
    src = shared / "bdpm" / "2026-01-27"
    shutil.copytree(src, target / "bdpm" / "2026-01-27")
    if (shared / "atc").is_dir():
        shutil.copytree(shared / "atc", target / "atc")
    first = (src / "CIS_CIP_Dispo_Spec.txt").read_bytes().decode("cp1252")
    catalogue, weights = structured_hazard((src / "CIS_bdpm.txt").read_bytes().decode("cp1252"))
    series = daily_snapshots(first, date(2026, 1, 27), 730, catalogue, weights=None if uniform else weights, every=7)
    archive_series(target, series[1:])
    return series


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--raw", default=str(ROOT.parent / "shared" / "data"))
    p.add_argument("--uniform", action="store_true", help="every medicine equally at risk (nothing to learn)")
    p.add_argument("--boot", type=int, default=risk.N_BOOT)
    args = p.parse_args()
    shared = Path(args.raw)
    if not (shared / "bdpm" / "2026-01-27" / "CIS_CIP_Dispo_Spec.txt").exists():
        print(f"real data not found under {shared}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        raw, prepared = Path(tmp) / "raw", Path(tmp) / "prepared"
        t = time.perf_counter()
        series = make_raw(shared, raw, args.uniform)
        print(f"{len(series)} weekly snapshots grown and archived: {time.perf_counter() - t:.1f} s")
        t = time.perf_counter()
        build(raw, prepared)
        wall = time.perf_counter() - t
        manifest = json.loads((prepared / "manifest.json").read_text(encoding="utf-8"))
        wait = manifest["step_seconds"].get("risk_model_wait", 0.0)
        print(f"whole build: {wall:.1f} s, of which {wait:.1f} s waiting for the risk worker")
        print(f"  manifest: {manifest['risk_model']}")
        cold, warm = page_times(prepared, onglet="Risque (expérimental)")
        print(
            f"shortage page, Risque tab (AppTest, server side): cold {cold:.0f} ms, warm {warm:.0f} ms  [target <= 300 ms warm]"
        )
        data = risk.datasets_from_store(Store(prepared))
        snaps = risk.snapshot_dates(data)
        t = time.perf_counter()
        asof = risk.history_as_of(data, risk.needed_dates(snaps))
        t_asof = time.perf_counter() - t
        t = time.perf_counter()
        report = risk.evaluate(data, asof=asof, n_boot=args.boot)
        t_eval = time.perf_counter() - t
        t = time.perf_counter()
        scores = risk.score_current(data, report, drivers_for=300, asof=asof)
        t_score = time.perf_counter() - t
        print(
            f"history as of {len(asof)} cutoffs {t_asof:.1f} s; evaluation over {len(report.windows)} windows "
            f"({args.boot} bootstrap replicates) {t_eval:.1f} s; scoring {t_score:.1f} s "
            f"({scores.height:,} medicines); risk step total {t_asof + t_eval + t_score:.1f} s"
        )
        for w in report.windows:
            print(
                f"  window: fit at {w.train_cutoff}, test at {w.test_cutoff}: {w.n_test:,} medicines, "
                f"{w.n_test_positives:,} with a new episode ({w.n_test_events:,} events)"
            )
        with pl.Config(tbl_rows=20, tbl_width_chars=160, float_precision=4):
            print(report.metrics_table().filter(pl.col("date_test").is_null()).select("score", *risk.report.METRICS))
            for metric, g in report.gains.items():
                print(
                    f"gain in {metric} over {g.baseline}: {g.estimate:+.4f} [95 % interval {g.low:+.4f}, {g.high:+.4f}]"
                )
            print(f"verdict: {'shown' if report.shown else 'hidden'}{'' if report.shown else ' - ' + report.reason}")
            if report.reliability is not None:
                print(report.reliability)
    return 0


if __name__ == "__main__":
    sys.exit(main())
