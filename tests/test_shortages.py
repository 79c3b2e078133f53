"""Shortages: episodes, enrichment, durations, class history and alternatives, on the real file."""

from __future__ import annotations

import shutil
import tempfile
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from datamed.core.stats import kaplan_meier
from datamed.pipeline.build import BuildError, build
from datamed.pipeline.shortages import build_episodes, map_class_labels
from datamed.views import shortages as sv


def raw_dispo(shared_dir):
    text = (shared_dir / "bdpm/2026-01-27/CIS_CIP_Dispo_Spec.txt").read_bytes().decode("cp1252")
    return [line.rstrip("\r").split("\t") for line in text.split("\n") if line.strip("\r").strip()]


def _d(s: str) -> date:
    day, month, year = s.split("/")
    return date(int(year), int(month), int(day))


def test_current_list_is_the_last_snapshots_open_lines(real_store, shared_dir):
    rows = raw_dispo(shared_dir)
    # a return dated before its start is kept (flagged), not rejected
    bad = [r for r in rows if r[6] and _d(r[6]) < _d(r[4])]
    assert len(bad) == 1
    rejects = real_store.table("rejets").filter(pl.col("file").str.ends_with("CIS_CIP_Dispo_Spec.txt"))
    assert rejects.is_empty()
    eps = real_store.table("ruptures_episodes")
    flagged = eps.filter(pl.col("dates_incoherentes"))
    assert flagged.height == 1 and flagged["cis"][0] == bad[0][0] and flagged["issue"][0] == "remise"
    # the current episodes are exactly the presentations with an open line, one each
    open_keys = {(r[0], r[1] or None) for r in rows if r[2] in ("1", "2")}
    current = eps.filter(pl.col("en_cours"))
    assert set(current.select("cis", "cip13").rows()) == open_keys and current.height == len(open_keys)
    # one snapshot: every presentation is one track; lines of several dossiers are merged
    tracks = {(r[0], r[1] or None) for r in rows}
    assert set(eps.select("cis", "cip13").unique().rows()) == tracks
    assert eps.filter(~pl.col("debut_inconnu"))["issue"].is_in(["remise"]).sum() == 0
    assert eps.filter(pl.col("debut_inconnu"))["issue"].to_list() == ["remise"] * eps["debut_inconnu"].sum()


def test_current_list_on_every_demo_snapshot(demo_raw):
    """Built up to each demo snapshot, the current list equals that snapshot's open lines."""
    from datamed.pipeline.build import read_bdpm_atc
    from datamed.pipeline.episodes import resolved_statuses

    dispo = resolved_statuses(read_bdpm_atc(demo_raw).datasets["disponibilites"])
    snaps = sorted(dispo["snapshot"].unique().to_list())
    assert len(snaps) == 3
    for snap in snaps:
        upto = dispo.filter(pl.col("snapshot") <= snap)
        eps = build_episodes(upto)
        opens = upto.filter((pl.col("snapshot") == snap) & pl.col("statut_retenu").is_in([1, 2]))
        current = eps.filter(pl.col("en_cours"))
        assert set(current.select("cis", "cip13").rows()) == set(opens.select("cis", "cip13").rows())
        assert current.height == opens.select("cis", "cip13").n_unique() > 0


def test_status_labels_normalised(real_store):
    dispo = real_store.table("disponibilites")
    pairs = set(dispo.select("code_statut", "libelle_statut").unique().rows())
    assert pairs == {
        (1, "Rupture de stock"),
        (2, "Tension d'approvisionnement"),
        (3, "Arrêt de commercialisation"),
        (4, "Remise à disposition"),
    }
    assert dispo["libelle_statut_brut"].str.starts_with("t").any()  # the raw lower-case variants survive for audit


def test_start_dates_before_reliable_date_are_flagged(real_store):
    eps = real_store.table("ruptures_episodes").filter(pl.col("date_debut").is_not_null())
    flagged = eps.filter(pl.col("debut_est_maj"))
    assert flagged.height > 50 and (flagged["date_debut"] < date(2023, 10, 6)).all()
    assert (eps.filter(~pl.col("debut_est_maj"))["date_debut"] >= date(2023, 10, 6)).all()


def test_enrichment(real_store):
    eps = real_store.table("ruptures_episodes")
    mitm = set(real_store.table("mitm")["cis"])
    assert set(eps.filter(pl.col("mitm"))["cis"]) == set(eps["cis"]) & mitm
    known = eps.filter(pl.col("au_catalogue"))
    assert known["denomination"].null_count() == 0 and known["forme_pharmaceutique"].null_count() == 0
    unknown = eps.filter(~pl.col("au_catalogue"))
    assert unknown.height == 19  # CIS of the availability file absent from CIS_bdpm
    atc = known.filter(pl.col("code_atc").is_not_null())
    assert (atc["atc1"] == atc["code_atc"].str.slice(0, 1)).all() and atc["atc1_libelle"].null_count() == 0


def test_episodes_across_snapshots():
    snap = [date(2025, 6, 1), date(2025, 9, 1), date(2025, 12, 1)]
    base = {"cip13": None, "lien_ansm": "https://ansm.sante.fr/x", "date_remise_dispo": None, "source_line": 1}
    rows = [
        {
            **base,
            "cis": "60000001",
            "code_statut": 2,
            "date_debut": date(2025, 5, 10),
            "date_mise_a_jour": date(2025, 5, 20),
            "snapshot": snap[0],
        },
        {
            **base,
            "cis": "60000001",
            "code_statut": 1,
            "date_debut": date(2025, 5, 10),
            "date_mise_a_jour": date(2025, 8, 1),
            "snapshot": snap[1],
        },
        {
            **base,
            "cis": "60000001",
            "code_statut": 4,
            "date_debut": date(2025, 10, 1),
            "date_mise_a_jour": date(2025, 10, 1),
            "date_remise_dispo": date(2025, 10, 1),
            "snapshot": snap[2],
        },
        {
            **base,
            "cis": "60000002",
            "code_statut": 2,
            "date_debut": date(2025, 8, 20),
            "date_mise_a_jour": date(2025, 8, 25),
            "snapshot": snap[1],
        },
        {
            **base,
            "cis": "60000002",
            "code_statut": 2,
            "date_debut": date(2025, 8, 20),
            "date_mise_a_jour": date(2025, 11, 2),
            "snapshot": snap[2],
        },
        {
            **base,
            "cis": "60000003",
            "code_statut": 4,
            "date_debut": date(2025, 11, 5),
            "date_mise_a_jour": date(2025, 11, 5),
            "date_remise_dispo": date(2025, 11, 5),
            "snapshot": snap[2],
        },
    ]
    eps = build_episodes(pl.DataFrame(rows)).sort("cis")
    first, second, third = eps.rows(named=True)
    assert first["statuts"] == ["Tension d'approvisionnement", "Rupture de stock", "Remise à disposition"]
    assert first["fin_observee"] and first["duree_jours"] == (date(2025, 10, 1) - date(2025, 5, 10)).days
    assert not first["en_cours"] and first["n_instantanes"] == 3
    assert (
        second["en_cours"]
        and not second["fin_observee"]
        and second["duree_jours"] == (snap[2] - date(2025, 8, 20)).days
    )
    assert third["debut_inconnu"] and third["duree_jours"] is None and third["date_fin"] == date(2025, 11, 5)


def test_kaplan_meier_hand_example():
    km = kaplan_meier([5, 8, 8, 12, 15], [True, True, False, True, False])
    assert list(km.times) == [0, 5, 8, 12, 15]
    assert km.survival == pytest.approx([1.0, 0.8, 0.6, 0.3, 0.3])
    assert list(km.at_risk) == [5, 5, 4, 2, 1]
    assert km.median == 12
    assert kaplan_meier([10, 20], [False, False]).median is None


def test_class_labels_mapping(real_store):
    hist = real_store.table("ruptures_classes")
    assert hist["annee"].min() == 2014 and hist["annee"].max() == 2020
    assert hist["n_signalements"].sum() == 5969  # SOURCES.md: 5,969 signals in total
    codes = dict(hist.select("libelle_source", "code_atc").unique().rows())
    assert codes["BO5"] == "B05" and codes["Analgésiques"] == "N02"
    assert codes["Tractus digestif et métabolisme"] == "A"
    unmapped = {k for k, v in codes.items() if v is None}
    assert unmapped == {"NX0", "NL0"}


def test_class_mapping_rules():
    atc = pl.DataFrame(
        {
            "code_atc": ["N", "N02", "B05"],
            "niveau": [1, 2, 2],
            "libelle_fr": ["Système nerveux", "Analgésiques", "Substituts du sang"],
            "libelle_en": ["NERVOUS SYSTEM", "ANALGESICS", "BLOOD SUBSTITUTES"],
        }
    )
    out = dict(
        map_class_labels(["Analgesiques", "BO5", "Systeme nerveu", "Quelque chose"], atc)
        .select("libelle_source", "code_atc")
        .rows()
    )
    assert out == {"Analgesiques": "N02", "BO5": "B05", "Systeme nerveu": "N", "Quelque chose": None}


@pytest.mark.slow
def test_alternatives_on_real_generic_groups(real_store):
    eps = real_store.table("ruptures_episodes")
    current = eps.filter(
        pl.col("en_cours")
        & pl.col("cip13").is_null()
        & pl.col("id_groupe_generique").is_not_null()
        & pl.col("au_catalogue")
    )
    whole = set(eps.filter(pl.col("en_cours") & pl.col("cip13").is_null())["cis"])
    spec = real_store.table("specialites")
    marketed = set(spec.filter(pl.col("etat_commercialisation") == "Commercialisée")["cis"])
    gen = real_store.table("generiques")
    checked = 0
    for cis, group in current.select("cis", "id_groupe_generique").rows()[:40]:
        alts = sv.alternatives(real_store, cis)
        members = set(gen.filter(pl.col("id_groupe_generique") == group)["cis"]) - {cis}
        expected = {m for m in members if m in marketed and m not in whole}
        got = set(alts.filter(pl.col("raison").str.starts_with("Même groupe générique"))["cis"])
        assert got == expected, cis
        assert not (set(alts["cis"]) - {cis}) & whole  # nothing in rupture is proposed
        checked += bool(expected)
    assert checked >= 5


@pytest.mark.slow
def test_alternatives_same_substance_dosage_route(real_store):
    eps = real_store.table("ruptures_episodes").filter(pl.col("en_cours") & pl.col("au_catalogue"))
    found = 0
    for cis in eps["cis"].unique().sort().to_list()[:200]:
        alts = sv.alternatives(real_store, cis)
        same = alts.filter(pl.col("raison") == "Même substance, même dosage, même voie")
        if same.is_empty():
            continue
        compo = real_store.table("compositions").filter(pl.col("nature_composant") == "SA")
        mine = set(compo.filter(pl.col("cis") == cis)["code_substance"])
        for other in same["cis"]:
            assert set(compo.filter(pl.col("cis") == other)["code_substance"]) == mine
        found += 1
    assert found >= 3


# --- bad input ----------------------------------------------------------------------------------


@pytest.fixture
def dispo_raw(tmp_path, shared_dir):
    raw = tmp_path / "raw"
    (raw / "bdpm/2026-01-27").mkdir(parents=True)
    for name in ("CIS_bdpm.txt", "CIS_CIP_Dispo_Spec.txt"):
        shutil.copy(shared_dir / "bdpm/2026-01-27" / name, raw / "bdpm/2026-01-27")
    return raw


def append(raw, *lines: str) -> None:
    path = raw / "bdpm/2026-01-27/CIS_CIP_Dispo_Spec.txt"
    path.write_bytes(path.read_bytes() + "".join(line + "\r\n" for line in lines).encode("cp1252"))


@pytest.mark.slow
def test_bad_availability_records_are_rejected(dispo_raw, tmp_path):
    append(
        dispo_raw,
        "60002283\t\t9\tInconnu\t01/01/2025\t02/01/2025\t\thttps://ansm.sante.fr/a",
        "60002283\t\t1\tRupture de stock\t01/06/2027\t01/06/2027\t\thttps://ansm.sante.fr/b",
        "60002283\t\t4\tRemise à disposition\t10/01/2026\t12/01/2026\t05/01/2026\thttps://ansm.sante.fr/c",
        "99999999\t\t1\tRupture de stock\t10/01/2026\t12/01/2026\t\thttps://ansm.sante.fr/d",
    )
    manifest = build(dispo_raw, tmp_path / "out")
    rejects = pl.read_parquet(tmp_path / "out/rejets.parquet")
    reasons = {r: line for line, r in rejects.select("line", "reason").rows()}
    assert any("column code_statut" in r for r in reasons)
    assert "start date after the snapshot date (in the future)" in reasons
    assert "return date before the start date" not in reasons  # kept and flagged, see test_episodes
    src = next(s for s in manifest["sources"] if s["dataset"] == "disponibilites")
    assert src["rejected"] == 2 and src["rows"] == 993 + 2
    eps = pl.read_parquet(tmp_path / "out/ruptures_episodes.parquet")
    unknown = eps.filter(pl.col("cis") == "99999999")
    assert unknown.height == 1 and not unknown["au_catalogue"][0] and unknown["denomination"][0] is None


@pytest.mark.slow
def test_empty_availability_file_fails_clearly(dispo_raw, tmp_path):
    build(dispo_raw, tmp_path / "out")
    (dispo_raw / "bdpm/2026-01-27/CIS_CIP_Dispo_Spec.txt").write_bytes(b"")
    with pytest.raises(BuildError, match="CIS_CIP_Dispo_Spec.txt: the file is empty"):
        build(dispo_raw, tmp_path / "out")
    assert pl.read_parquet(tmp_path / "out/disponibilites.parquet").height == 993


def test_views(real_store, shared_dir):
    f = sv.Filters.parse(["rupture", "bogus"], "1", "n", "12mois")
    assert (f.statuts, f.mitm, f.atc1, f.periode) == (["rupture"], True, "N", "12mois")
    frame = sv.filter_episodes(real_store, f)
    assert frame.height > 0 and (frame["statut"] == 1).all() and frame["mitm"].all() and (frame["atc1"] == "N").all()
    default = sv.Filters.parse(None, None, None, None)
    assert default.statuts == ["rupture", "tension"] and default.periode == "tout"
    s = sv.situation(real_store)
    rows = raw_dispo(shared_dir)
    # a presentation listed by several dossiers counts once, at its severest status (1, then 2, then 3)
    severest: dict[tuple, str] = {}
    for r in rows:
        if r[2] in ("1", "2", "3"):
            key = (r[0], r[1])
            severest[key] = min(severest.get(key, "9"), r[2])
    expected = tuple(len({k[0] for k, v in severest.items() if v == code}) for code in ("1", "2", "3"))
    assert (s.ruptures, s.tensions, s.arrets) == expected
    months = sv.monthly_starts(sv.filter_episodes(real_store, default))
    assert months["episodes"].sum() == sv.filter_episodes(real_store, default)["date_debut"].drop_nulls().len()


def test_demo_shortage_history(demo_store):
    from datamed.demo import DEMO_CLASS_UNMAPPED

    hist = demo_store.table("ruptures_classes")
    assert set(hist.filter(pl.col("code_atc").is_null())["libelle_source"]) == set(DEMO_CLASS_UNMAPPED)
    assert set(hist.filter(pl.col("libelle_source") == "NO2")["code_atc"]) == {"N02"}
    eps = demo_store.table("ruptures_episodes")
    assert eps["premiere_vue"].n_unique() == 3  # three availability snapshots
    dur = sv.durations(eps)
    assert dur is not None and dur.km.events.sum() == dur.returns + dur.withdrawals > 10
    # the competing ends add up with the episodes not yet ended
    end = dur.km.times[-1]
    total = sum(dur.incidence.at(c, end) for c in dur.incidence.incidence)
    assert abs(total + dur.km.survival[-1] - 1) < 1e-9


def test_class_history_merges_o_for_zero_codes(real_store):
    """Issue 14: the source writes N06 as "Psychoanaleptiques" and, in 2020, as "NO6"
    (letter O): one series per class, one point per year, no collapse made by a label."""
    series = sv.class_series(real_store, top=100)
    assert series.height == series.select("code_atc", "annee").unique().height
    raw = real_store.table("ruptures_classes")
    assert {"NO6", "LO1"} <= set(raw["libelle_source"])
    n06 = dict(series.filter(pl.col("code_atc") == "N06").select("annee", "n_signalements").rows())
    assert n06[2020] == raw.filter((pl.col("annee") == 2020) & (pl.col("code_atc") == "N06"))["n_signalements"].sum()
    for code in series["code_atc"].unique():
        values = series.filter(pl.col("code_atc") == code).sort("annee")["n_signalements"].to_list()
        for before, value, after in zip(values, values[1:], values[2:]):
            # a one-year collapse to under a fifth of both neighbours (of 10 or more)
            assert not (min(before, after) >= 10 and value * 5 < min(before, after)), (code, values)


def _km_by_counting(durations, observed, entry):
    """An independent product-limit: at each event time, the risk set counted subject by
    subject (entry < t <= exit; entrants at the first time count), in plain Python."""
    subjects = list(zip(entry, durations, observed))
    first = min(min(entry), min(durations))
    s, out = 1.0, {}
    for t in sorted({d for _, d, _ in subjects}):
        n = sum(1 for a, d, _ in subjects if (a < t or a == t == first) and t <= d)
        k = sum(1 for _, d, o in subjects if d == t and o)
        if n:
            s *= 1 - k / n
        out[t] = s
    return out


def test_kaplan_meier_with_late_entry_matches_an_independent_count():
    """Left truncation (issue 14): a subject counts at risk only after its entry. Checked
    against a subject-by-subject count (and against lifelines in test_survival_reference)."""
    rng = np.random.default_rng(14)
    durations = rng.integers(1, 200, 300).astype(float)
    entry = np.minimum(rng.integers(0, 120, 300), durations)
    observed = rng.random(300) < 0.7
    km = kaplan_meier(durations, observed, entry=entry)
    expected = _km_by_counting(durations.tolist(), observed.tolist(), entry.tolist())
    got = dict(zip(km.times[1:], km.survival[1:]))
    assert got == pytest.approx(expected)
    # late entry changes the answer: ignoring it makes the curve too optimistic early on
    naive = kaplan_meier(durations, observed)
    assert not np.allclose(naive.survival, km.survival)
    assert km.n == 300


def test_kaplan_meier_intervals_and_median_interval():
    km = kaplan_meier([5, 8, 8, 12, 15, 20, 25, 30, 40, 41], [True] * 8 + [False, True])
    assert (km.lower <= km.survival + 1e-12).all() and (km.survival <= km.upper + 1e-12).all()
    assert km.median == 20
    assert km.median_lower is not None and km.median_lower <= km.median
    assert km.median_upper is None or km.median_upper >= km.median
    frame = km.frame(min_at_risk=3)
    assert frame["a_risque"].min() >= 3 and frame.height < km.frame().height
    assert sv.fmt_median(20, 8, None) == "20 jours [8 – non atteinte]"


def test_current_list_on_a_grown_daily_series(shared_dir):
    """60 daily snapshots grown from the real file (returns, reopenings, withdrawals, moved
    starts, code/label conflicts): at every 10th day the current list is that day's open lines."""
    from datamed.demo.snapshots import daily_snapshots
    from datamed.pipeline.episodes import resolved_statuses
    from datamed.sources.bdpm import read_bdpm_file

    src = shared_dir / "bdpm/2026-01-27"
    first = (src / "CIS_CIP_Dispo_Spec.txt").read_bytes().decode("cp1252")
    catalogue = [ln.split("\t")[0] for ln in (src / "CIS_bdpm.txt").read_bytes().decode("cp1252").splitlines() if ln]
    frames = []
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "CIS_CIP_Dispo_Spec.txt"
        for day, text in daily_snapshots(first, date(2026, 1, 27), 60, catalogue):
            path.write_bytes(text.encode("cp1252"))
            frames.append(read_bdpm_file(path).frame.with_columns(pl.lit(day).alias("snapshot")))
    dispo = resolved_statuses(pl.concat(frames))
    assert dispo["conflit_statut"].drop_nulls().len() > 0  # the conflicts are exercised
    days = sorted(dispo["snapshot"].unique())
    for day in days[9::10]:
        upto = dispo.filter(pl.col("snapshot") <= day)
        eps = build_episodes(upto)
        opens = upto.filter((pl.col("snapshot") == day) & pl.col("statut_retenu").is_in([1, 2]))
        current = eps.filter(pl.col("en_cours"))
        assert set(current.select("cis", "cip13").rows()) == set(opens.select("cis", "cip13").rows()), day
        assert current.height == opens.select("cis", "cip13").n_unique()
    issues = set(eps["issue"].drop_nulls())
    assert {"remise", "arret"} <= issues
    assert eps["evenements"].list.eval(pl.element().str.contains("réouverture")).list.any().sum() > 10
