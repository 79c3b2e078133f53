"""Feasible interval of every withheld count: the attacker's integer programs.

For each audited unknown x, min x and max x over the integer points of the model.
HiGHS (``highspy``) solves the linear relaxation, warm-started from the previous
basis (only the objective changes between solves). When the optimal vertex is
integral, it is an integer table that reaches the bound, so the relaxation's
bound is the integer bound; otherwise that one bound is solved again as an
integer program. Every bound reported is therefore exact, not a relaxation.

The model splits into independent parts (connected components of the facts);
each part is solved on its own, smallest first.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import highspy
import numpy as np

from datamed.audit.model import AttackerModel

INTEGRAL = 1e-6
WITNESS_CAP = 1e9  # far above any count


class AuditError(Exception):
    """The published tables contradict each other: no table is consistent with them."""


@dataclass
class Bounds:
    lo: np.ndarray  # per model variable; nan for variables not audited
    hi: np.ndarray
    exact: np.ndarray  # False: the interval is the values witnessed, and already protects
    lp_solves: int = 0
    ip_solves: int = 0


def _components(model: AttackerModel) -> list[list[int]]:
    parent = list(range(len(model.vars)))

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    for row in model.rows:
        cols = list(row.coefs)
        root = find(cols[0])
        for c in cols[1:]:
            other = find(c)
            if other != root:
                parent[other] = root
    groups: dict[int, list[int]] = {}
    for j in range(len(model.vars)):
        groups.setdefault(find(j), []).append(j)
    return sorted(groups.values(), key=len)


def _highs(model: AttackerModel, cols: list[int], rows: list[int]) -> highspy.Highs:
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    inf = highspy.kHighsInf
    local = {j: i for i, j in enumerate(cols)}
    lo = np.array([model.vars[j].lo for j in cols], dtype=float)
    hi = np.array([model.vars[j].hi if math.isfinite(model.vars[j].hi) else inf for j in cols], dtype=float)
    h.addVars(len(cols), lo, hi)
    starts, index, value, lower, upper = [], [], [], [], []
    for r in rows:
        row = model.rows[r]
        starts.append(len(index))
        for j, c in row.coefs.items():
            index.append(local[j])
            value.append(c)
        lower.append(row.lo if math.isfinite(row.lo) else -inf)
        upper.append(row.hi if math.isfinite(row.hi) else inf)
    if rows:
        h.addRows(
            len(rows),
            np.array(lower, dtype=float),
            np.array(upper, dtype=float),
            len(index),
            np.array(starts, dtype=np.int32),
            np.array(index, dtype=np.int32),
            np.array(value, dtype=float),
        )
    return h


class _Part:
    """One connected part of the model, loaded in HiGHS once and re-solved per objective."""

    def __init__(self, model: AttackerModel, cols: list[int], rows: list[int], counts: list[int]):
        self.h = _highs(model, cols, rows)
        self.h.setOptionValue("presolve", "off")  # keep the basis: each solve starts from the last one
        self.h.setOptionValue("simplex_strategy", 4)  # primal: a new objective keeps the basis primal feasible
        self.n = len(cols)
        self.counts = counts
        self.seen_lo = np.full(self.n, np.inf)  # smallest / largest value seen in an integer solution
        self.seen_hi = np.full(self.n, -np.inf)

    def _witness(self, values: np.ndarray) -> None:
        np.minimum(self.seen_lo, values, out=self.seen_lo)
        np.maximum(self.seen_hi, values, out=self.seen_hi)

    def capped_witness(self, cost: np.ndarray) -> None:
        """Maximise ``cost`` with every unknown capped at ``WITNESS_CAP``: a solution of the
        capped program solves the model too, so it is a witness even where the true
        maximum is unbounded."""
        h = self.h
        lp = h.getLp()
        upper = np.asarray(lp.col_upper_)
        every = np.arange(self.n, dtype=np.int32)
        h.changeColsBounds(self.n, every, np.asarray(lp.col_lower_), np.minimum(upper, WITNESS_CAP))
        try:
            self.optimum(cost, None, highspy.ObjSense.kMaximize)
        finally:
            h.changeColsBounds(self.n, every, np.asarray(lp.col_lower_), upper)

    def bounded_max(self, i: int, lo: float, hi: float, target: float) -> float:
        """max x_i with x_i capped at ``target``: the exact maximum when below it."""
        h = self.h
        inf = highspy.kHighsInf
        cap = min(hi, target) if math.isfinite(target) else hi
        h.changeColBounds(i, lo, cap if math.isfinite(cap) else inf)
        try:
            return self.optimum(None, i, highspy.ObjSense.kMaximize)
        finally:
            h.changeColBounds(i, lo, hi if math.isfinite(hi) else inf)

    def optimum(self, cost: np.ndarray | None, j: int | None, sense) -> float:
        """Exact integer optimum of the objective (``cost`` vector, or column ``j``)."""
        h = self.h
        if j is not None:
            h.changeColCost(j, 1.0)
        else:
            h.changeColsCost(self.n, np.arange(self.n, dtype=np.int32), cost)
        try:
            h.changeObjectiveSense(sense)
            h.run()
            self.counts[0] += 1
            status = h.getModelStatus()
            if status == highspy.HighsModelStatus.kInfeasible:
                raise AuditError("the published tables are inconsistent: no integer table satisfies them")
            if status in (highspy.HighsModelStatus.kUnbounded, highspy.HighsModelStatus.kUnboundedOrInfeasible):
                return math.inf if sense == highspy.ObjSense.kMaximize else -math.inf
            values = np.asarray(h.getSolution().col_value)
            rounded = np.round(values)
            if not np.all(np.abs(values - rounded) < INTEGRAL):  # a fractional vertex: integer program
                every = np.arange(self.n, dtype=np.int32)
                h.changeColsIntegrality(self.n, every, np.full(self.n, highspy.HighsVarType.kInteger))
                h.run()
                self.counts[1] += 1
                if h.getModelStatus() == highspy.HighsModelStatus.kInfeasible:
                    raise AuditError("the published tables are inconsistent: no integer table satisfies them")
                rounded = np.round(np.asarray(h.getSolution().col_value))
                h.changeColsIntegrality(self.n, every, np.full(self.n, highspy.HighsVarType.kContinuous))
            self._witness(rounded)
            return float(rounded[j]) if j is not None else float(np.dot(cost, rounded))
        finally:
            if j is not None:
                h.changeColCost(j, 0.0)
            else:
                h.changeColsCost(self.n, np.arange(self.n, dtype=np.int32), np.zeros(self.n))


def solve_bounds(model: AttackerModel) -> Bounds:
    """Interval of each audited unknown, exact where it matters.

    Every integer solution met on the way is a witness: a cell's interval contains
    every value it took. A cell whose witnessed values already span a protecting
    interval is protected whatever its exact bounds (a wider interval protects
    too): its bounds stay the witnessed ones and ``exact`` is False. Every other
    cell gets its exact minimum and maximum."""
    rule = model.rule
    n = len(model.vars)
    lo, hi = np.full(n, np.nan), np.full(n, np.nan)
    exact = np.zeros(n, dtype=bool)
    comps = _components(model)
    comp_of = np.empty(n, dtype=np.int64)
    for c, cols in enumerate(comps):
        comp_of[cols] = c
    rows_of: list[list[int]] = [[] for _ in comps]
    for r, row in enumerate(model.rows):
        rows_of[comp_of[next(iter(row.coefs))]].append(r)
    counts = [0, 0]
    for cols, rows in zip(comps, rows_of):
        audited = [j for j in cols if model.vars[j].audited]
        if not audited:
            continue
        if not rows:  # lone unknowns: their own bounds
            for j in audited:
                lo[j], hi[j], exact[j] = model.vars[j].lo, model.vars[j].hi, True
            continue
        part = _Part(model, cols, rows, counts)
        local = {j: i for i, j in enumerate(cols)}
        mask = np.zeros(len(cols))
        mask[[local[j] for j in audited]] = 1.0
        part.optimum(mask, None, highspy.ObjSense.kMinimize)  # two broad witnesses first
        part.capped_witness(mask)
        for j in audited:
            i = local[j]
            if rule.protects(part.seen_lo[i], part.seen_hi[i]):
                continue
            # the maximum first (most cells reach their minimum in the broad witness), and
            # only up to the value that would protect the cell: reaching it settles the
            # cell; stopping short of it is the exact maximum
            seen = part.seen_lo[i]
            target = seen + rule.min_width if seen <= 0 else max(seen + rule.min_width, rule.threshold)
            hi[j] = part.bounded_max(i, model.vars[j].lo, model.vars[j].hi, target)
            if rule.protects(part.seen_lo[i], part.seen_hi[i]):
                continue
            lo[j] = part.optimum(None, i, highspy.ObjSense.kMinimize)
            exact[j] = True
        for j in audited:
            i = local[j]
            if not exact[j]:
                lo[j], hi[j] = part.seen_lo[i], part.seen_hi[i]
    return Bounds(lo, hi, exact, lp_solves=counts[0], ip_solves=counts[1])
