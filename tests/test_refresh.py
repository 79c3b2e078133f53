"""``datamed.release.refresh``: download over loopback HTTP -> build -> gates -> publish -> swap,
on the bundled demo data; failures keep the previous data and release."""

from __future__ import annotations

import functools
import http.server
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from datamed.core.config import DEMO_RAW_DIR, REPO_ROOT
from datamed.release import publish as publish_module
from datamed.release.refresh import EXIT, LOCK, Gates, refresh
from datamed.sources.download import BDPM_FILES

STEPS = ["download", "build", "quality_gate", "publish", "swap"]
GATES = {"max_cis_drop", "max_integrity_failures", "max_blocking_failures", "max_rejected_share"}


def quiet(*_args) -> None:
    pass


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "datamed", *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=300
    )


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


def newest_demo_snapshot() -> Path:
    return sorted(p for p in (DEMO_RAW_DIR / "bdpm").iterdir() if p.is_dir())[-1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """Base URL of a loopback server with one folder of BDPM files per scenario:
    ``good/`` (the newest demo snapshot), ``drop/`` (20 % of CIS_bdpm.txt lines
    removed), ``garbage/`` (a binary CIS_bdpm.txt)."""
    root = tmp_path_factory.mktemp("served")
    newest = newest_demo_snapshot()
    shutil.copytree(newest, root / "good")
    shutil.copytree(newest, root / "drop")
    lines = (newest / "CIS_bdpm.txt").read_bytes().splitlines(keepends=True)
    (root / "drop" / "CIS_bdpm.txt").write_bytes(b"".join(line for i, line in enumerate(lines) if i % 5 != 0))
    shutil.copytree(newest, root / "garbage")
    (root / "garbage" / "CIS_bdpm.txt").write_bytes(b"\x00\xff" + random.Random(7).randbytes(20_000))
    handler = functools.partial(QuietHandler, directory=str(root))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}/"
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=10)


@dataclass
class Env:
    root: Path

    @property
    def raw(self) -> Path:
        return self.root / "raw"

    @property
    def prepared(self) -> Path:
        return self.root / "prepared"

    @property
    def releases(self) -> Path:
        return self.root / "releases"

    def run(self, url: str, **kwargs):
        kwargs.setdefault("echo", quiet)
        return refresh(self.raw, self.prepared, self.releases, url=url, **kwargs)

    def state(self) -> dict:
        """Everything a failed refresh must leave as it was."""
        manifest = json.loads((self.prepared / "manifest.json").read_text(encoding="utf-8"))
        return {
            "latest": (self.releases / "LATEST").read_text(encoding="utf-8"),
            "history": (self.releases / "history.json").read_text(encoding="utf-8"),
            "releases": sorted(p.name for p in self.releases.iterdir() if p.name != "logs"),
            "built_at": manifest["built_at"],
            "prepared_files": sorted(p.name for p in self.prepared.iterdir()),
            "root": sorted(p.name for p in self.root.iterdir()),
        }

    def last_refresh(self) -> dict:
        return json.loads((self.releases / "logs" / "last_refresh.json").read_text(encoding="utf-8"))

    def log_lines(self) -> list[str]:
        return (self.releases / "logs" / "refresh.log").read_text(encoding="utf-8").splitlines()


def make_raw(root: Path) -> Path:
    """The demo raw folder without its newest BDPM snapshot: the download provides it."""
    raw = Path(shutil.copytree(DEMO_RAW_DIR, root / "raw"))
    shutil.rmtree(raw / "bdpm" / newest_demo_snapshot().name)
    return raw


@pytest.fixture(scope="module")
def first(server, tmp_path_factory):
    """A first refresh into an empty prepared / releases folder."""
    env = Env(tmp_path_factory.mktemp("refresh") / "env")
    env.root.mkdir()
    make_raw(env.root)
    messages: list[str] = []
    result = env.run(server + "good/", echo=messages.append)
    return env, result, messages


@pytest.fixture
def env(first, tmp_path) -> Env:
    """A private copy of the state after the first refresh."""
    base, result, _ = first
    assert result.exit_code == 0, result.message
    return Env(Path(shutil.copytree(base.root, tmp_path / "env", symlinks=True)))


def closed_port_url() -> str:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


# --- success paths ------------------------------------------------------------------------------


def test_first_refresh_publishes(first):
    env, result, messages = first
    assert (result.exit_code, result.status) == (0, "published"), result.message
    assert (env.prepared / "manifest.json").exists()
    assert (env.releases / "LATEST").read_text(encoding="utf-8").strip() == result.version
    assert (env.releases / result.version / "datapackage.json").exists()
    # the download really ran: today's snapshot came over HTTP and was built from
    snapshot = env.raw / "bdpm" / datetime.now(UTC).date().isoformat()
    assert sorted(p.name for p in snapshot.iterdir()) == sorted(set(BDPM_FILES) - {"CIS_CIP_Dispo_Spec.txt"})
    # the availability file went to the archive, which the build read
    (archived,) = (env.raw / "disponibilites").glob("CIS_CIP_Dispo_Spec_*.txt")
    assert f"disponibilites/{archived.name}" in {
        s["path"] for s in json.loads((env.prepared / "manifest.json").read_text())["sources"]
    }
    manifest = json.loads((env.prepared / "manifest.json").read_text(encoding="utf-8"))
    paths = {s["path"] for s in manifest["sources"]}
    assert f"bdpm/{snapshot.name}/CIS_bdpm.txt" in paths
    assert manifest["demo"] is True
    # no staging folder, lock or temporary folder left; the prepared data is a version
    assert sorted(p.name for p in env.root.iterdir()) == [".prepared.versions", "prepared", "raw", "releases"]
    assert env.prepared.is_symlink() and env.prepared.resolve().parent.name == ".prepared.versions"
    assert not (env.releases / LOCK).exists()
    assert sorted(p.name for p in env.releases.iterdir()) == sorted([result.version, "LATEST", "history.json", "logs"])
    # steps and gates
    assert list(result.steps) == STEPS
    assert {g["gate"] for g in result.gates} == GATES and all(g["passed"] for g in result.gates)


def test_first_refresh_log(first):
    env, result, messages = first
    lines = env.log_lines()
    expected = [
        r"INFO refresh started: raw=.*",
        r"INFO downloaded 11 file\(s\) into .*",
        r"INFO built \d+ datasets in .*",
        r"INFO gate max_cis_drop: .* ok - .*",
        r"INFO gate max_integrity_failures: .* ok - .*",
        r"INFO gate max_blocking_failures: .* ok - .*",
        r"INFO gate max_rejected_share: .* ok - .*",
        r"INFO prepared data updated in .*",
        rf"INFO refresh published: release {re.escape(result.version)} published in .*",
    ]
    assert len(lines) == len(expected), lines
    for line, pattern in zip(lines, expected):
        assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} " + pattern, line), (line, pattern)
    assert len(messages) == len(lines)  # every logged line is echoed too
    record = env.last_refresh()
    assert (record["status"], record["exit_code"], record["version"]) == ("published", 0, result.version)
    assert list(record["steps"]) == STEPS and all(v >= 0 for v in record["steps"].values())
    assert [g["gate"] for g in record["gates"]] == [g["gate"] for g in result.gates]
    assert {g["gate"] for g in record["gates"]} == GATES
    assert all({"value", "limit", "passed", "detail"} <= set(g) for g in record["gates"])
    assert record["started_at"]


@pytest.mark.slow
def test_second_refresh_is_unchanged(env, server):
    before = env.state()
    result = env.run(server + "good/")
    assert (result.exit_code, result.status) == (0, "unchanged"), result.message
    assert result.version == before["latest"].strip()
    after = env.state()
    assert after["releases"] == before["releases"] and after["latest"] == before["latest"]
    assert after["history"] == before["history"]
    assert env.last_refresh()["status"] == "unchanged"
    assert env.log_lines()[-1].endswith(
        f"INFO refresh unchanged: data unchanged since release {result.version}: nothing published"
    )


@pytest.mark.slow
def test_refresh_without_download_rebuilds_from_raw(env):
    snapshots = sorted(p.name for p in (env.raw / "bdpm").iterdir())
    downloads = sum("INFO downloaded" in line for line in env.log_lines())
    result = env.run(closed_port_url(), download=False)  # the URL is never used
    assert (result.exit_code, result.status) == (0, "unchanged"), result.message
    assert sum("INFO downloaded" in line for line in env.log_lines()) == downloads
    assert sorted(p.name for p in (env.raw / "bdpm").iterdir()) == snapshots


# --- failures keep the previous data and release ------------------------------------------------


def assert_kept(env: Env, before: dict) -> None:
    assert env.state() == before
    assert not (env.releases / LOCK).exists()
    assert not any(p.name.startswith(".") and p.name != ".prepared.versions" for p in env.root.iterdir())  # no staging
    assert not any(p.name.startswith(".") for p in env.releases.iterdir())  # no release temp folder


@pytest.mark.slow
def test_quality_gate_stops_a_cis_drop(env, server):
    before = env.state()
    result = env.run(server + "drop/")
    assert (result.exit_code, result.status) == (3, "quality_gate"), result.message
    assert "max_cis_drop" in result.message and before["latest"].strip() in result.message
    cis = next(g for g in result.gates if g["gate"] == "max_cis_drop")
    assert cis["passed"] is False and 0.15 < cis["value"] < 0.25 and cis["limit"] == Gates().max_cis_drop
    assert_kept(env, before)
    record = env.last_refresh()
    assert record["status"] == "quality_gate" and record["exit_code"] == 3
    assert "publish" not in record["steps"]
    assert any(re.search(r"gate max_cis_drop: .* FAILED", line) for line in env.log_lines())


@pytest.mark.slow
def test_build_failure_keeps_everything(env, server):
    before = env.state()
    result = env.run(server + "garbage/")
    assert (result.exit_code, result.status) == (1, "error"), result.message
    assert "build failed" in result.message and "CIS_bdpm.txt" in result.message
    assert_kept(env, before)
    assert env.last_refresh()["status"] == "error"


def test_download_failure_changes_nothing(env):
    before = env.state()
    snapshots = sorted(p.name for p in (env.raw / "bdpm").iterdir())
    result = env.run(closed_port_url(), timeout=5)
    assert (result.exit_code, result.status) == (1, "error"), result.message
    assert "download failed" in result.message
    assert list(result.steps) == ["download"]
    assert_kept(env, before)
    assert sorted(p.name for p in (env.raw / "bdpm").iterdir()) == snapshots  # no partial snapshot


@pytest.mark.slow
def test_disclosure_gate_failure(env, server, monkeypatch):
    monkeypatch.setattr(publish_module, "scan", lambda folder, threshold: ["data/ei_annee.csv: planted leak"])
    before = env.state()
    result = env.run(server + "good/")
    assert (result.exit_code, result.status) == (EXIT["disclosure_gate"], "disclosure_gate"), result.message
    assert "planted leak" in result.message
    assert_kept(env, before)


# --- the lock -----------------------------------------------------------------------------------


def test_a_live_lock_stops_the_refresh(env, server):
    before = env.state()
    lock = env.releases / LOCK
    lock.write_text(str(os.getpid()), encoding="utf-8")
    result = env.run(server + "good/")
    assert (result.exit_code, result.status) == (5, "locked"), result.message
    assert lock.read_text(encoding="utf-8") == str(os.getpid())  # another run's lock is not removed
    assert result.steps == {}
    lock.unlink()
    assert_kept(env, before)
    assert env.last_refresh()["status"] == "locked"


@pytest.mark.slow
def test_a_stale_lock_is_removed(env, server):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    lock = env.releases / LOCK
    lock.write_text(str(dead.pid), encoding="utf-8")
    result = env.run(server + "good/")
    assert result.exit_code == 0 and result.status == "unchanged", result.message
    assert not lock.exists()


# --- gates from a file --------------------------------------------------------------------------


def test_gates_from_file(tmp_path):
    path = tmp_path / "gates.toml"
    path.write_text("max_cis_drop = -1.0\nmax_rejected_share = 1\nmax_blocking_failures = 2\n", encoding="utf-8")
    gates = Gates.from_file(path)
    assert gates == Gates(max_cis_drop=-1.0, max_rejected_share=1.0, max_blocking_failures=2)
    assert isinstance(gates.max_rejected_share, float) and isinstance(gates.max_blocking_failures, int)
    assert gates.max_integrity_failures == Gates().max_integrity_failures
    bad = tmp_path / "bad.toml"
    bad.write_text("max_cis_drop = 0.1\nmax_cis_dorp = 0.2\n", encoding="utf-8")
    with pytest.raises(ValueError, match="max_cis_dorp"):
        Gates.from_file(bad)


@pytest.mark.slow
def test_gates_file_stops_the_refresh(env, server, tmp_path):
    path = tmp_path / "gates.toml"
    path.write_text("max_cis_drop = -1.0\n", encoding="utf-8")
    before = env.state()
    result = env.run(server + "good/", gates=Gates.from_file(path))
    assert (result.exit_code, result.status) == (3, "quality_gate"), result.message
    failed = [g["gate"] for g in result.gates if not g["passed"]]
    assert failed == ["max_cis_drop"]
    assert_kept(env, before)


def test_cli_refresh_with_bad_gates(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("max_cis_dorp = 0.2\n", encoding="utf-8")
    releases = tmp_path / "releases"
    common = [
        "--raw",
        str(tmp_path / "raw"),
        "--data",
        str(tmp_path / "prepared"),
        "--releases",
        str(releases),
        "--no-download",
    ]
    result = run_cli("refresh", "--gates", str(bad), *common)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "max_cis_dorp" in result.stderr
    missing = run_cli("refresh", "--gates", str(tmp_path / "missing.toml"), *common)
    assert missing.returncode == 2 and "gates" in missing.stderr
    assert not releases.exists()  # stopped before doing anything


# --- the CLI end to end -------------------------------------------------------------------------


@pytest.mark.slow
def test_cli_refresh_end_to_end(server, tmp_path):
    env = Env(tmp_path / "env")
    env.root.mkdir()
    make_raw(env.root)
    args = [
        "refresh",
        "--raw",
        str(env.raw),
        "--data",
        str(env.prepared),
        "--releases",
        str(env.releases),
        "--url",
        server + "good/",
    ]
    first = run_cli(*args)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "steps: download" in first.stdout
    version = (env.releases / "LATEST").read_text(encoding="utf-8").strip()
    assert env.last_refresh()["status"] == "published"
    before = env.state()

    second = run_cli(*args)
    assert second.returncode == 0, second.stdout + second.stderr
    assert env.last_refresh()["status"] == "unchanged"
    assert env.state()["releases"] == before["releases"] == sorted([version, "LATEST", "history.json"])

    third = run_cli(*args, "--max-cis-drop", "-1")
    assert third.returncode == 3, third.stdout + third.stderr
    assert "max_cis_drop" in third.stderr
    assert (env.releases / "LATEST").read_text(encoding="utf-8").strip() == version
    assert env.last_refresh()["status"] == "quality_gate"


def test_a_full_disk_during_publish_ends_in_one_logged_line(env, monkeypatch):
    """No space left while the release is written: no traceback; one line on the
    result, in refresh.log and in last_refresh.json; previous data and release kept."""
    import errno

    from datamed.release import refresh as refresh_module

    def full_disk(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(env.releases / ".release-tmp-x"))

    monkeypatch.setattr(refresh_module, "publish", full_disk)
    before = env.state()
    result = env.run(closed_port_url(), download=False)
    assert (result.exit_code, result.status) == (1, "error")
    assert "No space left on device" in result.message and "previous data and release kept" in result.message
    assert "\n" not in result.message
    assert env.last_refresh()["status"] == "error"
    assert any("ERROR refresh error: file system error" in line for line in env.log_lines())
    assert_kept(env, before)
