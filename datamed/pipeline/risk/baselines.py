"""Simple rules the model must beat: a past episode of the same medicine (a), or
recent episodes among its neighbours (b): generic group, ATC-5 substance, holder.

Each baseline is a ranking computed from the features at the cutoff (so from the
history known then, nothing later). Ties are left as ties: the metrics treat a
group of equal scores as one threshold (PR-AUC) or share it pro rata (recall@k).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from datamed.pipeline.risk.features import RECENCY_CAP_DAYS

#: baseline key -> French label shown in the UI
BASELINES: dict[str, str] = {
    "ref_historique": "(a) épisode passé du même médicament",
    "ref_groupe": "(b) épisodes récents du même groupe générique",
    "ref_atc": "(b) épisodes récents de la même substance (ATC 5)",
    "ref_titulaire": "(b) épisodes récents du même titulaire",
}


def baseline_scores(frame: pl.DataFrame) -> dict[str, np.ndarray]:
    """Each baseline's score for the rows of a ``features_at`` frame (higher = riskier).

    (a) 0 without a known past episode; otherwise 1 plus the recency of the last
    one (1 for yesterday, 0 for ``RECENCY_CAP_DAYS`` or more ago).
    (b) the number of *other* medicines of the same generic group / ATC-5 code /
    holder whose episode started in the 12 months before the cutoff.
    """
    past = frame["n_episodes_passes"].to_numpy() > 0
    recency = 1.0 - frame["jours_depuis_dernier"].to_numpy() / RECENCY_CAP_DAYS
    return {
        "ref_historique": np.where(past, 1.0 + recency, 0.0),
        "ref_groupe": frame["groupe_episodes_12_mois"].to_numpy().astype(float),
        "ref_atc": frame["atc_episodes_12_mois"].to_numpy().astype(float),
        "ref_titulaire": frame["titulaire_episodes_12_mois"].to_numpy().astype(float),
    }
