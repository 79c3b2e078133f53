"""Altair chart specifications (pure: frames in, charts out).

Every chart carries a text description (ARIA) and direct value labels, so that
colour is never the only signal; the pages add a table alternative. Masked
values (below the disclosure threshold) are simply absent from the charts.
"""

from __future__ import annotations

import math
from datetime import date

import altair as alt
import polars as pl

from datamed.core.text import MONTHS_FR, fr_column

FONT = "Source Sans Pro, sans-serif"
PALETTE = ["#1f5fa8", "#d9822b", "#2e8540", "#8e44ad", "#6b6b6b"]


# Every chart's locale (Vega-Lite ``config.locale``, set by ``_finish``): d3 formats write
# "5 738" and "21,5" (narrow no-break space, decimal comma), dates "mars 2026", "lun."...
FR_LOCALE = {
    "number": {
        "decimal": ",",
        "thousands": "\u202f",
        "grouping": [3],
        "currency": ["", "\u00a0€"],
        "percent": "\u202f%",
    },
    "time": {
        "dateTime": "%A %e %B %Y à %X",
        "date": "%d/%m/%Y",
        "time": "%H:%M:%S",
        "periods": ["", ""],
        "days": ["dimanche", "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi"],
        "shortDays": ["dim.", "lun.", "mar.", "mer.", "jeu.", "ven.", "sam."],
        "months": MONTHS_FR,
        "shortMonths": [
            "janv.",
            "févr.",
            "mars",
            "avr.",
            "mai",
            "juin",
            "juil.",
            "août",
            "sept.",
            "oct.",
            "nov.",
            "déc.",
        ],
    },
}
NUMBER_FORMAT = ",~f"  # any number without a format of its own (axes, tooltips): "5 738", "21,5"


def fr_axis(fmt: str = ",~f", **kwargs) -> alt.Axis:
    """An axis whose numbers are written the French way (1 234,5): a d3 format, which
    the charts' French locale (``FR_LOCALE``) writes with a comma and narrow spaces."""
    return alt.Axis(format=fmt, **kwargs)


def fr_label(x: float | None, decimals: int = 1) -> str | None:
    if x is None:
        return None
    return f"{x:,.{decimals}f}".replace(",", "\u202f").replace(".", ",")


def _labelled(frame: pl.DataFrame, value: str, decimals: int = 1) -> pl.DataFrame:
    return frame.with_columns(
        pl.col(value).round(decimals).alias("valeur"),
        fr_column(frame, value, lambda x: fr_label(x, decimals)).alias("etiquette"),
    )


def _base(frame: pl.DataFrame, description: str) -> alt.Chart:
    return alt.Chart(frame.to_arrow(), description=description)  # Arrow, never pandas (issue 12)


def _finish(chart) -> alt.LayerChart:
    """Top-level chart: always a layer (its description stays with the data),
    without Vega's generated English ARIA texts (the page passes a French alt). Its marks
    are hidden from assistive technologies too: without a text of their own, each mark
    layer would be an unlabelled "graphics-symbol" (axe: svg-img-alt)."""
    if isinstance(chart, alt.Chart):
        chart = alt.layer(chart)
    return chart.configure(aria=False, locale=FR_LOCALE, numberFormat=NUMBER_FORMAT).configure_mark(aria=False)


def _room(data: pl.DataFrame, column: str, factor: float = 1.3) -> alt.Scale:
    """A value scale with room on the right for the value labels."""
    top = data[column].max() if not data.is_empty() else None
    return alt.Scale(domain=[0, float(top) * factor]) if top else alt.Scale()


def _colours(domain: list[str] | None) -> alt.Scale:
    """Same colour for the same substance in every chart of a page."""
    return alt.Scale(domain=domain, range=PALETTE[: len(domain)]) if domain else alt.Scale(range=PALETTE)


def soc_bars(soc: pl.DataFrame, description: str, value: str = "part_cas", limit: int = 15) -> alt.Chart:
    """Horizontal bars: share of cases per organ class, labelled with the value."""
    data = _labelled(soc.filter(pl.col(value).is_not_null()).sort(value, descending=True).head(limit), value)
    base = _base(data, description).encode(
        y=alt.Y("soc:N", sort="-x", title=None, axis=alt.Axis(labelLimit=420, labelOverlap=False)),
        x=alt.X("valeur:Q", title="Part des cas (%)", axis=fr_axis(), scale=_room(data, "valeur")),
        tooltip=[alt.Tooltip("soc:N", title="Classe d'organes"), alt.Tooltip("etiquette:N", title="Part des cas (%)")],
    )
    bars = base.mark_bar(color=PALETTE[0])
    text = base.mark_text(align="left", dx=3, font=FONT).encode(text=alt.Text("etiquette:N"))
    return _finish((bars + text).properties(height=alt.Step(24)))


def strata_bars(
    frame: pl.DataFrame,
    category: str,
    description: str,
    value: str = "taux",
    title: str = "Taux pour 100 000 consommants",
) -> alt.Chart:
    data = _labelled(frame.filter(pl.col(value).is_not_null()), value)
    base = _base(data, description).encode(
        x=alt.X(f"{category}:N", title=None, sort=None, axis=alt.Axis(labelAngle=0, labelLimit=200)),
        y=alt.Y("valeur:Q", title=title, axis=fr_axis(titlePadding=8), scale=_room(data, "valeur", 1.2)),
        tooltip=[alt.Tooltip(f"{category}:N", title="Classe"), alt.Tooltip("etiquette:N", title=title)],
    )
    return _finish(
        (
            base.mark_bar(color=PALETTE[0], width={"band": 0.6})
            + base.mark_text(dy=-6, font=FONT).encode(text=alt.Text("etiquette:N"))
        ).properties(height=260)
    )


def trend(
    frame: pl.DataFrame, description: str, series: str | None = None, domain: list[str] | None = None
) -> alt.Chart:
    """Rate per 100,000 by year with its 95 % CI band; one line per substance if ``series``."""
    data = _labelled(frame.filter(pl.col("taux").is_not_null()).with_columns(pl.col("annee").cast(pl.Int32)), "taux")
    # several substances can differ by orders of magnitude: log scale, ticks at round
    # values (Vega's own log ticks read 1 / 9 / 80 / 700, issue 13)
    y_scale = alt.Scale(type="log") if series else alt.Scale(zero=True)
    y_axis = fr_axis(titlePadding=8, values=log_ticks(data)) if series else fr_axis(titlePadding=8)
    enc = {
        "x": alt.X("annee:O", title="Année", axis=alt.Axis(labelAngle=0)),
        "y": alt.Y("taux:Q", title="Taux pour 100 000 consommants", axis=y_axis, scale=y_scale),
    }
    tooltip = [alt.Tooltip("annee:O", title="Année"), alt.Tooltip("etiquette:N", title="Taux pour 100 000")]
    if series:
        enc["color"] = alt.Color(
            f"{series}:N",
            title="Substance",
            scale=_colours(domain),
            legend=alt.Legend(orient="bottom", labelLimit=400, symbolOpacity=1),
        )
        enc["strokeDash"] = alt.StrokeDash(f"{series}:N", title="Substance")
        tooltip.insert(0, alt.Tooltip(f"{series}:N", title="Substance"))
    base = _base(data, description)
    band = base.mark_area(opacity=0.15).encode(
        x=enc["x"],
        y=alt.Y("taux_ic_bas:Q", title="Taux pour 100 000 consommants", scale=y_scale),
        y2=alt.Y2("taux_ic_haut:Q"),
        **({"color": alt.Color(f"{series}:N", scale=_colours(domain), legend=None)} if series else {}),
    )
    line = base.mark_line(point=True).encode(**enc, tooltip=tooltip)
    if not series:
        return _finish((band + line).properties(height=300))
    # each line named at its last point, besides the legend (colour is never the only signal)
    last = data.sort("annee").group_by(series, maintain_order=True).last()
    names = (
        _base(last, description)
        .mark_text(align="left", dx=8, font=FONT, fontWeight="bold")
        .encode(x=enc["x"], y=alt.Y("taux:Q", scale=y_scale), text=alt.Text(f"{series}:N"), color=enc["color"])
    )
    return _finish((band + line + names).properties(height=300))


def log_ticks(data: pl.DataFrame) -> list[float]:
    """Round ticks for a log axis over the rates and their intervals: powers of ten,
    with 2 and 5 between them when the data spans two decades or less."""
    values = [
        v
        for c in ("taux", "taux_ic_bas", "taux_ic_haut")
        if c in data.columns
        for v in data[c].drop_nulls().to_list()
        if v and v > 0
    ]
    if not values:
        return [1, 10, 100, 1000]
    lo, hi = math.floor(math.log10(min(values))), math.ceil(math.log10(max(values)))
    steps = (1, 2, 5) if hi - lo <= 2 else (1,)
    return [float(f"{m}e{k}") for k in range(lo, hi + 1) for m in steps if float(f"{m}e{k}") <= 10**hi]


PAIRS_TITLE = "Paires cas–substance déclarées"  # a case citing 2 substances counts twice


def cases_by_year(frame: pl.DataFrame, description: str, title: str = PAIRS_TITLE) -> alt.Chart:
    """Bars per year of ``n_cas``; ``title`` names what is counted (national series:
    case–substance pairs, not cases)."""
    data = _labelled(
        frame.filter(pl.col("n_cas").is_not_null()).with_columns(pl.col("annee").cast(pl.Int32)), "n_cas", 0
    )
    base = _base(data, description).encode(
        x=alt.X("annee:O", title="Année", axis=alt.Axis(labelAngle=0)),
        y=alt.Y("n_cas:Q", title=title, axis=fr_axis(",d")),
        tooltip=[alt.Tooltip("annee:O", title="Année"), alt.Tooltip("etiquette:N", title=title)],
    )
    return _finish(
        (
            base.mark_bar(color=PALETTE[0], width={"band": 0.6})
            + base.mark_text(dy=-6, font=FONT).encode(text=alt.Text("etiquette:N"))
        ).properties(height=240)
    )


def grouped_bars(
    frame: pl.DataFrame,
    category: str,
    value: str,
    series: str,
    description: str,
    title: str,
    domain: list[str] | None = None,
    legend_title: str = "Substance",
) -> alt.Chart:
    """Side-by-side bars per category, one per series (a substance, or what is counted):
    colour, order and a label on each bar."""
    data = _labelled(frame.filter(pl.col(value).is_not_null()), value)
    short = pl.col(series).str.split(" (").list.first().str.slice(0, 18)
    data = data.with_columns((pl.col("etiquette") + " · " + short).alias("etiquette_serie"))
    base = _base(data, description).encode(
        y=alt.Y(f"{category}:N", title=None, axis=alt.Axis(labelLimit=420, labelOverlap=False)),
        yOffset=alt.YOffset(f"{series}:N", scale=alt.Scale(domain=domain) if domain else alt.Undefined),
        x=alt.X("valeur:Q", title=title, axis=fr_axis(), scale=_room(data, "valeur", 1.45)),
        color=alt.Color(
            f"{series}:N",
            title=legend_title,
            scale=_colours(domain),
            legend=alt.Legend(orient="bottom", labelLimit=400),
        ),
        tooltip=[
            alt.Tooltip(f"{series}:N", title=legend_title),
            alt.Tooltip(f"{category}:N", title="Catégorie"),
            alt.Tooltip("etiquette:N", title=title),
        ],
    )
    # each bar is labelled with its value and substance: colour is never the only key
    text = base.mark_text(align="left", dx=3, font=FONT, fontSize=10).encode(
        text=alt.Text("etiquette_serie:N"), color=alt.ColorValue("#333")
    )
    return _finish((base.mark_bar() + text).properties(height=alt.Step(16)))


def forest(
    frame: pl.DataFrame, description: str, series: str = "substance", domain: list[str] | None = None
) -> alt.Chart:
    """ROR with 95 % CI per organ class and substance, log scale, reference line at 1."""
    data = frame.filter(pl.col("ror").is_not_null() & (pl.col("ror") > 0) & pl.col("ror_ic_bas").is_not_null())
    data = data.with_columns(
        [fr_column(data, c, lambda x: fr_label(x, 2)).alias(f"{c}_txt") for c in ("ror", "ror_ic_bas", "ror_ic_haut")]
    )
    base = _base(data, description)
    y = alt.Y("soc:N", title=None, axis=alt.Axis(labelLimit=420, labelOverlap=False))
    y_offset = alt.YOffset(f"{series}:N")
    x_scale = alt.Scale(type="log")
    colour = alt.Color(
        f"{series}:N", title="Substance", scale=_colours(domain), legend=alt.Legend(orient="bottom", labelLimit=400)
    )
    shape = alt.Shape(f"{series}:N", title="Substance")
    rule = base.mark_rule().encode(
        y=y,
        yOffset=y_offset,
        x=alt.X(
            "ror_ic_bas:Q",
            scale=x_scale,
            title="ROR (échelle log) et IC 95 %",
            axis=fr_axis("~g", values=[0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100]),
        ),
        x2=alt.X2("ror_ic_haut:Q"),
        color=colour,
    )
    points = base.mark_point(filled=True, size=60).encode(
        y=y,
        yOffset=y_offset,
        x=alt.X("ror:Q", scale=x_scale),
        color=colour,
        shape=shape,
        tooltip=[
            alt.Tooltip(f"{series}:N", title="Substance"),
            alt.Tooltip("soc:N", title="Classe d'organes"),
            alt.Tooltip("ror_txt:N", title="ROR"),
            alt.Tooltip("ror_ic_bas_txt:N", title="IC bas"),
            alt.Tooltip("ror_ic_haut_txt:N", title="IC haut"),
        ],
    )
    one = (
        alt.Chart(pl.DataFrame({"x": [1.0]}).to_arrow())
        .mark_rule(strokeDash=[4, 4], color="#444")
        .encode(x=alt.X("x:Q"))
    )
    return _finish((rule + points + one).properties(height=alt.Step(14)))


# --- shortages -------------------------------------------------------------------------------------


def count_bars(frame: pl.DataFrame, category: str, value: str, description: str, title: str) -> alt.Chart:
    """Horizontal bars of counts per category, labelled."""
    data = _labelled(frame.filter(pl.col(value).is_not_null()), value, 0)
    base = _base(data, description).encode(
        y=alt.Y(f"{category}:N", sort="-x", title=None, axis=alt.Axis(labelLimit=420, labelOverlap=False)),
        x=alt.X("valeur:Q", title=title, axis=fr_axis(",d", tickMinStep=1), scale=_room(data, "valeur", 1.15)),
        tooltip=[alt.Tooltip(f"{category}:N", title="Catégorie"), alt.Tooltip("etiquette:N", title=title)],
    )
    return _finish(
        (
            base.mark_bar(color=PALETTE[0])
            + base.mark_text(align="left", dx=3, font=FONT).encode(text=alt.Text("etiquette:N"))
        ).properties(height=alt.Step(22))
    )


def monthly_bars(frame: pl.DataFrame, description: str) -> alt.Chart:
    """Episode starts per month; months before the reliable-start date in a lighter grey (legend "Date connue")."""
    data = frame.with_columns(
        pl.when(pl.col("dates_fiables"))
        .then(pl.lit("début"))
        .otherwise(pl.lit("mise à jour (avant 10/2023)"))
        .alias("nature")
    )
    return _finish(
        _base(data, description)
        .mark_bar()
        .encode(
            x=alt.X("yearmonth(mois):T", title="Mois de début", axis=alt.Axis(format="%m/%Y")),
            y=alt.Y("episodes:Q", title="Épisodes commencés", axis=fr_axis(",d", tickMinStep=1)),
            color=alt.Color(
                "nature:N",
                title="Date connue",
                scale=alt.Scale(range=[PALETTE[0], "#b0b0b0"]),
                legend=alt.Legend(orient="top", labelLimit=300),
            ),
            opacity=alt.Opacity("nature:N", scale=alt.Scale(range=[1.0, 0.6]), legend=None),
            tooltip=[
                alt.Tooltip("yearmonth(mois):T", title="Mois", format="%m/%Y"),
                alt.Tooltip("episodes:Q", title="Épisodes"),
                alt.Tooltip("nature:N", title="Date"),
            ],
        )
        .properties(height=320)
    )


def km_curve(frame: pl.DataFrame, description: str) -> alt.Chart:
    """Kaplan-Meier step curve: share of episodes not yet ended after t days, with
    its 95 % band when the frame has one (``survie_ic_bas``, ``survie_ic_haut``)."""
    data = frame.with_columns((pl.col("survie") * 100).round(1).alias("pct"))
    has_band = {"survie_ic_bas", "survie_ic_haut"} <= set(frame.columns)
    if has_band:
        data = data.with_columns(
            (pl.col("survie_ic_bas") * 100).round(1).alias("pct_bas"),
            (pl.col("survie_ic_haut") * 100).round(1).alias("pct_haut"),
        )
    x = alt.X("jours:Q", title="Jours depuis le début de l'épisode", axis=fr_axis(",d"))
    y_scale = alt.Scale(domain=[0, 100])
    line = (
        _base(data, description)
        .mark_line(interpolate="step-after", point=True, color=PALETTE[0])
        .encode(
            x=x,
            y=alt.Y("pct:Q", title="Épisodes non terminés (%)", scale=y_scale, axis=fr_axis()),
            tooltip=[
                alt.Tooltip("jours:Q", title="Jours", format=",d"),
                alt.Tooltip("pct:Q", title="Non terminés (%)", format=",.1f"),
                alt.Tooltip("a_risque:Q", title="Encore suivis"),
            ],
        )
    )
    if not has_band:
        return _finish(line.properties(height=260))
    band = (
        _base(data, description)
        .mark_area(interpolate="step-after", opacity=0.15, color=PALETTE[0])
        .encode(x=x, y=alt.Y("pct_bas:Q", scale=y_scale), y2=alt.Y2("pct_haut:Q"))
    )
    return _finish((band + line).properties(height=260))


def incidence_curves(frame: pl.DataFrame, description: str) -> alt.Chart:
    """Cumulative incidence step curves, one per competing end (``cause``), told apart by
    colour *and* dash (colour is never the only signal)."""
    data = frame.with_columns((pl.col("incidence") * 100).round(1).alias("pct"))
    causes = list(dict.fromkeys(data["cause"].to_list()))
    return _finish(
        _base(data, description)
        .mark_line(interpolate="step-after", point=True)
        .encode(
            x=alt.X("jours:Q", title="Jours depuis le début de l'épisode", axis=fr_axis(",d")),
            y=alt.Y("pct:Q", title="Épisodes terminés (%)", scale=alt.Scale(domain=[0, 100]), axis=fr_axis()),
            color=alt.Color("cause:N", title="Fin", scale=_colours(causes), legend=alt.Legend(orient="top")),
            # same title and domain: one legend whose symbols show the dash and shape too
            strokeDash=alt.StrokeDash("cause:N", title="Fin", scale=alt.Scale(domain=causes)),
            shape=alt.Shape("cause:N", title="Fin", scale=alt.Scale(domain=causes)),
            tooltip=[
                alt.Tooltip("cause:N", title="Fin"),
                alt.Tooltip("jours:Q", title="Jours", format=",d"),
                alt.Tooltip("pct:Q", title="Part (%)", format=",.1f"),
                alt.Tooltip("a_risque:Q", title="Encore suivis", format=",d"),
            ],
        )
        .properties(height=260)
    )


def reliability(frame: pl.DataFrame, description: str) -> alt.Chart:
    """Reliability curve of calibrated probabilities: observed rate (with its 95 % interval)
    against the mean predicted probability, decile by decile, beside the diagonal of
    perfect calibration (dashed, and named in the text alternative)."""
    data = frame.with_columns(
        (pl.col("predit_moyen") * 100).round(2).alias("predit"),
        (pl.col("observe") * 100).round(2).alias("obs"),
        (pl.col("observe_bas") * 100).round(2).alias("bas"),
        (pl.col("observe_haut") * 100).round(2).alias("haut"),
    )
    top = float(max(data["haut"].max() or 0.0, data["predit"].max() or 0.0, 1.0))
    scale = alt.Scale(domain=[0, top])
    diagonal = (
        _base(pl.DataFrame({"x": [0.0, top], "y": [0.0, top]}), description)
        .mark_line(strokeDash=[6, 4], color="#767676")
        .encode(x=alt.X("x:Q", scale=scale), y=alt.Y("y:Q", scale=scale))
    )
    x = alt.X("predit:Q", title="Risque prédit moyen (%)", scale=scale, axis=fr_axis())
    bars = (
        _base(data, description)
        .mark_rule(color=PALETTE[0])
        .encode(x=x, y=alt.Y("bas:Q", scale=scale), y2=alt.Y2("haut:Q"))
    )
    points = (
        _base(data, description)
        .mark_point(filled=True, size=60, color=PALETTE[0])
        .encode(
            x=x,
            y=alt.Y("obs:Q", title="Fréquence observée (%)", scale=scale, axis=fr_axis()),
            tooltip=[
                alt.Tooltip("classe:Q", title="Décile"),
                alt.Tooltip("predit:Q", title="Prédit (%)", format=",.1f"),
                alt.Tooltip("obs:Q", title="Observé (%)", format=",.1f"),
                alt.Tooltip("bas:Q", title="Observé, borne basse (%)", format=",.1f"),
                alt.Tooltip("haut:Q", title="Observé, borne haute (%)", format=",.1f"),
                alt.Tooltip("n:Q", title="Médicaments x fenêtres", format=",d"),
            ],
        )
    )
    return _finish((diagonal + bars + points).properties(height=300))


def class_trend(frame: pl.DataFrame, description: str) -> alt.Chart:
    data = frame.with_columns(pl.col("annee").cast(pl.Int32))
    colour = alt.Color("classe:N", title="Classe ATC", legend=alt.Legend(orient="right", labelLimit=260))
    base = _base(data, description).encode(
        x=alt.X("annee:O", title="Année", axis=alt.Axis(labelAngle=0)),
        y=alt.Y("n_signalements:Q", title="Signalements", axis=fr_axis(",d")),
        color=colour,
        shape=alt.Shape("classe:N", title="Classe ATC"),  # merged into the colour legend: shapes shown there
        tooltip=[
            alt.Tooltip("classe:N", title="Classe"),
            alt.Tooltip("annee:O", title="Année"),
            alt.Tooltip("n_signalements:Q", title="Signalements"),
        ],
    )
    return _finish((base.mark_line() + base.mark_point(filled=True, size=50)).properties(height=340))


def timeline_axis(start: date | None, end: date | None, max_ticks: int = 8) -> alt.Axis:
    """A time axis whose ticks fall on whole months (or years), each labelled once: with
    "%m/%Y" labels, Vega's default ticks (weeks, half-months) repeated the same month."""
    months = 1
    if start is not None and end is not None:
        months = max(1, (end.year - start.year) * 12 + end.month - start.month)
    if months > 12 * max_ticks:
        step = -(-months // (12 * max_ticks))
        return alt.Axis(format="%Y", tickCount={"interval": "year", "step": step})
    step = -(-months // max_ticks)
    return alt.Axis(format="%m/%Y", tickCount={"interval": "month", "step": step})


def episode_timeline(frame: pl.DataFrame, end: date, description: str) -> alt.Chart:
    """One bar per episode from its start to its return (or today when open), labelled with the status."""
    data = frame.filter(pl.col("date_debut").is_not_null()).with_columns(
        pl.coalesce("date_fin", pl.lit(end)).alias("fin_affichee"),
        pl.col("statuts").list.join(" → ").alias("parcours"),
        pl.coalesce("cip13", pl.lit("toutes")).alias("presentation"),
    )
    base = _base(data, description).encode(
        y=alt.Y("presentation:N", title="Présentations"),
        tooltip=[
            alt.Tooltip("parcours:N", title="Statuts"),
            alt.Tooltip("date_debut:T", title="Début", format="%d/%m/%Y"),
            alt.Tooltip("fin_affichee:T", title="Fin ou aujourd'hui", format="%d/%m/%Y"),
        ],
    )
    bars = base.mark_bar(height=14, color=PALETTE[1]).encode(
        x=alt.X("date_debut:T", title="Date", axis=timeline_axis(data["date_debut"].min(), end)),
        x2=alt.X2("fin_affichee:T"),
    )
    text = base.mark_text(align="left", dx=4, font=FONT).encode(x=alt.X("fin_affichee:T"), text=alt.Text("parcours:N"))
    return _finish((bars + text).properties(height=alt.Step(28)))


def score_bars(
    frame: pl.DataFrame,
    label: str,
    value: str,
    description: str,
    title: str,
    domain_max: float | None = None,
    *,
    decimals: int = 1,
    keep_order: bool = False,
) -> alt.Chart:
    """Horizontal bars of a score, coverage or count per item, each labelled with its value
    (sorted by value, or in the frame's order with ``keep_order``)."""
    data = _labelled(frame.filter(pl.col(value).is_not_null()), value, decimals)
    scale = alt.Scale(domain=[0, domain_max * 1.15]) if domain_max else _room(data, "valeur")
    ticks = {"values": [round(domain_max * i / 5, 6) for i in range(6)]} if domain_max else {}
    base = _base(data, description).encode(
        y=alt.Y(
            f"{label}:N",
            sort=None if keep_order else "x",
            title=None,
            axis=alt.Axis(labelLimit=420, labelOverlap=False),
        ),
        x=alt.X("valeur:Q", title=title, axis=fr_axis(**ticks), scale=scale),
        tooltip=[alt.Tooltip(f"{label}:N", title=" "), alt.Tooltip("etiquette:N", title=title)],
    )
    bars = base.mark_bar(color=PALETTE[0])
    text = base.mark_text(align="left", dx=3, font=FONT).encode(text=alt.Text("etiquette:N"))
    return _finish((bars + text).properties(height=alt.Step(24)))


LOG_SPAN = 20  # rates more than this many times apart: a log axis, so that none crushes the others


def rate_intervals(frame: pl.DataFrame, category: str, description: str) -> alt.LayerChart:
    """Reporting rates (``taux``) of a few units, each with its 95 % interval as a line
    and its value written at the right; a log axis with round ticks when the rates are
    more than ``LOG_SPAN`` times apart (one outlier would crush the others)."""
    data = _labelled(frame.filter(pl.col("taux").is_not_null()), "taux")
    rates = data["taux"].to_list()
    log = bool(rates) and min(rates) > 0 and max(rates) / min(rates) > LOG_SPAN
    scale = alt.Scale(type="log") if log else alt.Scale(zero=True)
    axis = fr_axis(values=log_ticks(data), titlePadding=8) if log else fr_axis(titlePadding=8)
    title = "Taux de notification pour 100 000 consommants" + (" (échelle logarithmique)" if log else "")
    y = alt.Y(f"{category}:N", title=None, sort=None, axis=alt.Axis(labelLimit=260))
    base = _base(data, description)
    tooltip = [
        alt.Tooltip(f"{category}:N", title="Substance"),
        alt.Tooltip("etiquette:N", title="Taux pour 100 000"),
    ]
    interval = base.mark_rule(strokeWidth=2, color=PALETTE[4]).encode(
        y=y, x=alt.X("taux_ic_bas:Q", title=title, scale=scale, axis=axis), x2=alt.X2("taux_ic_haut:Q")
    )
    point = base.mark_point(filled=True, size=90, color=PALETTE[0], shape="diamond").encode(
        y=y, x=alt.X("taux:Q", scale=scale), tooltip=tooltip
    )
    text = base.mark_text(align="left", dx=8, dy=-10, font=FONT).encode(
        y=y, x=alt.X("taux:Q", scale=scale), text=alt.Text("etiquette:N")
    )
    return _finish((interval + point + text).properties(height=max(160, 56 * data.height)))
