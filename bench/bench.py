"""Benchmarks for the foundation: build, search, page script times.

Usage::

    python bench/bench.py [--raw ../shared/data] [--queries 1000] [--json out.json]

Prints figures; asserts nothing (targets are compared in the closing notes):
- build wall time and peak memory (target <= 5 s, <= 1.5 GB), in a child process;
- search index build time (target <= 2 s) and p50/p95 per query over mixed
  queries: names, typos, codes, prefixes (target p95 <= 20 ms);
- server-side script time of each page, cold (empty caches) and warm.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

from datamed.audit import audit_tables, read_folder
from datamed.core import stats
from datamed.datasets import DS  # the package is installed (pip install -e .): no sys.path tweak
from datamed.pipeline import linking, quality, risk
from datamed.pipeline.build import build
from datamed.pipeline.pharmacovigilance import slug
from datamed.release.publish import publish
from datamed.sources.pharmacovigilance import SocList, discover, read_pv_file
from datamed.store import Store
from datamed.ui import routes
from datamed.views import adverse
from datamed.views.search import SearchIndex

ROOT = Path(__file__).resolve().parents[1]


def bench_build(raw: Path, runs: int = 3) -> dict:
    walls, peaks = [], []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            code = (
                "import resource,sys,time;from pathlib import Path;from datamed.pipeline.build import build;"
                f"t=time.perf_counter();build(Path({str(raw)!r}),Path({tmp!r})/'p');"
                "print(time.perf_counter()-t);print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
            )
            out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
            wall, peak_kb = out.stdout.split()
            walls.append(float(wall))
            peaks.append(int(peak_kb) / 1024)
    return {
        "build_wall_s_median": statistics.median(walls),
        "build_wall_s_max": max(walls),
        "build_peak_mb": max(peaks),
    }


def _typo(word: str, rng: random.Random) -> str:
    if len(word) < 4:
        return word
    i = rng.randrange(1, len(word) - 1)
    op = rng.choice(("delete", "swap", "insert", "replace"))
    if op == "delete":
        return word[:i] + word[i + 1 :]
    if op == "swap":
        return word[: i - 1] + word[i] + word[i - 1] + word[i + 1 :]
    letter = rng.choice("abcdefghijklmnopqrstuvwxyz")
    if op == "insert":
        return word[:i] + letter + word[i:]
    return word[:i] + letter + word[i + 1 :]


def mixed_queries(store: Store, n: int, seed: int = 7) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    names = store.table(DS.SPECIALITES)["denomination"].to_list()
    subs = store.table(DS.SUBSTANCES)["denomination"].to_list()
    pres = store.table(DS.PRESENTATIONS).select("cis", "cip7", "cip13").rows()
    atc = store.table(DS.ATC)["code_atc"].to_list() if store.has(DS.ATC) else ["N02BE01"]
    long_brands = [w.lower() for w in (n.split()[0] for n in names) if len(w) >= 8] or ["paracetamol"]
    kinds = [
        ("name", lambda: rng.choice(names).split(",")[0].lower()),
        ("brand", lambda: rng.choice(names).split()[0]),
        ("typo", lambda: _typo(rng.choice(names).split()[0].lower(), rng)),
        ("substance", lambda: rng.choice(subs).lower()),
        ("substance typo", lambda: _typo(rng.choice(subs).split()[0].lower(), rng)),
        ("prefix", lambda: rng.choice(names)[: rng.randint(3, 6)]),
        ("cis", lambda: rng.choice(pres)[0]),
        ("cip13", lambda: rng.choice(pres)[2]),
        ("cip7", lambda: rng.choice(pres)[1]),
        ("code prefix", lambda: rng.choice(pres)[2][: rng.randint(5, 9)]),
        ("atc", lambda: rng.choice(atc)),
        ("brand + dose", lambda: _with_dose(rng.choice(names))),
        ("long name typo", lambda: _typo(rng.choice(long_brands), rng)),
        ("two words, typos", lambda: " ".join(_typo(w, rng) for w in rng.choice(names).lower().split()[:2])),
    ]
    return [(kind, make()) for kind, make in (kinds[i % len(kinds)] for i in range(n))]


def _with_dose(name: str) -> str:
    """'DAFALGAN 1000 mg, gélule' -> 'dafalgan 1000mg' (the brand and its first strength, joined)."""
    m = re.search(r"(\d+(?:,\d+)?)\s*(mg|g)\b", name)
    return name.split()[0].lower() + (f" {m.group(1)}{m.group(2)}" if m else " 1g")


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def bench_search(store: Store, n_queries: int) -> dict:
    builds = []
    for _ in range(3):
        t = time.perf_counter()
        index = SearchIndex.from_store(store)
        builds.append(time.perf_counter() - t)
    queries = mixed_queries(store, n_queries)
    index.search("warm up")
    times: dict[str, list[float]] = {}
    all_times = []
    for kind, q in queries:
        t = time.perf_counter()
        index.find(q, limit=30)  # what the search page asks: 30 hits and the count
        ms = (time.perf_counter() - t) * 1000
        times.setdefault(kind, []).append(ms)
        all_times.append(ms)
    return {
        "index_build_s_median": statistics.median(builds),
        "index_entries": len(index),
        "queries": len(all_times),
        "search_p50_ms": pct(all_times, 50),
        "search_p95_ms": pct(all_times, 95),
        "search_max_ms": max(all_times),
        "search_p95_ms_by_kind": {k: round(pct(v, 95), 2) for k, v in times.items()},
    }


def bench_pharmacovigilance(store: Store, raw: Path, runs: int = 20) -> dict:
    """Comparison of 5 substances (warm) and all disproportionality statistics."""

    subs = store.table(DS.EI_SUBSTANCES)
    if subs.is_empty():
        return {}
    ids = subs.filter(pl.col("n_cas").is_not_null()).sort("n_cas", descending=True)["ei_id"].head(5).to_list()
    adverse.compare(store, ids)  # warm: datasets loaded
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        adverse.compare(store, ids)
        times.append((time.perf_counter() - t) * 1000)
    # the five largest active moieties (salts pooled), then a mixed set: a moiety, a plain
    # substance, an identical series' first member (issue 13)
    moiety_times, moiety_ids = [], []
    if store.has(DS.EI_FRACTIONS):
        heads = store.table(DS.EI_FRACTIONS)
        moiety_ids = heads.filter(pl.col("n_cas").is_not_null()).sort("n_cas", descending=True)["fraction_id"].head(5)
        moiety_ids = moiety_ids.to_list()
        adverse.compare(store, moiety_ids)
        for _ in range(runs):
            t = time.perf_counter()
            adverse.compare(store, moiety_ids)
            moiety_times.append((time.perf_counter() - t) * 1000)
    soc = store.table(DS.EI_SOC)
    flagged_now = soc.filter(pl.col("signal_evans") & pl.col("signal_ic")).height
    flagged_ror = soc.filter(pl.col("signal_ror")).height
    socs = SocList.read(raw / "meddra" / "meddra_soc.csv")
    files, _ = discover(raw / "ansm_pharmacovigilance")
    frames = {f.table: read_pv_file(f, socs).frame for f in files if f.level == "substance"}
    totals = frames["annee"].group_by("nom").agg(pl.col("n_cas").sum().alias("n"))
    counts = (
        frames["soclong_age"]
        .group_by("nom", "soc_code")
        .agg(pl.col("n_decla_eff").sum().alias("a"))
        .join(totals, on="nom")
    ).with_columns(pl.col("nom").map_elements(slug, return_dtype=pl.String).alias("ei_id"))
    disp = []
    for _ in range(5):
        t = time.perf_counter()
        out = stats.disproportionality(counts, grand_total=int(totals["n"].sum()))
        disp.append(time.perf_counter() - t)
    return {
        "compare5_ms_median": statistics.median(times),
        "compare5_ms_max": max(times),
        "disproportionality_s_median": statistics.median(disp),
        "disproportionality_pairs": out.height,
        "compare5_moieties_ms_median": statistics.median(moiety_times) if moiety_times else None,
        "compare5_moieties_ms_max": max(moiety_times) if moiety_times else None,
        "compare5_moieties": moiety_ids,
        "signal_pairs": soc.height,
        "signal_pairs_evans_and_ic": flagged_now,
        "signal_pairs_ror_only": flagged_ror,
    }


def bench_risk(store: Store) -> dict:
    """Shortage-risk model on the archive at hand (see bench/bench_risk.py for a two-year one)."""

    data = risk.datasets_from_store(store)
    if data[DS.RUPTURES_EPISODES].is_empty():
        return {}
    t = time.perf_counter()
    report = risk.evaluate(data)
    evaluation = time.perf_counter() - t
    gain = report.gains.get("pr_auc")
    return {
        "risk_evaluation_s": evaluation,
        "windows": len(report.windows),
        "shown": report.shown,
        "reason": report.reason,
        "gain_pr_auc": (gain.estimate, gain.low, gain.high) if gain else None,
    }


def bench_pages(prepared: Path, warm_runs: int = 5) -> dict:
    # streamlit reads its log level when first imported: set it before (quiet page runs)
    os.environ.setdefault("STREAMLIT_LOGGER_LEVEL", "error")
    import streamlit as st  # noqa: PLC0415
    from streamlit.testing.v1 import AppTest  # noqa: PLC0415

    store = Store(prepared)
    cis = "60002283" if not store.is_demo else store.table(DS.SPECIALITES)["cis"][0]
    params = {
        routes.HOME: {},
        routes.SEARCH: {"q": "doliprane"},
        routes.CATALOGUE: {"atc": "N02BE"},
        routes.MEDICINE: {"cis": cis},
        routes.SUBSTANCE: {"substance": store.table(DS.SUBSTANCES)["code_substance"][0]},
        routes.DATA: {"jeu": "ei_soc"},
        routes.QUALITY: {"controle": "presentations:cis_dans_specialites", "lien": "pv_bdpm"},
        routes.COMPARE: {"s": store.table(DS.EI_SUBSTANCES)["ei_id"].head(5).to_list()}
        if store.has(DS.EI_SUBSTANCES)
        else {},
        routes.NATIONAL: {},
        routes.SHORTAGES: {"statut": ["rupture", "tension"], "mitm": "true", "atc": "N"},
        routes.SITES: {},
    }
    extra = [
        (
            "sites vue=points (tous)",
            routes.SITES,
            {"type": ["principe_actif", "fabrication", "analyse_conditionnement", "distribution", "pharmacie"]},
        ),
        ("sites vue=densite", routes.SITES, {"type": ["pharmacie"], "vue": "densite"}),
        ("sites vue=departements", routes.SITES, {"vue": "departements"}),
        ("ruptures onglet=Durées", routes.SHORTAGES, {"onglet": "Durées"}),
        ("ruptures onglet=Épisodes", routes.SHORTAGES, {"onglet": "Épisodes en cours"}),
    ]
    os.environ["DATAMED_PREPARED"] = str(prepared)
    for name in (
        "streamlit",
        "streamlit.runtime.caching.cache_data_api",
        "streamlit.runtime.scriptrunner_utils.script_run_context",
    ):
        logging.getLogger(name).setLevel(logging.ERROR)
    results = {}
    payloads: dict[str, int] = {}
    cases = [(route.url_path, route, qp) for route, qp in params.items()] + extra
    for name, route, qp in cases:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
        for k, v in qp.items():
            at.query_params[k] = v
        if route is not routes.HOME:
            at.switch_page(route.file)

        def run_once() -> float:
            # a rerun of the same session: a fresh AppTest would also time the harness's
            # one-off scan of every installed package (~250 ms), which a server does once
            t = time.perf_counter()
            at.run()
            elapsed = time.perf_counter() - t
            if at.exception:
                raise RuntimeError(f"{route.url_path}: {at.exception[0].value}")
            for deck in at.get("deck_gl_json_chart"):
                payloads[name] = max(payloads.get(name, 0), len(deck.proto.json))
            return elapsed * 1000

        st.cache_resource.clear()
        st.cache_data.clear()
        cold = run_once()
        warm = statistics.median(run_once() for _ in range(warm_runs))
        results[name] = {"cold_ms": round(cold, 1), "warm_ms": round(warm, 1)}
        if name in payloads:
            results[name]["pydeck_payload_mb"] = round(payloads[name] / 1e6, 2)
    return results


def bench_quality(raw: Path, prepared: Path, runs: int = 3) -> dict:
    """Quality checks and linking report on the prepared frames, publish with its disclosure gate."""

    datasets = {p.stem: pl.read_parquet(p) for p in prepared.glob("*.parquet")}
    sources = json.loads((prepared / "manifest.json").read_text(encoding="utf-8"))["sources"]
    rejects = datasets[DS.REJETS]
    q = [_timed(lambda: quality.run_checks(datasets, sources, rejects, raw, prepared)) for _ in range(runs)]
    lk = [_timed(lambda: linking.link_report(datasets)) for _ in range(runs)]
    with tempfile.TemporaryDirectory() as out:
        release = publish(prepared, Path(out))
    return {
        "quality_checks_s_median": statistics.median(q),
        "link_report_s_median": statistics.median(lk),
        "publish_s": release.seconds.get("total"),
        "disclosure_gate_s": release.seconds.get("disclosure_gate"),
        "publish_rows": sum(release.rows.values()),
        "publish_resources": len(release.rows),
    }


def _timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def bench_audit(prepared: Path) -> dict:
    """The independent disclosure audit over the prepared pharmacovigilance tables and texts."""
    tables, texts = read_folder(prepared)
    t = time.perf_counter()
    report = audit_tables(tables, texts)
    return {
        "audit_s": time.perf_counter() - t,
        "withheld": report.masked,
        "exposed": len(report.exposed),
        "derived_leaks": len(report.derived),
        "text_leaks": len(report.texts),
        "lp_solves": report.lp_solves,
        "ip_solves": report.ip_solves,
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--raw", default=str(ROOT.parent / "shared" / "data"))
    p.add_argument("--queries", type=int, default=1000)
    p.add_argument("--json", help="also write the figures to this file")
    args = p.parse_args()
    raw = Path(args.raw)
    figures: dict = {"raw": str(raw), "cpus": os.cpu_count()}
    print(f"DataMed bench on {raw} ({os.cpu_count()} CPUs)")

    figures["build"] = bench_build(raw)
    b = figures["build"]
    print(
        f"build: {b['build_wall_s_median']:.2f} s median (max {b['build_wall_s_max']:.2f} s), peak {b['build_peak_mb']:.0f} MB  [target <= 5 s, <= 1536 MB]"
    )

    with tempfile.TemporaryDirectory() as tmp:
        prepared = Path(tmp) / "prepared"
        build(raw, prepared)
        store = Store(prepared)
        s = figures["search"] = bench_search(store, args.queries)
        print(f"search index: {s['index_entries']} entries built in {s['index_build_s_median']:.2f} s  [target <= 2 s]")
        print(
            f"search: {s['queries']} queries, p50 {s['search_p50_ms']:.2f} ms, p95 {s['search_p95_ms']:.2f} ms, max {s['search_max_ms']:.1f} ms  [target p95 <= 20 ms]"
        )
        print("  p95 by kind: " + ", ".join(f"{k} {v} ms" for k, v in s["search_p95_ms_by_kind"].items()))
        pv = figures["pharmacovigilance"] = bench_pharmacovigilance(store, raw)
        if pv:
            print(
                f"compare 5 substances: {pv['compare5_ms_median']:.1f} ms median warm (max {pv['compare5_ms_max']:.1f} ms)  [target <= 150 ms]"
            )
            print(
                f"disproportionality: {pv['disproportionality_pairs']} substance x SOC pairs in {pv['disproportionality_s_median'] * 1000:.0f} ms  [target <= 1 s]"
            )
            if pv["compare5_moieties_ms_median"] is not None:
                print(
                    f"compare 5 active moieties ({', '.join(pv['compare5_moieties'])}): "
                    f"{pv['compare5_moieties_ms_median']:.1f} ms median warm (max {pv['compare5_moieties_ms_max']:.1f} ms)  [target <= 150 ms]"
                )
            n = pv["signal_pairs"]
            print(
                f"signals: {pv['signal_pairs_evans_and_ic']} of {n} substance x SOC pairs ({100 * pv['signal_pairs_evans_and_ic'] / n:.1f} %) "
                f"with Evans and IC025 > 0; the lower ROR bound alone would flag {pv['signal_pairs_ror_only']} ({100 * pv['signal_pairs_ror_only'] / n:.1f} %)"
            )
        rk = figures["risk"] = bench_risk(store)
        if rk:
            verdict = "shown" if rk["shown"] else f"hidden ({rk['reason']})"
            gain = rk["gain_pr_auc"]
            print(
                f"risk model: {rk['windows']} forward windows, evaluated in {rk['risk_evaluation_s']:.2f} s; {verdict}"
                + (f"; PR-AUC gain {gain[0]:+.4f} [{gain[1]:+.4f}, {gain[2]:+.4f}]" if gain else "")
                + "  [two-year archive: bench/bench_risk.py]"
            )
        qa = figures["quality"] = bench_quality(raw, prepared)
        print(
            f"quality checks {qa['quality_checks_s_median']:.2f} s, linking report {qa['link_report_s_median']:.2f} s (median); "
            f"publish {qa['publish_resources']} datasets / {qa['publish_rows']} rows in {qa['publish_s']:.2f} s "
            f"(disclosure gate {qa['disclosure_gate_s']:.2f} s); refresh: see bench/bench_refresh.py  [target refresh <= 60 s]"
        )
        au = figures["audit"] = bench_audit(prepared)
        print(
            f"disclosure audit: {au['withheld']} withheld counts, {au['exposed']} exposed, "
            f"{au['derived_leaks']} derived columns and {au['text_leaks']} texts leaking; {au['audit_s']:.1f} s "
            f"({au['lp_solves']} LP + {au['ip_solves']} IP solves)  [target suppression + audit <= 60 s]"
        )
        pages = figures["pages"] = bench_pages(prepared)
        print("page script time (AppTest, server side):")
        for name, t in pages.items():
            extra_mb = (
                f"   map payload {t['pydeck_payload_mb']:.2f} MB [target <= 5 MB]" if "pydeck_payload_mb" in t else ""
            )
            print(f"  {name:<26} cold {t['cold_ms']:>8.1f} ms   warm {t['warm_ms']:>7.1f} ms{extra_mb}")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
