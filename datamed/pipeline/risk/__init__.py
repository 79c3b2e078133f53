"""Shortage risk: which marketed medicines start a rupture or tension soon?

**Target.** For every CIS of the catalogue (marketed specialities), whether it
*starts* a new rupture (status 1) or tension (status 2) episode, first listed
after the cutoff T, within ``horizon_days`` (182, i.e. six months) after T.

**As of T.** Features at T come from the availability snapshots dated on or
before T only: ``episodes_as_of`` replays the episode machine over that prefix
of the archive (the start dates, statuses and current episodes *as they were
then*), and ``features_at`` reads nothing else from the shortage history.
Catalogue attributes come from the newest dated BDPM snapshot on or before T
(``catalogues``), else from the current catalogue; either way the population
keeps the authorisations dated on or before T and the presentations declared by
then. The MITM list and the ATC classes are never dated.

**Baselines** (``baselines``): (a) a past episode of the same medicine, ranked
by recency; (b) recent episodes of the other medicines of its generic group,
ATC-5 code or holder.

**Model.** A small, regularised gradient-boosted tree model
(``HistGradientBoostingClassifier``, fixed parameters, deterministic), positives
weighted per shortage *event* (``label_events``), then calibrated by Platt
scaling of out-of-fold log-odds (``fit_calibrated``).

**Evaluation** (``evaluation``). Forward in time, at every window the archive
allows (training at T0 = T1 - horizon, testing at T1, both windows inside the
archive); gains in PR-AUC and recall@100 over the best baseline with cluster-
bootstrap 95 % intervals; a reliability table of the calibrated probabilities.
The model is shown only if the lower bound of its PR-AUC gain is > 0; with an
archive shorter than two horizons it is not evaluated at all, and the report
says why.

**Modules.** ``features`` (features and labels at a cutoff), ``catalogues``
(the catalogue as it was), ``baselines``,
``model`` (the classifier, calibration, contributions and importances),
``metrics`` (``Scores`` and the weighted metrics of the bootstrap), ``report``
(``RiskReport`` and its French summary), ``evaluation`` (``evaluate``) and
``scoring`` (``score_current``). scikit-learn is imported with the package:
``datamed.pipeline.build`` imports it in a worker process, never at app start-up.
"""

from datamed.pipeline.episodes import episodes_as_of
from datamed.pipeline.risk.baselines import BASELINES, baseline_scores
from datamed.pipeline.risk.catalogues import DATED_FILES, catalogue_date, catalogues_as_of, older_snapshots
from datamed.pipeline.risk.evaluation import (
    MODEL,
    N_BOOT,
    Window,
    cluster_of,
    clusters,
    evaluate,
    final_cutoff,
    history_as_of,
    needed_dates,
    snapshot_dates,
    windows,
)
from datamed.pipeline.risk.features import (
    CATEGORICAL,
    DATASETS,
    FEATURES,
    HORIZON_DAYS,
    MARKETED,
    NUMERIC,
    PAST_STATUSES,
    RECENCY_CAP_DAYS,
    RECENT_DAYS,
    TARGET_STATUSES,
    dataset_at,
    datasets_from_store,
    features_at,
    form_group,
    label_events,
    labels_at,
    last_snapshot,
    n_events,
    past_episodes,
    route_group,
)
from datamed.pipeline.risk.metrics import (
    TOP_K,
    Scores,
    brier,
    calibration_table,
    recall_at_k,
    reliability_table,
    weighted_pr_auc,
    weighted_recall_at_k,
)
from datamed.pipeline.risk.model import (
    ENCODED,
    FOLDS,
    MODEL_PARAMS,
    POSITIVE_WEIGHT,
    Encoder,
    Platt,
    RiskModel,
    fit,
    fit_calibrated,
    importances,
    platt,
    sample_weights,
)
from datamed.pipeline.risk.report import ArchiveSpan, Gain, RiskReport, WindowResult
from datamed.pipeline.risk.scoring import score_current

__all__ = [
    "BASELINES",
    "CATEGORICAL",
    "DATASETS",
    "DATED_FILES",
    "ENCODED",
    "FEATURES",
    "FOLDS",
    "HORIZON_DAYS",
    "MARKETED",
    "MODEL",
    "MODEL_PARAMS",
    "NUMERIC",
    "N_BOOT",
    "PAST_STATUSES",
    "POSITIVE_WEIGHT",
    "RECENCY_CAP_DAYS",
    "RECENT_DAYS",
    "TARGET_STATUSES",
    "TOP_K",
    "ArchiveSpan",
    "Encoder",
    "Gain",
    "Platt",
    "RiskModel",
    "RiskReport",
    "Scores",
    "Window",
    "WindowResult",
    "baseline_scores",
    "brier",
    "calibration_table",
    "catalogue_date",
    "catalogues_as_of",
    "cluster_of",
    "clusters",
    "dataset_at",
    "datasets_from_store",
    "episodes_as_of",
    "evaluate",
    "features_at",
    "final_cutoff",
    "fit",
    "fit_calibrated",
    "form_group",
    "history_as_of",
    "importances",
    "label_events",
    "labels_at",
    "last_snapshot",
    "n_events",
    "needed_dates",
    "older_snapshots",
    "past_episodes",
    "platt",
    "recall_at_k",
    "reliability_table",
    "route_group",
    "sample_weights",
    "score_current",
    "snapshot_dates",
    "weighted_pr_auc",
    "weighted_recall_at_k",
    "windows",
]
