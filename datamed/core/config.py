"""Paths and settings, overridable through environment variables.

- ``DATAMED_PREPARED``: folder of prepared datasets the app reads
  (default ``data/prepared``).
- ``DATAMED_RAW``: raw folder the app builds from on first start when no
  prepared data exists (default: the bundled demo data, ``data/demo``).
- ``DATAMED_RELEASES``: folder of open-data releases (default ``data/releases``).
- ``DATAMED_ISSUES_URL``: address of the project's issue tracker, where the
  accessibility statement tells users to report a problem (unset: the statement
  names the tracker without a link).
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DATA_DIR = REPO_ROOT / "data"
DEMO_RAW_DIR = DATA_DIR / "demo"
DEFAULT_PREPARED_DIR = DATA_DIR / "prepared"
DEFAULT_DOWNLOAD_DIR = DATA_DIR / "raw"
DEFAULT_RELEASES_DIR = DATA_DIR / "releases"

BDPM_BASE_URL = "https://base-donnees-publique.medicaments.gouv.fr"
BDPM_RECORD_URL = BDPM_BASE_URL + "/extrait.php?specid={cis}"


def prepared_dir() -> Path:
    return Path(os.environ.get("DATAMED_PREPARED") or DEFAULT_PREPARED_DIR)


def releases_dir() -> Path:
    """Open-data releases (``DATAMED_RELEASES``, default ``data/releases``)."""
    return Path(os.environ.get("DATAMED_RELEASES") or DEFAULT_RELEASES_DIR)


def raw_dir() -> Path:
    return Path(os.environ.get("DATAMED_RAW") or DEMO_RAW_DIR)


def issues_url() -> str | None:
    """The project's issue tracker (``DATAMED_ISSUES_URL``), if the deployment names one."""
    url = (os.environ.get("DATAMED_ISSUES_URL") or "").strip()
    return url if url.startswith(("https://", "http://")) else None
