"""The server warms its caches as it starts (issue 15, part 8): ``datamed/ui/warmup.py``."""

from __future__ import annotations

from datamed.present import charts
from datamed.ui import charting, common, warmup
from datamed.views import shortages


def test_warm_fills_the_shared_caches(monkeypatch, real_prepared):
    monkeypatch.setenv("DATAMED_PREPARED", str(real_prepared))
    seconds = warmup.warm()
    assert seconds is not None and seconds > 0
    store = common._open_store(*common._key())  # the very object the pages get (st.cache_resource)
    assert store.memo("alternative_facts", lambda: None) is not None  # computed by the warm-up, not now
    assert store.memo("current_availability", lambda: None) is not None
    assert set(store._frames) >= set(store.manifest["datasets"])  # every dataset already read
    assert store.memo("departements_geometries", lambda: None) is not None  # the maps' outlines
    # the shortages page's default charts come from the chart cache, as the page asks for them
    frame = shortages.filter_episodes(store, shortages.Filters.parse(None, None, None, None))
    title, column, label = shortages.BREAKDOWNS[0]
    data = shortages.breakdown(frame, column, label)
    hits = charting.SPECS.hits
    charting.spec(charts.count_bars, data, "categorie", "medicaments", shortages.breakdown_text(title), "Médicaments")
    assert charting.SPECS.hits == hits + 1


def test_warm_never_fails_the_server(monkeypatch, tmp_path, caplog):
    monkeypatch.setenv("DATAMED_PREPARED", str(tmp_path / "nothing"))
    assert warmup.warm() is None
    assert any("cache_warmup_failed" in r.getMessage() and "no manifest.json" in r.getMessage() for r in caplog.records)
