"""`provnews schedule` without daemons: how sites are dealt over nodes, node URLs, the command's checks
(the jobs on real scrapyd daemons are in test_scrapyd.py)."""

from __future__ import annotations

from collections import Counter

import pytest
from click.testing import CliRunner, Result
from hypothesis import given
from hypothesis import strategies as st

from provnews.crawler.cli import cli
from provnews.crawler.scrapyd.nodes import ScrapydNode, plan_jobs
from provnews.crawler.sites.registry import load_sites


@given(st.integers(0, 60), st.integers(1, 6), st.integers(1, 4))
def test_every_site_goes_to_one_job_and_the_nodes_share_them_evenly(
    sites: int, nodes: int, jobs_per_node: int
) -> None:
    site_ids = [f"site{i}" for i in range(sites)]
    node_list = [ScrapydNode(f"http://127.0.0.1:{6800 + n}/") for n in range(nodes)]
    jobs = plan_jobs(site_ids, node_list, jobs_per_node)
    assert sorted(s for job in jobs for s in job.sites) == sorted(site_ids)  # each site exactly once
    assert all(job.sites for job in jobs)  # no job without sites (it would crawl every active site)
    per_node = Counter(str(job.node) for job in jobs)
    assert all(count <= jobs_per_node for count in per_node.values())
    assert len(jobs) == min(sites, nodes * jobs_per_node)
    shares = [sum(len(j.sites) for j in jobs if j.node is node) for node in node_list]
    assert max(shares) - min(shares) <= 1, shares


@given(st.text())
def test_any_node_url_is_taken_or_refused_with_a_value_error(url: str) -> None:
    try:
        node = ScrapydNode(url)
    except ValueError as exc:
        assert "not a Scrapyd URL" in str(exc)
    else:
        assert node.base.startswith(("http://", "https://")) and node.base.endswith("/")


def test_credentials_are_sent_but_never_shown() -> None:
    node = ScrapydNode("http://ops:s%40cret@127.0.0.1:6800")
    assert str(node) == "http://127.0.0.1:6800/"
    assert "cret" not in str(node) and node._auth == "Basic b3BzOnNAY3JldA=="  # ops:s@cret


def provnews(*args: str) -> Result:
    return CliRunner().invoke(cli, ["--db", "sqlite:///unused.sqlite3", *args], catch_exceptions=False)


def test_dry_run_deals_every_active_site_of_the_registry() -> None:
    result = provnews("schedule", "--scrapyd", "http://127.0.0.1:1", "http://127.0.0.1:2", "--dry-run")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    dealt = [site for line in lines for site in line.split()[-1].split(",")]
    assert sorted(dealt) == sorted(s.id for s in load_sites() if s.status == "active")
    assert [line.split()[0] for line in lines] == ["http://127.0.0.1:1/", "http://127.0.0.1:2/"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--scrapyd", "http://127.0.0.1:1", "nosuchsite"], "unknown site 'nosuchsite'"),
        (["--scrapyd", "ftp://127.0.0.1:1"], "not a Scrapyd URL"),
        (["--scrapyd", "http://127.0.0.1:99999"], "not a Scrapyd URL"),
        (["http://127.0.0.1:1", "baogialai"], "--scrapyd"),
        (["--scrapyd", "http://127.0.0.1:1", "-a", "max_articles"], "expected NAME=VALUE"),
        (["--scrapyd", "http://127.0.0.1:1", "--jobs-per-node", "0"], "--jobs-per-node"),
    ],
)
def test_bad_input_is_refused_before_anything_is_sent(args: list[str], message: str) -> None:
    result = provnews("schedule", *args)
    assert result.exit_code != 0 and message in result.output, result.output
