"""Vue nationale: adverse-effect reports over all substances, 2014-2018."""

import streamlit as st

from datamed.core import disclosure
from datamed.core.text import fr_column, fr_int
from datamed.present import charts
from datamed.ui import adverse_sections, charting, common, routes
from datamed.views import adverse

store = common.open_page()
st.title("Effets indésirables : vue nationale")
nat = adverse.national(store)
if nat is None:
    st.info("Les données de pharmacovigilance ne sont pas disponibles dans ce jeu de données.")
    common.footer(store, routes.NATIONAL)
    st.stop()

st.markdown(
    f"De 2014 à 2018, **{fr_int(nat.total)} paires cas-substance** ont été déclarées en France pour "
    f"**{fr_int(nat.n_substances)} substances**. Un même cas compte pour chacune des substances suspectées."
)
st.caption(adverse.CAUSALITY_FR)
adverse_sections.report_link("page")

tabs = st.tabs(["Par année", "Par classe d'organes", "Âge et sexe", "Substances les plus citées"])
with tabs[0]:
    desc = "Nombre de paires cas-substance déclarées par année, de 2014 à 2018, toutes substances confondues."
    charting.show(charts.cases_by_year, nat.annee, desc, alt=desc, key="nat_year")
    with st.expander("Tableau"):
        common.dataframe(
            nat.annee.select(
                nat.annee["annee"].cast(str).alias("Année"),
                fr_column(nat.annee, "n_cas", fr_int).alias("Cas"),
            ),
            hide_index=True,
            alt="Cas par année",
        )
with tabs[1]:
    desc = "Part des paires cas-substance par classe d'organes (SOC), toutes substances confondues."
    charting.show(charts.soc_bars, nat.soc, desc, limit=27, alt=desc, key="nat_soc")
    with st.expander("Tableau"):
        common.dataframe(
            nat.soc.select(
                nat.soc["soc"].alias("Classe d'organes"),
                fr_column(nat.soc, "n_cas", fr_int).alias("Cas"),
                fr_column(nat.soc, "part_cas", adverse.fmt_pct).alias("Part des cas"),
            ),
            hide_index=True,
            alt="Cas par classe d'organes",
        )
with tabs[2]:
    cols = st.columns(2)
    for col, frame, label in ((cols[0], nat.age, "Classe d'âge"), (cols[1], nat.sexe, "Sexe")):
        with col:
            desc = f"Part des paires cas-substance par {label.lower()}, toutes substances confondues."
            charting.show(
                charts.strata_bars,
                frame,
                "classe",
                desc,
                value="part_cas",
                title="Part des cas (%)",
                alt=desc,
                key=f"nat_{label}",
            )
            with st.expander("Tableau"):
                common.dataframe(
                    frame.select(
                        frame["classe"].alias(label),
                        fr_column(frame, "n_cas", fr_int).alias("Cas"),
                        fr_column(frame, "part_cas", adverse.fmt_pct).alias("Part"),
                    ),
                    hide_index=True,
                    alt=f"Cas par {label.lower()}",
                )
with tabs[3]:
    st.caption("Les 20 substances les plus citées ; cliquez sur une ligne pour comparer son profil.")
    labels = adverse.substance_choices(store)
    top = nat.top.select(
        nat.top["ei_id"].replace_strict(labels, default=nat.top["nom"]).alias("Substance"),
        fr_column(nat.top, "n_cas", fr_int).alias("Cas"),
        fr_column(nat.top, "taux", adverse.fmt_rate).alias("Taux de notification pour 100 000 consommants"),
    )
    event = common.dataframe(
        top,
        hide_index=True,
        on_select="rerun",
        selection_mode="single-row",
        key="nat_top",
        alt="Substances les plus citées",
    )
    if event.selection.rows:
        st.switch_page(routes.COMPARE.file, query_params={"s": nat.top["ei_id"][event.selection.rows[0]]})

with st.expander("Méthode", icon=":material/info:"):
    st.markdown(
        "Sommes, sur toutes les substances, des cas agrégés par l'ANSM (2014-2018). Un cas impliquant plusieurs "
        "substances suspectées est compté pour chacune : ces totaux sont des **paires cas-substance**, pas des "
        "patients. Un cas compte une fois par classe d'organes touchée. Ces sommes additionnent les effectifs "
        "**publiés** : les effectifs masqués n'y sont pas (quelques pour cent des cas), pour qu'aucun ne puisse "
        "être retrouvé par différence.\n\n" + disclosure.explanation_fr(nat.seuil) + "\n\n" + adverse.SOURCE_FR
    )
common.footer(store, routes.NATIONAL)
