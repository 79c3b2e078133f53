"""Search results (?q=)."""

import streamlit as st

from datamed.present.display import md_escape
from datamed.ui import common
from datamed.views import search as search_lib

store = common.open_page(search=False)
st.title("Recherche")

query = common.param("q") or ""
common.search_box(key="page_search", value=query, label="Nom, substance, code CIS / CIP, classe ATC ou laboratoire")

if not query:
    st.info(
        "Tapez le nom d'un médicament (même avec une faute ou sans accent), une substance, un code CIS "
        "(8 chiffres), un code CIP (7 ou 13 chiffres), un code ATC ou le nom d'un laboratoire."
    )
    common.footer(store)
    st.stop()

index = common.get_index()
hits = index.search(query, limit=30)
if len(query) > search_lib.MAX_QUERY_CHARS:
    st.caption(
        f"Votre recherche est longue : seuls les {search_lib.MAX_QUERY_CHARS} premiers caractères sont utilisés."
    )

if not hits:
    st.warning(f"Aucun résultat pour « {md_escape(query[:80])} ».")
    st.markdown(
        "- Vérifiez l'orthographe, ou essayez le nom de la **substance** (ex. *paracétamol*) ;\n"
        "- un code **CIS** a 8 chiffres, un code **CIP** 7 ou 13 chiffres ;\n"
        "- un code **ATC** commence par une lettre (ex. *N02BE01*)."
    )
    common.footer(store)
    st.stop()

st.caption(
    f"{len(hits)} résultat{'s' if len(hits) > 1 else ''} pour « {md_escape(query[:80])} », les plus pertinents d'abord."
)


for hit in hits:
    page, params = common.hit_target(hit)
    with st.container(horizontal=True, vertical_alignment="center", gap="small"):
        st.badge(hit.kind_fr, color="blue" if hit.kind == "speciality" else "gray")
        st.page_link(page, label=md_escape(hit.label), query_params=params)

common.method(
    "La recherche ignore les accents et les majuscules et tolère les fautes de frappe. "
    "Ordre des résultats : code exact (CIS, CIP, ATC), nom exact, début du nom, mots du nom, puis "
    "ressemblance approximative (distance d'édition, bibliothèque *rapidfuzz*)."
)
common.footer(store)
