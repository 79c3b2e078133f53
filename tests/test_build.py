"""The build pipeline end to end: real data, demo data, atomicity, CLI, download."""

from __future__ import annotations

import csv
import functools
import http.server
import json
import shutil
import socket
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from datamed.core.config import REPO_ROOT
from datamed.datasets import DS, UnknownDataset
from datamed.pipeline.build import BuildError, Prepared, StepResult, build
from datamed.sources.download import DownloadError, download
from datamed.store import DataUnavailable


def run_cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "datamed", *args],
        cwd=REPO_ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
    )


SOURCE_KEYS = {  # of every manifest source entry (some add "values_rejected")
    *("path", "source", "file", "dataset", "snapshot", "sha256"),
    *("bytes", "encoding", "lines", "rows", "rejected"),
}


def test_real_build_manifest(real_prepared, shared_dir):
    manifest = json.loads((real_prepared / "manifest.json").read_text(encoding="utf-8"))
    by_path = {s["path"]: s for s in manifest["sources"]}
    # newest snapshot wins per file
    assert by_path["bdpm/2026-01-27/CIS_bdpm.txt"]["dataset"] == "specialites"
    assert "bdpm/2022-06-02/CIS_bdpm.txt" not in by_path
    assert by_path["bdpm/2023-11-18/CIS_HAS_SMR_bdpm.txt"]["snapshot"] == "2023-11-18"
    assert by_path["bdpm/2022-06-02/HAS_LiensPageCT_bdpm.txt"]["snapshot"] == "2022-06-02"
    assert any("2022-06-02/CIS_bdpm.txt (superseded" in i for i in manifest["ignored"])
    # checksums equal the ones recorded by the data's own manifest
    with open(shared_dir / "MANIFEST.csv", encoding="utf-8") as fh:
        official = {row["path"]: row["sha256"] for row in csv.DictReader(fh)}
    for path, src in by_path.items():
        if path.startswith("natural_earth/"):  # world outlines come from a registry package, not shared/
            continue
        assert src["sha256"] == official[path], path
        assert src["rows"] + src["rejected"] == src["lines"]
        assert set(src) - {"values_rejected"} == SOURCE_KEYS, path
    # a file without a date in its folder or name has no snapshot (never its modification time)
    assert by_path["atc/atc_names_fr.json"]["snapshot"] == "2026-04-25"  # from its sibling WHO_ATC-DDD_2026-04-25.csv
    assert by_path["sites/fda_decrs_france_establishments_2025-08.csv"]["snapshot"] == "2025-08"
    for path in (
        "ansm_pharmacovigilance/sa_data_annee.json",
        "ansm_datamed/ruptures_by_atc_by_annee.json",
        "geo/laposte_hexasmal.csv",
        "sites/pharmacies_idf_sirene.csv",
    ):
        assert by_path[path]["snapshot"] is None, path
    # lines dropped and values corrected (row kept) are counted apart, and add up
    rejets = pl.read_parquet(real_prepared / "rejets.parquet")
    assert manifest["rejected_lines"] == sum(s["rejected"] for s in manifest["sources"]) == 0
    assert manifest["corrected_values"] == sum(s.get("values_rejected", 0) for s in manifest["sources"]) == 420
    assert manifest["rejected_lines"] + manifest["corrected_values"] == rejets.height
    # dataset files exist with the row counts the manifest states
    for name, entry in manifest["datasets"].items():
        frame = pl.read_parquet(real_prepared / entry["file"])
        assert frame.height == entry["rows"], name
    assert manifest["datasets"]["specialites"]["rows"] == 15799
    assert manifest["datasets"]["presentations"]["rows"] == 20875
    assert manifest["code_version"] and manifest["built_at"] and manifest["demo"] is False


def test_real_build_typed_schema(real_prepared):
    spec = pl.read_parquet(real_prepared / "specialites.parquet")
    assert spec.schema["date_amm"] == pl.Date
    assert spec.schema["titulaires"] == pl.List(pl.String)
    assert spec["cis"].is_unique().all()
    dispo = pl.read_parquet(real_prepared / "disponibilites.parquet")
    assert dispo.schema["snapshot"] == pl.Date and dispo.schema["code_statut"] == pl.Int8


@pytest.mark.slow
def test_every_availability_snapshot_is_kept(tmp_path, shared_dir):
    raw = tmp_path / "raw"
    for snap in ("2026-01-27", "2026-03-01"):  # both after every date in the file
        (raw / "bdpm" / snap).mkdir(parents=True)
        shutil.copy(shared_dir / "bdpm/2026-01-27/CIS_CIP_Dispo_Spec.txt", raw / "bdpm" / snap)
    shutil.copy(shared_dir / "bdpm/2026-01-27/CIS_bdpm.txt", raw / "bdpm/2026-01-27")
    manifest = build(raw, tmp_path / "out")
    dispo = pl.read_parquet(tmp_path / "out/disponibilites.parquet")
    # 993 records per snapshot, all kept (the return dated before its start is flagged, not rejected)
    assert dispo["snapshot"].n_unique() == 2 and dispo.height == 2 * 993
    assert manifest["datasets"]["disponibilites"]["rows"] == 2 * 993


def test_atc_labels_french_else_english(real_store):
    atc = real_store.table("atc")
    labels = dict(zip(atc["code_atc"], atc["libelle"]))
    assert labels["N02BE01"] == "Paracétamol"  # French label
    fr = dict(zip(atc["code_atc"], atc["libelle_fr"]))
    missing_fr = [c for c in labels if fr[c] is None]
    assert missing_fr and all(labels[c] for c in missing_fr)  # English fallback
    assert atc["code_atc"].is_unique().all()  # WHO duplicates removed


def test_demo_build(demo_prepared):
    from datamed.demo import DEMO_MALFORMED, DEMO_PV_EXPOSURE_CONFLICTS, DEMO_PV_MALFORMED

    manifest = json.loads((demo_prepared / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["demo"] is True
    by_path = {s["path"]: s for s in manifest["sources"]}
    for path, n in {**DEMO_MALFORMED, **DEMO_PV_MALFORMED}.items():
        assert by_path[path]["rejected"] == n, path
    for path, n in DEMO_PV_EXPOSURE_CONFLICTS.items():
        assert by_path[path]["values_rejected"] == n, path
    expected = sum(DEMO_MALFORMED.values()) + sum(DEMO_PV_MALFORMED.values()) + sum(DEMO_PV_EXPOSURE_CONFLICTS.values())
    rejects = pl.read_parquet(demo_prepared / "rejets.parquet")
    not_sites = rejects.filter(~pl.col("file").str.starts_with("sites/"))
    assert not_sites.height == expected
    # sites: the one unknown kind is rejected; coordinates and postal codes fixed are reported as corrections
    sites = rejects.filter(pl.col("file").str.starts_with("sites/"))
    assert sites.filter(pl.col("reason").str.starts_with("unknown kind")).height == 1
    assert sites.filter(pl.col("reason").str.starts_with("corrected")).height >= 3
    corrections = rejects.filter(pl.col("reason").str.contains("corrected|set to missing"))
    per_source = [(s["rejected"], s.get("values_rejected", 0)) for s in by_path.values()]
    assert manifest["corrected_values"] == corrections.height == sum(v for _, v in per_source)
    assert manifest["rejected_lines"] == rejects.height - corrections.height == sum(n for n, _ in per_source)
    assert manifest["datasets"]["ei_substances"]["rows"] > 50
    assert manifest["datasets"]["ei_non_lies"]["rows"] == 3
    assert manifest["datasets"]["specialites"]["rows"] >= 200
    assert manifest["datasets"]["infos_importantes"]["rows"] > 0


def test_committed_demo_is_what_the_generator_writes(tmp_path, demo_raw):
    from datamed.demo import write_demo

    write_demo(tmp_path / "demo")
    generated = sorted(p.relative_to(tmp_path / "demo") for p in (tmp_path / "demo").rglob("*") if p.is_file())
    committed = sorted(p.relative_to(demo_raw) for p in demo_raw.rglob("*") if p.is_file())
    assert generated == committed
    for rel in generated:
        assert (tmp_path / "demo" / rel).read_bytes() == (demo_raw / rel).read_bytes(), rel


# --- atomicity ------------------------------------------------------------------------


def snapshot_folder(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def small_raw(tmp_path, shared_dir) -> Path:
    raw = tmp_path / "raw"
    (raw / "bdpm/2026-01-27").mkdir(parents=True)
    for name in ("CIS_bdpm.txt", "CIS_COMPO_bdpm.txt", "CIS_MITM.txt"):
        shutil.copy(shared_dir / "bdpm/2026-01-27" / name, raw / "bdpm/2026-01-27")
    return raw


@pytest.mark.slow
@pytest.mark.parametrize(
    "corruption, message",
    [
        (lambda b: b"\x00\x01\x02" * 1000, "bdpm/2026-01-27/CIS_bdpm.txt, line 1: binary content"),
        (lambda b: b"", "bdpm/2026-01-27/CIS_bdpm.txt: the file is empty"),
        (lambda b: b.replace(b"\t", b";"), "bdpm/2026-01-27/CIS_bdpm.txt, line 1: 15799 of 15799 lines are malformed"),
    ],
    ids=["binary", "empty", "wrong-separator"],
)
def test_failed_build_keeps_previous_output(small_raw, tmp_path, corruption, message):
    out = tmp_path / "prepared"
    build(small_raw, out)
    before = snapshot_folder(out)
    target = small_raw / "bdpm/2026-01-27/CIS_bdpm.txt"
    target.write_bytes(corruption(target.read_bytes()))
    with pytest.raises(BuildError) as err:
        build(small_raw, out)
    assert message in str(err.value)
    assert snapshot_folder(out) == before
    # no temporary folder left, and no new version beside the previous one
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".prepared")] == [".prepared.versions"]
    assert len(list((tmp_path / ".prepared.versions").iterdir())) == 1


@pytest.mark.slow
def test_cli_build_failure_exit_code_and_message(small_raw, tmp_path):
    out = tmp_path / "prepared"
    ok = run_cli("build", "--raw", str(small_raw), "--out", str(out))
    assert ok.returncode == 0, ok.stderr
    assert "CIS_bdpm.txt" in ok.stdout and "15799 rows" in ok.stdout
    manifest = (out / "manifest.json").read_bytes()
    (small_raw / "bdpm/2026-01-27/CIS_MITM.txt").write_bytes(b"garbage\x00")
    bad = run_cli("build", "--raw", str(small_raw), "--out", str(out))
    assert bad.returncode == 1
    assert "CIS_MITM.txt, line 1: binary content" in bad.stderr
    assert "previous prepared data kept" in bad.stderr
    assert (out / "manifest.json").read_bytes() == manifest


def test_build_into_an_impossible_folder_fails_before_reading(small_raw, tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder", encoding="utf-8")
    for out, reason in [(blocker / "prepared", "a parent folder is a file"), (blocker, "exists and is not a folder")]:
        with pytest.raises(BuildError, match=reason):
            build(small_raw, out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a_file", "raw"]  # no temporary folder left


@pytest.mark.slow
def test_build_without_catalogue_fails_clearly(tmp_path):
    (tmp_path / "raw/bdpm/2026-01-01").mkdir(parents=True)
    with pytest.raises(BuildError, match=r"no CIS_bdpm\.txt"):
        build(tmp_path / "raw", tmp_path / "out")
    with pytest.raises(BuildError, match="raw folder not found"):
        build(tmp_path / "nope", tmp_path / "out")


# --- download ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def bdpm_server(tmp_path, shared_dir):
    """A loopback HTTP server serving the newest shared file of each kind."""
    root = tmp_path / "served"
    root.mkdir()
    for snap in sorted((shared_dir / "bdpm").iterdir()):  # oldest first, newest overwrites
        for f in snap.glob("*.txt"):
            shutil.copy(f, root / f.name)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *a, **k: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/", root
    server.shutdown()
    server.server_close()


@pytest.mark.slow
def test_download_from_loopback_then_build(bdpm_server, tmp_path):
    url, root = bdpm_server
    raw = tmp_path / "raw"
    first = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
    result = download(raw, url=url, fetched_at=first)
    assert result.folder.parent == raw / "bdpm"
    assert set(result.missing) == {"CIS_InfoImportantes.txt"}  # not in the shared data
    for name in result.files:
        kept = result.archived if name == "CIS_CIP_Dispo_Spec.txt" else result.folder / name
        assert kept.read_bytes() == (root / name).read_bytes()
    # the availability file goes to the archive, dated and checksummed
    assert result.archived_new and result.archived.parent == raw / "disponibilites"
    assert result.archived.name.startswith("CIS_CIP_Dispo_Spec_2026-12-01T060000Z_")
    assert not (result.folder / "CIS_CIP_Dispo_Spec.txt").exists()
    # the same content again that day: nothing new; the next day, or new content, is kept
    again = download(raw, url=url, fetched_at=first + timedelta(hours=6))
    assert again.archived == result.archived and not again.archived_new
    nxt = download(raw, url=url, fetched_at=first + timedelta(days=1))
    assert nxt.archived_new and nxt.archived != result.archived
    assert result.archived.read_bytes() == (root / "CIS_CIP_Dispo_Spec.txt").read_bytes()  # never overwritten
    manifest = build(raw, tmp_path / "prepared")
    assert manifest["datasets"]["specialites"]["rows"] == 15799
    span = manifest["availability_archive"]
    assert (span["first"], span["last"], span["count"], span["gaps"]) == ("2026-12-01", "2026-12-02", 2, [])


def test_download_cli(bdpm_server, tmp_path):
    url, _ = bdpm_server
    done = run_cli("download", "--raw", str(tmp_path / "raw"), "--url", url)
    assert done.returncode == 0, done.stderr
    assert "CIS_bdpm.txt" in done.stdout and "not available (HTTP 404)" in done.stdout


def test_download_offline_fails_clearly(tmp_path):
    url = f"http://127.0.0.1:{free_port()}/"  # nothing listens there
    with pytest.raises(DownloadError, match=r"cannot reach .* Are you offline"):
        download(tmp_path / "raw", url=url, timeout=3)
    assert not (tmp_path / "raw/bdpm").exists() or not any((tmp_path / "raw/bdpm").iterdir())
    done = run_cli("download", "--raw", str(tmp_path / "raw"), "--url", url, "--timeout", "3")
    assert done.returncode == 1 and "error: cannot reach" in done.stderr


def test_each_dataset_is_made_by_one_step():
    prep = Prepared()
    prep.add("bdpm_atc", StepResult(datasets={DS.ATC: pl.DataFrame({"code_atc": ["N02BE01"]})}, ignored=["x"]))
    assert list(prep.datasets) == [DS.ATC] and prep.ignored == ["x"]
    with pytest.raises(TypeError):
        prep.datasets[DS.SUBSTANCES] = pl.DataFrame()  # steps read, never write, the datasets made before them
    with pytest.raises(BuildError, match="'atc', already made by 'bdpm_atc'"):
        prep.add("derive", StepResult(datasets={DS.ATC: pl.DataFrame()}))
    with pytest.raises(UnknownDataset):
        prep.add("derive", StepResult(datasets={"atc_typo": pl.DataFrame()}))


def test_a_swap_killed_half_way_is_undone_at_the_next_start(demo_prepared, tmp_path, capsys):
    """Killed between moving the old plain folder aside and linking the new version, a
    build leaves no prepared folder but complete versions. The next start links the
    newest one (the app then serves it, never the demo data instead), and removes what
    dead builds left."""
    import os
    import time

    from datamed.core.folders import recover, versions_dir
    from datamed.serve import ensure_prepared

    out = tmp_path / "prepared"
    older, newer = versions_dir(out) / "20260101T000000000000Z-1", versions_dir(out) / "20260102T000000000000Z-1"
    shutil.copytree(demo_prepared, older)
    shutil.copytree(demo_prepared, newer)
    (versions_dir(out) / "20260103T000000000000Z-1").mkdir()  # incomplete (no manifest): never linked
    dead_link = tmp_path / ".prepared.link-999999"  # no process has this id
    dead_link.symlink_to("nowhere")
    left = tmp_path / ".prepared.tmp-abc123"
    left.mkdir()
    fresh = tmp_path / ".prepared.tmp-live"  # a build running right now: kept
    fresh.mkdir()
    hour_ago = time.time() - 2 * 3600
    os.utime(left, (hour_ago, hour_ago))
    assert ensure_prepared(out, raw=tmp_path / "no-raw") is None  # relinked: nothing to build
    assert out.is_symlink() and out.resolve() == newer.resolve()
    assert (out / "manifest.json").read_bytes() == (demo_prepared / "manifest.json").read_bytes()
    assert not dead_link.is_symlink() and not left.exists() and fresh.exists()
    assert f"pointed at {newer.name}" in capsys.readouterr().err
    assert recover(out) == []  # nothing left to do
    # a dangling link (its version removed by hand) is pointed at the newest left
    shutil.rmtree(newer)
    assert not out.exists() and recover(out) == [f"{out}: pointed at {older.name} (a swap was interrupted)"]
    assert out.resolve() == older.resolve()


def test_installs_switch_a_link_atomically_and_keep_three_versions(demo_prepared, tmp_path):
    """Each build is a new version folder (`build` ends with `core.folders.install`;
    tests/test_refresh.py sees the layout after real builds); `prepared` is a relative
    link switched by one rename, the previous versions stay readable (a page still on
    one finishes on it), and only the newest three are kept. A plain folder from
    before becomes a version."""
    import os

    from datamed.core.folders import KEEP_VERSIONS, install, versions, versions_dir
    from datamed.store import Store

    out = tmp_path / "data" / "prepared"
    shutil.copytree(demo_prepared.resolve(), out)  # the layout before versions: a plain folder
    shutil.copytree(demo_prepared.resolve(), tmp_path / "new")
    install(tmp_path / "new", out)
    assert out.is_symlink() and not os.path.isabs(os.readlink(out))
    first = out.resolve()
    assert [p.name.endswith("-previous") for p in versions(out)] == [True, False]
    store = Store(out)
    assert store.folder == first
    for i in range(KEEP_VERSIONS):
        shutil.copytree(first, tmp_path / f"copy{i}")
        install(tmp_path / f"copy{i}", out)
    kept = sorted(versions_dir(out).iterdir())
    assert len(kept) == KEEP_VERSIONS and out.resolve() == kept[-1]
    assert first not in kept  # pruned; the store of a pruned version says so
    with pytest.raises(DataUnavailable):
        store.table(DS.SPECIALITES)


def test_a_failed_install_keeps_the_current_version(demo_prepared, tmp_path, monkeypatch):
    from datamed.core import folders

    out = tmp_path / "prepared"
    shutil.copytree(demo_prepared.resolve(), tmp_path / "copy")
    folders.install(tmp_path / "copy", out)
    before = out.resolve()

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(folders.Path, "symlink_to", broken)
    shutil.copytree(demo_prepared.resolve(), tmp_path / "next")
    with pytest.raises(OSError, match="No space left"):
        folders.install(tmp_path / "next", out)
    assert out.resolve() == before and (out / "manifest.json").exists()
    assert folders.versions(out) == [before]  # the new version went back to its temporary folder
    assert (tmp_path / "next" / "manifest.json").exists()


@pytest.mark.slow
def test_the_build_worker_dies_with_the_build(tmp_path):
    """Killed (SIGKILL, no clean-up possible), a build takes its risk-model worker
    process with it: the kernel ends the worker (PR_SET_PDEATHSIG)."""
    import os
    import signal
    import time

    build_proc = subprocess.Popen(
        [sys.executable, "-m", "datamed", "build", "--raw", "data/demo", "--out", str(tmp_path / "p")],
        cwd=REPO_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def children() -> list[int]:
        found = []
        for status in Path("/proc").glob("[0-9]*/status"):
            try:
                fields = dict(line.split(":\t", 1) for line in status.read_text().splitlines() if ":\t" in line)
            except OSError:
                continue
            if fields.get("PPid", "").strip() == str(build_proc.pid):
                found.append(int(fields["Pid"]))
        return found

    deadline = time.monotonic() + 60
    workers: list[int] = []
    while time.monotonic() < deadline and build_proc.poll() is None:
        workers = [pid for pid in children() if b"multiprocessing" in Path(f"/proc/{pid}/cmdline").read_bytes()]
        if workers:
            break
        time.sleep(0.05)
    assert workers, "the build started no worker process"
    os.kill(build_proc.pid, signal.SIGKILL)
    build_proc.wait(timeout=10)
    deadline = time.monotonic() + 30  # a worker still importing ends once its initializer runs
    while time.monotonic() < deadline and any(Path(f"/proc/{pid}").exists() for pid in workers):
        time.sleep(0.1)
    alive = []
    for pid in workers:
        try:
            state = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        if "State:\tZ" not in state:  # a zombie waiting for init is dead
            alive.append(pid)
    assert alive == [], alive


def test_a_dead_risk_worker_does_not_fail_the_build(demo_raw, tmp_path, monkeypatch):
    """A pool whose worker died (here: refuses new work) makes the build compute the risk
    step itself and say so in the manifest, instead of failing."""
    from concurrent.futures.process import BrokenProcessPool

    from datamed.pipeline import build as build_module

    class DeadPool:
        def submit(self, *args, **kwargs):
            raise BrokenProcessPool("A child process terminated abruptly")

    class DeadWorker:
        def __enter__(self):
            return DeadPool()

        def __exit__(self, *exc):
            return False

    monkeypatch.setattr(build_module, "_risk_worker", DeadWorker)
    build_module.build(demo_raw, tmp_path / "prepared")
    manifest = json.loads((tmp_path / "prepared" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["risk_model"].startswith("not evaluated") and "worker process unavailable" in manifest["risk_model"]
