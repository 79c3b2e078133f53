"""``RiskReport``: the forward-in-time evaluation of the model against the
persistence baseline, as tables and as a French markdown summary for the UI."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, timedelta

import polars as pl

from datamed.core.text import fr_date, fr_int, fr_number
from datamed.pipeline.risk.features import FEATURES
from datamed.pipeline.risk.metrics import Scores

_METRICS = (
    ("pr_auc", "PR-AUC (précision moyenne)"),
    ("roc_auc", "ROC-AUC"),
    ("recall_at_100", "Rappel dans le top 100"),
    ("brier", "Score de Brier"),
)


@dataclass
class RiskReport:
    """Forward-in-time evaluation of the model against the persistence baseline.

    ``model`` is None when no model could be fitted (a single class in the
    training window); ``beats_baseline`` is then False.
    """

    train_cutoff: date
    test_cutoff: date
    horizon_days: int
    snapshot: date
    n_train: int
    n_train_positives: int
    n_train_events: int
    n_test: int
    n_test_positives: int
    n_test_events: int
    model: Scores | None
    baseline: Scores
    brier_constant: float  # Brier score of predicting the training base rate for everyone
    beats_baseline: bool
    seconds: float
    features: list[str] = field(default_factory=lambda: list(FEATURES))
    importance: pl.DataFrame | None = None  # permutation importance on the test window
    note: str = ""
    seed: int = 0

    def metrics_table(self) -> pl.DataFrame:
        """One row per metric: indicateur, modele, reference (the persistence baseline)."""
        rows = [
            {
                "indicateur": label,
                "modele": getattr(self.model, key) if self.model else None,
                "reference": getattr(self.baseline, key),
            }
            for key, label in _METRICS
        ]
        return pl.DataFrame(rows, schema={"indicateur": pl.String, "modele": pl.Float64, "reference": pl.Float64})

    def calibration(self) -> pl.DataFrame:
        """Both calibration tables stacked, with a ``score`` column (modèle / référence)."""
        parts = [self.baseline.calibration.with_columns(pl.lit("référence").alias("score"))]
        if self.model is not None:
            parts.insert(0, self.model.calibration.with_columns(pl.lit("modèle").alias("score")))
        return pl.concat(parts).select("score", pl.exclude("score"))

    def to_markdown_fr(self) -> str:
        """A French summary for the UI (decimal commas)."""

        def num(x, d=3):
            return "—" if x is None or (isinstance(x, float) and math.isnan(x)) else fr_number(x, d)

        prev = 100 * self.n_test_positives / self.n_test if self.n_test else float("nan")
        start = fr_date(self.test_cutoff + timedelta(days=1))
        end = fr_date(self.test_cutoff + timedelta(days=self.horizon_days))
        lines = [
            "### Risque de rupture ou de tension dans les 6 mois",
            "",
            f"Évaluation dans le temps : modèle appris sur la situation au {fr_date(self.train_cutoff)} et les "
            f"épisodes commencés jusqu'au {fr_date(self.test_cutoff)}, puis testé sur la situation au "
            f"{fr_date(self.test_cutoff)} et les épisodes commencés du {start} au {end}.",
            "",
            f"- Apprentissage : {fr_int(self.n_train)} spécialités commercialisées, dont "
            f"{fr_int(self.n_train_positives)} avec un nouvel épisode ({fr_int(self.n_train_events)} événements distincts).",
            f"- Test : {fr_int(self.n_test)} spécialités, dont {fr_int(self.n_test_positives)} avec un nouvel épisode "
            f"({num(prev, 2)} %, {fr_int(self.n_test_events)} événements distincts).",
            "",
            "| Indicateur | Modèle | Référence : épisode dans les 12 derniers mois |",
            "| --- | --- | --- |",
        ]
        for row in self.metrics_table().iter_rows(named=True):
            lines.append(f"| {row['indicateur']} | {num(row['modele'], 4)} | {num(row['reference'], 4)} |")
        lines += [
            "",
            f"Un score constant égal à la fréquence observée à l'apprentissage aurait un score de Brier de "
            f"{num(self.brier_constant, 4)} ; la PR-AUC d'un classement au hasard vaut la fréquence des nouveaux "
            f"épisodes ({num(prev / 100, 4)}).",
            "",
        ]
        if self.model is None:
            lines.append(f"**Le modèle n'a pas pu être appris** ({self.note}) : aucune liste n'est proposée.")
        elif self.beats_baseline:
            lines.append(
                f"**Le modèle fait mieux que la référence** (PR-AUC {num(self.model.pr_auc, 4)} contre "
                f"{num(self.baseline.pr_auc, 4)}) : son classement peut aider à choisir les médicaments à surveiller, "
                "mais la plupart des médicaments classés en tête n'auront pas de nouvel épisode."
            )
        else:
            lines.append(
                f"**Le modèle ne fait pas mieux que la référence** (PR-AUC {num(self.model.pr_auc, 4)} contre "
                f"{num(self.baseline.pr_auc, 4)}) : aucune liste de médicaments à risque n'est proposée."
            )
        lines += [
            "",
            "Limites : une seule photographie de la liste de disponibilité de l'ANSM est disponible. Un épisode n'y "
            "figure que s'il était encore listé à cette date : les épisodes courts et anciens manquent, et un "
            "médicament dont l'épisode est encore ouvert ne peut pas en montrer un nouveau, ce qui pénalise la "
            "référence. Les dates de début antérieures au 06/10/2023 sont des dates de mise à jour.",
        ]
        return "\n".join(lines)
