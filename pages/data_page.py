"""Data sources, prepared datasets and rejected lines, read from the manifest."""

import streamlit as st

from datamed import datainfo
from datamed.text import fr_int
from datamed.ui import common

store = common.open_page()
st.title("Sources et rejets")

info = datainfo.summary(store)
c1, c2, c3, c4 = st.columns(4)
c1.metric("Fichiers sources lus", fr_int(info["n_sources"]), border=True)
c2.metric("Lignes lues", fr_int(info["n_lines"]), border=True)
c3.metric("Lignes rejetées", fr_int(info["n_rejected"]), border=True, help="lignes illisibles, comptées et listées ci-dessous")
c4.metric(
    "Valeurs écartées",
    fr_int(info["n_values_rejected"]),
    border=True,
    help="valeurs incohérentes mises de côté, la ligne étant gardée (ex. plus de cas que de patients exposés)",
)
st.caption(info["sentence"])

st.header("Fichiers sources", divider="gray")
if info["missing"]:
    st.info(
        "Sources absentes du dossier brut (les sections correspondantes restent vides) : "
        + ", ".join(f"`{m}`" for m in info["missing"])
    )
st.dataframe(datainfo.sources_table(store), hide_index=True, alt="Fichiers sources avec date, lignes lues, lignes retenues et rejetées")

st.header("Jeux de données préparés", divider="gray")
st.dataframe(datainfo.datasets_table(store), hide_index=True, alt="Jeux de données préparés avec nombre de lignes et colonnes")

st.header("Lignes rejetées et valeurs écartées", divider="gray")
rejects = datainfo.rejects_table(store)
if rejects.is_empty():
    st.success("Aucune ligne rejetée : toutes les lignes non vides des fichiers sources ont été lues.")
else:
    st.dataframe(rejects, hide_index=True, alt="Lignes rejetées avec fichier, numéro de ligne et motif")

columns = datainfo.columns_table(store)
if not columns.is_empty():
    st.header("Colonnes inspectées (pharmacovigilance)", divider="gray")
    st.caption("Chaque colonne est examinée avant usage ; une colonne « inutilisable » n'est jamais représentée.")
    st.dataframe(columns, hide_index=True, alt="Verdict sur chaque colonne des fichiers de pharmacovigilance")

links = datainfo.link_summary(store)
if links:
    st.header("Liens pharmacovigilance → BDPM", divider="gray")
    st.markdown(
        f"{fr_int(links['linked'])} substances de pharmacovigilance sur {fr_int(links['n'])} "
        f"({links['share']:.0%}) sont reliées à une substance de la BDPM. Méthodes : "
        + ", ".join(f"{m} ({fr_int(n)})" for m, n in links["methods"])
        + "."
    )

holders = datainfo.holder_link_summary(store)
if holders:
    st.header("Liens titulaires → sites industriels", divider="gray")
    st.markdown(
        f"{fr_int(holders['n_titulaires_lies'])} titulaires sur {fr_int(holders['n_titulaires'])} "
        f"({holders['part_titulaires']:.0%}) ont au moins un site connu ; ils détiennent "
        f"{fr_int(holders['n_medicaments_lies'])} des {fr_int(holders['n_medicaments'])} médicaments "
        f"({holders['part_medicaments']:.0%}). Méthodes : "
        + ", ".join(f"{m} ({fr_int(n)})" for m, n in sorted(holders["methodes"].items(), key=lambda kv: -kv[1]))
        + "."
    )

if info["ignored"]:
    with st.expander(f"Fichiers non utilisés ({len(info['ignored'])})"):
        st.markdown("\n".join(f"- `{item}`" for item in info["ignored"]))
common.method(
    "Chaque fichier est lu ligne à ligne : encodage détecté (UTF-8, sinon Windows-1252), lignes vides ignorées, "
    "tabulations parasites fusionnées dans le champ texte concerné. Une ligne dont le nombre de champs, un code "
    "(CIS à 8 chiffres, CIP à 7 ou 13 chiffres…), une date ou un prix est illisible est rejetée et listée ici ; "
    "aucune ligne n'est écartée en silence. Pour chaque fichier, l'instantané le plus récent est utilisé, sauf pour "
    "la disponibilité dont tous les instantanés sont gardés pour l'historique."
)
common.footer(store)
