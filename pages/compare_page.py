"""Comparer (?s=…&s=…): side-by-side adverse-effect profiles of 2 to 5 substances."""

import polars as pl
import streamlit as st

from datamed.core import disclosure
from datamed.core.text import fr_column
from datamed.present import charts
from datamed.present.display import md_escape
from datamed.ui import adverse_sections, charting, common, routes
from datamed.ui.adverse_sections import METHOD_FR
from datamed.views import adverse

store = common.open_page()
st.title("Comparer des profils d'effets indésirables")
st.markdown(
    "Pour les professionnels de santé : part des cas par classe d'organes, taux de notification pour "
    "100 000 consommants, âge, sexe et disproportionnalité (ROR, PRR), de 2014 à 2018. Les sels et formes "
    "d'une substance sont regroupés sous leur substance active."
)
choices = adverse.unit_choices(store)
if not choices:
    st.info("Les données de pharmacovigilance ne sont pas disponibles dans ce jeu de données.")
    common.footer(store, routes.COMPARE)
    st.stop()

requested = adverse.parse_ids(st.query_params.get_all("s"))
units = adverse.as_units(store, requested)
if units != requested:  # a salt's link: its active moiety
    st.query_params["s"] = units
    requested = units
unknown = [i for i in requested if i not in choices]
selected = common.url_picker(
    "Substances comparées (2 à 5)",
    choices,
    "s",
    adverse.UnitSearch(store),
    max_selections=adverse.MAX_COMPARE,
    placeholder="Nom d'une substance, d'un sel, avec ou sans accents : diclofenac, clavulanique…",
)
if unknown:
    st.warning("Substance(s) inconnue(s) ignorée(s) : " + ", ".join(f"« {md_escape(u[:60])} »" for u in unknown))
if len(requested) > adverse.MAX_COMPARE:
    st.warning(f"Au plus {adverse.MAX_COMPARE} substances peuvent être comparées : les suivantes sont ignorées.")
if len(selected) < 2:
    st.info(
        "Choisissez au moins deux substances à comparer. L'adresse de la page garde votre sélection : vous pouvez la partager."
    )
    common.footer(store, routes.COMPARE)
    st.stop()

comp = adverse.compare(store, selected)
seuil = adverse.threshold(store)
st.caption(adverse.CAUSALITY_FR)
adverse_sections.report_link("page")

summary = pl.DataFrame(
    {
        "Substance": [p.label for p in comp.profiles],
        "Cas déclarés": [adverse.fmt_count(p.n_cas, p.n_cas_statut, seuil) for p in comp.profiles],
        "Consommants par an": [
            adverse.fmt_count(round(p.consommants_par_an) if p.consommants_par_an else None, None, seuil)
            for p in comp.profiles
        ],
        "Taux de notification pour 100 000 consommants [IC 95 %]": [
            adverse.fmt_rate(p.taux, p.taux_ic_bas, p.taux_ic_haut) for p in comp.profiles
        ],
    }
)
common.dataframe(summary, hide_index=True, alt="Cas, consommants et taux de notification par substance")
st.caption(adverse.RATE_CAVEAT_FR)
for p in comp.profiles:
    for note in (p.withheld_rate_fr, p.high_rate_fr):
        if note:
            st.caption(f"**{md_escape(p.label)}** : {note}")
if any(p.masked for p in comp.profiles):
    st.info(disclosure.explanation_fr(seuil), icon=":material/lock:")

tabs = st.tabs(["Classes d'organes", "Taux de notification", "Âge et sexe", "Disproportionnalité (ROR)"])
labels = [p.label for p in comp.profiles]
names = ", ".join(labels)
soc = comp.soc
with tabs[0]:
    if soc.is_empty() or soc["part_cas"].drop_nulls().is_empty():
        st.info("Aucune classe d'organes n'atteint le seuil de publication pour ces substances.")
    else:
        top = (
            soc.filter(pl.col("part_cas").is_not_null())
            .sort("part_cas", descending=True)
            .group_by("substance", maintain_order=True)
            .head(8)["soc"]
            .unique()
        )
        data = soc.filter(pl.col("soc").is_in(top.implode()))
        desc = f"Part des cas par classe d'organes, comparée entre {names}."
        charting.show(
            charts.grouped_bars,
            data,
            "soc",
            "part_cas",
            "substance",
            desc,
            "Part des cas (%)",
            domain=labels,
            alt=desc,
            key="cmp_soc",
        )
with tabs[1]:
    rates = comp.rates.filter(pl.col("taux").is_not_null())
    if rates.is_empty():
        st.info("Aucun taux publié pour ces substances (effectifs masqués ou exposition non plausible).")
    else:
        shown = ", ".join(
            f"{label} {adverse.fmt_rate(t, lo, hi)}"
            for label, t, lo, hi in rates.select("substance", "taux", "taux_ic_bas", "taux_ic_haut").rows()
        )
        desc = (
            "Taux de notification (cas déclarés pour 100 000 consommants par an, 2014-2018) et intervalle de "
            f"confiance à 95 % : {shown}."
        )
        charting.show(charts.rate_intervals, rates, "substance", desc, alt=desc, key="cmp_rates")
        missing = [p.label for p in comp.profiles if p.taux is None]
        if missing:
            st.caption(
                "Sans taux fiable, donc absentes du graphique : "
                + ", ".join(md_escape(m) for m in missing)
                + " (la raison est donnée sous le tableau ci-dessus)."
            )
    yearly = pl.concat(
        [p.annee.with_columns(pl.lit(p.label).alias("substance")) for p in comp.profiles if not p.annee.is_empty()],
        how="diagonal_relaxed",
    )
    if not yearly.is_empty() and not yearly["taux"].drop_nulls().is_empty():
        desc = f"Évolution annuelle du taux de notification pour 100 000 consommants : {names}."
        charting.show(charts.trend, yearly, desc, series="substance", domain=labels, alt=desc, key="cmp_trend")
with tabs[2]:
    cols = st.columns(2)
    for col, frame, label in ((cols[0], comp.age, "Classe d'âge"), (cols[1], comp.sexe, "Sexe")):
        with col:
            if frame.is_empty() or frame["taux"].drop_nulls().is_empty():
                st.info(f"{label} : taux non publiables.")
                continue
            desc = f"Taux de notification pour 100 000 consommants par {label.lower()}, comparés entre {names}."
            charting.show(
                charts.grouped_bars,
                frame,
                "classe",
                "taux",
                "substance",
                desc,
                "Taux pour 100 000 consommants",
                domain=labels,
                alt=desc,
                key=f"cmp_{label}",
            )
            with st.expander("Tableau"):
                common.dataframe(
                    frame.select(
                        pl.col("substance").alias("Substance"),
                        pl.col("classe").alias(label),
                        fr_column(frame, "taux", adverse.fmt_rate).alias("Taux de notification pour 100 000"),
                    ),
                    hide_index=True,
                    alt=f"Taux par {label.lower()}",
                )
with tabs[3]:
    if soc.is_empty() or soc["ror"].drop_nulls().is_empty():
        st.info("Disproportionnalité non publiable pour ces substances.")
    else:
        desc = (
            f"Diagramme en forêt : rapport de cotes de déclaration (ROR) et intervalle de confiance à 95 % par classe "
            f"d'organes pour {names} ; une valeur au-dessus de 1 signifie une classe plus souvent citée qu'avec les autres substances."
        )
        charting.show(charts.forest, soc, desc, domain=labels, alt=desc, key="cmp_forest")
        st.caption(
            "Ligne pointillée : ROR = 1 (pas de différence avec l'ensemble des autres substances). Échelle logarithmique."
        )
    if pooled := adverse.pooled_without_measures_fr(comp.profiles):
        st.caption(pooled)
    st.markdown(adverse.SIGNAL_FR)

st.subheader("Tableau détaillé", anchor=False)
table = adverse.comparison_table(comp, seuil)
common.dataframe(table, hide_index=True, alt="Comparaison détaillée par substance et classe d'organes")
st.download_button(
    "Télécharger le tableau (CSV, valeurs masquées)",
    adverse.comparison_csv(comp, seuil),
    file_name=adverse.comparison_filename(comp),
    mime="text/csv",
    icon=":material/download:",
)


with st.expander("Méthode", icon=":material/info:"):
    st.markdown(METHOD_FR + disclosure.explanation_fr(seuil) + "\n\n" + adverse.SOURCE_FR)
common.footer(store, routes.COMPARE)
