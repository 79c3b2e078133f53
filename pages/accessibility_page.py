"""Accessibility statement (RGAA 4.1 model statement; French public-interest sites must publish one)."""

import streamlit as st

from datamed.core import config
from datamed.core.text import fr_date
from datamed.ui import a11y, common, routes

store = common.open_page(search=False)
st.title("Déclaration d'accessibilité")
st.markdown(
    "DataMed est un outil **indépendant** d'exploration des données publiques de sécurité du médicament : "
    "il n'est ni édité ni validé par l'ANSM ou par une autre administration. Le projet DataMed s'efforce de "
    "rendre l'application accessible à tous, conformément à l'article 47 de la loi n° 2005-102 du "
    "11 février 2005. Cette déclaration s'applique à toutes les pages de l'application DataMed."
)

st.header("État de conformité", divider="gray")
st.markdown(
    f"DataMed est **{a11y.CONFORMITY_FR}** avec le référentiel général d'amélioration de l'accessibilité "
    "(RGAA), version 4.1, en raison des non-conformités énumérées ci-dessous. Aucun audit complet des "
    "106 critères du RGAA n'a encore été réalisé : le taux de conformité n'est pas établi."
)

st.header("Résultats des tests", divider="gray")
st.markdown(
    f"Vérifications faites le {fr_date(a11y.CHECKED_ON)}, puis répétées automatiquement par la suite de tests "
    "du projet à chaque modification :\n"
    "- **tests automatiques** avec le moteur axe-core (règles des WCAG 2.0 et 2.1, niveaux A et AA) sur "
    "chaque page de l'application, une fois son contenu affiché : accueil, recherche, catalogue, fiche d'un "
    "médicament, fiche d'une substance, données ouvertes, qualité des données, comparaison de substances, "
    "vue nationale, ruptures, carte des sites, pharmacies, cette déclaration et la page « introuvable » ;\n"
    "- **vérifications manuelles au clavier** : atteindre le champ de recherche puis le premier résultat "
    "avec la seule touche Tab, l'ouvrir avec Entrée, et voir où se trouve le focus (contour visible des liens) ;\n"
    "- contrastes des textes (4,5:1 au moins), langue de la page déclarée (français), alternative textuelle "
    "de chaque graphique et de chaque carte.\n\n"
    "Technologies utilisées : HTML5, CSS, JavaScript (Streamlit, React), WAI-ARIA, SVG (graphiques Vega-Lite). "
    "Environnement des tests : navigateur Chromium (Debian). Aucun test n'a encore été mené avec un lecteur "
    "d'écran (NVDA, JAWS, VoiceOver)."
)

st.header("Contenus non accessibles", divider="gray")
st.subheader("Non-conformités", anchor=False)
st.markdown(
    "Les premières viennent de Streamlit, le cadriciel qui produit les pages, et ne peuvent pas être "
    "corrigées par le projet DataMed :\n"
    + "".join(f"- {issue.text_fr} (critère {issue.criterion} du RGAA).\n" for issue in a11y.STREAMLIT_EXCEPTIONS)
    + "- Quelques libellés de Streamlit restent en anglais pour les lecteurs d'écran : le lien d'évitement "
    "« Skip to main content », le nom du menu « App pages », les boutons des graphiques, cartes et tableaux "
    "(« Show data », « Fullscreen », « Download as CSV »…) et les liens d'ancre des titres (critère 8.7).\n"
    "- Les cartes interactives (sites, pharmacies) ne se manipulent qu'à la souris ; chacune a une "
    "description textuelle et un tableau qui donne les mêmes informations. Sur la carte des sites, le type "
    "d'établissement ne se lit qu'à la couleur des points (légende à côté de la carte) : il est écrit dans "
    "l'infobulle de chaque point et dans le tableau des sites (critère 3.1).\n"
    "- Les tableaux de données sont dessinés dans un élément *canvas* : leur lecture par un lecteur d'écran "
    "peut être difficile ; les jeux de données se téléchargent en CSV (page *Données ouvertes*)."
)
st.subheader("Dérogations pour charge disproportionnée", anchor=False)
st.markdown("Aucune.")

st.header("Alternatives proposées", divider="gray")
st.markdown(
    "- Chaque graphique a une description textuelle ; la plupart ont, sous eux, un **tableau** avec les mêmes "
    "valeurs (volet « Tableau »). Les séries d'un graphique ne se distinguent jamais par la seule couleur : "
    "étiquettes, formes de points, traits pleins ou pointillés, ou teintes nettement plus claires.\n"
    "- Les statuts de disponibilité (rupture, tension, arrêt, remise à disposition) sont toujours écrits en "
    "toutes lettres, avec une icône, en plus de leur couleur.\n"
    "- Les jeux de données se téléchargent en **CSV** ou en **Parquet** (page *Données ouvertes*).\n"
    "- Chaque page a une adresse stable : une fiche ou une recherche se partage et se rouvre sans manipulation."
)
st.page_link(routes.DATA.file, label="Données ouvertes : jeux de données à télécharger", icon=routes.DATA.icon)

st.header("Retour d'information et contact", divider="gray")
issues = config.issues_url()
tracker = (
    f"[gestionnaire de tickets du projet DataMed]({issues})" if issues else "gestionnaire de tickets du projet DataMed"
)
st.markdown(
    "Si vous n'arrivez pas à accéder à un contenu ou à un service, signalez-le en ouvrant un ticket dans le "
    f"{tracker} : décrivez la page (son adresse), ce que vous cherchiez à faire, et, si possible, votre "
    "navigateur et votre aide technique (lecteur d'écran, agrandisseur…). Le projet vous répondra et vous "
    "indiquera une autre façon d'obtenir l'information."
)

st.header("Voies de recours", divider="gray")
st.markdown(
    "Si vous avez signalé un défaut d'accessibilité qui vous empêche d'accéder à un contenu ou à un service "
    "et que vous n'avez pas obtenu de réponse satisfaisante, vous pouvez saisir le **Défenseur des droits** :\n"
    "- écrire un message au Défenseur des droits, par son formulaire en ligne "
    "([formulaire.defenseurdesdroits.fr](https://formulaire.defenseurdesdroits.fr/)) ;\n"
    "- contacter le délégué du Défenseur des droits dans votre région "
    "([defenseurdesdroits.fr/saisir/delegues](https://www.defenseurdesdroits.fr/saisir/delegues)) ;\n"
    "- envoyer un courrier par la poste (gratuit, ne pas mettre de timbre) : Défenseur des droits, "
    "Libre réponse 71120, 75342 Paris CEDEX 07."
)

common.footer(store, routes.ACCESSIBILITY)
