"""Run the app: ``python -m datamed serve [streamlit options]``.

Equivalent to ``streamlit run app.py``, with one fix. Streamlit decides, when
the first session of a server starts, whether the app uses the legacy
``pages/`` directory mode, because a ``pages/`` folder exists next to app.py.
In that mode the very first visit of a deep link (``/medicament?cis=…``) is
resolved against the file names in pages/, fails, and shows a "Page not found"
dialog before app.py's ``st.navigation`` takes over. DataMed always uses
``st.navigation``, so the launcher declares it before the server starts.
"""

from __future__ import annotations

import sys

from datamed.core.config import REPO_ROOT


def main(args: list[str] | None = None) -> int:
    from streamlit.runtime.pages_manager import PagesManager
    from streamlit.web import cli

    PagesManager.uses_pages_directory = False
    sys.argv = ["streamlit", "run", str(REPO_ROOT / "app.py"), *(sys.argv[1:] if args is None else args)]
    return cli.main()


if __name__ == "__main__":
    sys.exit(main())
