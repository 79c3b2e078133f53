"""Home: search first, key figures, one card per section."""

import streamlit as st

from datamed.core.text import fr_date, fr_int
from datamed.ui import common, routes
from datamed.views import catalogue

store = common.get_store()
if store is None:
    st.stop()

st.title("DataMed")
st.markdown(
    "Explorer les données publiques de sécurité du médicament en France : ce qu'est un médicament, "
    "s'il est disponible, et ce que disent les sources officielles."
)
common.page_header(store)

fig = catalogue.key_figures(store)
st.subheader("Le catalogue en chiffres", anchor=False)
c1, c2, c3, c4 = st.columns(4)
c1.metric(
    "Médicaments (spécialités)",
    fr_int(fig.specialites),
    help=f"dont {fr_int(fig.specialites_commercialisees)} commercialisés (code CIS)",
    border=True,
)
c2.metric(
    "Substances actives",
    fr_int(fig.substances),
    help="substances actives distinctes (code substance de la BDPM)",
    border=True,
)
c3.metric(
    "Présentations",
    fr_int(fig.presentations),
    help=f"boîtes identifiées par un code CIP13, dont {fr_int(fig.presentations_actives)} actives",
    border=True,
)
c4.metric(
    "Ruptures et tensions",
    fr_int(fig.problemes_disponibilite),
    help=(
        f"médicaments en rupture ({fr_int(fig.ruptures)}) ou en tension d'approvisionnement "
        f"({fr_int(fig.tensions)}) dans le fichier ANSM du {fr_date(fig.disponibilite_date)}"
    ),
    border=True,
)
st.caption(
    f"{fr_int(fig.generic_groups)} groupes génériques · {fr_int(fig.mitm)} médicaments d'intérêt thérapeutique "
    f"majeur (MITM) · disponibilité au {fr_date(fig.disponibilite_date, long=True)}"
)
common.method(
    "Comptes calculés sur les fichiers de la Base de données publique des médicaments (BDPM). "
    "Un médicament est une *spécialité* (code CIS) ; une présentation est une boîte (code CIP13). "
    "Les problèmes de disponibilité sont les médicaments ayant au moins une déclaration de rupture de stock "
    "ou de tension d'approvisionnement dans le dernier fichier de disponibilité publié par l'ANSM. "
    "Les lignes illisibles des fichiers sources sont comptées et listées dans la page *Données ouvertes*, "
    "et les contrôles de qualité de chaque source dans la page *Qualité des données*."
)

st.subheader("Explorer", anchor=False)
cols = st.columns(3)
for i, section in enumerate(routes.SECTIONS):
    with cols[i % 3].container(border=True):
        st.markdown(f"**{section.title}**")
        st.write(section.description)
        if section.routes:
            for r in section.routes:
                st.page_link(r.file, label=r.title, icon=r.icon)
        else:
            st.caption("Bientôt disponible")

common.footer(store, routes.HOME)
