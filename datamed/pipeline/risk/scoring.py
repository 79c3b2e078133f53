"""Risk of every marketed medicine for the months after the last snapshot
(``score_current``), with the features that raise it most."""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl

from datamed.core.text import fr_int, fr_number
from datamed.pipeline.risk.evaluation import cluster_of, clusters, history_as_of
from datamed.pipeline.risk.features import CATEGORICAL, FEATURES, dataset_at, features_at
from datamed.pipeline.risk.model import fit_calibrated, single_threaded
from datamed.pipeline.risk.report import RiskReport


def _driver_label(name: str, value) -> str:
    label = FEATURES[name][1]
    if name in CATEGORICAL:
        return f"{label} : {value}"
    if name == "mitm":
        return "MITM : oui" if value else "MITM : non"
    if name in ("episode_12_mois", "episode_en_cours"):
        return f"{label} : {'oui' if value else 'non'}"
    if float(value).is_integer():
        return f"{label} : {fr_int(value)}"
    return f"{label} : {fr_number(value, 1)}"


@single_threaded
def score_current(
    datasets: dict[str, pl.DataFrame],
    report: RiskReport,
    top: int = 3,
    drivers_for: int | None = None,
    asof: dict[date, pl.DataFrame] | None = None,
    catalogues: dict[date, dict[str, pl.DataFrame]] | None = None,
) -> pl.DataFrame:
    """Risk of every marketed CIS for the ``horizon_days`` after the last snapshot.

    Only when ``report.shown``; otherwise an empty frame (same columns). The
    model is refitted and calibrated on the latest window the archive allows
    (features at ``report.final_train_cutoff`` as known then, labels up to the
    last snapshot) and applied to the features at the last snapshot.

    Columns: cis, denomination, probabilite, episode_en_cours (a rupture or
    tension is open at the snapshot), facteur_1..``top`` ("label : value" of the
    features that raise the risk most) and contribution_1..``top`` (their
    log-odds contribution, see ``RiskModel.contributions``); sorted by
    decreasing probability.
    """
    schema = {"cis": pl.String, "denomination": pl.String, "probabilite": pl.Float64, "episode_en_cours": pl.Boolean}
    for i in range(1, top + 1):
        schema[f"facteur_{i}"] = pl.String
        schema[f"contribution_{i}"] = pl.Float64
    cutoff = report.final_train_cutoff
    if not report.shown or cutoff is None or report.snapshot is None:
        return pl.DataFrame(schema=schema)
    known = (asof or {}).get(cutoff)
    if known is None:
        known = history_as_of(datasets, [cutoff])[cutoff]
    train = dataset_at(datasets, cutoff, report.horizon_days, known=known, catalogue=(catalogues or {}).get(cutoff))
    model = fit_calibrated(train, cutoff, cluster_of(train, clusters(datasets)), report.seed)
    if model is None:
        return pl.DataFrame(schema=schema)
    now = features_at(datasets, report.snapshot)
    prob = model.predict(now)
    if drivers_for is not None and drivers_for < now.height:
        # drivers cost one prediction per feature value: compute them for the riskiest only
        order = np.argsort(-prob, kind="stable")[:drivers_for]
        drivers = [[] for _ in range(now.height)]
        for idx, drv in zip(order, model.drivers(now[order.tolist()], top)):
            drivers[idx] = drv
    else:
        drivers = model.drivers(now, top)
    rows = []
    for rec, p, drv in zip(now.iter_rows(named=True), prob, drivers):
        row = {
            "cis": rec["cis"],
            "denomination": rec["denomination"],
            "probabilite": float(p),
            "episode_en_cours": bool(rec["episode_en_cours"]),
        }
        for i in range(top):
            name, c = drv[i] if i < len(drv) else (None, None)
            row[f"facteur_{i + 1}"] = _driver_label(name, rec[name]) if name else None
            row[f"contribution_{i + 1}"] = c
        rows.append(row)
    return pl.DataFrame(rows, schema=schema).sort(["probabilite", "cis"], descending=[True, False])
