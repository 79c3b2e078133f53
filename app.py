"""DataMed: entry point. Declares the pages; each page is a thin script in pages/."""

import streamlit as st

from datamed.ui import routes, runlog

# the favicon is our own file: a Material icon here would be fetched from Google's servers
st.set_page_config(page_title="DataMed", page_icon=str(routes.FAVICON), layout="wide")


def _page(route: routes.Route, default: bool = False) -> st.Page:
    return st.Page(
        route.file,
        title=route.title,
        icon=route.icon,
        url_path=route.url_path,
        default=default,
        visibility="hidden" if route.hidden else "visible",
    )


nav: dict[str, list] = {"": [_page(routes.HOME, default=True)]}
for section in routes.SECTIONS:
    if section.routes:
        nav[section.title] = [_page(r) for r in section.routes]
nav["Médicaments"] += [_page(routes.MEDICINE), _page(routes.SUBSTANCE)]

page = st.navigation(nav)
runlog.timed(page.url_path or routes.HOME.url_path, page.run)  # one JSON log line per page run
