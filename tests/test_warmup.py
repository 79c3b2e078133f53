"""The server warms its caches as it starts (issue 15, part 8): ``datamed/ui/warmup.py``."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from datamed.core.config import REPO_ROOT
from datamed.ui import charting, common, routes, warmup


def test_warm_fills_the_shared_caches(monkeypatch, real_prepared):
    monkeypatch.setenv("DATAMED_PREPARED", str(real_prepared))
    seconds = warmup.warm()
    assert seconds is not None and seconds > 0
    store = common._open_store(*common._key())  # the very object the pages get (st.cache_resource)
    assert store.memo("alternative_facts", lambda: None) is not None  # computed by the warm-up, not now
    assert store.memo("current_availability", lambda: None) is not None
    assert set(store._frames) >= set(store.manifest["datasets"])  # every dataset already read
    assert store.memo("departements_geometries", lambda: None) is not None  # the maps' outlines
    # the shortages page's first run draws its five default charts from the chart cache
    hits, misses = charting.SPECS.hits, charting.SPECS.misses
    at = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=120)
    at.switch_page(routes.SHORTAGES.file)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert (charting.SPECS.hits - hits, charting.SPECS.misses - misses) == (5, 0)


def test_warm_never_fails_the_server(monkeypatch, tmp_path, caplog):
    monkeypatch.setenv("DATAMED_PREPARED", str(tmp_path / "nothing"))
    assert warmup.warm() is None
    assert any("cache_warmup_failed" in r.getMessage() and "no manifest.json" in r.getMessage() for r in caplog.records)
