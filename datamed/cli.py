"""Command line: ``python -m datamed {build,download,demo,search,audit,publish,refresh,serve}``.

Exit codes: 0 success, 1 failure (download, build or write; one ``error:`` line on
stderr), 2 usage error (a bad argument: one ``error:`` line, no usage dump);
``audit`` and ``publish`` add 4 (exposed counts / disclosure gate) and ``refresh`` adds 3 (quality gate),
4 (disclosure gate) and 5 (another refresh is running).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from pathlib import Path

from datamed.core import config
from datamed.datasets import DS

EXIT_CODES = (
    "exit codes: 0 ok, 1 download/build/write failure, 2 usage error, 3 stopped by a quality gate, "
    "4 stopped by the disclosure gate, 5 another refresh is running"
)

EXIT_GATE = 3


def _err(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 1


def _os_message(exc: OSError) -> str:
    """``path: reason`` of a file-system error, on one line."""
    if exc.filename is not None and exc.strerror:
        return f"{exc.filename}: {exc.strerror}"
    return str(exc).replace("\n", " ")


def _unwritable(folder: Path) -> str | None:
    """Why ``folder`` cannot be created or written into, or None if it looks writable
    (the nearest existing ancestor is a writable folder)."""
    path = Path(os.path.abspath(folder))
    for existing in (path, *path.parents):
        try:
            existing.stat()
        except (FileNotFoundError, NotADirectoryError):
            continue
        except OSError as exc:
            return _os_message(exc)
        if not existing.is_dir():
            return f"{existing} is a file, not a folder"
        if not os.access(existing, os.W_OK | os.X_OK):
            return f"{existing} is not writable"
        return None
    return None


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _fixes(rejected: int, corrected: int) -> str:
    """'2 lines rejected, 1 value corrected'."""
    return f"{_plural(rejected, 'line')} rejected, {_plural(corrected, 'value')} corrected"


def cmd_build(args) -> int:
    import shutil

    from datamed.pipeline.build import MANIFEST, BuildError, build, swap_in
    from datamed.release.refresh import Gates, evaluate_gates

    out = Path(args.out)
    problem = _unwritable(out) or _unwritable(out.parent)  # the new data is swapped in from a sibling folder
    if problem:
        return _err(f"cannot write the prepared folder {args.out}: {problem}")
    previous = out if (out / MANIFEST).exists() else None
    if previous is None or args.force:  # nothing to protect (or told to): build in place
        try:
            manifest = build(Path(args.raw), out)
        except BuildError as exc:
            return _err(f"build failed, previous prepared data kept. {exc}")
    else:  # the gates of `refresh`: a truncated or broken source never replaces good data
        staging = out.with_name(f".{out.name}.staging")
        shutil.rmtree(staging, ignore_errors=True)
        try:
            manifest = build(Path(args.raw), staging, previous=previous, staging=True)
            failed = [v for v in evaluate_gates(staging, previous, Gates()) if not v["passed"]]
            if failed:
                details = "; ".join(f"{v['gate']}: {v['detail']}" for v in failed)
                print(
                    f"error: quality gate failed ({details}); previous prepared data kept "
                    "(use --force to replace it anyway)",
                    file=sys.stderr,
                )
                return EXIT_GATE
            swap_in(staging, out)
        except BuildError as exc:
            return _err(f"build failed, previous prepared data kept. {exc}")
        except OSError as exc:
            return _err(f"cannot write the prepared folder {args.out} ({_os_message(exc)}); previous data kept")
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    print(
        f"Built {args.out} from {args.raw} in {manifest['build_seconds']:.2f} s"
        + (" (demo data)" if manifest["demo"] else "")
    )
    width = max((len(src["path"]) for src in manifest["sources"]), default=0)
    for src in manifest["sources"]:
        rejected, corrected = src.get("rejected", 0), src.get("values_rejected", 0)
        flag = f"  {_fixes(rejected, corrected)}" if rejected or corrected else ""
        snapshot = src.get("snapshot") or "non daté"  # an undated file: its date is unknown, never guessed
        print(f"  {src['path']:<{width}}  {snapshot:<10}  {src['rows']:>7} rows{flag}")
    for entry in manifest["datasets"].values():
        print(f"  -> {entry['file']:<28} {entry['rows']:>7} rows")
    rejected, corrected = manifest.get("rejected_lines", 0), manifest.get("corrected_values", 0)
    if rejected or corrected:
        print(f"Total: {_fixes(rejected, corrected)} (row kept); each listed in rejets.parquet and on the Données page")
    for item in manifest["ignored"]:
        print(f"  ignored: {item}")
    _print_pv_report(Path(args.out), manifest)
    return 0


def _print_pv_report(out: Path, manifest: dict) -> None:
    """Column verdicts and link coverage of the pharmacovigilance step."""
    import polars as pl

    if DS.EI_COLONNES not in manifest["datasets"]:
        return
    print(f"Pharmacovigilance (disclosure threshold {manifest.get('disclosure_threshold')}):")
    columns = pl.read_parquet(out / manifest["datasets"][DS.EI_COLONNES]["file"])
    for row in columns.filter(pl.col("statut") == "inutilisable").iter_rows(named=True):
        print(f"  unusable column {row['fichier']}:{row['colonne']}: {row['detail']}")
    for level, tables in (manifest.get("suppression") or {}).items():
        print(f"  joint suppression ({level} level):")
        for name, entry in tables.items():
            share = entry.get("part_cas_masques_pct")
            cases = "" if share is None else f", {share:.1f} % of the cases (substances with a published total)"
            print(f"    {name}: {entry['masquees']} of {entry['cellules']} cells withheld{cases}")
    audit = manifest.get("disclosure_audit")
    if audit:
        print(
            f"  independent audit: {audit['withheld']} withheld counts, {audit['exposed']} exposed "
            f"(threshold {audit['threshold']}, min width {audit['min_width']}), {audit['seconds']:.1f} s"
        )
        for row in audit["tables"]:
            narrowest = f", narrowest interval {row['largeur_min']}" if "largeur_min" in row else ""
            print(
                f"    {row['table']}.{row['colonne']}: {row['cellules_masquees']} withheld, "
                f"{row['cellules_exposees']} exposed{narrowest}"
            )
    if DS.EI_LIENS in manifest["datasets"]:
        n = manifest["datasets"][DS.EI_SUBSTANCES]["rows"]
        linked = pl.read_parquet(out / manifest["datasets"][DS.EI_LIENS]["file"])["ei_id"].n_unique()
        print(f"  {linked} of {n} substances linked to the BDPM; {n - linked} unmatched (see ei_non_lies.parquet)")


def cmd_download(args) -> int:
    from datamed.sources.download import DownloadError, download

    problem = _unwritable(Path(args.raw))
    if problem:
        return _err(f"cannot write the raw folder {args.raw}: {problem}")
    try:
        result = download(Path(args.raw), url=args.url, timeout=args.timeout)
    except DownloadError as exc:
        return _err(str(exc))
    for name, size in result.files.items():
        print(f"  {name:<28} {size:>10} bytes")
    for name, reason in result.missing.items():
        print(f"  {name:<28} not available ({reason})")
    if result.archived is not None:
        state = "archived" if result.archived_new else "unchanged today, already archived"
        print(f"  availability snapshot {state}: {result.archived}")
    print(f"Downloaded into {result.folder}. Next: python -m datamed build --raw {Path(args.raw)}")
    return 0


def cmd_demo(args) -> int:
    from datamed.demo.generate import write_demo

    problem = _unwritable(Path(args.out))
    if problem:
        return _err(f"cannot write the demo folder {args.out}: {problem}")
    summary = write_demo(Path(args.out))
    print(f"Demo raw data written to {args.out}")
    for name, rows in summary.items():
        print(f"  {name}: {rows}")
    return 0


def cmd_search(args) -> int:
    from datamed.store import DataUnavailable, Store
    from datamed.views.search import SearchIndex

    try:
        store = Store(Path(args.data))
    except DataUnavailable as exc:
        return _err(str(exc))
    except ValueError as exc:  # a manifest that is not JSON
        return _err(f"{Path(args.data) / 'manifest.json'}: unreadable ({exc})")
    index = SearchIndex.from_store(store)
    if args.query == "-":
        for line in sys.stdin:
            hits = index.search(line.rstrip("\n"), limit=args.limit)
            print(json.dumps([h.as_json() for h in hits], ensure_ascii=False), flush=True)
        return 0
    hits = index.search(args.query, limit=args.limit)
    if args.json:
        print(json.dumps([h.as_json() for h in hits], ensure_ascii=False))
    elif not hits:
        print("no match")
    else:
        for h in hits:
            print(f"{h.score:>3}  {h.kind:<10} {h.id:<14} {h.label}")
    return 0


def cmd_audit(args) -> int:
    from datamed.audit import AuditError, audit_tables, read_folder

    folder = Path(args.release or args.data)
    try:
        tables, texts = read_folder(folder, release=bool(args.release))
    except (OSError, ValueError) as exc:
        return _err(f"{folder}: cannot read the tables ({exc})")
    if not tables:
        return _err(f"{folder}: no pharmacovigilance table (ei_*.parquet) to audit")
    try:
        report = audit_tables(tables, texts)
    except (AuditError, ValueError) as exc:
        return _err(str(exc))
    print(report.summary())
    return 0 if report.ok else 4


def cmd_publish(args) -> int:
    from datamed.release.publish import DisclosureLeak, PublishError, publish, validate

    problem = _unwritable(Path(args.out))
    if problem:
        return _err(f"cannot write the releases folder {args.out}: {problem}. Nothing published.")
    try:
        release = publish(Path(args.data), Path(args.out), force=args.force)
    except DisclosureLeak as exc:
        print(f"error: {exc} Nothing published; the previous release is kept.".replace("\n", " "), file=sys.stderr)
        return 4
    except PublishError as exc:
        return _err(f"{exc}. Nothing published; the previous release is kept.")
    except ValueError as exc:  # a manifest that is not JSON
        return _err(f"{Path(args.data) / 'manifest.json'}: unreadable ({exc}). Nothing published.")
    print(release.message)
    if release.created:
        for name, rows in release.rows.items():
            change = release.changes.get(name, {})
            print(
                f"  {name:<24} {rows:>8} rows  {change.get('status', '')}"
                f" (+{change.get('added', 0)} -{change.get('removed', 0)} ~{change.get('changed') if change.get('changed') is not None else '-'})"
            )
        print("  " + ", ".join(f"{k} {v:.2f} s" for k, v in release.seconds.items()))
        if args.validate:
            errors = validate(release.folder)
            if errors:
                return _err(
                    f"the release does not validate with frictionless ({len(errors)} errors), first: {errors[0]}"
                )
            print("  frictionless: valid")
    return 0


GATE_FLAGS = ("max_cis_drop", "max_integrity_failures", "max_rejected_share", "max_blocking_failures")


def cmd_refresh(args) -> int:
    from datamed.release.refresh import Gates, refresh

    try:
        gates = Gates.from_file(Path(args.gates)) if args.gates else Gates()
    except OSError as exc:
        print(f"error: gates: {_os_message(exc)}", file=sys.stderr)
        return 2
    except (ValueError, TypeError) as exc:  # bad TOML, unknown gate, or a value of the wrong type
        print(f"error: gates: {exc}".replace("\n", " "), file=sys.stderr)
        return 2
    for name in GATE_FLAGS:
        if getattr(args, name) is not None:
            setattr(gates, name, getattr(args, name))
    folders = [("releases", args.releases), ("prepared", Path(args.data).parent)]
    if not args.no_download:
        folders.append(("raw", args.raw))
    for what, folder in folders:
        problem = _unwritable(Path(folder))
        if problem:
            return _err(f"cannot write the {what} folder {folder}: {problem}; nothing changed")
    result = refresh(
        Path(args.raw),
        Path(args.data),
        Path(args.releases),
        url=args.url,
        download=not args.no_download,
        gates=gates,
        validate=args.validate,
        timeout=args.timeout,
    )
    print("steps: " + ", ".join(f"{k} {v:.2f} s" for k, v in result.steps.items()))
    if result.exit_code:
        print(f"error: {result.message}".replace("\n", " "), file=sys.stderr)
    return result.exit_code


# --- argument types: a bad value is a usage error (exit 2), caught by argparse ----------------


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {text!r}")
    return value


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number (0 or more), got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {text!r}")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a number of seconds above 0, got {text!r}")
    return value


def _share(text: str) -> float:
    """A gate threshold: a finite number (a share, 0.05 = 5 %; a negative one always stops)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a share such as 0.05 (= 5 %), got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite share such as 0.05 (= 5 %), got {text!r}")
    return value


def _url(text: str) -> str:
    if not text.startswith(("http://", "https://")):
        raise argparse.ArgumentTypeError(f"expected an http:// or https:// URL, got {text!r}")
    return text


class _Parser(argparse.ArgumentParser):
    """argparse with usage errors on one line: ``error: ... (see PROG --help)``, exit 2."""

    def error(self, message: str):
        self.exit(2, f"error: {message} (see `{self.prog} --help`)\n")


def parser() -> argparse.ArgumentParser:
    p = _Parser(prog="python -m datamed", description="DataMed data pipeline and tools", epilog=EXIT_CODES)
    sub = p.add_subparsers(dest="command", required=True)

    b = sub.add_parser(
        "build",
        help="build prepared datasets from a raw folder",
        description="Raw files -> typed Parquet datasets + manifest.json, written into a temporary folder "
        "and swapped in only on success (a failed build keeps the previous prepared data).",
        epilog="exit codes: 0 ok, 1 build or write failure, 2 usage error, 3 stopped by a quality gate",
    )
    b.add_argument(
        "--raw",
        metavar="DIR",
        required=True,
        help="raw folder laid out like shared/data (bdpm/<YYYY-MM-DD>/*.txt, atc/ ...)",
    )
    b.add_argument(
        "--out",
        metavar="DIR",
        default=str(config.prepared_dir()),
        help="prepared folder (default: %(default)s, from $DATAMED_PREPARED if set)",
    )
    b.add_argument(
        "--force",
        action="store_true",
        help="replace existing prepared data even if the quality gates of `refresh` fail "
        "(e.g. a catalogue that shrank for real)",
    )
    b.set_defaults(func=cmd_build)

    d = sub.add_parser(
        "download",
        help="fetch the official BDPM files into RAW/bdpm/<today>/",
        epilog="exit codes: 0 ok, 1 download or write failure, 2 usage error",
    )
    d.add_argument(
        "--raw", metavar="DIR", default=str(config.DEFAULT_DOWNLOAD_DIR), help="raw folder (default: %(default)s)"
    )
    d.add_argument(
        "--url",
        metavar="URL",
        type=_url,
        default=None,
        help="base URL (default: $DATAMED_BDPM_URL, else the official BDPM site)",
    )
    d.add_argument(
        "--timeout",
        metavar="SECONDS",
        type=_seconds,
        default=30.0,
        help="seconds to wait for the server (default: %(default)s)",
    )
    d.set_defaults(func=cmd_download)

    m = sub.add_parser(
        "demo", help="write the synthetic demo raw folder", epilog="exit codes: 0 ok, 1 write failure, 2 usage error"
    )
    m.add_argument("--out", metavar="DIR", default=str(config.DEMO_RAW_DIR), help="folder (default: %(default)s)")
    m.set_defaults(func=cmd_demo)

    s = sub.add_parser(
        "search",
        help="search the prepared data",
        epilog="exit codes: 0 ok (also when nothing matches), 1 no readable prepared data, 2 usage error",
    )
    s.add_argument("query", help="the query, or - to read one query per line from stdin (one JSON array per line)")
    s.add_argument(
        "--limit",
        metavar="N",
        type=_positive_int,
        default=10,
        help="maximum number of hits, at least 1 (default: %(default)s)",
    )
    s.add_argument("--json", action="store_true", help="print hits as JSON (kind, id, label, score)")
    s.add_argument(
        "--data",
        metavar="DIR",
        default=str(config.prepared_dir()),
        help="prepared folder (default: %(default)s, from $DATAMED_PREPARED if set)",
    )
    s.set_defaults(func=cmd_search)

    au = sub.add_parser(
        "audit",
        help="play the attacker: feasible interval of every withheld count (integer programming)",
        description="Independent disclosure audit of the pharmacovigilance tables of a prepared folder or of a "
        "release: every withheld count whose feasible interval is too narrow (docs/disclosure.md), values "
        "derived from withheld counts, counts stated in texts. Prints counts of cells, never a value.",
        epilog="exit codes: 0 nothing exposed, 1 unreadable input, 2 usage error, 4 exposed counts found",
    )
    where = au.add_mutually_exclusive_group()
    where.add_argument(
        "--data",
        metavar="DIR",
        default=str(config.prepared_dir()),
        help="prepared folder (default: %(default)s, from $DATAMED_PREPARED if set)",
    )
    where.add_argument("--release", metavar="DIR", help="a release version folder (with data/ and its texts)")
    au.set_defaults(func=cmd_audit)

    pu = sub.add_parser(
        "publish",
        help="write a versioned open-data release (CSV, Parquet, datapackage.json)",
        description="Write a new release folder OUT/<YYYY-MM-DD>[.N]/ and update history.json and LATEST. "
        "A disclosure gate re-reads every written file first; unchanged data publishes nothing.",
        epilog="exit codes: 0 published or unchanged, 1 write or validation failure, 2 usage error, "
        "4 stopped by the disclosure gate (previous release kept)",
    )
    pu.add_argument("--out", metavar="DIR", required=True, help="releases folder (one sub-folder per version)")
    pu.add_argument(
        "--data",
        metavar="DIR",
        default=str(config.prepared_dir()),
        help="prepared folder (default: %(default)s, from $DATAMED_PREPARED if set)",
    )
    pu.add_argument("--force", action="store_true", help="publish even if the data did not change")
    pu.add_argument(
        "--validate", action="store_true", help="validate the release with frictionless (slow: ~45 s on the real data)"
    )
    pu.set_defaults(func=cmd_publish)

    r = sub.add_parser(
        "refresh",
        help="download -> build -> quality gates -> publish (for cron or CI)",
        description="Download, build into a staging folder, check the quality gates, publish, then swap "
        "in the prepared data; takes a lock and logs to RELEASES/logs/. In every failing case the "
        "prepared data and the last good release are kept. Gate flags override the --gates file.",
        epilog=EXIT_CODES,
    )
    r.add_argument(
        "--raw", metavar="DIR", default=str(config.DEFAULT_DOWNLOAD_DIR), help="raw folder (default: %(default)s)"
    )
    r.add_argument(
        "--data",
        metavar="DIR",
        default=str(config.prepared_dir()),
        help="prepared folder (default: %(default)s, from $DATAMED_PREPARED if set)",
    )
    r.add_argument(
        "--releases",
        metavar="DIR",
        default=str(config.releases_dir()),
        help="releases folder (default: %(default)s, from $DATAMED_RELEASES if set)",
    )
    r.add_argument(
        "--url",
        metavar="URL",
        type=_url,
        default=None,
        help="BDPM base URL (default: $DATAMED_BDPM_URL, else the official site)",
    )
    r.add_argument("--no-download", action="store_true", help="skip the download, rebuild from the raw folder")
    r.add_argument(
        "--gates",
        metavar="FILE",
        default=None,
        help="TOML file of gate thresholds (keys max_cis_drop, max_integrity_failures, max_rejected_share, max_blocking_failures)",
    )
    r.add_argument(
        "--max-cis-drop",
        metavar="SHARE",
        type=_share,
        default=None,
        help="stop if the CIS count drops by more than this share vs the last good data (default 0.05 = 5 %%)",
    )
    r.add_argument(
        "--max-integrity-failures",
        metavar="SHARE",
        type=_share,
        default=None,
        help="stop if the referential-integrity failure rate rises by more than this vs the last good data "
        "(default 0.01 = 1 point; the official files carry about 7.6 %% structural failures)",
    )
    r.add_argument(
        "--max-rejected-share",
        metavar="SHARE",
        type=_share,
        default=None,
        help="stop if more than this share of the raw lines are rejected (default 0.01 = 1 %%)",
    )
    r.add_argument(
        "--max-blocking-failures",
        metavar="N",
        type=_count,
        default=None,
        help="stop if more than this number of quality checks of gravity 'bloquante' fail (default 0)",
    )
    r.add_argument("--validate", action="store_true", help="validate the new release with frictionless")
    r.add_argument(
        "--timeout",
        metavar="SECONDS",
        type=_seconds,
        default=30.0,
        help="download timeout in seconds (default: %(default)s)",
    )
    r.set_defaults(func=cmd_refresh)

    sub.add_parser("serve", help="run the app (streamlit run app.py); extra options go to streamlit", add_help=False)
    return p


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["serve"]:  # options are streamlit's own: pass them through
        from datamed.serve import main as serve

        return serve(argv[1:])
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except OSError as exc:  # a folder that turned out unwritable, a full disk...
        return _err(_os_message(exc))
