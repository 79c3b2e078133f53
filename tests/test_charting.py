"""Chart specs built once per distinct input (datamed.ui.charting, issue 12)."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
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


def _axes(node) -> list[dict]:
    """Every axis of a Vega-Lite spec, layers and encodings included."""
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "axis" and isinstance(value, dict):
                found.append(value)
            found.extend(_axes(value))
    elif isinstance(node, list):
        for value in node:
            found.extend(_axes(value))
    return found


def test_every_chart_writes_numbers_and_dates_the_french_way():
    """One French locale for every chart (Vega-Lite config.locale): d3 writes 5 738 and
    21,5, months in French; the axes ask for d3 formats, never English text rewritten."""
    import ast
    import inspect

    locale = charts.FR_LOCALE
    assert locale["number"]["decimal"] == "," and locale["number"]["thousands"] == "\u202f"
    assert locale["time"]["months"][2] == "mars" and locale["time"]["shortDays"][1] == "lun."
    years = pl.DataFrame({"annee": [2014, 2015], "n_cas": [106_440, 5_738]})
    km = pl.DataFrame({"jours": [0, 30], "survie": [1.0, 0.5], "a_risque": [1200, 600]})
    months = pl.DataFrame(
        {"mois": [date(2024, 1, 1), date(2024, 2, 1)], "episodes": [3, 1500], "dates_fiables": [True, False]}
    )
    built = [
        charts.soc_bars(_soc(), "d"),
        charts.count_bars(pl.DataFrame({"pays": ["Inde"], "n": [5738]}), "pays", "n", "d", "t"),
        charts.cases_by_year(years, "d"),
        charts.km_curve(km, "d"),
        charts.monthly_bars(months, "d"),
    ]
    for chart in built:
        spec = _convert_altair_to_vega_lite_spec(chart)
        assert spec["config"]["locale"] == locale and spec["config"]["numberFormat"] == ",~f"
        axes = _axes(spec)
        assert axes and not [a for a in axes if "labelExpr" in a], axes
    # every chart builder of the module ends in _finish, which sets the locale
    tree = ast.parse(inspect.getsource(charts))
    builders = [  # the functions that return a chart (not an axis helper)
        f
        for f in tree.body
        if isinstance(f, ast.FunctionDef) and not f.name.startswith("_") and "Chart" in ast.unparse(f.returns or "")
    ]
    assert len(builders) >= 15
    missing = [f.name for f in builders if "_finish(" not in ast.unparse(f)]
    assert missing == []


@pytest.mark.parametrize(
    "start, end, interval, step, fmt",
    [
        (date(2025, 10, 1), date(2026, 1, 27), "month", 1, "%m/%Y"),
        (date(2024, 9, 25), date(2026, 1, 27), "month", 2, "%m/%Y"),
        (date(2013, 6, 14), date(2026, 1, 27), "year", 2, "%Y"),
    ],
)
def test_timeline_ticks_fall_on_whole_months_so_no_label_repeats(start, end, interval, step, fmt):
    from datamed.present.charts import timeline_axis

    axis = timeline_axis(start, end).to_dict()
    assert axis["format"] == fmt and axis["tickCount"] == {"interval": interval, "step": step}


def test_charts_are_schema_checked_in_the_tests_and_not_on_page_runs(monkeypatch):
    """A chart Vega-Lite would refuse fails in the tests (DATAMED_VALIDATE_CHARTS=1, set by
    conftest); page runs skip the check, and a valid chart's spec is the same either way."""
    import altair as alt
    from altair.utils.schemapi import SchemaValidationError

    def broken(frame: pl.DataFrame) -> alt.Chart:
        return alt.Chart(frame).mark_bar().encode(x=alt.X("soc", type="nominal"), y=alt.Y("part_cas", stack="nope"))

    assert charting.VALIDATE  # the tests check every chart
    charting.SPECS = charting.SpecCache()
    with pytest.raises(SchemaValidationError):
        charting.spec(broken, _soc())
    monkeypatch.setattr(charting, "VALIDATE", False)
    assert charting.spec(broken, _soc())["encoding"]["y"]["stack"] == "nope"  # unchecked
    checked = _convert_altair_to_vega_lite_spec(charts.soc_bars(_soc(), "d"))
    assert charting.spec(charts.soc_bars, _soc(), "d") == checked
