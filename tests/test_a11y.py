"""Accessibility helpers without a browser: the page language declared in Streamlit's HTML
(datamed.ui.page_lang) and the known Streamlit issues of the axe test (datamed.ui.a11y).
The browser side is tests/browser/test_browser_a11y.py."""

from __future__ import annotations

import asyncio
import re
import threading

import pytest

from datamed.ui import a11y, page_lang


def test_with_page_lang_replaces_streamlits_english():
    html = b'<!--\n licence\n-->\n<!DOCTYPE html>\n<html lang="en">\n  <head><title>x</title></head></html>'
    assert page_lang.with_page_lang(html) == html.replace(b'<html lang="en">', b'<html lang="fr">')
    assert page_lang.with_page_lang(b"<html><body>a</body></html>") == b'<html lang="fr"><body>a</body></html>'
    # other attributes kept, any quoting of the old value, only the first <html> element
    assert page_lang.with_page_lang(b"<HTML class='a' lang='en-US' dir=ltr><html>") == (
        b"<HTML lang=\"fr\" class='a' dir=ltr><html>"
    )
    assert page_lang.with_page_lang(b"<htmlfoo>") == b"<htmlfoo>"


def test_the_real_streamlit_page_says_english_and_is_fixed():
    """The fix is still needed (Streamlit's index.html says "en") and still applies to it."""
    from streamlit import file_util

    with open(f"{file_util.get_static_dir()}/index.html", "rb") as f:
        html = f.read()
    assert re.search(rb'<html lang="en">', html)
    fixed = page_lang.with_page_lang(html)
    assert b'<html lang="fr">' in fixed and b'lang="en"' not in fixed and len(fixed) == len(html)


def _run(app, method: str = "GET", path: str = "/") -> tuple[dict, bytes]:
    sent: list[dict] = []
    requested: list[bool] = []

    async def receive():  # the request, then a client that stays connected
        if not requested:
            requested.append(True)
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.Event().wait()

    async def send(message):
        sent.append(message)

    # in a thread of its own: in the full tier, an earlier test (Playwright's sync API) may have
    # left an event loop running in this one, and asyncio.run refuses to nest
    errors: list[BaseException] = []

    def serve() -> None:
        try:
            asyncio.run(app({"type": "http", "method": method, "path": path, "headers": []}, receive, send))
        except BaseException as exc:  # re-raised in the test's thread
            errors.append(exc)

    worker = threading.Thread(target=serve)
    worker.start()
    worker.join(timeout=30)
    if errors:
        raise errors[0]
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start, body


def _static(content_type: bytes, chunks: list[bytes], status: int = 200):
    """A stand-in for Streamlit's static files: answers ``chunks`` as one streamed body."""

    async def app(scope, receive, send):
        length = sum(len(c) for c in chunks)
        headers = [(b"content-type", content_type), (b"content-length", str(length).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        for i, chunk in enumerate(chunks):
            await send({"type": "http.response.body", "body": chunk, "more_body": i < len(chunks) - 1})

    return app


def test_page_lang_wrapper_declares_french_in_html_answers_only():
    chunks = [b"<!DOCTYPE html>\n<ht", b'ml lang="en">', b"<head></head></html>"]  # split mid-tag
    start, body = _run(page_lang.PageLang(_static(b"text/html; charset=utf-8", chunks)))
    assert body == b'<!DOCTYPE html>\n<html lang="fr"><head></head></html>'
    assert dict(start["headers"])[b"content-length"] == str(len(body)).encode()
    assert start["status"] == 200

    js = [b'const html = "<html lang=\\"en\\">";']
    assert _run(page_lang.PageLang(_static(b"text/javascript", js)))[1] == js[0]  # other files untouched
    head_start, _ = _run(page_lang.PageLang(_static(b"text/html", chunks)), method="HEAD")
    assert head_start["status"] == 200  # HEAD passes through
    not_modified = page_lang.PageLang(_static(b"text/html", [b""], status=304))
    assert _run(not_modified)[0]["status"] == 304


def test_serve_declared_wraps_streamlits_static_handler_once(monkeypatch, tmp_path):
    from streamlit.web.server.starlette import starlette_static_routes as static

    monkeypatch.setattr(static, "create_streamlit_static_handler", static.create_streamlit_static_handler)
    assert not page_lang.served_declared()
    page_lang.serve_declared()
    page_lang.serve_declared()  # idempotent: one wrapper
    assert page_lang.served_declared()
    (tmp_path / "index.html").write_text('<html lang="en"></html>')
    handler = static.create_streamlit_static_handler(directory=str(tmp_path), base_url=None)
    assert isinstance(handler, page_lang.PageLang) and not isinstance(handler.app, page_lang.PageLang)
    start, body = _run(handler, path="/medicament")  # a deep link: the single-page app's fallback
    assert start["status"] == 200 and body == b'<html lang="fr"></html>'


def test_serve_declared_fails_loudly_when_streamlit_moved_the_handler(monkeypatch):
    from streamlit.web.server.starlette import starlette_static_routes as static

    monkeypatch.delattr(static, "create_streamlit_static_handler")
    with pytest.raises(RuntimeError, match="create_streamlit_static_handler is gone"):
        page_lang.serve_declared()


def test_known_streamlit_issues_are_precise():
    """Each exception names one rule and a selector anchored on a Streamlit test id: never a whole rule."""
    assert a11y.STREAMLIT_EXCEPTIONS
    for issue in a11y.STREAMLIT_EXCEPTIONS:
        assert re.fullmatch(r"[a-z-]+", issue.rule)
        assert "data-testid=" in issue.selector and issue.selector.strip() not in ("*", "")
        assert (
            issue.text_fr
            and not issue.text_fr.endswith(".")
            and issue.why
            and re.fullmatch(r"\d+\.\d+", issue.criterion)
        )
    assert len({(i.rule, i.selector) for i in a11y.STREAMLIT_EXCEPTIONS}) == len(a11y.STREAMLIT_EXCEPTIONS)
