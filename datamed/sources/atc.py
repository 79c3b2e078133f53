"""ATC classification labels: French where known, else the WHO English label.

Inputs (laid out like ``shared/data/atc``):
- ``atc_names_fr.json``: ``{code: French label}`` (sparse at level 3);
- ``WHO_ATC-DDD_*.csv``: WHO ATC/DDD index, one row per code *and* DDD/route,
  so codes repeat and must be de-duplicated.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from datamed.core import codes
from datamed.sources.textfile import Reject

ATC_RE = codes.ATC_RE
LEVEL_BY_LENGTH = {1: 1, 3: 2, 4: 3, 5: 4, 7: 5}


def atc_level(code: str) -> int | None:
    return LEVEL_BY_LENGTH.get(len(code)) if ATC_RE.match(code or "") else None


def _sentence_case(label: str) -> str:
    """WHO levels 1-3 are upper case; show them as a sentence."""
    if label.isupper():
        label = label.lower()
    return label[:1].upper() + label[1:]


def read_atc(folder: Path) -> tuple[pl.DataFrame, list[Reject], list[dict]]:
    """Return (labels frame, rejects, source file descriptions)."""
    rejects: list[Reject] = []
    files: list[dict] = []
    fr: dict[str, str] = {}
    en: dict[str, str] = {}
    fr_path = folder / "atc_names_fr.json"
    if fr_path.exists():
        name = f"atc/{fr_path.name}"
        try:
            data = json.loads(fr_path.read_bytes().decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError(f"{name}: not valid UTF-8 JSON ({exc})") from exc
        if not isinstance(data, dict):
            raise ValueError(f"{name}: expected a JSON object {{code: label}}")
        kept = 0
        for i, (code, label) in enumerate(data.items(), start=1):
            code = str(code).strip().upper()
            if not ATC_RE.match(code) or not isinstance(label, str) or not label.strip():
                rejects.append(Reject(name, i, "invalid ATC code or empty label", f"{code}: {label}"[:300]))
                continue
            fr[code] = label.strip()
            kept += 1
        files.append({"path": fr_path, "label": name, "lines": len(data), "rows": kept, "rejected": len(data) - kept})
    for who_path in sorted(folder.glob("WHO_ATC-DDD*.csv")):
        name = f"atc/{who_path.name}"
        frame = pl.read_csv(who_path, infer_schema=False, encoding="utf8-lossy")
        if "atc_code" not in frame.columns or "atc_name" not in frame.columns:
            raise ValueError(f"{name}: missing atc_code/atc_name columns")
        kept = 0
        for i, (code, label) in enumerate(zip(frame["atc_code"], frame["atc_name"]), start=2):
            code = (code or "").strip().upper()
            if not ATC_RE.match(code) or not label or label == "NA":
                rejects.append(Reject(name, i, "invalid ATC code or missing name", f"{code},{label}"[:300]))
                continue
            en.setdefault(code, _sentence_case(label.strip()))
            kept += 1
        files.append(
            {"path": who_path, "label": name, "lines": frame.height, "rows": kept, "rejected": frame.height - kept}
        )
    codes = sorted(set(fr) | set(en))
    out = pl.DataFrame(
        {
            "code_atc": codes,
            "niveau": [atc_level(c) for c in codes],
            "libelle_fr": [fr.get(c) for c in codes],
            "libelle_en": [en.get(c) for c in codes],
        },
        schema={"code_atc": pl.String, "niveau": pl.Int8, "libelle_fr": pl.String, "libelle_en": pl.String},
    ).with_columns(
        pl.coalesce(
            pl.col("libelle_fr").map_elements(lambda s: s[:1].upper() + s[1:], return_dtype=pl.String), "libelle_en"
        ).alias("libelle"),
        pl.when(pl.col("libelle_fr").is_not_null()).then(pl.lit("fr")).otherwise(pl.lit("en")).alias("langue"),
    )
    return out, rejects, files
