"""Shared page furniture: cached data access, header, search box, footer."""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
from datetime import date
from pathlib import Path

import polars as pl
import streamlit as st

from datamed.core import config
from datamed.core.text import fr_date, fr_snapshot
from datamed.datasets import DS, MANIFEST
from datamed.present.display import md_escape
from datamed.store import DataUnavailable, Store
from datamed.ui import a11y, routes, runlog
from datamed.views.search import MEDICINE_KINDS, SearchIndex

DEMO_BANNER = (
    "**Données de démonstration.** Les médicaments, marques, laboratoires et chiffres affichés sont "
    "synthétiques (noms de marque fictifs) : ils servent à essayer l'application, pas à s'informer. "
    "Voir le README pour passer aux données officielles."
)


MAINTENANCE = (
    "**DataMed est momentanément indisponible** : les données préparées ne sont pas accessibles "
    "sur ce serveur (mise à jour ou maintenance en cours). Réessayez dans quelques minutes."
)


# keyed on the data version (the version folder behind the `prepared` link, and its
# manifest's time stamp for a plain folder); after a refresh the new
# version is opened and, beyond the last two (the one pages are still reading while
# the new one loads), older ones are evicted: memory stays flat over refreshes
CACHED_VERSIONS = 2


def _release_store(store: Store) -> None:
    # an evicted version may still be referenced (a page run in flight, a session's
    # last run): its frames go now, not when the last reference does; and the memory
    # freed goes back to the system (glibc keeps freed pages otherwise)
    store.release()
    gc.collect()
    trim_memory()


def trim_memory() -> bool:
    """Return the C heap's free pages to the system (glibc's ``malloc_trim``); False
    where there is no glibc."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return bool(libc.malloc_trim(0))
    except (OSError, AttributeError):
        return False


@st.cache_resource(show_spinner="Chargement des données…", max_entries=CACHED_VERSIONS, on_release=_release_store)
def _open_store(prepared: str, stamp: float) -> Store:
    store = Store(Path(prepared))
    runlog.event("data_opened", version=store.folder.name, built_at=store.manifest.get("built_at"))
    return store


@st.cache_resource(show_spinner="Construction de l'index de recherche…", max_entries=CACHED_VERSIONS)
def _open_index(prepared: str, stamp: float) -> SearchIndex:
    return SearchIndex.from_store(_open_store(prepared, stamp))


def _key() -> tuple[str, float]:
    version = config.prepared_dir().resolve()
    manifest = version / MANIFEST
    return str(version), manifest.stat().st_mtime if manifest.exists() else 0.0


def get_store() -> Store | None:
    """The prepared data; None (with a French maintenance message) when there is none.

    The app never builds: ``python3 -m datamed serve`` prepares the demo data before
    the server starts, and the pipeline (``build``, ``refresh``) writes production data."""
    try:
        return _open_store(*_key())
    except (DataUnavailable, OSError, ValueError):
        st.error(MAINTENANCE, icon=":material/construction:")
        return None


def get_index() -> SearchIndex:
    return _open_index(*_key())


# Widgets keep their callbacks (format_func, on_change, a download's data function) in
# the session's widget state for the life of the session. A lambda written in a page
# script closes over the page's globals (the store, the search index, its frames): one
# session idle on a page kept a whole data version alive after a refresh (issue 12).
# Pages pass these small objects instead, which hold only what they need.


class OptionLabels:
    """``format_func`` for a widget: ``template`` filled with the option (``key``) and
    its label from ``labels`` (``label``; the option itself when it has none)."""

    def __init__(self, labels: dict, template: str = "{label}"):
        self.labels = dict(labels)
        self.template = template

    def __call__(self, key) -> str:
        return self.template.format(key=key, label=self.labels.get(key, key))


class WithStore:
    """A download's deferred ``data``: ``function(store, *args)`` run on click, on the
    data version the page showed (by its key, not by holding the store)."""

    def __init__(self, function, *args):
        self.function, self.args, self.version = function, args, _key()

    def __call__(self):
        return self.function(_open_store(*self.version), *self.args)


def open_page(*, search: bool = True) -> Store:
    """Every page starts here: the data (or a French error and stop), then the header."""
    store = get_store()
    if store is None:
        st.stop()
    page_header(store, search=search)
    return store


def hit_target(hit) -> tuple[str, dict[str, str]]:
    """The page (file) and query parameters a search hit opens."""
    if hit.kind in MEDICINE_KINDS:
        return routes.MEDICINE.file, {"cis": hit.target}
    if hit.kind == "substance":
        return routes.SUBSTANCE.file, {"substance": hit.target}
    if hit.kind == "atc":
        return routes.CATALOGUE.file, {"atc": hit.target}
    return routes.CATALOGUE.file, {"titulaire": hit.target}


def suggestions(query: str, kinds: tuple[str, ...]) -> None:
    """'Vouliez-vous dire…' links for an unknown code, when the search finds any."""
    index = get_index()
    hits = index.search(query[:60], limit=6, kinds=kinds)
    if not hits and query[:5].isdigit():
        hits = index.search(query[:5], limit=6, kinds=kinds)
    if hits:
        st.markdown("**Vouliez-vous dire :**")
        for hit in hits:
            page, params = hit_target(hit)
            st.page_link(page, label=md_escape(hit.label), query_params=params)


def page_header(store: Store, *, search: bool = True) -> None:
    """Demo banner and the global search box, on every page."""
    if store.is_demo:
        st.warning(DEMO_BANNER, icon=":material/science:")
    if search:
        search_box(key="global_search")


def search_box(key: str, value: str = "", label: str = "Rechercher un médicament") -> None:
    with st.form(key=f"form_{key}", border=False, enter_to_submit=True):
        cols = st.columns([6, 1], vertical_alignment="bottom")
        query = cols[0].text_input(
            label,
            value=value,
            key=key,
            placeholder="Nom de marque, substance, code CIS / CIP, classe ATC, laboratoire…",
            max_chars=200,
        )
        submitted = cols[1].form_submit_button("Rechercher", type="primary", use_container_width=True)
    if submitted:
        query = (query or "").strip()
        if query:
            st.switch_page(routes.SEARCH.file, query_params={"q": query})
        else:
            st.info("Saisissez un nom de médicament, une substance ou un code.")


#: how each source family is named in a page footer (the BDPM's text is built from its dates)
SOURCE_LABELS_FR = {
    "ATC": "classification ATC de l'OMS (WHOCC) et libellés français du projet DataMed de l'ANSM",
    "ANSM pharmacovigilance": "ANSM – cas d'effets indésirables notifiés à la pharmacovigilance, 2014-2018 "
    "(programme EIG DataMed)",
    "ANSM DataMed": "ANSM – signalements de ruptures par classe ATC, 2014-2020 (programme EIG DataMed)",
    "IREP": "Géorisques – registre des émissions polluantes (IREP)",
    "FDA DECRS": "U.S. FDA – établissements pharmaceutiques enregistrés (DECRS)",
    "Santé.fr": "Santé.fr – pharmacies",
    "SIRENE": "INSEE – répertoire SIRENE (pharmacies d'Île-de-France)",
    "La Poste": "La Poste – base officielle des codes postaux",
    "IGN / INSEE (france-geojson)": "IGN / INSEE – contours des départements",
    "Natural Earth (paquet pyogrio)": "Natural Earth – contours des pays",
}


def footer(store: Store, route: routes.Route) -> None:
    """The sources of *this* page's figures (``route.sources``), with their dates, read from
    the manifest; then the preparation date and what DataMed is."""
    st.divider()
    by_source: dict[str, set[str]] = {}
    history: set[str] = set()
    for src in store.snapshots():
        if src.get("dataset") == DS.DISPONIBILITES:
            history.add(src["snapshot"])
        else:
            by_source.setdefault(src.get("source", "?"), set()).add(src.get("snapshot") or "")
    families = route.sources or tuple(by_source)
    parts = []
    for family in families:
        if family not in by_source:
            continue
        if family == "BDPM":
            dates = ", ".join(fr_snapshot(d) for d in sorted(by_source["BDPM"] - {""}, reverse=True))
            text = f"ANSM – Base de données publique des médicaments (fichiers du {dates}"
            if history:
                text += f" ; disponibilité au {fr_snapshot(max(history))}"
                if len(history) > 1:
                    text += f", historique depuis le {fr_snapshot(min(history))}"
            parts.append(text + ")")
            continue
        label = SOURCE_LABELS_FR.get(family, family)
        dates = sorted(d for d in by_source[family] if d and d[:1].isdigit())
        parts.append(label + (f" ({', '.join(fr_snapshot(d) for d in dates)})" if dates else ""))
    built = store.built_at()[:10]
    demo = " · **données de démonstration synthétiques**" if store.is_demo else ""
    sources = ("Sources : " + " ; ".join(parts) + ". ") if parts else ""
    st.caption(
        sources + f"Données préparées le {fr_date(_iso(built)) if built else '—'}{demo}. "
        "DataMed est un outil indépendant d'exploration des données publiques ; il ne remplace pas l'avis "
        "d'un médecin ou d'un pharmacien."
    )
    if route is not routes.ACCESSIBILITY:  # the statement, from every page (RGAA)
        st.page_link(
            routes.ACCESSIBILITY.file, label=f"Accessibilité : {a11y.CONFORMITY_FR}", icon=routes.ACCESSIBILITY.icon
        )


def _iso(value: str):
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        return None


def method(text: str) -> None:
    with st.expander("Méthode", icon=":material/info:"):
        st.markdown(text)


#: up to this many options, a select widget is not typed into (``filter_mode=None``): a
#: short list is read, and Streamlit's English "No results" can never show
SHORT_LIST = 12


def url_selectbox(
    label: str, options: list[str], param_name: str, *, format_func=str, placeholder: str = "Choisissez…", container=st
):
    """A selectbox whose value lives in the URL as ``?param=<raw option>``.

    (Streamlit's own ``bind="query-params"`` writes the *formatted* option into
    the URL, which would make links like ``?atc=N02BE`` invalid.) Its texts are
    French: a French placeholder (Streamlit's is "Choose an option"), no typing
    into a short list.
    """
    current = param(param_name)
    key = f"url_{param_name}"

    def sync() -> None:
        value = st.session_state.get(key)
        if value is None:
            st.query_params.pop(param_name, None)
        else:
            st.query_params[param_name] = value

    return container.selectbox(
        label,
        options=options,
        index=options.index(current) if current in options else None,
        format_func=format_func,
        placeholder=placeholder,
        key=key,
        on_change=sync,
        filter_mode=None if len(options) <= SHORT_LIST else "fuzzy",
    )


class UrlListAdd:
    """``on_click``: add ``value`` to the URL's repeated ``?param=`` (up to ``limit``)
    and empty the search box ``clear``."""

    def __init__(self, param: str, value: str, limit: int, clear: str | None = None):
        self.param, self.value, self.limit, self.clear = param, value, limit, clear

    def __call__(self) -> None:
        values = list(st.query_params.get_all(self.param))
        if self.value not in values and len(values) < self.limit:
            values.append(self.value)
        st.query_params[self.param] = values
        if self.clear:
            st.session_state[self.clear] = ""


class UrlListKeep:
    """``on_change``: the URL's repeated ``?param=`` becomes the widget ``key``'s value."""

    def __init__(self, param: str, key: str):
        self.param, self.key = param, key

    def __call__(self) -> None:
        st.query_params[self.param] = list(st.session_state.get(self.key) or [])


def url_picker(
    label: str,
    choices: dict[str, str],
    param: str,
    search,
    *,
    max_selections: int,
    placeholder: str,
    max_hits: int = 8,
) -> list[str]:
    """A picker whose values live in the URL (``?param=a&param=b``), all in French
    (Streamlit's multiselect writes "No results" and "Select N matches" in English):
    the chosen ones as chips (click one to remove it), a search box, and one button per
    match. ``search(query)`` returns option ids, best first."""
    current = [v for v in st.query_params.get_all(param) if v in choices][:max_selections]
    if current:
        key = f"{param}_chips_" + "|".join(current)  # a new widget for each selection
        st.pills(
            label,
            options=current,
            selection_mode="multi",
            default=current,
            format_func=OptionLabels(choices),
            key=key,
            on_change=UrlListKeep(param, key),
            help="Cliquez sur un nom pour le retirer de la comparaison.",
        )
    if len(current) >= max_selections:
        st.caption(f"Au plus {max_selections} : retirez-en un pour en ajouter un autre.")
        return current
    query = st.text_input("Ajouter à la comparaison", key=f"{param}_q", placeholder=placeholder, max_chars=100).strip()
    if query:
        hits = [h for h in search(query) if h in choices and h not in current][:max_hits]
        if not hits:
            st.caption(f"Aucun résultat pour « {md_escape(query[:60])} ».")
        for hit in hits:
            st.button(
                md_escape(choices[hit]),
                key=f"{param}_add_{hit}",
                icon=":material/add:",
                on_click=UrlListAdd(param, hit, max_selections, clear=f"{param}_q"),
            )
    return current


def url_multiselect(
    label: str,
    options: list[str],
    param_name: str,
    *,
    format_func=str,
    max_selections=None,
    container=st,
    placeholder: str = "Choisissez…",
):
    """A multiselect whose values live in the URL as repeated ``?param=a&param=b``;
    without Streamlit's English "Select all" entry, and not typed into when the list is short."""
    current = [v for v in st.query_params.get_all(param_name) if v in options][: max_selections or None]
    key = f"url_{param_name}"

    def sync() -> None:
        st.query_params[param_name] = list(st.session_state.get(key) or [])

    return container.multiselect(
        label,
        options=options,
        default=current,
        format_func=format_func,
        max_selections=max_selections,
        key=key,
        on_change=sync,
        placeholder=placeholder,
        select_all=False,
        filter_mode=None if len(options) <= SHORT_LIST else "fuzzy",
    )


def pin_params(**params: str) -> None:
    """Write back the URL parameters the page shows. A page link to the page already open,
    with other parameters (an alternative on a medicine page), runs the new page but leaves
    the browser's address unchanged (Streamlit 1.67): without this, the address bar, a
    reload or a shared link would show the previous medicine."""
    for name, value in params.items():
        st.query_params[name] = value


def param(name: str) -> str | None:
    value = st.query_params.get(name)
    return value.strip() if isinstance(value, str) else None


def dataframe(data, **kwargs):
    """``st.dataframe`` for every table of the app: a polars frame goes to Streamlit as an
    Arrow table. Streamlit converts a polars frame through pandas (``to_pandas``), which
    can deadlock against another session's polars call on the same frame (issue 12);
    Arrow is zero-copy and does not."""
    if isinstance(data, pl.DataFrame):
        data = data.to_arrow()
    kwargs.setdefault("placeholder", "—")  # a missing value, instead of Streamlit's "None"
    return st.dataframe(data, **kwargs)
