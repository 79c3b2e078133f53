"""Metrics of a risk score on a test window: PR-AUC, ROC-AUC, recall in the top
``TOP_K``, Brier score and a decile calibration table (``Scores``)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
from sklearn.metrics import average_precision_score, roc_auc_score

TOP_K = 100


def recall_at_k(y, score, k: int = TOP_K) -> float:
    """Share of the positives found among the k highest scores.

    Ties at the k-th score are shared out: the expected value when the tied
    rows are ordered at random (so the result does not depend on row order).
    """
    y = np.asarray(y, dtype=float)
    s = np.asarray(score, dtype=float)
    total = y.sum()
    if total == 0 or len(y) == 0:
        return float("nan")
    k = min(k, len(y))
    kth = np.sort(s)[::-1][k - 1]
    above = s > kth
    tied = s == kth
    slots = k - above.sum()
    found = y[above].sum() + (y[tied].sum() * slots / tied.sum() if tied.sum() else 0.0)
    return float(found / total)


def brier(y, p) -> float:
    """Mean squared difference between the probability and the 0/1 outcome."""
    y = np.asarray(y, dtype=float)
    p = np.asarray(p, dtype=float)
    return float(np.mean((p - y) ** 2)) if len(y) else float("nan")


def calibration_table(y, p, bins: int = 10) -> pl.DataFrame:
    """Deciles of the predicted probability: mean predicted vs observed rate.

    Bin edges are the deciles of ``p``; equal edges are merged, so a 0/1 score
    gives two bins.
    """
    y = np.asarray(y, dtype=float)
    p = np.asarray(p, dtype=float)
    schema = {
        "classe": pl.Int64,
        "n": pl.Int64,
        "positifs": pl.Int64,
        "predit_moyen": pl.Float64,
        "observe": pl.Float64,
    }
    if len(p) == 0:
        return pl.DataFrame(schema=schema)
    edges = np.unique(np.quantile(p, np.linspace(0, 1, bins + 1)[1:-1]))
    idx = np.searchsorted(edges, p, side="left")  # a value equal to an edge goes to the lower bin
    rows = []
    for b, i in enumerate(np.unique(idx), start=1):
        m = idx == i
        rows.append(
            {
                "classe": b,
                "n": int(m.sum()),
                "positifs": int(y[m].sum()),
                "predit_moyen": float(p[m].mean()),
                "observe": float(y[m].mean()),
            }
        )
    return pl.DataFrame(rows, schema=schema)


@dataclass
class Scores:
    """Metrics of one scorer on one test window."""

    pr_auc: float  # average precision
    roc_auc: float
    recall_at_100: float
    brier: float
    calibration: pl.DataFrame

    @classmethod
    def of(cls, y, score, prob=None) -> Scores:
        y = np.asarray(y)
        prob = score if prob is None else prob
        both = len(np.unique(y)) == 2
        return cls(
            pr_auc=float(average_precision_score(y, score)) if both else float("nan"),
            roc_auc=float(roc_auc_score(y, score)) if both else float("nan"),
            recall_at_100=recall_at_k(y, score, TOP_K),
            brier=brier(y, prob),
            calibration=calibration_table(y, prob),
        )
