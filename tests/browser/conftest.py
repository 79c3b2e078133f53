"""Browser-test fixtures: live Streamlit servers and a headless chromium.

Servers are real ``streamlit run`` subprocesses on a free local port, pointed at
a prepared folder through ``DATAMED_PREPARED``. The browser is Debian's
chromium driven through Playwright's sync API (never ``playwright install``).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from datamed.core.config import REPO_ROOT

CHROMIUM = os.environ.get("DATAMED_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
STARTUP_TIMEOUT = 60.0  # seconds for /_stcore/health to answer "ok"
APP_TIMEOUT_MS = 30_000  # one script run, cold caches included
VIEWPORT = {"width": 1400, "height": 900}
_BROWSER_DIR = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config, items) -> None:
    """Every browser test is `slow` too: the fast tier (-m "not slow and not browser") never starts a server.

    The hook sees the whole session's items, so only those of this folder (or marked `browser`) are marked.
    """
    for item in items:
        if item.get_closest_marker("browser") or _BROWSER_DIR in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.slow)
            item.add_marker(pytest.mark.browser)


# --- live servers ------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class StreamlitServer:
    """One ``streamlit run app.py`` subprocess (its own process group)."""

    prepared: Path
    log_path: Path
    port: int = field(default_factory=_free_port)
    proc: subprocess.Popen | None = None
    #: how the server is launched; ("-m", "streamlit", "run", "app.py") for plain Streamlit
    launcher: tuple[str, ...] = ("-m", "datamed", "serve")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-6000:]
        except OSError:
            return ""

    def start(self) -> StreamlitServer:
        env = {**os.environ, "DATAMED_PREPARED": str(self.prepared), "PYTHONUNBUFFERED": "1"}
        cmd = [
            sys.executable,
            *self.launcher,
            "--server.headless",
            "true",
            "--server.address",
            "127.0.0.1",
            "--server.port",
            str(self.port),
            "--browser.gatherUsageStats",
            "false",
        ]
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                cmd,
                cwd=REPO_ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # own process group: killed as a whole on teardown
            )
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"streamlit exited with code {self.proc.returncode} before answering /_stcore/health:\n{self.log()}"
                )
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as resp:
                    if resp.read().decode().strip() == "ok":
                        return self
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"streamlit did not answer /_stcore/health within {STARTUP_TIMEOUT:.0f} s:\n{self.log()}")

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                return
            try:
                proc.wait(timeout=wait)
                return
            except subprocess.TimeoutExpired:
                continue


ServerFactory = Callable[[Path], StreamlitServer]


@pytest.fixture(scope="session")
def _server_logs(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("streamlit_logs")


@pytest.fixture(scope="session")
def start_server(_server_logs) -> Iterator[ServerFactory]:
    """Factory: ``start_server(prepared)`` starts a live server, stopped at session end."""
    servers: list[StreamlitServer] = []

    def factory(prepared: Path) -> StreamlitServer:
        server = StreamlitServer(Path(prepared), _server_logs / f"server_{len(servers)}.log")
        servers.append(server)
        return server.start()

    yield factory
    for server in servers:
        server.stop()


@pytest.fixture
def cold_server(start_server) -> Iterator[ServerFactory]:
    """Factory for a fresh server nobody has visited yet, stopped at the end of the test."""
    started: list[StreamlitServer] = []

    def factory(prepared: Path) -> StreamlitServer:
        server = start_server(prepared)
        started.append(server)
        return server

    yield factory
    for server in started:
        server.stop()


def _warm_up(browser, server: StreamlitServer) -> StreamlitServer:
    """One visit of the home page, so that tests see a server that has run app.py once.

    The very first script run of a server is special (see the cold-server tests);
    shared servers get it out of the way so tests do not depend on their order.
    """
    context = browser.new_context(viewport=VIEWPORT)
    try:
        page = context.new_page()
        page.goto(server.url + "/")
        wait_for_app(page, selector="h1")
    finally:
        context.close()
    return server


@pytest.fixture(scope="session")
def real_server(start_server, real_prepared, browser) -> StreamlitServer:
    return _warm_up(browser, start_server(real_prepared))


@pytest.fixture(scope="session")
def demo_server(start_server, demo_prepared, browser) -> StreamlitServer:
    return _warm_up(browser, start_server(demo_prepared))


# --- browser -----------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"chromium not found at {CHROMIUM}")
    with sync_api.sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


LOCAL_HOSTS = {"127.0.0.1", "localhost", "[::1]"}


def guard_external_requests(context) -> list[str]:
    """Abort, and record, every request the pages of ``context`` send to another host than
    the app's (tiles, fonts, CDNs: no page may contact one). Returns the list it fills."""
    outside: list[str] = []

    def check(route) -> None:
        url = route.request.url
        host = urlsplit(url).hostname or ""
        if url.startswith(("data:", "blob:", "about:")) or host in LOCAL_HOSTS or f"[{host}]" in LOCAL_HOSTS:
            route.continue_()
        else:
            outside.append(url)
            route.abort()

    context.route("**/*", check)
    return outside


@pytest.fixture
def page(browser):
    """A French-locale page; the test fails if any page it opened contacted another host."""
    context = browser.new_context(viewport=VIEWPORT, locale="fr-FR")
    context.set_default_timeout(APP_TIMEOUT_MS)
    outside = guard_external_requests(context)
    pg = context.new_page()
    yield pg
    context.close()
    assert outside == [], f"requests to other hosts than the app's: {sorted(set(outside))[:10]}"


# --- helpers -----------------------------------------------------------------------


def wait_for_app(
    page, *, selector: str | None = None, text: str | None = None, timeout: float = APP_TIMEOUT_MS
) -> None:
    """Wait until Streamlit has finished running and the expected content is shown.

    The expected ``selector`` and/or ``text`` must come first: right after a
    click, the previous run's page is still displayed and "not running".
    """
    if selector is not None and text is not None:
        page.locator(selector).filter(has_text=text).first.wait_for(state="visible", timeout=timeout)
    elif selector is not None:
        page.locator(selector).first.wait_for(state="visible", timeout=timeout)
    elif text is not None:
        page.get_by_text(text).first.wait_for(state="visible", timeout=timeout)
    page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]').wait_for(
        state="attached", timeout=timeout
    )
    page.locator('[data-testid="stStatusWidget"]').wait_for(state="hidden", timeout=timeout)
    # elements of the previous run fade out (stale) until the new run replaces them
    page.locator('[data-testid="stElementContainer"][data-stale="true"]').first.wait_for(
        state="detached", timeout=timeout
    )


def assert_no_exception(page) -> None:
    """No Streamlit exception box (traceback) on the page."""
    exceptions = page.locator('[data-testid="stException"]')
    if exceptions.count():
        raise AssertionError("Streamlit exception on the page:\n" + "\n---\n".join(exceptions.all_inner_texts()))


def page_not_found_dialogs(page) -> list[str]:
    """Texts of Streamlit's "Page not found" dialogs currently shown."""
    return page.locator('[data-testid="stDialog"]').filter(has_text="Page not found").all_inner_texts()


def screenshot_element(page, selector: str, path: Path, *, margin: int = 24) -> bytes:
    """Screenshot of the whole element, below the fold included, padding trimmed.

    Streamlit scrolls an inner container, so neither a full-page screenshot nor
    an element screenshot sees past the viewport: the viewport is grown to the
    element's height for the shot, then restored. The element's own padding
    (Streamlit's header space and bottom gap) is replaced by ``margin`` pixels.
    """
    element = page.locator(selector).first
    element.wait_for(state="visible")
    original = page.viewport_size or VIEWPORT
    height = element.evaluate("el => Math.ceil(el.getBoundingClientRect().top + el.scrollHeight)")
    page.set_viewport_size(
        {"width": original["width"], "height": min(max(height + margin, original["height"]), 12_000)}
    )
    try:
        page.wait_for_timeout(500)  # let canvases (dataframes) redraw at the new size
        wait_for_app(page)
        box = element.evaluate(
            """el => {
                const r = el.getBoundingClientRect(), cs = getComputedStyle(el);
                const px = name => parseFloat(cs[name]) || 0;
                return {x: r.left + px('paddingLeft'), y: r.top + px('paddingTop'),
                        width: r.width - px('paddingLeft') - px('paddingRight'),
                        height: r.height - px('paddingTop') - px('paddingBottom')};
            }"""
        )
        clip = {
            "x": max(box["x"] - margin, 0),
            "y": max(box["y"] - margin, 0),
            "width": box["width"] + 2 * margin,
            "height": box["height"] + 2 * margin,
        }
        return page.screenshot(path=str(path), clip=clip, animations="disabled")
    finally:
        page.set_viewport_size(original)


def goto(page, server: StreamlitServer, path: str, **wait) -> None:
    """Open ``path`` on ``server`` and wait for the run to finish."""
    page.goto(server.url + path)
    wait_for_app(page, **wait)
    assert_no_exception(page)
