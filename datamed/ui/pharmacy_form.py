"""The pharmacy finder's form and its URL (``?cp=75011``, ``?commune=Montreuil&dep=93``).

The form's callback lives here, not in the page script: a function of the page handed to
a widget would keep the page's globals (the store and its frames) in the session."""

from __future__ import annotations

import streamlit as st

from datamed.ui.common import param

PLACE_KEY = "pharmacie_lieu"
DEPARTEMENT_KEY = "pharmacie_dep"
_URL_KEY = "pharmacie_url"
MAX_CHARS = 80


def query_of_url() -> tuple[str, str | None]:
    """(postal code or commune, département) of the URL; "" and None when absent."""
    return (param("cp") or param("commune") or "")[:MAX_CHARS], param("dep") or None


def show_url_in_form(query: str, departement: str | None, departements: list[str]) -> None:
    """Before the form is drawn: a URL the form has not shown yet (a deep link, a link to
    another commune) becomes the form's values."""
    if st.session_state.get(_URL_KEY) != (query, departement):
        st.session_state[_URL_KEY] = (query, departement)
        st.session_state[PLACE_KEY] = query
        st.session_state[DEPARTEMENT_KEY] = departement if departement in departements else None


def submit() -> None:
    """``on_click`` of the form's button: its values go to the URL (the page reruns on them):
    digits as ``cp`` (spaces dropped), a name as ``commune``, and ``dep``."""
    text = (st.session_state.get(PLACE_KEY) or "").strip()[:MAX_CHARS]
    chosen = st.session_state.get(DEPARTEMENT_KEY)
    params = {}
    compact = text.replace(" ", "")
    if compact.isdigit():
        params["cp"] = compact
    elif text:
        params["commune"] = text
    if chosen:
        params["dep"] = chosen
    st.query_params.from_dict(params)
