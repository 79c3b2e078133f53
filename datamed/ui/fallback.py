"""Addresses that are not pages: obvious aliases open the page they stand for, anything
else shows a French "page introuvable" (with the search box) at that address.

Streamlit resolves the requested path inside ``st.navigation``; a path that matches
no page makes it send its English "Page not found" dialog and run the home page.
``pages_for_request`` reads the path the browser asked for and, when it is not a
page, adds one hidden page *at that path* (kept for the session): the alias's
redirect, or the not-found page. A nested path (``/a/b``) cannot be a Streamlit page and keeps Streamlit's
own behaviour.
"""

from __future__ import annotations

import re

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from datamed.ui import routes

_VALID = re.compile(r"[A-Za-z0-9._~%-]{1,80}")


def requested_path() -> str | None:
    """The page path the browser asked for on this run (None: a link inside the app, or '/')."""
    ctx = get_script_run_ctx()
    manager = getattr(ctx, "pages_manager", None)
    if manager is None or manager.intended_page_script_hash:
        return None  # st.switch_page and the menu name pages by their hash
    name = (manager.intended_page_name or "").strip("/")
    return name or None


def _redirect(target: routes.Route):
    def go() -> None:
        st.switch_page(target.file, query_params=st.query_params.to_dict())

    go.__name__ = f"alias_{target.url_path.replace('-', '_')}"
    return go


_SEEN = "_datamed_fallback_paths"  # session state: the unknown paths this session asked for
_CURRENT = "_datamed_current_path"


def pages_for_request(nav: dict[str, list]) -> list:
    """Hidden pages serving the unknown paths this session asked for (the one asked now
    included): reruns of such a page (a form submitted on it) name it by its hash, so it
    must stay declared for the rest of the session."""
    if get_script_run_ctx() is None:  # bare mode (a process that imported app.py): nothing asked
        return []
    seen: list[str] = st.session_state.setdefault(_SEEN, [])
    served = {p.url_path for pages in nav.values() for p in pages}
    path = requested_path()
    if path is not None and _VALID.fullmatch(path) and path not in served and path not in seen:
        seen.append(path)
        del seen[:-20]  # a few are enough; a session cannot grow the menu without bound
    out = []
    for p in seen:
        if p in served:
            continue
        target = routes.alias_of(p)
        if target is not None:
            out.append(st.Page(_redirect(target), title=target.title, url_path=p, visibility="hidden"))
        else:
            nf = routes.NOT_FOUND
            out.append(st.Page(nf.file, title=nf.title, icon=nf.icon, url_path=p, visibility="hidden"))
    return out


def remember_current(url_path: str) -> None:
    """Called once the page is resolved: the path being served (for the not-found page)."""
    st.session_state[_CURRENT] = url_path


def current_path() -> str:
    return st.session_state.get(_CURRENT, "")
