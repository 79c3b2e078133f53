"""The scale-out recipe (docs/deploy/haproxy.cfg), tested on loopback: two app
processes behind HAProxy, sticky sessions, security headers, private metrics, and
browser sessions that load pages through the proxy."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from datamed.core.config import REPO_ROOT
from tests.browser.conftest import VIEWPORT, _free_port, assert_no_exception, wait_for_app
from tests.browser.test_soak import soak

HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"
CONFIG = REPO_ROOT / "docs" / "deploy" / "haproxy.cfg"


@pytest.fixture
def proxy(cold_server, real_prepared, tmp_path):
    if not os.path.exists(HAPROXY):
        pytest.skip("haproxy not installed (Debian package haproxy; .ci/run installs it)")
    apps = [cold_server(real_prepared), cold_server(real_prepared)]
    port = _free_port()
    env = {
        **os.environ,
        "DATAMED_PROXY_BIND": f"127.0.0.1:{port}",
        "DATAMED_APP1": f"127.0.0.1:{apps[0].port}",
        "DATAMED_APP2": f"127.0.0.1:{apps[1].port}",
    }
    check = subprocess.run([HAPROXY, "-c", "-f", str(CONFIG)], env=env, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    with open(tmp_path / "haproxy.log", "wb") as log:
        proc = subprocess.Popen([HAPROXY, "-db", "-f", str(CONFIG)], env=env, stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # both servers up in the proxy's health checks
            try:
                seen = {_get(url + "/_stcore/health")[1].get("x-datamed-backend") for _ in range(4)}
                if seen == {"app1", "app2"}:
                    break
            except OSError:
                pass
            time.sleep(0.5)
        try:
            yield url, apps
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def _get(url: str, cookie: str | None = None) -> tuple[int, dict, str]:
    request = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read().decode(errors="replace")
    except urllib.error.HTTPError as exc:
        return exc.code, {k.lower(): v for k, v in exc.headers.items()}, ""


def test_two_processes_behind_the_proxy(proxy, browser):
    url, _apps = proxy
    status, headers, body = _get(url + "/_stcore/health")
    assert status == 200 and body.strip() == "ok"  # an orchestrator's health and readiness probe
    assert _get(url + "/_stcore/metrics")[0] == 403  # metrics stay private
    status, headers, _ = _get(url + "/")
    assert status == 200
    assert headers["x-content-type-options"] == "nosniff" and headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["referrer-policy"] == "same-origin"
    # new visitors are spread over both processes; a visitor keeps its process
    first = {_get(url + "/")[1]["x-datamed-backend"] for _ in range(4)}
    assert first == {"app1", "app2"}
    cookie = _get(url + "/")[1]["set-cookie"].split(";")[0]
    assert cookie.startswith("DATAMED_SRV=")
    owner = {_get(url + "/", cookie)[1]["x-datamed-backend"] for _ in range(6)}
    assert len(owner) == 1
    # browser sessions through the proxy: pages, charts and websockets work under the CSP
    contexts = [browser.new_context(viewport=VIEWPORT, locale="fr-FR") for _ in range(4)]
    try:
        served, violations = set(), []
        for context in contexts:
            page = context.new_page()
            page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
            response = page.goto(url + "/medicament?cis=60002283")
            served.add(response.headers.get("x-datamed-backend"))
            wait_for_app(page, selector="h1", text="ANASTROZOLE ACCORD", timeout=60_000)
            assert_no_exception(page)
            page.goto(url + "/vue-nationale")
            wait_for_app(page, selector="h1", text="vue nationale", timeout=60_000)
            page.locator('[data-testid="stVegaLiteChart"] canvas, [data-testid="stVegaLiteChart"] svg').first.wait_for(
                state="visible", timeout=60_000
            )
            assert_no_exception(page)
        assert served == {"app1", "app2"}
        assert violations == []
    finally:
        for context in contexts:
            context.close()


def test_soak_through_the_proxy(proxy, browser):
    """The soak (8 browser sessions looping over the pages) through the proxy, for
    150 s: no hang, no error, bounded memory on both processes, and every session stays
    on the process that served its first page (sticky cookie)."""
    url, apps = proxy
    seen = soak(browser, url, [a.proc.pid for a in apps], lambda: apps[0].log() + apps[1].log(), seconds=150)
    assert all(len(b) == 1 for b in seen["backends"]), seen["backends"]
    assert set().union(*seen["backends"]) == {"app1", "app2"}  # and the sessions were spread over both
