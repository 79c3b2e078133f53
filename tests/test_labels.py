"""Labels as shown (core.labels) and French country names (core.countries), on the real data."""

from __future__ import annotations

import collections
import re

import polars as pl
import pytest

from datamed.core.countries import COUNTRY_NAMES_FR, country_fr
from datamed.core.labels import ACCENTS, display_label, display_labels, sentence_label
from datamed.core.text import normalise, strip_accents
from datamed.views import adverse, catalogue, search, sites

# --- labels -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, shown",
    [
        ("Autres medicaments en cardiologie", "Autres médicaments en cardiologie"),
        ("Antiinflammatoires non steroidiens a usage topique", "Antiinflammatoires non stéroïdiens à usage topique"),
        ("Autres antiinflammatoires et antirhumatismaux non steroidiens", None),
        ("Polyvitamines non associees", "Polyvitamines non associées"),
        ("Steptogramines (synergistines)", "Streptogramines (synergistines)"),  # a typo of the source
        ("Interferon beta-1a", "Interféron bêta-1a"),
        ("Thiamine (vit b1)", "Thiamine (vit B1)"),
        ("Méningocoques a,c,y, w-135 antigènes polysaccharidiques tétravalents purifiés", None),
        ("Vitamines", "Vitamines"),
    ],
)
def test_atc_labels_of_the_real_data(real_store, raw, shown):
    labels = real_store.table("atc").filter(pl.col("langue") == "fr")["libelle"].to_list()
    assert raw in labels  # the source's spelling, kept in the prepared data
    if shown is None:
        shown = {
            "Autres antiinflammatoires et antirhumatismaux non steroidiens": (
                "Autres antiinflammatoires et antirhumatismaux non stéroïdiens"
            ),
            "Méningocoques a,c,y, w-135 antigènes polysaccharidiques tétravalents purifiés": (
                "Méningocoques A,C,Y, W-135 antigènes polysaccharidiques tétravalents purifiés"
            ),
        }[raw]
    assert display_label(raw) == shown


@pytest.mark.parametrize(
    "raw, shown",
    [
        ("DL-LYSINE (ACÉTYLSALICYLATE DE)", "DL-lysine (acétylsalicylate de)"),
        ("DL-LYSINE (ACETYLSALICYLATE DE)", "DL-lysine (acétylsalicylate de)"),
        ("FACTEUR VIII DE COAGULATION HUMAIN", "Facteur VIII de coagulation humain"),
        ("D,L-HYDROGENOMALATE D'ALMOTRIPTAN", "D,L-hydrogénomalate d'almotriptan"),
        ("SODIUM (N-ACETYL L-ASPARTYL L-GLUTAMATE DE)", "Sodium (N-acétyl L-aspartyl L-glutamate de)"),
        ("VIRUS DE L'HÉPATITE A SOUCHE GBM INACTIVÉ ADSORBÉ", "Virus de l'hépatite A souche GBM inactivé adsorbé"),
        ("SACCHAROMYCES BOULARDII CNCM I-745", "Saccharomyces boulardii CNCM I-745"),
    ],
)
def test_substance_names_of_the_real_data(real_store, raw, shown):
    names = set(real_store.table("substances")["denomination"].to_list())
    names |= set(real_store.table("ei_substances")["nom"].to_list())
    assert raw in names
    assert sentence_label(raw) == shown
    assert adverse.display_name(raw) == shown


def _real_labels(store) -> list[str]:
    atc = store.table("atc").filter(pl.col("langue") == "fr")["libelle"].to_list()
    subs = store.table("substances")["denomination"].to_list() + store.table("ei_substances")["nom"].to_list()
    return atc + subs


def test_only_case_and_accents_change(real_store):
    """On every real label: the same words once accents and case are set aside (so what
    search matches is untouched), except the one typo corrected; cleaning twice is
    cleaning once."""
    changed = {}
    for label in _real_labels(real_store):
        for shown in (display_label(label), sentence_label(label)):
            if normalise(shown) != normalise(label):
                changed[label] = shown
            assert display_label(shown) == shown or sentence_label(shown) == shown, label
        assert sentence_label(sentence_label(label)) == sentence_label(label), label
        assert display_label(display_label(label)) == display_label(label), label
    assert changed == {"Steptogramines (synergistines)": "Streptogramines (synergistines)"}


def test_no_french_atc_word_left_without_its_accents(real_store):
    """Every word of a French ATC label that the same labels write elsewhere with accents
    is shown with them (single letters aside, and "active", which is a word of its own)."""
    french = real_store.table("atc").filter(pl.col("langue") == "fr")["libelle"].to_list()
    accented = collections.defaultdict(set)
    for label in french:
        for word in re.findall(r"[^\W\d_]+", label.lower()):
            if word != strip_accents(word):
                accented[strip_accents(word)].add(word)
    left = collections.Counter(
        word
        for label in french
        for word in re.findall(r"[^\W\d_]{2,}", display_label(label).lower())
        if word.isascii() and word in accented and word != "active"
    )
    assert not left, left


def test_accent_table_is_reviewed():
    for plain, spelled in ACCENTS.items():
        assert plain == plain.lower() and plain.isascii(), plain
        assert spelled != plain
        if plain != "steptogramines":  # the one spelling fix
            assert strip_accents(spelled.replace("œ", "oe")) == plain, (plain, spelled)


def test_raw_labels_stay_in_the_data_and_search_matches_them(real_store):
    atc = real_store.table("atc")
    row = atc.filter(pl.col("code_atc") == "A06AX").row(0, named=True)
    assert row["libelle"] == "Autres medicaments pour la constipation"  # the data keep the source's label
    assert catalogue.atc_labels(real_store)["A06AX"] == "Autres médicaments pour la constipation"
    index = search.SearchIndex.from_store(real_store)
    for query in ("autres medicaments pour la constipation", "autres médicaments pour la constipation"):
        hits = index.search(query, kinds=("atc",))
        assert hits and hits[0].target == "A06AX", query
        assert hits[0].label == "A06AX — Autres médicaments pour la constipation"
    english = atc.filter(pl.col("langue") == "en").row(0, named=True)
    assert catalogue.atc_labels(real_store)[english["code_atc"]] == english["libelle"]  # WHO's English as is


def test_display_labels_of_a_frame():
    frame = pl.DataFrame({"a": ["Autres medicaments", None, "Vitamine A"], "n": [1, 2, 3]})
    out = display_labels(frame, "a", "missing")
    assert out["a"].to_list() == ["Autres médicaments", None, "Vitamine A"] and out["n"].to_list() == [1, 2, 3]
    assert display_labels(frame.select("n"), "a").equals(frame.select("n"))


def test_shortage_views_show_accented_atc_labels(real_store):
    from datamed.views import shortages

    eps = shortages.episodes(real_store)
    raw = real_store.table("ruptures_episodes")
    assert eps.height == raw.height
    for column in ("atc1_libelle", "atc2_libelle"):
        pairs = zip(raw[column].to_list(), eps[column].to_list())
        assert all(s == (None if r is None else display_label(r)) for r, s in pairs), column


# --- countries ----------------------------------------------------------------------------------


def test_every_country_of_the_real_data_has_a_french_name(real_store):
    fda = real_store.table("sites_pays")
    outlines = real_store.table("pays_geo")
    codes = set(fda["country_iso3"].to_list()) | set(outlines["iso3"].to_list())
    assert len(codes) > 150
    missing = sorted(c for c in codes if c not in COUNTRY_NAMES_FR)
    assert missing == []
    shown = sites.countries(real_store)
    names = dict(shown.select("country_iso3", "pays").rows())
    assert names["USA"] == "États-Unis" and names["KOR"] == "Corée du Sud" and names["DEU"] == "Allemagne"
    assert names["GBR"] == "Royaume-Uni" and names["CHN"] == "Chine" and names["HKG"] == "Hong Kong"
    same = shown.filter(pl.col("pays") == pl.col("country_name"))["pays"].to_list()
    # only names that French writes as English does
    assert set(same) <= {
        "France",
        "Canada",
        "Hong Kong",
        "Portugal",
        "Ukraine",
        "Kenya",
        "Rwanda",
        "Bangladesh",
        "Pakistan",
        "Costa Rica",
        "Philippines",
        "Oman",
        "Uruguay",
        "Aruba",
        "Guatemala",
        "Honduras",
        "Monaco",
    }, same


def test_country_table_reads_as_french():
    names = list(COUNTRY_NAMES_FR.values())
    assert len(COUNTRY_NAMES_FR) == 250 and len(set(names)) == len(names)
    assert all(re.fullmatch(r"[A-Z]{3}", code) for code in COUNTRY_NAMES_FR)
    inverted = re.compile(r", (Îles?|République|Fédération|État|États|province|Île de)\b")
    assert not [n for n in names if inverted.search(n)]  # no inverted catalogue forms ("Salomon, Îles")
    assert country_fr("RUS") == "Russie" and country_fr("SLB") == "Îles Salomon" and country_fr("XKX") == "Kosovo"
    assert country_fr("ZZZ", "Nowhere") == "Nowhere" and country_fr(None) == "—"
