"""One search index over specialities, substances, codes, ATC classes and holders.

Ranking, best first:

0. exact code (CIS, CIP7, CIP13, ATC);
1. exact name (accent- and case-insensitive);
2. prefix: the name, or a code, starts with the query;
3. every query word starts a word of the name;
4. fuzzy (rapidfuzz), for typos: each query word is matched to the words of
   the name, and a name scores the mean of its best word matches (a long name
   is not penalised for its other words: "augmantin" finds AUGMENTIN);
5. a dose in the query ("dafalgan 1g", "doliprane 500 mg") that the name does
   not carry: the name matched, the strength did not.

Within a tier, names whose words contain every query word *whole* come first
(a brand query puts the brand before substances that merely start with it:
"levothyrox" before LÉVOTHYROXINE), then French labels before English ones
(the WHO's English ATC names; an exact English name also drops to tier 2), then
the score, the kind (specialities first) and the shorter label (for typos, the
shorter label before the kind: AMOXICILLINE before AMOXICILLINE SUN...). A dose is
compared in milligrams: "1g" matches "1 g" and "1000 mg". Scores are 0-100 for
display; the tier decides the order.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field

import polars as pl
from rapidfuzz import fuzz, process

from datamed.core.labels import display_label
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
MEDICINE_KINDS = ("speciality", "cis", "cip13", "cip7")  # hits that open a medicine page
OTHER_DOSE_TIER = 5  # the name matched, the strength typed did not
_KIND_RANK = {"speciality": 0, "cis": 0, "cip13": 0, "cip7": 0, "substance": 1, "atc": 2, "holder": 3}


@dataclass(frozen=True)
class Hit:
    kind: str
    id: str
    label: str
    score: int
    tier: int
    target: str  # id of the page to open: CIS for specialities and codes, else id
    whole: bool = False  # every query word is a whole word of the label
    english: bool = False  # an English label

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
    english: bool = False  # an English label (the WHO's ATC names without a French one)
    doses: frozenset[str] = field(default_factory=frozenset)  # strengths of a speciality, in mg (``doses``)


@dataclass(frozen=True)
class Results:
    """A page of hits and how many were found in all (``capped``: at least that many)."""

    hits: list[Hit]
    total: int
    capped: bool


_DOSE = re.compile(
    r"(\d+(?:[.,]\d+)?)\s*(mg|g|µg|μg|ug|mcg|microgrammes?|milligrammes?|grammes?)(?![a-zà-ÿ])", re.IGNORECASE
)
_TO_MG = {"g": 1000.0, "gramme": 1000.0, "grammes": 1000.0, "mg": 1.0, "milligramme": 1.0, "milligrammes": 1.0}


def doses(text: str) -> tuple[frozenset[str], str]:
    """The strengths written in ``text``, in milligrams ("1 g", "1g" and "1000 mg" are all
    "1000mg"), and the text without them."""
    found = set()
    for m in _DOSE.finditer(text):
        value = float(m.group(1).replace(",", "."))
        unit = m.group(2).lower()
        found.add(f"{value * _TO_MG.get(unit, 0.001):g}mg")
    return frozenset(found), _DOSE.sub(" ", text)


def typed_doses_fr(text: str) -> str:
    """The strengths typed in ``text``, as a reader writes them ("1g" -> "1 g"; "500mg et 1g" ->
    "500 mg ou 1 g"); "" when none."""
    seen: list[str] = []
    for m in _DOSE.finditer(text):
        shown = f"{m.group(1).replace('.', ',')} {m.group(2).lower()}"
        if shown not in seen:
            seen.append(shown)
    return " ou ".join(seen)


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
        self._words = [d.norm.split() for d in docs]

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
            docs.append(Doc("speciality", cis, label, normalise(label), cis, doses=doses(label or "")[0]))
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
            langs = atc["langue"].to_list() if "langue" in atc.columns else [None] * atc.height
            for code, label, lang in zip(atc["code_atc"].to_list(), atc["libelle"].to_list(), langs):
                # the label shown has its accents (core.labels); matching stays on the source's label
                shown = label if lang == "en" else display_label(label)
                docs.append(Doc("atc", code, f"{code} — {shown}", normalise(label), code, english=lang == "en"))
                atc_codes[code.lower()] = (f"{code} — {shown}", code)
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
        """The ``limit`` best hits for ``query`` (see the module docstring for the order)."""
        return self.find(query, limit, kinds).hits

    def find(self, query: str, limit: int = 10, kinds: tuple[str, ...] | None = None) -> Results:
        """``search`` with the number of hits found in all, for an honest count."""
        if not isinstance(query, str):
            return Results([], 0, False)
        limit = max(1, min(int(limit), MAX_LIMIT))
        raw = query.strip()[: MAX_QUERY_CHARS * 4]
        norm = normalise(raw)[:MAX_QUERY_CHARS].strip()
        if not norm:
            return Results([], 0, False)
        wanted, rest = doses(raw)
        text = normalise(rest)[:MAX_QUERY_CHARS].strip() if wanted else norm
        if not text:  # only a strength ("500 mg"): search it as text
            wanted, text = frozenset(), norm
        g = _Gather(kinds, wanted, text.split()[:8])
        compact = norm.replace(" ", "")
        if compact.isdigit():
            self._search_codes(compact, ("cis", "cip13", "cip7"), g, limit)
        if compact.isalnum() and len(compact) <= 7 and compact[0].isalpha():
            self._search_codes(compact, ("atc",), g, limit)
        self._search_text(text, g, limit)
        hits = sorted(g.found.values(), key=_order)
        return Results(hits[:limit], len(hits), g.capped)

    def _search_codes(self, code: str, kinds, g: _Gather, limit: int) -> None:
        for kind in kinds:
            table = self.codes.get(kind, {})
            if code in table:
                label, target = table[code]
                g.add(Hit(kind, code.upper(), label, 100, 0, target, whole=True))
            if len(code) < 2:
                continue
            keys = self._sorted_codes.get(kind, [])
            start = bisect.bisect_left(keys, code)
            for k in keys[start : start + limit + 1]:
                if not k.startswith(code):
                    break
                if k != code:
                    label, target = table[k]
                    g.add(Hit(kind, k.upper(), label, 90, 2, target))
            if start + limit + 1 < len(keys) and keys[start + limit + 1].startswith(code):
                g.capped = True

    def _search_text(self, norm: str, g: _Gather, limit: int) -> None:
        docs = self.docs
        for i in self._by_norm.get(norm, []):
            g.add_doc(docs[i], 100, 1)
        # whole-label prefix
        start = bisect.bisect_left(self._sorted_norms, (norm, -1))
        taken = 0
        for label_norm, i in self._sorted_norms[start:]:
            if not label_norm.startswith(norm):
                break
            if taken > CANDIDATES:
                g.capped = True
                break
            if label_norm != norm:
                g.add_doc(docs[i], _prefix_score(norm, label_norm), 2)
                taken += 1
        words = g.words
        if len(norm) < 2:
            return
        # every word is a prefix of a word of the label
        prefix_words = [self._prefix_words(w) for w in words]
        sets = [self._docs_of(ws) for ws in prefix_words]
        exact = set.intersection(*sets) if sets and all(sets) else set()
        for i in _top(exact, docs, norm, CANDIDATES, g):
            g.add_doc(docs[i], max(80, _prefix_score(norm, docs[i].norm) - 5), 3)
        if len(exact) >= limit:
            return
        # fuzzy: each word matched to the vocabulary with typos; a label scores the mean
        # of its best word matches
        similar: list[dict[str, float]] = []
        for w, prefixed in zip(words, prefix_words):
            sim = dict.fromkeys(prefixed, 100.0)
            if len(w) >= 3:
                for word, score, _ in process.extract(
                    w, self._vocab, scorer=fuzz.ratio, score_cutoff=FUZZY_WORD_CUTOFF, limit=30
                ):
                    sim[word] = max(sim.get(word, 0.0), score)
            similar.append(sim)
        fuzzy_sets = [self._docs_of(sim) for sim in similar]
        nonempty = [s for s in fuzzy_sets if s]
        if not nonempty:
            return
        candidates = set.intersection(*nonempty) if len(nonempty) == len(fuzzy_sets) else set()
        if not candidates:
            candidates = set.union(*nonempty)
        scored = []
        for i in candidates:
            label_words = self._words[i]
            score = sum(max((sim.get(x, 0.0) for x in label_words), default=0.0) for sim in similar) / len(similar)
            if score >= FUZZY_DOC_CUTOFF:
                scored.append((-score, len(docs[i].norm), i))
        scored.sort()
        if len(scored) > CANDIDATES:
            g.capped = True
        for neg, _, i in scored[:CANDIDATES]:
            g.add_doc(docs[i], min(int(round(-neg)), 89), 4)

    def _prefix_words(self, word: str) -> list[str]:
        """The words of the vocabulary that start with ``word``."""
        vocab = self._vocab
        start = bisect.bisect_left(vocab, word)
        out = []
        for w in vocab[start:]:
            if not w.startswith(word):
                break
            out.append(w)
        return out

    def _docs_of(self, words) -> set[int]:
        out: set[int] = set()
        for w in words:
            out |= self._postings[w]
        return out


class _Gather:
    """The hits of one query (never shared: the index serves concurrent sessions)."""

    def __init__(self, kinds: tuple[str, ...] | None, wanted: frozenset[str], words: list[str]):
        self.kinds, self.wanted, self.words = kinds, wanted, set(words)
        self.found: dict[tuple[str, str], Hit] = {}
        self.capped = False

    def add(self, hit: Hit) -> None:
        if self.kinds and hit.kind not in self.kinds:
            return
        key = (hit.kind, hit.id)
        old = self.found.get(key)
        if old is None or _order(hit) < _order(old):
            self.found[key] = hit

    def add_doc(self, d: Doc, score: int, tier: int) -> None:
        if d.english and tier == 1:
            tier = 2  # an exact English name is not an exact French one
        if self.wanted and not self.wanted <= d.doses:
            tier = OTHER_DOSE_TIER
        whole = self.words <= set(d.norm.split())
        self.add(Hit(d.kind, d.id, d.label, score, tier, d.target, whole=whole, english=d.english))


def _order(h: Hit) -> tuple:
    if h.tier == 4:  # typos: among equal scores the shorter label, so a substance before its medicines
        return (h.tier, h.english, not h.whole, -h.score, len(h.label), _KIND_RANK[h.kind], h.label)
    return (h.tier, h.english, not h.whole, -h.score, _KIND_RANK[h.kind], len(h.label), h.label)


def _prefix_score(query: str, label: str) -> int:
    """95 for a near-complete match, lower as the label gets longer."""
    return max(80, 95 - (len(label) - len(query)) // 4)


def _top(candidates: set[int], docs: list[Doc], norm: str, n: int, g: _Gather) -> list[int]:
    if not candidates:
        return []
    ids = list(candidates)
    if len(ids) <= n:
        return ids
    g.capped = True
    scores = process.cdist([norm], [docs[i].norm for i in ids], scorer=fuzz.token_set_ratio)[0]
    order = sorted(range(len(ids)), key=lambda k: (-scores[k], len(docs[ids[k]].norm)))
    return [ids[k] for k in order[:n]]
