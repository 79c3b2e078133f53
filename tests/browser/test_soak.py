"""Concurrency soak (issue 12): several browser sessions loop over the pages of one
live server on the real build, at the same time, for a bounded time.

Each round starts the next page of every session at once (so the server runs
several scripts together), then waits for each to finish. The server must stay
healthy (``/_stcore/health`` answers), every page must finish within 60 s with no
exception box, and the server's memory must not grow by 20 % or more between the
end of the first round (caches warm) and the end. Sessions and duration:
``DATAMED_SOAK_SESSIONS`` (8) and ``DATAMED_SOAK_SECONDS`` (180).
"""

from __future__ import annotations

import os
import time
import urllib.request
from pathlib import Path

from tests.browser.conftest import VIEWPORT, assert_no_exception, wait_for_app

SESSIONS = int(os.environ.get("DATAMED_SOAK_SESSIONS", "8"))
SECONDS = float(os.environ.get("DATAMED_SOAK_SECONDS", "180"))
PAGE_TIMEOUT_MS = 60_000
VISIT = [  # home -> search -> medicine -> shortages -> comparison (the loop that froze the server)
    ("/", "h1", None),
    ("/recherche?q=doliprane", "h1", None),
    ("/medicament?cis=60002283", "h1", "ANASTROZOLE ACCORD"),
    ("/ruptures", "h1", "Ruptures"),
    ("/comparer?s=abacavir-sulfate-d&s=anastrozole", "h1", None),
]


def _rss_kib(pid: int) -> int:
    """Resident memory of the server process and its children (KiB)."""
    total = 0
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
        if int(fields.get("Pid", "0")) == pid or int(fields.get("PPid", "0").strip() or 0) == pid:
            total += int(fields.get("VmRSS", "0 kB").split()[0])
    return total


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=10) as resp:
            return resp.read().decode().strip() == "ok"
    except OSError:
        return False


def soak(browser, url: str, pids: list[int], log, *, sessions: int = SESSIONS, seconds: float = SECONDS) -> dict:
    """Browser sessions loop over VISIT on ``url`` for ``seconds``; assert no hang, no
    exception and RSS growth under 20 % (``pids``: the app processes); return what each
    session saw (``backends``: the X-DataMed-Backend of its pages, behind the proxy)."""
    contexts = [browser.new_context(viewport=VIEWPORT, locale="fr-FR") for _ in range(sessions)]
    backends: list[set] = [set() for _ in range(sessions)]
    try:
        pages = [c.new_page() for c in contexts]
        for p in pages:
            p.set_default_timeout(PAGE_TIMEOUT_MS)
        started, rounds, page_runs, slowest = time.monotonic(), 0, 0, 0.0
        rss_warm = None
        while rounds < len(VISIT) or time.monotonic() - started < seconds:
            t0 = time.monotonic()
            steps = [VISIT[(rounds + k) % len(VISIT)] for k in range(sessions)]  # sessions on different pages
            for k, (p, (path, _sel, _text)) in enumerate(zip(pages, steps)):
                response = p.goto(url + path, wait_until="commit")  # all start, none waited for yet
                backends[k].add(response.headers.get("x-datamed-backend") if response else None)
            for p, (path, sel, text) in zip(pages, steps):
                wait_for_app(p, selector=sel, text=text, timeout=PAGE_TIMEOUT_MS)
                try:
                    assert_no_exception(p)
                except AssertionError as exc:
                    raise AssertionError(f"{path} (round {rounds}): {exc}\nserver log:\n{log()}") from None
            slowest = max(slowest, time.monotonic() - t0)
            page_runs += sessions
            rounds += 1
            assert _healthy(url), f"health stopped answering after {rounds} rounds:\n{log()}"
            if rounds == len(VISIT):  # every session has seen every page: caches are warm
                rss_warm = sum(_rss_kib(pid) for pid in pids)
        rss_end = sum(_rss_kib(pid) for pid in pids)
        print(
            f"soak: {sessions} sessions, {rounds} rounds, {page_runs} page runs in "
            f"{time.monotonic() - started:.0f} s; slowest round {slowest:.1f} s; "
            f"server RSS {rss_warm / 1024:.0f} -> {rss_end / 1024:.0f} MiB"
        )
        assert rss_warm and rss_end < 1.2 * rss_warm, (rss_warm, rss_end)
        return {"rounds": rounds, "page_runs": page_runs, "backends": backends}
    finally:
        for c in contexts:
            c.close()


def test_sessions_loop_over_the_pages_without_hang_error_or_growth(browser, cold_server, real_prepared):
    server = cold_server(real_prepared)
    soak(browser, server.url, [server.proc.pid], server.log)
    assert server.proc.poll() is None, server.log()
