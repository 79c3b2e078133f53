"""Joint cell suppression over all linked pharmacovigilance tables (issue 11, in progress).

Chooses which counts to withhold so that every small count (1 to threshold-1) is
protected under ``datamed.core.rule`` against an attacker who knows every
published count, every additive relation between the tables, the source's floor
and the national totals. Written independently of the audit (``datamed.audit``),
which checks the result.

Method (a proven heuristic, checked by an exact oracle):

1. primary suppression: every small count, and every exposure the reader blanked;
2. structural pass: in every additive group (the cells of a breakdown and their
   published total) that holds a withheld cell, withhold the smallest published
   cells until at least two are withheld and their values, above their floors,
   add up to ``min_width`` or more;
3. oracle: the exact feasible interval of every withheld cell (linear programs
   on the withheld cells, published ones as constants; integrality checked, integer
   program where a vertex is fractional). Each exposed cell gets the smallest
   published cell of its groups withheld too; repeat until nothing is exposed.

Masking more never exposes a cell that was protected (intervals only widen), so
the loop ends; at worst every cell of a group is withheld.

Not wired into the build yet: ``bench/bench_suppression.py`` runs it on the real
data and audits the result.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field

import highspy
import numpy as np
import polars as pl

from datamed.core.rule import MASK, ProtectionRule
from datamed.datasets import DS

INF = math.inf
KEYS = {
    DS.EI_SUBSTANCES: ["ei_id"],
    DS.EI_ANNEE: ["ei_id", "annee"],
    DS.EI_AGE: ["ei_id", "age"],
    DS.EI_SEXE: ["ei_id", "sexe"],
    DS.EI_SOC: ["ei_id", "soc_code"],
    DS.EI_SOC_AGE: ["ei_id", "soc_code", "age"],
    DS.EI_SOC_SEXE: ["ei_id", "soc_code", "sexe"],
    DS.EI_NATIONAL_ANNEE: ["annee"],
    DS.EI_NATIONAL_AGE: ["age"],
    DS.EI_NATIONAL_SEXE: ["sexe"],
    DS.EI_NATIONAL_SOC: ["soc_code"],
}


@dataclass
class Problem:
    """Every count of the linked tables (published candidates, hidden totals) and their relations."""

    names: list[tuple] = field(default_factory=list)  # (table, key, column)
    value: list[float] = field(default_factory=list)  # true value (nan: unknown, e.g. a blanked exposure)
    floor: list[int] = field(default_factory=list)
    hidden: list[bool] = field(default_factory=list)  # never published (e.g. a substance's total exposure)
    index: dict[tuple, int] = field(default_factory=dict)
    # rows: (cells, coefficients, lo, hi); groups: (member cells, total cell) of additive rows
    rows: list[tuple[list[int], list[float], float, float]] = field(default_factory=list)
    groups: list[tuple[list[int], int]] = field(default_factory=list)
    blanked: set[int] = field(default_factory=set)
    # always published (organ-class rows, listed from the floor by design): never chosen
    fixed: set[int] = field(default_factory=set)
    # groups whose total is derived (an active moiety's sum): the total is withheld rather
    # than a group's last published member
    derived_totals: set[int] = field(default_factory=set)

    def add(self, name: tuple, value, *, floor: int = 0, hidden: bool = False) -> int:
        if name in self.index:
            return self.index[name]
        self.index[name] = len(self.names)
        self.names.append(name)
        self.value.append(np.nan if value is None else float(value))
        self.floor.append(floor)
        self.hidden.append(hidden)
        return self.index[name]

    def partition(self, members: list[int], total: int) -> None:
        """sum(members) == total."""
        self.rows.append(([*members, total], [1.0] * len(members) + [-1.0], 0.0, 0.0))
        self.groups.append((members, total))

    def at_most(self, cells: list[int], coefs: list[float], rhs: float) -> None:
        self.rows.append((cells, coefs, -INF, rhs))


def choose(problem: Problem, rule: ProtectionRule, max_rounds: int = 50, echo=None) -> np.ndarray:
    """Withheld cells (boolean per cell of ``problem``). ``echo``: called with a line per round."""
    value = np.array(problem.value)
    hidden = np.array(problem.hidden)
    floor = np.array(problem.floor, dtype=float)
    masked = hidden.copy()
    with np.errstate(invalid="ignore"):
        masked |= (value >= 1) & (value < rule.threshold)
    masked[list(problem.blanked)] = True
    groups_of: dict[int, list[int]] = defaultdict(list)
    for g, (members, total) in enumerate(problem.groups):
        for c in (*members, total):
            groups_of[c].append(g)
    rows_of: dict[int, list[int]] = defaultdict(list)
    for r, (cells, _coefs, _lo, _hi) in enumerate(problem.rows):
        for c in cells:
            rows_of[c].append(r)
    _structural(problem, rule, masked, value, floor, groups_of)
    # masking more only widens intervals: a cell found protected stays protected
    verified = np.zeros(len(masked), dtype=bool)
    for round_ in range(max_rounds):
        exposed = exposed_cells(problem, rule, masked, check=masked & ~hidden & ~verified)
        verified |= masked & ~hidden
        verified[exposed] = False
        if echo:
            echo(f"round {round_ + 1}: {int((masked & ~hidden).sum())} withheld, {len(exposed)} exposed")
        if not exposed:
            return masked  # hidden cells (set from the start) are withheld by definition
        for c in exposed:
            _widen(problem, c, masked, value, rows_of)
        _structural(problem, rule, masked, value, floor, groups_of)
    raise RuntimeError(f"suppression did not converge in {max_rounds} rounds")


def _published_candidates(members: list[int], masked: np.ndarray, value: np.ndarray, fixed: set[int]) -> list[int]:
    return sorted(
        (c for c in members if not masked[c] and not np.isnan(value[c]) and c not in fixed),
        key=lambda c: (value[c] == 0, value[c], c),
    )


def _structural(problem, rule, masked, value, floor, groups_of) -> None:
    todo = list(range(len(problem.groups)))
    while todo:
        g = todo.pop()
        members, total = problem.groups[g]
        if masked[total] or problem.hidden[total]:
            continue  # no published sum to subtract from
        withheld = [c for c in members if masked[c]]
        if not withheld:
            continue
        while True:
            withheld = [c for c in members if masked[c]]
            slack = sum(0.0 if np.isnan(value[c]) else value[c] - floor[c] for c in withheld)
            if len(withheld) >= 2 and slack >= rule.min_width:
                break
            candidates = _published_candidates(members, masked, value, problem.fixed)
            # a derived total (a moiety's sum) goes before the last published member of its group
            keep_total = g not in problem.derived_totals or len(candidates) >= 2
            pick = candidates[0] if candidates and keep_total else total
            if masked[pick]:
                break
            masked[pick] = True
            todo.extend(groups_of[pick])
            if pick == total:
                break


def _widen(problem, c, masked, value, rows_of) -> None:
    """Withhold the smallest published cell of the relations nearest to exposed cell
    ``c``: its own relations first (breakdowns, totals, "at most" facts), then, breadth
    first through withheld cells, the relations that pin those (e.g. a published
    national figure, another breakdown of the same total, the cases that bound a
    blanked exposure)."""
    frontier, seen_cells, seen_rows = [c], {c}, set()
    while frontier:
        candidates, following = [], []
        for cell in frontier:
            for r in rows_of[cell]:
                if r in seen_rows:
                    continue
                seen_rows.add(r)
                cells = problem.rows[r][0]
                candidates += [x for x in cells if not masked[x] and not problem.hidden[x] and x not in problem.fixed]
                following += [x for x in cells if masked[x] and x not in seen_cells]
        if candidates:
            best = min(candidates, key=lambda x: (np.isnan(value[x]), value[x] == 0, value[x], x))
            masked[best] = True
            return
        seen_cells.update(following)
        frontier = following


RANDOM_WITNESSES = 12
CAP = 1e9  # upper bound of every unknown in the oracle's programs (counts are far below)


def exposed_cells(
    problem: Problem, rule: ProtectionRule, masked: np.ndarray, check: np.ndarray | None = None
) -> list[int]:
    """Withheld cells (among ``check``, default: every withheld non-hidden cell) whose
    exact feasible interval does not protect them.

    The withheld cells split into independent parts (connected by the relations);
    each part is one linear program, re-solved per objective from the last basis.
    Every unknown is capped at ``CAP``: the capped programs' solutions are solutions
    of the uncapped ones (valid witnesses), and no count comes near the cap, so a
    maximum at the cap means "unbounded"."""
    value = np.array(problem.value)
    if check is None:
        check = masked & ~np.array(problem.hidden)
    unknown = np.flatnonzero(masked)
    # reduce every relation to its withheld cells (published ones are constants)
    reduced = []
    parent = {int(c): int(c) for c in unknown}

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    for cells, coefs, rlo, rhi in problem.rows:
        const, entries = 0.0, []
        for c, a in zip(cells, coefs):
            if masked[c]:
                entries.append((c, a))
            else:
                const += a * value[c]
        if not entries:
            continue
        reduced.append((entries, rlo - const, rhi - const))
        root = find(entries[0][0])
        for c, _ in entries[1:]:
            other = find(c)
            if other != root:
                parent[other] = root
    parts: dict[int, list[int]] = defaultdict(list)
    for c in unknown:
        parts[find(int(c))].append(int(c))
    rows_of: dict[int, list] = defaultdict(list)
    for row in reduced:
        rows_of[find(row[0][0][0])].append(row)
    exposed = []
    for root, cells in parts.items():
        if any(check[c] for c in cells):
            exposed += _exposed_in_part(problem, rule, cells, rows_of[root], check)
    return exposed


def _exposed_in_part(problem, rule, cells: list[int], rows: list, check: np.ndarray) -> list[int]:
    m = len(cells)
    col = {c: j for j, c in enumerate(cells)}
    lo = np.array([problem.floor[c] for c in cells], dtype=float)
    audited = [j for j, c in enumerate(cells) if check[c]]
    if not rows:  # lone unknowns: their own bounds
        return [cells[j] for j in audited if rule.exposes(lo[j], INF)]
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.addVars(m, lo, np.full(m, CAP))
    starts, index, coef, lower, upper = [], [], [], [], []
    for entries, rlo, rhi in rows:
        starts.append(len(index))
        for c, a in entries:
            index.append(col[c])
            coef.append(a)
        lower.append(rlo if math.isfinite(rlo) else -highspy.kHighsInf)
        upper.append(rhi if math.isfinite(rhi) else highspy.kHighsInf)
    h.addRows(
        len(starts),
        np.array(lower),
        np.array(upper),
        len(index),
        np.array(starts, dtype=np.int32),
        np.array(index, dtype=np.int32),
        np.array(coef),
    )
    h.setOptionValue("presolve", "off")  # keep the basis: each solve starts from the last one
    h.setOptionValue("simplex_strategy", 4)  # primal: a new objective keeps the basis primal feasible
    seen_lo, seen_hi = np.full(m, np.inf), np.full(m, -np.inf)
    every = np.arange(m, dtype=np.int32)

    def solve(cost: np.ndarray, sense) -> np.ndarray | None:
        h.changeColsCost(m, every, cost)
        h.changeObjectiveSense(sense)
        h.run()
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return None
        x = np.asarray(h.getSolution().col_value)
        if not np.all(np.abs(x - np.round(x)) < 1e-6):  # a fractional vertex: integer program
            h.changeColsIntegrality(m, every, np.full(m, highspy.HighsVarType.kInteger))
            h.run()
            x = np.asarray(h.getSolution().col_value)
            h.changeColsIntegrality(m, every, np.full(m, highspy.HighsVarType.kContinuous))
        x = np.round(x)
        np.minimum(seen_lo, x, out=seen_lo)
        np.maximum(seen_hi, x, out=seen_hi)
        return x

    ones = np.zeros(m)
    ones[audited] = 1.0
    solve(ones, highspy.ObjSense.kMinimize)  # broad witnesses: everything low, everything high
    solve(ones, highspy.ObjSense.kMaximize)
    # random directions: each pushes about half of the cells up and the others down, so
    # that a few solves show most cells across their range (deterministic seed)
    rng = np.random.default_rng(len(cells))
    for _ in range(RANDOM_WITNESSES if len(audited) > 2 * RANDOM_WITNESSES else 0):
        solve(rng.choice([-1.0, 1.0], size=m) * ones, highspy.ObjSense.kMaximize)
    exposed = []
    for j in audited:
        if rule.protects(seen_lo[j], seen_hi[j]):
            continue
        unit = np.zeros(m)
        unit[j] = 1.0
        # the top decides (most cells reach their minimum in a witness already): maximise
        # up to the value that would protect the cell, not beyond (fewer pivots)
        target = seen_lo[j] + rule.min_width if seen_lo[j] <= 0 else max(seen_lo[j] + rule.min_width, rule.threshold)
        target = min(target, CAP)
        h.changeColBounds(j, lo[j], target)
        x = solve(unit, highspy.ObjSense.kMaximize)
        h.changeColBounds(j, lo[j], CAP)
        high = INF if x is None or x[j] >= CAP else x[j]
        if rule.protects(seen_lo[j], seen_hi[j]):
            continue
        x = solve(unit, highspy.ObjSense.kMinimize)
        low = seen_lo[j] if x is None else x[j]
        if rule.exposes(low, high):
            exposed.append(cells[j])
    return exposed


# --- the problem, from the true tables ------------------------------------------------

FRACTION_TABLES = {DS.EI_ANNEE: DS.EI_FRACTIONS_ANNEE, DS.EI_AGE: DS.EI_FRACTIONS_AGE, DS.EI_SEXE: DS.EI_FRACTIONS_SEXE}
STRATA = (
    (DS.EI_ANNEE, "annee", DS.EI_NATIONAL_ANNEE),
    (DS.EI_AGE, "age", DS.EI_NATIONAL_AGE),
    (DS.EI_SEXE, "sexe", DS.EI_NATIONAL_SEXE),
)


def _in_key_order(frame: pl.DataFrame) -> pl.DataFrame:
    keys = [c for c in ("ei_id", "fraction_id", "soc_code", "annee", "age", "sexe") if c in frame.columns]
    return frame.sort(keys) if keys and not frame.is_empty() else frame


def problem_from_tables(true: dict, rule: ProtectionRule, blanked: set[tuple[str, str, str]] = frozenset()) -> Problem:
    """The problem over true tables shaped like the published ones (``ei_id``, stratum,
    ``n_cas``, ``n_conso``; ``soc_code``), without statuses. ``blanked``: (table,
    ei_id, stratum) of the exposures the reader emptied (cases above exposure)."""
    p = Problem()
    # the heuristics break ties by a cell's position: every table in key order, so that
    # the same data always gives the same choice (joins and group-bys do not keep order)
    true = {name: _in_key_order(frame) for name, frame in true.items()}
    subs = true[DS.EI_SUBSTANCES]
    total = {i: p.add((DS.EI_SUBSTANCES, (i,), "n_cas"), v) for i, v in zip(subs["ei_id"], subs["n_cas"])}
    expo = {i: p.add(("exposition", (i,), "n_conso"), None, hidden=True) for i in total}
    for table, col, national in STRATA:
        frame = true.get(table)
        if frame is None:
            continue
        cases_of, expo_of = defaultdict(list), defaultdict(list)
        by_stratum = defaultdict(list)
        for i, s, n, c in frame.select("ei_id", col, "n_cas", "n_conso").iter_rows():
            cell = p.add((table, (i, s), "n_cas"), n)
            cases_of[i].append(cell)
            by_stratum[s].append(cell)
            e = p.add((table, (i, s), "n_conso"), c)
            expo_of[i].append(e)
            if (table, i, str(s)) in blanked or c is None:
                p.blanked.add(e)
                p.at_most([e, cell], [1.0, -1.0], -1.0)
            else:  # an exposure the reader kept holds at least the cases (else it is blanked)
                p.at_most([cell, e], [1.0, -1.0], 0.0)
        for i, cells in cases_of.items():
            p.partition(cells, total[i])
            p.partition(expo_of[i], expo[i])
        nat = true.get(national)
        if nat is not None:
            for s, n in nat.select(col, "n_cas").iter_rows():
                p.partition(by_stratum[s], p.add((national, (s,), "n_cas"), n))
    _fractions(p, true)
    _identical(p, true)
    soc = true.get(DS.EI_SOC)
    if soc is None:
        return p
    f = rule.source_floor  # every listed organ-class row holds at least this
    missing = rule.published_floor - 1  # every row not listed at most this
    soc_cell = {}
    for i, k, n in soc.select("ei_id", "soc_code", "n_cas").iter_rows():
        soc_cell[(i, k)] = p.add((DS.EI_SOC, (i, k), "n_cas"), n, floor=f)
        p.fixed.add(soc_cell[(i, k)])
        p.at_most([soc_cell[(i, k)], total[i]], [1.0, -1.0], 0.0)
    rows = {"age": defaultdict(list), "sexe": defaultdict(list)}
    for table, col, parent in ((DS.EI_SOC_AGE, "age", DS.EI_AGE), (DS.EI_SOC_SEXE, "sexe", DS.EI_SEXE)):
        frame = true.get(table)
        if frame is None:
            continue
        for i, k, s, n in frame.select("ei_id", "soc_code", col, "n_cas").iter_rows():
            cell = p.add((table, (i, k, s), "n_cas"), n, floor=f)
            p.fixed.add(cell)
            rows[col][(i, k)].append(cell)
            up = p.index.get((parent, (i, s), "n_cas"))
            if up is not None:
                p.at_most([cell, up], [1.0, -1.0], 0.0)
    n_age = 3
    for key in set(rows["age"]) | set(rows["sexe"]) | set(soc_cell):
        ages, sexes = rows["age"].get(key, []), rows["sexe"].get(key, [])
        k = soc_cell.get(key)
        if k is not None:  # the larger of the two sums of listed rows
            for listed in (ages, sexes):
                if listed:
                    p.at_most([*listed, k], [1.0] * len(listed) + [-1.0], 0.0)
        elif sexes:
            p.at_most(sexes, [1.0] * len(sexes), missing * n_age)
    nat = true.get(DS.EI_NATIONAL_SOC)
    if nat is not None:
        members = defaultdict(list)
        for (_i, k), c in soc_cell.items():
            members[k].append(c)
        for k, n in nat.select("soc_code", "n_cas").iter_rows():
            p.partition(members[k], p.add((DS.EI_NATIONAL_SOC, (k,), "n_cas"), n))
    return p


def apply(true: dict[str, pl.DataFrame], problem: Problem, masked: np.ndarray) -> dict[str, pl.DataFrame]:
    """The true tables with the withheld counts emptied and marked ``masqué`` (one status for all)."""
    withheld = {problem.names[c] for c in np.flatnonzero(masked)}
    out = {}
    for name, frame in true.items():
        cols = {}
        for count in ("n_cas", "n_conso"):
            if count not in frame.columns:
                continue
            hidden = [(name, tuple(k), count) in withheld for k in frame.select(KEYS[name]).rows()]
            cols[count] = [None if h else v for h, v in zip(hidden, frame[count].to_list())]
            cols[f"{count}_statut"] = [MASK if h else None for h in hidden]
        out[name] = frame.with_columns(
            *(pl.Series(c, v, dtype=pl.Int64 if not c.endswith("_statut") else pl.String) for c, v in cols.items())
        )
    return out


def summary(problem: Problem, masked: np.ndarray) -> dict[str, dict]:
    """Per table and count column: cells and cells withheld; for the cases by stratum,
    the share of the cases (percent, one decimal) in withheld cells, over the
    substances whose total is published.

    That share is what can be stated without a new fact: for such a substance the
    withheld cells of a breakdown add up to its total minus its published cells, which
    anyone can compute. Over all substances it would state the sum of the withheld
    totals, an equation on withheld counts; so it is not given, and neither is a share
    for the totals themselves or for the exposure (whose totals are never published)."""
    out: dict[str, dict] = {}
    sums: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for c, (table, key, col) in enumerate(problem.names):
        if problem.hidden[c]:
            continue
        entry = out.setdefault(f"{table}.{col}", {"cellules": 0, "masquees": 0})
        entry["cellules"] += 1
        entry["masquees"] += int(masked[c])
        if col != "n_cas" or table == DS.EI_SUBSTANCES:
            continue
        total = problem.index.get((DS.EI_SUBSTANCES, (key[0],), "n_cas"))
        if total is None or masked[total] or np.isnan(problem.value[c]):
            continue
        sums[f"{table}.{col}"][0] += problem.value[c]
        sums[f"{table}.{col}"][1] += problem.value[c] if masked[c] else 0.0
    for name, (total, hidden) in sums.items():
        out[name]["part_cas_masques_pct"] = round(100 * hidden / total, 1) if total else 0.0
    return out


def _fractions(p: Problem, true: dict) -> None:
    """Active moieties: each cell is the sum of its substances' cells (cases; exposure
    when every member's is known), and a moiety's cells add up to its total."""
    members = true.get(DS.EI_FRACTIONS_MEMBRES)
    heads = true.get(DS.EI_FRACTIONS)
    if members is None or heads is None or members.is_empty():
        return
    of: dict[str, list[str]] = defaultdict(list)  # every member: exposure
    cases_of: dict[str, list[str]] = defaultdict(list)  # members whose cases are counted
    twin = members["doublon"] if "doublon" in members.columns else pl.Series([False] * members.height)
    for (i, f), dup in zip(members.select("ei_id", "fraction_id").iter_rows(), twin):
        of[f].append(i)
        if not dup:
            cases_of[f].append(i)
    total = {}
    for f, n in heads.select("fraction_id", "n_cas").iter_rows():
        total[f] = p.add((DS.EI_FRACTIONS, (f,), "n_cas"), n)
        p.partition([p.index[(DS.EI_SUBSTANCES, (i,), "n_cas")] for i in cases_of[f]], total[f])
        p.derived_totals.add(len(p.groups) - 1)
    for table, col, _national in STRATA:
        frame = true.get(FRACTION_TABLES[table])
        if frame is None:
            continue
        cells_of = defaultdict(list)
        for f, s, n, c in frame.select("fraction_id", col, "n_cas", "n_conso").iter_rows():
            cell = p.add((FRACTION_TABLES[table], (f, s), "n_cas"), n)
            cells_of[f].append(cell)
            parts = [p.index[k] for i in cases_of[f] if (k := (table, (i, s), "n_cas")) in p.index]
            p.partition(parts, cell)
            p.derived_totals.add(len(p.groups) - 1)
            if c is not None:
                e = p.add((FRACTION_TABLES[table], (f, s), "n_conso"), c)
                p.partition(
                    [p.index[(table, (i, s), "n_conso")] for i in of[f] if (table, (i, s), "n_conso") in p.index], e
                )
                p.derived_totals.add(len(p.groups) - 1)
        for f, cells in cells_of.items():
            p.partition(cells, total[f])


def _identical(p: Problem, true: dict) -> None:
    """Identical case series: each member's case cells equal the first member's (an
    attacker who sees the equal published cells knows it)."""
    series = true.get(DS.EI_SERIES_IDENTIQUES)
    if series is None or series.is_empty():
        return
    twins: dict[str, list[str]] = defaultdict(list)
    for i, g in series.select("ei_id", "groupe_id").iter_rows():
        if i != g.removeprefix("groupe-"):
            twins[g.removeprefix("groupe-")].append(i)
    tables = (DS.EI_SUBSTANCES, *FRACTION_TABLES)
    for (table, key, column), c in list(p.index.items()):
        if column != "n_cas" or table not in tables or not key or key[0] not in twins:
            continue
        for i in twins[key[0]]:
            twin = p.index.get((table, (i, *key[1:]), column))
            if twin is not None:
                p.rows.append(([c, twin], [1.0, -1.0], 0.0, 0.0))
