"""The crawl's database writes, made in one thread off the reactor, in the order they were asked for.

Scrapy's reactor thread downloads and parses; a write that waits on the database (a lock held by
another process, a slow disk) would stop all of that. Every write of a crawl (batches of articles, URL
states, listing walks, validators) goes through `StorageWriter`: it runs in the writer's one thread, so
writes keep their order (a URL's "discovered" state before its "stored" one, a listing page's URLs
before the walk's progress), and its Deferred fires on the reactor thread with the result or the
error, where the caller counts it. URL states asked for within one turn of the reactor are written
together, in one transaction."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from twisted.internet.defer import Deferred, maybeDeferred, succeed
from twisted.internet.threads import deferToThreadPool
from twisted.python.failure import Failure
from twisted.python.threadpool import ThreadPool

from provnews.storage import Storage, UrlMark

T = TypeVar("T")


def _reactor() -> Any:
    from twisted.internet import reactor  # the running one (importing it early would install one)

    return reactor


def error_of(failure: Failure) -> BaseException:
    """The exception a failed write raised."""
    return failure.value if failure.value is not None else Exception(failure.getErrorMessage())


class StorageWriter:
    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self._pool = ThreadPool(minthreads=1, maxthreads=1, name="provnews-writer")
        self._pool.start()
        self._marks: list[UrlMark] = []  # URL states asked for in this reactor turn
        self._waiting: list[Deferred[int]] = []  # their callers

    def run(self, fn: Callable[..., T], *args: Any) -> Deferred[T]:
        """`fn(*args)` in the writer thread, after every write asked for before it."""
        self._submit_marks()
        return self._defer(fn, *args)

    def mark_urls(self, marks: Iterable[UrlMark]) -> Deferred[int]:
        """`Storage.mark_urls`, together with the other URL states asked for in this reactor turn."""
        if not self._waiting:
            _reactor().callLater(0, self._submit_marks)
        self._marks.extend(marks)
        waiter: Deferred[int] = Deferred()
        self._waiting.append(waiter)
        return waiter

    def drain(self) -> Deferred[None]:
        """Fires once every write asked for so far is done (whatever its outcome)."""
        return self.run(lambda: None)

    def close(self) -> None:
        """Stop the thread, after the writes already queued (call `drain` first to see their outcome)."""
        self._submit_marks()
        self._pool.stop()

    def _defer(self, fn: Callable[..., T], *args: Any) -> Deferred[T]:
        return deferToThreadPool(_reactor(), self._pool, fn, *args)

    def _submit_marks(self) -> None:
        if not self._waiting:
            return
        marks, self._marks = self._marks, []
        waiting, self._waiting = self._waiting, []

        def answer(result: int | Failure) -> None:
            for waiter in waiting:
                if isinstance(result, Failure):
                    waiter.errback(result)
                else:
                    waiter.callback(result)

        self._defer(self.storage.mark_urls, marks).addBoth(answer)


class InlineWriter:
    """`StorageWriter`'s interface, writing at once in the calling thread: for a store pipeline used
    outside a crawl that has a `CrawlStorage` (a script, a unit test), where there is no reactor."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    def run(self, fn: Callable[..., T], *args: Any) -> Deferred[T]:
        return maybeDeferred(fn, *args)

    def mark_urls(self, marks: Iterable[UrlMark]) -> Deferred[int]:
        return self.run(self.storage.mark_urls, list(marks))

    def drain(self) -> Deferred[None]:
        return succeed(None)

    def close(self) -> None:
        pass


Writer = StorageWriter | InlineWriter
