"""Synthetic ATC files (French labels, the WHO ATC/DDD table) and the ANSM
shortage signals per ATC class and year (``ansm_datamed/``)."""

from __future__ import annotations

import csv
import io
import json
import random
from pathlib import Path

from datamed.demo.bdpm import Generator
from datamed.demo.vocabulary import ATC_GROUPS, WHO_ONLY

WHO_CSV_NAME = "WHO_ATC-DDD_2026-04-25.csv"


def write_atc(out_dir: Path, gen: Generator) -> dict[str, int]:
    atc_dir = out_dir / "atc"
    atc_dir.mkdir(parents=True, exist_ok=True)
    names = {code: fr for code, (fr, _) in ATC_GROUPS.items()}
    names.update({p.atc: p.label_fr for p in gen.products})
    names = dict(sorted(names.items()))
    (atc_dir / "atc_names_fr.json").write_text(json.dumps(names, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    rows = [(code, en, "NA", "NA", "NA", "NA") for code, (_, en) in ATC_GROUPS.items()]
    entries = [(p.atc, p.label_en, p.ddd) for p in gen.products]
    entries += [(code, en, [tuple(d.split()) for d in ddd.split("|")] if ddd else []) for code, en, ddd in WHO_ONLY]
    seen: set[str] = set()
    for code, en, ddds in entries:
        if code not in seen:
            seen.add(code)
            rows += [(code, en, *d, "NA") for d in ddds] or [(code, en, "NA", "NA", "NA", "NA")]
    rows.sort(key=lambda r: r[0])  # stable: a code's routes keep their order
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(("atc_code", "atc_name", "ddd", "uom", "adm_r", "note"))
    writer.writerows(rows)
    (atc_dir / WHO_CSV_NAME).write_text(buffer.getvalue(), encoding="utf-8")
    return {"atc/atc_names_fr.json": len(names), f"atc/{WHO_CSV_NAME}": len(rows)}


# --- shortage signals per ATC class and year (ANSM / EIG DataMed, 2014-2020) -------
CLASS_YEARS = tuple(range(2014, 2021))
# Labels as the source writes them: mostly level-2 French labels, a few level-1
# ones, code-like labels typed with the letter O for a zero, one unknown label.
CLASS_ODD_LABELS = ("NO2", "JO1", "Divers médicaments non classés")
DEMO_CLASS_UNMAPPED = ("Divers médicaments non classés",)


def write_class_history(out_dir: Path, gen: Generator, seed: int) -> dict[str, int]:
    rng = random.Random(seed + 7)
    level2 = sorted({p.atc[:3] for p in gen.products})
    labels = [ATC_GROUPS[code][0] for code in level2 if code in ATC_GROUPS][:25]
    labels += [ATC_GROUPS[code][0] for code in ("N", "C") if code in ATC_GROUPS] + list(CLASS_ODD_LABELS)
    data: dict[str, dict[str, int]] = {}
    base = {label: rng.randint(2, 60) for label in labels}
    for i, year in enumerate(CLASS_YEARS):
        growth = 1 + 0.25 * i  # signals rose over the period, as they did in reality
        data[str(year)] = {label: max(1, int(base[label] * growth * rng.uniform(0.7, 1.3))) for label in labels}
    folder = out_dir / "ansm_datamed"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "ruptures_by_atc_by_annee.json").write_text(
        json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    return {"ansm_datamed/ruptures_by_atc_by_annee.json": sum(len(v) for v in data.values())}
