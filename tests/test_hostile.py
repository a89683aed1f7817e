"""A hostile world, on loopback only: redirects that leave the site, and addresses the crawl must not
reach (private, loopback, link-local, metadata), refused at the resolution check before any connection."""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from scrapy.resolver import dnscache
from twisted.internet.defer import Deferred

from provnews.crawler.canary.client import Client
from provnews.crawler.politeness.addresses import AddressRefused, address_refusal, allowed_private_hosts
from provnews.crawler.politeness.resolver import GuardedResolver
from provnews.crawler.replica import ReplicaServer
from provnews.crawler.sites.registry import load_sites
from provnews.storage.api import Storage
from tests.fault_proxy import Fault, FaultProxy
from tests.helpers import run
from tests.hostile_pages import hostile_article, unsafe_in
from tests.test_politeness import crawl, paths, proxied, registry, states, stored_paths

SITE = "baogialai"


@pytest.fixture(scope="module")
def replica() -> Iterator[ReplicaServer]:
    with ReplicaServer(sites=[SITE], articles_per_site=4, seed=47) as server:
        yield server


@pytest.fixture
def proxy(replica: ReplicaServer) -> Iterator[FaultProxy]:
    with FaultProxy(replica.base_url(SITE)) as server:
        yield server


@pytest.fixture
def foreign(replica: ReplicaServer) -> Iterator[FaultProxy]:
    """Another server on loopback (another port): the same pages, which must never be asked for."""
    with FaultProxy(replica.base_url(SITE)) as server:
        yield server


def redirect(proxy: FaultProxy, path: str, location: str) -> None:
    proxy.add(Fault("^" + re.escape(path) + "$", 302, headers={"Location": location}))


def last_run_stats(db: str) -> dict[str, object]:
    with Storage.open(db) as storage:
        return dict(storage.runs(limit=1)[0]["stats"])


def test_redirects_off_the_site_are_not_followed_and_are_counted(
    replica: ReplicaServer, proxy: FaultProxy, foreign: FaultProxy, tmp_path: Path
) -> None:
    to_port, to_host, to_listing, to_article = paths(replica)
    port = urlsplit(proxy.base_url).port
    # another port, another host name for the same address, a page of the site that is no article
    redirect(proxy, to_port, foreign.base_url.rstrip("/") + to_article)
    redirect(proxy, to_host, f"http://localhost:{port}{to_port}")
    redirect(proxy, to_listing, "/lien-he/landing.html")
    db = f"sqlite:///{tmp_path / 'redirects.sqlite3'}"
    code, _out, err = crawl(db, registry(replica, proxy, tmp_path))
    assert code == 0, err[-3000:]
    assert foreign.log == []  # the foreign server was never asked for anything
    assert proxy.hits(r"^/lien-he/") == []
    assert stored_paths(db) == {to_article}  # the foreign copy of to_article was not stored either
    known = states(db)
    for path in (to_port, to_host, to_listing):
        status, _attempts, reason = known[path]
        assert status == "not_article" and (reason or "").startswith("redirect_off_site"), known[path]
    assert "is not baogialai's" in (known[to_port][2] or "")
    assert "article_pattern" in (known[to_listing][2] or "")
    assert last_run_stats(db)["dropped"] == {"redirect_off_site": 3}


def test_a_redirect_within_the_site_to_an_article_is_followed(
    replica: ReplicaServer, proxy: FaultProxy, tmp_path: Path
) -> None:
    moved, target, *_ = paths(replica)
    redirect(proxy, moved, proxy.base_url.rstrip("/") + target)
    db = f"sqlite:///{tmp_path / 'same.sqlite3'}"
    code, _out, err = crawl(db, registry(replica, proxy, tmp_path))
    assert code == 0, err[-3000:]
    assert set(paths(replica)) - {moved} <= stored_paths(db)
    assert last_run_stats(db)["dropped"] == {}


def test_loopback_is_refused_unless_allowed_by_name(
    replica: ReplicaServer, proxy: FaultProxy, tmp_path: Path
) -> None:
    db = f"sqlite:///{tmp_path / 'refused.sqlite3'}"
    sites_file = registry(replica, proxy, tmp_path)
    code, _out, err = crawl(db, sites_file, "PROVNEWS_ALLOW_PRIVATE_HOSTS=")
    assert proxy.log == []  # not even robots.txt: nothing connected
    assert "loopback address 127.0.0.1" in err
    (site,) = load_sites(sites_file)
    sources = len(site.feeds) + len(site.sitemaps) + len(site.listings)
    assert last_run_stats(db)["dropped"] == {"address_refused": sources}
    code, _out, err = crawl(db, sites_file, "PROVNEWS_ALLOW_PRIVATE_HOSTS=localhost")
    assert proxy.log == []  # allowing another name does not allow this one
    code, _out, err = crawl(db, sites_file, "PROVNEWS_ALLOW_PRIVATE_HOSTS=127.0.0.1")
    assert code == 0, err[-3000:]
    assert stored_paths(db) == set(paths(replica))


# -- the resolution check, without connecting anywhere ------------------------------------------------


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("169.254.169.254", "link-local"),  # the cloud metadata service
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("127.0.0.1", "loopback"),
        ("0.0.0.0", "unspecified"),
        ("240.0.0.1", "reserved"),
        ("224.0.0.1", "multicast"),
        ("100.64.0.1", "non-public"),
        ("::1", "loopback"),
        ("fe80::1", "link-local"),
        ("fd00::1", "private"),
        ("::ffff:169.254.169.254", "link-local"),
    ],
)
def test_non_public_addresses_are_refused(address: str, kind: str) -> None:
    assert (address_refusal(address) or "").startswith(kind)


@pytest.mark.parametrize("address", ["93.184.216.34", "203.113.131.1", "2606:4700::1111"])
def test_public_addresses_pass(address: str) -> None:
    assert address_refusal(address) is None


def outcome(deferred: Deferred[str]) -> str | Exception:
    """The result of an already fired Deferred (the check answers at once: no lookup, no connection)."""
    results: list[str | Exception] = []
    deferred.addCallbacks(results.append, lambda failure: results.append(failure.value))
    assert results, "the check must answer without a lookup"
    return results[0]


class _NoReactor:
    """Stands in for the reactor: the checks below must not reach it (no thread, no lookup)."""

    def getThreadPool(self) -> None:
        raise AssertionError("a lookup was started")


def resolver(allowed: str = "") -> GuardedResolver:
    return GuardedResolver(_NoReactor(), 100, 5.0, allowed_private_hosts(allowed))  # type: ignore[arg-type]


def test_the_resolver_refuses_a_host_mapped_to_the_metadata_address() -> None:
    dnscache["metadata.provnews.test"] = "169.254.169.254"
    dnscache["router.provnews.test"] = "192.168.0.1"
    try:
        refused = outcome(resolver().getHostByName("metadata.provnews.test"))
        assert isinstance(refused, AddressRefused) and "link-local address 169.254.169.254" in str(refused)
        assert isinstance(outcome(resolver().getHostByName("router.provnews.test")), AddressRefused)
        # allowed by name: the same answer goes through
        allowed = resolver("router.provnews.test").getHostByName("router.provnews.test")
        assert outcome(allowed) == "192.168.0.1"
    finally:
        del dnscache["metadata.provnews.test"], dnscache["router.provnews.test"]


@pytest.mark.parametrize("literal", ["169.254.169.254", "10.0.0.8", "127.0.0.1", "[::1]"])
def test_the_resolver_refuses_ip_literals_without_a_lookup(literal: str) -> None:
    assert isinstance(outcome(resolver().getHostByName(literal)), AddressRefused)


def test_allowed_hosts_setting_is_a_list_of_names() -> None:
    assert allowed_private_hosts("127.0.0.1, localhost  Replica.Test") == {
        "127.0.0.1",
        "localhost",
        "replica.test",
    }
    assert allowed_private_hosts("") == frozenset()
    assert outcome(resolver("127.0.0.1").getHostByName("127.0.0.1")) == "127.0.0.1"


def test_a_hostile_article_is_stored_clean_and_shown_escaped(
    replica: ReplicaServer, proxy: FaultProxy, tmp_path: Path
) -> None:
    """Terminal escapes and bidi overrides served by a site: stored without them, printed without them."""
    target = paths(replica)[0]
    page = hostile_article(proxy.base_url.rstrip("/") + target)
    proxy.add(Fault("^" + re.escape(target) + "$", 200, headers={"Content-Type": "text/html"}, body=page))
    db = f"sqlite:///{tmp_path / 'escapes.sqlite3'}"
    code, _out, err = crawl(db, registry(replica, proxy, tmp_path))
    assert code == 0, err[-3000:]
    with Storage.open(db) as storage:
        stored = storage.get_article(proxy.base_url.rstrip("/") + target)
    assert stored is not None
    for key in ("title", "text", "canonical_url", "section", "sapo"):
        assert unsafe_in(stored[key] or "") == [], (key, ascii(stored[key]))
    assert all(unsafe_in(tag) == [] for tag in stored["tags"])
    assert "hacked" not in stored["title"]
    for args in (
        ["show", str(stored["id"])],
        ["search", "lien ket san xuat"],
        ["show", stored["url"], "--json"],
    ):
        result = run(["provnews", "--db", db, *args])
        assert result.returncode == 0 and stored["title"] in result.stdout, args
        assert unsafe_in(result.stdout + result.stderr) == [], args


def test_a_redirect_loop_stops_after_five_hops(
    replica: ReplicaServer, proxy: FaultProxy, tmp_path: Path
) -> None:
    """Two articles of the site redirecting to each other (so every hop is on the site and matches)."""
    first, second, *rest = paths(replica)
    redirect(proxy, first, second)
    redirect(proxy, second, first)
    db = f"sqlite:///{tmp_path / 'loop.sqlite3'}"
    code, _out, err = crawl(db, registry(replica, proxy, tmp_path))
    assert code == 0, err[-3000:]
    hops = len(proxy.hits("^" + re.escape(first) + "$")) + len(proxy.hits("^" + re.escape(second) + "$"))
    # each chain ends at the first URL met twice (the dupe filter), at the latest after REDIRECT_MAX_TIMES = 5
    assert 2 <= hops <= 12
    assert stored_paths(db) == set(rest)


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        (b"", "empty"),
        (b"   \n\t  ", "whitespace"),
        (b'{"title": "not a page"}', "json"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n" * 50, "pdf"),
        (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40, "png"),
    ],
)
def test_non_pages_served_as_html_are_dropped_not_stored(
    replica: ReplicaServer, proxy: FaultProxy, tmp_path: Path, body: bytes, kind: str
) -> None:
    target, *rest = paths(replica)
    proxy.add(Fault("^" + re.escape(target) + "$", 200, headers={"Content-Type": "text/html"}, body=body))
    db = f"sqlite:///{tmp_path / f'{kind}.sqlite3'}"
    code, _out, err = crawl(db, registry(replica, proxy, tmp_path))
    assert code == 0, err[-3000:]
    assert "Traceback" not in err
    assert stored_paths(db) == set(rest)
    assert sum(dict(last_run_stats(db)["dropped"]).values()) == 1  # type: ignore[call-overload]


def test_a_page_that_never_finishes_times_out_and_the_crawl_goes_on(
    replica: ReplicaServer, proxy: FaultProxy, tmp_path: Path
) -> None:
    slow, *rest = paths(replica)
    proxy.add(Fault("^" + re.escape(slow) + "$", 200, delay=3.0, body=b"<html>late</html>"))
    db = f"sqlite:///{tmp_path / 'slow.sqlite3'}"
    code, _out, err = crawl(db, registry(replica, proxy, tmp_path), "DOWNLOAD_TIMEOUT=1", "RETRY_TIMES=0")
    assert code == 0, err[-3000:]
    assert stored_paths(db) == set(rest)
    status, attempts, reason = states(db)[slow]
    assert (status, attempts) == ("failed", 1) and "TimeoutError" in (reason or ""), reason


def test_a_compression_bomb_is_cut_at_the_size_limit_and_dropped(
    replica: ReplicaServer, proxy: FaultProxy, tmp_path: Path
) -> None:
    """64 MiB of zeros in 64 kB of gzip: decompression stops at DOWNLOAD_MAXSIZE (lowered to 1 MiB
    here), the page is a final `page_too_large`, the other articles are stored."""
    bomb_path, *rest = paths(replica)
    bomb = gzip.compress(b"\0" * (64 * 1024 * 1024))
    headers = {"Content-Type": "text/html", "Content-Encoding": "gzip"}
    proxy.add(Fault("^" + re.escape(bomb_path) + "$", 200, headers=headers, body=bomb))
    db = f"sqlite:///{tmp_path / 'bomb.sqlite3'}"
    code, _out, err = crawl(db, registry(replica, proxy, tmp_path), f"DOWNLOAD_MAXSIZE={1024 * 1024}")
    assert code == 0, err[-3000:]
    assert "Traceback" not in err
    assert stored_paths(db) == set(rest)
    account = last_run_stats(db)["sites"][SITE]  # type: ignore[index]
    assert account["dropped"].get("page_too_large") == 1, account
    assert states(db)[bomb_path][0] == "not_article"


def test_a_tls_failure_is_counted_and_fails_the_site_in_one_line(
    replica: ReplicaServer, tmp_path: Path
) -> None:
    """An https site whose server does not speak TLS (the plain replica): every request fails the
    handshake; the site fails as unreachable (TLS), one line, no traceback, the accounts balance."""
    sites_file = tmp_path / "sites.toml"
    sites_file.write_text(replica.sites_toml().replace("http://", "https://"), encoding="utf-8")
    db = f"sqlite:///{tmp_path / 'tls.sqlite3'}"
    code, _out, err = crawl(db, sites_file)
    assert code == 1, err[-3000:]
    assert "Traceback" not in err
    assert re.search(rf"{SITE}: failed: unreachable: TLS", err, re.I), err[-3000:]
    assert last_run_stats(db)["articles_new"] == 0


def test_the_canary_client_refuses_what_the_crawl_refuses(proxy: FaultProxy) -> None:
    """`canary` and `sites add` fetch with their own client: no loopback unless named, and no redirect
    to a host that is not allowed (the metadata address is refused before any connection)."""
    page = proxied(proxy, "/robots.txt")
    refused = Client("test", timeout=5, allowed_hosts="").get(page)
    assert refused.status is None and "loopback address 127.0.0.1" in (refused.error or "")
    assert proxy.log == []  # nothing connected
    assert Client("test", timeout=5, allowed_hosts="127.0.0.1").get(page).ok
    targets = ("http://169.254.169.254/latest/meta-data/", f"http://localhost:{urlsplit(page).port}/")
    for n, target in enumerate(targets):
        redirect(proxy, f"/moved-{n}", target)
        moved = Client("test", timeout=5, allowed_hosts="127.0.0.1").get(proxied(proxy, f"/moved-{n}"))
        assert moved.status is None and f"redirect to {target} refused" in (moved.error or ""), moved
    assert [hit.path for hit in proxy.log] == ["/robots.txt", "/moved-0", "/moved-1"]
