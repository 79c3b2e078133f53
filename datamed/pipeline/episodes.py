"""Shortage episodes: a state machine over availability snapshots, per presentation.

The ANSM availability file (CIS_CIP_Dispo_Spec) is a *current list*. Each line
is a medicine (a CIS, or one presentation when CIP13 is filled) with a status
(1 rupture, 2 tension, 3 arrêt de commercialisation, 4 remise à disposition),
a start date, an update date, a return date and the ANSM page of its dossier.
Reading every archived snapshot in date order turns it into a history. The
machine runs per **track**, a presentation key ``(CIS, CIP13 or "all
presentations")``, and keeps at most one unfinished episode per track.

Statuses: code or label
-----------------------
The status is the code, unless the raw label names another status *and* the
dates side with the label (``resolve_status``):

- code 4 (remise) with no return date and a label naming rupture, tension or
  arrêt: the label wins (a return without a return date is not a return);
- an open code (1, 2, 3) with a return date and a label saying "remise": the
  label wins;
- any other disagreement: the code wins.

Every disagreement is kept on the line and reported on the Qualité page.

Episode states and transitions
------------------------------
An episode is **open** (last status 1 or 2), **withdrawn** (3, outcome
``arret``), **returned** (outcome ``remise``) or **vanished** (outcome
``disparition``: the track left the file while open, with no return line; its
end is unknown and it is censored at the last snapshot that saw it open).

At each snapshot a track has *open lines* (status 1, 2 or 3), *return lines*
(status 4) or no line at all. Exact duplicate lines count once.

==================  ==================================  ============================================
state before        what the snapshot shows             transition
==================  ==================================  ============================================
none                open lines                          **start** (start = earliest line start)
none                return lines only                   **return of an unseen episode**: start unknown
open / withdrawn    open lines                          **update**: status kept in the history; a
                                                        changed start date is an update too
                                                        (**start changed**), never a new episode;
                                                        status 3 makes it **withdrawn**
open / withdrawn    return lines only                   **return**: ends at the return date
open / withdrawn    a return before a later open start  **return** then **start** of a new episode
open / withdrawn    return lines + other open lines     **update**; the return of another dossier is
                                                        noted, the presentation stays unavailable
open                nothing                             **disappearance** (outcome ``disparition``)
returned            the same return again               **duplicate**: nothing new
returned            a later return                      **return of an unseen episode** in between
returned            open lines                          **reopening**: a new episode; a start date
                                                        before the previous return is replaced by
                                                        the line's update date (flagged)
vanished            open lines, start not after the     **reappearance**: the same episode goes on
                    last sighting
vanished            open lines, later start             **start** of a new episode
vanished            return lines                        **return**: the vanished episode ends there
==================  ==================================  ============================================

**Conflicting dates.** A return line whose return date precedes the episode's
start (in the real case the source updated the start after the return) still
closes the episode: the record is kept and the episode flagged
``dates_incoherentes``. Its start falls back to the latest start seen before
that is not after the return, or becomes unknown.

Guarantees (property-tested): the episodes of a track never overlap and never
end before they start; an episode is current (``en_cours``) if and only if its
track has an open line with status 1 or 2 in the last snapshot, and the
current episodes are exactly those tracks.

Per the ANSM, a start date before 06/10/2023 is an update date, not the real
start: such episodes are flagged ``debut_est_maj``.
"""

from __future__ import annotations

import bisect
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date

import polars as pl

from datamed.core.text import normalise
from datamed.core.vocabulary import DISPO_STATUS, OPEN_STATUSES

RELIABLE_START = date(2023, 10, 6)
RETURN = 4
WITHDRAWN = 3

SCHEMA = {
    "episode_id": pl.String,
    "cis": pl.String,
    "cip13": pl.String,
    "date_debut": pl.Date,
    "debut_est_maj": pl.Boolean,
    "statut_initial": pl.Int8,
    "statut": pl.Int8,
    "statuts": pl.List(pl.String),
    "premiere_vue": pl.Date,
    "derniere_vue": pl.Date,
    "date_mise_a_jour": pl.Date,
    "date_fin": pl.Date,
    "fin_observee": pl.Boolean,
    "issue": pl.String,
    "en_cours": pl.Boolean,
    "duree_jours": pl.Int32,
    "entree_jours": pl.Int32,
    "lien_ansm": pl.String,
    "n_instantanes": pl.Int16,
    "debut_inconnu": pl.Boolean,
    "debut_modifie": pl.Boolean,
    "dates_incoherentes": pl.Boolean,
    "evenements": pl.List(pl.String),
}

_LABEL_WORDS = (("rupture", 1), ("tension", 2), ("arret", 3), ("remise", 4))


def label_code(raw: str | None) -> int | None:
    """The status a raw label names (accents and case ignored), or None."""
    text = normalise(raw or "")
    for word, code in _LABEL_WORDS:
        if text.startswith(word):
            return code
    return None


def resolve_status(code: int, raw_label: str | None, return_date: date | None) -> tuple[int, str | None]:
    """(status retained, French description of the code/label conflict or None)."""
    named = label_code(raw_label)
    if named is None or named == code or code not in DISPO_STATUS:
        return code, None
    said = f"code {code} ({DISPO_STATUS[code]}) mais libellé « {raw_label.strip()} »"
    if code == RETURN and return_date is None:
        return named, f"{said} et aucune date de remise : statut retenu « {DISPO_STATUS[named]} »"
    if named == RETURN and return_date is not None:
        return RETURN, f"{said} et une date de remise : statut retenu « {DISPO_STATUS[RETURN]} »"
    return code, f"{said} : le code est retenu, ses dates le confirment"


@dataclass(frozen=True)
class Line:
    status: int
    start: date | None
    update: date | None
    returned: date | None  # return date (or the update date of a return line without one)
    link: str | None


@dataclass
class Episode:
    cis: str
    cip13: str | None
    start: date | None
    status: int
    first_seen: date
    link: str | None
    start_from_update: bool = False
    status_initial: int = 0
    history: list[str] = field(default_factory=list)
    events: list[str] = field(default_factory=list)
    starts: list[date] = field(default_factory=list)
    seen: list[date] = field(default_factory=list)
    last_open: date | None = None
    update: date | None = None
    end: date | None = None
    outcome: str | None = None
    start_changed: bool = False
    dates_conflict: bool = False

    def __post_init__(self):
        self.status_initial = self.status_initial or self.status
        if not self.history:
            self.history.append(DISPO_STATUS[self.status])
        if self.start is not None:
            self.starts.append(self.start)

    def note(self, when: date, text: str) -> None:
        self.events.append(f"{when.isoformat()} : {text}")

    def sight(self, snapshot: date) -> None:
        if not self.seen or self.seen[-1] != snapshot:
            self.seen.append(snapshot)

    def set_status(self, status: int) -> None:
        self.status = status
        if self.history[-1] != DISPO_STATUS[status]:
            self.history.append(DISPO_STATUS[status])


def _fr(d: date | None) -> str:
    return d.strftime("%d/%m/%Y") if d else "date inconnue"


class Track:
    """The episodes of one presentation, fed snapshot by snapshot (see the module docstring)."""

    def __init__(self, cis: str, cip13: str | None):
        self.cis, self.cip13 = cis, cip13
        self.episodes: list[Episode] = []

    @property
    def last(self) -> Episode | None:
        return self.episodes[-1] if self.episodes else None

    # --- transitions -------------------------------------------------------------------------------

    def _start(self, snap: date, opens: list[Line], floor: date | None, why: str) -> Episode:
        status = _severest(opens)
        start = _first_start(opens)
        from_update = False
        if floor is not None and (start is None or start < floor):
            updates = [ln.update for ln in opens if ln.update is not None and ln.update >= floor]
            start = min(updates) if updates else floor
            from_update = True
        ep = Episode(self.cis, self.cip13, start, status, snap, _link(opens), start_from_update=from_update)
        ep.note(snap, f"{why} ({DISPO_STATUS[status]}, début {_fr(start)})")
        if from_update:
            ep.note(snap, "date de début antérieure à la fin de l'épisode précédent : date de mise à jour retenue")
        self.episodes.append(ep)
        self._apply_open(ep, snap, opens, initial=True)
        return ep

    def _apply_open(self, ep: Episode, snap: date, opens: list[Line], initial: bool = False) -> None:
        status = _severest(opens)
        if not initial:
            new_start = _first_start(opens)
            if new_start is not None and new_start != ep.start:
                floor = self._floor(ep)
                if floor is None or new_start >= floor:
                    ep.note(snap, f"date de début modifiée ({_fr(ep.start)} → {_fr(new_start)})")
                    ep.start = new_start
                    ep.starts.append(new_start)
                    ep.start_changed, ep.start_from_update = True, False
            if ep.outcome == "disparition":
                ep.note(snap, "réapparition dans le fichier")
            if ep.outcome is not None and status != WITHDRAWN:
                ep.outcome, ep.end = None, None
            if DISPO_STATUS[status] != ep.history[-1]:
                ep.note(snap, f"statut : {DISPO_STATUS[status]}")
        ep.set_status(status)
        ep.sight(snap)
        ep.last_open = snap
        ep.update = max((ln.update for ln in opens if ln.update), default=ep.update)
        ep.link = _link(opens) or ep.link
        if status == WITHDRAWN and ep.outcome != "arret":
            first = [ln.update or ln.start for ln in opens if ln.status == WITHDRAWN]
            when = first[0] if first and first[0] else snap
            ep.outcome, ep.end = "arret", max(when, ep.start) if ep.start else when
            if not initial:
                ep.note(snap, "arrêt de commercialisation")
        if ep.end is not None and ep.start is not None and ep.end < ep.start:
            ep.end = ep.start

    def _floor(self, ep: Episode) -> date | None:
        """The end of the episode before ``ep`` in this track: ``ep`` may not start before it."""
        i = self.episodes.index(ep)
        return self._floor_after(self.episodes[i - 1]) if i else None

    @staticmethod
    def _check_line(ep: Episode, snap: date, ret: Line, returned: date) -> None:
        if ret.start is not None and returned < ret.start:
            ep.dates_conflict = True
            ep.note(
                snap,
                f"la ligne de remise date la remise du {_fr(returned)}, avant sa date de début {_fr(ret.start)} : "
                "enregistrement conservé, dates signalées",
            )

    def _close(self, ep: Episode, snap: date, ret: Line, returned: date) -> None:
        self._check_line(ep, snap, ret, returned)
        floor = self._floor(ep)
        if floor is not None and returned < floor and not any(floor <= s <= returned for s in ep.starts):
            # a return dated before the previous episode ended cannot end this one:
            # the open line is gone without a usable return, the end is unknown
            if ep.outcome is None:
                ep.outcome = "disparition"
            ep.note(snap, f"remise datée du {_fr(returned)}, antérieure à cet épisode : fin inconnue")
            return
        if ep.start is not None and returned < ep.start:
            ep.dates_conflict = True
            earlier = [s for s in ep.starts if s <= returned]
            ep.note(
                snap,
                f"remise à disposition le {_fr(returned)}, avant la date de début {_fr(ep.start)} : "
                "enregistrement conservé, épisode clos, dates signalées",
            )
            ep.start = max(earlier) if earlier else None
        else:
            ep.note(snap, f"remise à disposition le {_fr(returned)}")
        ep.outcome, ep.end = "remise", returned
        ep.set_status(RETURN)
        ep.sight(snap)
        ep.update = ret.update or ep.update
        ep.link = ep.link or ret.link

    def _unseen_return(self, snap: date, ret: Line, returned: date) -> Episode:
        ep = Episode(self.cis, self.cip13, None, RETURN, snap, ret.link)
        ep.outcome, ep.end, ep.update = "remise", returned, ret.update
        ep.note(snap, f"remise à disposition le {_fr(returned)}, début non observé")
        self._check_line(ep, snap, ret, returned)
        ep.sight(snap)
        self.episodes.append(ep)
        return ep

    def see(self, snap: date, lines: list[Line]) -> None:
        lines = list(dict.fromkeys(lines))  # exact duplicate lines count once
        opens = [ln for ln in lines if ln.status != RETURN]
        rets = sorted((ln for ln in lines if ln.status == RETURN), key=lambda ln: ln.returned or date.min)
        ep = self.last
        # a withdrawn presentation listed open again is an update of the same episode
        active = ep is not None and ep.outcome in (None, "arret")
        if opens:
            if active:
                closing = self._return_before(ep, opens, rets)
                if closing is not None:
                    self._close(ep, snap, closing, closing.returned)
                    self._start(snap, opens, self._floor_after(ep), "reprise après remise")
                    return
                self._apply_open(ep, snap, opens)
                _note_other_returns(ep, snap, rets)
                return
            if ep is not None and ep.outcome == "disparition" and self._reappears(ep, opens):
                self._apply_open(ep, snap, opens)
                return
            # nothing open: returns first (they may precede the new start), then the start
            first_start = _first_start(opens)
            earlier = [
                r for r in rets if first_start is not None and r.returned is not None and r.returned < first_start
            ]
            for r in earlier:
                self._see_return(snap, r)
            cur = self.last
            floor = self._floor_after(cur) if cur is not None else None
            why = "réouverture après remise" if cur is not None and cur.outcome == "remise" else "début"
            new = self._start(snap, opens, floor, why)
            _note_other_returns(new, snap, [r for r in rets if r not in earlier])
            return
        for r in rets:
            self._see_return(snap, r)

    def _see_return(self, snap: date, r: Line) -> None:
        ep = self.last
        returned = r.returned or snap
        if ep is None:
            self._unseen_return(snap, r, returned)
        elif ep.outcome in (None, "arret", "disparition"):
            self._close(ep, snap, r, returned)
        elif ep.end is not None and returned > ep.end:
            self._unseen_return(snap, r, returned)
        else:  # the same return seen again (or an older one): a duplicate
            ep.sight(snap)
            if ep.end != returned:
                ep.note(snap, f"remise du {_fr(returned)} ignorée : antérieure à la remise déjà vue")

    @staticmethod
    def _floor_after(ep: Episode) -> date | None:
        return ep.end if ep.end is not None else ep.last_open

    @staticmethod
    def _return_before(ep: Episode, opens: list[Line], rets: list[Line]) -> Line | None:
        """A return line ending ``ep`` before the start of the open lines: a new episode follows."""
        new_start = _first_start(opens)
        if new_start is None or not rets:
            return None
        for r in rets:
            if r.returned is None:
                continue
            if (ep.start is None or r.returned >= ep.start) and new_start > r.returned:
                return r
        return None

    @staticmethod
    def _reappears(ep: Episode, opens: list[Line]) -> bool:
        first = _first_start(opens)
        return first is None or ep.last_open is None or first <= ep.last_open

    def vanish(self, snap: date) -> None:
        """The track has no line in ``snap``: an open episode disappeared without a return."""
        ep = self.last
        if ep is not None and ep.outcome is None:
            ep.outcome = "disparition"
            ep.note(snap, "disparu du fichier sans remise à disposition : fin inconnue")


def _first_start(lines: list[Line]) -> date | None:
    """The earliest start date of ``lines`` (None if none has one)."""
    return min((ln.start for ln in lines if ln.start is not None), default=None)


def _note_other_returns(ep: Episode, snap: date, rets: list[Line]) -> None:
    """Returns of another dossier listed beside open lines: noted, they end nothing."""
    for r in rets:
        ep.note(snap, f"remise d'un autre signalement le {_fr(r.returned)} ; la présentation reste indisponible")


def _severest(opens: list[Line]) -> int:
    statuses = {ln.status for ln in opens}
    for s in (1, 2, 3):
        if s in statuses:
            return s
    raise ValueError("no open line")


def _link(lines: list[Line]) -> str | None:
    return next((ln.link for ln in lines if ln.link), None)


def _episode_id(ep: Episode) -> str:
    anchor = ep.start or ep.end
    key = f"{ep.cis}|{ep.cip13 or ''}|{anchor.isoformat() if anchor else ''}|{ep.first_seen.isoformat()}"
    return hashlib.sha1(key.encode()).hexdigest()[:12]


def resolved_statuses(dispo: pl.DataFrame) -> pl.DataFrame:
    """``dispo`` with ``statut_retenu`` (Int8) and ``conflit_statut`` (French text or null)."""
    raw = dispo["libelle_statut_brut"] if "libelle_statut_brut" in dispo.columns else [None] * dispo.height
    out = [
        resolve_status(code, label, ret)
        for code, label, ret in zip(dispo["code_statut"].to_list(), raw, dispo["date_remise_dispo"].to_list())
    ]
    return dispo.with_columns(
        pl.Series("statut_retenu", [s for s, _ in out], dtype=pl.Int8),
        pl.Series("conflit_statut", [c for _, c in out], dtype=pl.String),
    )


def _lines_per_track(dispo: pl.DataFrame) -> tuple[list[date], dict[tuple, dict[int, list[Line]]]]:
    """The snapshot dates in order, and per track the lines of each snapshot (by index)."""
    dispo = resolved_statuses(dispo)
    snapshots = sorted(set(dispo["snapshot"].to_list()))
    index = {s: i for i, s in enumerate(snapshots)}
    per_track: dict[tuple, dict[int, list[Line]]] = {}
    cols = ("cis", "cip13", "statut_retenu", "date_debut", "date_mise_a_jour", "date_remise_dispo", "lien_ansm")
    for cis, cip13, status, start, update, ret, link, snap in dispo.select(*cols, "snapshot").iter_rows():
        if status not in DISPO_STATUS:
            continue
        line = Line(status, start, update, (ret or update) if status == RETURN else None, link)
        per_track.setdefault((cis, cip13), {}).setdefault(index[snap], []).append(line)
    return snapshots, per_track


def _replay(
    track: Track, seen: dict[int, list[Line]], snapshots: list[date], stops: list[int]
) -> Iterator[tuple[int, bool | None]]:
    """Feed ``track`` its sightings in snapshot order; at each stop (a snapshot index, in
    ascending order) yield (stop, current) once the snapshots up to it are read: the
    track as it stood then. ``current``: it had an open line (1 or 2) in that very
    snapshot; None when it was not listed yet."""
    previous = None
    pending = iter(stops)
    stop = next(pending, None)
    for i in sorted(seen):
        while stop is not None and stop < i:
            yield stop, _settle(track, seen, previous, stop, snapshots)
            stop = next(pending, None)
        if previous is not None and i > previous + 1:
            track.vanish(snapshots[previous + 1])
        track.see(snapshots[i], seen[i])
        previous = i
    while stop is not None:
        yield stop, _settle(track, seen, previous, stop, snapshots)
        stop = next(pending, None)


def _settle(
    track: Track, seen: dict[int, list[Line]], previous: int | None, stop: int, snapshots: list[date]
) -> bool | None:
    """The track at snapshot ``stop`` (``previous``: its last sighting up to then): an open
    episode missing from the snapshot after its last sighting has vanished (``vanish``
    is idempotent: a later sighting calls it again at the same snapshot)."""
    if previous is None:
        return None
    if previous < stop:
        track.vanish(snapshots[previous + 1])
    return previous == stop and any(ln.status in OPEN_STATUSES for ln in seen[previous])


def build_episodes(dispo: pl.DataFrame) -> pl.DataFrame:
    """One row per episode, from the availability lines of every snapshot."""
    if dispo.is_empty():
        return pl.DataFrame(schema=SCHEMA)
    snapshots, per_track = _lines_per_track(dispo)
    latest = snapshots[-1]
    out: list[dict] = []
    for (cis, cip13), seen in per_track.items():
        track = Track(cis, cip13)
        for _, current in _replay(track, seen, snapshots, [len(snapshots) - 1]):
            out += [_row(ep, latest, bool(current) and ep is track.last) for ep in track.episodes]
    return pl.DataFrame(out, schema=SCHEMA).sort("date_debut", "cis", "premiere_vue", nulls_last=True)


#: The columns of ``episodes_as_of``: what was known of each episode at a cutoff.
AS_OF_SCHEMA = {
    "cis": pl.String,
    "cip13": pl.String,
    "date_debut": pl.Date,
    "statut_initial": pl.Int8,
    "statut": pl.Int8,
    "premiere_vue": pl.Date,
    "issue": pl.String,
    "en_cours": pl.Boolean,
}


def episodes_as_of(dispo: pl.DataFrame, cutoffs: list[date]) -> dict[date, pl.DataFrame]:
    """The episodes as they were known at each cutoff, in one pass over the snapshots.

    For a cutoff T the frame equals the ``AS_OF_SCHEMA`` columns of
    ``build_episodes`` run on the snapshots dated on or before T only (tested):
    the start date as it was then, the status then, current or not then. A
    cutoff before the first snapshot gets an empty frame. Used by the risk model,
    whose features at T may use nothing published after T.
    """
    out: dict[date, list[tuple]] = {c: [] for c in cutoffs}
    if dispo.is_empty() or not cutoffs:
        return {c: pl.DataFrame(schema=AS_OF_SCHEMA) for c in cutoffs}
    snapshots, per_track = _lines_per_track(dispo)
    # snapshot index -> the cutoffs whose last snapshot on or before them it is
    at: dict[int, list[date]] = {}
    for c in set(cutoffs):
        i = bisect.bisect_right(snapshots, c) - 1
        if i >= 0:
            at.setdefault(i, []).append(c)
    for (cis, cip13), seen in per_track.items():
        track = Track(cis, cip13)
        for stop, current in _replay(track, seen, snapshots, sorted(at)):
            if current is None:
                continue  # not listed yet at that cutoff
            rows = [
                (
                    cis,
                    cip13,
                    ep.start,
                    ep.status_initial,
                    ep.status,
                    ep.first_seen,
                    ep.outcome,
                    current and ep is track.last,
                )
                for ep in track.episodes
            ]
            for c in at[stop]:
                out[c] += rows
    return {c: pl.DataFrame(out[c], schema=AS_OF_SCHEMA, orient="row") for c in cutoffs}


def _row(ep: Episode, latest: date, current: bool) -> dict:
    start = ep.start
    if start is None:
        duration = None
    elif ep.outcome in ("remise", "arret"):
        duration = (ep.end - start).days
    elif current:
        duration = (latest - start).days
    else:  # vanished: censored at the last snapshot that saw it open
        duration = ((ep.last_open or ep.first_seen) - start).days
    if duration is not None and duration < 0:
        duration = None
    entry = None
    if start is not None and duration is not None:
        entry = min(max((ep.first_seen - start).days, 0), duration)
    return {
        "episode_id": _episode_id(ep),
        "cis": ep.cis,
        "cip13": ep.cip13,
        "date_debut": start,
        "debut_est_maj": start is not None and (start < RELIABLE_START or ep.start_from_update),
        "statut_initial": ep.status_initial,
        "statut": ep.status,
        "statuts": ep.history,
        "premiere_vue": ep.first_seen,
        "derniere_vue": ep.seen[-1],
        "date_mise_a_jour": ep.update,
        "date_fin": ep.end,
        "fin_observee": ep.outcome == "remise",
        "issue": ep.outcome,
        "en_cours": current,
        "duree_jours": duration,
        "entree_jours": entry,
        "lien_ansm": ep.link,
        "n_instantanes": len(ep.seen),
        "debut_inconnu": start is None,
        "debut_modifie": ep.start_changed,
        "dates_incoherentes": ep.dates_conflict,
        "evenements": ep.events,
    }
