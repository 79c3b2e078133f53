"""Substance page (?substance=): the specialities that contain it, and its ATC classes."""

import streamlit as st

from datamed.core.labels import sentence_label
from datamed.core.text import fr_plural
from datamed.present import display
from datamed.present.display import md_escape
from datamed.ui import adverse_sections, common, routes, tables
from datamed.views import adverse, catalogue

store = common.open_page()

raw = common.param("substance")
sub = catalogue.substance(store, raw)
if sub is None:
    st.title("Substance introuvable")
    if not raw:
        st.info("Aucune substance n'est indiquée. Recherchez-en une ci-dessus.")
    else:
        st.error(f"Aucune substance ne porte le code « {md_escape(raw[:60])} » dans la base actuelle.")
        common.suggestions(raw, kinds=("substance",))
    common.footer(store, routes.SUBSTANCE)
    st.stop()

st.title(sentence_label(sub.name))
st.caption(f"Substance (code BDPM {sub.code}) · présente dans {fr_plural(sub.specialites.height, 'médicament')}")
if sub.other_names:
    st.markdown("**Autres dénominations dans la base** : " + ", ".join(md_escape(n) for n in sub.other_names))

st.header("Classe(s) ATC", divider="gray")
if not sub.atc:
    st.info("Aucune classe ATC connue pour les médicaments contenant cette substance.")
for entry in sub.atc:
    st.markdown(f"- {display.atc_chain(entry['hierarchy'])} ({fr_plural(entry['n'], 'médicament')})")
if display.has_english(e["hierarchy"] for e in sub.atc):
    st.caption(display.ATC_ENGLISH_NOTE)

st.header("Effets indésirables déclarés", divider="gray")
profiles = adverse.profiles_for_substance(store, sub.code)
if not adverse.has_data(store):
    st.info("Les données de pharmacovigilance ne sont pas disponibles dans ce jeu de données.")
elif not profiles:
    st.info("Aucune donnée de pharmacovigilance (2014-2018) n'est reliée à cette substance.")
elif adverse.linked_codes(store, sub.code) != [sub.code]:
    st.caption(
        "Les déclarations ne nomment pas cette forme, dans laquelle la dose est exprimée (fraction thérapeutique) : "
        "les chiffres ci-dessous sont ceux de la substance active dont elle est la fraction."
    )
for i, p in enumerate(profiles):
    adverse_sections.render_profile(p, key=f"sub_{i}", heading=len(profiles) > 1)

st.header("Médicaments contenant cette substance", divider="gray")
cols = st.columns([3, 2])
text = cols[0].text_input("Filtrer par nom, dosage, forme ou titulaire", key="filtre", bind="query-params")
only_marketed = cols[1].toggle("Seulement les médicaments commercialisés", key="commercialises", bind="query-params")
table = catalogue.filter_specialities(sub.specialites, text=text, only_marketed=only_marketed)
st.caption(
    f"{fr_plural(table.height, 'médicament')} affiché{'s' if table.height > 1 else ''} sur {sub.specialites.height}."
)
tables.speciality_table(table, key="substance_table", alt=f"Médicaments contenant {sub.name}")
common.method(
    "Médicaments dont la composition publiée dans la BDPM (fichier CIS_COMPO) cite cette substance, "
    "comme substance active ou fraction thérapeutique. Les classes ATC viennent de la liste des médicaments "
    "d'intérêt thérapeutique majeur (seul fichier de la BDPM qui publie le code ATC) ou sont déduites pour les "
    "médicaments ayant exactement les mêmes substances actives."
)
common.footer(store, routes.SUBSTANCE)
