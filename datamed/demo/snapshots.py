"""Synthetic daily availability snapshots, grown from a starting availability file.

Used by ``bench/bench_snapshots.py`` (the issue-14 targets: 60 daily snapshots of
the real size) and by tests of the episode machine at scale. The simulation
walks day by day and produces every pattern the episode machine handles: new
episodes, status changes, returns (kept listed for a while, then dropped),
reopenings of the same dossier with its old start date, withdrawals, start
dates moved by the source, and lines coded 4 whose label says "tension" with no
return date. Nothing here is real: the CIS of new episodes are drawn from the
catalogue passed in.
"""

from __future__ import annotations

import itertools
import math
import random
from dataclasses import dataclass
from datetime import date, timedelta

from datamed.core.vocabulary import DISPO_STATUS

RETURN_KEPT_DAYS = 30  # a return line stays listed this long, then leaves the file


@dataclass
class _Line:
    cis: str
    cip13: str
    code: int
    label: str
    start: date
    update: date
    returned: date | None
    link: str

    def text(self) -> str:
        def fr(d: date | None) -> str:
            return d.strftime("%d/%m/%Y") if d else ""

        return "\t".join(
            [
                self.cis,
                self.cip13,
                str(self.code),
                self.label,
                fr(self.start),
                fr(self.update),
                fr(self.returned),
                self.link,
            ]
        )


def _parse(line: str) -> _Line | None:
    parts = line.rstrip("\r").split("\t")
    if len(parts) < 8 or not parts[2].isdigit():
        return None

    def d(text: str) -> date | None:
        if not text:
            return None
        day, month, year = text.split("/")
        return date(int(year), int(month), int(day))

    start, update = d(parts[4]), d(parts[5])
    if start is None or update is None:
        return None
    return _Line(parts[0], parts[1], int(parts[2]), parts[3], start, update, d(parts[6]), parts[7])


def daily_snapshots(
    first: str,
    first_day: date,
    days: int,
    catalogue: list[str],
    seed: int = 14,
    weights: list[float] | None = None,
    new_per_day: tuple[int, int] = (8, 14),
    every: int = 1,
) -> list[tuple[date, str]]:
    """Snapshots (date, file text with CRLF) over ``days`` days, the first being ``first`` as given.

    ``weights`` (one per CIS of ``catalogue``) make some medicines more likely to
    start an episode (the risk model's tests give them a hidden structure);
    ``new_per_day`` bounds the new episodes drawn each day; ``every`` keeps one
    snapshot every that many days (the simulation still walks day by day).
    """
    rng = random.Random(seed)
    cum = list(itertools.accumulate(weights)) if weights else None
    lines = [ln for ln in (_parse(t) for t in first.split("\n") if t.strip()) if ln is not None]
    out = [(first_day, first if first.endswith("\n") else first + "\r\n")]
    listed = {ln.cis for ln in lines}
    for i in range(1, days):
        today = first_day + timedelta(days=i)
        kept: list[_Line] = []
        for ln in lines:
            if ln.code in (1, 2):
                r = rng.random()
                if r < 0.02:  # return
                    ln.code, ln.label, ln.returned, ln.update = 4, DISPO_STATUS[4], today, today
                elif r < 0.022:  # withdrawal
                    ln.code, ln.label, ln.update = 3, DISPO_STATUS[3], today
                elif r < 0.025:  # the source moves the start date
                    ln.start = min(ln.start + timedelta(days=rng.randint(-10, 10)), today)
                    ln.update = today
                elif r < 0.06:  # status change or plain update
                    ln.code = rng.choice((1, 2))
                    ln.label, ln.update = DISPO_STATUS[ln.code], today
            elif ln.code == 4 and ln.returned is not None:
                if (today - max(ln.returned, first_day)).days > RETURN_KEPT_DAYS:
                    listed.discard(ln.cis)
                    continue  # the return leaves the file
                if rng.random() < 0.004:  # reopening of the same dossier, old start date kept
                    ln.code, ln.label, ln.returned, ln.update = 1, DISPO_STATUS[1], None, today
            kept.append(ln)
        for _ in range(rng.randint(*new_per_day)):  # new episodes (the file keeps about its real size)
            cis = rng.choices(catalogue, cum_weights=cum)[0] if cum else rng.choice(catalogue)
            if cis in listed:
                continue
            listed.add(cis)
            code = rng.choice((1, 2, 2))
            start = today - timedelta(days=rng.randint(0, 3))
            link = f"https://ansm.sante.fr/disponibilites-des-produits-de-sante/medicaments/demo-{cis}"
            kept.append(_Line(cis, "", code, DISPO_STATUS[code], start, today, None, link))
        if i % 10 == 0 and kept:  # a line coded "remise" whose label and dates say "tension"
            ln = rng.choice([x for x in kept if x.code == 2] or kept)
            if ln.code == 2:
                ln.code = 4
        lines = kept
        if i % every == 0:
            out.append((today, "\r\n".join(ln.text() for ln in lines) + "\r\n"))
    return out


_INJECTED = ("intraveineuse", "sous-cutanée", "intramusculaire")


def structured_hazard(cis_bdpm: str, seed: int = 6) -> tuple[list[str], list[float]]:
    """The CIS of a ``CIS_bdpm.txt`` text and a hidden risk structure for ``daily_snapshots``:
    injectables 6 times and oral liquids 3 times as likely to start an episode, times a
    random factor per holder (log-normal). The risk model's tests and bench use it to
    check that a model which *can* learn something is shown."""
    rng = random.Random(seed)
    rows = [ln.split("\t") for ln in cis_bdpm.splitlines() if ln.strip()]
    holders = sorted({r[10].strip() for r in rows if len(r) > 10})
    factor = {h: math.exp(rng.gauss(0.0, 1.0)) for h in holders}
    catalogue, weights = [], []
    for r in rows:
        if len(r) < 11:
            continue
        form, routes = r[2].lower(), r[3].lower()
        w = 6.0 if any(x in routes for x in _INJECTED) else 3.0 if "buvable" in form else 1.0
        catalogue.append(r[0].strip())
        weights.append(w * factor[r[10].strip()])
    return catalogue, weights
