"""A live server driven over Streamlit's own websocket protocol (datamed.loadtest),
without a browser (issue 12): clients cannot clear the server's caches, memory stays
flat over ten data refreshes, and concurrent sessions get every page."""

from __future__ import annotations

import json
import shutil
import statistics
import time

import psutil
import pytest

from datamed.core.folders import install
from datamed.loadtest import VISIT, Client, run_load
from tests.browser.conftest import StreamlitServer

pytestmark = pytest.mark.slow


@pytest.fixture
def versioned(real_prepared, tmp_path):
    """A prepared link of its own over a copy of the real build."""
    out = tmp_path / "prepared"
    shutil.copytree(real_prepared.resolve(), tmp_path / "first")
    install(tmp_path / "first", out)
    return out


@pytest.fixture
def server(versioned, tmp_path):
    srv = StreamlitServer(versioned, tmp_path / "server.log").start()
    yield srv
    srv.stop()


def _events(server: StreamlitServer, name: str) -> list[dict]:
    lines = server.log_path.read_text(errors="replace").splitlines()
    return [e for e in (json.loads(line) for line in lines if line.startswith("{")) if e.get("event") == name]


def _visit(url: str) -> None:
    with Client(url) as client:
        for page, query in VISIT:
            run = client.run(page, query)
            assert run.ok, run


def test_a_client_cannot_clear_the_servers_caches(server):
    """Streamlit's 'clear cache' message would drop the data and index for everyone;
    the server logs it and keeps them (datamed.serve.refuse_client_cache_clearing)."""
    _visit(server.url)
    assert len(_events(server, "data_opened")) == 1
    with Client(server.url) as client:
        client.clear_cache()
        time.sleep(0.5)
        assert client.run("recherche", "q=doliprane").ok
    _visit(server.url)
    assert len(_events(server, "data_opened")) == 1, "the data was loaded again: the caches were cleared"
    assert len(_events(server, "cache_clear_refused")) == 1


def test_memory_stays_flat_over_ten_refreshes(server, versioned, tmp_path):
    """Each refresh switches the link to a new version; the server opens it on the next
    page run and lets the old ones go (two kept in memory). The resident memory after
    each of ten refreshes stays within 10 % of their median."""
    proc = psutil.Process(server.proc.pid)
    _visit(server.url)
    rss = []
    for i in range(10):
        shutil.copytree(versioned.resolve(), tmp_path / f"copy{i}")
        install(tmp_path / f"copy{i}", versioned)
        _visit(server.url)
        _visit(server.url)
        rss.append(proc.memory_info().rss / 2**20)
    opened = _events(server, "data_opened")
    assert len(opened) == 11 and opened[-1]["version"] == versioned.resolve().name
    median = statistics.median(rss)
    spread = [round(100 * (r / median - 1), 1) for r in rss]
    print(f"RSS after each refresh (MiB): {[round(r) for r in rss]}; % from the median: {spread}")
    assert all(abs(s) <= 10 for s in spread), spread


def test_ten_sessions_at_once_get_every_page(server):
    """Ten clients loop over home, search, medicine, shortages and comparison for 20 s:
    no page fails or times out (60 s), and the server stays healthy."""
    load = run_load(server.url, sessions=10, seconds=20)
    print(load.summary())
    assert not load.connect_errors and not load.failures, load.failures[:3]
    assert len(load.runs) >= 10 * len(VISIT) // 2
    assert server.proc.poll() is None
