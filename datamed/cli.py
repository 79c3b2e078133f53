"""Command line: ``python -m datamed {build,download,demo,search,publish,refresh,serve}``.

Exit codes: 0 success, 1 failure (message on stderr), 2 usage error; ``publish``
and ``refresh`` add 3 (quality gate), 4 (disclosure gate) and 5 (refresh locked).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from datamed.core import config


def _err(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 1


def cmd_build(args) -> int:
    from datamed.pipeline.build import BuildError, build

    try:
        manifest = build(Path(args.raw), Path(args.out))
    except BuildError as exc:
        return _err(f"build failed, previous prepared data kept. {exc}")
    print(f"Built {args.out} from {args.raw} in {manifest['build_seconds']:.2f} s" + (" (demo data)" if manifest["demo"] else ""))
    for src in manifest["sources"]:
        flag = f"  {src['rejected']} rejected" if src["rejected"] else ""
        print(f"  {src['path']:<48} {src['snapshot']}  {src['rows']:>7} rows{flag}")
    for name, entry in manifest["datasets"].items():
        print(f"  -> {entry['file']:<28} {entry['rows']:>7} rows")
    if manifest["rejected_lines"]:
        print(f"{manifest['rejected_lines']} rejected line(s): see rejets.parquet / the Données page")
    for item in manifest["ignored"]:
        print(f"  ignored: {item}")
    _print_pv_report(Path(args.out), manifest)
    return 0


def _print_pv_report(out: Path, manifest: dict) -> None:
    """Column verdicts and link coverage of the pharmacovigilance step."""
    import polars as pl

    if "ei_colonnes" not in manifest["datasets"]:
        return
    print(f"Pharmacovigilance (disclosure threshold {manifest.get('disclosure_threshold')}):")
    columns = pl.read_parquet(out / "ei_colonnes.parquet")
    for row in columns.filter(pl.col("statut") == "inutilisable").iter_rows(named=True):
        print(f"  unusable column {row['fichier']}:{row['colonne']}: {row['detail']}")
    if "ei_liens" in manifest["datasets"]:
        n = manifest["datasets"]["ei_substances"]["rows"]
        linked = pl.read_parquet(out / "ei_liens.parquet")["ei_id"].n_unique()
        print(f"  {linked} of {n} substances linked to the BDPM; {n - linked} unmatched (see ei_non_lies.parquet)")


def cmd_download(args) -> int:
    from datamed.sources.download import DownloadError, download

    try:
        result = download(Path(args.raw), url=args.url, timeout=args.timeout)
    except DownloadError as exc:
        return _err(str(exc))
    for name, size in result.files.items():
        print(f"  {name:<28} {size:>10} bytes")
    for name, reason in result.missing.items():
        print(f"  {name:<28} not available ({reason})")
    print(f"Downloaded into {result.folder}. Next: python -m datamed build --raw {Path(args.raw)}")
    return 0


def cmd_demo(args) -> int:
    from datamed.demo.generate import write_demo

    summary = write_demo(Path(args.out))
    print(f"Demo raw data written to {args.out}")
    for name, rows in summary.items():
        print(f"  {name}: {rows}")
    return 0


def cmd_search(args) -> int:
    from datamed.views.search import SearchIndex
    from datamed.store import DataUnavailable, Store

    try:
        store = Store(Path(args.data))
    except DataUnavailable as exc:
        return _err(str(exc))
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


def cmd_publish(args) -> int:
    from datamed.release.publish import DisclosureLeak, PublishError, publish, validate

    try:
        release = publish(Path(args.data), Path(args.out), force=args.force)
    except DisclosureLeak as exc:
        print(f"error: {exc}\nNothing published; the previous release is kept.", file=sys.stderr)
        return 4
    except PublishError as exc:
        return _err(f"{exc}. Nothing published; the previous release is kept.")
    print(release.message)
    if release.created:
        for name, rows in release.rows.items():
            change = release.changes.get(name, {})
            print(f"  {name:<24} {rows:>8} rows  {change.get('status', '')}"
                  f" (+{change.get('added', 0)} -{change.get('removed', 0)} ~{change.get('changed') if change.get('changed') is not None else '-'})")
        print("  " + ", ".join(f"{k} {v:.2f} s" for k, v in release.seconds.items()))
        if args.validate:
            errors = validate(release.folder)
            if errors:
                return _err(f"the release does not validate with frictionless ({len(errors)} errors), first: {errors[0]}")
            print("  frictionless: valid")
    return 0


def cmd_refresh(args) -> int:
    from datamed.release.refresh import Gates, refresh

    try:
        gates = Gates.from_file(Path(args.gates)) if args.gates else Gates()
    except (OSError, ValueError) as exc:
        print(f"error: gates: {exc}", file=sys.stderr)
        return 2
    for name in ("max_cis_drop", "max_integrity_failures", "max_rejected_share"):
        if getattr(args, name) is not None:
            setattr(gates, name, getattr(args, name))
    result = refresh(
        Path(args.raw), Path(args.data), Path(args.releases), url=args.url, download=not args.no_download,
        gates=gates, validate=args.validate, timeout=args.timeout,
    )  # fmt: skip
    print("steps: " + ", ".join(f"{k} {v:.2f} s" for k, v in result.steps.items()))
    if result.exit_code:
        print(f"error: {result.message}", file=sys.stderr)
    return result.exit_code


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m datamed", description="DataMed data pipeline and tools")
    sub = p.add_subparsers(dest="command", required=True)

    b = sub.add_parser("build", help="build prepared datasets from a raw folder")
    b.add_argument("--raw", required=True, help="raw folder laid out like shared/data (bdpm/<date>/*.txt, atc/ ...)")
    b.add_argument("--out", default=str(config.prepared_dir()), help="prepared folder (default: %(default)s)")
    b.set_defaults(func=cmd_build)

    d = sub.add_parser("download", help="fetch the official BDPM files into RAW/bdpm/<today>/")
    d.add_argument("--raw", default=str(config.DEFAULT_DOWNLOAD_DIR), help="raw folder (default: %(default)s)")
    d.add_argument("--url", default=None, help="base URL (default: the official BDPM site)")
    d.add_argument("--timeout", type=float, default=30.0)
    d.set_defaults(func=cmd_download)

    m = sub.add_parser("demo", help="write the synthetic demo raw folder")
    m.add_argument("--out", default=str(config.DEMO_RAW_DIR), help="folder (default: %(default)s)")
    m.set_defaults(func=cmd_demo)

    s = sub.add_parser("search", help="search the prepared data")
    s.add_argument("query", help="the query, or - to read one query per line from stdin")
    s.add_argument("--limit", type=int, default=10)
    s.add_argument("--json", action="store_true", help="print hits as JSON (kind, id, label, score)")
    s.add_argument("--data", default=str(config.prepared_dir()), help="prepared folder (default: %(default)s)")
    s.set_defaults(func=cmd_search)

    pu = sub.add_parser("publish", help="write a versioned open-data release (CSV, Parquet, datapackage.json)")
    pu.add_argument("--out", required=True, help="releases folder (one sub-folder per version)")
    pu.add_argument("--data", default=str(config.prepared_dir()), help="prepared folder (default: %(default)s)")
    pu.add_argument("--force", action="store_true", help="publish even if the data did not change")
    pu.add_argument("--validate", action="store_true", help="validate the release with frictionless (slow: ~45 s on the real data)")
    pu.set_defaults(func=cmd_publish)

    r = sub.add_parser("refresh", help="download -> build -> quality gates -> publish (for cron or CI)")
    r.add_argument("--raw", default=str(config.DEFAULT_DOWNLOAD_DIR), help="raw folder (default: %(default)s)")
    r.add_argument("--data", default=str(config.prepared_dir()), help="prepared folder (default: %(default)s)")
    r.add_argument("--releases", default=str(config.releases_dir()), help="releases folder (default: %(default)s)")
    r.add_argument("--url", default=None, help="BDPM base URL (default: the official site)")
    r.add_argument("--no-download", action="store_true", help="skip the download, rebuild from the raw folder")
    r.add_argument("--gates", default=None, help="TOML file of gate thresholds")
    r.add_argument("--max-cis-drop", type=float, default=None, help="stop if the CIS count drops by more than this share (default 0.05)")
    r.add_argument("--max-integrity-failures", type=float, default=None, help="stop above this referential-integrity failure rate (default 0.01)")
    r.add_argument("--max-rejected-share", type=float, default=None, help="stop above this share of rejected raw lines (default 0.01)")
    r.add_argument("--validate", action="store_true", help="validate the new release with frictionless")
    r.add_argument("--timeout", type=float, default=30.0)
    r.set_defaults(func=cmd_refresh)

    sub.add_parser("serve", help="run the app (streamlit run app.py); extra options go to streamlit", add_help=False)
    return p


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["serve"]:  # options are streamlit's own: pass them through
        from datamed.serve import main as serve

        return serve(argv[1:])
    args = parser().parse_args(argv)
    if getattr(args, "limit", 1) < 1:
        return _err("--limit must be at least 1")
    return args.func(args)
