"""Pharmacies: the nearest pharmacies of a postal code or a commune (?cp=75011, ?commune=…&dep=…)."""

import polars as pl
import streamlit as st

from datamed.core.text import fr_column, fr_number, fr_plural
from datamed.present import maps
from datamed.present.display import md_escape
from datamed.ui import common, pharmacy_form, routes
from datamed.views import pharmacies as ph

store = common.open_page()
st.title("Trouver une pharmacie")
coverage = ph.coverage(store)
if not coverage.sources:
    st.info("Aucune liste de pharmacies n'est disponible dans ce jeu de données.")
    common.footer(store, routes.PHARMACIES)
    st.stop()

st.info(
    "**Couverture partielle** : ces listes publiques ne contiennent pas toutes les pharmacies de France ; "
    "la plus proche de chez vous peut ne pas y figurer (détails sous les résultats).",
    icon=":material/info:",
)

# the query lives in the URL: ?cp=75011, or ?commune=Montreuil&dep=93
query, dep = pharmacy_form.query_of_url()
departements = ph.departements(store)
names = ph.departement_names(store)
pharmacy_form.show_url_in_form(query, dep, departements)

with st.form("pharmacie_recherche", border=False):
    c1, c2, c3 = st.columns([3, 2, 1], vertical_alignment="bottom")
    c1.text_input(
        "Code postal ou commune",
        key=pharmacy_form.PLACE_KEY,
        max_chars=pharmacy_form.MAX_CHARS,
        placeholder="ex. 75011, Ajaccio, Bourgoin-Jallieu",
    )
    c2.selectbox(
        "Département (facultatif)",
        departements,
        key=pharmacy_form.DEPARTEMENT_KEY,
        index=None,
        format_func=common.OptionLabels(names, "{key} — {label}"),
        placeholder="Tous les départements",
    )
    c3.form_submit_button("Chercher", type="primary", icon=":material/search:", on_click=pharmacy_form.submit)

found = None
if not query and dep:
    if dep in departements:
        st.info(
            "Indiquez aussi un code postal ou une commune : le département sert à choisir entre des communes "
            "de même nom."
        )
        if local := ph.local_statement(store, dep):
            st.caption(local)
    else:
        st.warning("Département inconnu : choisissez-le dans la liste, ou laissez-le vide.")
elif query:
    found = ph.nearest_pharmacies(store, query, n=10, departement=dep)
    if found.message:
        st.warning(found.message)
    for label, commune, code in found.choices[:12]:
        st.page_link(
            routes.PHARMACIES.file,
            label=f"{md_escape(label)} — {md_escape(names.get(code, code))}",
            query_params={"commune": commune, "dep": code},
            icon=":material/location_on:",
        )

if found is not None and found.place is not None and not found.results.is_empty():
    results = found.results
    st.subheader(f"Les pharmacies les plus proches de {md_escape(found.place.label)}", anchor=False)
    if local := ph.local_statement(store, found.place.departement):
        st.caption(local)
    named = results["nom"].is_not_null().any()
    table = results.select(
        pl.col("rang").alias("N°"),
        *([pl.col("nom").fill_null("—").alias("Pharmacie")] if named else []),
        pl.when(pl.col("nombre") > 1)
        .then(pl.col("adresse") + " (" + pl.col("nombre").cast(pl.String) + " pharmacies dans cette rue, sans numéro)")
        .otherwise(pl.col("adresse"))
        .alias("Adresse"),
        fr_column(results, "distance_km", lambda d: f"{fr_number(d, 2 if d < 1 else 1)} km").alias(
            "Distance à vol d'oiseau"
        ),
        pl.col("source").alias("Source"),
    )
    if not named:
        st.caption("Nom de la pharmacie : non publié par ces listes ; chaque pharmacie est désignée par son adresse.")
    common.dataframe(
        table,
        hide_index=True,
        alt=f"Les {fr_plural(results.height, 'pharmacie')} les plus proches de {found.place.label}, "
        "avec l'adresse, la distance et la source",
    )
    desc = (
        f"Carte : le lieu recherché ({found.place.label}, cercle bleu) et les "
        f"{fr_plural(results.height, 'pharmacie')} les plus proches (points verts numérotés comme dans le tableau)."
    )
    st.pydeck_chart(
        maps.pharmacy_deck(store, found.place.label, found.place.lat, found.place.lon, results),
        key="pharmacies_carte",
        alt=desc,
        height=420,
    )
    st.caption(
        "Cercle bleu : le centre du code postal ou de la commune recherchés ; points verts : les pharmacies, "
        "numérotées comme dans le tableau. Fond : contours des départements (pas de plan des rues)."
    )

st.subheader("Couverture des listes", anchor=False)
st.markdown("\n".join(f"- {line}" for line in ph.coverage_statement(coverage)))

common.method(
    "**Lieu** : le code postal ou la commune sont retrouvés hors ligne dans la base officielle des codes postaux de "
    "La Poste (centre de la commune, ou moyenne des communes du code postal).\n\n"
    "**Distance** : à vol d'oiseau (grand cercle), entre ce centre et la position publiée par la source ; "
    "ce n'est pas la distance à parcourir. Pour une adresse sans numéro de rue (toutes celles de SIRENE), la "
    "position est un point de la rue : la distance est approchée.\n\n"
    "**Doublons** : une pharmacie de Santé.fr et une de SIRENE situées dans la même rue à moins de 150 m, sans "
    "autre candidate, sont comptées comme une seule (les deux sources sont alors citées).\n\n"
    "**Sources** : pharmacies inscrites sur Santé.fr pour la vaccination contre la grippe, et établissements du "
    "répertoire SIRENE de l'INSEE (code d'activité 47.73Z) d'Île-de-France. Aucune donnée personnelle n'est "
    "conservée."
)
common.footer(store, routes.PHARMACIES)
