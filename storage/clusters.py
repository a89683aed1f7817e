"""Near-duplicate clusters, kept up to date at insert: each article joins the cluster of its most similar
earlier copy, or starts its own (cluster_id = its own id). Every copy keeps its own row."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import Connection, bindparam, delete, func, select, tuple_, update

from provnews.storage import neardup, pgcopy
from provnews.storage.models import Article, NearDupKey
from provnews.storage.sql import bound_list, chunks, in_bound_list, sqlite_insert_many


@dataclass
class Signed:
    """An article just written: its id, new signature and the signature it had before (updates)."""

    id: int
    sig: list[int] | None
    old_sig: list[int] | None = None


@dataclass
class _Candidate:
    id: int
    cluster_id: int
    sig: list[int]


def assign_clusters(conn: Connection, articles: Sequence[Signed]) -> dict[int, int]:
    """Set cluster_id and band keys of `articles` (in order, so a batch can hold several copies of one
    story) within the caller's transaction; returns {article id: cluster id}."""
    if not articles:
        return {}
    clusters, keys = plan_clusters(conn, articles)
    stmt = update(Article).where(Article.id == bindparam("b_id")).values(cluster_id=bindparam("b_cluster"))
    conn.execute(stmt, [{"b_id": id_, "b_cluster": c} for id_, c in clusters.items()])
    save_keys(conn, keys)
    return clusters


def plan_clusters(
    conn: Connection, articles: Sequence[Signed]
) -> tuple[dict[int, int], dict[int, list[int]]]:
    """The cluster of each article ({id: cluster id}) and its band keys ({id: keys}), without writing
    either (the caller stores them, e.g. with the article row); the old keys of updated articles are
    dropped. The articles need not be written yet: candidates are read from `near_dup_keys`."""
    _drop_keys(conn, [(key, a.id) for a in articles if a.old_sig for key in neardup.band_keys(a.old_sig)])
    keys = {a.id: neardup.band_keys(a.sig) if a.sig else [] for a in articles}
    by_key = stored_candidates(conn, {k for ks in keys.values() for k in ks})
    clusters: dict[int, int] = {}
    for article in articles:
        best: tuple[float, int] | None = None
        seen: set[int] = set()
        for key in keys[article.id]:
            for cand in by_key.get(key, []):
                if cand.id == article.id or cand.id in seen or article.sig is None:
                    continue
                seen.add(cand.id)
                score = neardup.similarity(article.sig, cand.sig)
                if score >= neardup.THRESHOLD and (
                    best is None or (-score, cand.cluster_id) < (-best[0], best[1])
                ):
                    best = (score, cand.cluster_id)
        cluster = best[1] if best else article.id
        clusters[article.id] = cluster
        if article.sig is not None:  # later articles of the batch may be copies of this one
            candidate = _Candidate(article.id, cluster, article.sig)
            for key in keys[article.id]:
                by_key.setdefault(key, []).append(candidate)
    return clusters, keys


def save_keys(conn: Connection, keys: dict[int, list[int]]) -> None:
    """Store the band keys of articles ({id: keys}, from `plan_clusters`)."""
    # In key order: consecutive inserts land on neighbouring B-tree pages, which are then in the cache.
    rows = sorted((key, id_) for id_, ks in keys.items() for key in ks)
    if not rows:
        return
    if conn.dialect.name == "sqlite":
        sqlite_insert_many(conn, "INSERT OR IGNORE INTO near_dup_keys (key, article_id)", rows)
    else:  # COPY into a staging table, then one INSERT of them all (`storage.pgcopy`)
        pgcopy.stage(conn, _KEYS_STAGE, "(key bigint, article_id integer)")
        pgcopy.copy_rows(conn, _KEYS_STAGE, ("key", "article_id"), rows)
        conn.exec_driver_sql(
            f"INSERT INTO near_dup_keys (key, article_id) SELECT key, article_id FROM {_KEYS_STAGE}"
            " WHERE true ON CONFLICT DO NOTHING"
        )


_KEYS_STAGE = "provnews_keys_stage"


def _drop_keys(conn: Connection, pairs: list[tuple[int, int]]) -> None:
    for part in chunks(pairs, 400):
        conn.execute(delete(NearDupKey).where(tuple_(NearDupKey.key, NearDupKey.article_id).in_(list(part))))


# Candidates read per band key: the newest articles holding it. Copies of one story share most band
# keys, so a few of them find the cluster; a key that thousands of articles hold (boilerplate such as a
# recurring opening) says nothing about a story, and reading all its holders would make every insert
# slower as the corpus grows. (In the synthetic million-article benchmark corpus no key has more than 21.)
CANDIDATES_PER_KEY = 8


def stored_candidates(conn: Connection, keys: Iterable[int]) -> dict[int, list[_Candidate]]:
    """The stored articles holding each band key: the newest CANDIDATES_PER_KEY per key."""
    found: dict[int, list[_Candidate]] = {}
    query = _candidates_query(conn.dialect.name)
    for part in chunks(sorted(keys), _KEYS_PER_QUERY):
        for key, id_, cluster_id, blob in conn.execute(query, {"keys": bound_list(conn, part)}):
            if blob is not None:
                found.setdefault(key, []).append(_Candidate(id_, cluster_id or id_, neardup.unpack(blob)))
    return found


@cache
def _candidates_query(dialect: str) -> Any:
    """One statement per dialect, compiled once; the key list is one parameter (`sql.in_bound_list`)."""
    newest = func.row_number().over(partition_by=NearDupKey.key, order_by=NearDupKey.article_id.desc())
    holders = (
        select(NearDupKey.key, NearDupKey.article_id, newest.label("rank"))
        .where(in_bound_list(NearDupKey.key, "keys", dialect))
        .subquery()
    )
    return (
        select(holders.c.key, Article.id, Article.cluster_id, Article.minhash)
        .join(Article, Article.id == holders.c.article_id)
        .where(holders.c.rank <= CANDIDATES_PER_KEY)
    )


_KEYS_PER_QUERY = 8192  # a batch's keys in one query


def backfill(conn: Connection, batch: int = 500) -> int:
    """Sign and cluster every article in id order (after a migration); returns how many were signed."""
    query = select(Article.id, Article.text).order_by(Article.id).limit(batch)
    last, count = 0, 0
    while rows := conn.execute(query.where(Article.id > last)).all():
        sigs = neardup.signatures([text for _, text in rows])
        signed = [Signed(id_, sig) for (id_, _), sig in zip(rows, sigs, strict=True)]
        stmt = update(Article).where(Article.id == bindparam("b_id")).values(minhash=bindparam("b_sig"))
        conn.execute(stmt, [{"b_id": s.id, "b_sig": neardup.pack(s.sig) if s.sig else None} for s in signed])
        assign_clusters(conn, signed)
        count, last = count + len(rows), rows[-1][0]
    return count
