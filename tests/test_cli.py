"""The command line's weak spots: every bad path or argument gives one ``error:`` line
on stderr and the documented exit code (README, "Publishing open data": 0 ok,
1 download/build/write failure, 2 usage, 3 quality gate, 4 disclosure gate,
5 locked), never a traceback; ``--help`` agrees with the README; the build report
separates rejected lines from corrected values and never invents a snapshot date."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from datamed.core.config import REPO_ROOT


def run(*args: str, module: str = "datamed", env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=REPO_ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=300,
    )


def assert_one_error_line(done: subprocess.CompletedProcess, code: int, *fragments: str) -> str:
    """Exit ``code``, exactly one ``error: ...`` line on stderr, no traceback."""
    assert done.returncode == code, (done.returncode, done.stderr)
    assert "Traceback" not in done.stderr and "Traceback" not in done.stdout
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: "), lines[0]
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]


def flat(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture
def a_file(tmp_path) -> Path:
    path = tmp_path / "a_file"
    path.write_text("not a folder\n", encoding="utf-8")
    return path


# --- output paths: exit 1, one line ------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(
    "command",
    [
        ["build", "--raw", "data/demo", "--out"],
        ["publish", "--data", "data/prepared", "--out"],
        ["demo", "--out"],
        ["download", "--url", "http://127.0.0.1:9/", "--raw"],
        ["refresh", "--no-download", "--raw", "data/demo", "--releases"],
    ],
    ids=["build", "publish", "demo", "download", "refresh"],
)
def test_output_path_under_a_regular_file(command, a_file):
    done = run(*command, str(a_file / "out"))
    assert_one_error_line(done, 1, "cannot write", f"{a_file} is a file, not a folder")
    assert a_file.read_text(encoding="utf-8") == "not a folder\n"


def test_output_path_is_a_regular_file(a_file):
    assert_one_error_line(run("build", "--raw", "data/demo", "--out", str(a_file)), 1, "is a file, not a folder")
    assert_one_error_line(run("demo", "--out", str(a_file)), 1, "is a file, not a folder")


@pytest.mark.parametrize("command", [["build", "--raw", "data/demo"], ["publish"], ["demo"]], ids=lambda c: c[0])
def test_read_only_output_folder(command, tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        if os.access(locked, os.W_OK):
            pytest.skip("running as root: a read-only folder is still writable")
        done = run(*command, "--out", str(locked / "out"))
        assert_one_error_line(done, 1, "cannot write", "not writable")
    finally:
        locked.chmod(0o755)


@pytest.mark.parametrize("command", [["build", "--raw", "data/demo"], ["publish"], ["demo"]], ids=lambda c: c[0])
def test_read_only_output_folder_in_process(command, tmp_path, monkeypatch, capsys):
    """The same check where root could write anyway: os.access is told the folder is read-only."""
    from datamed import cli

    monkeypatch.setattr(cli.os, "access", lambda path, mode: Path(path) != tmp_path)
    assert cli.main([*command, "--out", str(tmp_path / "out")]) == 1
    what = {"build": "prepared", "publish": "releases", "demo": "demo"}[command[0]]
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith(f"error: cannot write the {what} folder {tmp_path / 'out'}: {tmp_path} is not writable")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux /proc")
@pytest.mark.parametrize("command", ["build", "publish", "demo"])
def test_output_folder_nobody_can_create(command, demo_raw, demo_prepared):
    """/proc accepts no new folder, even for root: the failure comes from the write itself."""
    inputs = {"build": ["--raw", str(demo_raw)], "publish": ["--data", str(demo_prepared)], "demo": []}[command]
    done = run(command, *inputs, "--out", "/proc/datamed-test-out")
    assert_one_error_line(done, 1, "/proc/datamed-test-out")


# --- input paths ---------------------------------------------------------------------------------


@pytest.mark.slow
def test_missing_inputs_fail_with_one_line(tmp_path):
    assert_one_error_line(
        run("build", "--raw", str(tmp_path / "nope"), "--out", str(tmp_path / "out")), 1, "raw folder not found"
    )
    assert_one_error_line(run("search", "x", "--data", str(tmp_path / "nope")), 1, "no manifest.json")
    assert_one_error_line(
        run("publish", "--data", str(tmp_path / "nope"), "--out", str(tmp_path / "rel")), 1, "no manifest.json"
    )
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "manifest.json").write_text("{not json", encoding="utf-8")
    assert_one_error_line(run("search", "x", "--data", str(broken)), 1, "manifest.json: unreadable")
    assert_one_error_line(run("publish", "--data", str(broken), "--out", str(tmp_path / "rel")), 1, "unreadable")


# --- usage errors: exit 2, one line --------------------------------------------------------------


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["search", "x", "--limit", "0"], "--limit: must be at least 1"),
        (["search", "x", "--limit", "-3"], "--limit: must be at least 1"),
        (["search", "x", "--limit", "ten"], "--limit: expected a whole number"),
        (["download", "--timeout", "0"], "--timeout: must be a number of seconds above 0"),
        (["download", "--timeout", "-1"], "--timeout"),
        (["download", "--timeout", "inf"], "--timeout"),
        (["download", "--url", "ftp://example.org/"], "--url: expected an http:// or https:// URL"),
        (["refresh", "--max-cis-drop", "nan"], "--max-cis-drop: must be a finite share"),
        (["refresh", "--max-integrity-failures", "inf"], "--max-integrity-failures: must be a finite share"),
        (["refresh", "--max-rejected-share", "x"], "--max-rejected-share: expected a share"),
        (["refresh", "--max-blocking-failures", "-1"], "--max-blocking-failures: must be 0 or more"),
        (["build"], "the following arguments are required: --raw"),
        (["publish"], "the following arguments are required: --out"),
        (["nosuchcommand"], "invalid choice"),
        ([], "the following arguments are required"),
        (["build", "--raw", "x", "--bogus"], "unrecognized arguments: --bogus"),
    ],
)
def test_usage_errors(args, fragment):
    line = assert_one_error_line(run(*args), 2, fragment)
    assert "--help" in line  # says where to look


def test_refresh_gates_file_errors(tmp_path):
    assert_one_error_line(run("refresh", "--gates", str(tmp_path / "nope.toml")), 2, "gates:", "nope.toml")
    bad = tmp_path / "gates.toml"
    bad.write_text("max_cis_dorp = 0.1\n", encoding="utf-8")
    assert_one_error_line(run("refresh", "--gates", str(bad)), 2, "unknown gate")
    bad.write_text("max_cis_drop = [1]\n", encoding="utf-8")
    assert_one_error_line(run("refresh", "--gates", str(bad)), 2, "gates:")


def test_search_accepts_a_positive_limit(demo_prepared):
    done = run("search", "a", "--limit", "1", "--json", "--data", str(demo_prepared))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("[")


# --- help texts agree with the README ------------------------------------------------------------


def _readme_gates() -> dict[str, str]:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    return dict(re.findall(r"^\| `(max_\w+)` \| ([\d.]+) \|", readme, flags=re.M))


def test_refresh_help_agrees_with_the_readme():
    done = run("refresh", "--help")
    assert done.returncode == 0 and not done.stderr
    text = flat(done.stdout)
    gates = _readme_gates()
    assert set(gates) == {"max_cis_drop", "max_integrity_failures", "max_rejected_share", "max_blocking_failures"}
    for gate, default in gates.items():
        flag = "--" + gate.replace("_", "-")
        described = text.split(flag + " ")[2].split(" --")[0]  # after the usage line: the option's own help
        assert f"default {default}" in described, (gate, described)
    integrity = text.split("--max-integrity-failures ")[2].split(" --")[0]
    assert "rises by more than" in integrity and "last good data" in integrity and "1 point" in integrity
    assert "above this referential-integrity failure rate" not in text  # the old, absolute wording
    for code, meaning in [
        (0, "ok"),
        (1, "download/build/write failure"),
        (2, "usage"),
        (3, "quality gate"),
        (4, "disclosure gate"),
        (5, "another refresh is running"),
    ]:
        assert re.search(rf"\b{code} [^,]*{re.escape(meaning)}", text), (code, meaning)


def test_help_of_every_command():
    helps = {}
    for command in ("build", "download", "demo", "search", "audit", "publish", "refresh"):
        done = run(command, "--help")
        assert done.returncode == 0 and not done.stderr, command
        assert done.stdout.startswith(f"usage: python -m datamed {command}")
        helps[command] = done.stdout
    # serve hands its options to `streamlit run`, whose help lists them
    done = run("serve", "--help")
    assert done.returncode == 0, done.stderr
    helps["serve"] = done.stdout
    # the options the README shows are the ones the commands take
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    shown = re.findall(r"python3? -m datamed (\w+) ([^#\n`]*)", readme)
    assert len(shown) > 8
    for command, options in shown:
        for option in re.findall(r"--[a-z-]+", options):
            assert option in helps[command], (command, option)
    publish = flat(helps["publish"])
    assert "4 stopped by the disclosure gate" in publish and "~45 s" in publish


def test_serve_help_is_streamlits_and_builds_nothing(tmp_path):
    done = run("serve", "--help", env={"DATAMED_PREPARED": str(tmp_path / "prepared")})
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Usage: streamlit run")
    assert not (tmp_path / "prepared").exists()


def test_demo_module_help():
    done = run("--help", module="datamed.demo")
    assert done.returncode == 0 and not done.stderr
    assert done.stdout.startswith("usage:") and "OUT_DIR" in done.stdout


# --- build report --------------------------------------------------------------------------------


@pytest.mark.slow
def test_build_report_separates_rejected_lines_from_corrected_values(demo_raw, tmp_path):
    import json

    from datamed.demo import DEMO_MALFORMED, DEMO_PV_EXPOSURE_CONFLICTS, DEMO_PV_MALFORMED

    done = run("build", "--raw", str(demo_raw), "--out", str(tmp_path / "prepared"))
    assert done.returncode == 0, done.stderr
    manifest = json.loads((tmp_path / "prepared/manifest.json").read_text(encoding="utf-8"))
    lines = {line.split()[0]: line for line in done.stdout.splitlines() if line.startswith("  ") and "rows" in line}
    for src in manifest["sources"]:
        line = lines[src["path"]]
        rejected, corrected = src["rejected"], src.get("values_rejected", 0)
        if rejected or corrected:
            assert re.search(rf"\b{rejected} lines? rejected, {corrected} values? corrected$", line), line
        else:
            assert "rejected" not in line and "corrected" not in line, line
        # an undated file shows "non daté", never the day of the build
        assert (src["snapshot"] or "non daté") in line, line
    for path, n in {**DEMO_MALFORMED, **DEMO_PV_MALFORMED}.items():
        assert f"{n} line{'s' if n > 1 else ''} rejected" in lines[path]
    for path, n in DEMO_PV_EXPOSURE_CONFLICTS.items():
        assert f"{n} value{'s' if n > 1 else ''} corrected" in lines[path]
    undated = [s for s in manifest["sources"] if s["path"].startswith("ansm_pharmacovigilance/")]
    assert undated and all(s["snapshot"] is None for s in undated)
    assert "non daté" in lines[undated[0]["path"]]
    # totals add up: per source, and to the rejets table
    n_lines = sum(s["rejected"] for s in manifest["sources"])
    n_values = sum(s.get("values_rejected", 0) for s in manifest["sources"])
    assert (manifest["rejected_lines"], manifest["corrected_values"]) == (n_lines, n_values)
    assert n_lines and n_values
    total = next(line for line in done.stdout.splitlines() if line.startswith("Total: "))
    assert total.startswith(f"Total: {n_lines} lines rejected, {n_values} values corrected")


def _write_pv(folder: Path, age_statuses: list[str | None]) -> None:
    """A one-substance prepared folder: 38 cases, by age class with the given statuses."""
    import polars as pl

    folder.mkdir(parents=True)
    values = [9, 9, 20]
    pl.DataFrame({"ei_id": ["x"], "n_cas": [38], "n_cas_statut": [None]}).write_parquet(
        folder / "ei_substances.parquet"
    )
    pl.DataFrame(
        {
            "ei_id": ["x"] * 3,
            "age": ["0-19", "20-59", "60+"],
            "n_cas": [None if s else v for v, s in zip(values, age_statuses)],
            "n_cas_statut": age_statuses,
        },
        schema_overrides={"n_cas_statut": pl.String},
    ).write_parquet(folder / "ei_age.parquet")


def test_audit_exit_codes_and_no_value_in_its_output(tmp_path):
    _write_pv(tmp_path / "leaky", ["primaire", "primaire", None])  # 18 shared by two 0..10 cells: 8..10 each
    done = run("audit", "--data", str(tmp_path / "leaky"))
    assert done.returncode == 4, done.stderr
    assert "2 exposed" in done.stdout and "ei_age.n_cas: 2 of 2 exposed" in done.stdout
    assert not re.search(r"\b(8|9|10|18)\b", done.stdout.split("(threshold")[1].split(")", 1)[1])
    _write_pv(tmp_path / "safe", ["masqué", "masqué", None])  # 0..18 each: protected
    done = run("audit", "--data", str(tmp_path / "safe"))
    assert done.returncode == 0 and "0 exposed" in done.stdout, done.stdout
    assert_one_error_line(run("audit", "--data", str(tmp_path / "absent")), 1, "absent")
    assert_one_error_line(run("audit", "--release", str(tmp_path / "safe")), 1, "data")


@pytest.mark.slow
def test_build_runs_the_refresh_gates_before_replacing_prepared_data(tmp_path, shared_dir, capsys):
    """A main medicines file cut mid-line at 50 % used to go live (15,799 -> 7,846
    medicines, exit 0). Now `build` stops at the CIS-drop gate (exit 3) and keeps
    the previous data; `--force` replaces it on purpose."""
    import polars as pl

    from datamed import cli

    raw = tmp_path / "raw"
    (raw / "bdpm/2026-01-27").mkdir(parents=True)
    for name in ("CIS_bdpm.txt", "CIS_COMPO_bdpm.txt"):
        shutil.copy(shared_dir / "bdpm/2026-01-27" / name, raw / "bdpm/2026-01-27")
    out = tmp_path / "prepared"
    assert cli.main(["build", "--raw", str(raw), "--out", str(out)]) == 0
    before = (out / "manifest.json").read_bytes()
    main_file = raw / "bdpm/2026-01-27/CIS_bdpm.txt"
    data = main_file.read_bytes()
    main_file.write_bytes(data[: len(data) // 2])  # cut mid-line
    capsys.readouterr()
    assert cli.main(["build", "--raw", str(raw), "--out", str(out)]) == 3
    err = capsys.readouterr().err
    assert "quality gate failed (max_cis_drop" in err and "previous prepared data kept" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert (out / "manifest.json").read_bytes() == before
    # no staging folder left behind (the versions behind the `prepared` link stay)
    assert [p.name for p in tmp_path.glob(".prepared*")] == [".prepared.versions"]
    assert cli.main(["build", "--raw", str(raw), "--out", str(out), "--force"]) == 0
    assert pl.read_parquet(out / "specialites.parquet").height < 8_000
