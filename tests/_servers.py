"""Loopback HTTP servers for the download tests.

A real ``http.server.ThreadingHTTPServer`` on 127.0.0.1 (port chosen by the
OS) in a background thread. Routes are functions of (handler, query) that
return ``(status, content_type, body)``; the server counts requests per path
so tests can assert that a cache hit or an offline override made none.
"""

from __future__ import annotations

import csv
import io
import json
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

Route = Callable[[BaseHTTPRequestHandler, dict], "tuple[int, str, bytes] | None"]


class Loopback:
    """A threaded HTTP server on 127.0.0.1 serving ``routes`` (path -> Route)."""

    def __init__(self, routes: dict[str, Route]):
        self.routes = routes
        self.requests: Counter[str] = Counter()
        self._lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                parts = urllib.parse.urlsplit(self.path)
                query = {
                    k.lower(): v
                    for k, v in urllib.parse.parse_qsl(parts.query, keep_blank_values=1)
                }
                with outer._lock:
                    outer.requests[parts.path] += 1
                route = outer.routes.get(parts.path)
                try:
                    if route is None:
                        self.send_error(404, "Not Found")
                        return
                    answer = route(self, query)
                    if answer is None:  # the route wrote its own response
                        return
                    status, content_type, body = answer
                    self.send_response(status)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout tests)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self) -> Loopback:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_port}{path}"

    def count(self, prefix: str = "") -> int:
        with self._lock:
            return sum(n for path, n in self.requests.items() if path.startswith(prefix))


def feature_server(collection: dict, max_record_count: int) -> Route:
    """An ArcGIS FeatureServer ``/query``: slices the features like the real one.

    Honours ``resultOffset`` / ``resultRecordCount``, never sends more than
    ``max_record_count`` features, and flags ``exceededTransferLimit`` in the
    GeoJSON ``properties`` while more remain, as ArcGIS Online does for
    ``f=geojson``. Features get the object ids ArcGIS adds.
    """
    features = [dict(f, id=i + 1) for i, f in enumerate(collection["features"])]

    def route(handler, query):
        if query.get("f") != "geojson":
            body = json.dumps({"error": {"code": 400, "message": "Invalid format"}})
            return 200, "application/json", body.encode()
        offset = int(query.get("resultoffset", 0))
        count = min(int(query.get("resultrecordcount", max_record_count)), max_record_count)
        page = features[offset : offset + count]
        answer = {"type": "FeatureCollection", "features": page}
        if offset + len(page) < len(features):
            answer["properties"] = {"exceededTransferLimit": True}
        return 200, "application/geo+json", json.dumps(answer).encode()

    return route


def nomis_data(rows: list[dict], page_limit: int) -> Route:
    """A NOMIS ``.data.csv`` endpoint paging ``rows`` with ``RecordOffset``.

    Every row carries RECORD_OFFSET (its position) and RECORD_COUNT (the
    total), and one answer holds at most ``page_limit`` rows, as the real API
    does with its 25,000-row limit.
    """
    columns = [*rows[0].keys(), "RECORD_OFFSET", "RECORD_COUNT"]

    def route(handler, query):
        offset = int(query.get("recordoffset", 0))
        out = io.StringIO()
        writer = csv.DictWriter(out, columns, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n")
        writer.writeheader()
        for position in range(offset, min(offset + page_limit, len(rows))):
            writer.writerow(dict(rows[position], RECORD_OFFSET=position, RECORD_COUNT=len(rows)))
        return 200, "text/csv", out.getvalue().encode()

    return route


def static(body: bytes, content_type: str = "application/octet-stream") -> Route:
    return lambda handler, query: (200, content_type, body)


def slow(seconds: float, body: bytes = b"late") -> Route:
    """Answers only after ``seconds``: longer than the client's timeout."""

    def route(handler, query):
        time.sleep(seconds)
        return 200, "text/plain", body

    return route


def truncated(promised: int, sent: bytes) -> Route:
    """Promises ``promised`` bytes in Content-Length, sends fewer, hangs up."""

    def route(handler, query):
        handler.send_response(200)
        handler.send_header("Content-Type", "text/csv")
        handler.send_header("Content-Length", str(promised))
        handler.end_headers()
        handler.wfile.write(sent)
        handler.wfile.flush()
        handler.close_connection = True

    return route


def flaky(failures: int, body: bytes) -> Route:
    """Answers 503 for the first ``failures`` requests, then ``body``."""
    state = {"calls": 0}

    def route(handler, query):
        state["calls"] += 1
        if state["calls"] <= failures:
            return 503, "text/plain", b"Service Unavailable"
        return 200, "text/plain", body

    return route


def dropped(failures: int | None, body: bytes) -> Route:
    """Hangs up without an answer for the first ``failures`` requests (every one if None)."""
    state = {"calls": 0}

    def route(handler, query):
        state["calls"] += 1
        if failures is None or state["calls"] <= failures:
            handler.close_connection = True
            return None  # nothing written: the client sees the connection drop
        return 200, "text/plain", body

    return route


def stalled_then(head: bytes, promised: int, seconds: float, later: bytes) -> Route:
    """First request: ``head`` of a ``promised``-byte body, then silence for ``seconds``.

    Later requests get ``later`` whole, so a test can kill a client mid-download and
    then download again.
    """
    state = {"calls": 0}

    def route(handler, query):
        state["calls"] += 1
        if state["calls"] > 1:
            return 200, "application/octet-stream", later
        handler.send_response(200)
        handler.send_header("Content-Type", "application/octet-stream")
        handler.send_header("Content-Length", str(promised))
        handler.end_headers()
        handler.wfile.write(head)
        handler.wfile.flush()
        time.sleep(seconds)
        handler.close_connection = True
        return None

    return route
