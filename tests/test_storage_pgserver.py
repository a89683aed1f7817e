"""The throwaway PostgreSQL server behind the PostgreSQL half of the storage tests."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from tests import pgserver


def test_missing_binaries_fail_with_an_install_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pgserver, "find_bindir", lambda: None)
    with pytest.raises(pgserver.PgUnavailable, match=r"apt-get install -y postgresql"):
        pgserver.start_server()


def test_session_server_is_a_real_postgresql(pg_server_url: str) -> None:
    engine = create_engine(pg_server_url)
    with engine.connect() as conn:
        version = conn.execute(text("SHOW server_version_num")).scalar_one()
        assert int(version) >= 130000
        assert conn.execute(text("SHOW listen_addresses")).scalar_one() == ""  # unix socket only
    engine.dispose()
