"""Ruptures et tensions: the national availability dashboard (?statut=…&mitm=1&atc=N&periode=…)."""

import polars as pl
import streamlit as st

from datamed.core.text import fr_column, fr_date, fr_int, fr_number, fr_plural
from datamed.present import charts
from datamed.ui import charting, common, routes
from datamed.views import shortages

store = common.open_page()
st.title("Ruptures et tensions d'approvisionnement")
if shortages.episodes(store).is_empty():
    st.info("Aucune donnée de disponibilité n'est disponible dans ce jeu de données.")
    common.footer(store, routes.SHORTAGES)
    st.stop()

sit = shortages.situation(store)
st.markdown(f"Situation au **{fr_date(sit.snapshot, long=True)}**, d'après le fichier de disponibilité de l'ANSM.")
archive_note = shortages.archive_text(store)
if archive_note:
    st.caption(archive_note)
c = st.columns(5)
c[0].metric("En rupture de stock", fr_int(sit.ruptures), border=True, help="médicaments (codes CIS) en rupture")
c[1].metric("En tension", fr_int(sit.tensions), border=True, help="médicaments en tension d'approvisionnement")
c[2].metric("Arrêts", fr_int(sit.arrets), border=True, help="arrêts de commercialisation signalés")
c[3].metric(
    "Retours", fr_int(sit.remises), border=True, help="remises à disposition signalées encore présentes dans le fichier"
)
c[4].metric(
    "Part de MITM",
    f"{fr_number(100 * sit.mitm_share, 0)} %" if sit.mitm_share is not None else "—",
    border=True,
    help="part des médicaments d'intérêt thérapeutique majeur parmi ceux en rupture ou en tension",
)
st.caption(
    f"Nombre de médicaments par statut dans le fichier du {fr_date(sit.snapshot)}, sur tout le fichier (sans les "
    "filtres ci-dessous). « Arrêts » et « Retours » comptent les arrêts de commercialisation et les remises à "
    "disposition que ce fichier affiche ; l'onglet Durées ne compte que les fins d'épisode vues d'un fichier à l'autre."
)

with st.container(border=True):
    st.markdown("**Filtres** (gardés dans l'adresse de la page)")
    f1, f2, f3, f4 = st.columns([3, 2, 2, 1.2])
    statuts = common.url_multiselect(
        "Statut", list(shortages.STATUS_KEY_LABELS), "statut", format_func=shortages.STATUS_KEY_LABELS.get, container=f1
    )
    atc_labels = {
        code: label
        for code, label in shortages.episodes(store)
        .select("atc1", "atc1_libelle")
        .unique()
        .drop_nulls()
        .sort("atc1")
        .rows()
    }
    atc = common.url_selectbox(
        "Classe ATC",
        list(atc_labels),
        "atc",
        format_func=common.OptionLabels(atc_labels, "{key} — {label}"),
        placeholder="Toutes",
        container=f2,
    )
    periode = common.url_selectbox(
        "Période",
        list(shortages.PERIODS),
        "periode",
        format_func=shortages.PERIODS.get,
        placeholder="Toute la période",
        container=f3,
    )
    mitm = f4.toggle(
        "MITM", key="mitm", bind="query-params", help="seulement les médicaments d'intérêt thérapeutique majeur"
    )
filters = shortages.Filters.parse(statuts, mitm, atc, periode)
frame = shortages.filter_episodes(store, filters)
st.caption(
    f"{fr_plural(frame['cis'].n_unique(), 'médicament')}, {fr_plural(frame.height, 'épisode')} : "
    + ", ".join(shortages.STATUS_KEY_LABELS[s].lower() for s in filters.statuts)
    + (" · MITM" if filters.mitm else "")
    + (f" · classe {filters.atc1}" if filters.atc1 else "")
    + f" · {shortages.PERIODS[filters.periode].lower()}."
)

# lazy tabs: only the open one runs, and it is kept in the URL (?onglet=…)
tabs = st.tabs(
    ["Répartition", "Chronologie", "Durées", "Épisodes en cours", "Historique 2014-2020", "Risque (expérimental)"],
    key="onglet",
    bind="query-params",
)
if tabs[0].open:
    with tabs[0]:
        for title, column, label in shortages.BREAKDOWNS:
            data = shortages.breakdown(frame, column, label)
            st.markdown(f"**{title}**")
            if data.is_empty():
                st.info("Aucun médicament pour ces filtres.")
                continue
            desc = shortages.breakdown_text(title)
            charting.show(
                charts.count_bars, data, "categorie", "medicaments", desc, "Médicaments", alt=desc, key=f"bd_{column}"
            )
            with st.expander("Tableau"):
                common.dataframe(
                    data.with_columns(fr_column(data, "medicaments", fr_int)).rename(
                        {"categorie": "Catégorie", "medicaments": "Médicaments"}
                    ),
                    hide_index=True,
                    alt=desc,
                )
if tabs[1].open:
    with tabs[1]:
        months = shortages.monthly_starts(frame)
        if months.is_empty():
            st.info("Aucun épisode pour ces filtres.")
        else:
            desc = "Nombre d'épisodes commencés par mois ; en gris, les mois où la date connue est une date de mise à jour."
            charting.show(charts.monthly_bars, months, desc, alt=desc, key="months")
            with st.expander("Tableau"):
                common.dataframe(
                    months.select(
                        pl.col("mois").dt.strftime("%m/%Y").alias("Mois"),
                        fr_column(months, "episodes", fr_int).alias("Épisodes"),
                        pl.when(pl.col("dates_fiables"))
                        .then(pl.lit("début"))
                        .otherwise(pl.lit("mise à jour"))
                        .alias("Date connue"),
                    ),
                    hide_index=True,
                    alt=desc,
                )
if tabs[2].open:
    with tabs[2]:
        all_status = shortages.filter_episodes(
            store, shortages.Filters(list(shortages.STATUS_KEYS), filters.mitm, filters.atc1, filters.periode)
        )
        dur = shortages.durations(all_status)
        if dur is None:
            st.info("Aucune durée mesurable pour ces filtres.")
        else:
            km = dur.km
            st.markdown(
                f"**{fr_plural(dur.episodes, 'épisode de rupture ou de tension suivi', 'épisodes de rupture ou de tension suivis')}** "
                f"(selon les autres filtres) : {fr_plural(dur.returns, 'retour observé', 'retours observés')}, "
                f"{fr_plural(dur.withdrawals, 'arrêt de commercialisation', 'arrêts de commercialisation')}, les autres "
                "encore ouverts ou sortis du fichier sans remise à disposition (données *censurées* à la dernière date "
                "connue). Chaque épisode n'est suivi qu'à partir du premier fichier conservé qui le liste (*entrée "
                f"tardive*) ; {fr_plural(dur.before_archive, 'épisode avait', 'épisodes avaient')} commencé avant le "
                "premier fichier de l'archive. Une remise à disposition dont le début n'a jamais été vu ne donne pas "
                "de durée."
            )
            curve = km.frame(shortages.MIN_AT_RISK)
            if dur.returns + dur.withdrawals == 0 or curve.height < 2:
                st.info(
                    "Aucune fin d'épisode (retour ou arrêt) n'est encore observée après son entrée dans les fichiers "
                    "conservés : les durées ne sont pas estimables. Elles le deviendront à mesure que les instantanés "
                    "quotidiens s'accumulent."
                )
            else:
                if km.median is not None:
                    st.markdown(
                        "Durée médiane d'un épisode, jusqu'au retour ou à l'arrêt : **"
                        + shortages.fmt_median(km.median, km.median_lower, km.median_upper)
                        + "** (intervalle de confiance à 95 %)."
                    )
                else:
                    st.warning(
                        "Moins de la moitié des épisodes ont pris fin dans les données : la durée médiane n'est pas encore "
                        "estimable. Elle le deviendra à mesure que les instantanés quotidiens s'accumulent."
                    )
                desc = (
                    "Courbe de Kaplan-Meier : part des épisodes pas encore terminés (ni retour ni arrêt) en fonction du "
                    "nombre de jours écoulés, avec son intervalle de confiance à 95 % ; arrêtée quand moins de "
                    f"{shortages.MIN_AT_RISK} épisodes restent suivis."
                )
                charting.show(charts.km_curve, curve, desc, alt=desc, key="km")
                inc = dur.incidence.frame(shortages.MIN_AT_RISK)
                st.markdown("**Comment finissent les épisodes : retour ou arrêt**")
                st.caption(
                    "Un médicament arrêté ne revient pas : l'arrêt est un événement concurrent du retour. La méthode "
                    "d'Aalen-Johansen donne, à chaque durée, la part des épisodes terminés par un retour et celle des "
                    "épisodes terminés par un arrêt."
                )
                desc_inc = shortages.incidence_text(dur.incidence)
                charting.show(charts.incidence_curves, inc, desc_inc, alt=desc_inc, key="incidence")
                with st.expander("Tableau"):
                    common.dataframe(
                        km.frame().rename(
                            {
                                "jours": "Jours",
                                "survie": "Part non terminée",
                                "a_risque": "Encore suivis",
                                "evenements": "Fins (retour ou arrêt)",
                                "survie_ic_bas": "IC 95 % bas",
                                "survie_ic_haut": "IC 95 % haut",
                            }
                        ),
                        hide_index=True,
                        alt=desc,
                    )
            if not dur.by_class.is_empty():
                st.markdown("**Durée médiane par classe ATC**")
                by_class = dur.by_class
                common.dataframe(
                    by_class.select(
                        pl.col("classe").alias("Classe ATC"),
                        fr_column(by_class, "episodes", fr_int).alias("Épisodes"),
                        fr_column(by_class, "fins_observees", fr_int).alias("Fins observées"),
                        pl.Series(
                            "Médiane [IC 95 %]",
                            [
                                shortages.fmt_median(m, lo, hi)
                                for m, lo, hi in by_class.select(
                                    "mediane_jours", "mediane_ic_bas", "mediane_ic_haut"
                                ).rows()
                            ],
                        ),
                    ),
                    hide_index=True,
                    alt="Durée médiane d'un épisode (jusqu'au retour ou à l'arrêt) par classe ATC",
                )
if tabs[3].open:
    with tabs[3]:
        text = st.text_input("Rechercher dans les épisodes en cours (nom, CIS, titulaire, ATC)", key="q_episodes")
        cur = shortages.current_table(frame, text)
        st.caption(
            f"{fr_plural(cur.height, 'épisode')}."
            + (" Cliquez sur une ligne pour ouvrir la fiche du médicament." if cur.height else "")
        )
        shown = cur.select(
            pl.col("cis").alias("CIS"),
            pl.col("denomination").fill_null("(absent du catalogue)").alias("Médicament"),
            fr_column(cur, "statut", shortages.status_label).alias("Statut"),
            fr_column(cur, "date_debut", fr_date).fill_null("—").alias("Début"),
            fr_column(cur, "date_mise_a_jour", fr_date).fill_null("—").alias("Mise à jour"),
            pl.when(pl.col("mitm")).then(pl.lit("oui")).otherwise(pl.lit("non")).alias("MITM"),
            pl.col("code_atc").fill_null("—").alias("ATC"),
            pl.col("lien_ansm").alias("Page ANSM"),
        )
        event = common.dataframe(
            shown,
            hide_index=True,
            on_select="rerun",
            selection_mode="single-row",
            key="current_eps",
            column_config={"Page ANSM": st.column_config.LinkColumn(display_text="Page ANSM")},
            alt="Épisodes de rupture et de tension en cours",
        )
        if event.selection.rows:
            st.switch_page(routes.MEDICINE.file, query_params={"cis": shown["CIS"][event.selection.rows[0]]})
if tabs[4].open:
    with tabs[4]:
        hist = shortages.class_history(store)
        if hist.is_empty():
            st.info("L'historique par classe (2014-2020) n'est pas disponible dans ce jeu de données.")
        else:
            data = shortages.class_series(store)
            desc = "Signalements de ruptures par année de 2014 à 2020 pour les six classes ATC les plus concernées."
            charting.show(charts.class_trend, data, desc, alt=desc, key="classes")
            unmapped = hist.filter(pl.col("code_atc").is_null())["libelle_source"].unique().sort().to_list()
            if unmapped:
                st.caption(
                    "Libellés de classe non reliés à un code ATC (comptés à part) : " + ", ".join(unmapped) + "."
                )
            with st.expander("Tableau (toutes les classes)"):
                common.dataframe(
                    hist.select(
                        pl.col("annee").alias("Année"),
                        pl.col("libelle_source").alias("Classe (libellé source)"),
                        pl.col("code_atc").fill_null("non relié").alias("Code ATC"),
                        fr_column(hist, "n_signalements", fr_int).alias("Signalements"),
                        pl.col("methode").fill_null("—").alias("Rapprochement"),
                    ),
                    hide_index=True,
                    alt="Signalements par classe et par année",
                )

if tabs[5].open:
    with tabs[5]:
        view = shortages.risk_view(store)
        st.caption(
            "Estimation expérimentale de DataMed (outil indépendant, pas un outil de l'ANSM) : probabilité qu'un "
            "médicament commence une nouvelle rupture ou tension dans les 6 mois."
        )
        if view is None:
            st.info("Le modèle de risque n'a pas pu être évalué sur ce jeu de données.")
        else:
            st.markdown(view.text)
            if not view.shown:
                st.warning(
                    f"Aucune liste de médicaments à risque n'est affichée : {view.reason}", icon=":material/block:"
                )
            if not view.means.is_empty():
                metric_cols = [
                    fr_column(view.means, m, lambda x: fr_number(x, 3)).alias(label)
                    for m, label in (
                        ("pr_auc", "PR-AUC"),
                        ("recall_at_100", "Rappel@100"),
                        ("roc_auc", "ROC-AUC"),
                        ("brier", "Brier"),
                    )
                ]
                st.markdown("**Indicateurs moyens sur les dates de coupure** (modèle et références)")
                common.dataframe(
                    view.means.select(pl.col("libelle").alias("Classement"), *metric_cols),
                    hide_index=True,
                    alt="Indicateurs moyens du modèle et des références sur les fenêtres de test",
                )
                st.caption("  \n".join(shortages.METRICS_HELP_FR))
                with st.expander("Détail par date de coupure"):
                    pw = view.per_window
                    common.dataframe(
                        pw.select(
                            fr_column(pw, "date_apprentissage", fr_date).alias("Apprentissage au"),
                            fr_column(pw, "date_test", fr_date).alias("Test au"),
                            pl.col("libelle").alias("Classement"),
                            fr_column(pw, "specialites", fr_int).alias("Médicaments"),
                            fr_column(pw, "nouveaux_episodes", fr_int).alias("Avec un nouvel épisode"),
                            fr_column(pw, "evenements", fr_int).alias("Événements distincts"),
                            fr_column(pw, "pr_auc", lambda x: fr_number(x, 3)).alias("PR-AUC"),
                            fr_column(pw, "recall_at_100", lambda x: fr_number(x, 3)).alias("Rappel@100"),
                            fr_column(pw, "brier", lambda x: fr_number(x, 4)).alias("Brier"),
                        ),
                        hide_index=True,
                        alt="Indicateurs du modèle et des références à chaque date de coupure",
                    )
            if not view.reliability.is_empty():
                st.markdown("**Fiabilité des probabilités du modèle** (toutes les fenêtres de test réunies)")
                desc_rel = shortages.reliability_text(view.reliability)
                charting.show(charts.reliability, view.reliability, desc_rel, alt=desc_rel, key="reliability")
                st.caption(
                    "Chaque point est un décile de risque prédit ; le trait vertical est l'intervalle à 95 % de la "
                    "fréquence observée, la diagonale en pointillés la calibration parfaite."
                )
            if view.shown and not view.top.is_empty():
                st.markdown(
                    "**Les 100 médicaments au risque le plus élevé** (cliquez sur une ligne pour ouvrir la fiche)"
                )
                top = view.top.select(
                    pl.col("cis").alias("CIS"),
                    pl.col("denomination").alias("Médicament"),
                    fr_column(view.top, "probabilite", lambda x: f"{fr_number(100 * x, 1)} %").alias("Risque à 6 mois"),
                    pl.concat_str(
                        [pl.col("facteur_1"), pl.col("facteur_2"), pl.col("facteur_3")],
                        separator=" ; ",
                        ignore_nulls=True,
                    ).alias("Principaux facteurs"),
                    pl.when(pl.col("episode_en_cours"))
                    .then(pl.lit("oui"))
                    .otherwise(pl.lit("non"))
                    .alias("Épisode en cours"),
                )
                event = common.dataframe(
                    top,
                    hide_index=True,
                    on_select="rerun",
                    selection_mode="single-row",
                    key="risk_top",
                    alt="Médicaments au risque le plus élevé",
                )
                if event.selection.rows:
                    st.switch_page(routes.MEDICINE.file, query_params={"cis": top["CIS"][event.selection.rows[0]]})

with st.expander("Méthode", icon=":material/info:"):
    st.markdown(
        "**Source** : fichier de disponibilité des médicaments de l'ANSM (CIS_CIP_Dispo_Spec), tous les instantanés "
        "conservés. Un **épisode** est une période d'indisponibilité d'un médicament (ou d'une de ses présentations), "
        "suivie d'instantané en instantané : il prend fin par une remise à disposition ou un arrêt de commercialisation ; "
        "une remise revue plus tard n'en crée pas un nouveau, une nouvelle rupture après une remise en ouvre un nouveau, "
        "et un médicament sorti du fichier sans remise à disposition a une fin inconnue. Selon l'ANSM, pour les signalements antérieurs au 06/10/2023, la "
        "date de début est une date de mise à jour.\n\n"
        "**Durées** : épisodes de rupture ou de tension dont le début est connu. Estimateur de Kaplan-Meier du temps "
        "jusqu'à la fin de l'épisode (retour ou arrêt), avec *entrée tardive* : un épisode commencé avant le premier "
        "fichier conservé qui le liste n'est suivi qu'à partir de ce fichier. Un épisode encore ouvert, ou sorti du "
        "fichier sans remise à disposition, est *censuré* à la dernière date où il a été vu. Le retour et l'arrêt de "
        "commercialisation sont des événements concurrents : leurs parts cumulées sont estimées par la méthode "
        "d'Aalen-Johansen. Une remise à disposition dont le début n'a jamais été vu ne donne pas de durée.\n\n"
        "**Historique 2014-2020** : signalements de ruptures par classe ATC (ANSM, programme EIG DataMed), libellés "
        "reliés aux codes ATC par libellé exact, code ou libellé approché ; les libellés non reliés sont listés.\n\n"
        "**Risque** : modèle de gradient boosting (scikit-learn) dont les variables, à une date de coupure T, ne "
        "viennent que des fichiers de disponibilité datés de T ou avant (l'historique rejoué tel qu'on le connaissait "
        "alors) et de la copie du catalogue la plus récente datée de T ou avant, à défaut du catalogue actuel filtré "
        "par la date d'AMM et celle des présentations (la liste MITM et les classes ATC sont toujours celles "
        "d'aujourd'hui). Il est évalué "
        "à chaque date de coupure que l'archive permet (6 mois pour apprendre, 6 mois pour vérifier) contre des "
        "références simples : (a) un épisode passé du même médicament, (b) des épisodes récents dans le même groupe "
        "générique, la même substance (ATC 5) ou chez le même titulaire. Ses probabilités sont recalibrées (méthode de "
        "Platt, sur des prédictions hors échantillon). La liste n'est affichée que si la borne basse de l'intervalle à "
        "95 % de son gain de PR-AUC sur la meilleure référence est au-dessus de 0. Un médicament classé à risque "
        "n'aura pas forcément de rupture : c'est une aide pour choisir ceux à surveiller.\n\n"
        "Ces données décrivent des signalements à l'ANSM ; elles ne garantissent pas la disponibilité en pharmacie."
    )
common.footer(store, routes.SHORTAGES)
