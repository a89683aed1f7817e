"""A throwaway PostgreSQL server for the tests and benchmarks: initdb + pg_ctl in a temporary folder,
listening on a unix socket only (no TCP port to collide with), trust authentication.

initdb refuses to run as root, so when the tests run as root (CI) the server runs as the `postgres`
user (created by the Debian package), or `nobody` as a last resort.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

INSTALL_HINT = (
    "PostgreSQL server binaries (initdb, pg_ctl) were not found in /usr/lib/postgresql/*/bin or on PATH; "
    "install them (Debian: `apt-get install -y postgresql`) or set PROVNEWS_TEST_PG_URL to a server URL"
)
USER = "provnews"


class PgUnavailable(RuntimeError):
    """The server cannot be started here; the message says why and what to install."""


@dataclass
class PgServer:
    bindir: Path
    root: Path
    run_as: tuple[int, int] | None

    @property
    def datadir(self) -> Path:
        return self.root / "data"

    @property
    def url(self) -> str:
        """SQLAlchemy URL of the server's `postgres` database (scratch databases are created from it)."""
        return f"postgresql+psycopg://{USER}@/postgres?host={self.root}"

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        kwargs: dict[str, object] = {}
        if self.run_as is not None:
            kwargs = {"user": self.run_as[0], "group": self.run_as[1], "extra_groups": []}
        result = subprocess.run(
            args, capture_output=True, text=True, timeout=120, check=False, cwd=self.root, **kwargs
        )  # type: ignore[call-overload]
        if result.returncode != 0:
            log = self.root / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise PgUnavailable(f"{' '.join(args[:2])} failed: {result.stderr or result.stdout}\n{tail}")
        return result

    def start(self, settings: dict[str, str] | None = None) -> PgServer:
        self._run(
            str(self.bindir / "initdb"),
            "-D",
            str(self.datadir),
            "-U",
            USER,
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-locale",
            "--no-sync",
        )
        options = {"listen_addresses": "''", "unix_socket_directories": f"'{self.root}'"} | (settings or {})
        opts = " ".join(f"-c {name}={value}" for name, value in options.items())
        self._run(
            str(self.bindir / "pg_ctl"),
            "-D",
            str(self.datadir),
            "-l",
            "server.log",
            "-o",
            opts,
            "-w",
            "start",
        )
        return self

    def stop(self) -> None:
        try:
            self._run(str(self.bindir / "pg_ctl"), "-D", str(self.datadir), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def find_bindir() -> Path | None:
    """The newest /usr/lib/postgresql/N/bin holding initdb, else the folder of initdb on PATH."""
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]), reverse=True
    )
    found = candidates[0] if candidates else shutil.which("initdb")
    if not found:
        return None
    bindir = Path(found).resolve().parent
    return bindir if (bindir / "pg_ctl").exists() else None


def _unprivileged() -> tuple[int, int] | None:
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            continue
        return entry.pw_uid, entry.pw_gid
    raise PgUnavailable("running as root and neither a `postgres` nor a `nobody` user exists for initdb")


def start_server(settings: dict[str, str] | None = None) -> PgServer:
    """Start a fresh server (raises PgUnavailable with an install hint when it cannot)."""
    bindir = find_bindir()
    if bindir is None:
        raise PgUnavailable(INSTALL_HINT)
    run_as = _unprivileged()
    # Short path: a unix socket path must stay under ~100 bytes.
    root = Path(tempfile.mkdtemp(prefix="provnews-pg-", dir="/tmp"))
    if run_as is not None:
        os.chown(root, *run_as)
    server = PgServer(bindir, root, run_as)
    try:
        return server.start(settings)
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise
