"""Data quality and cross-database links (?source=, ?categorie=, ?controle=, ?changement=, ?lien=)."""

import streamlit as st

from datamed.core.text import fr_column, fr_int, fr_number
from datamed.datasets import quality
from datamed.present import charts
from datamed.present.display import md_escape
from datamed.ui import charting, common, routes
from datamed.views import quality as qv
from datamed.views import quality_report as report

store = common.open_page()
st.title("Qualité des données")
st.markdown(
    "À chaque construction, chaque source est contrôlée : types et champs obligatoires, formats des codes (CIS, CIP13 et sa clé, "
    "ATC, codes postaux et INSEE), intégrité entre fichiers, doublons, dates, libellés, plausibilité des colonnes et évolutions "
    "entre instantanés. Les liaisons entre bases sont mesurées plus bas."
    + (" **Données de démonstration : fictives.**" if store.is_demo else "")
)

scores = qv.source_scores(store)
if scores.is_empty():
    st.info("Aucun contrôle de qualité dans les données préparées : reconstruisez-les avec `python -m datamed build`.")
else:
    st.header("Score par source", divider="gray")
    desc = "Score de qualité sur 100 de chaque source, du plus faible au plus élevé"
    charting.show(charts.score_bars, scores, "source", "score", desc, "Score sur 100", 100, alt=desc, key="scores")
    with st.expander("Tableau des scores"):
        common.dataframe(
            qv.scores_display(scores),
            hide_index=True,
            alt="Score de qualité par source, avec le nombre de contrôles réussis et en échec",
        )
    st.caption(quality.SCORE_METHOD_FR)

    st.header("Contrôles", divider="gray")
    c1, c2, c3 = st.columns([2, 2, 1])
    source = common.url_selectbox("Source", qv.sources(store), "source", placeholder="Toutes les sources", container=c1)
    category = common.url_selectbox(
        "Catégorie", qv.categories(store), "categorie", placeholder="Toutes les catégories", container=c2
    )
    show_all = c3.toggle("Afficher aussi les contrôles réussis", key="tous", bind="query-params")
    table = qv.checks(store, source, category, failed_only=not show_all)
    if table.is_empty():
        st.success(
            "Aucun contrôle en échec pour cette sélection." if not show_all else "Aucun contrôle pour cette sélection."
        )
    else:
        common.dataframe(
            qv.checks_display(table),
            hide_index=True,
            column_config={"Lignes": st.column_config.LinkColumn("Lignes", display_text="voir")},
            alt="Contrôles de qualité avec le nombre de lignes vérifiées et en échec",
        )

    labels = qv.check_ids(store)
    asked = common.param("controle")
    if asked and asked not in labels:
        st.warning(f"Contrôle « {md_escape(asked[:80])} » inconnu. Choisissez-en un dans la liste.")
    chosen = common.url_selectbox(
        "Lignes en échec d'un contrôle",
        list(labels),
        "controle",
        format_func=common.OptionLabels(labels),
        placeholder="Choisissez un contrôle",
    )
    if chosen:
        row, fails = qv.failures(store, chosen)
        st.markdown(
            f"**{md_escape(row['description'])}** — {row['statut']} : {fr_int(row['n_echecs'])} ligne(s) en échec sur "
            f"{fr_int(row['n_verifies'])} vérifiée(s) ({row['categorie']}, gravité {row['gravite']}"
            + (f", fichier `{row['fichier']}`" if row["fichier"] else "")
            + ")."
        )
        if fails.is_empty():
            st.success("Aucune ligne en échec.")
        else:
            common.dataframe(
                fails.rename({"cle": "Clé", "ligne": "Ligne du fichier source", "detail": "Détail"}),
                hide_index=True,
                alt="Lignes en échec du contrôle choisi, avec leur clé, leur numéro de ligne et le détail",
            )
            if fails.height >= quality.MAX_FAILURES:
                st.caption(f"Seules les {fr_int(quality.MAX_FAILURES)} premières lignes en échec sont conservées.")

st.header("Évolutions entre instantanés", divider="gray")
summary = qv.evolution_summary(store)
if summary.is_empty():
    st.info("Aucune évolution relevée : un seul instantané par fichier, et pas de construction précédente à comparer.")
else:
    common.dataframe(
        summary.with_columns(fr_column(summary, "nombre", fr_int)).rename(
            {
                "jeu": "Jeu",
                "changement": "Changement",
                "instantane_avant": "Avant",
                "instantane_apres": "Après",
                "nombre": "Nombre",
            }
        ),
        hide_index=True,
        alt="Nombre de changements entre instantanés par jeu et par type",
    )
    change = common.url_selectbox(
        "Détail d'un type de changement",
        summary["changement"].unique(maintain_order=True).to_list(),
        "changement",
        placeholder="Choisissez un changement",
    )
    if change:
        common.dataframe(qv.evolution(store, change), hide_index=True, alt=f"Détail des changements : {change}")

st.header("Exposition des effets indésirables", divider="gray")
alerts = qv.exposure_alerts(store)
if alerts.is_empty():
    st.info("Toutes les années d'exposition publiées passent les règles de plausibilité.")
else:
    counts = qv.exposure_alert_counts(store)
    st.markdown(
        f"{fr_int(alerts.height)} années de substance ou de substance active ont une exposition (nombre de consommants) "
        "qui ne passe pas une règle de plausibilité : elles n'entrent dans aucun taux de notification. "
        + " ; ".join(f"{md_escape(k)} : {fr_int(v)}" for k, v in counts.items())
        + "."
    )
    with st.expander("Liste des années écartées"):
        common.dataframe(
            alerts, hide_index=True, alt="Années d'exposition écartées des taux, avec la règle non respectée"
        )
    st.caption(
        "Règles : au moins 1 000 consommants, pas plus de cas que de consommants, pas plus de consommants que "
        "d'habitants en France, pas d'écart de plus de 5 fois avec la médiane des autres années. Les années dont "
        "l'exposition est masquée ou vide ne sont pas listées (les lignes rejetées les comptent)."
    )

st.header("Liaisons entre bases", divider="gray")
links = qv.links(store)
if links.is_empty():
    st.info("Aucune liaison mesurée dans les données préparées.")
else:
    desc = "Couverture de chaque liaison entre bases, en pourcentage des éléments reliés"
    charting.show(
        charts.score_bars,
        links.with_columns(pl_cov=links["couverture"] * 100),
        "libelle",
        "pl_cov",
        desc,
        "Éléments reliés (%)",
        100,
        alt=desc,
        key="links",
    )
    common.dataframe(
        qv.links_display(links), hide_index=True, alt="Liaisons entre bases : couverture, méthodes et scores"
    )
    names = dict(links.select("lien", "libelle").rows())
    lien = common.url_selectbox(
        "Détail d'une liaison",
        list(names),
        "lien",
        format_func=common.OptionLabels(names),
        placeholder="Choisissez une liaison",
    )
    if lien:
        info = links.filter(links["lien"] == lien).row(0, named=True)
        st.markdown(
            f"**{md_escape(info['libelle'])}** : {fr_int(info['n_relies'])} {info['unite']} reliés sur {fr_int(info['n_elements'])} "
            f"({fr_number(100 * info['couverture'], 1)} %). {md_escape(info['methode'])}"
        )
        bands = qv.link_bands(store, lien)
        if not bands.is_empty() and bands["n"].sum() > 0:
            desc = f"Nombre d'éléments reliés par tranche de score : {info['libelle']}"
            charting.show(
                charts.score_bars,
                bands.with_columns(bands["n"].cast(float)),
                "tranche",
                "n",
                desc,
                "Éléments reliés",
                decimals=0,
                keep_order=True,
                alt=desc,
                key="bands",
            )
            with st.expander("Tableau des tranches de score"):
                common.dataframe(
                    bands.select("tranche", "n").rename({"tranche": "Tranche de score", "n": "Éléments"}),
                    hide_index=True,
                    alt=desc,
                )
        missing = qv.unmatched(store, lien)
        if missing.is_empty():
            st.success("Tous les éléments sont reliés.")
        else:
            st.markdown(
                f"Éléments non reliés ({fr_int(missing.height)}, les plus importants d'abord), avec des suggestions :"
            )
            common.dataframe(
                qv.unmatched_display(missing), hide_index=True, alt="Éléments non reliés avec leurs suggestions"
            )

d1, d2, _ = st.columns([1, 1, 2])
d1.download_button(
    "Rapport (HTML)",
    data=common.WithStore(report.cached_html),
    file_name="rapport_qualite.html",
    mime="text/html",
    icon=":material/download:",
    on_click="ignore",
)
d2.download_button(
    "Rapport (Markdown)",
    data=common.WithStore(report.cached_markdown),
    file_name="rapport_qualite.md",
    mime="text/markdown",
    icon=":material/download:",
    on_click="ignore",
)
common.method(
    "Les contrôles portent sur les données telles que lues (après rejet des lignes illisibles, comptées à part). "
    "Un contrôle vérifie un nombre de lignes et en compte les échecs ; les exemples et les lignes en échec (au plus 500 par "
    "contrôle) gardent la clé et le numéro de ligne du fichier source. "
    + quality.SCORE_METHOD_FR
    + " Une liaison est « exacte » sur code ou libellé identique, « normalisée » après retrait des accents, sels et ordre des mots, "
    "« approchée » par similarité de texte (score de 0 à 100) ; les suggestions des éléments non reliés sont à vérifier à la main. "
    "Un défaut signalé ici n'est pas forcément une erreur de la source : il peut venir d'un instantané incomplet."
)
common.footer(store, routes.QUALITY)
