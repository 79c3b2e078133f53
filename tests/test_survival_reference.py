"""DataMed's Kaplan-Meier (late entry, log-log bands, median interval) and Aalen-Johansen
against lifelines, on the real and demo episodes and on random data.

lifelines is a test-only reference (tests/reference/requirements.txt, installed by
.ci/setup into .venv/reference): it runs in a subprocess and is never imported by DataMed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from datamed.core.stats import aalen_johansen, kaplan_meier
from datamed.views import shortages as sv

REFERENCE = Path(sys.prefix) / "reference"

SCRIPT = r"""
import json, sys, warnings
import numpy as np
from lifelines import AalenJohansenFitter, KaplanMeierFitter
from lifelines.utils import median_survival_times
warnings.simplefilter("ignore")
out = []
for job in json.load(sys.stdin):
    d, e, entry = np.array(job["d"], float), np.array(job["e"], int), np.array(job["entry"], float)
    if job["kind"] == "km":
        k = KaplanMeierFitter().fit(d, e > 0, entry=entry)
        sf = k.survival_function_.iloc[:, 0]
        ci = k.confidence_interval_
        med = median_survival_times(ci).iloc[0].tolist()
        out.append({
            "t": sf.index.tolist(), "s": sf.tolist(),
            "lo": ci.iloc[:, 0].tolist(), "hi": ci.iloc[:, 1].tolist(),
            "median": float(k.median_survival_time_), "median_ci": med,
        })
    else:
        res = {}
        for cause in (1, 2):
            aj = AalenJohansenFitter(calculate_variance=False)
            aj.fit(d, e, event_of_interest=cause, entry=entry)
            cd = aj.cumulative_density_.iloc[:, 0]
            res[str(cause)] = {"t": cd.index.tolist(), "f": cd.tolist()}
        out.append(res)
print(json.dumps(out, default=lambda x: None if x != x or x in (float("inf"),) else x))
"""


def lifelines(jobs: list[dict]) -> list[dict]:
    if not (REFERENCE / "lifelines").is_dir():
        pytest.fail(f"lifelines is missing from {REFERENCE}: run `bash .ci/setup` (tests/reference/requirements.txt)")
    env = {**os.environ, "PYTHONPATH": str(REFERENCE)}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], input=json.dumps(jobs), capture_output=True, text=True, env=env, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


def _inf(x):
    return None if x is None or not np.isfinite(x) else float(x)


def _episode_inputs(store):
    eps = sv.episodes(store)
    usable = eps.filter(~eps["debut_inconnu"] & eps["duree_jours"].is_not_null() & eps["statut_initial"].is_in([1, 2]))
    d, cause, entry = sv.episode_ends(usable)
    return d.astype(float), cause.astype(int), entry.astype(float)


def _random(seed: int, n: int = 400, ties: bool = True):
    rng = np.random.default_rng(seed)
    d = rng.exponential(200, n)
    d = np.round(d) if ties else d
    entry = np.minimum(rng.uniform(0, 150, n) * (rng.random(n) < 0.6), d)
    cause = rng.choice([0, 1, 2], n, p=[0.35, 0.5, 0.15])
    return d, cause, entry


def _check_km(ours, ref):
    times = np.asarray(ref["t"])
    idx = {t: i for i, t in enumerate(times)}
    for t, s, lo, hi in zip(ours.times[1:], ours.survival[1:], ours.lower[1:], ours.upper[1:]):
        i = idx[t]
        assert s == pytest.approx(ref["s"][i], abs=1e-9), t
        if 0 < s < 1:
            assert lo == pytest.approx(ref["lo"][i], abs=1e-6), t
            assert hi == pytest.approx(ref["hi"][i], abs=1e-6), t
    assert _inf(ours.median) == _inf(ref["median"])
    lo, hi = ref["median_ci"]
    assert (_inf(ours.median_lower), _inf(ours.median_upper)) == (_inf(lo), _inf(hi))


def test_kaplan_meier_with_late_entry_matches_lifelines(real_store, demo_store):
    # one real snapshot: every episode enters when it is censored, no duration is observed
    d, c, e = _episode_inputs(real_store)
    km = kaplan_meier(d, c > 0, e)
    assert len(d) > 400 and (e == d).all() and km.events.sum() == 0 and km.median is None
    inputs = [_episode_inputs(demo_store), *(_random(seed) for seed in range(3))]
    jobs = [{"kind": "km", "d": d.tolist(), "e": c.tolist(), "entry": e.tolist()} for d, c, e in inputs]
    for (d, c, e), ref in zip(inputs, lifelines(jobs)):
        assert (e > 0).any()  # late entry is exercised
        _check_km(kaplan_meier(d, c > 0, e), ref)


def test_aalen_johansen_matches_lifelines():
    # lifelines jitters tied times of different causes, and its AJ hazard counts a subject
    # entering exactly at an event time as at risk while its own KM does not: compare on
    # untied data whose entries never equal an event time (there both conventions agree)
    inputs = []
    for seed in range(3):
        d, c, _ = _random(seed, ties=False)
        rng = np.random.default_rng(100 + seed)
        inputs.append((d, c, d * rng.uniform(0, 0.9, len(d)) * (rng.random(len(d)) < 0.6)))
    jobs = [{"kind": "aj", "d": d.tolist(), "e": c.tolist(), "entry": e.tolist()} for d, c, e in inputs]
    for (d, c, e), ref in zip(inputs, lifelines(jobs)):
        ours = aalen_johansen(d, c, e, names={1: "retour", 2: "arrêt"})
        for cause, name in (("1", "retour"), ("2", "arrêt")):
            for t, f in zip(ref[cause]["t"], ref[cause]["f"]):
                assert ours.at(name, t) == pytest.approx(f, abs=1e-9), (cause, t)


def test_aalen_johansen_without_competition_is_one_minus_kaplan_meier():
    d, c, e = _random(7)
    c = np.where(c == 2, 1, c)
    km = kaplan_meier(d, c > 0, e)
    aj = aalen_johansen(d, c, e, names={1: "retour"})
    assert np.allclose(aj.incidence["retour"], 1 - km.survival)
    d, c, e = _random(8)
    km_all = kaplan_meier(d, c > 0, e)
    aj = aalen_johansen(d, c, e, names={1: "retour", 2: "arrêt"})
    assert np.allclose(aj.incidence["retour"] + aj.incidence["arrêt"], 1 - km_all.survival)
    # a withdrawal counted as censored overstates the returns (the fault the issue names)
    naive = 1 - kaplan_meier(d, c == 1, e).survival
    assert naive[-1] > aj.incidence["retour"][-1] + 0.05
