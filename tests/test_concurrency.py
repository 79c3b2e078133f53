"""No polars deadlock on the request path (issue 12).

Many sessions share one server process. A Python function run inside polars
(``map_elements``, ``map_batches``) in one session thread, while another thread
converts a frame to pandas (``to_pandas``, which ``st.dataframe`` does for a polars
frame), hangs the whole server (polars 2.1; reproduced standalone). So the read
side never runs a Python UDF inside polars, and tables reach Streamlit as Arrow
(``datamed.ui.common.dataframe``). These tests guard both rules and run the
formatting of our real views from many threads at once.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from datamed.core.config import REPO_ROOT

REQUEST_PATH = [
    *sorted((REPO_ROOT / "datamed" / "views").glob("*.py")),
    *sorted((REPO_ROOT / "datamed" / "present").glob("*.py")),
    *sorted((REPO_ROOT / "datamed" / "ui").glob("*.py")),
    *sorted((REPO_ROOT / "pages").glob("*.py")),
    REPO_ROOT / "app.py",
]
FORBIDDEN_CALLS = {"map_elements", "map_batches", "map_rows", "apply", "to_pandas"}


def _calls(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            yield node.func, node.lineno


@pytest.mark.parametrize("path", REQUEST_PATH, ids=lambda p: str(p.relative_to(REPO_ROOT)))
def test_no_python_udf_inside_polars_and_no_pandas_conversion(path):
    found = [f"{path.name}:{line} .{f.attr}()" for f, line in _calls(path) if f.attr in FORBIDDEN_CALLS]
    assert not found, found


@pytest.mark.parametrize("path", REQUEST_PATH, ids=lambda p: str(p.relative_to(REPO_ROOT)))
def test_tables_reach_streamlit_through_the_arrow_helper(path):
    if path == REPO_ROOT / "datamed" / "ui" / "common.py":
        return  # the helper itself
    direct = [
        f"{path.name}:{line} st.{f.attr}()"
        for f, line in _calls(path)
        if f.attr in ("dataframe", "table", "data_editor") and isinstance(f.value, ast.Name) and f.value.id == "st"
    ]
    assert not direct, direct


def test_the_guard_sees_a_forbidden_call(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text('import polars as pl\nx = pl.col("a").map_elements(str)\nst.dataframe(x)\n', encoding="utf-8")
    assert {f.attr for f, _ in _calls(bad)} >= {"map_elements", "dataframe"}


SCRIPT = textwrap.dedent(
    """
    import sys, threading
    from pathlib import Path
    from datamed.store import Store
    from datamed.views import adverse, quality
    from datamed.present import display, charts

    store = Store(Path(sys.argv[1]))
    nat = adverse.national(store)
    ids = store.table("ei_substances")["ei_id"].head(20).to_list()
    shared = store.table("ei_annee")  # one frame shared by every session, as the cache does
    errors = []

    def convert():  # what common.dataframe does for each table it shows
        for _ in range(300):
            shared.to_arrow()
            nat.soc.to_arrow()

    def format_views(k):
        try:
            for i in range(60):
                p = adverse.profile(store, ids[(k + i) % len(ids)])
                if p is not None:
                    adverse.soc_table(p).to_arrow()
                    charts.soc_bars(p.soc, "d")
                display.availability_table(store.table("disponibilites").head(50)).to_arrow()
                quality.scores_display(quality.source_scores(store)).to_arrow()
                quality.checks_display(quality.checks(store)).to_arrow()
        except Exception as exc:  # an error is a failure too, not a hang
            errors.append(repr(exc))

    threads = [threading.Thread(target=convert, daemon=True) for _ in range(3)]
    threads += [threading.Thread(target=format_views, args=(k,), daemon=True) for k in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(90)
    alive = sum(t.is_alive() for t in threads)
    print(f"alive={alive} errors={errors[:3]}", flush=True)
    sys.exit(1 if alive or errors else 0)
    """
)


@pytest.mark.slow
def test_views_formatted_from_many_threads_at_once_never_hang(real_prepared):
    """Eight threads on one shared store: three convert shared frames to Arrow while
    five build our pages' tables and charts. In a child process, so that a deadlock
    fails the test instead of freezing the test run."""
    try:
        done = subprocess.run(
            [sys.executable, "-c", SCRIPT, str(real_prepared)],
            capture_output=True,
            text=True,
            timeout=240,
            cwd=REPO_ROOT,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("the threads hung: a polars deadlock on the request path")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]


def test_production_settings_hide_error_details():
    """An unexpected error shows a generic message, never a traceback, in the browser;
    the toolbar offers no developer options; no usage statistics leave the server."""
    import tomllib

    config = tomllib.loads((REPO_ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["client"]["showErrorDetails"] == "none"
    assert config["client"]["toolbarMode"] in ("minimal", "viewer")
    assert config["browser"]["gatherUsageStats"] is False


def test_cached_data_versions_are_evicted(demo_prepared):
    """Each refresh opens a new data version; only the last two stay in memory."""
    import gc
    import weakref

    from datamed.ui import common

    common._open_store.clear()
    refs = [weakref.ref(common._open_store(str(demo_prepared), float(stamp))) for stamp in range(6)]
    gc.collect()
    alive = [r for r in refs if r() is not None]
    assert len(alive) == common.CACHED_VERSIONS
    assert refs[-1]() is not None and refs[0]() is None  # the newest kept, the oldest gone
    common._open_store.clear()


def test_production_settings_skip_the_file_watcher_and_the_forced_collection():
    """Under load, watching the sources and a full garbage collection after every page
    run took about half of the server's CPU (issue 12)."""
    import tomllib

    config = tomllib.loads((REPO_ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["server"]["fileWatcherType"] == "none"
    assert config["runner"]["postScriptGC"] is False


WIDGET_CALLBACKS = {"format_func", "on_change", "on_click", "data"}


def _page_closures(path: Path) -> list[str]:
    """Lambdas and functions of a page script handed to a widget: the session keeps
    them, and with them the page's globals (the store and its frames)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    defined = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            for kw in node.keywords:
                if kw.arg in WIDGET_CALLBACKS and (
                    isinstance(kw.value, ast.Lambda) or (isinstance(kw.value, ast.Name) and kw.value.id in defined)
                ):
                    found.append(f"{path.name}:{node.lineno} {kw.arg}=")
    return found


@pytest.mark.parametrize("path", sorted((REPO_ROOT / "pages").glob("*.py")), ids=lambda p: p.name)
def test_pages_hand_no_closure_to_a_widget(path):
    assert not _page_closures(path), _page_closures(path)


def test_the_closure_guard_sees_one(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text(
        "st.selectbox('x', opts, format_func=lambda k: labels[k])\ndef f(): pass\nst.button('b', on_click=f)\n"
    )
    assert _page_closures(bad) == ["bad.py:1 format_func=", "bad.py:3 on_click="]


def test_an_evicted_version_lets_its_frames_go(demo_prepared):
    """The cache's release hook empties an evicted store: a session still holding it
    keeps a shell, not the data; a page run in flight still reads (from disk)."""
    import gc
    import weakref

    from datamed.datasets import DS
    from datamed.ui import common

    common._open_store.clear()
    first = common._open_store(str(demo_prepared), 0.0)
    frame = weakref.ref(first.table(DS.SPECIALITES))
    first.memo(("x",), lambda: [1])
    for stamp in (1.0, 2.0):
        common._open_store(str(demo_prepared), stamp)
    gc.collect()
    assert frame() is None and first._frames == {} and first._cache == {}
    assert first.table(DS.SPECIALITES).height > 0 and first._frames == {}  # read through, not kept
    common._open_store.clear()


def test_widget_helpers_hold_no_store(demo_prepared, monkeypatch):
    from datamed.ui import common

    monkeypatch.setenv("DATAMED_PREPARED", str(demo_prepared))
    labels = common.OptionLabels({"N02": "Analgésiques"}, "{key} — {label}")
    assert labels("N02") == "N02 — Analgésiques" and labels("Z99") == "Z99 — Z99"
    deferred = common.WithStore(lambda store, n: store.table("specialites").height + n, 1)
    assert deferred.version[0] == str(demo_prepared.resolve())
    assert not any(isinstance(v, common.Store) for v in vars(deferred).values())
    assert deferred() > 1
