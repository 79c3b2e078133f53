"""An address that is no page of DataMed: say so in French, and offer the search and the sections."""

import streamlit as st

from datamed.present.display import md_escape
from datamed.ui import common, fallback, routes

store = common.open_page(search=False)
st.title("Page introuvable")
path = fallback.current_path()
st.warning(
    f"L'adresse « /{md_escape(path[:80])} » ne correspond à aucune page de DataMed. "
    "Elle a peut-être changé, ou contient une faute de frappe.",
    icon=":material/help:",
)
common.search_box(key="not_found_search", label="Rechercher un médicament, une substance ou un code")
st.markdown("**Ou choisissez une rubrique :**")
st.page_link(routes.HOME.file, label="Accueil", icon=routes.HOME.icon)
for section in routes.SECTIONS:
    for route in section.routes:
        st.page_link(route.file, label=f"{section.title} : {route.title}", icon=route.icon)
common.footer(store, routes.NOT_FOUND)
