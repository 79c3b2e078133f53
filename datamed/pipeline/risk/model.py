"""The shortage-risk model: a small, regularised gradient-boosted tree classifier
(``fit``) with prior correction of the positives' weight (``RiskModel``), per-row
feature contributions (``RiskModel.drivers``) and permutation importance."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score
from sklearn.model_selection import GroupKFold
from threadpoolctl import threadpool_limits

from datamed.pipeline.risk.features import CATEGORICAL, NUMERIC


@dataclass(frozen=True)
class Encoder:
    """Features as a float matrix in ``ENCODED`` order: the numbers as they are, each
    category as its index among the training values (unknown or missing: NaN, which the
    trees treat as missing). Plain polars, about 20 times faster than a column transformer."""

    categories: dict[str, dict[str, float]]

    @classmethod
    def fit(cls, frame: pl.DataFrame) -> Encoder:
        return cls(
            {c: {v: float(i) for i, v in enumerate(sorted(frame[c].drop_nulls().unique()))} for c in CATEGORICAL}
        )

    def transform(self, frame: pl.DataFrame) -> np.ndarray:
        return frame.select(
            *[pl.col(c).cast(pl.Float64) for c in NUMERIC],
            *[pl.col(c).replace_strict(self.categories[c], default=None, return_dtype=pl.Float64) for c in CATEGORICAL],
        ).to_numpy()


#: Class imbalance (~1 positive for 150-200 negatives): the positives weigh this much in
#: the fit in total (x their number), about the square root of the imbalance, enough for
#: the trees to split on ~100 positives; the prior correction undoes it afterwards. Within
#: the positives, each shortage event (``label_events``) gets the same weight.
POSITIVE_WEIGHT = 10.0
#: Small, strongly regularised trees: ~100 positives per training window do not support more.
MODEL_PARAMS = dict(
    learning_rate=0.1, max_iter=100, max_leaf_nodes=8, min_samples_leaf=80, l2_regularization=1.0, early_stopping=False
)


def _new_model(seed: int) -> HistGradientBoostingClassifier:
    return HistGradientBoostingClassifier(
        categorical_features=list(range(len(NUMERIC), len(NUMERIC) + len(CATEGORICAL))),
        random_state=seed,
        **MODEL_PARAMS,
    )


#: encoded column order: the column transformer puts numeric features first
ENCODED = NUMERIC + CATEGORICAL


@dataclass
class RiskModel:
    """A fitted classifier with its encoder, plus the prior correction of the class weights.

    Giving the positives w times their weight multiplies the odds the model
    learns by w; the probabilities are corrected back to the observed base rate
    by dividing the odds by w (``odds_factor`` = 1 / w), which keeps them usable
    as probabilities (Brier score, calibration).
    """

    encoder: Encoder
    classifier: HistGradientBoostingClassifier
    odds_factor: float
    background: dict  # per encoded column: (values, weights) of the training population
    train_cutoff: date
    n_train: int
    n_train_pos: int
    calibrator: Platt | None = None  # out-of-fold Platt scaling (``fit_calibrated``)

    def encode(self, frame: pl.DataFrame) -> np.ndarray:
        return self.encoder.transform(frame)

    def _logit_encoded(self, x: np.ndarray) -> np.ndarray:
        return self.classifier.decision_function(x) + math.log(self.odds_factor)

    def logit(self, frame: pl.DataFrame) -> np.ndarray:
        return self._logit_encoded(self.encode(frame))

    def predict(self, frame: pl.DataFrame) -> np.ndarray:
        """Probabilities: calibrated when the model has a calibrator, else prior-corrected."""
        logit = self.logit(frame)
        if self.calibrator is not None:
            return self.calibrator(logit)
        return 1.0 / (1.0 + np.exp(-logit))

    def contributions(self, frame: pl.DataFrame) -> np.ndarray:
        """(rows x features) log-odds contribution of each feature to each row, in ``ENCODED`` order.

        Contribution of feature j to a CIS = its log-odds minus the average of
        its log-odds when j takes the values of the training population (each
        category with its frequency; for numbers, the 10th, 30th, 50th, 70th
        and 90th percentiles), every other feature unchanged. It answers "how much more
        at risk is this medicine because of this feature, compared with a
        typical value". With trees, contributions interact and do not add up
        exactly to the total.
        """
        x = self.encode(frame)
        base = self._logit_encoded(x)
        out = np.zeros((len(x), len(ENCODED)))
        for j, name in enumerate(ENCODED):
            values, weights = self.background[name]
            alt = np.zeros(len(x))
            xj = x.copy()
            for v, w in zip(values, weights):
                xj[:, j] = v
                alt += w * self._logit_encoded(xj)
            out[:, j] = base - alt
        return out

    def drivers(self, frame: pl.DataFrame, top: int = 3) -> list[list[tuple[str, float]]]:
        """Per row, the ``top`` features that raise its risk most (positive contributions only)."""
        mat = self.contributions(frame)
        out = []
        for row in mat:
            order = np.argsort(-row, kind="stable")[:top]
            out.append([(ENCODED[j], float(row[j])) for j in order if row[j] > 1e-9])
        return out


def _background(x: np.ndarray) -> dict:
    """Reference distribution of each encoded column (see ``RiskModel.contributions``)."""
    bg = {}
    for j, name in enumerate(ENCODED):
        col = x[:, j]
        if name in CATEGORICAL:
            values, counts = np.unique(col, return_counts=True)
            bg[name] = (values, counts / counts.sum())
        else:  # the 10th, 30th ... 90th percentiles, equal ones merged with their weights added
            values, counts = np.unique(np.quantile(col, np.linspace(0.1, 0.9, 5)), return_counts=True)
            bg[name] = (values, counts / counts.sum())
    return bg


def sample_weights(train: pl.DataFrame) -> np.ndarray:
    """1 for negatives; positives share POSITIVE_WEIGHT x their number, equally per event."""
    y = train["y"].to_numpy()
    n_pos = int(y.sum())
    if "evenement" not in train.columns or n_pos == 0:
        return np.where(y == 1, POSITIVE_WEIGHT, 1.0)
    ev = train.select("y", pl.col("evenement").fill_null(pl.col("cis")).alias("e"))
    size = ev.select(pl.len().over("e"))["len"].to_numpy()
    n_ev = ev.filter(pl.col("y") == 1)["e"].n_unique()
    return np.where(y == 1, POSITIVE_WEIGHT * n_pos / n_ev / size, 1.0)


def fit(train: pl.DataFrame, train_cutoff: date, seed: int = 0) -> RiskModel | None:
    """Fit the model on a labelled frame (``dataset_at``); None when it has a single class."""
    y = train["y"].to_numpy()
    n_pos = int(y.sum())
    if n_pos == 0 or n_pos == len(y):
        return None
    encoder = Encoder.fit(train)
    x = encoder.transform(train)
    clf = _new_model(seed)
    clf.fit(x, y, sample_weight=sample_weights(train))
    return RiskModel(encoder, clf, 1.0 / POSITIVE_WEIGHT, _background(x), train_cutoff, len(y), n_pos)


#: folds of the out-of-fold calibration (grouped, so one shortage event never spans two folds)
FOLDS = 3


@dataclass(frozen=True)
class Platt:
    """Platt scaling: p = 1 / (1 + exp(-(slope * score + intercept)))."""

    slope: float
    intercept: float

    def __call__(self, score) -> np.ndarray:
        z = self.slope * np.asarray(score, dtype=float) + self.intercept
        return 1.0 / (1.0 + np.exp(-z))


def platt(score, y) -> Platt | None:
    """Fit a Platt scaling of ``score`` to the 0/1 outcomes ``y`` (None with a single class)."""
    y = np.asarray(y)
    if len(np.unique(y)) < 2:
        return None
    lr = LogisticRegression(C=1e6, max_iter=1000)
    lr.fit(np.asarray(score, dtype=float).reshape(-1, 1), y)
    return Platt(float(lr.coef_[0, 0]), float(lr.intercept_[0]))


def fit_calibrated(train: pl.DataFrame, train_cutoff: date, groups, seed: int = 0) -> RiskModel | None:
    """``fit`` on the whole window, calibrated by Platt scaling of out-of-fold log-odds.

    The window is cut into ``FOLDS`` folds by ``groups`` (the bootstrap clusters:
    ATC-5 code, else generic group, else CIS): each fold is scored by a model
    fitted on the others, and the scaling is fitted on those out-of-fold scores,
    so it corrects the over-confidence of a model judged on its own training
    data. Without a usable fold the model keeps its prior correction.
    """
    model = fit(train, train_cutoff, seed)
    if model is None:
        return None
    groups = np.asarray(groups)
    if len(np.unique(groups)) < FOLDS:
        return model
    y = train["y"].to_numpy()
    oof = np.zeros(len(y))
    for rest, held in GroupKFold(n_splits=FOLDS).split(np.zeros(len(y)), y, groups):
        part = fit(train[rest.tolist()], train_cutoff, seed)
        if part is None:
            return model
        oof[held] = part.logit(train[held.tolist()])
    model.calibrator = platt(oof, y)
    return model


def importances(model: RiskModel, frame: pl.DataFrame, seed: int = 0, repeats: int = 3) -> pl.DataFrame:
    """Global permutation importance on a labelled frame: the drop of average
    precision when one feature's values are shuffled (mean and sd over ``repeats``)."""
    schema = {"variable": pl.String, "baisse_pr_auc": pl.Float64, "ecart_type": pl.Float64}
    y = frame["y"].to_numpy()
    if len(np.unique(y)) < 2:
        return pl.DataFrame(schema=schema)
    x = model.encode(frame)
    ref = average_precision_score(y, model._logit_encoded(x))
    rng = np.random.default_rng(seed)
    rows = []
    for j, name in enumerate(ENCODED):
        drops = []
        for _ in range(repeats):
            xp = x.copy()
            xp[:, j] = rng.permutation(xp[:, j])
            drops.append(ref - average_precision_score(y, model._logit_encoded(xp)))
        rows.append({"variable": name, "baisse_pr_auc": float(np.mean(drops)), "ecart_type": float(np.std(drops))})
    return pl.DataFrame(rows, schema=schema).sort(["baisse_pr_auc", "variable"], descending=[True, False])


def single_threaded(fn):
    """Run with one OpenMP thread: the trees are small, and on a busy 2-core machine the
    thread barriers of parallel prediction cost far more than they save."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with threadpool_limits(limits=1, user_api="openmp"):
            return fn(*args, **kwargs)

    return wrapper
