"""Benchmark of ``python -m datamed refresh`` on a raw folder laid out like shared/data.

The newest BDPM snapshot is served from a loopback HTTP server (the download
step really runs, over HTTP, without the internet); the other sources and the
older BDPM snapshots are linked into a temporary raw folder. Prints the time of
each step for a first run (new release), a second run on the same data
(idempotent: nothing published) and a run stopped by a quality gate.

    python bench/bench_refresh.py --raw ../shared/data
"""

from __future__ import annotations

import argparse
import functools
import http.server
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

from datamed.release.publish import latest_release, validate
from datamed.release.refresh import Gates, refresh  # the package is installed (pip install -e .)


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


def serve(folder: Path):
    handler = functools.partial(QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}/"


def raw_without_newest_bdpm(shared: Path, work: Path) -> tuple[Path, Path]:
    """A raw folder linking every source of ``shared`` but its newest BDPM snapshot,
    which is returned to be served over HTTP."""
    raw = work / "raw"
    (raw / "bdpm").mkdir(parents=True)
    for item in shared.iterdir():
        if item.name != "bdpm":
            (raw / item.name).symlink_to(item.resolve())
    snapshots = sorted(p for p in (shared / "bdpm").iterdir() if p.is_dir())
    for snap in snapshots[:-1]:
        (raw / "bdpm" / snap.name).symlink_to(snap.resolve())
    return raw, snapshots[-1]


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--raw", default="../shared/data")
    p.add_argument("--keep", action="store_true", help="keep the temporary folder (releases, logs) for inspection")
    args = p.parse_args()
    shared = Path(args.raw)
    work = Path(tempfile.mkdtemp(prefix="datamed-bench-refresh-"))
    try:
        raw, newest = raw_without_newest_bdpm(shared, work)
        server, url = serve(newest)
        prepared, releases = work / "prepared", work / "releases"
        quiet = lambda *a: None  # noqa: E731
        for label, gates in (
            ("first run", Gates()),
            ("second run (same data)", Gates()),
            ("gate stop (max_cis_drop=-1)", Gates(max_cis_drop=-1.0)),
        ):
            t = time.perf_counter()
            result = refresh(raw, prepared, releases, url=url, gates=gates, echo=quiet)
            total = time.perf_counter() - t
            steps = ", ".join(f"{k} {v:.2f} s" for k, v in result.steps.items())
            print(
                f"refresh, {label}: {total:.2f} s, exit {result.exit_code} ({result.status}: {result.message.splitlines()[0][:90]})"
            )
            print(f"  steps: {steps}")
        server.shutdown()
        t = time.perf_counter()

        errors = validate(latest_release(releases))
        print(f"frictionless validation of the release: {time.perf_counter() - t:.1f} s, {len(errors)} error(s)")
        if "--keep" in sys.argv:
            print(f"kept {work}")
            return 0
    finally:
        if "--keep" not in sys.argv:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
