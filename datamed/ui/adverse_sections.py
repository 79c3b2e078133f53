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
    "agrégés par substance par l'ANSM, et nombre de consommants (Open Medic, Assurance maladie : personnes ayant "
    "eu au moins un remboursement d'un produit contenant la substance, comptées une fois par produit ; ce ne sont "
    "pas des patients distincts). Open Medic ne couvre pas les médicaments délivrés à l'hôpital.\n\n"
    "**Substance active** : les sels, esters et formes d'une même substance (diclofénac sodique, potassique, "
    "épolamine…) sont regroupés sous leur substance active, d'après le lien substance active → fraction "
    "thérapeutique de la BDPM (à défaut, une règle sur le nom) : les cas sont souvent comptés sous un nom et "
    "les consommants sous un autre. Les cas de la substance active sont des paires cas-substance additionnées "
    "sur ses formes.\n\n"
    "**Taux de notification** : cas déclarés pour 100 000 consommants par an, intervalle de confiance à 95 % "
    "exact (loi de Poisson), calculé sur les seules années dont l'exposition est plausible : au moins 1 000 "
    "consommants, pas plus de cas que de consommants, pas plus de consommants que d'habitants en France, pas "
    "d'écart de plus de 5 fois avec les autres années. Les années écartées sont listées sur la page Qualité. "
    "Les comparaisons se font entre substances de la même classe thérapeutique (ATC), dont le taux est fiable.\n\n"
    "**Classes d'organes** : un cas compte une fois par classe d'organes (SOC MedDRA) touchée ; la somme des parts "
    "peut donc dépasser 100 %. Les croisements sous le seuil de diffusion ne sont pas listés (la source "
    "omettait déjà ceux de moins de 10 cas) : chaque nombre de cas par classe est le plus grand des deux totaux "
    "connus (par âge, par sexe), une borne basse.\n\n"
    "**Disproportionnalité** (professionnels) : ROR et PRR comparent la part d'une classe d'organes pour cette "
    "substance à sa part pour les autres substances ayant des données par classe d'organes, à partir de paires "
    "cas-substance agrégées (pas de cas individuels). Un signal n'est retenu que si les critères d'Evans (PRR ≥ 2, "
    "χ² ≥ 4, au moins 3 cas) et la borne basse de l'information component (IC025 > 0) concordent, pour limiter "
    "les fausses alertes dues aux milliers de comparaisons faites. Un signal est une piste à expertiser, pas une "
    "preuve.\n\n"
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
    c2.metric(
        "Consommants par an",
        fr_int(p.consommants_par_an) if p.consommants_par_an else "—",
        help="Personnes ayant eu au moins un remboursement d'un produit contenant la substance, comptées une fois "
        "par produit (Open Medic) : ce ne sont pas des patients distincts.",
        border=True,
    )
    c3.metric(
        "Taux pour 100 000 consommants",
        adverse.fmt_rate(p.taux),
        help="Intervalle de confiance à 95 % : "
        + adverse.fmt_rate(p.taux, p.taux_ic_bas, p.taux_ic_haut).split(" ", 1)[-1]
        if p.taux is not None
        else (p.withheld_rate_fr or "Taux non calculable ou masqué"),
        border=True,
    )
    st.caption(adverse.RATE_CAVEAT_FR)
    if not p.members.is_empty():
        with st.expander(f"Détail par forme de la substance ({len(p.members)} formes regroupées)"):
            st.caption(
                "Les cas et les consommants sont souvent comptés sous des formes différentes (le sel pour l'un, "
                "la base pour l'autre) : aucun taux n'est donné par forme, seulement pour la substance active."
            )
            common.dataframe(adverse.members_table(p), hide_index=True, alt=f"Formes regroupées sous {p.label}")
    tabs = st.tabs(["Par classe d'organes", "Âge et sexe", "Évolution"])
    with tabs[0]:
        if p.soc.is_empty() or p.soc["part_cas"].drop_nulls().is_empty():
            st.info("Aucune classe d'organes n'atteint le seuil de publication pour cette substance.")
        else:
            desc = f"Part des cas par classe d'organes pour {p.label}, de la plus fréquente à la moins fréquente."
            charting.show(charts.soc_bars, p.soc, desc, alt=desc, key=f"{key}_soc")
        with st.expander("Tableau (toutes les classes, avec disproportionnalité)"):
            common.dataframe(adverse.soc_table(p), hide_index=True, alt=f"Cas par classe d'organes pour {p.label}")
            if pooled := adverse.pooled_without_measures_fr([p]):
                st.caption(pooled)
            st.markdown(adverse.SIGNAL_FR)
    with tabs[1]:
        cols = st.columns(2)
        for col, frame, label in ((cols[0], p.age, "Classe d'âge"), (cols[1], p.sexe, "Sexe")):
            with col:
                if frame.is_empty() or frame["taux"].drop_nulls().is_empty():
                    st.info(
                        f"{label} : aucun taux publié (effectifs masqués, ou exposition non plausible une année au moins)."
                    )
                else:
                    desc = f"Taux de notification pour 100 000 consommants par {label.lower()} pour {p.label}."
                    charting.show(charts.strata_bars, frame, "classe", desc, alt=desc, key=f"{key}_{label}")
                shares = adverse.who_shares(frame)
                if not shares.is_empty():
                    desc = (
                        f"Part des cas déclarés et part des consommants par {label.lower()} pour {p.label} : "
                        + " ; ".join(
                            f"{c} {m.lower()} {adverse.fmt_pct(v)}"
                            for c, m, v in shares.select("classe", "mesure", "part").rows()
                        )
                        + "."
                    )
                    charting.show(
                        charts.grouped_bars,
                        shares,
                        "classe",
                        "part",
                        "mesure",
                        desc,
                        "Part (%)",
                        domain=adverse.SHARE_SERIES,
                        legend_title="Ce qui est compté",
                        alt=desc,
                        key=f"{key}_{label}_parts",
                    )
                with st.expander("Tableau"):
                    common.dataframe(
                        adverse.strata_table(frame, label, p.seuil), hide_index=True, alt=f"{label} : cas et taux"
                    )
    with tabs[2]:
        if p.annee.is_empty() or p.annee["taux"].drop_nulls().is_empty():
            st.info("Évolution : aucun taux publié (effectifs masqués, ou exposition non plausible).")
        else:
            desc = f"Taux de notification (cas déclarés pour 100 000 consommants), par année de 2014 à 2018, pour {p.label}, avec intervalle de confiance."
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
        if p.kind == "fraction":
            forms = ", ".join(p.members["nom"].to_list())
            what = f"**Substance active** « {md_escape(p.label)} », regroupant dans les données de pharmacovigilance : {md_escape(forms)} ; reliées à : {md_escape(names)}.\n\n"
        else:
            what = f"**Substance** : « {md_escape(p.nom)} » dans les données de pharmacovigilance, reliée à : {md_escape(names)}.\n\n"
        st.markdown(METHOD_FR + f"**Secret** : {disclosure.explanation_fr(p.seuil)}\n\n" + what + adverse.SOURCE_FR)
