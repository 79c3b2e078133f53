"""Joint suppression on the real pharmacovigilance data, then the independent audit.

    .venv/bin/python bench/bench_suppression.py [--raw ../shared/data] [--repeat 3]

Runs the build's pharmacovigilance step (read, compute, joint suppression), then
the audit over its datasets and the rejected lines, as the build does. Prints the
cells withheld per table, the share of cases withheld (substances whose total is
published), the time of the suppression alone, of the whole step and of the audit
(median of ``--repeat`` runs), and what the audit finds. Never prints a value.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import polars as pl

from datamed import audit
from datamed.core.rule import ProtectionRule
from datamed.datasets import DS
from datamed.pipeline import pharmacovigilance, suppression
from datamed.pipeline.build import rejects_frame

ROOT = Path(__file__).resolve().parents[1]
NO_BDPM = pl.DataFrame(schema={"code_substance": pl.String, "denomination_substance": pl.String})


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--raw", default=str(ROOT.parent / "shared" / "data"))
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args()
    rule = ProtectionRule.from_env()
    choose = suppression.choose
    spent: list[float] = []

    def timed_choose(*a, **k):
        t = time.perf_counter()
        try:
            return choose(*a, **k)
        finally:
            spent.append(time.perf_counter() - t)

    pharmacovigilance.suppression.choose = timed_choose
    step, audits, choose_times = [], [], []
    for _ in range(args.repeat):
        spent.clear()
        t = time.perf_counter()
        pv = pharmacovigilance.build_pharmacovigilance(Path(args.raw), rule.threshold, NO_BDPM)
        step.append(time.perf_counter() - t)
        choose_times.append(sum(spent))
        frames = {**pv.datasets, DS.REJETS: rejects_frame(pv.rejects)}
        t = time.perf_counter()
        report = audit.audit_tables(*audit.audited_parts(frames), rule)
        audits.append(time.perf_counter() - t)
    pharmacovigilance.suppression.choose = choose

    for level, tables in pv.protection.items():
        print(f"joint suppression ({level} level):")
        withheld = cells = 0
        for name, entry in tables.items():
            share = entry.get("part_cas_masques_pct")
            extra = "" if share is None else f", {share:.1f} % of the cases (substances with a published total)"
            print(f"  {name}: {entry['masquees']} of {entry['cellules']} cells withheld{extra}")
            withheld += entry["masquees"]
            cells += entry["cellules"]
        print(f"  all tables: {withheld} of {cells} cells withheld ({100 * withheld / cells:.1f} %)")
    med = statistics.median
    print(f"suppression (choose, every level): median {med(choose_times):.2f} s over {args.repeat} runs")
    print(f"pharmacovigilance step (read, compute, suppress): median {med(step):.2f} s")
    print(f"independent audit: median {med(audits):.2f} s")
    print(f"suppression + audit: median {med(choose_times) + med(audits):.2f} s (target <= 60 s)")
    print(report.summary())
    return 0 if report.passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
