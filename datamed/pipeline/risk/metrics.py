"""Metrics of a risk score on a test window: PR-AUC, ROC-AUC, recall in the top
``TOP_K``, Brier score and a decile calibration table (``Scores``)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy import sparse
from sklearn.metrics import average_precision_score, roc_auc_score

from datamed.core.stats import wilson_ci

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


# --- weighted metrics, for the bootstrap ---------------------------------------------------------


def _tie_groups(score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Order of ``score``, highest first, and the start index of each group of equal scores."""
    order = np.argsort(-score, kind="stable")
    s = score[order]
    starts = np.flatnonzero(np.r_[True, s[1:] != s[:-1]])
    return order, starts


def group_sums(y, score, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per replicate (row of ``weights``) and per group of equal scores (highest first):
    the weight of the positives and the total weight."""
    y = np.asarray(y, dtype=float)
    w = np.atleast_2d(np.asarray(weights, dtype=float))
    order, starts = _tie_groups(np.asarray(score, dtype=float))
    wo = w[:, order]
    return np.add.reduceat(wo * y[order], starts, axis=1), np.add.reduceat(wo, starts, axis=1)


def pr_auc_from_sums(gpos: np.ndarray, gall: np.ndarray) -> np.ndarray:
    """Average precision from ``group_sums``; NaN for a replicate without positive weight."""
    tp = gpos.cumsum(axis=1)
    allw = gall.cumsum(axis=1)
    total = tp[:, -1]
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(allw > 0, tp / allw, 0.0)
        return np.where(total > 0, (gpos * precision).sum(axis=1) / total, np.nan)


def recall_from_sums(gpos: np.ndarray, gall: np.ndarray, k: int = TOP_K) -> np.ndarray:
    """Recall in the top ``k`` units of weight from ``group_sums``; a group straddling
    the k-th unit contributes pro rata."""
    before = np.cumsum(gall, axis=1) - gall
    k = np.minimum(k, gall.sum(axis=1, keepdims=True))
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.clip((k - before) / np.where(gall > 0, gall, 1.0), 0.0, 1.0)
        total = gpos.sum(axis=1)
        return np.where(total > 0, (gpos * share).sum(axis=1) / total, np.nan)


def weighted_pr_auc(y, score, weights: np.ndarray) -> np.ndarray:
    """Average precision of ``score`` under each row of ``weights`` (replicates x rows).

    Rows drawn k times by a bootstrap weigh k. Equal scores form one threshold,
    as in scikit-learn's ``average_precision_score``, which it equals for unit
    weights (tested). NaN for a replicate without positive weight.
    """
    return pr_auc_from_sums(*group_sums(y, score, weights))


def weighted_recall_at_k(y, score, weights: np.ndarray, k: int = TOP_K) -> np.ndarray:
    """Recall in the top ``k`` units of weight under each row of ``weights``.

    A group of equal scores straddling the k-th unit contributes pro rata (the
    expected value over random orders of the tied rows), as ``recall_at_k``,
    which it equals for unit weights (tested).
    """
    return recall_from_sums(*group_sums(y, score, weights), k)


class ClusterSums:
    """``group_sums`` for weights that are per-cluster counts, as sparse products.

    With rows grouped in clusters and a replicate giving each cluster a count,
    the sums per score group are ``counts @ M`` where M (clusters x groups)
    holds how many rows (positive rows) of each cluster fall in each group: one
    sparse product per replicate block instead of a gather over every row.
    """

    def __init__(self, y, score, cluster_index: np.ndarray, n_clusters: int):
        y = np.asarray(y, dtype=float)
        order, starts = _tie_groups(np.asarray(score, dtype=float))
        is_start = np.zeros(len(order), dtype=np.int64)
        is_start[starts] = 1
        group = np.empty(len(order), dtype=np.int64)
        group[order] = np.cumsum(is_start) - 1
        shape = (len(starts), n_clusters)
        self.all_t = sparse.csr_matrix((np.ones(len(y)), (group, cluster_index)), shape=shape)
        self.pos_t = sparse.csr_matrix((y, (group, cluster_index)), shape=shape)

    def sums(self, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(gpos, gall) for ``counts`` (replicates x clusters)."""
        ct = np.ascontiguousarray(counts.T)
        return np.asarray(self.pos_t @ ct).T, np.asarray(self.all_t @ ct).T


def reliability_table(y, p, bins: int = 10) -> pl.DataFrame:
    """``calibration_table`` with the 95 % Wilson interval of each observed rate."""
    table = calibration_table(y, p, bins)
    bounds = [wilson_ci(k, n) for k, n in zip(table["positifs"].to_list(), table["n"].to_list())]
    return table.with_columns(
        pl.Series("observe_bas", [b[0] for b in bounds], dtype=pl.Float64),
        pl.Series("observe_haut", [b[1] for b in bounds], dtype=pl.Float64),
    )
