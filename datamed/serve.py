"""Run the app: ``python -m datamed serve [streamlit options]``.

Equivalent to ``streamlit run app.py``, with one fix. Streamlit decides, when
the first session of a server starts, whether the app uses the legacy
``pages/`` directory mode, because a ``pages/`` folder exists next to app.py.
In that mode the very first visit of a deep link (``/medicament?cis=…``) is
resolved against the file names in pages/, fails, and shows a "Page not found"
dialog before app.py's ``st.navigation`` takes over. DataMed always uses
``st.navigation``, so the launcher declares it before the server starts. It also
makes the server answer its HTML page with ``lang="fr"`` instead of Streamlit's
"en" (``datamed.ui.page_lang``).

Before the server starts, when the prepared folder holds no data yet (a fresh
clone), the launcher builds it from the raw folder (``DATAMED_RAW``, by default
the bundled demo data). The app itself never builds: without prepared data it
shows a maintenance message. Clients cannot clear the server's caches
(``refuse_client_cache_clearing``).
"""

from __future__ import annotations

import importlib
import logging
import sys
import threading
from pathlib import Path

from streamlit.runtime.pages_manager import PagesManager
from streamlit.web import cli

from datamed.core import config
from datamed.core.config import REPO_ROOT
from datamed.core.folders import recover
from datamed.datasets import MANIFEST
from datamed.ui import page_lang, warmup


def ensure_prepared(prepared: Path | None = None, raw: Path | None = None) -> str | None:
    """Build the prepared folder from ``raw`` if it holds no manifest; return an
    error line (English, for the terminal) when that fails, else None."""
    prepared = Path(prepared or config.prepared_dir())
    try:  # a swap killed half-way: the last good data comes back, never the demo instead
        for line in recover(prepared):
            print(line, file=sys.stderr)
    except OSError as exc:
        return f"error: cannot check the prepared folder {prepared}: {exc}"
    if (prepared / MANIFEST).exists():
        return None
    # the build side (~2 s of imports) is loaded only when there is nothing to serve yet
    from datamed.pipeline.build import BuildError, build  # noqa: PLC0415

    raw = Path(raw or config.raw_dir())
    print(f"No prepared data in {prepared}: building it from {raw} ...", file=sys.stderr)
    try:
        build(raw, prepared)
    except (BuildError, OSError) as exc:
        return f"error: cannot prepare the data from {raw}: {exc}"
    return None


# Imported in the main thread before the server starts. Sessions run in threads, and
# a library that looks a module up in sys.modules (narwhals, through Altair) while
# another session's thread is still importing it gets it half-initialised: with 8
# sessions on a cold server, "partially initialized module 'pandas' has no attribute
# 'Timestamp'" (issue 12, the soak test).
PRELOAD = (
    "pandas",
    "pyarrow",
    "altair",
    "narwhals",
    "pydeck",
    "streamlit.emojis",  # compiles a 0.4 s regex the first time an alert or a title has an icon
    "datamed.present.charts",
    "datamed.present.maps",
    "datamed.views.adverse",
    "datamed.views.shortages",
    "datamed.views.sites",
    "datamed.views.quality",
    "datamed.views.search",
    "datamed.present.summary",
    "datamed.ui.common",
    "datamed.ui.warmup",
)


def preload() -> None:
    for name in PRELOAD:
        importlib.import_module(name)


def refuse_client_cache_clearing() -> None:
    """Any websocket client can send Streamlit's "clear cache" message, which empties
    every cache of the process for everyone (the prepared data, the search index, the
    charts), a cheap way to load a server. Streamlit has no setting to refuse it, so the
    handler is replaced: the message is logged and ignored. (Operators restart a process
    or refresh the data instead; a new data version is picked up by itself.)"""
    from streamlit.runtime.app_session import AppSession  # noqa: PLC0415

    from datamed.ui import runlog  # noqa: PLC0415

    if not hasattr(AppSession, "_handle_clear_cache_request"):  # a Streamlit upgrade moved it
        raise RuntimeError("streamlit: AppSession._handle_clear_cache_request is gone; update datamed/serve.py")

    def _refused(self) -> None:
        runlog.event("cache_clear_refused", level=logging.WARNING)

    AppSession._handle_clear_cache_request = _refused


def main(args: list[str] | None = None) -> int:
    options = sys.argv[1:] if args is None else args
    helping = bool({"-h", "--help"} & set(options))
    error = None if helping else ensure_prepared()  # help never builds
    if error:
        print(error, file=sys.stderr)
        return 1
    if not helping:
        preload()
        refuse_client_cache_clearing()
        page_lang.serve_declared()
        # the caches warm while the server starts (imports done above, in this thread)
        threading.Thread(target=warmup.warm, name="datamed-warmup", daemon=True).start()

    PagesManager.uses_pages_directory = False
    sys.argv = ["streamlit", "run", str(REPO_ROOT / "app.py"), *options]
    return cli.main(prog_name="streamlit")


if __name__ == "__main__":
    sys.exit(main())
