"""Warm the server's caches as it starts, so the first visitor does not pay for them.

``python -m datamed serve`` runs ``warm`` in a background thread while Streamlit starts:
it opens the prepared data and the search index through the app's own cached accessors
(``st.cache_resource``, shared by every session of the process), reads every dataset, and
computes the derived tables the pages share (current availability, alternatives'
lookups, key figures, episode statuses), the shortages page's default charts, and
what a process's first chart and first map pay once (Altair's and Streamlit's first
conversion, the départements' outlines). A visitor who arrives before it ends waits on the
same caches, never computes them twice. A failure is logged, never fatal: the pages
compute what they need themselves.
"""

from __future__ import annotations

import logging
import time

import polars as pl

from datamed.datasets import DS
from datamed.ui import runlog


def _first_use(store, med) -> None:
    """What the first chart and the first map of a process pay once: the first conversion of
    an Altair chart to Vega-Lite, the départements' simplified outlines, a holder's sites as a
    deck."""
    from datamed.present import charts, maps  # noqa: PLC0415
    from datamed.ui import charting  # noqa: PLC0415
    from datamed.views import shortages, sites  # noqa: PLC0415

    episodes = shortages.medicine_episodes(store, med.cis)
    dated = episodes.filter(pl.col("date_debut").is_not_null())
    if not dated.is_empty():
        charting.spec(charts.episode_timeline, dated, med.snapshots.get(DS.DISPONIBILITES), "préchauffage")
    for holder in med.identity["titulaires"] or []:
        frame = sites.holder_sites(store, holder)
        if not frame.is_empty():
            maps.france_deck(store, frame, "points").to_json()
            break
    else:  # a holder with no known site: one site is enough to warm the outlines
        every_site = store.table(DS.SITES)
        if not every_site.is_empty():
            maps.france_deck(store, every_site.head(1), "points").to_json()


def _shortage_charts(store) -> None:
    """The shortages page's default view (ruptures and tensions, every class, the whole
    period): its five breakdown charts, built once into the chart cache."""
    from datamed.present import charts  # noqa: PLC0415
    from datamed.ui import charting  # noqa: PLC0415
    from datamed.views import shortages  # noqa: PLC0415

    frame = shortages.filter_episodes(store, shortages.Filters.parse(None, None, None, None))
    if frame.is_empty():
        return
    for title, column, label in shortages.BREAKDOWNS:
        data = shortages.breakdown(frame, column, label)
        if not data.is_empty():
            desc = shortages.breakdown_text(title)
            charting.spec(charts.count_bars, data, "categorie", "medicaments", desc, "Médicaments")


def warm() -> float | None:
    """Warm the caches; the seconds it took, or None when there is no data to warm."""
    started = time.perf_counter()
    try:
        from datamed.present import summary  # noqa: PLC0415 - the thread imports, not the launcher
        from datamed.ui import common  # noqa: PLC0415
        from datamed.views import adverse, catalogue, shortages  # noqa: PLC0415

        store = common._open_store(*common._key())
        common._open_index(*common._key())
        for name in store.manifest.get("datasets", {}):
            store.table(name)
        catalogue.key_figures(store)
        status = shortages.status_by_cis(store)
        _shortage_charts(store)
        spec = store.table(DS.SPECIALITES)
        # one medicine in shortage through the medicine page's views: the alternatives' lookups
        sample = next(iter(sorted(status)), None) or (spec["cis"][0] if not spec.is_empty() else None)
        if sample is not None:
            med = catalogue.medicine(store, sample)
            if med is not None:
                summary.brief(store, med)
                _first_use(store, med)
                if adverse.has_data(store) and not med.composition.is_empty():
                    for code in med.composition.filter(pl.col("nature_composant") == "SA")["code_substance"]:
                        adverse.profiles_for_substance(store, code)
    except Exception as exc:  # never fatal: the pages compute what they need
        runlog.event("cache_warmup_failed", level=logging.WARNING, error=f"{type(exc).__name__}: {exc}")
        return None
    seconds = time.perf_counter() - started
    runlog.event("cache_warmed", ms=round(1000 * seconds, 1))
    return seconds
