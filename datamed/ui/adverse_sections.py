"""Rendering of an adverse-effect profile (substance and medicine pages)."""

from __future__ import annotations

import streamlit as st

from datamed.core import disclosure
from datamed.core.text import fr_int
from datamed.present import charts
from datamed.present.display import md_escape
from datamed.ui import charting, common, routes
from datamed.views import adverse

METHOD_FR = (
    "**Données** : cas d'effets indésirables déclarés au réseau français de pharmacovigilance de 2014 à 2018, "
    "agrégés par substance par l'ANSM, et nombre de patients traités (remboursements de l'Assurance maladie, "
    "Open Medic), qui ne couvre pas les médicaments délivrés à l'hôpital.\n\n"
    "**Taux** : cas déclarés pour 100 000 patients traités par an ; intervalle de confiance à 95 % exact (loi de "
    "Poisson). Les années dont le nombre de patients traités est incohérent (moins de patients que de cas) "
    "sont écartées du taux.\n\n"
    "**Classes d'organes** : un cas compte une fois par classe d'organes (SOC MedDRA) touchée ; la somme des parts "
    "peut donc dépasser 100 %. Les croisements sous le seuil de diffusion ne sont pas listés (la source "
    "omettait déjà ceux de moins de 10 cas) : les parts peuvent être légèrement sous-estimées.\n\n"
    "**Disproportionnalité** (professionnels) : ROR et PRR comparent la part d'une classe d'organes pour cette "
    "substance à sa part pour toutes les autres substances, à partir de paires cas-substance agrégées (pas de cas "
    "individuels). Un signal n'est retenu que si les critères d'Evans (PRR ≥ 2, χ² ≥ 4, au moins 3 cas) et "
    "la borne basse de l'information component (IC025 > 0) concordent, pour limiter les fausses alertes dues "
    "aux milliers de comparaisons faites. Un signal est une piste à expertiser, pas une preuve.\n\n"
)


def report_link(key: str) -> None:
    """The way to the official reporting portal (signalement.social-sante.gouv.fr)."""
    st.link_button(
        "Déclarer un effet indésirable",
        adverse.REPORT_URL,
        icon=":material/campaign:",
        help=adverse.REPORT_FR,
        key=f"{key}_declarer",
    )


def render_profile(p: adverse.Profile, key: str, *, heading: bool = True) -> None:
    if heading:
        st.subheader(f"Effets indésirables déclarés : {p.label}", anchor=False)
    st.markdown(md_escape(adverse.summary_fr(p)))
    st.caption(adverse.CAUSALITY_FR)
    report_link(key)
    if p.masked:
        st.info(disclosure.explanation_fr(p.seuil), icon=":material/lock:")
        _method(p)
        return
    c1, c2, c3 = st.columns(3)
    c1.metric("Cas déclarés (2014-2018)", adverse.fmt_count(p.n_cas, p.n_cas_statut, p.seuil), border=True)
    c2.metric("Patients traités par an", fr_int(p.patients_par_an) if p.patients_par_an else "—", border=True)
    c3.metric(
        "Cas pour 100 000 patients par an",
        adverse.fmt_rate(p.taux),
        help="Intervalle de confiance à 95 % : "
        + adverse.fmt_rate(p.taux, p.taux_ic_bas, p.taux_ic_haut).split(" ", 1)[-1]
        if p.taux is not None
        else "Taux non calculable ou masqué",
        border=True,
    )
    tabs = st.tabs(["Par classe d'organes", "Âge et sexe", "Évolution"])
    with tabs[0]:
        if p.soc.is_empty() or p.soc["part_cas"].drop_nulls().is_empty():
            st.info("Aucune classe d'organes n'atteint le seuil de publication pour cette substance.")
        else:
            desc = f"Part des cas par classe d'organes pour {p.label}, de la plus fréquente à la moins fréquente."
            charting.show(charts.soc_bars, p.soc, desc, alt=desc, key=f"{key}_soc")
        with st.expander("Tableau (toutes les classes, avec disproportionnalité)"):
            common.dataframe(adverse.soc_table(p), hide_index=True, alt=f"Cas par classe d'organes pour {p.label}")
            st.markdown(adverse.SIGNAL_FR)
    with tabs[1]:
        cols = st.columns(2)
        for col, frame, label in ((cols[0], p.age, "Classe d'âge"), (cols[1], p.sexe, "Sexe")):
            with col:
                if frame.is_empty() or frame["taux"].drop_nulls().is_empty():
                    st.info(f"{label} : taux non publiables (effectifs sous le seuil).")
                else:
                    desc = f"Cas pour 100 000 patients traités par {label.lower()} pour {p.label}."
                    charting.show(charts.strata_bars, frame, "classe", desc, alt=desc, key=f"{key}_{label}")
                with st.expander("Tableau"):
                    common.dataframe(
                        adverse.strata_table(frame, label, p.seuil), hide_index=True, alt=f"{label} : cas et taux"
                    )
    with tabs[2]:
        if p.annee.is_empty() or p.annee["taux"].drop_nulls().is_empty():
            st.info("Évolution non publiable (effectifs sous le seuil).")
        else:
            desc = f"Taux de cas déclarés pour 100 000 patients traités, par année de 2014 à 2018, pour {p.label}, avec intervalle de confiance."
            charting.show(charts.trend, p.annee, desc, alt=desc, key=f"{key}_trend")
        with st.expander("Tableau"):
            common.dataframe(
                adverse.strata_table(
                    p.annee.with_columns(p.annee["annee"].cast(str).alias("classe")), "Année", p.seuil
                ),
                hide_index=True,
                alt="Cas et taux par année",
            )
    st.page_link(
        routes.COMPARE.file,
        label="Comparer avec d'autres substances",
        query_params={"s": p.ei_id},
        icon=":material/compare_arrows:",
    )
    _method(p)


def _method(p: adverse.Profile) -> None:
    with st.expander("Méthode", icon=":material/info:"):
        names = ", ".join(p.bdpm_names) if p.bdpm_names else "aucune substance de la BDPM"
        st.markdown(
            METHOD_FR
            + f"**Secret** : {disclosure.explanation_fr(p.seuil)}\n\n"
            + f"**Substance** : « {md_escape(p.nom)} » dans les données de pharmacovigilance, reliée à : {md_escape(names)}.\n\n"
            + adverse.SOURCE_FR
        )
