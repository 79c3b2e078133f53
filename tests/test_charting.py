"""Chart specs built once per distinct input (datamed.ui.charting, issue 12)."""

from __future__ import annotations

import polars as pl
from streamlit.elements.vega_charts import _convert_altair_to_vega_lite_spec

from datamed.present import charts
from datamed.ui import charting


def _soc() -> pl.DataFrame:
    return pl.DataFrame({"soc": ["Peau", "Foie", "Cœur"], "part_cas": [40.0, 35.5, 24.5]})


def test_the_cached_spec_is_streamlits_own_conversion():
    charting.SPECS = charting.SpecCache()
    frame = _soc()
    expected = _convert_altair_to_vega_lite_spec(charts.soc_bars(frame, "desc"))
    first = charting.spec(charts.soc_bars, frame, "desc")
    again = charting.spec(charts.soc_bars, frame.clone(), "desc")
    assert first == expected and again == expected
    assert (charting.SPECS.misses, charting.SPECS.hits) == (1, 1)
    first["datasets"].clear()  # a caller changing its copy changes nothing cached
    assert charting.spec(charts.soc_bars, frame, "desc") == expected


def test_other_inputs_give_other_charts():
    charting.SPECS = charting.SpecCache()
    frame = _soc()
    a = charting.spec(charts.soc_bars, frame, "desc")
    b = charting.spec(charts.soc_bars, frame.with_columns(pl.col("part_cas") + 1), "desc")
    c = charting.spec(charts.soc_bars, frame, "autre description")
    d = charting.spec(charts.soc_bars, frame, "desc", limit=2)
    assert len({str(x) for x in (a, b, c, d)}) == 4 and charting.SPECS.misses == 4
    # same rows in another order is another input (a line chart draws them in order)
    assert charting.fingerprint(frame) != charting.fingerprint(frame.reverse())
    assert charting.fingerprint(frame) == charting.fingerprint(frame.clone())


def test_the_cache_is_bounded():
    cache = charting.SpecCache(maxsize=3)
    for i in range(5):
        cache.put((i,), ("{}", {}))
    assert len(cache) == 3 and cache.get((0,)) is None and cache.get((4,)) is not None


def test_the_national_yearly_axis_names_what_it_counts():
    """The national series counts case–substance pairs (a case citing two substances
    counts twice), and the axis and tooltip say so (issue 13)."""
    frame = pl.DataFrame({"annee": [2014, 2015], "n_cas": [120_000, 130_000]})
    text = str(charting.spec(charts.cases_by_year, frame, "desc"))
    assert text.count("Paires cas–substance déclarées") >= 2 and "Cas déclarés" not in text  # axis and tooltip


def test_the_comparison_trend_has_round_log_ticks_and_named_lines():
    """Several substances on a log scale: ticks at round values (not Vega's 1 / 9 / 80),
    and each line named at its last point (issue 13)."""
    from datamed.present import charts

    frame = pl.DataFrame(
        {
            "annee": [2014, 2015, 2014, 2015],
            "substance": ["Anastrozole", "Anastrozole", "Abacavir", "Abacavir"],
            "taux": [3.5, 4.0, 650.0, 700.0],
            "taux_ic_bas": [2.0, 2.5, 600.0, 640.0],
            "taux_ic_haut": [5.0, 6.0, 700.0, 760.0],
        }
    )
    assert charts.log_ticks(frame) == [1.0, 10.0, 100.0, 1000.0]
    assert charts.log_ticks(frame.filter(pl.col("substance") == "Anastrozole")) == [1.0, 2.0, 5.0, 10.0]
    text = str(charting.spec(charts.trend, frame, "desc", series="substance", domain=["Anastrozole", "Abacavir"]))
    assert "'values': [1.0, 10.0, 100.0, 1000.0]" in text
    assert "'text': {'field': 'substance'" in text  # the direct labels
