"""One search index over specialities, substances, codes, ATC classes and holders.

Ranking, best first:

0. exact code (CIS, CIP7, CIP13, ATC);
1. exact name (accent- and case-insensitive);
2. prefix: the name, or a code, starts with the query;
3. every query word starts a word of the name;
4. fuzzy (rapidfuzz), for typos.

Within a tier, hits are ordered by score, then kind (specialities first), then
the shorter label. Scores are 0-100 for display; the tier decides the order.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

import polars as pl
from rapidfuzz import fuzz, process

from datamed.core.text import normalise
from datamed.datasets import DS

MAX_QUERY_CHARS = 120
MAX_LIMIT = 200
FUZZY_WORD_CUTOFF = 72
FUZZY_DOC_CUTOFF = 60
CANDIDATES = 200  # candidates scored per tier, independent of the limit

KINDS = ("speciality", "substance", "atc", "holder", "cis", "cip13", "cip7")
KIND_LABELS_FR = {
    "speciality": "Spécialité",
    "substance": "Substance",
    "atc": "Classe ATC",
    "holder": "Titulaire",
    "cis": "Code CIS",
    "cip13": "Code CIP13",
    "cip7": "Code CIP7",
}
_KIND_RANK = {"speciality": 0, "cis": 0, "cip13": 0, "cip7": 0, "substance": 1, "atc": 2, "holder": 3}


@dataclass(frozen=True)
class Hit:
    kind: str
    id: str
    label: str
    score: int
    tier: int
    target: str  # id of the page to open: CIS for specialities and codes, else id

    def as_json(self) -> dict:
        return {"kind": self.kind, "id": self.id, "label": self.label, "score": self.score}

    @property
    def kind_fr(self) -> str:
        return KIND_LABELS_FR[self.kind]


@dataclass(frozen=True)
class Doc:
    kind: str
    id: str
    label: str
    norm: str
    target: str


class SearchIndex:
    def __init__(self, docs: list[Doc], codes: dict[str, dict[str, tuple[str, str]]]):
        self.docs = docs
        # codes[kind][code] = (label, target)
        self.codes = codes
        self._sorted_codes = {k: sorted(v) for k, v in codes.items()}
        self._by_norm: dict[str, list[int]] = {}
        for i, d in enumerate(docs):
            self._by_norm.setdefault(d.norm, []).append(i)
        self._sorted_norms = sorted((d.norm, i) for i, d in enumerate(docs))
        postings: dict[str, set[int]] = {}
        for i, d in enumerate(docs):
            for w in set(d.norm.split()):
                postings.setdefault(w, set()).add(i)
        self._postings = postings
        self._vocab = sorted(postings)

    def __len__(self) -> int:
        return len(self.docs) + sum(len(v) for v in self.codes.values())

    # --- building ---------------------------------------------------------------
    @classmethod
    def from_frames(
        cls,
        specialites: pl.DataFrame,
        presentations: pl.DataFrame,
        substances: pl.DataFrame,
        atc: pl.DataFrame,
    ) -> SearchIndex:
        docs: list[Doc] = []
        names = dict(zip(specialites["cis"].to_list(), specialites["denomination"].to_list()))
        for cis, label in names.items():
            docs.append(Doc("speciality", cis, label, normalise(label), cis))
        if not substances.is_empty():
            for code, label in zip(substances["code_substance"].to_list(), substances["denomination"].to_list()):
                docs.append(Doc("substance", code, label, normalise(label), code))
        holders = (
            specialites.select(pl.col("titulaires").explode().drop_nulls().unique().sort())["titulaires"].to_list()
            if "titulaires" in specialites.columns
            else []
        )
        for h in holders:
            docs.append(Doc("holder", h, h, normalise(h), h))
        atc_codes: dict[str, tuple[str, str]] = {}
        if not atc.is_empty():
            for code, label in zip(atc["code_atc"].to_list(), atc["libelle"].to_list()):
                docs.append(Doc("atc", code, f"{code} — {label}", normalise(label), code))
                atc_codes[code.lower()] = (f"{code} — {label}", code)
        codes: dict[str, dict[str, tuple[str, str]]] = {
            "cis": {cis: (label, cis) for cis, label in names.items()},
            "cip13": {},
            "cip7": {},
            "atc": atc_codes,
        }
        if not presentations.is_empty():
            for cis, cip7, cip13, lib in presentations.select(
                "cis", "cip7", "cip13", "libelle_presentation"
            ).iter_rows():
                name = names.get(cis, cis)
                codes["cip13"][cip13] = (f"{name} — {lib}", cis)
                codes["cip7"][cip7] = (f"{name} — {lib}", cis)
        return cls(docs, codes)

    @classmethod
    def from_store(cls, store) -> SearchIndex:
        return cls.from_frames(
            store.table(DS.SPECIALITES), store.table(DS.PRESENTATIONS), store.table(DS.SUBSTANCES), store.table(DS.ATC)
        )

    # --- querying ---------------------------------------------------------------
    def search(self, query: str, limit: int = 10, kinds: tuple[str, ...] | None = None) -> list[Hit]:
        if not isinstance(query, str):
            return []
        limit = max(1, min(int(limit), MAX_LIMIT))
        raw = query.strip()[: MAX_QUERY_CHARS * 4]
        norm = normalise(raw)[:MAX_QUERY_CHARS].strip()
        if not norm:
            return []
        found: dict[tuple[str, str], Hit] = {}

        def add(hit: Hit) -> None:
            if kinds and hit.kind not in kinds:
                return
            key = (hit.kind, hit.id)
            old = found.get(key)
            if old is None or (hit.tier, -hit.score) < (old.tier, -old.score):
                found[key] = hit

        compact = norm.replace(" ", "")
        if compact.isdigit():
            self._search_codes(compact, ("cis", "cip13", "cip7"), add, limit)
        if compact.isalnum() and len(compact) <= 7 and compact[0].isalpha():
            self._search_codes(compact, ("atc",), add, limit)
        self._search_text(norm, add, limit)
        hits = sorted(found.values(), key=lambda h: (h.tier, -h.score, _KIND_RANK[h.kind], len(h.label), h.label))
        return hits[:limit]

    def _search_codes(self, code: str, kinds, add, limit: int) -> None:
        for kind in kinds:
            table = self.codes.get(kind, {})
            if code in table:
                label, target = table[code]
                add(Hit(kind, code.upper(), label, 100, 0, target))
            if len(code) < 2:
                continue
            keys = self._sorted_codes.get(kind, [])
            start = bisect.bisect_left(keys, code)
            for k in keys[start : start + limit + 1]:
                if not k.startswith(code):
                    break
                if k != code:
                    label, target = table[k]
                    add(Hit(kind, k.upper(), label, 90, 2, target))

    def _search_text(self, norm: str, add, limit: int) -> None:
        docs = self.docs
        for i in self._by_norm.get(norm, []):
            d = docs[i]
            add(Hit(d.kind, d.id, d.label, 100, 1, d.target))
        # whole-label prefix
        start = bisect.bisect_left(self._sorted_norms, (norm, -1))
        taken = 0
        for label_norm, i in self._sorted_norms[start:]:
            if not label_norm.startswith(norm) or taken > CANDIDATES:
                break
            if label_norm != norm:
                d = docs[i]
                add(Hit(d.kind, d.id, d.label, _prefix_score(norm, label_norm), 2, d.target))
                taken += 1
        words = norm.split()[:8]
        if len(norm) < 2:
            return
        # every word is a prefix of a word of the label
        sets = [self._prefix_docs(w) for w in words]
        exact = set.intersection(*sets) if sets and all(sets) else set()
        for i in _top(exact, docs, norm, CANDIDATES):
            d = docs[i]
            add(Hit(d.kind, d.id, d.label, max(80, _prefix_score(norm, d.norm) - 5), 3, d.target))
        if len(exact) >= limit:
            return
        # fuzzy: each word matched to the vocabulary with typos
        fuzzy_sets = []
        for w, s in zip(words, sets):
            fs = set(s)
            if len(w) >= 3:
                for word, _score, _ in process.extract(
                    w, self._vocab, scorer=fuzz.ratio, score_cutoff=FUZZY_WORD_CUTOFF, limit=30
                ):
                    fs |= self._postings[word]
            fuzzy_sets.append(fs)
        nonempty = [s for s in fuzzy_sets if s]
        if not nonempty:
            return
        candidates = set.intersection(*nonempty) if len(nonempty) == len(fuzzy_sets) else set()
        if not candidates:
            candidates = set.union(*nonempty)
        for i in _top(candidates, docs, norm, CANDIDATES, scorer=fuzz.WRatio):
            d = docs[i]
            score = int(round(fuzz.WRatio(norm, d.norm)))
            if score >= FUZZY_DOC_CUTOFF:
                add(Hit(d.kind, d.id, d.label, min(score, 89), 4, d.target))

    def _prefix_docs(self, word: str) -> set[int]:
        vocab = self._vocab
        start = bisect.bisect_left(vocab, word)
        out: set[int] = set()
        for w in vocab[start:]:
            if not w.startswith(word):
                break
            out |= self._postings[w]
        return out


def _prefix_score(query: str, label: str) -> int:
    """95 for a near-complete match, lower as the label gets longer."""
    return max(80, 95 - (len(label) - len(query)) // 4)


def _top(candidates: set[int], docs: list[Doc], norm: str, n: int, scorer=fuzz.token_set_ratio) -> list[int]:
    if not candidates:
        return []
    ids = list(candidates)
    if len(ids) <= n:
        return ids
    scores = process.cdist([norm], [docs[i].norm for i in ids], scorer=scorer)[0]
    order = sorted(range(len(ids)), key=lambda k: (-scores[k], len(docs[ids[k]].norm)))
    return [ids[k] for k in order[:n]]
