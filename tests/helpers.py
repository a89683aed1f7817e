"""Running the real `provnews` and `scrapy` commands in a subprocess, as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.paths import REPO

BIN = Path(sys.executable).parent

# Every crawl in the tests goes to servers on loopback, which the crawler refuses unless allowed by name.
LOOPBACK_HOSTS = "127.0.0.1,localhost"
LOOPBACK_ENV = {"PROVNEWS_ALLOW_PRIVATE_HOSTS": LOOPBACK_HOSTS}

# The smallest valid registry entry, for tests that vary one key at a time.
MINIMAL_SITE = """
[[site]]
id = "baoa"
name = "Báo A"
province = "Gia Lai"
base_url = "https://baoa.vn"
family = "post"
article_pattern = '-post\\d+\\.html$'
"""


def write_registry(folder: Path, text: str) -> Path:
    """A registry file with this text in the folder."""
    path = folder / "sites.toml"
    path.write_text(text, encoding="utf-8")
    return path


def run(
    args: list[str], *, env: dict[str, str] | None = None, timeout: int = 240
) -> subprocess.CompletedProcess[str]:
    """Run a console script of this venv from the repository root; output captured as text. Crawls may
    reach loopback (LOOPBACK_ENV) unless `env` says otherwise."""
    full_env = {**os.environ, **LOOPBACK_ENV, **(env or {})}
    return subprocess.run(
        [str(BIN / args[0]), *args[1:]],
        cwd=REPO,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
