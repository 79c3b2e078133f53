"""Shortage-risk model: no leakage, labels, metrics, forward evaluation, notebook."""

from __future__ import annotations

import json
import math
import os
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from datamed.core.config import REPO_ROOT
from datamed.pipeline import risk

NOTEBOOK = REPO_ROOT / "notebooks" / "risque_ruptures.ipynb"
CUTOFF = date(2025, 6, 1)


@pytest.fixture(scope="module")
def real_datasets(real_store) -> dict[str, pl.DataFrame]:
    return risk.datasets_from_store(real_store)


@pytest.fixture(scope="module")
def demo_datasets(demo_store) -> dict[str, pl.DataFrame]:
    return risk.datasets_from_store(demo_store)


@pytest.fixture(scope="module")
def real_report(real_datasets) -> risk.RiskReport:
    return risk.evaluate(real_datasets)


# --- no leakage ------------------------------------------------------------------------------------


def _with_episodes(datasets: dict, episodes: pl.DataFrame) -> dict:
    return {**datasets, "ruptures_episodes": episodes}


def _fake_future_episodes(episodes: pl.DataFrame, cis: list[str], cutoff: date) -> pl.DataFrame:
    """Episodes of the given CIS starting on or after the cutoff, all columns set."""
    template = episodes.head(1)
    rows = []
    for i, c in enumerate(cis):
        start = cutoff + timedelta(days=i % 200)  # includes the cutoff day itself (i = 0)
        rows.append(
            template.with_columns(
                pl.lit(f"fake{i:06d}").alias("episode_id"),
                pl.lit(c).alias("cis"),
                pl.lit(start).alias("date_debut"),
                pl.lit(False).alias("debut_est_maj"),
                pl.lit(1 + i % 3, dtype=pl.Int8).alias("statut_initial"),
                pl.lit(1 + i % 4, dtype=pl.Int8).alias("statut"),
                pl.lit(start).alias("premiere_vue"),
                pl.lit(start + timedelta(days=30)).alias("derniere_vue"),
                pl.lit(start + timedelta(days=5)).alias("date_mise_a_jour"),
                pl.lit(start + timedelta(days=20)).alias("date_fin"),
                pl.lit(True).alias("fin_observee"),
                pl.lit(False).alias("en_cours"),
                pl.lit(20, dtype=pl.Int32).alias("duree_jours"),
            )
        )
    return pl.concat(rows)


def _rewrite_later_facts(episodes: pl.DataFrame, cutoff: date) -> pl.DataFrame:
    """Change everything that is observed after the start of an episode."""
    n = episodes.height
    rng = np.random.default_rng(1)
    return episodes.with_columns(
        pl.Series("statut", rng.integers(1, 5, n), dtype=pl.Int8),
        pl.Series("date_fin", [cutoff - timedelta(days=int(d)) for d in rng.integers(1, 400, n)], dtype=pl.Date),
        pl.Series("en_cours", rng.integers(0, 2, n).astype(bool)),
        pl.Series("fin_observee", rng.integers(0, 2, n).astype(bool)),
        pl.Series("duree_jours", rng.integers(0, 900, n), dtype=pl.Int32),
        pl.Series("derniere_vue", [cutoff - timedelta(days=int(d)) for d in rng.integers(0, 30, n)], dtype=pl.Date),
        pl.Series("date_mise_a_jour", [cutoff - timedelta(days=int(d)) for d in rng.integers(0, 30, n)], dtype=pl.Date),
        # the first-seen status is only used as the 1/2/3 filter: moving among 1, 2, 3 changes nothing
        pl.when(pl.col("statut_initial").is_in([1, 2, 3]))
        .then(pl.Series("s", rng.integers(1, 4, n), dtype=pl.Int8))
        .otherwise(pl.col("statut_initial"))
        .alias("statut_initial"),
    )


def test_features_ignore_everything_after_the_cutoff(real_datasets):
    eps = real_datasets["ruptures_episodes"]
    before = risk.features_at(real_datasets, CUTOFF)
    assert before.height > 10_000 and before["cis"].is_unique().all()
    assert before.filter(pl.col("n_episodes_passes") > 0).height > 50, "the real data must have past episodes"

    population = before["cis"].to_list()
    with_past = before.filter(pl.col("n_episodes_passes") > 0)["cis"].to_list()
    fake = _fake_future_episodes(eps, population[::25] + with_past, CUTOFF)
    altered = pl.concat([_rewrite_later_facts(eps, CUTOFF), fake], how="vertical_relaxed")
    assert altered.height > eps.height + 500
    after = risk.features_at(_with_episodes(real_datasets, altered), CUTOFF)
    assert after.equals(before)

    # and dropping every episode that starts on or after the cutoff changes nothing either
    known = eps.filter(pl.col("date_debut") < CUTOFF)
    assert risk.features_at(_with_episodes(real_datasets, known), CUTOFF).equals(before)


def test_features_do_react_to_episodes_before_the_cutoff(real_datasets):
    """The no-leakage test is not vacuous: an episode one day before the cutoff shows."""
    eps = real_datasets["ruptures_episodes"]
    before = risk.features_at(real_datasets, CUTOFF)
    target = before.filter(pl.col("n_episodes_passes") == 0)["cis"][0]
    one = _fake_future_episodes(eps, [target], CUTOFF - timedelta(days=1))
    after = risk.features_at(_with_episodes(real_datasets, pl.concat([eps, one], how="vertical_relaxed")), CUTOFF)
    row = after.filter(pl.col("cis") == target).row(0, named=True)
    assert row["n_episodes_passes"] == 1 and row["jours_depuis_dernier"] == 1 and row["episode_12_mois"] == 1
    assert not after.equals(before)


def test_population_is_marketed_and_authorised_by_the_cutoff(real_datasets):
    spec = real_datasets["specialites"]
    feats = risk.features_at(real_datasets, CUTOFF)
    joined = feats.join(spec.select("cis", "etat_commercialisation", "date_amm"), on="cis")
    assert joined.height == feats.height
    assert (joined["etat_commercialisation"] == "Commercialisée").all()
    assert joined.filter(pl.col("date_amm") > CUTOFF).is_empty()
    assert set(feats.columns) == {"cis", "denomination", *risk.FEATURES}
    assert feats.select(pl.col(risk.NUMERIC).null_count().sum()).sum_horizontal().item() == 0


# --- labels ----------------------------------------------------------------------------------------


def _episodes(rows) -> pl.DataFrame:
    return pl.DataFrame(rows, schema={"cis": pl.String, "date_debut": pl.Date, "statut_initial": pl.Int8}, orient="row")


def test_labels_window_bounds_and_statuses():
    t = date(2025, 1, 1)  # window (2025-01-01, 2025-07-02] with 182 days
    eps = _episodes(
        [
            ("A", date(2025, 1, 1), 1),  # on the cutoff day: known at T, excluded
            ("B", date(2025, 1, 2), 2),  # first day of the window
            ("C", date(2025, 7, 2), 1),  # last day of the window, included
            ("D", date(2025, 7, 3), 1),  # one day too late
            ("E", date(2025, 3, 1), 3),  # arrêt de commercialisation is not a target
            ("F", None, 4),  # return with unknown start
            ("G", date(2024, 12, 1), 1),  # before the window...
            ("G", date(2025, 2, 1), 2),  # ...and a new tension inside it
            ("H", date(2025, 3, 1), 4),  # status 4 with a date is not a target
            ("I", date(2024, 6, 1), 2),  # only in the past
        ]
    )
    got = dict(risk.labels_at(eps, t).iter_rows())
    assert got == {"A": 0, "B": 1, "C": 1, "D": 0, "E": 0, "F": 0, "G": 1, "H": 0, "I": 0}
    assert dict(risk.labels_at(eps, t, horizon_days=183).iter_rows())["D"] == 1
    assert dict(risk.labels_at(eps, date(2024, 12, 31)).iter_rows())["A"] == 1


def test_label_events_group_same_day_molecule_starts():
    eps = _episodes(
        [("A", date(2025, 2, 1), 2), ("B", date(2025, 2, 1), 2), ("C", date(2025, 2, 1), 1), ("D", date(2025, 3, 1), 1)]
    )
    datasets = {
        "ruptures_episodes": eps,
        "specialite_atc": pl.DataFrame({"cis": ["A", "B", "C"], "code_atc": ["N06AX16", "N06AX16", "C07AA05"]}),
        "generiques": pl.DataFrame(schema={"cis": pl.String, "id_groupe_generique": pl.String}),
    }
    ev = dict(risk.label_events(datasets, date(2025, 1, 1)).iter_rows())
    assert ev["A"] == ev["B"] != ev["C"]
    assert ev["D"] == "cis:D@2025-03-01"
    frame = pl.DataFrame({"cis": ["A", "B", "C", "D", "X"], "y": [1, 1, 1, 1, 0]}).with_columns(
        pl.col("cis").replace_strict(ev, default=None).alias("evenement")
    )
    w = risk.sample_weights(frame)
    # 4 positives share 10 x 4 = 40, i.e. 40 / 3 per event
    assert w[-1] == 1.0 and w[:4].sum() == pytest.approx(40.0)
    assert w[0] + w[1] == pytest.approx(w[2]) == pytest.approx(w[3]) == pytest.approx(40 / 3)


# --- metrics ---------------------------------------------------------------------------------------


def test_recall_at_k_by_hand():
    y = [1, 0, 1, 0, 0]
    s = [0.9, 0.8, 0.1, 0.3, 0.2]
    assert risk.recall_at_k(y, s, k=2) == pytest.approx(1 / 2)  # top 2 = rows 0 and 1: one of two positives
    assert risk.recall_at_k(y, s, k=4) == pytest.approx(1 / 2)  # row 2 (score 0.1) is last
    assert risk.recall_at_k(y, s, k=5) == pytest.approx(1.0)
    assert risk.recall_at_k(y, s, k=100) == pytest.approx(1.0)  # k larger than the population
    # ties at the cut share the remaining places: 3 tied rows, 1 positive, 2 places -> 2/3 expected
    assert risk.recall_at_k([1, 0, 0, 1], [0.5, 0.5, 0.5, 0.1], k=2) == pytest.approx((2 / 3) / 2)
    assert math.isnan(risk.recall_at_k([0, 0], [0.1, 0.2], k=1))


def test_recall_at_100_on_a_larger_example():
    # 300 rows, 10 positives; the 100 best scores hold exactly 4 of them
    y = np.zeros(300)
    y[[5, 50, 99, 0, 150, 180, 220, 250, 270, 299]] = 1
    score = -np.arange(300, dtype=float)  # row i ranked i-th
    assert risk.recall_at_k(y, score, 100) == pytest.approx(4 / 10)


def test_brier_and_calibration_by_hand():
    assert risk.brier([1, 0], [0.8, 0.4]) == pytest.approx((0.2**2 + 0.4**2) / 2)
    assert risk.brier([1, 0, 0, 1], [1, 0, 0, 1]) == 0
    assert risk.brier([0, 0, 1], [0, 0, 0]) == pytest.approx(1 / 3)
    p = np.arange(1, 21) / 20  # 0.05 ... 1.00, two per decile
    y = np.array([0, 1] * 10)
    cal = risk.calibration_table(y, p)
    assert cal.height == 10 and cal["n"].to_list() == [2] * 10 and cal["positifs"].sum() == 10
    assert cal["predit_moyen"][0] == pytest.approx(0.075) and cal["observe"][0] == pytest.approx(0.5)
    flag = risk.calibration_table([1, 0, 0, 1, 0], [1, 1, 0, 0, 0])  # a 0/1 score gives two classes
    assert flag.select("n", "positifs", "predit_moyen").rows() == [(3, 1, 0.0), (2, 1, 1.0)]


def test_scores_of_matches_sklearn_definitions():
    y = [1, 0, 1, 0, 0, 0]
    s = [0.9, 0.8, 0.7, 0.3, 0.2, 0.1]
    sc = risk.Scores.of(y, s)
    # precision at each positive: 1/1 and 2/3 -> average precision (1 + 2/3) / 2
    assert sc.pr_auc == pytest.approx((1 + 2 / 3) / 2)
    assert sc.roc_auc == pytest.approx(7 / 8)  # of 8 (positive, negative) pairs, 7 are in order
    assert sc.recall_at_100 == 1.0
    assert sc.brier == pytest.approx(risk.brier(y, s))


def test_baseline_is_the_flag_with_a_recency_tie_break():
    frame = pl.DataFrame(
        {"episode_12_mois": [1.0, 1.0, 0.0, 0.0], "jours_depuis_dernier": [10.0, 300.0, 500.0, 1095.0]}
    )
    b = risk.baseline_score(frame)
    assert b[0] > b[1] > b[2] == b[3] == 0.0
    assert np.all(np.round(b) == frame["episode_12_mois"].to_numpy())


# --- forward evaluation ----------------------------------------------------------------------------


@pytest.mark.slow
def test_evaluate_on_real_data(real_datasets, real_report):
    r = real_report
    snap = risk.last_snapshot(real_datasets)
    assert r.test_cutoff == snap - timedelta(days=risk.HORIZON_DAYS)
    assert r.train_cutoff == r.test_cutoff - timedelta(days=risk.HORIZON_DAYS)
    assert r.n_train_positives > 0 and r.n_test_positives > 0
    assert 0 < r.n_test_events <= r.n_test_positives
    assert r.model is not None
    for scores in (r.model, r.baseline):
        for value in (scores.pr_auc, scores.roc_auc, scores.recall_at_100, scores.brier):
            assert math.isfinite(value) and 0 <= value <= 1
        assert scores.calibration["n"].sum() == r.n_test
        assert scores.calibration["positifs"].sum() == r.n_test_positives
    assert math.isfinite(r.brier_constant)
    assert r.beats_baseline == (r.model.pr_auc > r.baseline.pr_auc)
    assert r.seconds < 30
    assert r.importance is not None and set(r.importance["variable"]) == set(risk.FEATURES)
    # the model's mean probability stays near the base rate (the prior correction works)
    model_calib = r.model.calibration
    mean_p = (model_calib["predit_moyen"] * model_calib["n"]).sum() / r.n_test
    assert mean_p < 5 * max(r.n_train_positives / r.n_train, r.n_test_positives / r.n_test)
    md = r.to_markdown_fr()
    assert "PR-AUC" in md and "0," in md and "0." not in md.replace("06/10/2023", "")
    assert ("fait mieux que la référence" in md) == r.beats_baseline


@pytest.mark.slow
def test_evaluate_is_deterministic(real_datasets):
    # speed is measured by bench/bench.py, not asserted here
    a = risk.evaluate(real_datasets, with_importance=False)
    b = risk.evaluate(real_datasets, with_importance=False)
    assert a.metrics_table().equals(b.metrics_table())
    assert a.model.calibration.equals(b.model.calibration)


@pytest.mark.slow
def test_score_current_only_when_the_model_beats_the_baseline(real_datasets, real_report):
    current = risk.score_current(real_datasets, real_report)
    if not real_report.beats_baseline:
        assert current.is_empty()
        return
    population = risk.features_at(real_datasets, real_report.snapshot)
    assert current.height == population.height and set(current["cis"]) == set(population["cis"])
    assert current["probabilite"].is_between(0, 1).all()
    assert current["probabilite"].is_sorted(descending=True)
    top = current.head(50)
    assert top["facteur_1"].null_count() == 0 and (top["contribution_1"] > 0).all()
    assert (top["contribution_1"] >= top["contribution_2"].fill_null(-1)).all()
    # a report that does not beat the baseline gives an empty frame with the same columns
    losing = risk.RiskReport(**{**real_report.__dict__, "beats_baseline": False})
    empty = risk.score_current(real_datasets, losing)
    assert empty.is_empty() and empty.columns == current.columns


def test_evaluate_on_demo_data(demo_datasets):
    r = risk.evaluate(demo_datasets)
    assert r.n_test > 0 and r.n_test_positives > 0
    assert r.beats_baseline == (r.model is not None and r.model.pr_auc > r.baseline.pr_auc)
    current = risk.score_current(demo_datasets, r)
    assert current.is_empty() != r.beats_baseline


def test_single_class_training_window_gives_no_model(demo_datasets):
    eps = demo_datasets["ruptures_episodes"]
    old = eps.with_columns(pl.col("date_debut").dt.offset_by("-10y"))  # every start long before both windows
    r = risk.evaluate(_with_episodes(demo_datasets, old))
    assert r.model is None and not r.beats_baseline and r.n_test_positives == 0
    assert "n'a pas pu être appris" in r.to_markdown_fr()
    assert risk.score_current(_with_episodes(demo_datasets, old), r).is_empty()


# --- notebook --------------------------------------------------------------------------------------


def test_notebook_is_committed_without_outputs():
    nb = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert code and all(not c.get("outputs") and c.get("execution_count") is None for c in code)
    assert any("DATAMED_RAW_NOTEBOOK" in "".join(c["source"]) for c in code)


def _run_notebook(raw: Path):
    """Execute the notebook as Jupyter would (cwd = its folder), with DATAMED_RAW_NOTEBOOK = raw."""
    nbformat = pytest.importorskip("nbformat", reason="nbformat is not installed (see requirements.txt)")
    nbclient = pytest.importorskip("nbclient", reason="nbclient is not installed (see requirements.txt)")
    pytest.importorskip("ipykernel", reason="ipykernel is not installed (see requirements.txt)")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    old = os.environ.get("DATAMED_RAW_NOTEBOOK")
    os.environ["DATAMED_RAW_NOTEBOOK"] = str(raw)
    try:
        client = nbclient.NotebookClient(
            nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOK.parent)}}
        )
        client.execute()
    finally:
        if old is None:
            os.environ.pop("DATAMED_RAW_NOTEBOOK", None)
        else:
            os.environ["DATAMED_RAW_NOTEBOOK"] = old
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert "error" not in {o.get("output_type") for o in outputs}
    return nb, "\n".join(o.get("text", "") + json.dumps(o.get("data", {}), ensure_ascii=False) for o in outputs)


@pytest.mark.slow
def test_notebook_executes_end_to_end(shared_dir):
    _, text = _run_notebook(shared_dir)
    assert f"Données brutes : {shared_dir}\n" in text  # the real data, not the demo
    assert "PR-AUC" in text and ("BAT la référence" in text or "NE BAT PAS la référence" in text)
    assert "vega" in text  # the calibration chart spec


@pytest.mark.slow
def test_notebook_falls_back_to_the_demo_data(tmp_path):
    nb, text = _run_notebook(tmp_path / "absent")
    assert "(démonstration)" in text and str(Path("data") / "demo") in text
    assert "PR-AUC" in text
