"""The language of every page: French (RGAA 8.3, WCAG 3.1.1 "Language of Page").

Streamlit's single page, ``index.html``, says ``<html lang="en">`` and Streamlit has no
setting for it. Screen readers would read DataMed's French with English rules.

- ``python -m datamed serve`` (``datamed/serve.py``) calls ``serve_declared()`` before the
  server starts: the factory of Streamlit's static-files handler is wrapped so that every
  HTML answer (``/``, ``/index.html`` and, as the single-page app's fallback, every deep
  link such as ``/medicament?cis=…``) declares ``lang="fr"`` in the HTML itself, from the
  very first request of a cold server. site-packages is not touched.
- Plain ``streamlit run app.py`` builds its routes before app.py runs, so the HTML keeps
  "en"; ``script_fallback()`` (called by app.py after each page) then sets the language
  from a script, once the page has rendered.
"""

from __future__ import annotations

import re
import sys

import streamlit as st

PAGE_LANG = "fr"
_STATIC_ROUTES = "streamlit.web.server.starlette.starlette_static_routes"
_HTML_TAG = re.compile(rb"<html\b[^>]*>", re.IGNORECASE)
_LANG_ATTRIBUTE = re.compile(rb"""\s+lang\s*=\s*("[^"]*"|'[^']*'|[^\s>]+)""", re.IGNORECASE)


def with_page_lang(html: bytes, lang: str = PAGE_LANG) -> bytes:
    """``html`` with ``lang`` declared on its ``<html>`` element (instead of Streamlit's
    "en"; the element's other attributes kept)."""

    def declare(match: re.Match) -> bytes:
        tag = _LANG_ATTRIBUTE.sub(b"", match.group(0))
        return tag[:5] + f' lang="{lang}"'.encode() + tag[5:]

    return _HTML_TAG.sub(declare, html, count=1)


class PageLang:
    """ASGI wrapper of Streamlit's static files: every complete HTML answer (GET, status
    200) declares ``lang``. Other files, HEAD and range requests, 304s go through untouched."""

    def __init__(self, app, lang: str = PAGE_LANG):
        self.app = app
        self.lang = lang

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope.get("method") != "GET":
            await self.app(scope, receive, send)
            return
        start: dict | None = None
        body: list[bytes] = []

        async def declaring_send(message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                headers = dict(message.get("headers") or [])
                if message.get("status") == 200 and headers.get(b"content-type", b"").startswith(b"text/html"):
                    start = message  # held until the whole body is here
                    return
            elif message["type"] == "http.response.body" and start is not None:
                body.append(message.get("body", b""))
                if message.get("more_body", False):
                    return
                html = with_page_lang(b"".join(body), self.lang)
                headers = [(k, v) for k, v in start.get("headers") or [] if k.lower() != b"content-length"]
                await send({**start, "headers": [*headers, (b"content-length", str(len(html)).encode())]})
                await send({"type": "http.response.body", "body": html})
                return
            await send(message)

        await self.app(scope, receive, declaring_send)


def serve_declared() -> None:
    """Make this process's Streamlit server answer its HTML with ``lang="fr"``; call it
    before the server starts (it builds its routes then). Idempotent."""
    from streamlit.web.server.starlette import starlette_static_routes as static  # noqa: PLC0415

    factory = getattr(static, "create_streamlit_static_handler", None)
    if factory is None:  # a Streamlit upgrade moved it: fail loudly, the test suite says where
        raise RuntimeError("streamlit: create_streamlit_static_handler is gone; update datamed/ui/page_lang.py")
    if getattr(factory, "datamed_page_lang", False):
        return

    def create(*args, **kwargs):
        return PageLang(factory(*args, **kwargs))

    create.datamed_page_lang = True
    static.create_streamlit_static_handler = create


def served_declared() -> bool:
    """Whether this process's server answers its HTML with the page language."""
    static = sys.modules.get(_STATIC_ROUTES)
    return bool(getattr(getattr(static, "create_streamlit_static_handler", None), "datamed_page_lang", False))


def script_fallback() -> None:
    """Under plain ``streamlit run app.py`` (the HTML says "en"), set the page language
    from a script; nothing when the server already declares it."""
    if not served_declared():
        st.html(f"<script>document.documentElement.lang = {PAGE_LANG!r};</script>", unsafe_allow_javascript=True)
