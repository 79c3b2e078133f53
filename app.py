"""DataMed: entry point. Declares the pages; each page is a thin script in pages/."""

import streamlit as st

from datamed.ui import a11y, fallback, page_lang, routes, runlog


def _page(route: routes.Route, default: bool = False) -> st.Page:
    return st.Page(
        route.file,
        title=route.title,
        icon=route.icon,
        url_path="" if default else route.url_path,  # the home page is "/": "/accueil" is an alias
        default=default,
        visibility="hidden" if route.hidden else "visible",
    )


def main() -> None:
    # the favicon is our own file: a Material icon here would be fetched from Google's servers
    st.set_page_config(page_title="DataMed", page_icon=str(routes.FAVICON), layout="wide")
    nav: dict[str, list] = {"": [_page(routes.HOME, default=True)]}
    for section in routes.SECTIONS:
        if section.routes:
            nav[section.title] = [_page(r) for r in section.routes]
    nav["Médicaments"] += [_page(routes.MEDICINE), _page(routes.SUBSTANCE)]
    nav["Données"] += [_page(routes.ACCESSIBILITY)]  # hidden; linked from every footer
    # an alias (/accueil, /sites...) or an unknown path gets a hidden page of its own, so that
    # Streamlit never shows its English "Page not found" dialog
    nav[""] += fallback.pages_for_request(nav)

    page = st.navigation(nav)
    a11y.focus_style()  # a visible keyboard focus on links (Streamlit removes their outline)
    fallback.remember_current(page.url_path)
    runlog.timed(page.url_path or routes.HOME.url_path, page.run)  # one JSON log line per page run
    page_lang.script_fallback()  # lang="fr" under plain `streamlit run app.py` (`serve` declares it in the HTML)


# Streamlit runs this file as __main__. A process started by the build's worker pool
# ("spawn") re-imports the parent's main module as __mp_main__: when that is this file
# (tests run pages in-process), there is nothing to serve.
if __name__ != "__mp_main__":
    main()
