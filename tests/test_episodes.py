"""The episode state machine on synthetic snapshot series: each transition, the five
real patterns of issue 14, and random series (property test)."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from datamed.core.vocabulary import DISPO_STATUS
from datamed.pipeline.episodes import build_episodes, label_code, resolve_status

S1, S2, S3, S4 = date(2025, 3, 1), date(2025, 6, 1), date(2025, 9, 1), date(2025, 12, 1)
LINK = "https://ansm.sante.fr/disponibilites-des-produits-de-sante/medicaments/x"


def line(snap, cis, code, start, update=None, ret=None, cip13=None, label=None, link=LINK):
    return {
        "cis": cis,
        "cip13": cip13,
        "code_statut": code,
        "libelle_statut_brut": label if label is not None else DISPO_STATUS[code],
        "date_debut": start,
        "date_mise_a_jour": update or start,
        "date_remise_dispo": ret,
        "lien_ansm": link,
        "snapshot": snap,
        "source_line": 1,
    }


def episodes(*rows):
    frame = build_episodes(pl.DataFrame(list(rows)))
    return frame.sort(pl.col("premiere_vue"), pl.coalesce("date_debut", "date_fin"))


def test_start_update_return():
    eps = episodes(
        line(S1, "61", 2, date(2025, 2, 10)),
        line(S2, "61", 1, date(2025, 2, 10), date(2025, 5, 1)),
        line(S3, "61", 4, date(2025, 8, 1), ret=date(2025, 8, 1)),
    )
    (ep,) = eps.rows(named=True)
    assert ep["statuts"] == ["Tension d'approvisionnement", "Rupture de stock", "Remise à disposition"]
    assert ep["issue"] == "remise" and ep["fin_observee"] and not ep["en_cours"]
    assert ep["date_fin"] == date(2025, 8, 1) and ep["duree_jours"] == (date(2025, 8, 1) - date(2025, 2, 10)).days
    assert ep["entree_jours"] == (S1 - date(2025, 2, 10)).days  # late entry: at risk from the first snapshot
    assert ep["n_instantanes"] == 3


def test_pattern_1_reopening_is_a_new_current_episode():
    eps = episodes(
        line(S1, "61", 1, date(2025, 2, 10)),
        line(S2, "61", 4, date(2025, 5, 2), ret=date(2025, 5, 2)),
        # the source reopens the same dossier: old start date, new update date
        line(S3, "61", 1, date(2025, 2, 10), date(2025, 8, 20)),
    )
    first, second = eps.rows(named=True)
    assert first["issue"] == "remise" and first["date_fin"] == date(2025, 5, 2) and not first["en_cours"]
    assert second["en_cours"] and second["issue"] is None and second["statut"] == 1
    assert second["date_debut"] == date(2025, 8, 20) and second["debut_est_maj"]
    assert second["date_debut"] >= first["date_fin"]
    assert any("réouverture" in e for e in second["evenements"])


def test_pattern_2_the_same_return_seen_again_is_not_a_new_episode():
    ret = line(S2, "61", 4, date(2025, 5, 2), ret=date(2025, 5, 2))
    eps = episodes(line(S1, "61", 2, date(2025, 2, 1)), ret, {**ret, "snapshot": S3}, {**ret, "snapshot": S4})
    (ep,) = eps.rows(named=True)
    assert ep["issue"] == "remise" and ep["n_instantanes"] == 4 and ep["derniere_vue"] == S4
    # a return seen first in S2 and again later: one unknown-start episode, not three
    eps = episodes(ret, {**ret, "snapshot": S3}, {**ret, "snapshot": S4})
    assert eps.height == 1 and eps["debut_inconnu"][0]
    # a later, different return is a new (unseen) episode between snapshots
    later = line(S4, "61", 4, date(2025, 11, 2), ret=date(2025, 11, 2))
    eps = episodes(ret, {**ret, "snapshot": S3}, later)
    assert eps.height == 2 and eps["date_fin"].to_list() == [date(2025, 5, 2), date(2025, 11, 2)]


def test_pattern_3_return_before_the_updated_start_closes_and_flags():
    eps = episodes(
        line(S1, "61", 1, date(2025, 2, 10)),
        # the source moved the start after the return: kept, flagged, closed
        line(S2, "61", 4, date(2025, 5, 20), ret=date(2025, 5, 2)),
    )
    (ep,) = eps.rows(named=True)
    assert ep["issue"] == "remise" and ep["date_fin"] == date(2025, 5, 2) and not ep["en_cours"]
    assert ep["dates_incoherentes"] and ep["date_debut"] == date(2025, 2, 10)
    # the open episode's own start updated after the return: the earlier start is used
    eps = episodes(
        line(S1, "61", 1, date(2025, 2, 10)),
        line(S2, "61", 1, date(2025, 5, 10)),
        line(S3, "61", 4, date(2025, 5, 10), ret=date(2025, 5, 2)),
    )
    (ep,) = eps.rows(named=True)
    assert ep["dates_incoherentes"] and ep["date_debut"] == date(2025, 2, 10) and ep["duree_jours"] == 81


def test_pattern_4_start_date_changed_is_the_same_episode():
    eps = episodes(
        line(S1, "61", 2, date(2025, 2, 10)),
        line(S2, "61", 2, date(2025, 1, 28), date(2025, 5, 1)),
        line(S3, "61", 1, date(2025, 1, 28), date(2025, 8, 1)),
    )
    (ep,) = eps.rows(named=True)
    assert ep["en_cours"] and ep["debut_modifie"] and ep["date_debut"] == date(2025, 1, 28)
    assert ep["n_instantanes"] == 3 and any("date de début modifiée" in e for e in ep["evenements"])


def test_pattern_5_code_and_label_disagree():
    assert label_code("remise à disposition") == 4 and label_code(" Tension d'approvisionnement") == 2
    assert label_code("") is None and label_code("autre") is None
    status, why = resolve_status(4, "Tension d'approvisionnement", None)
    assert status == 2 and "aucune date de remise" in why and "Tension" in why
    assert resolve_status(4, "Tension d'approvisionnement", date(2025, 1, 1))[0] == 4  # dated: the code wins
    assert resolve_status(2, "Remise à disposition", date(2025, 1, 1))[0] == 4
    assert resolve_status(2, "tension d'approvisionnement", None) == (2, None)
    eps = episodes(
        line(S1, "61", 2, date(2025, 2, 10)),
        line(S2, "61", 4, date(2025, 2, 10), date(2025, 5, 1), label="Tension d'approvisionnement"),
    )
    (ep,) = eps.rows(named=True)
    assert ep["en_cours"] and ep["issue"] is None and ep["statut"] == 2  # not a return


def test_withdrawal_is_its_own_outcome():
    eps = episodes(
        line(S1, "61", 1, date(2025, 2, 10)),
        line(S2, "61", 3, date(2025, 2, 10), date(2025, 4, 15)),
    )
    (ep,) = eps.rows(named=True)
    assert ep["issue"] == "arret" and not ep["fin_observee"] and not ep["en_cours"]
    assert ep["date_fin"] == date(2025, 4, 15) and ep["duree_jours"] == 64


def test_disappearance_and_reappearance():
    eps = episodes(line(S1, "61", 1, date(2025, 2, 10)), line(S2, "62", 1, date(2025, 5, 1)))
    gone = eps.filter(pl.col("cis") == "61").row(0, named=True)
    assert gone["issue"] == "disparition" and not gone["en_cours"] and not gone["fin_observee"]
    assert gone["duree_jours"] == (S1 - date(2025, 2, 10)).days  # censored at the last sighting
    eps = episodes(line(S1, "61", 1, date(2025, 2, 10)), line(S3, "61", 1, date(2025, 2, 10)), line(S2, "62", 1, S2))
    back = eps.filter(pl.col("cis") == "61")
    assert back.height == 1 and back["en_cours"][0] and back["issue"][0] is None
    eps = episodes(line(S1, "61", 1, date(2025, 2, 10)), line(S3, "61", 1, date(2025, 7, 1)), line(S2, "62", 1, S2))
    assert eps.filter(pl.col("cis") == "61")["issue"].to_list() == ["disparition", None]


def test_same_snapshot_lines_of_several_dossiers():
    # a return of one dossier and an open line of another, in the same file
    eps = episodes(
        line(S1, "61", 4, date(2025, 2, 1), ret=date(2025, 2, 1)),
        line(S1, "61", 1, date(2024, 12, 1), link=LINK + "-2"),
    )
    assert eps.height == 1 and eps["en_cours"][0] and "reste indisponible" in eps["evenements"][0][-1]
    # a return before a later start: the return is its own episode, then the new one
    eps = episodes(
        line(S1, "61", 4, date(2025, 2, 1), ret=date(2025, 2, 1)),
        line(S1, "61", 2, date(2025, 2, 20), link=LINK + "-2"),
    )
    assert eps["issue"].to_list() == ["remise", None] and eps["en_cours"].to_list() == [False, True]
    # an open episode closed by a return, a new one opened in the same snapshot
    eps = episodes(
        line(S1, "61", 1, date(2025, 1, 5)),
        line(S2, "61", 4, date(2025, 4, 1), ret=date(2025, 4, 1)),
        line(S2, "61", 2, date(2025, 5, 2), link=LINK + "-2"),
    )
    assert eps["issue"].to_list() == ["remise", None] and eps["date_fin"][0] == date(2025, 4, 1)
    # two identical lines are one
    dup = line(S1, "61", 1, date(2025, 1, 5))
    assert episodes(dup, dup).height == 1


# --- property test ----------------------------------------------------------------------------------

SNAPS = [date(2025, 1, 1) + timedelta(days=30 * i) for i in range(8)]


@st.composite
def series(draw):
    rows = []
    for cis in ("61", "62", "63"):
        for k, snap in enumerate(SNAPS):
            for _ in range(draw(st.integers(0, 2))):
                code = draw(st.sampled_from([1, 2, 3, 4]))
                start = snap - timedelta(days=draw(st.integers(0, 400)))
                ret = start + timedelta(days=draw(st.integers(-30, 200))) if code == 4 else None
                if ret is not None and ret > snap:
                    ret = snap
                label = draw(st.sampled_from([None, "Tension d'approvisionnement", "remise à disposition"]))
                rows.append(line(snap, cis, code, start, snap - timedelta(days=k % 3), ret, label=label))
    return rows


def _open_tracks(rows, snap):
    keys = set()
    for r in rows:
        if r["snapshot"] != snap:
            continue
        status, _ = resolve_status(r["code_statut"], r["libelle_statut_brut"], r["date_remise_dispo"])
        if status in (1, 2):
            keys.add((r["cis"], r["cip13"]))
    return keys


@settings(max_examples=300, deadline=None)
@given(series())
def test_random_series_keep_the_invariants(rows):
    if not rows:
        return
    eps = build_episodes(pl.DataFrame(rows))
    last = max(r["snapshot"] for r in rows)
    # current iff the last snapshot has an open line for the presentation, one episode each
    current = eps.filter(pl.col("en_cours"))
    assert set(current.select("cis", "cip13").rows()) == _open_tracks(rows, last)
    assert current.height == current.select("cis", "cip13").n_unique()
    assert (current["issue"].is_null()).all() and current["statut"].is_in([1, 2]).all()
    for r in eps.iter_rows(named=True):
        if r["date_debut"] is not None and r["date_fin"] is not None:
            assert r["date_fin"] >= r["date_debut"], r
        if r["duree_jours"] is not None:
            assert r["duree_jours"] >= 0 and 0 <= r["entree_jours"] <= r["duree_jours"]
        assert r["fin_observee"] == (r["issue"] == "remise")
    # episodes of a presentation never overlap
    for _, group in eps.group_by("cis", "cip13"):
        spans = []
        for r in group.iter_rows(named=True):
            lo = r["date_debut"] or r["date_fin"] or r["premiere_vue"]
            hi = r["date_fin"] or (last if r["en_cours"] else r["derniere_vue"])
            spans.append((lo, hi))
        spans.sort()
        for (_, hi), (lo, _) in zip(spans, spans[1:]):
            assert lo >= hi, spans
