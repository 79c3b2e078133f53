"""Forward-in-time evaluation of the model at every cutoff the snapshot archive
allows (``evaluate``), against the baselines of ``baselines``, with cluster-bootstrap
intervals of its gains.

**Windows.** A test cutoff T1 is a snapshot date such that T1 - horizon is on or
after the first snapshot and T1 + horizon on or before the last. Its training
cutoff T0 is the last snapshot on or before T1 - horizon. The model is fitted on
the features at T0 (the history as known at T0) with the labels of (T0, T0 +
horizon] *as known at T1*, then tested on the features at T1 with the labels of
(T1, T1 + horizon] from the whole history. Test cutoffs are at least
``MIN_STEP_DAYS`` apart, the latest first, at most ``MAX_WINDOWS``.

**Gains.** For PR-AUC and recall in the top 100: the model's value minus the
best baseline's, each averaged over the windows. The 95 % interval comes from a
bootstrap that redraws *clusters* of medicines (the same ATC-5 code, else the
same generic group, else the medicine alone: one molecule-wide tension hits a
whole cluster at once) with replacement, the same draw for every window; in each
replicate the best baseline is chosen again, so the interval pays for the
choice. The model is shown only when the lower bound of the PR-AUC gain is > 0.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import polars as pl

from datamed.datasets import DS
from datamed.pipeline.episodes import episodes_as_of
from datamed.pipeline.risk.baselines import BASELINES, baseline_scores
from datamed.pipeline.risk.features import HORIZON_DAYS, dataset_at, n_events
from datamed.pipeline.risk.metrics import (
    TOP_K,
    ClusterSums,
    Scores,
    pr_auc_from_sums,
    recall_from_sums,
    reliability_table,
)
from datamed.pipeline.risk.model import RiskModel, fit_calibrated, importances, platt, single_threaded
from datamed.pipeline.risk.report import ArchiveSpan, Gain, RiskReport, WindowResult

MIN_STEP_DAYS = 30  # between two test cutoffs
MAX_WINDOWS = 6  # the most recent test cutoffs kept
N_BOOT = 1000  # bootstrap replicates
_CHUNK = 200  # replicates computed at once (memory: chunk x population floats)
MODEL = "modele"
#: dated catalogue datasets by cutoff, and the date of the snapshot each cutoff uses
Catalogues = tuple[dict[date, dict[str, pl.DataFrame]], dict[date, date]]


@dataclass(frozen=True)
class Window:
    train: date  # T0
    test: date  # T1


def snapshot_dates(datasets: dict[str, pl.DataFrame]) -> list[date]:
    """The dates of the availability snapshots, in order."""
    dispo = datasets.get(DS.DISPONIBILITES)
    if dispo is None or dispo.is_empty() or "snapshot" not in dispo.columns:
        return []
    return sorted(dispo["snapshot"].unique().to_list())


def windows(
    snapshots: list[date], horizon_days: int = HORIZON_DAYS, step: int = MIN_STEP_DAYS, most: int = MAX_WINDOWS
) -> list[Window]:
    """Every (training, test) cutoff pair the archive allows (see the module docstring), oldest first."""
    if not snapshots:
        return []
    h = timedelta(days=horizon_days)
    first, last = snapshots[0], snapshots[-1]
    out: list[Window] = []
    for t1 in reversed([s for s in snapshots if s - h >= first and s + h <= last]):
        if out and (out[-1].test - t1).days < step:
            continue
        out.append(Window(max(s for s in snapshots if s <= t1 - h), t1))
        if len(out) == most:
            break
    return out[::-1]


def final_cutoff(snapshots: list[date], horizon_days: int = HORIZON_DAYS) -> date | None:
    """Training cutoff of the published model: the last snapshot on or before last - horizon."""
    if not snapshots:
        return None
    limit = snapshots[-1] - timedelta(days=horizon_days)
    eligible = [s for s in snapshots if s <= limit]
    return eligible[-1] if eligible else None


def needed_dates(snapshots: list[date], horizon_days: int = HORIZON_DAYS) -> list[date]:
    """The cutoffs whose history as known then the evaluation and the final model need."""
    dates = {d for w in windows(snapshots, horizon_days) for d in (w.train, w.test)}
    final = final_cutoff(snapshots, horizon_days)
    if final is not None:
        dates.add(final)
    return sorted(dates)


def history_as_of(datasets: dict[str, pl.DataFrame], dates: list[date]) -> dict[date, pl.DataFrame]:
    """The shortage episodes as known at each date (``episodes_as_of`` over the snapshots)."""
    return episodes_as_of(datasets[DS.DISPONIBILITES], list(dates))


def clusters(datasets: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """(cis, grappe): the bootstrap cluster of each medicine (ATC-5 code, else generic group, else itself)."""
    spec = datasets[DS.SPECIALITES].select("cis")
    atc = datasets.get(DS.SPECIALITE_ATC, pl.DataFrame(schema={"cis": pl.String, "code_atc": pl.String}))
    atc = atc.select("cis", "code_atc").drop_nulls().sort("cis", "code_atc").unique("cis", keep="first")
    gen = datasets.get(DS.GENERIQUES, pl.DataFrame(schema={"cis": pl.String, "id_groupe_generique": pl.String}))
    gen = gen.select("cis", "id_groupe_generique").sort("cis", "id_groupe_generique").unique("cis", keep="first")
    return (
        spec.unique()
        .join(atc, on="cis", how="left")
        .join(gen, on="cis", how="left")
        .select(
            "cis",
            pl.coalesce(
                pl.lit("atc:") + pl.col("code_atc"),
                pl.lit("groupe:") + pl.col("id_groupe_generique"),
                pl.lit("cis:") + pl.col("cis"),
            ).alias("grappe"),
        )
    )


def cluster_of(frame: pl.DataFrame, grappes: pl.DataFrame) -> np.ndarray:
    """The cluster of each row of ``frame`` (see ``clusters``; a CIS missing there is its own)."""
    joined = frame.select("cis").join(grappes, on="cis", how="left")
    return joined.select(pl.coalesce("grappe", pl.lit("cis:") + pl.col("cis")))["grappe"].to_numpy()


@dataclass
class _Tested:
    """One window's test rows: outcomes, clusters and each scorer's ranking."""

    y: np.ndarray
    groups: np.ndarray
    ranking: dict[str, np.ndarray]


def _fit_window(
    datasets: dict[str, pl.DataFrame],
    w: Window,
    horizon_days: int,
    asof: dict[date, pl.DataFrame],
    grappes: pl.DataFrame,
    seed: int,
    catalogues: Catalogues,
) -> tuple[WindowResult, _Tested, RiskModel | None, pl.DataFrame]:
    frames, used = catalogues
    train = dataset_at(
        datasets, w.train, horizon_days, known=asof[w.train], truth=asof[w.test], catalogue=frames.get(w.train)
    )
    test = dataset_at(datasets, w.test, horizon_days, known=asof[w.test], catalogue=frames.get(w.test))
    y_train, y = train["y"].to_numpy(), test["y"].to_numpy()
    model = fit_calibrated(train, w.train, cluster_of(train, grappes), seed)
    ranking, scores, probs = {}, {}, {}
    if model is not None:
        ranking[MODEL] = probs[MODEL] = model.predict(test)
    base_train, base_test = baseline_scores(train), baseline_scores(test)
    for key in BASELINES:
        ranking[key] = base_test[key]
        scale = platt(base_train[key], y_train)  # each rule's probability reading, fitted on the training window
        probs[key] = scale(base_test[key]) if scale is not None else np.full(len(y), y_train.mean())
    for key in ranking:
        scores[key] = Scores.of(y, ranking[key], probs[key])
    result = WindowResult(
        train_cutoff=w.train,
        test_cutoff=w.test,
        n_train=train.height,
        n_train_positives=int(y_train.sum()),
        n_train_events=n_events(train),
        n_test=test.height,
        n_test_positives=int(y.sum()),
        n_test_events=n_events(test),
        scores=scores,
        catalogue_train=used.get(w.train),
        catalogue_test=used.get(w.test),
    )
    return result, _Tested(y, cluster_of(test, grappes), ranking), model, test


def _bootstrap(tested: list[_Tested], n_boot: int, seed: int) -> dict[str, np.ndarray]:
    """Per metric, ``n_boot`` replicates of (model - best baseline), averaged over the windows."""
    names = sorted({g for t in tested for g in t.groups})
    index = {g: i for i, g in enumerate(names)}
    sums = [
        {
            key: ClusterSums(t.y, score, np.array([index[g] for g in t.groups]), len(names))
            for key, score in t.ranking.items()
        }
        for t in tested
    ]
    rng = np.random.default_rng(seed)
    out: dict[str, list[np.ndarray]] = {"pr_auc": [], "recall_at_100": []}
    done = 0
    while done < n_boot:
        size = min(_CHUNK, n_boot - done)
        counts = rng.multinomial(len(names), np.full(len(names), 1 / len(names)), size=size).astype(float)
        per: dict[str, dict[str, list[np.ndarray]]] = {"pr_auc": {}, "recall_at_100": {}}
        for window in sums:
            for key, cs in window.items():
                gpos, gall = cs.sums(counts)
                per["pr_auc"].setdefault(key, []).append(pr_auc_from_sums(gpos, gall))
                per["recall_at_100"].setdefault(key, []).append(recall_from_sums(gpos, gall, TOP_K))
        for metric, values in per.items():
            mean = {k: np.nanmean(np.vstack(v), axis=0) for k, v in values.items()}
            best = np.max(np.vstack([mean[k] for k in BASELINES]), axis=0)
            out[metric].append(mean[MODEL] - best)
        done += size
    return {k: np.concatenate(v) for k, v in out.items()}


def _too_short(span: ArchiveSpan, horizon_days: int) -> str:
    need = 2 * horizon_days
    if span.count == 0:
        return "aucun fichier de disponibilité n'est archivé."
    return (
        f"l'archive des fichiers de disponibilité couvre {span.days} jour{'s' if span.days > 1 else ''} "
        f"({span.count} photographie{'s' if span.count > 1 else ''}) ; il en faut au moins {need} (6 mois pour "
        "apprendre, puis 6 mois pour vérifier) pour évaluer le modèle sans utiliser d'information postérieure à la "
        "date de coupure."
    )


@single_threaded
def evaluate(
    datasets: dict[str, pl.DataFrame],
    horizon_days: int = HORIZON_DAYS,
    seed: int = 0,
    n_boot: int = N_BOOT,
    asof: dict[date, pl.DataFrame] | None = None,
    with_importance: bool = False,
    catalogues: Catalogues | None = None,
) -> RiskReport:
    """Forward evaluation at every window the archive allows; the model is ``shown`` only
    if the lower bound of its PR-AUC gain over the best baseline is > 0.

    ``asof`` (history as known at each ``needed_dates``) is computed when not given;
    ``catalogues`` (``catalogues_as_of``: the dated catalogue by cutoff, and its date)
    default to the current catalogue for every cutoff.
    """
    catalogues = catalogues or ({}, {})
    t0 = time.perf_counter()
    snaps = snapshot_dates(datasets)
    span = ArchiveSpan.of(snaps)
    final = final_cutoff(snaps, horizon_days)
    wins = windows(snaps, horizon_days)
    report = RiskReport(horizon_days=horizon_days, archive=span, final_train_cutoff=final, seed=seed, n_boot=n_boot)
    if not wins:
        report.reason = _too_short(span, horizon_days)
        report.seconds = time.perf_counter() - t0
        return report
    if asof is None:
        asof = history_as_of(datasets, needed_dates(snaps, horizon_days))
    grappes = clusters(datasets)
    tested: list[_Tested] = []
    pooled_y, pooled_p = [], []
    last_model, last_test = None, None
    for w in wins:
        result, t, model, test = _fit_window(datasets, w, horizon_days, asof, grappes, seed, catalogues)
        report.windows.append(result)
        if MODEL not in t.ranking or t.y.sum() == 0:
            continue  # no model (one class to learn from) or nothing to find: the window cannot judge
        tested.append(t)
        pooled_y.append(t.y)
        pooled_p.append(t.ranking[MODEL])
        last_model, last_test = model, test
    if not tested:
        report.reason = (
            "aucune fenêtre n'a à la fois assez d'épisodes pour apprendre et de nouveaux épisodes à retrouver."
        )
        report.seconds = time.perf_counter() - t0
        return report
    used = {r.test_cutoff for r in report.windows if MODEL in r.scores and r.n_test_positives}
    report.means = {
        key: {
            metric: float(np.nanmean([getattr(r.scores[key], metric) for r in report.windows if r.test_cutoff in used]))
            for metric in ("pr_auc", "roc_auc", "recall_at_100", "brier")
        }
        for key in (MODEL, *BASELINES)
    }
    replicates = _bootstrap(tested, n_boot, seed)
    for metric in ("pr_auc", "recall_at_100"):
        best = max(BASELINES, key=lambda k: (report.means[k][metric], k))
        low, high = np.nanpercentile(replicates[metric], [2.5, 97.5])
        report.gains[metric] = Gain(
            metric=metric,
            baseline=best,
            estimate=report.means[MODEL][metric] - report.means[best][metric],
            low=float(low),
            high=float(high),
        )
    report.reliability = reliability_table(np.concatenate(pooled_y), np.concatenate(pooled_p))
    gain = report.gains["pr_auc"]
    report.shown = bool(gain.low > 0)
    if not report.shown:
        report.reason = (
            "la borne basse de l'intervalle du gain de PR-AUC sur la meilleure référence n'est pas au-dessus de 0 : "
            "le modèle ne fait pas mieux, de façon sûre, qu'une règle simple."
        )
    if with_importance and last_model is not None:
        report.importance = importances(last_model, last_test, seed)
    report.seconds = time.perf_counter() - t0
    return report


__all__ = [
    "MAX_WINDOWS",
    "MIN_STEP_DAYS",
    "MODEL",
    "N_BOOT",
    "TOP_K",
    "Catalogues",
    "Window",
    "cluster_of",
    "clusters",
    "evaluate",
    "final_cutoff",
    "history_as_of",
    "needed_dates",
    "snapshot_dates",
    "windows",
]
