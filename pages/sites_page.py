"""Sites: where medicines and their ingredients are made (?type=…&source=…&operation=…&vue=…)."""

import polars as pl
import streamlit as st

from datamed.core.text import fr_column, fr_int, fr_percent, fr_plural
from datamed.datasets import DS
from datamed.present import charts, maps
from datamed.ui import charting, common, routes
from datamed.views import sites

store = common.open_page()
st.title("Sites pharmaceutiques")
if sites.sites(store).is_empty():
    st.info("Aucune donnée de sites n'est disponible dans ce jeu de données.")
    common.footer(store, routes.SITES)
    st.stop()

st.caption(
    "Vue partielle : grands sites industriels déclarant des émissions (IREP 2015), établissements français enregistrés "
    "auprès de la FDA américaine (2025) et pharmacies d'une partie du territoire (Santé.fr 2025, SIRENE Île-de-France). "
    "Ce n'est pas la liste des établissements autorisés par l'ANSM, et aucun site n'est relié ici à un médicament précis."
)
with st.container(border=True):
    st.markdown("**Filtres** (gardés dans l'adresse de la page)")
    c1, c2, c3, c4 = st.columns([3, 2, 2, 2])
    kinds = common.url_multiselect(
        "Type de site", list(sites.KIND_LABELS), "type", format_func=sites.KIND_LABELS.get, container=c1
    )
    sources = common.url_multiselect("Source", sites.sources_of(store), "source", container=c2, placeholder="Toutes")
    operation = common.url_selectbox(
        "Activité",
        sites.operations_of(store),
        "operation",
        format_func=sites.operation_fr,
        placeholder="Toutes",
        container=c3,
    )
    view = common.url_selectbox(
        "Vue", list(sites.VIEWS), "vue", format_func=sites.VIEWS.get, placeholder="Points", container=c4
    )
filters = sites.SiteFilters.parse(kinds, sources, operation, view, sites.sources_of(store), sites.operations_of(store))
frame = sites.filter_sites(store, filters)
companies = sites.companies(store)
company = common.url_selectbox(
    "Entreprise titulaire de médicaments",
    list(companies),
    "entreprise",
    format_func=common.OptionLabels({c: fr_plural(n, "médicament") for c, n in companies.items()}, "{key} ({label})"),
    placeholder="Toutes les entreprises",
)
if company:
    own = set(sites.holder_sites(store, company)["site_id"].to_list())
    frame = frame.filter(pl.col("site_id").is_in(list(own)))
    st.info(
        f"{company} est titulaire de {fr_plural(companies[company], 'médicament')} du catalogue ; "
        f"{fr_plural(len(own), 'site connu', 'sites connus')} de l'entreprise ou de son groupe "
        "(ce ne sont pas forcément les lieux de fabrication de ses médicaments).",
        icon=":material/business:",
    )
placed = sites.placed(frame)
st.caption(
    f"{fr_plural(frame.height, 'site')} ; {fr_plural(placed.height, 'placé', 'placés')} sur la carte"
    + (f", {fr_int(frame.height - placed.height)} sans position." if frame.height > placed.height else ".")
)

legend = maps.france_legend(store, frame, filters.view)  # the colour scale of the density and département views
if legend is None:  # points: one colour per kind of site
    st.markdown(
        "Légende : "
        + " · ".join(
            f"<span style='color: rgb{maps.KIND_COLOURS[k]}'>●</span> {sites.KIND_LABELS[k]}"
            for k in sites.KIND_LABELS
            if k in filters.kinds
        ),
        unsafe_allow_html=True,
    )
desc = (
    f"Carte de France des sites pharmaceutiques ({sites.VIEWS[filters.view].lower()}), "
    f"{fr_plural(placed.height, 'site')} ; détails dans le tableau sous la carte."
    + (f" {legend.text()}" if legend else "")
)
event = st.pydeck_chart(
    maps.france_deck(store, frame, filters.view, height=560),
    on_select="rerun",
    selection_mode="single-object",
    key="carte",
    alt=desc,
    height=560,
)
if legend is not None:
    st.markdown(legend.html(), unsafe_allow_html=True)
    st.caption(
        "Plus la teinte est foncée, plus il y a de sites ; le nombre exact est dans l'infobulle"
        + (" et l'onglet « Par département »." if filters.view == "departements" else ".")
    )
if store.table(DS.DEPARTEMENTS_GEO).is_empty():
    st.caption("Le fond de carte des départements est absent de ce jeu de données : seuls les sites sont dessinés.")
selected = (event.selection.objects.get("sites") or []) if event is not None and event.selection else []
if selected:
    s = selected[0]
    with st.container(border=True):
        st.markdown(f"**{s.get('n')}** — {s.get('t')}")
        st.markdown(
            f"{s.get('a') or ''}  \n{s.get('c') or ''} ({s.get('d') or ''}) · source : {s.get('s')} · position : {s.get('p')}"
        )

# lazy tabs kept in the URL (?onglet=…): the world map is only built when its tab is open
tabs = st.tabs(["Tableau des sites", "Par département", "Dans le monde (FDA)"], key="onglet", bind="query-params")
if tabs[0].open:
    with tabs[0]:
        common.dataframe(
            sites.site_table(frame),
            hide_index=True,
            alt="Sites affichés sur la carte, avec type, activités, commune et source",
        )
if tabs[1].open:
    with tabs[1]:
        counts = sites.by_departement(frame, store)
        common.dataframe(
            counts.select(
                pl.col("code").alias("Département"),
                pl.col("nom").fill_null("").alias("Nom"),
                fr_column(counts, "sites", fr_int).alias("Sites"),
            ),
            hide_index=True,
            alt="Nombre de sites par département",
        )
if tabs[2].open:
    with tabs[2]:
        world = sites.countries(store)
        if world.is_empty():
            st.info("Les établissements enregistrés auprès de la FDA ne sont pas disponibles dans ce jeu de données.")
        else:
            st.caption(
                "Établissements enregistrés auprès de la FDA américaine déclarant une fabrication de principe actif (2025) : "
                "une indication de la capacité mondiale, **pas** l'origine des principes actifs des médicaments vendus en France."
            )
            deck = maps.world_deck(store)
            if deck is not None:
                desc_map = "Carte du monde : pays colorés selon le nombre d'établissements de fabrication de principe actif enregistrés auprès de la FDA."
                world_legend = maps.world_legend(store)
                st.pydeck_chart(deck, key="monde_carte", alt=f"{desc_map} {world_legend.text()}", height=420)
                st.markdown(world_legend.html(), unsafe_allow_html=True)
                st.caption(
                    "Teinte plus foncée : plus d'établissements (valeurs dans l'infobulle et le tableau). Fond : Natural Earth 1:110m."
                )
            top = world.filter(pl.col("n_api_manufacture") > 0).sort("n_api_manufacture", descending=True).head(15)
            desc_w = "Les 15 pays comptant le plus d'établissements de fabrication de principe actif enregistrés auprès de la FDA."
            charting.show(
                charts.count_bars,
                top,
                "pays",
                "n_api_manufacture",
                desc_w,
                "Établissements (principe actif)",
                alt=desc_w,
                key="monde",
            )
            common.dataframe(
                world.select(
                    pl.col("pays").alias("Pays"),
                    fr_column(world, "n_establishments", fr_int).alias("Établissements"),
                    fr_column(world, "n_api_manufacture", fr_int).alias("Dont principe actif"),
                    fr_column(world, "share_api", fr_percent).alias("Part mondiale principe actif"),
                ),
                hide_index=True,
                alt="Établissements enregistrés auprès de la FDA par pays",
            )

# the pharmacy finder has its own page; an old link (?pres=75012) still leads to its search
old_query = (common.param("pres") or "")[:80]
compact = old_query.replace(" ", "")
st.page_link(
    routes.PHARMACIES.file,
    label="Trouver les pharmacies les plus proches d'un code postal ou d'une commune",
    icon=":material/local_pharmacy:",
    query_params={"cp": compact} if compact.isdigit() else ({"commune": old_query} if old_query else None),
)

with st.expander("Méthode", icon=":material/info:"):
    st.markdown(
        "**Sources** : registre IREP des émissions polluantes (2015, sites dont le code NAF est pharmaceutique), "
        "enregistrements d'établissements de la FDA (DECRS, 2025), pharmacies proposant la vaccination antigrippale "
        "sur Santé.fr (2025, environ 3 800 des 20 000 officines) et pharmacies SIRENE d'Île-de-France.\n\n"
        "**Positions** : coordonnées de la source quand elles sont plausibles ; sinon centre de la commune, retrouvée hors "
        "ligne dans la base officielle des codes postaux de La Poste (code postal et commune, puis commune dans le "
        "département). La précision de chaque position est indiquée : « exacte », « voie (sans numéro) » quand "
        "l'adresse de la source n'a pas de numéro (le point est sur la rue, pas à la porte : c'est le cas des "
        "pharmacies SIRENE) ou « centroïde commune ». Aucune donnée personnelle n'est conservée.\n\n"
        "**Limites** : ces listes ne disent pas quel site fabrique quel médicament."
    )
common.footer(store, routes.SITES)
