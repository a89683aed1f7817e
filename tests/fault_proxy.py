"""A small HTTP server on 127.0.0.1 in front of one replica site, injecting faults per path: a status
with headers (503 + Retry-After, 5xx robots.txt...), a custom body, a delay (before a fault or before
the real page), a truncated body, or an answer held back until the test releases it (to keep a crawl
busy in a known state).

Everything else is forwarded to the replica (conditional request headers included), with the replica's
base URL rewritten to the proxy's in bodies (gzip sitemaps too), so the crawler only ever sees the
proxy. Each request is logged with its time, for checks on waits and politeness, and the most requests
in flight at once is kept (`max_in_flight`), with an optional `latency` added to every answer."""

from __future__ import annotations

import gzip
import re
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from provnews.crawler.replica.server import InFlight


@dataclass
class Fault:
    path: str  # regular expression matched against the request path (with query)
    status: int = 503
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b"fault injected"
    times: int | None = None  # how many requests get the fault; None: all
    delay: float = 0.0  # seconds before answering
    truncate: bool = False  # announce the full length, send half of the real page, hang up
    forward: bool = False  # after the delay, answer with the real page (a slow site)
    hold: threading.Event | None = None  # answer (normally) only once this is set
    hits: int = 0
    held: int = 0  # requests waiting on `hold` right now


@dataclass
class Hit:
    path: str
    status: int
    at: float
    headers: dict[str, str]


class FaultProxy:
    def __init__(self, upstream: str, *, latency: float = 0.0) -> None:
        self.upstream = upstream.rstrip("/")
        self.faults: list[Fault] = []
        self.log: list[Hit] = []
        self.lock = threading.Lock()
        self.latency = latency  # seconds added to every answer, as a distant server would
        self.in_flight = InFlight()
        self.httpd = _Server(("127.0.0.1", 0), _Handler)
        self.httpd.proxy = self
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        )

    def __enter__(self) -> FaultProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def add(self, fault: Fault) -> Fault:
        with self.lock:
            self.faults.append(fault)
        return fault

    def hits(self, pattern: str) -> list[Hit]:
        with self.lock:
            return [h for h in self.log if re.search(pattern, h.path)]

    def _fault_for(self, path: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if re.search(fault.path, path) and (fault.times is None or fault.hits < fault.times):
                    fault.hits += 1
                    return fault
        return None

    def _record(self, path: str, status: int, headers: Any) -> None:
        with self.lock:
            self.log.append(Hit(path, status, time.monotonic(), dict(headers.items())))

    @property
    def max_in_flight(self) -> int:
        return self.in_flight.most

    def fetch(self, path: str, headers: Any) -> tuple[int, dict[str, str], bytes]:
        request = urllib.request.Request(self.upstream + path)
        for name in ("If-None-Match", "If-Modified-Since", "User-Agent"):
            if headers.get(name):
                request.add_header(name, headers[name])
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                status, got, body = answer.status, dict(answer.headers.items()), answer.read()
        except urllib.error.HTTPError as error:
            status, got, body = error.code, dict(error.headers.items()), error.read()
        keep = {k: v for k, v in got.items() if k in ("Content-Type", "ETag", "Last-Modified")}
        return status, keep, self._rewrite(body)

    def _rewrite(self, body: bytes) -> bytes:
        old, new = self.upstream.encode(), self.base_url.rstrip("/").encode()
        if body[:2] == b"\x1f\x8b":
            return gzip.compress(gzip.decompress(body).replace(old, new), mtime=0)
        return body.replace(old, new)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    proxy: FaultProxy

    def handle_error(self, request: Any, client_address: Any) -> None:
        return


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_GET(self) -> None:
        proxy = self.server.proxy
        with proxy.in_flight:
            if proxy.latency:
                time.sleep(proxy.latency)
            self._answer(proxy)

    def _answer(self, proxy: FaultProxy) -> None:
        fault = proxy._fault_for(self.path)
        if fault is not None and fault.delay:
            time.sleep(fault.delay)
        if fault is not None and fault.hold is not None:
            with proxy.lock:
                fault.held += 1
            fault.hold.wait(300)
            with proxy.lock:
                fault.held -= 1
            fault = None  # then answered from upstream
        if fault is not None and not fault.truncate and not fault.forward:
            proxy._record(self.path, fault.status, self.headers)
            self.send_response(fault.status)
            for name, value in {"Content-Type": "text/plain", **fault.headers}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(fault.body)))
            self.end_headers()
            self.wfile.write(fault.body)
            return
        status, headers, body = proxy.fetch(self.path, self.headers)
        proxy._record(self.path, status, self.headers)
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if status == 304:
            self.end_headers()
            return
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if fault is not None and fault.truncate:
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body)
