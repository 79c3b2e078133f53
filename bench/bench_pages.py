"""Page times a user feels (issue 15, part 8), in Debian's chromium, on loopback.

For each page (home, search, medicine, comparison, shortages, sites, pharmacies):

- **cold**: a fresh server (``python -m datamed serve``), then that page first; the time
  runs from ``page.goto`` to the last element rendered: the script finished (no stale
  element left), every Altair chart drawn (its SVG or canvas), every map's canvas;
- **warm**: the same page again, ``--warm`` times, each in a new tab of the same browser
  (a new Streamlit session; the browser's cache holds the app's scripts, as for a
  returning visitor): median and worst;
- **in-app**: the page reached from inside the app, as a reader moves on: a click on its
  menu link from another page (the page without URL parameters), or on the first search
  result for the medicine page; median of ``--warm`` clicks;
- **server**: the page's script time (``page_run`` lines of the server log), cold and the
  median of the warm runs, to tell the browser's share from the server's.

Targets on this 2-core machine: warm ≤ 1.5 s, cold ≤ 3 s. For scale, the same measure of
a one-line Streamlit app (``st.title``), the floor any Streamlit page pays here to load
the client and open its session, is printed first.

    .venv/bin/python bench/bench_pages.py --raw ../shared/data       # builds into a temporary folder
    .venv/bin/python bench/bench_pages.py --prepared DIR --warm 5
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_serve import CHROMIUM, CHROMIUM_ARGS, App, free_port, wait_health
from playwright.sync_api import sync_playwright

from datamed.core.folders import install

MENU = '[data-testid="stSidebarNav"] a[href$="/{}"]'
RESULT = '[data-testid="stMain"] [data-testid="stPageLink-NavLink"]'
PAGES = (  # label, path, route name in the server log, (from path, link clicked) for the in-app time
    ("accueil", "/", "accueil", ("/ruptures", '[data-testid="stSidebarNav"] a[href$=":{port}/"]')),
    ("recherche", "/recherche?q=doliprane", "recherche", ("/", MENU.format("recherche"))),
    ("médicament", "/medicament?cis=60234100", "medicament", ("/recherche?q=doliprane", RESULT)),
    (
        "comparaison",
        "/comparer?s=abacavir-sulfate-d&s=anastrozole&s=paracetamol",
        "comparer",
        ("/", MENU.format("comparer")),
    ),
    ("ruptures", "/ruptures", "ruptures", ("/", MENU.format("ruptures"))),
    ("sites", "/carte-des-sites", "carte-des-sites", ("/", MENU.format("carte-des-sites"))),
    ("pharmacies", "/pharmacies?cp=75011", "pharmacies", ("/", MENU.format("pharmacies"))),
)
WARM_TARGET, COLD_TARGET = 1.5, 3.0
TIMEOUT_MS = 60_000

# the last element rendered: the run over, nothing stale, every chart and map drawn
RENDERED = """() => {
    const app = document.querySelector('[data-testid="stApp"]');
    if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
    if (!document.querySelector('[data-testid="stMain"] h1')) return false;
    if (document.querySelector('[data-testid="stElementContainer"][data-stale="true"]')) return false;
    const status = document.querySelector('[data-testid="stStatusWidget"]');
    if (status && status.offsetParent !== null) return false;
    for (const c of document.querySelectorAll('[data-testid="stVegaLiteChart"]'))
        if (c.offsetParent !== null && !c.querySelector('svg, canvas')) return false;
    for (const m of document.querySelectorAll('[data-testid="stDeckGlJsonChart"]'))
        if (m.offsetParent !== null && !m.querySelector('canvas')) return false;
    return true;
}"""


def visit(context, url: str) -> float:
    page = context.new_page()
    try:
        started = time.perf_counter()
        page.goto(url)
        page.wait_for_function(RENDERED, timeout=TIMEOUT_MS, polling=50)
        return time.perf_counter() - started
    finally:
        page.close()


def in_app(context, base: str, start: str, link: str) -> float:
    """From ``start``, a click on ``link``: the time until the new page is fully drawn."""
    page = context.new_page()
    try:
        page.goto(base + start)
        page.wait_for_function(RENDERED, timeout=TIMEOUT_MS, polling=50)
        before = page.locator('[data-testid="stMain"] h1').first.inner_text()
        target = page.locator(link).first
        started = time.perf_counter()
        target.click()
        page.wait_for_function(
            "(before) => { const h = document.querySelector('[data-testid=\"stMain\"] h1');"
            " return h && h.innerText !== before; }",
            arg=before,
            timeout=TIMEOUT_MS,
            polling=50,
        )
        page.wait_for_function(RENDERED, timeout=TIMEOUT_MS, polling=50)
        return time.perf_counter() - started
    finally:
        page.close()


def floor(browser, work: Path, visits: int) -> tuple[float, list[float]]:
    """Cold and warm times of a one-line Streamlit app (the same measure, no DataMed)."""
    app_dir = work / "floor"
    app_dir.mkdir()
    (app_dir / "app.py").write_text('import streamlit as st\nst.title("Bonjour")\n')
    port = free_port()
    cmd = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true"]
    cmd += ["--server.address", "127.0.0.1", "--server.port", str(port), "--browser.gatherUsageStats", "false"]
    proc = subprocess.Popen(cmd, cwd=app_dir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="fr-FR")
    try:
        url = f"http://127.0.0.1:{port}"
        wait_health(url)
        return visit(context, url), [visit(context, url) for _ in range(visits)]
    finally:
        context.close()
        proc.terminate()
        proc.wait(timeout=15)


def server_times(log: Path, route: str) -> list[float]:
    """Script times (s) of ``route``, in order, from the server's JSON log lines."""
    out = []
    for text in log.read_text(errors="replace").splitlines():
        if '"page_run"' in text:
            try:
                entry = json.loads(text[text.index("{") :])
            except (ValueError, json.JSONDecodeError):
                continue
            if entry.get("page") == route and entry.get("outcome") == "ok":
                out.append(entry["ms"] / 1000)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--prepared", type=Path, help="a prepared folder")
    source.add_argument("--raw", type=Path, help="raw data to build first (into a temporary folder)")
    parser.add_argument("--warm", type=int, default=5, help="warm visits per page")
    parser.add_argument("--pages", nargs="*", help="labels of the pages to measure (default: all)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench_pages_"))
    prepared = args.prepared
    if prepared is None:
        from datamed.pipeline.build import build  # noqa: PLC0415 - the build side only when asked

        started = time.perf_counter()
        build(args.raw, work / "build")
        prepared = work / "prepared"
        install(work / "build", prepared)
        print(f"build: {time.perf_counter() - started:.1f} s", file=sys.stderr)
    pages = [p for p in PAGES if not args.pages or p[0] in args.pages]
    rows, misses = [], []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            base_cold, base_warm = floor(browser, work, args.warm)
            for label, path, route, (start, link) in pages:
                log = work / f"server_{route}.log"
                app = App(prepared, log)
                context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="fr-FR")
                try:
                    cold = visit(context, app.url + path)
                    warm = [visit(context, app.url + path) for _ in range(args.warm)]
                    link = link.replace("{port}", str(app.port))
                    moves = [in_app(context, app.url, start, link) for _ in range(args.warm)]
                finally:
                    context.close()
                    app.stop()
                script = server_times(log, route)
                rows.append((label, cold, warm, moves, script))
                if cold > COLD_TARGET or max(warm) > WARM_TARGET:
                    misses.append(label)
        finally:
            browser.close()
    print(f"Page times in chromium, 1 user, loopback, 2 cores ({len(pages)} pages, {args.warm} warm visits each)")
    print(
        f"{'page':<12} {'cold':>7} {'warm p50':>9} {'warm max':>9} {'in-app p50':>10} | "
        f"{'script cold':>11} {'script warm':>11}"
    )
    print(
        f"{'(streamlit)':<12} {base_cold:>5.2f} s {statistics.median(base_warm):>7.2f} s {max(base_warm):>7.2f} s "
        f"{'':>10} |   one-line app: the floor"
    )
    for label, cold, warm, moves, script in rows:
        s_cold = f"{script[0]:.2f} s" if script else "—"
        s_warm = f"{statistics.median(script[1 : 1 + args.warm]):.2f} s" if len(script) > 1 else "—"
        print(
            f"{label:<12} {cold:>5.2f} s {statistics.median(warm):>7.2f} s {max(warm):>7.2f} s "
            f"{statistics.median(moves):>8.2f} s | "
            f"{s_cold:>11} {s_warm:>11}"
        )
    print(f"targets: cold ≤ {COLD_TARGET} s, warm ≤ {WARM_TARGET} s; missed: {', '.join(misses) or 'none'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
