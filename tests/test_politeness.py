"""Politeness by the standards, against a fault-injecting proxy in front of a replica site:
robots.txt per RFC 9309 (404 allows, 5xx and unreachable disallow, Crawl-delay), Retry-After, back-off,
404/410 as gone, nothing partial stored, failed URLs retried in later runs up to a limit."""

from __future__ import annotations

import gzip
import itertools
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from provnews.crawler.replica import ReplicaServer
from provnews.storage.api import Storage
from provnews.storage.models import UrlState
from tests.fault_proxy import Fault, FaultProxy
from tests.helpers import assert_run_balances, run

SITE = "baogialai"
ARTICLE = r"-post\d+\.html$"
FAST = [
    "-s",
    "PROVNEWS_RETRY_BACKOFF_BASE=0.2",
    "-s",
    "DOWNLOAD_DELAY_JITTER=0",
    "-s",
    "PROVNEWS_RETRY_BACKOFF=0",
]


@pytest.fixture(scope="module")
def replica() -> Iterator[ReplicaServer]:
    with ReplicaServer(sites=[SITE], articles_per_site=4, seed=31) as server:
        yield server


@pytest.fixture
def proxy(replica: ReplicaServer) -> Iterator[FaultProxy]:
    with FaultProxy(replica.base_url(SITE)) as server:
        yield server


def registry(replica: ReplicaServer, proxy: FaultProxy, tmp_path: Path, *, feeds_only: bool = False) -> Path:
    # one request at a time, the registry's default (the replica's own registry allows 4)
    text = (
        replica.sites_toml()
        .replace(replica.base_url(SITE), proxy.base_url)
        .replace("concurrency = 4", "concurrency = 1")
    )
    if feeds_only:
        text = re.sub(r"^(sitemaps|listings) = .*$", r"\1 = []", text, flags=re.M)
    path = tmp_path / "sites.toml"
    path.write_text(text, encoding="utf-8")
    return path


def crawl(db: str, sites_file: Path, *settings: str) -> tuple[int, str, str]:
    extra = [item for pair in (("-s", s) for s in settings) for item in pair]
    result = run(["provnews", "--db", db, "crawl", "--sites-file", str(sites_file), *FAST, *extra])
    assert_run_balances(db)  # whatever the faults, every URL met ends in a counted outcome
    return result.returncode, result.stdout, result.stderr


def last_run(db: str) -> dict:
    with Storage.open(db) as storage:
        return storage.runs(limit=1)[0]


def paths(replica: ReplicaServer) -> list[str]:
    return sorted(urlsplit(url).path for url in replica.ground_truth(SITE))


def proxied(proxy: FaultProxy, path: str) -> str:
    return proxy.base_url.rstrip("/") + path


def states(db: str) -> dict[str, tuple[str, int, str | None]]:
    with Storage.open(db) as storage, storage.engine.connect() as conn:
        rows = conn.execute(select(UrlState.url, UrlState.status, UrlState.attempts, UrlState.reason))
        return {urlsplit(url).path: (status, attempts, reason) for url, status, attempts, reason in rows}


def stored_paths(db: str) -> set[str]:
    with Storage.open(db) as storage:
        return {urlsplit(a["url"]).path for a in storage.iter_articles()}


def test_robots_404_means_allow_all(replica: ReplicaServer, proxy: FaultProxy, tmp_path: Path) -> None:
    proxy.add(Fault(r"^/robots\.txt$", 404, body=b"<html>not found</html>"))
    db = f"sqlite:///{tmp_path / 'r404.sqlite3'}"
    code, _out, err = crawl(db, registry(replica, proxy, tmp_path))
    assert code == 0, err[-3000:]
    assert stored_paths(db) >= set(paths(replica))
    # without robots.txt nothing is off limits, /private/ included
    assert [h.status for h in proxy.hits(r"^/private/")] == [200]


def test_robots_5xx_means_disallow_all_for_now(
    replica: ReplicaServer, proxy: FaultProxy, tmp_path: Path
) -> None:
    proxy.add(Fault(r"^/robots\.txt$", 503))
    sites_file = registry(replica, proxy, tmp_path)
    db = f"sqlite:///{tmp_path / 'r503.sqlite3'}"
    code, _out, err = crawl(db, sites_file)
    # the run failed, and says why in one line
    assert code == 1, err[-3000:]
    assert err.splitlines() == [err.splitlines()[0]] and (
        "baogialai: failed: robots.txt unreachable (HTTP 503)" in err
    ), err
    assert last_run(db)["outcome"] == "failed"
    assert [h.path for h in proxy.log if h.path != "/robots.txt"] == []  # nothing else was asked for
    assert len(proxy.hits(r"^/robots\.txt$")) == 3  # the first answer and RETRY_TIMES retries
    assert stored_paths(db) == set()
    # once robots.txt answers again, the next run crawls the site
    proxy.faults.clear()
    code, _out, err = crawl(db, sites_file)
    assert code == 0, err[-3000:]
    assert stored_paths(db) == set(paths(replica))


def test_unreachable_robots_means_disallow_all(
    replica: ReplicaServer, proxy: FaultProxy, tmp_path: Path
) -> None:
    proxy.add(Fault(r"^/robots\.txt$", 200, delay=2.5, body=b"User-agent: *\nAllow: /\n"))
    db = f"sqlite:///{tmp_path / 'rto.sqlite3'}"
    code, _out, err = crawl(db, registry(replica, proxy, tmp_path), "DOWNLOAD_TIMEOUT=1", "RETRY_TIMES=0")
    assert code == 1, err[-3000:]
    assert "baogialai: failed: unreachable: timed out" in err and "Traceback" not in err, err
    assert [h.path for h in proxy.log if h.path != "/robots.txt"] == []
    assert stored_paths(db) == set()


def test_robots_rules_hold_for_requests_queued_while_robots_txt_loads(
    replica: ReplicaServer, proxy: FaultProxy, tmp_path: Path
) -> None:
    """Several requests wait for robots.txt at once (URLs left by an earlier run); all get its rules."""
    db = f"sqlite:///{tmp_path / 'queued.sqlite3'}"
    private = replica.forbidden_urls(SITE)[0].replace(replica.base_url(SITE), proxy.base_url)
    with Storage.open(db) as storage:
        storage.mark_urls([(proxied(proxy, p), SITE, "discovered") for p in paths(replica)])
        storage.mark_urls([(private, SITE, "discovered")])
    proxy.add(Fault(r"^/robots\.txt$", 200, delay=0.5, body=b"User-agent: *\nDisallow: /private/\n"))
    code, _out, err = crawl(db, registry(replica, proxy, tmp_path))
    assert code == 0, err[-3000:]
    assert proxy.hits(r"^/private/") == []
    assert states(db)[urlsplit(private).path][0] == "robots_denied"
    assert stored_paths(db) == set(paths(replica))
    # robots.txt changes: the next run, which meets the URL again, fetches and stores it
    proxy.faults.clear()
    proxy.add(Fault(r"^/robots\.txt$", 200, body=b"User-agent: *\nAllow: /\n"))
    code, _out, err = crawl(db, registry(replica, proxy, tmp_path))
    assert code == 0, err[-3000:]
    assert len(proxy.hits(r"^/private/")) == 1
    assert states(db)[urlsplit(private).path][0] == "stored"


def test_crawl_delay_is_honoured(replica: ReplicaServer, proxy: FaultProxy, tmp_path: Path) -> None:
    proxy.add(Fault(r"^/robots\.txt$", 200, body=b"User-agent: *\nCrawl-delay: 1\nDisallow: /private/\n"))
    db = f"sqlite:///{tmp_path / 'delay.sqlite3'}"
    code, _out, err = crawl(db, registry(replica, proxy, tmp_path, feeds_only=True))
    assert code == 0, err[-3000:]
    times = [h.at for h in proxy.log if h.path != "/robots.txt"]
    assert len(times) == 5  # the feed and its four articles
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert min(gaps) >= 0.95, gaps  # the registry says 0 s; robots.txt says 1 s


def test_retry_after_is_honoured_and_the_site_waits(
    replica: ReplicaServer, proxy: FaultProxy, tmp_path: Path
) -> None:
    target = paths(replica)[0]
    proxy.add(Fault("^" + re.escape(target) + "$", 503, headers={"Retry-After": "2"}, times=1))
    db = f"sqlite:///{tmp_path / 'ra.sqlite3'}"
    code, _out, err = crawl(db, registry(replica, proxy, tmp_path))
    assert code == 0, err[-3000:]
    first, second = proxy.hits("^" + re.escape(target) + "$")
    assert (first.status, second.status) == (503, 200)
    assert second.at - first.at >= 1.95
    # the whole site paused for those 2 s: at most the one request already under way went out
    # (after it, requests queued earlier go before the retry, which Scrapy queues at a lower priority)
    between = [h for h in proxy.log if first.at < h.at < first.at + 1.95]
    assert len(between) <= 1, [h.path for h in between]
    assert stored_paths(db) == set(paths(replica))
    with Storage.open(db) as storage:
        assert storage.runs(limit=1)[0]["stats"]["retry_after"] == 1


def test_too_long_retry_after_leaves_the_url_for_a_later_run(
    replica: ReplicaServer, proxy: FaultProxy, tmp_path: Path
) -> None:
    target = paths(replica)[1]
    proxy.add(Fault("^" + re.escape(target) + "$", 429, headers={"Retry-After": "3600"}, times=1))
    sites_file = registry(replica, proxy, tmp_path)
    db = f"sqlite:///{tmp_path / 'ra-long.sqlite3'}"
    code, out, err = crawl(db, sites_file, "PROVNEWS_RETRY_AFTER_MAX=1")
    assert code == 0, err[-3000:]
    assert len(proxy.hits("^" + re.escape(target) + "$")) == 1  # not retried in this run
    # left for a later run, as it was: no attempt spent, and the run record says so
    assert states(db)[target] == ("discovered", 0, None)
    assert target not in stored_paths(db)
    stats = last_run(db)["stats"]
    assert (stats["retry_after"], stats["retry_after_left"]) == (0, 1)
    assert stats["sites"][SITE]["pending"] == {"retry_after": 1}
    code, out, err = crawl(db, sites_file)
    assert code == 0, err[-3000:]
    assert "resumed:           1" in out
    assert states(db)[target][0] == "stored"


def test_5xx_is_retried_with_back_off_and_404_410_are_gone(
    replica: ReplicaServer, proxy: FaultProxy, tmp_path: Path
) -> None:
    flaky, missing, removed, fine = paths(replica)
    proxy.add(Fault("^" + re.escape(flaky) + "$", 500, times=2))
    proxy.add(Fault("^" + re.escape(missing) + "$", 404))
    proxy.add(Fault("^" + re.escape(removed) + "$", 410))
    db = f"sqlite:///{tmp_path / 'codes.sqlite3'}"
    code, _out, err = crawl(db, registry(replica, proxy, tmp_path), "PROVNEWS_RETRY_BACKOFF_BASE=0.5")
    assert code == 0, err[-3000:]
    attempts = proxy.hits("^" + re.escape(flaky) + "$")
    assert [h.status for h in attempts] == [500, 500, 200]
    gaps = [b.at - a.at for a, b in itertools.pairwise(attempts)]
    assert gaps[0] >= 0.45 and gaps[1] >= 0.95, gaps  # 0.5 s, then 1 s
    assert len(proxy.hits("^" + re.escape(missing) + "$")) == 1  # a 404 is not retried
    known = states(db)
    assert known[missing][0] == known[removed][0] == "gone"
    assert known[missing][2] == "http_404" and known[removed][2] == "http_410"
    assert stored_paths(db) == {flaky, fine}


def test_truncated_page_is_never_stored_and_is_fetched_again_later(
    replica: ReplicaServer, proxy: FaultProxy, tmp_path: Path
) -> None:
    target = paths(replica)[2]
    proxy.add(Fault("^" + re.escape(target) + "$", truncate=True))
    sites_file = registry(replica, proxy, tmp_path)
    db = f"sqlite:///{tmp_path / 'partial.sqlite3'}"
    code, _out, err = crawl(db, sites_file, "RETRY_TIMES=1")
    assert code == 0, err[-3000:]
    assert len(proxy.hits("^" + re.escape(target) + "$")) == 2
    status, attempts, reason = states(db)[target]
    assert (status, attempts) == ("failed", 1) and "DataLoss" in (reason or ""), reason
    assert target not in stored_paths(db)
    proxy.faults.clear()
    code, _out, err = crawl(db, sites_file)
    assert code == 0, err[-3000:]
    with Storage.open(db) as storage:
        article = storage.get_article(proxied(proxy, target))
    assert article is not None
    truth = {urlsplit(u).path: t for u, t in replica.ground_truth(SITE).items()}[target]
    assert article["text"] == truth["text"]


def test_failed_url_is_retried_in_later_runs_up_to_the_limit(
    replica: ReplicaServer, proxy: FaultProxy, tmp_path: Path
) -> None:
    target = paths(replica)[3]
    pattern = "^" + re.escape(target) + "$"
    proxy.add(Fault(pattern, 502))
    sites_file = registry(replica, proxy, tmp_path)
    db = f"sqlite:///{tmp_path / 'limit.sqlite3'}"
    for expected_hits, expected_attempts in ((1, 1), (2, 2), (2, 2)):
        code, _out, err = crawl(db, sites_file, "RETRY_TIMES=0", "PROVNEWS_MAX_ATTEMPTS=2")
        assert code == 0, err[-3000:]
        assert len(proxy.hits(pattern)) == expected_hits
        assert states(db)[target] == ("failed", expected_attempts, "http_502")


@pytest.mark.parametrize("autothrottle", ["True", "False"])
@pytest.mark.parametrize("concurrency", [1, 2])
def test_requests_in_flight_never_exceed_the_site_concurrency(
    tmp_path: Path, autothrottle: str, concurrency: int
) -> None:
    """A site answering in 50 ms sees at most its registry `concurrency` at once, whatever AutoThrottle,
    DOWNLOAD_DELAY or CONCURRENT_REQUESTS say (AutoThrottle off used to send 7 to 12 at once)."""
    with (
        ReplicaServer(sites=[SITE], articles_per_site=16, seed=5) as busy,
        FaultProxy(busy.base_url(SITE), latency=0.05) as slow,
    ):
        text = (
            busy.sites_toml()
            .replace(busy.base_url(SITE), slow.base_url)
            .replace("concurrency = 4", f"concurrency = {concurrency}")
        )
        sites_file = tmp_path / "sites.toml"
        sites_file.write_text(text, encoding="utf-8")
        db = f"sqlite:///{tmp_path / 'inflight.sqlite3'}"
        settings = [f"AUTOTHROTTLE_ENABLED={autothrottle}", "AUTOTHROTTLE_START_DELAY=0"]
        settings += ["DOWNLOAD_DELAY=0", "CONCURRENT_REQUESTS=64"]
        code, _out, err = crawl(db, sites_file, *settings)
        assert code == 0, err[-3000:]
        assert len(stored_paths(db)) == 16
        assert 1 <= slow.max_in_flight <= concurrency, slow.max_in_flight


def test_autothrottle_never_goes_below_the_registry_delay(
    replica: ReplicaServer, proxy: FaultProxy, tmp_path: Path
) -> None:
    """A site answering at once would have AutoThrottle cut its delay towards its latency; the
    registry's delay stays the floor (AutoThrottle alone went down to the global DOWNLOAD_DELAY, 0)."""
    sites_file = registry(replica, proxy, tmp_path, feeds_only=True)
    sites_file.write_text(sites_file.read_text(encoding="utf-8").replace("delay = 0\n", "delay = 0.8\n"))
    db = f"sqlite:///{tmp_path / 'floor.sqlite3'}"
    settings = ("AUTOTHROTTLE_ENABLED=True", "AUTOTHROTTLE_START_DELAY=0", "DOWNLOAD_DELAY=0")
    code, _out, err = crawl(db, sites_file, *settings)
    assert code == 0, err[-3000:]
    times = [h.at for h in proxy.log if h.path != "/robots.txt"]
    assert len(times) == 5  # the feed and its four articles
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert min(gaps) >= 0.7, gaps  # AutoThrottle alone: 0.4 s after the first answer, then less


def test_robots_rules_found_through_a_redirect_hold(
    replica: ReplicaServer, proxy: FaultProxy, tmp_path: Path
) -> None:
    """robots.txt moved (301): its rules and its Crawl-delay hold for the host that was asked."""
    proxy.add(Fault(r"^/robots\.txt$", 301, headers={"Location": proxied(proxy, "/seo/robots.txt")}))
    proxy.add(Fault(r"^/seo/robots\.txt$", 200, body=b"User-agent: *\nCrawl-delay: 1\nDisallow: /private/\n"))
    db = f"sqlite:///{tmp_path / 'moved.sqlite3'}"
    private = replica.forbidden_urls(SITE)[0].replace(replica.base_url(SITE), proxy.base_url)
    with Storage.open(db) as storage:
        storage.mark_urls([(private, SITE, "discovered")])
    code, _out, err = crawl(db, registry(replica, proxy, tmp_path, feeds_only=True))
    assert code == 0, err[-3000:]
    assert proxy.hits(r"^/private/") == []
    assert states(db)[urlsplit(private).path][0] == "robots_denied"
    times = [h.at for h in proxy.log if "robots.txt" not in h.path]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert len(times) == 5 and min(gaps) >= 0.95, gaps


def test_robots_txt_unreachable_behind_a_redirect_disallows_all(
    replica: ReplicaServer, proxy: FaultProxy, tmp_path: Path
) -> None:
    """robots.txt moved (301) to a server that fails: the host that was asked is unreachable, not
    without rules (the redirect's answer is read for the host whose robots.txt was asked for)."""
    proxy.add(Fault(r"^/robots\.txt$", 301, headers={"Location": proxied(proxy, "/seo/robots.txt")}))
    proxy.add(Fault(r"^/seo/robots\.txt$", 503))
    db = f"sqlite:///{tmp_path / 'moved503.sqlite3'}"
    code, _out, err = crawl(db, registry(replica, proxy, tmp_path), "RETRY_TIMES=0")
    assert code == 1, err[-3000:]
    assert "baogialai: failed: robots.txt unreachable (HTTP 503)" in err, err
    assert [h.path for h in proxy.log if "robots.txt" not in h.path] == []


def test_robots_txt_past_the_size_limit_disallows_all(
    replica: ReplicaServer, proxy: FaultProxy, tmp_path: Path
) -> None:
    """A robots.txt that decompresses past DOWNLOAD_MAXSIZE (Scrapy's compression middleware refuses it
    after the download) is unreachable, not a licence to fetch everything."""
    bomb = gzip.compress(b"User-agent: *\nAllow: /\n" + b"#" * 400_000)
    proxy.add(Fault(r"^/robots\.txt$", 200, headers={"Content-Encoding": "gzip"}, body=bomb))
    db = f"sqlite:///{tmp_path / 'bomb.sqlite3'}"
    code, _out, err = crawl(db, registry(replica, proxy, tmp_path), "DOWNLOAD_MAXSIZE=100000")
    assert code == 1, err[-3000:]
    assert "baogialai: failed: robots.txt unreachable (page too large)" in err, err
    assert [h.path for h in proxy.log if h.path != "/robots.txt"] == []
