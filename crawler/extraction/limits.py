"""Hard limits on extracting one page: a byte limit and a wall-clock limit.

trafilatura and lxml cannot be interrupted from another thread, and a SIGALRM handler only runs
between Python bytecodes (never inside a C-level regex or parse) and only in the main thread, which
Scrapy's reactor need not be. So extraction runs in worker processes that are reused from page to page
(the hop costs well under a millisecond) and are killed and replaced when a page overruns its deadline.
The crawl runs several at once (a pool: one thread waits on each busy worker, so the reactor does not);
the commands that extract page after page use one. Workers are started with "spawn": forking a process
that runs threads (Scrapy's DNS pool, the pool's threads) is unsafe.
"""

from __future__ import annotations

import asyncio
import functools
import multiprocessing
import os
import threading
import traceback
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from multiprocessing.connection import Connection
from types import TracebackType
from typing import Any

from provnews.crawler.extraction.extract import extract_page
from provnews.crawler.parsers import ArticleFields, NotAnArticle, load_parsers, use_parsers
from provnews.crawler.sites.registry import Site

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
DEFAULT_TIMEOUT = 5.0
_STARTUP_TIMEOUT = 60.0


class ExtractionLimitExceeded(Exception):
    """A page was dropped by a limit; ``reason`` is ``page_too_large``, ``extract_timeout`` or
    ``extract_crashed``."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


class ExtractionError(Exception):
    """The parser raised: a bug, or a page it cannot cope with. ``kind`` is the exception's type,
    ``trace`` its traceback as text (from the worker process)."""

    def __init__(self, kind: str, message: str, trace: str = "") -> None:
        super().__init__(f"{kind}: {message}")
        self.kind = kind
        self.trace = trace


def _serve(conn: Connection, parsers: dict[str, str] | None = None) -> None:
    """Worker loop: (body, url, family, content_type) in, ("ok" | "not_article" | "value_error", …) out."""
    use_parsers(parsers or {})
    conn.send(("ready", None))  # imports done: the first page's deadline is not spent importing
    while True:
        try:
            job = conn.recv()
        except EOFError:
            return
        if job is None:
            return
        body, url, family, content_type, site, known_date = job
        try:
            conn.send(("ok", extract_page(body, url, family, content_type, site, known_date)))
        except NotAnArticle as exc:
            conn.send(("not_article", exc.reason))
        except ValueError as exc:
            conn.send(("value_error", str(exc)))
        except Exception as exc:  # a parser bug must not kill the worker; report it as a failure
            conn.send(("error", (type(exc).__name__, str(exc), traceback.format_exc())))


class LimitedExtractor:
    """``extract_page`` under a size limit and a time limit (``timeout <= 0``: in-process, no time limit).

    Each thread that extracts owns one worker process: ``extract`` runs a page in the calling thread's
    worker and waits for it (the commands that extract page after page); ``extract_async`` runs it in a
    pool of ``workers`` threads, hence up to ``workers`` processes extracting at once, while the asyncio
    loop (Scrapy's reactor) goes on: only a pool thread waits on a worker's pipe."""

    def __init__(
        self,
        timeout: float = DEFAULT_TIMEOUT,
        max_bytes: int = DEFAULT_MAX_BYTES,
        parsers: dict[str, str] | None = None,
        workers: int = 1,
    ) -> None:
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.parsers = dict(parsers or {})  # families' parsers replaced (PROVNEWS_PARSERS)
        # checked before any page; put in use in this process only when pages are extracted here
        # (timeout 0): the workers install their own, and a test process must not keep a test's parser
        load_parsers(self.parsers)
        if timeout <= 0:
            use_parsers(self.parsers)
        if workers < 0:
            raise ValueError(f"extraction workers: {workers}; 0 (one per core) or more")
        self.workers = workers or os.cpu_count() or 1
        self._local = threading.local()  # this thread's worker: .process and .conn
        self._started: list[tuple[Any, Connection]] = []  # every worker started, to stop them at close
        self._lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None

    @property
    def running(self) -> int:
        """How many worker processes are alive."""
        with self._lock:
            return sum(1 for process, _ in self._started if process.is_alive())

    async def extract_async(self, body: bytes, *args: Any) -> ArticleFields:
        """``extract(body, *args)`` in one of the pool's workers, awaited on the running asyncio loop."""
        self._check_size(body)  # refused at once, without taking a worker
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="provnews-extract")
        job = functools.partial(self.extract, body, *args)
        return await asyncio.get_running_loop().run_in_executor(self._pool, job)

    def extract(
        self,
        body: bytes,
        url: str,
        family: str = "generic",
        content_type: str | None = None,
        site: Site | None = None,
        known_date: date | None = None,
    ) -> ArticleFields:
        """Fields of one page; NotAnArticle, ValueError (undecodable), ExtractionLimitExceeded or
        ExtractionError (the parser raised)."""
        self._check_size(body)
        if self.timeout <= 0:
            try:
                return extract_page(body, url, family, content_type, site, known_date)
            except (NotAnArticle, ValueError):
                raise
            except Exception as exc:
                raise ExtractionError(type(exc).__name__, str(exc), traceback.format_exc()) from exc
        conn = self._worker()
        conn.send((body, url, family, content_type, site, known_date))
        if not conn.poll(self.timeout):
            self._kill()
            raise ExtractionLimitExceeded("extract_timeout", f"extraction took over {self.timeout:g} s")
        try:
            status, payload = conn.recv()
        except (EOFError, OSError):  # the worker died (out of memory, a crash in C code)
            self._kill()
            raise ExtractionLimitExceeded("extract_crashed", "the extraction worker died") from None
        if status == "ok":
            return payload
        if status == "not_article":
            raise NotAnArticle(payload)
        if status == "value_error":
            raise ValueError(payload)
        raise ExtractionError(*payload)

    def _check_size(self, body: bytes) -> None:
        if len(body) > self.max_bytes:
            raise ExtractionLimitExceeded("page_too_large", f"{len(body)} bytes > {self.max_bytes}")

    def _worker(self) -> Connection:
        """This thread's worker, started (or replaced, when it died or was killed) if need be."""
        local = self._local
        process, conn = getattr(local, "process", None), getattr(local, "conn", None)
        if conn is not None and process is not None and process.is_alive():
            return conn
        self._kill()
        ctx = multiprocessing.get_context("spawn")
        parent, child = ctx.Pipe()
        process = ctx.Process(target=_serve, args=(child, self.parsers), name="provnews-extract", daemon=True)
        process.start()
        child.close()
        with self._lock:
            self._started = [(p, c) for p, c in self._started if p.is_alive()] + [(process, parent)]
        if not parent.poll(_STARTUP_TIMEOUT) or parent.recv()[0] != "ready":
            process.kill()
            raise RuntimeError("the extraction worker did not start")
        local.process, local.conn = process, parent
        return parent

    def _kill(self) -> None:
        """Kill this thread's worker, if any."""
        process, conn = getattr(self._local, "process", None), getattr(self._local, "conn", None)
        if process is not None:
            process.kill()
            process.join(5)
        if conn is not None:
            conn.close()
        self._local.process = self._local.conn = None

    def close(self) -> None:
        """Stop the workers, after the pages under way (politely first); the extractor can still be
        used, it starts new ones."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        self._kill()
        with self._lock:
            started, self._started = self._started, []
        for process, conn in started:
            try:
                conn.send(None)
                process.join(2)
            except (OSError, ValueError):  # its pipe is already closed
                pass
            process.kill()
            process.join(5)
            conn.close()

    def __enter__(self) -> LimitedExtractor:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
