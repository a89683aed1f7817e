"""Accent-insensitive full-text search over stored articles (SQLite FTS5 or PostgreSQL tsvector).

Queries and documents are folded the same way (`storage.folding`); user input never reaches the
engine's query language unquoted, so operators and punctuation are just words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Connection, Engine, Select, column, func, literal_column, select, table
from sqlalchemy.exc import DBAPIError

from provnews.crawler.text.vietnamese import to_vn_iso
from provnews.storage.folding import fold_for_search
from provnews.storage.models import Article
from provnews.storage.snippet import make_snippet
from provnews.storage.sql import DateLike, article_filters

# Letters and digits only: the underscore is punctuation to FTS5's unicode61 tokenizer too.
WORD = re.compile(r"[^\W_]+")
_PART = re.compile(r'"([^"]*)"|(\S+)')
# bm25 column weights for (title, sapo, text): a hit in the title counts most.
_BM25_WEIGHTS = ("10.0", "3.0", "1.0")
# Both engines rank at most this many matches: the newest ones (highest ids) that pass the filters.
# Ranking costs per ranked row (bm25 reads positions; ts_rank reads each row's tsvector), so a common
# word in a million articles would otherwise take seconds; a query with fewer matches ranks them all.
RANK_CANDIDATES = 500


class SearchError(ValueError):
    """The query cannot be run; the message is meant for the user."""


@dataclass
class SearchHit:
    id: int
    site_id: str
    title: str
    url: str
    published_at: str | None
    snippet: str
    score: float


def parse_query(query: str) -> list[tuple[str, ...]]:
    """Folded phrases: each "quoted part" is one phrase, each other token a phrase of its words
    (`covid-19` → ('covid', '19'), like the tokenizer splits documents); a stray quote is ignored."""
    phrases = []
    for quoted, bare in _PART.findall(fold_for_search(query)):
        words = tuple(WORD.findall(quoted or bare))
        if words:
            phrases.append(words)
    return phrases


def fts5_match(phrases: list[tuple[str, ...]]) -> str:
    """An FTS5 MATCH string: every phrase double-quoted (quotes doubled), implicitly ANDed."""
    return " ".join('"' + " ".join(words).replace('"', '""') + '"' for words in phrases)


def search(
    storage_or_engine: Any,
    query: str,
    *,
    site: str | None = None,
    since: DateLike = None,
    until: DateLike = None,
    province: str | None = None,
    section: str | None = None,
    author: str | None = None,
    limit: int = 20,
    markers: tuple[str, str] = ("[", "]"),
    snippet_words: int = 30,
) -> list[SearchHit]:
    """Articles matching every word/phrase of `query`, best first (title hits rank highest)."""
    engine: Engine = getattr(storage_or_engine, "engine", storage_or_engine)
    phrases = parse_query(query)
    if not phrases:
        raise SearchError(f"nothing to search for in {query!r}: type some words")
    if limit < 1:
        raise SearchError("the limit must be at least 1")
    try:
        filters = article_filters(
            site, since, until, province=province, section=section, author=author, dialect=engine.dialect.name
        )
    except ValueError as exc:  # a malformed date
        raise SearchError(f"bad date: {exc}") from exc
    columns = (
        Article.id,
        Article.site_id,
        Article.title,
        Article.canonical_url,
        Article.published_at,
        Article.text,
    )
    if engine.dialect.name not in ("sqlite", "postgresql"):
        raise SearchError(f"search is not available on {engine.dialect.name}")
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "sqlite":
                stmt = _sqlite_query(columns, phrases)
                stmt = stmt.where(*_sqlite_candidates(conn, phrases, filters))
            else:
                stmt = _postgresql_query(conn, columns, phrases, filters)
            rows = conn.execute(stmt.where(*filters).limit(limit)).all()
    except DBAPIError as exc:
        raise SearchError(f"the search failed: {exc.orig or exc}") from exc
    return [
        SearchHit(
            id=row.id,
            site_id=row.site_id,
            title=row.title,
            url=row.canonical_url,
            published_at=to_vn_iso(row.published_at),
            snippet=make_snippet(row.text, phrases, words=snippet_words, markers=markers),
            score=float(row.score),
        )
        for row in rows
    ]


def _sqlite_query(columns: tuple[Any, ...], phrases: list[tuple[str, ...]]) -> Select[Any]:
    fts = table("articles_fts", column("rowid"))
    fts_name: ColumnElement[Any] = literal_column("articles_fts")
    # bm25() is lower for better matches; the score is its negation so that higher is better everywhere.
    rank = func.bm25(fts_name, *(literal_column(w) for w in _BM25_WEIGHTS))
    return (
        select(*columns, (-rank).label("score"))
        .select_from(fts.join(Article, Article.id == fts.c.rowid))
        .where(fts_name.op("MATCH")(fts5_match(phrases)))
        .order_by(rank, Article.id)
    )


def _sqlite_candidates(
    conn: Connection, phrases: list[tuple[str, ...]], filters: list[ColumnElement[bool]]
) -> list[ColumnElement[bool]]:
    """A lower bound on the rowid when more than RANK_CANDIDATES articles match: FTS5 walks its
    doclists newest first and stops at the bound, so only that many rows are ranked."""
    fts = table("articles_fts", column("rowid"))
    fts_name: ColumnElement[Any] = literal_column("articles_fts")
    query = select(fts.c.rowid).where(fts_name.op("MATCH")(fts5_match(phrases)))
    if filters:
        query = query.select_from(fts.join(Article, Article.id == fts.c.rowid)).where(*filters)
    query = query.order_by(fts.c.rowid.desc()).offset(RANK_CANDIDATES - 1).limit(1)
    bound = conn.execute(query).scalar()
    return [] if bound is None else [literal_column("articles_fts.rowid") >= bound]


def _postgresql_query(
    conn: Connection,
    columns: tuple[Any, ...],
    phrases: list[tuple[str, ...]],
    filters: list[ColumnElement[bool]],
) -> Select[Any]:
    config: ColumnElement[Any] = literal_column("'simple'::regconfig")
    tsquery: ColumnElement[Any] = func.phraseto_tsquery(config, " ".join(phrases[0]))
    for words in phrases[1:]:
        tsquery = tsquery.op("&&")(func.phraseto_tsquery(config, " ".join(words)))
    vector: ColumnElement[Any] = literal_column("articles.search_vector")
    match = vector.op("@@")(tsquery)
    # Weights are set when the vector is built (title A, sapo B, body C); ts_rank's defaults favour A.
    rank = func.ts_rank(vector, tsquery)
    ranked = select(*columns, rank.label("score")).order_by(rank.desc(), Article.id)
    newest = _postgresql_newest(conn, tsquery, filters)
    if newest is not None:
        return ranked.where(Article.id.in_(newest))
    # The newest matches in the whole table: for a common word the planner walks the primary key
    # backwards and stops, for a rare one it reads the GIN index.
    candidates = (
        select(Article.id)
        .where(match, *filters)
        .order_by(Article.id.desc())
        .limit(RANK_CANDIDATES)
        .subquery("candidates")
    )
    return ranked.join(candidates, candidates.c.id == Article.id)


# PostgreSQL looks for the newest matches among the newest FIRST_WINDOW ids first, then in the ids
# before them, in a range sized from the matches found so far, then in the whole table.
FIRST_WINDOW = 20_000
# A filtered search tests its filters before the text in ranges of ids up to this size (see
# `_range_matches`); in a larger one the planner's own choice (usually a `BitmapAnd` of the filter's
# index and the full-text index) reads fewer rows.
FILTERS_FIRST_MAX = 200_000


def _postgresql_newest(
    conn: Connection, tsquery: ColumnElement[Any], filters: list[ColumnElement[bool]]
) -> list[int] | None:
    """The ids of the RANK_CANDIDATES newest articles that match, when a window of the newest ids holds
    that many; None when only the whole table does.

    The GIN index cannot check a phrase's word positions, and the planner reads a filtered query by
    walking the primary key backwards: either way every candidate row's tsvector is read from the heap
    (at 1M articles, 65,000 rows for "dak lak", 84,000 for a common word on one site: 0.4-0.5 s). In
    a window of ids both become a `BitmapAnd` with the primary key, or a short walk. The window grows
    by ranges of older ids, each searched once, so the matches already found are not looked for again."""
    top = conn.execute(select(func.max(Article.id))).scalar()
    found: list[int] = []
    window, searched = FIRST_WINDOW, 0  # the ids above top - searched are searched
    while top is not None and window < top:
        query = _range_matches(top - window, top - searched, tsquery, filters)
        found += conn.execute(query.limit(RANK_CANDIDATES - len(found))).scalars()
        if len(found) == RANK_CANDIDATES:
            return found
        # Matches are spread about evenly over ids: a window expected to hold 1.5 times the need.
        searched = window
        window = max(window * 2, window * RANK_CANDIDATES * 3 // (2 * max(len(found), 1)))
    return None


def _range_matches(
    after: int, upto: int, tsquery: ColumnElement[Any], filters: list[ColumnElement[bool]]
) -> Select[Any]:
    """The articles with ids in (after, upto] that match and pass the filters, newest first.

    In a small range, filters are tested before the text: the planner walks the primary key backwards
    and tests each row, and it counts the text match as cheap as a comparison (it is not: the row's
    tsvector, kilobytes, is read from TOAST), so it tested the match first, on every row. At 1M
    articles `lao cai` in one section read 20,000 tsvectors for the 2,500 rows of that section (130
    ms on a loaded machine; 54 ms with the filters first). OFFSET 0 keeps the planner from moving the
    match into the filtered rows' query, where it would order the tests again."""
    vector: ColumnElement[Any] = literal_column("articles.search_vector")
    ids = (Article.id > after, Article.id <= upto)
    if not filters or upto - after > FILTERS_FIRST_MAX:
        rows = select(Article.id).where(*ids, *filters, vector.op("@@")(tsquery))
        return rows.order_by(Article.id.desc())
    filtered = (
        select(Article.id, vector.label("search_vector"))
        .where(*ids, *filters)
        .order_by(Article.id.desc())
        .offset(0)
        .subquery("filtered")
    )
    return (
        select(filtered.c.id).where(filtered.c.search_vector.op("@@")(tsquery)).order_by(filtered.c.id.desc())
    )
