"""Drive page runs on a live DataMed server the way a browser does, without a browser.

A browser tab talks to Streamlit over one websocket (``/_stcore/stream``): it sends a
``BackMsg`` asking for a script run (page name and query string), then receives the
page as ``ForwardMsg`` deltas until ``script_finished``. ``Client`` does the same, so
the server's capacity can be measured without the browsers' own CPU (issue 12):

    python -m datamed.loadtest http://127.0.0.1:8501 --sessions 10 --seconds 60

Used by ``bench/bench_serve.py`` and the tests. English output (a developer tool).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from websockets.exceptions import WebSocketException
from websockets.sync.client import connect

# home -> search -> medicine -> shortages -> comparison: the loop that froze the server
# (issue 12); the medicine and the substances exist in the real data
VISIT: tuple[tuple[str, str], ...] = (
    ("", ""),
    ("recherche", "q=doliprane"),
    ("medicament", "cis=60002283"),
    ("ruptures", ""),
    ("comparer", "s=abacavir-sulfate-d&s=anastrozole"),
)


@dataclass
class PageRun:
    page: str
    query: str
    seconds: float
    elements: int
    exceptions: list[str]
    status: str  # "ok", "exception", "timeout", "closed", "not_found"
    backend: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "ok"


class Client:
    """One session: one websocket, page runs one after another."""

    def __init__(self, url: str, *, timeout: float = 60.0, headers: dict[str, str] | None = None):
        parts = urlsplit(url)
        scheme = "wss" if parts.scheme == "https" else "ws"
        self.timeout = timeout
        self.ws = connect(
            f"{scheme}://{parts.netloc}{parts.path.rstrip('/')}/_stcore/stream",
            subprotocols=["streamlit"],
            additional_headers=headers or {},
            max_size=None,
            open_timeout=timeout,
            close_timeout=2,
            legacy=True,  # a long-lived connection, closed by close()
        )
        self.backend = (self.ws.response.headers.get("X-DataMed-Backend") or "") if self.ws.response else ""

    def run(self, page: str = "", query: str = "") -> PageRun:
        """Run one page; return when the server says the script finished."""
        msg = BackMsg()
        msg.rerun_script.page_name = page
        msg.rerun_script.query_string = query
        started = time.perf_counter()
        self.ws.send(msg.SerializeToString())
        elements, exceptions, status = 0, [], "timeout"
        deadline = started + self.timeout
        try:
            while (left := deadline - time.perf_counter()) > 0:
                try:
                    data = self.ws.recv(timeout=left)
                except TimeoutError:
                    break
                fwd = ForwardMsg()
                fwd.ParseFromString(data)
                kind = fwd.WhichOneof("type")
                if kind == "delta" and fwd.delta.WhichOneof("type") == "new_element":
                    elements += 1
                    element = fwd.delta.new_element
                    if element.WhichOneof("type") == "exception":
                        exceptions.append(f"{element.exception.type}: {element.exception.message}"[:300])
                elif kind == "page_not_found":
                    status = "not_found"
                elif kind == "script_finished":
                    if fwd.script_finished == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                        continue
                    if status != "not_found":
                        status = "exception" if exceptions else "ok"
                    break
        except (WebSocketException, OSError):
            status = "closed"
        return PageRun(page, query, time.perf_counter() - started, elements, exceptions, status, self.backend)

    def clear_cache(self) -> None:
        """What Streamlit's 'Clear cache' menu sends."""
        msg = BackMsg()
        msg.clear_cache = True
        self.ws.send(msg.SerializeToString())

    def close(self) -> None:
        self.ws.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


@dataclass
class Load:
    sessions: int
    seconds: float
    runs: list[PageRun] = field(default_factory=list)
    connect_errors: list[str] = field(default_factory=list)

    @property
    def pages_per_second(self) -> float:
        return len(self.runs) / self.seconds if self.seconds else 0.0

    def quantile(self, q: float) -> float:
        times = sorted(r.seconds for r in self.runs if r.ok)
        if not times:
            return float("nan")
        if len(times) == 1:
            return times[0]
        return statistics.quantiles(times, n=100, method="inclusive")[round(q * 100) - 1]

    @property
    def failures(self) -> list[PageRun]:
        return [r for r in self.runs if not r.ok]

    def summary(self) -> str:
        return (
            f"{self.sessions:>3} sessions: {len(self.runs):>5} pages in {self.seconds:6.1f} s = "
            f"{self.pages_per_second:6.2f} pages/s; p50 {self.quantile(0.5):6.2f} s, p95 {self.quantile(0.95):6.2f} s; "
            f"{len(self.failures)} failed, {len(self.connect_errors)} connection errors"
        )


def run_load(
    url: str,
    sessions: int,
    seconds: float,
    visit: tuple[tuple[str, str], ...] = VISIT,
    *,
    warm_rounds: int = 1,
    timeout: float = 60.0,
) -> Load:
    """``sessions`` clients loop over ``visit`` (each starting on a different page) for
    ``seconds``, after ``warm_rounds`` untimed visits by one client."""
    for _ in range(warm_rounds):
        with Client(url, timeout=timeout) as warm:
            for page, query in visit:
                warm.run(page, query)
    load = Load(sessions, seconds)
    lock = threading.Lock()
    start = threading.Barrier(sessions + 1)
    stop_at = [0.0]

    def session(k: int) -> None:
        try:
            client = Client(url, timeout=timeout)
        except (WebSocketException, OSError) as exc:
            with lock:
                load.connect_errors.append(f"{type(exc).__name__}: {exc}")
            start.wait()
            return
        start.wait()
        step = k
        with client:
            while time.perf_counter() < stop_at[0]:
                page, query = visit[step % len(visit)]
                run = client.run(page, query)
                with lock:
                    load.runs.append(run)
                if run.status == "closed":
                    return
                step += 1

    threads = [threading.Thread(target=session, args=(k,), daemon=True) for k in range(sessions)]
    for t in threads:
        t.start()
    stop_at[0] = time.perf_counter() + seconds + 3600  # set for real once all are connected
    start.wait()
    began = time.perf_counter()
    stop_at[0] = began + seconds
    for t in threads:
        t.join(seconds + timeout + 30)
    load.seconds = time.perf_counter() - began
    return load


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m datamed.loadtest", description=__doc__.splitlines()[0])
    parser.add_argument("url", help="the app's address, e.g. http://127.0.0.1:8501")
    parser.add_argument("--sessions", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args(argv)
    try:
        load = run_load(args.url, args.sessions, args.seconds)
    except (WebSocketException, OSError) as exc:
        print(f"error: cannot reach {args.url}: {exc}", file=sys.stderr)
        return 1
    print(load.summary())
    for run in load.failures[:5]:
        print(f"  failed: /{run.page}?{run.query} {run.status} {run.exceptions[:1]}")
    return 0 if not load.failures and not load.connect_errors else 2


if __name__ == "__main__":
    sys.exit(main())
