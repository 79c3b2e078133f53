"""Forward-in-time evaluation of the model (``evaluate``) against the persistence
baseline (``baseline_score``): fit at T0 = T1 - horizon, test at T1."""

from __future__ import annotations

import math
import time
from datetime import date, timedelta

import numpy as np
import polars as pl

from datamed.pipeline.risk.features import HORIZON_DAYS, RECENCY_CAP_DAYS, dataset_at, last_snapshot, n_events
from datamed.pipeline.risk.metrics import Scores, brier
from datamed.pipeline.risk.model import fit, importances, single_threaded
from datamed.pipeline.risk.report import RiskReport


def baseline_score(frame: pl.DataFrame) -> np.ndarray:
    """Persistence baseline, ranked: 1 if an episode started in the past 12 months, else 0,
    plus a recency tie-break below 0.001 (more recent start = higher), so its probability
    reading stays the 0/1 flag for the Brier score and calibration."""
    flag = frame["episode_12_mois"].to_numpy()
    recency = 1.0 - frame["jours_depuis_dernier"].to_numpy() / RECENCY_CAP_DAYS
    return flag + 1e-3 * recency * flag


@single_threaded
def evaluate(
    datasets: dict[str, pl.DataFrame],
    test_cutoff: date | None = None,
    horizon_days: int = HORIZON_DAYS,
    seed: int = 0,
    with_importance: bool = True,
) -> RiskReport:
    """Forward-in-time evaluation of the model against the persistence baseline.

    Train on the features at ``test_cutoff - horizon_days`` with the labels of
    the following ``horizon_days`` (up to ``test_cutoff``); test on the
    features at ``test_cutoff`` with the labels of (test_cutoff, test_cutoff +
    horizon_days]. By default ``test_cutoff`` = last snapshot - horizon_days,
    so the test window ends at the snapshot. ``beats_baseline`` is model PR-AUC
    > baseline PR-AUC.
    """
    t0 = time.perf_counter()
    snap = last_snapshot(datasets)
    if test_cutoff is None:
        test_cutoff = snap - timedelta(days=horizon_days)
    train_cutoff = test_cutoff - timedelta(days=horizon_days)
    train = dataset_at(datasets, train_cutoff, horizon_days)
    test = dataset_at(datasets, test_cutoff, horizon_days)
    y = test["y"].to_numpy()
    model = fit(train, train_cutoff, seed)
    base = Scores.of(y, baseline_score(test), test["episode_12_mois"].to_numpy())
    rate = float(train["y"].mean()) if train.height else float("nan")
    scores, importance, note = None, None, ""
    if model is None:
        note = "aucun nouvel épisode, ou rien que des nouveaux épisodes, dans la période d'apprentissage"
    else:
        scores = Scores.of(y, model.predict(test))
        if with_importance:
            importance = importances(model, test, seed)
    beats = (
        scores is not None
        and not math.isnan(scores.pr_auc)
        and not math.isnan(base.pr_auc)
        and scores.pr_auc > base.pr_auc
    )
    return RiskReport(
        train_cutoff=train_cutoff,
        test_cutoff=test_cutoff,
        horizon_days=horizon_days,
        snapshot=snap,
        n_train=train.height,
        n_train_positives=int(train["y"].sum()),
        n_train_events=n_events(train),
        n_test=test.height,
        n_test_positives=int(y.sum()),
        n_test_events=n_events(test),
        model=scores,
        baseline=base,
        brier_constant=brier(y, np.full(len(y), rate)),
        beats_baseline=bool(beats),
        seconds=time.perf_counter() - t0,
        importance=importance,
        note=note,
        seed=seed,
    )
