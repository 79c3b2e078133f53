"""Search results (?q=)."""

import streamlit as st

from datamed.core.text import fr_int
from datamed.present import display
from datamed.present.display import md_escape
from datamed.ui import common, routes
from datamed.views import search as search_lib
from datamed.views import shortages

store = common.open_page(search=False)
st.title("Recherche")

query = common.param("q") or ""
common.search_box(key="page_search", value=query, label="Nom, substance, code CIS / CIP, classe ATC ou laboratoire")

if not query:
    st.info(
        "Tapez le nom d'un médicament (même avec une faute ou sans accent), une substance, un code CIS "
        "(8 chiffres), un code CIP (7 ou 13 chiffres), un code ATC ou le nom d'un laboratoire."
    )
    common.footer(store, routes.SEARCH)
    st.stop()

index = common.get_index()
results = index.find(query, limit=30)
hits = results.hits
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
    common.footer(store, routes.SEARCH)
    st.stop()

quoted = f"« {md_escape(query[:80])} »"
if results.total > len(hits):
    total = f"{'plus de ' if results.capped else ''}{fr_int(results.total)}"
    st.caption(
        f"Les {len(hits)} premiers résultats sur {total} pour {quoted}, les plus pertinents d'abord. "
        "Pour voir les autres, précisez la recherche (dosage, forme, laboratoire : « doliprane 500 mg »)."
    )
else:
    st.caption(f"{len(hits)} résultat{'s' if len(hits) > 1 else ''} pour {quoted}, les plus pertinents d'abord.")

status = shortages.status_by_cis(store)
typed_dose = search_lib.typed_doses_fr(query)
for hit in hits:
    page, params = common.hit_target(hit)
    with st.container(horizontal=True, vertical_alignment="center", gap="small"):
        st.badge(hit.kind_fr, color="blue" if hit.kind == "speciality" else "gray")
        st.page_link(page, label=md_escape(hit.label), query_params=params)
        if hit.kind in search_lib.MEDICINE_KINDS:
            if hit.target in status:
                code, partial = status[hit.target]
                label, colour, icon = display.STATUS_BADGES[code]
                st.badge(
                    label + (" (certaines présentations)" if partial else ""), color=colour, icon=f":material/{icon}:"
                )
            else:
                st.badge("Pas de rupture signalée", color="green", icon=":material/check:")
        if hit.tier == search_lib.OTHER_DOSE_TIER:
            # not "another strength": it can be another composition too (DAFALGAN CODEINE for "dafalgan 1g")
            st.badge(
                f"Pas en {typed_dose}" if typed_dose else "Autre dosage", color="gray", icon=":material/swap_horiz:"
            )

common.method(
    "La recherche ignore les accents et les majuscules et tolère les fautes de frappe. "
    "Ordre des résultats : code exact (CIS, CIP, ATC), nom exact, début du nom, mots du nom, puis "
    "ressemblance approximative mot à mot (distance d'édition, bibliothèque *rapidfuzz*) ; à rang égal, les noms "
    "qui contiennent les mots cherchés en entier (une marque avant les substances qui commencent pareil) et les "
    "libellés français avant les anglais. Un dosage tapé (« 1g », « 500 mg ») place d'abord les médicaments de ce "
    "dosage ; les autres suivent, marqués « Pas en 1 g » (un autre dosage, ou une autre composition). La disponibilité est celle de la liste des ruptures "
    "et tensions en cours de l'ANSM : « Pas de rupture signalée » ne garantit pas la présence en pharmacie."
)
common.footer(store, routes.SEARCH)
