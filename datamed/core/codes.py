"""Code formats, written once: every reader, quality check, schema and view uses these.

Patterns are anchored strings usable by both Python's ``re`` and polars
(``str.contains``); ``[0-9]`` rather than ``\\d`` so that only ASCII digits pass.
"""

from __future__ import annotations

import re

CIS = r"^[0-9]{8}$"  # spécialité (Code Identifiant de Spécialité)
CIP7 = r"^[0-9]{7}$"  # presentation, old 7-digit code
CIP13 = r"^[0-9]{13}$"  # presentation, EAN-13 (check digit: see quality checks)
SUBSTANCE = r"^[0-9]{1,6}$"  # BDPM substance code
HAS_DOSSIER = r"^CT-?[0-9]+$"  # HAS transparency-committee file (case-insensitive)
GROUP_ID = r"^[0-9]+$"  # generic group
DISPO_STATUS_CODE = r"^[1-4]$"
ATC = r"^[A-Z]([0-9]{2}([A-Z]([A-Z]([0-9]{2})?)?)?)?$"  # any level, 1 to 7 characters
POSTAL = r"^[0-9]{5}$"
INSEE = r"^([0-9]{2}|2A|2B)[0-9]{3}$"  # commune, Corsica as 2A / 2B


def optional(pattern: str) -> str:
    """The same pattern, also matching the empty string."""
    return f"^({pattern[1:-1]})?$"


CIS_RE = re.compile(CIS)
CIP13_RE = re.compile(CIP13)
ATC_RE = re.compile(ATC)
