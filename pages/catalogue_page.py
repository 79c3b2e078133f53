"""Catalogue (?atc=, ?titulaire=): browse specialities by ATC class or holder."""

import streamlit as st

from datamed.core.text import fr_plural
from datamed.present.display import md_escape
from datamed.ui import common, routes, tables
from datamed.views import catalogue

store = common.open_page()
st.title("Catalogue des médicaments")

labels = catalogue.atc_labels(store)
atc = (common.param("atc") or "").upper()
holder = common.param("titulaire") or ""

cols = st.columns(2)
atc_options = [c for c in labels if len(c) <= 5]
atc_choice = common.url_selectbox(
    "Classe ATC",
    atc_options,
    "atc",
    format_func=common.OptionLabels({c: labels.get(c, "") for c in atc_options}, "{key} — {label}"),
    placeholder="Toutes les classes",
    container=cols[0],
)
holders = catalogue.holders(store)
holder_choice = common.url_selectbox(
    "Titulaire", holders, "titulaire", placeholder="Tous les titulaires", container=cols[1]
)
if atc and atc not in labels:
    st.warning(f"Classe ATC « {md_escape(atc[:20])} » inconnue : le filtre est ignoré.")
if holder and holder not in holders:
    st.warning(f"Titulaire « {md_escape(holder[:80])} » inconnu : le filtre est ignoré.")

text = st.text_input("Filtrer par nom", key="filtre", bind="query-params")
only_marketed = st.toggle("Seulement les médicaments commercialisés", key="commercialises", bind="query-params")

if not atc_choice and not holder_choice and not text:
    st.info("Choisissez une classe ATC, un titulaire ou tapez un nom pour afficher les médicaments.")
else:
    frame = catalogue.specialities_for(store, atc=atc_choice, holder=holder_choice)
    frame = catalogue.filter_specialities(frame, text=text, only_marketed=only_marketed)
    st.caption(f"{fr_plural(frame.height, 'médicament')}.")
    tables.speciality_table(frame, key="catalogue_table", alt="Médicaments correspondant aux filtres")
common.method(
    "Les classes ATC ne sont publiées par la BDPM que pour les médicaments d'intérêt thérapeutique majeur ; "
    "pour les autres, DataMed les déduit quand les substances actives sont identiques. Un médicament sans code ATC "
    "connu n'apparaît donc pas dans le filtre par classe."
)
common.footer(store, routes.CATALOGUE)
