"""One structured log line per page run: page, duration, outcome (issue 12); and one
per server event (a data version opened, a client's cache clearing refused).

Written as JSON on the ``datamed.pages`` logger (stderr by default), so that a log
collector behind the proxy can count page runs, their times and their errors per
process. No user input is logged (URL parameters can hold a search), only the page.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable

LOGGER = logging.getLogger("datamed.pages")
if not LOGGER.handlers:
    _handler = logging.StreamHandler()
    _handler.setFormatter(logging.Formatter("%(message)s"))
    LOGGER.addHandler(_handler)
    LOGGER.setLevel(logging.INFO)
    LOGGER.propagate = False


def event(name: str, level: int = logging.INFO, **fields) -> dict:
    """Log one JSON line ``{"event": name, **fields, "pid": ...}``."""
    entry = {"event": name, **fields, "pid": os.getpid()}
    LOGGER.log(level, json.dumps(entry, ensure_ascii=False))
    return entry


def record(page: str, seconds: float, error: BaseException | None = None, control: str | None = None) -> dict:
    entry = {"page": page, "ms": round(seconds * 1000, 1), "outcome": "error" if error is not None else "ok"}
    if error is not None:
        entry["error"] = type(error).__name__  # the type only: a message may quote data
    if control is not None:
        entry["control"] = control  # the page ended through Streamlit (st.stop, a rerun)
    return event("page_run", logging.ERROR if error is not None else logging.INFO, **entry)


def timed(page: str, run: Callable[[], object]) -> None:
    """Run a page and log it. Streamlit's own control flow (st.stop, a rerun) is not
    an error: it derives from BaseException, not Exception; it is logged as such and
    passes through."""
    started = time.perf_counter()
    try:
        run()
    except Exception as exc:
        record(page, time.perf_counter() - started, exc)
        raise
    except BaseException as exc:
        record(page, time.perf_counter() - started, control=type(exc).__name__)
        raise
    record(page, time.perf_counter() - started)
