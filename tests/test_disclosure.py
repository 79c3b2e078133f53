"""Tests for datamed.core.disclosure: hand cases, input validation and property
tests (hypothesis) including an independent exhaustive attacker."""

from __future__ import annotations

import time
from itertools import combinations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from datamed.core.disclosure import (
    DEFAULT_THRESHOLD,
    EXPLANATION_FR,
    PRIMARY,
    SECONDARY,
    explanation_fr,
    extend_statuses,
    mask_derived,
    protect_cells,
    protect_frame,
    recoverable,
    threshold_from_env,
    unsafe,
    unsafe_groups,
)

P, S = PRIMARY, SECONDARY

# Skewed toward small counts, where disclosure risk lives.
counts = st.one_of(st.integers(0, 15), st.integers(0, 5000))
breakdowns = st.lists(counts, min_size=1, max_size=12)
thresholds = st.integers(2, 20)


@st.composite
def small_cases(draw):
    """(threshold, values) with cells <= 6 and values <= 30, biased toward the
    edges (0, t - 1, t, t + 1) where pinning happens."""
    t = draw(thresholds)
    edge = st.sampled_from([0, t - 1, t, t + 1])
    return t, draw(st.lists(st.one_of(st.integers(0, 30), edge), min_size=1, max_size=6))


# --- independent checkers (no code shared with the module) -----------------


def _reachable_sums(ranges: list[range], cap: int) -> int:
    """Bitset of every sum <= cap reachable by picking one integer per range."""
    bits = 1
    mask = (1 << (cap + 1)) - 1
    for r in ranges:
        new = 0
        for k in r:
            if k > cap:
                break
            new |= bits << k
        bits = new & mask
    return bits


def attainable(values, statuses, total, threshold) -> dict[int, set[int]]:
    """Exhaustive attacker: for each masked cell, every value it takes in some
    integer assignment of the masked cells consistent with the public
    knowledge (published cells, total, PRIMARY in [0, t-1], SECONDARY in
    [t, total])."""
    masked = [i for i, s in enumerate(statuses) if s is not None]
    if total is None:  # no constraint: the status interval is all that is known
        return {i: set(range(threshold)) if statuses[i] == P else {threshold, threshold + 1} for i in masked}
    rest = total - sum(v for v, s in zip(values, statuses) if s is None)
    ranges = {i: range(0, threshold) if statuses[i] == P else range(threshold, total + 1) for i in masked}
    found = {}
    for i in masked:
        reach = _reachable_sums([ranges[j] for j in masked if j != i], rest)
        found[i] = {v for v in ranges[i] if v <= rest and (reach >> (rest - v)) & 1}
    return found


def brute_safe(values, statuses, total, threshold) -> bool:
    """Rule 2 checked by the exhaustive attacker."""
    masked = [v for v, s in zip(values, statuses) if s is not None]
    if total is not None and masked and sum(masked) < threshold:
        return False
    return all(len(vs) >= 2 for vs in attainable(values, statuses, total, threshold).values())


def interval_safe(values, statuses, total, threshold) -> bool:
    masked = [v for v, s in zip(values, statuses) if s is not None]
    if total is not None and masked and sum(masked) < threshold:
        return False
    return not recoverable(values, statuses, total, threshold)


# --- hand cases ---------------------------------------------------------------


def test_zeros_then_large_cell_is_secondary():
    # Both zeros are primary; their sum (0) would be total - 500, so 500 is masked too.
    assert protect_cells([0, 0, 500], 500) == [P, P, S]
    assert recoverable([0, 0, 500], [P, P, S], 500, 11) == []


def test_small_cell_protected_by_next_smallest():
    assert protect_cells([5, 100, 200], 305) == [P, S, None]


def test_nothing_below_threshold_is_untouched():
    assert protect_cells([20, 30], 50) == [None, None]
    assert protect_cells([20, 30], None) == [None, None]


def test_no_published_total_means_only_primaries():
    assert protect_cells([5, 100, 200], None) == [P, None, None]
    assert protect_cells([0, 0, 500], None) == [P, P, None]


def test_ties_broken_by_lowest_index():
    assert protect_cells([50, 3, 50, 40], 143) == [None, P, None, S]
    assert protect_cells([40, 3, 40], 83) == [S, P, None]


def test_secondary_may_need_several_cells():
    # One secondary suffices: 3 in [0, 10] and 11 in [11, +inf) summing to 14
    # leave 3 in [0, 3] and 11 in [11, 14].
    assert protect_cells([3, 11, 11, 200], 225) == [P, S, None, None]
    # Masked {0, 11} sum to 11, which pins 0 to 0 and 11 to 11: a second is needed.
    assert protect_cells([0, 11, 12, 200], 223) == [P, S, S, None]
    # ... and with {0, 11, 11} (sum 22 = 2 x 11) still pinned: a third.
    assert protect_cells([0, 11, 11, 200], 222) == [P, S, S, S]


def test_total_below_threshold_all_primary():
    assert protect_cells([3, 4], 7) == [P, P]
    assert protect_cells([0], 0) == [P]


def test_infeasible_breakdowns_end_fully_masked():
    # The total must be masked by the caller: no cell-level masking helps.
    assert protect_cells([10, 10], 20) == [P, P]
    assert recoverable([10, 10], [P, P], 20, 11) == [0, 1]
    assert protect_cells([0, 11], 11) == [P, S]
    assert recoverable([0, 11], [P, S], 11, 11) == [0, 1]


def test_threshold_one_masks_only_zeros():
    assert protect_cells([1, 2, 30], 33, threshold=1) == [None, None, None]
    assert protect_cells([0, 2, 30], 32, threshold=1) == [P, None, None]
    # "< 1" means exactly 0: inherently disclosed, secondary masking cannot help.
    assert recoverable([0, 2, 30], [P, None, None], 32, 1) == [0]


def test_custom_threshold():
    assert protect_cells([4, 6, 100], 110, threshold=5) == [P, S, None]


def test_recoverable_simple_subtraction():
    # Publishing the total with a single masked cell reveals it.
    assert recoverable([5, 100, 200], [P, None, None], 305, 11) == [0]
    assert recoverable([5, 100, 200], [P, None, None], None, 11) == []


def test_explanation_fr():
    assert "11" in EXPLANATION_FR and explanation_fr(DEFAULT_THRESHOLD) == EXPLANATION_FR
    assert "inférieurs à 5 sont masqués" in explanation_fr(5) and "« masqué »" in explanation_fr(5)
    assert "< 5" not in explanation_fr(5)  # one status: which cells are small is not told
    # organ-class rows: listed from the threshold, never below the source's own floor
    assert "à partir de 10 cas" in explanation_fr(5) and "à partir de 50 cas" in explanation_fr(50)


# --- environment --------------------------------------------------------------


def test_threshold_from_env(monkeypatch):
    monkeypatch.delenv("DATAMED_SEUIL", raising=False)
    assert threshold_from_env() == DEFAULT_THRESHOLD == 11
    monkeypatch.setenv("DATAMED_SEUIL", " 5 ")
    assert threshold_from_env() == 5
    assert protect_cells([4, 6, 100], 110, threshold=threshold_from_env()) == [P, S, None]
    monkeypatch.setenv("DATAMED_SEUIL", "")
    assert threshold_from_env() == 11


@pytest.mark.parametrize("bad", ["abc", "0", "-3", "2.5"])
def test_threshold_from_env_rejects_bad_values(monkeypatch, bad):
    monkeypatch.setenv("DATAMED_SEUIL", bad)
    with pytest.raises(ValueError, match="DATAMED_SEUIL"):
        threshold_from_env()


# --- input validation -----------------------------------------------------------


@pytest.mark.parametrize("values", [[1, -2, 3], [1.0, 2], [1, "2"], [True, 20], [None, 3]])
def test_invalid_values_rejected(values):
    with pytest.raises(ValueError):
        protect_cells(values, None)


def test_total_mismatch_names_both_numbers():
    with pytest.raises(ValueError, match=r"(?=.*\b30\b)(?=.*\b31\b)"):
        protect_cells([10, 20], 31)


@pytest.mark.parametrize("threshold", [0, -1, 2.0, True])
def test_invalid_threshold_rejected(threshold):
    with pytest.raises(ValueError, match="threshold"):
        protect_cells([10, 20], 30, threshold=threshold)


def test_protect_frame_validation():
    df = pl.DataFrame({"g": [1, 1, 2], "n": [3, 40, 50], "tot": [43, 44, 50]})
    with pytest.raises(ValueError, match="tot"):
        protect_frame(df, "n", ["g"], total="tot")
    with pytest.raises(ValueError, match="sum"):
        protect_frame(df.with_columns(tot=pl.lit(99)), "n", ["g"], total="tot")
    with pytest.raises(ValueError):
        protect_frame(df.with_columns(n=pl.Series([None, 40, 50])), "n", ["g"])
    with pytest.raises(ValueError, match="already"):
        protect_frame(protect_frame(df, "n", ["g"]), "n", ["g"])
    with pytest.raises(ValueError):
        mask_derived(df, ["tot"], [])


def test_protect_frame_hand_case():
    df = pl.DataFrame(
        {"annee": [2020, 2021, 2020, 2021, 2020], "sexe": ["F", "F", "M", "M", "F"], "n": [5, 40, 100, 7, 200]}
    )
    out = protect_frame(df, "n", ["annee"])
    assert out["n_statut"].to_list() == [P, S, S, P, None]
    assert out["n"].to_list() == [None, None, None, None, 200]
    assert out["n_statut"].dtype == pl.String and out["n"].dtype == df["n"].dtype
    # Null total = not published: only primaries.
    out = protect_frame(df.with_columns(tot=pl.lit(None, pl.Int64)), "n", ["annee"], total="tot")
    assert out["n_statut"].to_list() == [P, None, None, P, None]


# --- properties -------------------------------------------------------------------


@settings(max_examples=500, deadline=None)
@given(values=breakdowns, threshold=thresholds, published=st.booleans())
def test_protect_cells_properties(values, threshold, published):
    total = sum(values) if published else None
    statuses = protect_cells(values, total, threshold)
    assert len(statuses) == len(values)
    assert statuses == protect_cells(list(values), total, threshold)  # deterministic
    # (a) every value below the threshold is primary, and only those.
    for v, s in zip(values, statuses):
        assert (s == P) == (v < threshold)
        if s == S:
            assert published and v >= threshold
    if not published:
        assert S not in statuses and recoverable(values, statuses, None, threshold) == []
        return
    masked = [v for v, s in zip(values, statuses) if s is not None]
    if all(s is not None for s in statuses) and not interval_safe(values, statuses, total, threshold):
        return  # infeasible at cell level (checked in test_infeasible_is_truly_infeasible)
    # (b) nothing recoverable; (c) masked sum is 0 cells or >= threshold.
    assert recoverable(values, statuses, total, threshold) == []
    assert not masked or sum(masked) >= threshold
    # Rule 3: secondaries are the greedy prefix, and one fewer would be unsafe.
    order = sorted((v, i) for i, v in enumerate(values) if v >= threshold)
    secondaries = [i for i, s in enumerate(statuses) if s == S]
    assert sorted(secondaries) == sorted(i for _, i in order[: len(secondaries)])
    if secondaries:
        fewer = list(statuses)
        fewer[order[len(secondaries) - 1][1]] = None
        assert not interval_safe(values, fewer, total, threshold)


@pytest.mark.slow
@settings(max_examples=400, deadline=None)
@given(case=small_cases(), published=st.booleans())
def test_brute_force_attacker_cannot_pin_masked_cells(case, published):
    """(d) Exhaustive check, independent of the interval reasoning."""
    threshold, values = case
    total = sum(values) if published else None
    statuses = protect_cells(values, total, threshold)
    if published and total < threshold:
        return  # caller's job: the total itself must be masked
    safe = brute_safe(values, statuses, total, threshold)
    assert safe == interval_safe(values, statuses, total, threshold)
    if safe:
        for i, vs in attainable(values, statuses, total, threshold).items():
            assert len(vs) >= 2 and values[i] in vs
    else:
        assert published and all(s is not None for s in statuses)


@settings(max_examples=300, deadline=None)
@given(case=small_cases())
def test_infeasible_is_truly_infeasible(case):
    """When the greedy rule ends fully masked and unsafe, no choice of
    secondary cells at all would have been safe (exhaustive over subsets)."""
    threshold, values = case
    total = sum(values)
    statuses = protect_cells(values, total, threshold)
    if brute_safe(values, statuses, total, threshold):
        return
    assert all(s is not None for s in statuses)
    big = [i for i, v in enumerate(values) if v >= threshold]
    for k in range(len(big) + 1):
        for chosen in combinations(big, k):
            trial = [P if v < threshold else (S if i in chosen else None) for i, v in enumerate(values)]
            assert not brute_safe(values, trial, total, threshold)


@st.composite
def frames(draw):
    groups = draw(st.lists(st.lists(counts, min_size=1, max_size=8), min_size=1, max_size=8))
    publish = draw(st.lists(st.booleans(), min_size=len(groups), max_size=len(groups)))
    rows = [(g, v, sum(vals) if publish[g] else None) for g, vals in enumerate(groups) for v in vals]
    rows = draw(st.permutations(rows))  # interleave groups
    return pl.DataFrame(
        {
            "substance": [f"s{g % 3}" for g, _, _ in rows],
            "annee": [2000 + g for g, _, _ in rows],
            "n": [v for _, v, _ in rows],
            "total": [t for _, _, t in rows],
        },
        schema={"substance": pl.String, "annee": pl.Int64, "n": pl.Int64, "total": pl.Int64},
    )


def _expected_statuses(df, by, total, threshold):
    """protect_cells applied group by group, in plain Python."""
    keys = list(zip(*(df[c].to_list() for c in by)))
    vals, tots = df["n"].to_list(), df[total].to_list() if total else None
    expected = [None] * df.height
    for key in dict.fromkeys(keys):
        idx = [i for i, k in enumerate(keys) if k == key]
        group_vals = [vals[i] for i in idx]
        group_total = tots[idx[0]] if total else sum(group_vals)
        for i, s in zip(idx, protect_cells(group_vals, group_total, threshold)):
            expected[i] = s
    return expected


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(df=frames(), threshold=thresholds, use_total=st.booleans())
def test_protect_frame_matches_protect_cells(df, threshold, use_total):
    """(e) Group-wise equivalence, row order kept, masked values nulled."""
    by = ["substance", "annee"]
    total = "total" if use_total else None
    out = protect_frame(df, "n", by, total=total, threshold=threshold)
    assert out.columns == [*df.columns, "n_statut"]
    assert out.drop("n", "n_statut").equals(df.drop("n"))
    statuses = out["n_statut"].to_list()
    assert statuses == _expected_statuses(df, by, total, threshold)
    for raw, shown, s in zip(df["n"].to_list(), out["n"].to_list(), statuses):
        assert shown == (raw if s is None else None)
        assert shown is None or shown >= threshold


@settings(max_examples=200, deadline=None)
@given(df=frames(), threshold=thresholds)
def test_mask_derived_hides_percentages_of_masked_counts(df, threshold):
    """(f) No masked count can be recomputed from a published percentage."""
    df = df.with_columns(pct=pl.col("n") / pl.col("n").sum().over("substance", "annee") * 100)
    out = protect_frame(df, "n", ["substance", "annee"], threshold=threshold)
    out = mask_derived(out, ["pct"], ["n"])
    assert out["pct"].dtype == pl.Float64
    for n, s, pct, raw_pct in zip(out["n"], out["n_statut"], out["pct"], df["pct"]):
        if s is not None or n is None:
            assert pct is None
        else:
            assert pct == raw_pct


def test_mask_derived_any_dependency():
    df = pl.DataFrame({"a": [20, None, 30], "a_statut": [None, P, None], "b": [15, 40, None], "ratio": [1.3, 0.2, 0.5]})
    assert mask_derived(df, ["ratio"], ["a", "b"])["ratio"].to_list() == [1.3, None, None]
    assert mask_derived(df, ["ratio"], ["a"])["ratio"].to_list() == [1.3, None, 0.5]


@pytest.mark.slow
def test_protect_frame_is_fast():
    """~50,000 breakdowns of 2-30 cells within a couple of seconds."""
    import random

    rng = random.Random(0)
    keys, values = [], []
    for g in range(50_000):
        for _ in range(rng.randint(2, 30)):
            keys.append(g)
            values.append(rng.choice([rng.randint(0, 15), rng.randint(0, 5000)]))
    df = pl.DataFrame({"g": keys, "n": values})
    start = time.perf_counter()
    out = protect_frame(df, "n", ["g"])
    elapsed = time.perf_counter() - start
    assert out.height == df.height
    assert elapsed < 10, f"protect_frame took {elapsed:.1f}s"  # generous bound for slow CI


# --- two-way tables: statuses decided by another breakdown ----------------------------------------


def test_initial_statuses_are_kept_and_completed():
    # a cell masked by another breakdown (secondary) alone in this one would be
    # recovered by subtraction from the total: another cell must be masked too
    statuses = protect_cells([50, 100, 200], 350, 11, initial=[SECONDARY, None, None])
    assert statuses[0] == SECONDARY and statuses.count(None) == 1
    assert not recoverable([50, 100, 200], statuses, 350, 11)


def test_initial_statuses_without_total_are_kept():
    assert protect_cells([50, 3], None, 11, initial=[SECONDARY, None]) == [SECONDARY, PRIMARY]


@given(
    st.lists(st.integers(0, 60), min_size=1, max_size=6),
    st.lists(st.booleans(), min_size=6, max_size=6),
    st.integers(2, 15),
)
@settings(max_examples=300, deadline=None)
def test_completed_statuses_are_safe_or_fully_masked(values, pre, threshold):
    initial = [SECONDARY if p else None for p in pre[: len(values)]]
    statuses = protect_cells(values, sum(values), threshold, initial=initial)
    for i, s in enumerate(initial):
        assert s is None or statuses[i] is not None  # never unmasked
    if None in statuses:
        assert not unsafe(values, statuses, sum(values), threshold)


def test_extend_statuses_protects_columns_of_a_two_way_table():
    # rows = substances, columns = years; each column adds up to a published national figure
    df = pl.DataFrame(
        {
            "sub": ["a", "b", "c", "a", "b", "c"],
            "year": [1, 1, 1, 2, 2, 2],
            "true": [5, 40, 60, 30, 30, 30],
            "status": [PRIMARY, None, None, None, None, None],
        }
    )
    out = extend_statuses(df, "true", "status", ["year"], 11).to_list()
    year1 = out[:3]
    assert year1[0] == PRIMARY and year1.count(None) == 1  # 40 masked too: 105 - 60 = 45 = a + b, a in [0, 10]
    assert out[3:] == [None, None, None]


def test_unsafe_groups_finds_breakdowns_that_cannot_be_protected():
    # total 11 split [0, 11]: the only safe answer is to mask the total
    df = pl.DataFrame(
        {
            "id": ["x", "x", "y", "y"],
            "true": [0, 11, 30, 40],
            "status": [PRIMARY, SECONDARY, None, None],
            "total": [11, 11, 70, 70],
        }
    )
    bad = unsafe_groups(df, "true", "status", ["id"], "total", 11)
    assert bad["id"].to_list() == ["x"]


def test_statuses_that_contradict_the_total_do_not_hide_a_lone_cell():
    # a lone masked cell labelled "primary" but worth 500: the attacker drops the status and subtracts
    assert recoverable([0, 120], [PRIMARY, None], 620, 11) == [0]
    assert recoverable([0, 0, 120], [PRIMARY, PRIMARY, None], 620, 11) == []  # two unknowns: not pinned
