"""Charts on pages, built once per distinct input.

Building an Altair chart and converting it to Vega-Lite costs 50-80 ms of Python per
chart (object construction, deep copies, JSON-schema validation), and every session's
page run holds the GIL while it does: under load it was a third of the server's CPU
(issue 12). The same inputs give the same chart, so the Vega-Lite spec (JSON text and
its Arrow datasets) is kept in a bounded, process-wide LRU keyed on the builder and a
content fingerprint of its arguments; a hit costs a ``json.loads``.

Pages call ``show(charts.soc_bars, frame, desc, alt=desc, key="soc")`` instead of
``st.altair_chart(charts.soc_bars(frame, desc), ...)``.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import polars as pl
import streamlit as st

# Streamlit's own Altair -> Vega-Lite conversion (Arrow datasets, "none" theme), the one
# st.altair_chart uses; private, so tests/test_charting.py checks it is still there
from streamlit.elements.vega_charts import _convert_altair_to_vega_lite_spec

#: Altair's JSON-schema check of a chart is a quarter to a half of its conversion and
#: never changes the spec: the tests run with it (tests/conftest.py sets
#: DATAMED_VALIDATE_CHARTS=1, so every chart the AppTests and browser tests draw is
#: checked), page runs without it
VALIDATE = os.environ.get("DATAMED_VALIDATE_CHARTS") == "1"


class _Unchecked:
    """An Altair chart whose conversion skips the schema check (``VALIDATE`` off)."""

    def __init__(self, chart: Any):
        self.chart = chart

    def to_dict(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        return self.chart.to_dict(*args, **{**kwargs, "validate": False})


MAX_SPECS = 256  # a few hundred KB at most each: the cache stays under ~50 MB


class SpecCache:
    """A thread-safe LRU of chart specs."""

    def __init__(self, maxsize: int = MAX_SPECS):
        self.maxsize = maxsize
        self._items: OrderedDict[tuple, tuple[str, dict[str, Any]]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: tuple) -> tuple[str, dict[str, Any]] | None:
        with self._lock:
            entry = self._items.get(key)
            if entry is not None:
                self._items.move_to_end(key)
                self.hits += 1
            else:
                self.misses += 1
            return entry

    def put(self, key: tuple, entry: tuple[str, dict[str, Any]]) -> None:
        with self._lock:
            self._items[key] = entry
            self._items.move_to_end(key)
            while len(self._items) > self.maxsize:
                self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)


SPECS = SpecCache()


def fingerprint(value: Any) -> Any:
    """A hashable stand-in for a builder argument: frames by content (schema, rows in
    order), containers element by element, anything else as itself."""
    if isinstance(value, pl.DataFrame):
        digest = hashlib.blake2b(digest_size=16)
        digest.update(repr(value.schema).encode())
        if value.height:
            digest.update(value.hash_rows(seed=0).to_numpy().tobytes())
        return ("frame", value.height, digest.hexdigest())
    if isinstance(value, pl.Series):
        return ("series", fingerprint(value.to_frame()))
    if isinstance(value, dict):
        return ("dict", tuple(sorted((str(k), fingerprint(v)) for k, v in value.items())))
    if isinstance(value, list | tuple):
        return (type(value).__name__, tuple(fingerprint(v) for v in value))
    hash(value)  # anything else must be hashable (str, numbers, dates, None)
    return value


def spec(build: Callable[..., Any], *args, **kwargs) -> dict[str, Any]:
    """The Vega-Lite spec of ``build(*args, **kwargs)`` (an Altair chart), from the cache
    when these inputs were seen; a fresh dict the caller may change."""
    key = (build.__module__, build.__qualname__, fingerprint(args), fingerprint(kwargs))
    entry = SPECS.get(key)
    if entry is None:
        chart = build(*args, **kwargs)
        full = _convert_altair_to_vega_lite_spec(chart if VALIDATE else _Unchecked(chart))
        datasets = full.pop("datasets", {}) or {}
        entry = (json.dumps(full), datasets)
        SPECS.put(key, entry)
    text, datasets = entry
    result = json.loads(text)
    if datasets:
        result["datasets"] = dict(datasets)  # Streamlit moves them out of the spec
    return result


def show(build: Callable[..., Any], *args, alt: str, key: str, **kwargs) -> None:
    """Render ``build(*args, **kwargs)`` as st.altair_chart would, with its text
    alternative ``alt``."""
    st.vega_lite_chart(spec=spec(build, *args, **kwargs), alt=alt, key=key)
