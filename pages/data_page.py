"""Open-data catalogue (?jeu=<dataset>): datasets, downloads, release history, sources and rejects."""

import streamlit as st

from datamed.core import config, disclosure
from datamed.core.text import fr_int, fr_number
from datamed.datasets import registry
from datamed.present.display import md_escape
from datamed.ui import common, routes
from datamed.views import datainfo

store = common.open_page()
st.title("Données ouvertes")
st.markdown(
    "Les jeux de données publiés par DataMed, tels qu'ils sont diffusés : colonnes publiques seulement, "
    "petits effectifs masqués. Chaque jeu a une adresse stable (`/donnees?jeu=<nom>`) et se télécharge en CSV ou en Parquet."
    + (" **Données de démonstration : fictives.**" if store.is_demo else "")
)

catalogue = datainfo.catalogue_table(store)
names = catalogue["jeu"].to_list()
titles = dict(zip(names, catalogue["Titre"].to_list()))

st.header("Catalogue", divider="gray")
if catalogue.is_empty():
    st.info("Aucun jeu de données publiable dans les données préparées.")
else:
    common.dataframe(
        catalogue.with_columns(("?jeu=" + catalogue["jeu"]).alias("Adresse")),
        hide_index=True,
        column_config={
            "jeu": st.column_config.TextColumn("Nom"),
            "Adresse": st.column_config.LinkColumn("Fiche", display_text="ouvrir"),
            "Qualité": st.column_config.ProgressColumn("Qualité (sur 100)", min_value=0, max_value=100, format="%.0f"),
        },
        alt="Catalogue des jeux de données publiés : nom, titre, description, nombre de lignes, fraîcheur et score de qualité",
    )

asked = common.param("jeu")
if asked and asked not in names:
    st.warning(
        f"Le jeu de données « {md_escape(asked[:60])} » n'existe pas ou n'est pas publié. Choisissez-en un dans la liste."
    )
choice = common.url_selectbox(
    "Fiche d'un jeu de données",
    names,
    "jeu",
    format_func=common.OptionLabels(titles, "{label} ({key})"),
    placeholder="Choisissez un jeu de données",
)
if choice:
    row = catalogue.filter(catalogue["jeu"] == choice).row(0, named=True)
    res = registry.get(choice)
    st.subheader(f"{res.title} — `{choice}`")
    st.markdown(res.description)
    c1, c2, c3 = st.columns(3)
    c1.metric("Lignes", row["Lignes"], border=True)
    c2.metric("Fraîcheur (instantané source)", row["Fraîcheur"], border=True)
    c3.metric(
        "Score de qualité", "—" if row["Qualité"] is None else fr_number(row["Qualité"], 0) + " / 100", border=True
    )
    if res.disclosure:
        st.info(disclosure.explanation_fr(store.manifest.get("disclosure_threshold") or disclosure.DEFAULT_THRESHOLD))
    st.caption(
        "Sources : "
        + ", ".join(res.sources)
        + (f" · clé : {', '.join(res.primary_key)}" if res.primary_key else "")
        + f" · adresse stable : `/{routes.DATA.url_path}?jeu={choice}`"
    )
    common.dataframe(
        datainfo.columns_doc(store, choice),
        hide_index=True,
        alt=f"Colonnes du jeu {choice} avec leur type et leur description",
    )
    d1, d2, _ = st.columns([1, 1, 2])
    d1.download_button(
        "Télécharger en CSV",
        data=common.WithStore(datainfo.export_bytes, choice, "csv"),
        file_name=f"{choice}.csv",
        mime="text/csv",
        icon=":material/download:",
        on_click="ignore",
    )
    d2.download_button(
        "Télécharger en Parquet",
        data=common.WithStore(datainfo.export_bytes, choice, "parquet"),
        file_name=f"{choice}.parquet",
        mime="application/vnd.apache.parquet",
        icon=":material/download:",
        on_click="ignore",
    )
    if choice.startswith("qualite") or choice.startswith("liens"):
        st.page_link(routes.QUALITY.file, label="Voir la page Qualité des données", icon=":material/fact_check:")

protection = datainfo.protection_table(store)
if protection is not None:
    st.header("Secret statistique (pharmacovigilance)", divider="gray")
    seuil = store.manifest.get("disclosure_threshold") or disclosure.DEFAULT_THRESHOLD
    st.markdown(disclosure.explanation_fr(seuil))
    common.dataframe(
        protection,
        hide_index=True,
        alt="Par tableau de pharmacovigilance : cellules, cellules masquées, part des cas masqués et résultat de l'audit",
    )
    audit = store.manifest.get("disclosure_audit") or {}
    st.caption(
        "Les cellules à masquer sont choisies ensemble sur tous les tableaux liés (année, âge, sexe, exposition, total). "
        "Un audit indépendant joue ensuite l'attaquant : pour chaque cellule masquée, il calcule par programmation "
        "linéaire en nombres entiers la plus petite et la plus grande valeur compatibles avec tout ce qui est publié ; "
        "la construction échoue si un petit effectif peut être situé dans un intervalle de largeur inférieure à "
        f"{fr_int(audit.get('min_width', 10))}, ou qui l'isole des valeurs nulles et des grandes valeurs. "
        "La part des cas masqués est donnée pour les substances dont le total est publié (ailleurs, elle révélerait "
        "la somme des totaux masqués)."
        + (
            f" Dernier audit : {fr_int(audit.get('withheld', 0))} cellules masquées vérifiées, aucune exposée."
            if audit
            else ""
        )
    )

st.header("Historique des publications", divider="gray")
history = datainfo.release_history(config.releases_dir())
if history.is_empty():
    st.info(
        "Aucune version des données n'a encore été publiée par ce serveur. Les jeux de données ci-dessus "
        "se téléchargent tels qu'ils sont affichés ; une version publiée y ajoutera un descriptif, des sommes "
        "de contrôle et le journal des modifications.",
        icon=":material/info:",
    )
else:
    common.dataframe(
        history,
        hide_index=True,
        alt="Publications successives : version, date, nombre de jeux et de lignes, jeux modifiés",
    )
    st.caption("Chaque version publiée est conservée telle quelle : elle n'est jamais modifiée ensuite.")

hidden = datainfo.not_published(store)
if hidden:
    with st.expander(f"Jeux préparés mais non publiés ({len(hidden)})"):
        st.markdown("\n".join(f"- `{n}` : {why}" for n, why in hidden))

st.header("Sources et rejets", divider="gray")
info = datainfo.summary(store)
c1, c2, c3, c4 = st.columns(4)
c1.metric("Fichiers sources lus", fr_int(info["n_sources"]), border=True)
c2.metric("Lignes lues", fr_int(info["n_lines"]), border=True)
c3.metric(
    "Lignes rejetées", fr_int(info["n_rejected"]), border=True, help="lignes illisibles, comptées et listées ci-dessous"
)
c4.metric(
    "Valeurs écartées",
    fr_int(info["n_values_rejected"]),
    border=True,
    help="valeurs incohérentes mises de côté, la ligne étant gardée (ex. plus de cas que de consommants)",
)
st.caption(info["sentence"])
if info["missing"]:
    st.info(
        "Sources absentes du dossier brut (les sections correspondantes restent vides) : "
        + ", ".join(f"`{m}`" for m in info["missing"])
    )
common.dataframe(
    datainfo.sources_table(store),
    hide_index=True,
    alt="Fichiers sources avec date, lignes lues, lignes retenues et rejetées",
)

st.subheader("Lignes rejetées et valeurs écartées")
rejects = datainfo.rejects_table(store)
if rejects.is_empty():
    st.success("Aucune ligne rejetée : toutes les lignes non vides des fichiers sources ont été lues.")
else:
    common.dataframe(rejects, hide_index=True, alt="Lignes rejetées avec fichier, numéro de ligne et motif")

columns = datainfo.columns_table(store)
if not columns.is_empty():
    st.subheader("Colonnes inspectées (pharmacovigilance)")
    st.caption("Chaque colonne est examinée avant usage ; une colonne « inutilisable » n'est jamais représentée.")
    common.dataframe(columns, hide_index=True, alt="Verdict sur chaque colonne des fichiers de pharmacovigilance")

if info["ignored"]:
    with st.expander(f"Fichiers non utilisés ({len(info['ignored'])})"):
        st.markdown("\n".join(f"- `{item}`" for item in info["ignored"]))
common.method(
    "Chaque fichier est lu ligne à ligne : encodage détecté (UTF-8, sinon Windows-1252), lignes vides ignorées, "
    "tabulations parasites fusionnées dans le champ texte concerné. Une ligne dont le nombre de champs, un code "
    "(CIS à 8 chiffres, CIP à 7 ou 13 chiffres…), une date ou un prix est illisible est rejetée et listée ici ; "
    "aucune ligne n'est écartée en silence. Pour chaque fichier, l'instantané le plus récent est utilisé, sauf pour "
    "la disponibilité dont tous les instantanés sont gardés pour l'historique.\n\n"
    "Les fichiers téléchargeables sont ceux d'une publication : colonnes internes retirées, valeurs multiples séparées "
    "par « | », effectifs de pharmacovigilance masqués sous le seuil. Le score de qualité d'un jeu est celui de ses "
    "propres contrôles (page Qualité des données). Chaque publication est vérifiée avant diffusion par un contrôle "
    "automatique du secret statistique et valide son schéma Frictionless."
)
common.footer(store, routes.DATA)
