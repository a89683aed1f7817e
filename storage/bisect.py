"""Storing a batch without losing it to one bad row: a batch whose transaction fails because of its
data is split in halves, each tried again, down to the single rows that the database refuses. Every
good row is stored; each refused one comes back with the database's message.

Only errors that a row can cause are bisected (data, constraint and size errors, and errors raised while
preparing a row); a database that is unreachable, full or locked fails every half alike, so its error is
raised at once instead of being retried for each row."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from sqlalchemy.exc import DBAPIError, OperationalError

T = TypeVar("T")
R = TypeVar("R")

# PostgreSQL SQLSTATE classes of errors that do not depend on the rows written: connection (08),
# insufficient resources such as a full disk (53), operator intervention (57), system error (58),
# serialization failures and deadlocks (40, worth a later retry of the whole batch).
_NOT_ROW_CLASSES = ("08", "40", "53", "57", "58")
MESSAGE_CHARS = 500


@dataclass
class Refused(Generic[T]):
    """An entry the database would not take, and why."""

    entry: T
    error: str


@dataclass
class Bisected(Generic[T, R]):
    """The results of the transactions that committed, and the entries refused one by one."""

    results: list[R] = field(default_factory=list)
    refused: list[Refused[T]] = field(default_factory=list)
    transactions: int = 0


def caused_by_rows(exc: BaseException) -> bool:
    """Whether rows can be the cause of this error, so that storing fewer of them may succeed."""
    if not isinstance(exc, DBAPIError):
        # Raised while preparing the rows (a value that cannot be encoded, a missing key...).
        return isinstance(exc, (ValueError, TypeError, OverflowError, LookupError, AttributeError))
    if exc.connection_invalidated:
        return False
    sqlstate = getattr(exc.orig, "sqlstate", None)
    if sqlstate:
        return not sqlstate.startswith(_NOT_ROW_CLASSES)
    # SQLite (no SQLSTATE): "database is locked", "disk I/O error", "database or disk is full" are
    # operational; constraint, data and binding errors are the rows'.
    return not isinstance(exc, OperationalError)


def describe(exc: BaseException) -> str:
    """The database's own message (first line), with its error class."""
    cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    lines = str(cause).strip().splitlines()
    return f"{type(cause).__name__}: {lines[0] if lines else ''}"[:MESSAGE_CHARS]


def store_bisected(write: Callable[[Sequence[T]], R], entries: Sequence[T]) -> Bisected[T, R]:
    """`write(entries)` (one transaction); when it fails because of its rows, the two halves are
    written in turn, recursively. A batch with one bad row costs about 2·log2(n) more transactions;
    a batch without one costs nothing more."""
    outcome: Bisected[T, R] = Bisected()
    _write(write, list(entries), outcome)
    return outcome


def _write(write: Callable[[Sequence[T]], R], entries: list[T], outcome: Bisected[T, R]) -> None:
    if not entries:
        return
    outcome.transactions += 1
    try:
        outcome.results.append(write(entries))
    except Exception as exc:
        if not caused_by_rows(exc):
            raise
        if len(entries) == 1:
            outcome.refused.append(Refused(entries[0], describe(exc)))
            return
        middle = len(entries) // 2
        _write(write, entries[:middle], outcome)
        _write(write, entries[middle:], outcome)
