"""Exposure plausibility rules and active moieties in the adverse-effect data (issue 13)."""

from __future__ import annotations

import json

import polars as pl
import pytest

from datamed.audit import audit_tables
from datamed.core.exposure import FRENCH_POPULATION, MIN_EXPOSURE, WITHHELD_FR, flag_years, headline_reason
from datamed.core.rule import MASK, ProtectionRule
from datamed.datasets import DS
from datamed.views import adverse


def _flags(rows: list[tuple[int, int, int | None]]) -> dict[int, str | None]:
    frame = pl.DataFrame(
        [("x", y, n, c) for y, n, c in rows],
        schema={"id": pl.String, "annee": pl.Int16, "n_cas": pl.Int64, "n_conso": pl.Int64},
        orient="row",
    )
    return dict(flag_years(frame, "id").select("annee", "expo_motif").rows())


def test_each_rule_flags_its_year():
    got = _flags(
        [
            (2014, 50, 100_000),
            (2015, 60, None),  # emptied by the reader
            (2016, 900, 800),  # more cases than consommants
            (2017, 3, MIN_EXPOSURE - 1),
            (2018, 9_000, FRENCH_POPULATION + 1),
        ]
    )
    assert got == {2014: None, 2015: "absente", 2016: "cas_superieurs", 2017: "minimum", 2018: "population"}


def test_a_jump_or_a_collapse_against_the_other_years():
    # diclofénac's base: its exposure moved to the salts (1,792 -> 11 -> 0)
    assert _flags([(2014, 224, 1792), (2015, 229, 1574), (2016, 208, 499), (2017, 207, 11), (2018, 186, 0)]) == {
        2014: None,
        2015: None,
        2016: "minimum",
        2017: "cas_superieurs",
        2018: "cas_superieurs",
    }
    steady = [(2014, 10, 50_000), (2015, 10, 52_000), (2016, 10, 49_000), (2017, 10, 51_000)]
    assert set(_flags(steady).values()) == {None}
    assert _flags([*steady, (2018, 10, 300_000)])[2018] == "saut"  # 6x the median of the others
    assert _flags([*steady, (2018, 10, 9_000)])[2018] == "saut"  # a collapse
    assert _flags([*steady, (2018, 10, 240_000)])[2018] is None  # under 5x: kept


def test_headline_reason_is_the_most_frequent_rule():
    assert headline_reason([None, "minimum"]) is None  # one year passes: a rate
    assert headline_reason(["population"] * 5) == "population"
    assert headline_reason(["minimum", "minimum", "saut"]) == "minimum"
    assert set(WITHHELD_FR) >= {"absente", "cas_superieurs", "minimum", "population", "saut", "sel"}


# --- on the real data -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def raw_json(shared_dir):
    folder = shared_dir / "ansm_pharmacovigilance"
    return {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in folder.glob("sa_data_annee.json")}


def test_diclofenac_is_pooled_over_its_salts(real_store, raw_json):
    """Cases and exposure of the moiety are the sums over its forms, from the file."""
    members = real_store.table("ei_fractions_membres").filter(pl.col("fraction_id") == "fraction-diclofenac")
    names = set(real_store.table("ei_substances").filter(pl.col("ei_id").is_in(members["ei_id"].implode()))["nom"])
    assert names == {
        "DICLOFENAC",
        "DICLOFENAC SODIQUE",
        "DICLOFENAC POTASSIQUE",
        "DICLOFENAC (EPOLAMINE DE)",
        "DICLOFENAC DE DIETHYLAMINE",
    }
    cases, expo = {}, {}
    for r in raw_json["sa_data_annee"]:
        if r["MEDICAMENT"] in names:
            cases[int(r["ANNEE"])] = cases.get(int(r["ANNEE"]), 0) + r["n_cas"]
            expo[int(r["ANNEE"])] = expo.get(int(r["ANNEE"]), 0) + r["n_conso"]
    years = real_store.table("ei_fractions_annee").filter(pl.col("fraction_id") == "fraction-diclofenac")
    for year, n, c in years.select("annee", "n_cas", "n_conso").rows():
        assert n == cases[year] and c == expo[year], year
    p = adverse.profile(real_store, "fraction-diclofenac")
    assert p.n_cas == sum(cases.values()) and p.label == "Diclofénac"
    # a believable rate: a few cases per 100,000 consommants (the base alone read 17,102)
    assert 1 < p.taux < 20 and p.consommants_par_an > 10_000_000
    summary = adverse.summary_fr(p)
    assert "consommants" in summary and "taux de notification" in summary and "patients traités" not in summary
    # the salts are the drill-down, with no rate of their own
    assert p.members.height == 5
    salts = real_store.table("ei_substances").filter(pl.col("ei_id").is_in(members["ei_id"].implode()))
    assert salts["taux"].null_count() == 5 and set(salts["motif_sans_taux"]) == {"sel"}


def test_a_salts_page_shows_its_moiety(real_store):
    """The BDPM's DICLOFÉNAC SODIQUE (Voltarène) reads as diclofénac, all forms together."""
    codes = real_store.table("noms_substances").filter(pl.col("denomination_substance") == "DICLOFÉNAC SODIQUE")
    profiles = adverse.profiles_for_substance(real_store, codes["code_substance"][0])
    assert [p.ei_id for p in profiles] == ["fraction-diclofenac"]


def test_paracetamol_gets_no_rate_and_says_why(real_store):
    """Its consommants exceed the population of France (a sum over products)."""
    p = adverse.profile(real_store, "paracetamol")
    assert p.taux is None and p.n_cas > 10_000 and p.motif_sans_taux == "population"
    assert p.withheld_rate_fr == WITHHELD_FR["population"]
    assert WITHHELD_FR["population"] in adverse.summary_fr(p)


def test_no_rate_above_ten_thousand_unless_plausible_and_explained(real_store):
    """Headline rates stay under 10,000 per 100,000; a yearly one above it (étoposide, a
    hospital drug) passed every rule, and its page says why it can be that high."""
    for name in ("ei_substances", "ei_fractions"):
        assert real_store.table(name)["taux"].drop_nulls().max() < 10_000, name
    high = set()
    for name, key in (
        ("ei_annee", "ei_id"),
        ("ei_age", "ei_id"),
        ("ei_sexe", "ei_id"),
        ("ei_fractions_annee", "fraction_id"),
    ):
        high |= set(real_store.table(name).filter(pl.col("taux") > 10_000)[key])
    assert high  # the real data has some
    alerts = real_store.table("ei_exposition_alertes")
    for unit in high:
        assert unit not in set(alerts["id"])  # every year of it passed
        p = adverse.profile(real_store, unit)
        assert p.high_rate_fr and p.high_rate_fr in adverse.summary_fr(p), unit
    assert adverse.profile(real_store, "fraction-diclofenac").high_rate_fr is None


def test_flagged_years_are_listed_and_get_no_rate(real_store):
    alerts = real_store.table("ei_exposition_alertes")
    assert set(alerts["expo_motif"]) <= {"cas_superieurs", "minimum", "population", "saut"}
    assert {"minimum", "saut", "population"} <= set(alerts["expo_motif"])
    # a flagged year has no yearly rate
    years = real_store.table("ei_annee").join(
        alerts.filter(pl.col("niveau") == "substance").select(pl.col("id").alias("ei_id"), "annee"),
        on=["ei_id", "annee"],
    )
    assert years.height == alerts.filter(pl.col("niveau") == "substance").height
    assert years["taux"].null_count() == years.height


def test_rankings_stay_within_a_therapeutic_class(real_store):
    p = adverse.profile(real_store, "fraction-amoxicilline")
    assert p.rank is not None and p.rank.atc.startswith("J01C") and p.rank.n >= adverse.MIN_RANK_CLASS
    assert "même classe thérapeutique" in adverse.summary_fr(p)


def test_the_picker_has_one_entry_per_moiety(real_store):
    choices = adverse.unit_choices(real_store)
    labels = list(choices.values())
    assert len(labels) == len(set(labels))  # no two identical entries
    diclo = [i for i, label in choices.items() if label.startswith("Diclofénac")]
    assert diclo == ["fraction-diclofenac"] and "sodique" in choices["fraction-diclofenac"]
    assert "diclofenac-sodique" not in choices  # a salt is under its moiety
    # acide clavulanique is found under its own name (the source writes the potassium salt)
    assert any(label.lower().startswith("acide clavulanique") for label in labels)


# --- the audit knows the moieties ---------------------------------------------------------------

RULE = ProtectionRule()


def test_moiety_minus_published_salts_would_place_a_withheld_count():
    """A moiety's total with all but one salt published gives that salt away: the
    audit finds it, and finds nothing once the moiety's total is withheld too."""
    subs = pl.DataFrame(
        {"ei_id": ["a", "b"], "nom": ["A SODIQUE", "A"], "n_cas": [500, None], "n_cas_statut": [None, MASK]}
    )
    members = pl.DataFrame({"ei_id": ["a", "b"], "fraction_id": ["fraction-a", "fraction-a"], "regle": ["nom", "nom"]})
    heads = pl.DataFrame({"fraction_id": ["fraction-a"], "fraction": ["A"], "n_cas": [503], "n_cas_statut": [None]})
    tables = {DS.EI_SUBSTANCES: subs, DS.EI_FRACTIONS_MEMBRES: members, DS.EI_FRACTIONS: heads}
    report = audit_tables(tables, (), RULE)
    assert not report.ok and report.exposed
    tables[DS.EI_FRACTIONS] = heads.with_columns(
        pl.lit(None, dtype=pl.Int64).alias("n_cas"), pl.lit(MASK).alias("n_cas_statut")
    )
    assert audit_tables(tables, (), RULE).ok


@pytest.mark.parametrize("name", ["ei_fractions", "ei_fractions_annee", "ei_fractions_age", "ei_fractions_sexe"])
def test_moiety_tables_hold_no_small_count(real_store, name):
    frame = real_store.table(name)
    assert frame.height > 0
    shown = frame["n_cas"].drop_nulls()
    assert ((shown == 0) | (shown >= 11)).all()


# --- identical case series ----------------------------------------------------------------------


def test_identical_case_series_are_one_product(real_store):
    """The 23 serotypes of one pneumococcal vaccine share one case series: one group, one
    entry in the picker, one background entry, and the page says so."""
    series = real_store.table("ei_series_identiques")
    sizes = series.group_by("groupe_id").len()
    assert sizes["len"].max() == 23 and sizes.height >= 20
    group = sizes.filter(pl.col("len") == 23)["groupe_id"][0]
    members = series.filter(pl.col("groupe_id") == group)["ei_id"].to_list()
    # equal cells, masked alike (else the published twin would give a withheld one away)
    years = real_store.table("ei_annee").filter(pl.col("ei_id").is_in(members))
    by_member = {i: years.filter(pl.col("ei_id") == i).sort("annee")["n_cas"].to_list() for i in members}
    assert len({tuple(v) for v in by_member.values()}) == 1
    choices = adverse.unit_choices(real_store)
    assert sum(1 for i in members if i in choices) == 1
    p = adverse.profile(real_store, members[0])
    assert len(p.twins) == 22 and "mêmes déclarations" in adverse.summary_fr(p)
    # one rate per product among the rankings
    rates = adverse._reliable_rates(real_store)
    assert sum(1 for i in members if i in set(rates["unit"])) <= 1


def test_every_identical_series_is_masked_alike(real_store):
    """Members of one series have the same withheld cells: none gives another's away."""
    series = real_store.table("ei_series_identiques")
    for table, stratum in (("ei_annee", "annee"), ("ei_age", "age"), ("ei_sexe", "sexe")):
        frame = real_store.table(table).join(series, on="ei_id")
        patterns = frame.group_by("groupe_id", stratum).agg(pl.col("n_cas_statut").is_null().n_unique().alias("k"))
        assert (patterns["k"] == 1).all(), table


def test_twin_salts_are_counted_once_in_their_moiety(real_store):
    """Flupentixol's decanoate and dihydrochloride carry the same reports: the moiety's
    cases count them once, its exposure adds both."""
    members = real_store.table("ei_fractions_membres").filter(pl.col("fraction_id") == "fraction-flupentixol")
    assert members["doublon"].sum() == 1
    subs = real_store.table("ei_substances").join(members, on="ei_id")
    head = real_store.table("ei_fractions").filter(pl.col("fraction_id") == "fraction-flupentixol").row(0, named=True)
    if head["n_cas"] is not None:
        assert head["n_cas"] == subs.filter(~pl.col("doublon"))["n_cas"].sum()


def test_who_takes_it_beside_who_reports(real_store):
    """Patient extra: each age class's share of the cases beside its share of the consommants."""
    p = adverse.profile(real_store, "fraction-diclofenac")
    shares = adverse.who_shares(p.age)
    assert set(shares["mesure"]) == set(adverse.SHARE_SERIES) and shares.height == 6
    for measure in adverse.SHARE_SERIES:
        assert shares.filter(pl.col("mesure") == measure)["part"].sum() == pytest.approx(100, abs=0.5)
    # a breakdown with a withheld count gives nothing (its share would place it)
    masked = p.age.with_columns(pl.lit(None, dtype=pl.Int64).alias("n_conso"))
    assert adverse.who_shares(masked).is_empty()


def test_age_and_sex_rates_need_their_own_exposure_to_pass(real_store):
    """An age class with 50 consommants read 46,000 per 100,000: a class's own exposure
    must pass the cell rules, or it gets no rate. A class's exposure sums the five
    years: the bounds are a year's times five (women's 69.7 million consommants of
    amoxicillin over 2014-2018 are not more than the population)."""
    years = 5  # every unit of the source has its five years
    for name in ("ei_age", "ei_sexe", "ei_fractions_age", "ei_fractions_sexe"):
        shown = real_store.table(name).filter(pl.col("taux").is_not_null())
        assert shown.height > 0, name
        assert (shown["n_conso"] >= MIN_EXPOSURE * years).all(), name
        assert (shown["n_cas"] <= shown["n_conso"]).all(), name
        assert (shown["n_conso"] <= FRENCH_POPULATION * years).all(), name
    women = real_store.table("ei_fractions_sexe").filter(
        (pl.col("fraction_id") == "fraction-amoxicilline") & (pl.col("sexe") == "F")
    )
    assert women["n_conso"][0] > FRENCH_POPULATION and women["taux"][0] == pytest.approx(10.34, abs=0.01)
    frame = pl.DataFrame({"n_cas": [5, 5, 50, 5, 5], "n_conso": [50, 2_000, 20, 80_000_000, 4_000]})
    from datamed.core.exposure import implausible_cell

    got = frame.select(implausible_cell(pl.col("n_cas"), pl.col("n_conso")))["n_cas"].to_list()
    assert got == [True, False, True, True, False]
    got = frame.select(implausible_cell(pl.col("n_cas"), pl.col("n_conso"), 5))["n_cas"].to_list()
    assert got == [True, True, True, False, True]  # per year: 400, 16 million, 800 consommants
