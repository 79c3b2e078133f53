"""``RiskReport``: the forward evaluation of the model against the baselines, at
every window the archive allows, as tables and as a French markdown summary."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, timedelta

import polars as pl

from datamed.core.text import fr_date, fr_int, fr_number
from datamed.pipeline.risk.baselines import BASELINES
from datamed.pipeline.risk.features import FEATURES
from datamed.pipeline.risk.metrics import Scores

METRICS = ("pr_auc", "roc_auc", "recall_at_100", "brier")
METRIC_LABELS = {
    "pr_auc": "PR-AUC",
    "roc_auc": "ROC-AUC",
    "recall_at_100": "Rappel dans le top 100",
    "brier": "Score de Brier",
}
SCORER_LABELS = {"modele": "Modèle (probabilités calibrées)", **{k: f"Référence {v}" for k, v in BASELINES.items()}}


@dataclass(frozen=True)
class ArchiveSpan:
    first: date | None
    last: date | None
    count: int

    @classmethod
    def of(cls, snapshots: list[date]) -> ArchiveSpan:
        return cls(snapshots[0], snapshots[-1], len(snapshots)) if snapshots else cls(None, None, 0)

    @property
    def days(self) -> int:
        return (self.last - self.first).days if self.first else 0


@dataclass
class WindowResult:
    """One forward window: fitted at ``train_cutoff``, tested on the 6 months after ``test_cutoff``."""

    train_cutoff: date
    test_cutoff: date
    n_train: int
    n_train_positives: int
    n_train_events: int
    n_test: int
    n_test_positives: int
    n_test_events: int
    scores: dict[str, Scores]  # "modele" (absent when no model could be fitted) and each baseline
    catalogue_train: date | None = None  # dated catalogue snapshot of the training features (None: current)
    catalogue_test: date | None = None  # dated catalogue snapshot of the test features (None: current)


@dataclass(frozen=True)
class Gain:
    """The model's mean metric minus the best baseline's, with its 95 % bootstrap interval."""

    metric: str
    baseline: str  # the best baseline by the point estimate
    estimate: float
    low: float
    high: float


def _num(x, d: int = 3) -> str:
    return "—" if x is None or (isinstance(x, float) and math.isnan(x)) else fr_number(x, d)


def _signed(x: float, d: int = 3) -> str:
    return ("+" if x > 0 else "") + _num(x, d)


@dataclass
class RiskReport:
    """Forward evaluation of the model (see ``evaluation``); ``shown`` decides whether
    scores are published, ``reason`` says why not (in French)."""

    horizon_days: int
    archive: ArchiveSpan
    final_train_cutoff: date | None = None
    windows: list[WindowResult] = field(default_factory=list)
    means: dict[str, dict[str, float]] = field(default_factory=dict)  # scorer -> metric -> mean over windows
    gains: dict[str, Gain] = field(default_factory=dict)  # "pr_auc", "recall_at_100"
    reliability: pl.DataFrame | None = None  # pooled test predictions of the model, by decile
    shown: bool = False
    reason: str = ""
    seconds: float = 0.0
    seed: int = 0
    n_boot: int = 0
    features: list[str] = field(default_factory=lambda: list(FEATURES))
    importance: pl.DataFrame | None = None  # permutation importance on the last window

    @property
    def snapshot(self) -> date | None:
        return self.archive.last

    def metrics_table(self) -> pl.DataFrame:
        """One row per window and scorer, plus the means over windows (``date_test`` null)."""
        schema = {
            "date_apprentissage": pl.Date,
            "date_test": pl.Date,
            "score": pl.String,
            "libelle": pl.String,
            "specialites": pl.Int64,
            "nouveaux_episodes": pl.Int64,
            "evenements": pl.Int64,
            **{m: pl.Float64 for m in METRICS},
            "catalogue_apprentissage": pl.Date,
            "catalogue_test": pl.Date,
        }
        rows = []
        for key, means in self.means.items():
            rows.append(
                {"score": key, "libelle": SCORER_LABELS[key], **{m: means[m] for m in METRICS}}
                | {"date_apprentissage": None, "date_test": None}
            )
        for w in self.windows:
            for key, sc in w.scores.items():
                rows.append(
                    {
                        "date_apprentissage": w.train_cutoff,
                        "date_test": w.test_cutoff,
                        "score": key,
                        "libelle": SCORER_LABELS[key],
                        "specialites": w.n_test,
                        "nouveaux_episodes": w.n_test_positives,
                        "evenements": w.n_test_events,
                        **{m: getattr(sc, m) for m in METRICS},
                        "catalogue_apprentissage": w.catalogue_train,
                        "catalogue_test": w.catalogue_test,
                    }
                )
        return pl.DataFrame(rows, schema=schema)

    def summary_row(self) -> dict:
        """The one-row ``risque_rapport`` dataset (besides ``texte``)."""
        pr, rc = self.gains.get("pr_auc"), self.gains.get("recall_at_100")
        return {
            "affiche": self.shown,
            "raison": self.reason or None,
            "horizon_jours": self.horizon_days,
            "archive_debut": self.archive.first,
            "archive_fin": self.archive.last,
            "archive_instantanes": self.archive.count,
            "fenetres": len(self.windows),
            "reference_pr_auc": BASELINES[pr.baseline] if pr else None,
            "gain_pr_auc": pr.estimate if pr else None,
            "gain_pr_auc_bas": pr.low if pr else None,
            "gain_pr_auc_haut": pr.high if pr else None,
            "reference_rappel": BASELINES[rc.baseline] if rc else None,
            "gain_rappel_100": rc.estimate if rc else None,
            "gain_rappel_100_bas": rc.low if rc else None,
            "gain_rappel_100_haut": rc.high if rc else None,
            "date_apprentissage_finale": self.final_train_cutoff,
        }

    def _catalogue_sentence(self) -> str:
        dated = sorted({d for w in self.windows for d in (w.catalogue_train, w.catalogue_test) if d is not None})
        if not dated:
            return (
                "Catalogue : aucune photographie du catalogue n'est datée d'avant ces dates de coupure ; le catalogue "
                "actuel est utilisé, filtré par la date d'AMM et celle des présentations."
            )
        return (
            "Catalogue : pour les dates de coupure antérieures au catalogue actuel, celui de la photographie la plus "
            f"récente d'avant la coupure ({', '.join(fr_date(d) for d in dated)}). La liste MITM et les classes ATC "
            "restent celles d'aujourd'hui."
        )

    def to_markdown_fr(self) -> str:
        """A French summary for the UI (decimal commas)."""
        lines = ["### Risque de nouvelle rupture ou tension dans les 6 mois", ""]
        span = self.archive
        if span.count:
            lines.append(
                f"Archive des fichiers de disponibilité : {fr_int(span.count)} photographie"
                f"{'s' if span.count > 1 else ''} du {fr_date(span.first)} au {fr_date(span.last)}."
            )
        else:
            lines.append("Archive des fichiers de disponibilité : vide.")
        lines.append("")
        if self.windows:
            first, last = self.windows[0], self.windows[-1]
            lines += [
                f"Évaluation dans le temps sur {fr_int(len(self.windows))} date{'s' if len(self.windows) > 1 else ''} "
                f"de coupure, du {fr_date(first.test_cutoff)} au {fr_date(last.test_cutoff)} : à chaque date T, le "
                "modèle est appris avec ce que montraient les fichiers six mois plus tôt et les épisodes apparus "
                f"depuis, puis jugé sur les épisodes apparus dans les six mois après T (jusqu'au "
                f"{fr_date(last.test_cutoff + timedelta(days=self.horizon_days))}). Aucune information postérieure "
                "à une date de coupure n'entre dans ses variables.",
                "",
                self._catalogue_sentence(),
                "",
            ]
        for key in ("pr_auc", "recall_at_100"):
            g = self.gains.get(key)
            if g is None:
                continue
            lines.append(
                f"- Gain de **{METRIC_LABELS[key]}** sur la meilleure référence, {BASELINES[g.baseline]} : "
                f"**{_signed(g.estimate)}** (intervalle à 95 % : {_signed(g.low)} à {_signed(g.high)})."
            )
        if self.gains:
            lines.append("")
        if self.shown:
            lines.append(
                "**Le modèle est affiché** : la borne basse de l'intervalle du gain de PR-AUC est au-dessus de 0. "
                "Son classement peut aider à choisir les médicaments à surveiller, mais la plupart des médicaments "
                "classés en tête n'auront pas de nouvel épisode."
            )
        else:
            lines.append(f"**Le modèle est masqué** : {self.reason}")
        return "\n".join(lines)
