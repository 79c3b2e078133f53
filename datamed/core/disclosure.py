"""Per-breakdown disclosure control, kept for the internal notifier tables
(``ei_notif_*``, never shown nor published), plus the threshold setting and the
French explanation shown beside every withheld count. The published
pharmacovigilance tables are protected jointly by ``datamed.pipeline.suppression``
and checked by ``datamed.audit``.

No count below a threshold (default 11, ``DATAMED_SEUIL``) may be published,
and no masked count may be recoverable from totals, other cells or derived
values (percentages, rates...). Masking is applied in the data pipeline:

- ``protect_cells`` decides, for one breakdown (cells partitioning a total),
  which cells are masked: PRIMARY when the cell is below the threshold,
  SECONDARY when it must be hidden so that primaries cannot be recovered.
- ``protect_frame`` applies it to every group of a polars DataFrame.
- ``mask_derived`` nulls derived columns computed from masked counts.

Attacker model (see ``recoverable``): the published cells, the published
total, and the statuses are public; a PRIMARY cell lies in [0, threshold-1]
and a SECONDARY one in [threshold, +inf).
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence

import polars as pl

from datamed.core.rule import SOURCE_FLOOR

DEFAULT_THRESHOLD = 11
PRIMARY = "primaire"
SECONDARY = "secondaire"
ENV_VAR = "DATAMED_SEUIL"


def explanation_fr(threshold: int = DEFAULT_THRESHOLD) -> str:
    """One French sentence explaining the masking to users."""
    return (
        f"Secret médical : les effectifs inférieurs à {threshold} sont masqués, ainsi que d'autres effectifs "
        "choisis pour qu'aucun ne puisse être retrouvé par calcul (différence avec un total, autre tableau) ; "
        "tous portent la même mention « masqué », et les taux et parts qui en dépendent sont masqués avec eux. "
        f"Les croisements classe d'organes × âge ou sexe sont listés à partir de {max(SOURCE_FLOOR, threshold)} cas ; "
        "les totaux nationaux additionnent les effectifs publiés."
    )


EXPLANATION_FR = explanation_fr()


def threshold_from_env() -> int:
    """``DATAMED_SEUIL`` as an int >= 1 if set (and non-empty), else DEFAULT_THRESHOLD."""
    raw = os.environ.get(ENV_VAR, "").strip()
    if not raw:
        return DEFAULT_THRESHOLD
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{ENV_VAR} must be an integer >= 1, got {raw!r}") from None
    if value < 1:
        raise ValueError(f"{ENV_VAR} must be an integer >= 1, got {value}")
    return value


def _check_threshold(threshold: object) -> None:
    if isinstance(threshold, bool) or not isinstance(threshold, int) or threshold < 1:
        raise ValueError(f"threshold must be an integer >= 1, got {threshold!r}")


def _check_values(values: Sequence[object], total: object) -> None:
    for v in values:
        if isinstance(v, bool) or not isinstance(v, int):
            raise ValueError(f"counts must be integers, got {v!r}")
        if v < 0:
            raise ValueError(f"counts must be non-negative, got {v}")
    if total is not None:
        if isinstance(total, bool) or not isinstance(total, int):
            raise ValueError(f"total must be an integer or None, got {total!r}")
        if sum(values) != total:
            raise ValueError(f"cells sum to {sum(values)} but the published total is {total}")


def _interval(status: str, threshold: int) -> tuple[int, float]:
    """What the public knows about a masked cell from its status."""
    return (0, threshold - 1) if status == PRIMARY else (threshold, math.inf)


def recoverable(values: Sequence[int], statuses: Sequence[str | None], total: int | None, threshold: int) -> list[int]:
    """Indices of masked cells whose exact value can be derived by an attacker.

    Interval reasoning over the single constraint sum == total: with
    S = total - sum(published), masked cell i lies in
    [max(l_i, S - sum_{j!=i} h_j), min(h_i, S - sum_{j!=i} l_j)], and every
    integer of that interval is attainable; it is recoverable iff the interval
    is a single point. Without a total, only the status interval is known.
    """
    if len(values) != len(statuses):
        raise ValueError(f"{len(values)} values but {len(statuses)} statuses")
    masked = [i for i, s in enumerate(statuses) if s is not None]
    bounds = {i: _interval(statuses[i], threshold) for i in masked}
    if total is None:
        return [i for i in masked if bounds[i][0] == bounds[i][1]]
    rest = total - sum(v for v, s in zip(values, statuses) if s is None)
    if _inconsistent(bounds, rest):
        # statuses that contradict the total (e.g. a lone "primary" cell worth 500): the
        # attacker ignores them and keeps the sum, which pins a lone masked cell
        bounds = {i: (0, math.inf) for i in masked}
    return _pinned(bounds, rest)


def _inconsistent(bounds: dict[int, tuple[int, float]], rest: int) -> bool:
    return sum(lo for lo, _ in bounds.values()) > rest or sum(hi for _, hi in bounds.values()) < rest


def _pinned(bounds: dict[int, tuple[int, float]], rest: int) -> list[int]:
    """Cells whose value the sum constraint fixes, given their intervals."""
    masked = list(bounds)
    sum_lo = sum(lo for lo, _ in bounds.values())
    n_inf = sum(1 for _, hi in bounds.values() if hi == math.inf)
    sum_hi_finite = sum(hi for _, hi in bounds.values() if hi != math.inf)
    found = []
    for i in masked:
        lo_i, hi_i = bounds[i]
        others_lo = sum_lo - lo_i
        if n_inf - (hi_i == math.inf) > 0:  # avoid inf - inf
            others_hi = math.inf
        else:
            others_hi = sum_hi_finite - (hi_i if hi_i != math.inf else 0)
        if max(lo_i, rest - others_hi) == min(hi_i, rest - others_lo):
            found.append(i)
    return found


def _is_safe(values, statuses, total, threshold) -> bool:
    """Rule 2: nothing recoverable and the masked sum is 0 cells or >= threshold."""
    masked = [v for v, s in zip(values, statuses) if s is not None]
    if masked and sum(masked) < threshold:
        return False
    return not recoverable(values, statuses, total, threshold)


def protect_cells(
    values: Sequence[int],
    total: int | None,
    threshold: int = DEFAULT_THRESHOLD,
    initial: Sequence[str | None] | None = None,
) -> list[str | None]:
    """Status per cell of one breakdown: None (published), PRIMARY or SECONDARY.

    `values` are non-negative integers partitioning `total` when it is
    published (not None); None means no additive constraint. Every cell below
    the threshold (0 included) is PRIMARY. With a published total, the
    smallest published cell (ties: lowest index) is then masked SECONDARY
    repeatedly until no masked cell is recoverable and the masked sum is
    >= threshold. If every cell ends up masked and this still fails (total
    below the threshold, or e.g. [10, 10] / [0, 11] at threshold 11), the
    breakdown cannot be protected at cell level: the caller must mask the
    total itself.

    With threshold 1, a PRIMARY cell is 0 by definition, so its status already
    discloses it and no secondary suppression could help: only primaries.

    ``initial`` carries statuses decided by another breakdown the cells belong
    to (a cell of a two-way table): they are kept, and completed so that this
    breakdown is safe too. Masking more cells never makes another breakdown
    unsafe (the intervals an attacker can derive only widen).
    """
    _check_threshold(threshold)
    _check_values(values, total)
    statuses: list[str | None] = [PRIMARY if v < threshold else None for v in values]
    if initial is not None:
        if len(initial) != len(values):
            raise ValueError(f"{len(values)} values but {len(initial)} initial statuses")
        statuses = [s or i for s, i in zip(statuses, initial)]
    if total is None or threshold == 1 or not any(statuses):
        return statuses
    candidates = sorted((v, i) for i, v in enumerate(values) if statuses[i] is None)
    for _, i in candidates:
        if _is_safe(values, statuses, total, threshold):
            break
        statuses[i] = SECONDARY
    return statuses


def protect_frame(
    df: pl.DataFrame,
    value: str,
    by: list[str],
    *,
    total: str | None = None,
    threshold: int = DEFAULT_THRESHOLD,
) -> pl.DataFrame:
    """Apply ``protect_cells`` within each group of `by` (one group = one breakdown).

    `total` names a column holding the group's published total (same value on
    every row of the group; null = not published, no constraint). If None, the
    group total is sum(value), considered published (the safe default).
    Returns `df` (row order preserved) with `value` nulled where masked and a
    new String column f"{value}_statut" (None / PRIMARY / SECONDARY).
    """
    _check_threshold(threshold)
    status_col = f"{value}_statut"
    if status_col in df.columns:
        raise ValueError(f"column {status_col!r} already exists (frame already protected?)")
    idx = "__disclosure_row__"
    aggs = [pl.col(idx), pl.col(value)]
    if total is not None:
        aggs += [pl.col(total).first().alias("__total__"), pl.col(total).n_unique().alias("__n__")]
    groups = df.with_row_index(idx).group_by(by, maintain_order=True).agg(aggs)
    statuses: list[str | None] = [None] * df.height
    rows = groups[idx].to_list()
    cells = groups[value].to_list()
    totals = groups["__total__"].to_list() if total is not None else [None] * len(rows)
    if total is not None and groups.height and groups["__n__"].max() > 1:
        raise ValueError(f"column {total!r} must hold one value per group of {by}")
    for row_ids, vals, tot in zip(rows, cells, totals):
        if total is None:
            if any(v is None for v in vals):
                raise ValueError(f"column {value!r} holds nulls; counts must be integers")
            tot = sum(vals)
        for r, s in zip(row_ids, protect_cells(vals, tot, threshold)):
            statuses[r] = s
    status = pl.Series(status_col, statuses, dtype=pl.String)
    return df.with_columns(status).with_columns(pl.when(pl.col(status_col).is_null()).then(pl.col(value)).alias(value))


def mask_derived(df: pl.DataFrame, columns: list[str], depends_on: list[str]) -> pl.DataFrame:
    """Null `columns` on rows where any count in `depends_on` is masked.

    A count is masked when its f"{c}_statut" column (if present) is not null or
    the count itself is null. Use it for rates, shares, confidence intervals,
    ratios... so that no masked count can be recomputed from them.
    """
    if not depends_on:
        raise ValueError("depends_on must name at least one count column")
    masked = pl.lit(False)
    for c in depends_on:
        masked = masked | pl.col(c).is_null()
        if f"{c}_statut" in df.columns:
            masked = masked | pl.col(f"{c}_statut").is_not_null()
    return df.with_columns(pl.when(~masked).then(pl.col(c)).alias(c) for c in columns)


def unsafe(values: Sequence[int], statuses: Sequence[str | None], total: int | None, threshold: int) -> bool:
    """True when a masked cell can be recovered, or the masked cells add up to a small count."""
    return not _is_safe(values, statuses, total, threshold)


def extend_statuses(df: pl.DataFrame, true_value: str, status: str, by: list[str], threshold: int) -> pl.Series:
    """Statuses of ``status`` completed so that every group of ``by`` is safe against its
    (published) sum, the true values being in ``true_value``. Rows with a null true
    value are left out of their group. Returns the new status column, row-aligned."""
    _check_threshold(threshold)
    idx = "__disclosure_row__"
    known = df.with_row_index(idx).filter(pl.col(true_value).is_not_null())
    key = by or [pl.lit(1).alias("__all__")]
    groups = known.group_by(key, maintain_order=True).agg(pl.col(idx), pl.col(true_value), pl.col(status))
    out = df[status].to_list()
    for rows, vals, stats in zip(groups[idx].to_list(), groups[true_value].to_list(), groups[status].to_list()):
        vals = [int(v) for v in vals]
        for r, s in zip(rows, protect_cells(vals, sum(vals), threshold, initial=stats)):
            out[r] = s
    return pl.Series(status, out, dtype=pl.String)


def unsafe_groups(
    df: pl.DataFrame, true_value: str, status: str, by: list[str], total: str, threshold: int
) -> pl.DataFrame:
    """Keys of the groups of ``by`` that stay unsafe against their published ``total``
    column (groups whose true cells do not add up to it carry no constraint): their
    total must be masked by the caller."""
    groups = (
        df.filter(pl.col(true_value).is_not_null())
        .group_by(by, maintain_order=True)
        .agg(pl.col(true_value), pl.col(status), pl.col(total).first().alias("__total__"))
    )
    bad = []
    for row in groups.iter_rows(named=True):
        vals, stats, tot = [int(v) for v in row[true_value]], row[status], row["__total__"]
        if tot is None or sum(vals) != tot or not any(stats):
            continue
        if unsafe(vals, stats, int(tot), threshold):
            bad.append({k: row[k] for k in by})
    return pl.DataFrame(bad, schema={k: df.schema[k] for k in by}, orient="row")
