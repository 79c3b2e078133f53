"""Shortage risk: which marketed medicines start a rupture or tension soon?

**Target.** For every CIS of the catalogue (marketed specialities), the
probability that it *starts* a new rupture (status 1) or tension (status 2)
episode within ``horizon_days`` (182, i.e. six months) after a cutoff date T.

**Information used.** ``features_at`` only uses what was known before T:

- from ``ruptures_episodes``: the CIS, the start date ``date_debut`` and the
  first-seen status ``statut_initial`` (only to keep statuses 1, 2 and 3, i.e.
  the episode definition) of the episodes that *started before T*. Everything
  observed later (``date_fin``, ``statut``, ``en_cours``, ``duree_jours``,
  ``fin_observee``, ``derniere_vue``, ``date_mise_a_jour``...) is never read, and
  neither are episodes starting on or after T;
- from the catalogue (BDPM snapshot): static attributes of the speciality
  (ATC class, form, route, holder, generic group, MITM list, authorisation
  status, procedure and date, presentations declared by T).

**Model.** A small, regularised gradient-boosted tree model
(``HistGradientBoostingClassifier``, fixed parameters, no early stopping, so
fully deterministic). Class imbalance (~0.5 % positives): the positives get 10
times their weight in total, shared equally between shortage *events* (one
molecule-wide tension often starts for 10-30 generics the same day; see
``label_events``), and the probabilities are corrected back to the base rate
(prior correction of the odds), so they stay usable as probabilities.

**Evaluation.** Forward in time (``evaluate``): fit on the features at
T0 = T1 - horizon with the labels of (T0, T1], test on the features at T1 with
the labels of (T1, T1 + horizon]. By default T1 = last availability snapshot -
horizon, so the test window ends at the snapshot. The persistence baseline is
"had an episode in the past 12 months" (0/1), ranked by recency among the
flagged CIS (``baseline_score``). Metrics: PR-AUC (average precision, the
decision criterion), ROC-AUC, recall in the top 100, Brier score and a decile
calibration table, for both.

**Known limits of the data** (they are reported, not hidden):

- the availability file is a *current list*: with a single snapshot, an
  episode is only visible if it was still listed at the snapshot (open, or
  closed recently as "remise à disposition", whose start is then unknown and
  is therefore unusable here). Shortages that started and ended long before the
  snapshot are invisible, so past windows miss the short episodes;
- the list holds about one record per medicine, so a CIS whose earlier episode
  is still open cannot show a *new* start: past episodes are structurally
  followed by no new start in this data, which penalises the persistence
  baseline and makes a past episode *lower* the model's risk. With several
  snapshots kept over time, this artefact disappears;
- catalogue attributes come from the same (latest) BDPM snapshot and are
  assumed stable over the year before it; the population is the catalogue
  marketed at that snapshot, restricted to authorisations granted by T.

**Modules.** ``features`` (features and labels at a cutoff), ``model`` (the
classifier, its contributions and importances), ``metrics`` (``Scores``),
``report`` (``RiskReport`` and its French summary), ``evaluation``
(``evaluate``, ``baseline_score``) and ``scoring`` (``score_current``).
scikit-learn is imported with the package: ``datamed.pipeline.build`` imports it
in a worker process (``_warm_up``) or lazily in ``risk_step``, never at app start-up.
"""

from datamed.pipeline.risk.evaluation import baseline_score, evaluate
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
from datamed.pipeline.risk.metrics import TOP_K, Scores, brier, calibration_table, recall_at_k
from datamed.pipeline.risk.model import (
    ENCODED,
    MODEL_PARAMS,
    POSITIVE_WEIGHT,
    RiskModel,
    fit,
    importances,
    sample_weights,
)
from datamed.pipeline.risk.report import RiskReport
from datamed.pipeline.risk.scoring import score_current

__all__ = [
    "CATEGORICAL",
    "DATASETS",
    "ENCODED",
    "FEATURES",
    "HORIZON_DAYS",
    "MARKETED",
    "MODEL_PARAMS",
    "NUMERIC",
    "PAST_STATUSES",
    "POSITIVE_WEIGHT",
    "RECENCY_CAP_DAYS",
    "RECENT_DAYS",
    "TARGET_STATUSES",
    "TOP_K",
    "RiskModel",
    "RiskReport",
    "Scores",
    "baseline_score",
    "brier",
    "calibration_table",
    "dataset_at",
    "datasets_from_store",
    "evaluate",
    "features_at",
    "fit",
    "form_group",
    "importances",
    "label_events",
    "labels_at",
    "last_snapshot",
    "n_events",
    "past_episodes",
    "recall_at_k",
    "route_group",
    "sample_weights",
    "score_current",
]
