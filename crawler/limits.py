"""Hard limits on extracting one page: a byte limit and a wall-clock limit.

trafilatura and lxml cannot be interrupted from another thread, and a SIGALRM handler only runs
between Python bytecodes (never inside a C-level regex or parse) and only in the main thread, which
Scrapy's reactor need not be. So extraction runs in a worker process that is reused from page to page
(the hop costs well under a millisecond) and is killed and replaced when a page overruns its deadline.
The worker is started with "spawn": forking a process that runs threads (Scrapy's DNS pool) is unsafe.
"""

from __future__ import annotations

import multiprocessing
import traceback
from datetime import date
from multiprocessing.connection import Connection
from types import TracebackType
from typing import Any

from crawler.extraction import extract_page
from crawler.parsers import ArticleFields, NotAnArticle, use_parsers
from crawler.registry import Site

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
    """``extract_page`` under a size limit and a time limit (``timeout <= 0``: in-process, no time limit)."""

    def __init__(
        self,
        timeout: float = DEFAULT_TIMEOUT,
        max_bytes: int = DEFAULT_MAX_BYTES,
        parsers: dict[str, str] | None = None,
    ) -> None:
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.parsers = dict(parsers or {})  # families' parsers replaced (PROVNEWS_PARSERS)
        use_parsers(self.parsers)  # in this process too (timeout 0), and checked before any page
        self._process: Any = None
        self._conn: Connection | None = None

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
        if len(body) > self.max_bytes:
            raise ExtractionLimitExceeded("page_too_large", f"{len(body)} bytes > {self.max_bytes}")
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

    def _worker(self) -> Connection:
        if self._conn is None or self._process is None or not self._process.is_alive():
            self._kill()
            ctx = multiprocessing.get_context("spawn")
            parent, child = ctx.Pipe()
            self._process = ctx.Process(
                target=_serve, args=(child, self.parsers), name="provnews-extract", daemon=True
            )
            self._process.start()
            child.close()
            if not parent.poll(_STARTUP_TIMEOUT) or parent.recv()[0] != "ready":
                self._process.kill()
                raise RuntimeError("the extraction worker did not start")
            self._conn = parent
        return self._conn

    def _kill(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.join(5)
        if self._conn is not None:
            self._conn.close()
        self._process = self._conn = None

    def close(self) -> None:
        """Stop the worker (politely first); the extractor can still be used, it starts a new one."""
        if self._conn is not None and self._process is not None and self._process.is_alive():
            try:
                self._conn.send(None)
                self._process.join(2)
            except (OSError, ValueError):
                pass
        self._kill()

    def __enter__(self) -> LimitedExtractor:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
