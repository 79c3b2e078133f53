"""Joint suppression on the real pharmacovigilance data, then the independent audit.

    .venv/bin/python bench/bench_suppression.py --raw ../shared/data

Prints the cells withheld (primary, then after the joint suppression), the share of
cases in withheld cells per table, the suppression and audit times, and what the
audit finds. Prints counts of cells only, never a value.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import polars as pl

from datamed.audit import audit_tables
from datamed.core.rule import ProtectionRule
from datamed.pipeline.pharmacovigilance import slug
from datamed.pipeline.suppression import apply, choose, problem_from_tables
from datamed.sources.pharmacovigilance import SocList, discover, read_pv_file

ROOT = Path(__file__).resolve().parents[1]


def true_tables(raw: Path) -> dict[str, pl.DataFrame]:
    socs = SocList.read(raw / "meddra" / "meddra_soc.csv")
    files, _ = discover(raw / "ansm_pharmacovigilance")
    reads = {f.table: read_pv_file(f, socs).frame for f in files if f.level == "substance"}
    ids = lambda frame: frame.with_columns(pl.col("nom").map_elements(slug, return_dtype=pl.String).alias("ei_id"))  # noqa: E731
    out = {}
    for table, col in (("annee", "annee"), ("age", "age"), ("sexe", "sexe")):
        out[f"ei_{table}"] = ids(reads[table]).rename({"strate": col}).select("ei_id", col, "n_cas", "n_conso")
    out["ei_substances"] = out["ei_annee"].group_by("ei_id").agg(pl.col("n_cas").sum()).sort("ei_id")
    for table, col in (("soclong_age", "age"), ("soclong_sexe", "sexe")):
        out[f"ei_soc_{col}"] = (
            ids(reads[table])
            .rename({"strate": col})
            .select("ei_id", "soc_code", col, pl.col("n_decla_eff").alias("n_cas"))
        )
    out["ei_soc"] = out["ei_soc_age"].group_by("ei_id", "soc_code").agg(pl.col("n_cas").sum())
    for table, col in (("annee", "annee"), ("age", "age"), ("sexe", "sexe")):
        out[f"ei_national_{table}"] = out[f"ei_{table}"].group_by(col).agg(pl.col("n_cas").sum())
    out["ei_national_soc"] = out["ei_soc"].group_by("soc_code").agg(pl.col("n_cas").sum())
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--raw", default=str(ROOT.parent / "shared" / "data"))
    args = p.parse_args()
    rule = ProtectionRule.from_env()
    true = true_tables(Path(args.raw))
    problem = problem_from_tables(true, rule)
    value = np.array(problem.value)
    hidden = np.array(problem.hidden)
    with np.errstate(invalid="ignore"):
        primary = ((value >= 1) & (value < rule.threshold)) & ~hidden
    primary[list(problem.blanked)] = True
    print(f"cells: {len(problem.names) - int(hidden.sum())} counts, {len(problem.rows)} relations")
    print(f"primary (small counts and blanked exposures): {int(primary.sum())} cells")
    t = time.perf_counter()
    try:
        masked = choose(
            problem, rule, echo=lambda line: print(f"  {line} ({time.perf_counter() - t:.0f} s)", flush=True)
        )
    except RuntimeError as exc:  # not converged: say so, with the figures of the last round above
        print(f"suppression stopped: {exc}")
        return 1
    seconds = time.perf_counter() - t
    masked &= ~hidden
    print(f"after the joint suppression: {int(masked.sum())} cells withheld, in {seconds:.1f} s")
    by_table: dict[tuple[str, str], list] = {}
    for c, (table, _key, col) in enumerate(problem.names):
        if hidden[c]:
            continue
        entry = by_table.setdefault((table, col), [0, 0, 0.0, 0.0])
        v = 0.0 if np.isnan(value[c]) else value[c]
        entry[0] += 1
        entry[1] += int(masked[c])
        entry[2] += v
        entry[3] += v if masked[c] else 0.0
    for (table, col), (n, m, total, hid) in sorted(by_table.items()):
        share = 100 * hid / total if total else 0.0
        print(f"  {table}.{col}: {m} of {n} cells withheld, {share:.2f} % of the counted total")
    t = time.perf_counter()
    report = audit_tables(apply(true, problem, masked), (), rule)
    print(
        f"independent audit: {len(report.exposed)} exposed of {report.masked} withheld, {time.perf_counter() - t:.1f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
