"""Serving capacity and memory (issue 12), on this machine, on loopback.

Starts one or two app processes (``python -m datamed serve``) on the prepared data,
the second behind Debian's HAProxy with ``docs/deploy/haproxy.cfg``, and prints:

1. **websocket clients** (server capacity): ``datamed.loadtest`` clients loop over
   home -> search -> medicine -> shortages -> comparison, as a browser tab would,
   at 1, 5, 10 and 20 sessions, with 1 and 2 processes: pages per second, p50 and
   p95 page time, the server's CPU use and the clients' share of the CPU;
2. the same at 10 sessions with a **varied visit** (a different medicine and pair of
   substances each time: the chart cache misses);
3. **browsers** (Debian's chromium, through Playwright's async API): the same loop,
   page time from navigation to the finished render, and the browsers' share of the
   CPU (they run on the same 2 cores as the server);
4. **memory**: per idle session (resident memory with 0, 50 and 100 open sessions)
   and per refresh (after each of 10 switches to a new data version).

    .venv/bin/python bench/bench_serve.py --raw ../shared/data   # builds into a temporary folder
    .venv/bin/python bench/bench_serve.py --prepared DIR --seconds 20 --no-browsers
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import psutil

from datamed.core.config import REPO_ROOT
from datamed.core.folders import install
from datamed.datasets import DS
from datamed.loadtest import VISIT, Client, run_load
from datamed.store import Store

HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
BROWSER_VISIT = (  # what the browser waits for on each page of VISIT
    ("/", "h1"),
    ("/recherche?q=doliprane", "h1"),
    ("/medicament?cis=60002283", "h1"),
    ("/ruptures", "h1"),
    ("/comparer?s=abacavir-sulfate-d&s=anastrozole", "h1"),
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_health(url: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as resp:
                if resp.read().strip() == b"ok":
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{url} did not become healthy")


class App:
    def __init__(self, prepared: Path, log: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "DATAMED_PREPARED": str(prepared)}
        cmd = [sys.executable, "-m", "datamed", "serve", "--server.headless", "true"]
        cmd += ["--server.address", "127.0.0.1", "--server.port", str(self.port)]
        self.log = open(log, "wb")  # noqa: SIM115 (closed in stop)
        self.proc = subprocess.Popen(cmd, cwd=REPO_ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        wait_health(self.url)
        self.ps = psutil.Process(self.proc.pid)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


class Proxy:
    def __init__(self, apps: list[App], log: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "DATAMED_PROXY_BIND": f"127.0.0.1:{self.port}"}
        env |= {f"DATAMED_APP{i + 1}": f"127.0.0.1:{a.port}" for i, a in enumerate(apps)}
        self.log = open(log, "wb")  # noqa: SIM115
        config = REPO_ROOT / "docs" / "deploy" / "haproxy.cfg"
        self.proc = subprocess.Popen([HAPROXY, "-db", "-f", str(config)], env=env, stdout=self.log, stderr=self.log)
        wait_health(self.url)
        time.sleep(3)  # both servers through their first health check

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)
        self.log.close()


def cpu_seconds(procs: list[psutil.Process]) -> float:
    total = 0.0
    for p in procs:
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.Error:
            pass
    return total


def browser_procs(exclude: set[int]) -> list[psutil.Process]:
    return [p for p in psutil.Process().children(recursive=True) if p.pid not in exclude]


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(q * 100) - 1]


def line(label: str, pages: int, seconds: float, times: list[float], failed: int, server_cpu: float, client_cpu: float):
    busy = server_cpu + client_cpu
    return (
        f"{label:<24} {pages:>6} {pages / seconds:>8.2f} {pct(times, 0.5):>7.2f} {pct(times, 0.95):>7.2f} "
        f"{failed:>6} {100 * server_cpu / seconds:>9.0f} % {100 * client_cpu / busy if busy else 0:>8.0f} %"
    )


HEADER = (
    f"{'':<24} {'pages':>6} {'pages/s':>8} {'p50 s':>7} {'p95 s':>7} {'failed':>6} {'server CPU':>11} {'clients':>9}"
)


def ws_level(url: str, servers: list[App], sessions: int, seconds: float, visit=VISIT, label: str = "") -> str:
    me = psutil.Process()
    s0, c0 = cpu_seconds([a.ps for a in servers]), cpu_seconds([me])
    load = run_load(url, sessions, seconds, visit, warm_rounds=0)
    s1, c1 = cpu_seconds([a.ps for a in servers]), cpu_seconds([me])
    times = [r.seconds for r in load.runs if r.ok]
    failed = len(load.failures) + len(load.connect_errors)
    return line(label or f"{sessions} sessions", len(load.runs), load.seconds, times, failed, s1 - s0, c1 - c0)


def varied_visit(prepared: Path, n: int = 200, seed: int = 3) -> tuple[tuple[str, str], ...]:
    """Home, a search, a medicine, shortages and a comparison, different each time."""
    store = Store(prepared)
    rng = random.Random(seed)
    cis = store.table(DS.SPECIALITES)["cis"].cast(str).to_list()
    subs = store.table(DS.EI_SUBSTANCES)
    ids = subs.filter(subs["n_cas"].is_not_null())["ei_id"].to_list() if "ei_id" in subs.columns else []
    words = ["doliprane", "ibuprofene", "amoxicilline", "levothyrox", "metformine", "augmentin", "kardegic"]
    visit = []
    for _ in range(n):
        visit.append(("", ""))
        visit.append(("recherche", f"q={rng.choice(words)}"))
        visit.append(("medicament", f"cis={rng.choice(cis)}"))
        visit.append(("ruptures", ""))
        if len(ids) >= 2:
            a, b = rng.sample(ids, 2)
            visit.append(("comparer", f"s={a}&s={b}"))
    return tuple(visit)


async def _browser_level(url: str, sessions: int, seconds: float) -> tuple[int, list[float], int, float]:
    from playwright.async_api import async_playwright  # noqa: PLC0415

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        contexts = [await browser.new_context(viewport={"width": 1280, "height": 900}) for _ in range(sessions)]
        times: list[float] = []
        failed = 0

        pages = [await c.new_page() for c in contexts]

        async def session(k: int, stop_at: float, once: bool = False) -> None:
            nonlocal failed
            page = pages[k]
            step = k
            while once or time.perf_counter() < stop_at:
                once = False
                path, selector = BROWSER_VISIT[step % len(BROWSER_VISIT)]
                t0 = time.perf_counter()
                try:
                    await page.goto(url + path, wait_until="commit", timeout=60_000)
                    await page.locator(selector).first.wait_for(state="visible", timeout=60_000)
                    await page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]').wait_for(
                        state="attached", timeout=60_000
                    )
                    await page.locator('[data-testid="stStatusWidget"]').wait_for(state="hidden", timeout=60_000)
                    if await page.locator('[data-testid="stException"]').count():
                        failed += 1
                    else:
                        times.append(time.perf_counter() - t0)
                except Exception:  # a timeout: counted, the session goes on
                    failed += 1
                step += 1

        # one untimed visit per session first (the browser's own caches, the first render)
        await asyncio.gather(*(session(k, 0.0, once=True) for k in range(sessions)))
        times.clear()
        failed = 0
        began = time.perf_counter()
        await asyncio.gather(*(session(k, began + seconds) for k in range(sessions)))
        elapsed = time.perf_counter() - began
        await browser.close()
    return len(times) + failed, times, failed, elapsed


def browser_level(url: str, servers: list[App], exclude: set[int], sessions: int, seconds: float, label: str) -> str:
    s0 = cpu_seconds([a.ps for a in servers])
    me = psutil.Process()
    c0 = cpu_seconds([me])
    # the browser processes appear and go within the level: sample their CPU at the end
    result: dict = {}

    async def run() -> None:
        task = asyncio.create_task(_browser_level(url, sessions, seconds))
        peak = 0.0
        while not task.done():
            peak = max(peak, cpu_seconds(browser_procs(exclude)))
            await asyncio.sleep(0.5)
        result["value"] = await task
        result["browsers"] = peak

    asyncio.run(run())
    pages, times, failed, elapsed = result["value"]
    s1, c1 = cpu_seconds([a.ps for a in servers]), cpu_seconds([me])
    client = result["browsers"] + (c1 - c0)
    return line(label, pages, elapsed, times, failed, s1 - s0, client)


def memory_per_session(prepared: Path, work: Path) -> str:
    """A fresh process, warmed by one visit; then 100 and 200 sessions that each ran
    the home page and stay open (idle tabs)."""
    app = App(prepared, work / "app_sessions.log")
    clients: list[Client] = []
    rows = []
    try:
        with Client(app.url) as c:
            for page, query in VISIT:
                c.run(page, query)
        for target in (0, 100, 200):
            while len(clients) < target:
                c = Client(app.url)
                c.run("", "")
                clients.append(c)
            time.sleep(2)
            rows.append((target, app.ps.memory_info().rss / 2**20))
    finally:
        for c in clients:
            c.close()
        app.stop()
    per = (rows[-1][1] - rows[0][1]) / rows[-1][0]
    return "; ".join(f"{n} sessions {mb:.0f} MiB" for n, mb in rows) + f" -> {per:.2f} MiB per idle session"


def memory_per_refresh(app: App, prepared: Path, work: Path) -> str:
    def visit() -> None:
        with Client(app.url) as c:
            for page, query in VISIT * 2:
                c.run(page, query)

    visit()
    before = app.ps.memory_info().rss / 2**20
    rss = []
    for i in range(10):
        shutil.copytree(prepared.resolve(), work / f"refresh{i}")
        install(work / f"refresh{i}", prepared)
        visit()
        rss.append(app.ps.memory_info().rss / 2**20)
    med = statistics.median(rss)
    return (
        f"before {before:.0f} MiB; after each of 10 refreshes {[round(r) for r in rss]} MiB; "
        f"median {med:.0f}, range {100 * (min(rss) / med - 1):+.1f} % .. {100 * (max(rss) / med - 1):+.1f} %"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--raw", type=Path, help="raw folder to build from (into a temporary folder)")
    parser.add_argument("--prepared", type=Path, help="prepared folder to serve (copied)")
    parser.add_argument("--seconds", type=float, default=20.0, help="duration of each load level")
    parser.add_argument("--levels", default="1,5,10,20")
    parser.add_argument("--no-browsers", action="store_true")
    parser.add_argument("--no-memory", action="store_true")
    args = parser.parse_args()
    levels = [int(x) for x in args.levels.split(",")]
    work = Path(tempfile.mkdtemp(prefix="bench_serve_"))
    try:
        prepared = work / "prepared"
        if args.prepared:
            shutil.copytree(args.prepared.resolve(), work / "copy")
            install(work / "copy", prepared)
        elif args.raw:
            from datamed.pipeline.build import build  # noqa: PLC0415

            build(args.raw, prepared)
        else:
            parser.error("give --raw or --prepared")
        print(f"machine: {os.cpu_count()} cores; data: {Store(prepared).manifest.get('built_at')}")
        apps = [App(prepared, work / "app1.log"), App(prepared, work / "app2.log")]
        proxy = Proxy(apps, work / "haproxy.log") if os.path.exists(HAPROXY) else None
        try:
            for a in apps:  # caches warm on both processes
                with Client(a.url) as c:
                    for page, query in VISIT:
                        c.run(page, query)
            print("\n1. websocket clients, the fixed visit (server capacity)")
            print(HEADER)
            for n in levels:
                print(ws_level(apps[0].url, apps[:1], n, args.seconds, label=f"1 process, {n} sessions"), flush=True)
            if proxy:
                for n in levels:
                    print(ws_level(proxy.url, apps, n, args.seconds, label=f"2 processes, {n} sessions"), flush=True)
            print("\n2. websocket clients, a varied visit (new medicines and pairs: chart cache misses)")
            print(HEADER)
            visit = varied_visit(prepared)
            print(ws_level(apps[0].url, apps[:1], 10, args.seconds, visit, "1 process, 10 sessions"), flush=True)
            if proxy:
                print(ws_level(proxy.url, apps, 10, args.seconds, visit, "2 processes, 10 sessions"), flush=True)
            if not args.no_browsers:
                exclude = {a.proc.pid for a in apps} | ({proxy.proc.pid} if proxy else set())
                print("\n3. browsers (chromium on the same cores), the fixed visit")
                print(HEADER)
                for n in levels:
                    print(
                        browser_level(apps[0].url, apps[:1], exclude, n, args.seconds, f"1 process, {n} sessions"),
                        flush=True,
                    )
                if proxy:
                    for n in levels:
                        print(
                            browser_level(proxy.url, apps, exclude, n, args.seconds, f"2 processes, {n} sessions"),
                            flush=True,
                        )
            if not args.no_memory:
                print("\n4. memory of one app process")
                print("per session: " + memory_per_session(prepared, work), flush=True)
                print("per refresh: " + memory_per_refresh(apps[0], prepared, work), flush=True)
        finally:
            if proxy:
                proxy.stop()
            for a in apps:
                a.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
