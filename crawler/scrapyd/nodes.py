"""Crawl jobs for a set of Scrapyd nodes (`provnews schedule`): the sites spread over the nodes, and
Scrapyd's HTTP API (daemonstatus.json, schedule.json) to start them.

The site is the unit of work (politeness is per site), so each job gets whole sites, passed to the
`news` spider as its `site` argument. Sites are dealt round robin over the job slots, node by node
first (node 1 job 1, node 2 job 1, …, node 1 job 2, …): every node gets its share, within one site,
and a job slot left without a site gets no job (a job without sites would crawl every active site)."""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


class NodeError(Exception):
    """A Scrapyd node that cannot be reached, or that refused a request; the message says why."""


@dataclass
class Job:
    """One crawl job planned for a node; `job_id` is chosen here (Scrapyd takes it as `jobid`)."""

    node: ScrapydNode
    sites: list[str]
    job_id: str = ""
    error: str = ""  # why it was not sent, if it was not


def plan_jobs(sites: Sequence[str], nodes: Sequence[ScrapydNode], jobs_per_node: int = 1) -> list[Job]:
    """The sites dealt round robin over `jobs_per_node` job slots per node, node by node first;
    only slots that got a site become jobs."""
    slots = [Job(node, []) for _ in range(jobs_per_node) for node in nodes]
    for index, site in enumerate(sites):
        slots[index % len(slots)].sites.append(site)
    return [job for job in slots if job.sites]


class ScrapydNode:
    """A Scrapyd server's JSON API. The URL may carry `user:password@` for Scrapyd's basic auth; it is
    sent as a header and never shown (`str(node)` is the URL without it)."""

    def __init__(self, url: str, timeout: float = 10) -> None:
        try:
            parts = urllib.parse.urlsplit(url)
            parts.port  # noqa: B018  (raises ValueError for a port that is not a number below 65536)
        except ValueError:
            parts = urllib.parse.urlsplit("")
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
            raise ValueError(f"not a Scrapyd URL (http://host:port/): {url!r}")
        self.host = parts.hostname
        netloc = parts.netloc.rpartition("@")[2]
        self.base = urllib.parse.urlunsplit((parts.scheme, netloc, parts.path.rstrip("/") + "/", "", ""))
        self.timeout = timeout
        self._auth = ""
        if parts.username is not None:
            user = urllib.parse.unquote(parts.username)
            password = urllib.parse.unquote(parts.password or "")
            self._auth = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")

    def __str__(self) -> str:
        return self.base

    def call(self, endpoint: str, data: Sequence[tuple[str, str]] | None = None) -> dict[str, Any]:
        """One API call (a POST when `data` is given); its JSON answer, or NodeError saying why not."""
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(self.base + endpoint, data=body)
        if self._auth:
            request.add_header("Authorization", self._auth)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:
                text = answer.read()
        except urllib.error.HTTPError as exc:  # before URLError: it is one
            raise NodeError(f"HTTP {exc.code} {exc.reason} from {endpoint}") from exc
        except urllib.error.URLError as exc:
            raise NodeError(f"unreachable: {exc.reason}") from exc
        except OSError as exc:  # a timeout or a reset while reading
            raise NodeError(f"unreachable: {exc}") from exc
        try:
            reply = json.loads(text)
        except ValueError as exc:
            raise NodeError(f"not a Scrapyd answer from {endpoint}: {text[:80]!r}") from exc
        if not isinstance(reply, dict) or reply.get("status") != "ok":
            message = reply.get("message", reply) if isinstance(reply, dict) else reply
            message = " ".join(str(message).split())  # one line, however the node formats it
            raise NodeError(f"Scrapyd refused {endpoint}: {message[:300]}")
        return reply

    def check(self) -> None:
        """NodeError unless the node answers as a Scrapyd server."""
        self.call("daemonstatus.json")

    def schedule(
        self, project: str, spider: str, job_id: str, args: dict[str, str], settings: dict[str, str]
    ) -> str:
        """Start `spider` with these spider arguments and settings; the job id Scrapyd gave it."""
        data = [("project", project), ("spider", spider), ("jobid", job_id), *args.items()]
        data += [("setting", f"{name}={value}") for name, value in settings.items()]
        return str(self.call("schedule.json", data).get("jobid", job_id))
