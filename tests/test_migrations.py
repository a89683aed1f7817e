"""Schema creation, revision checks and the Alembic migrations themselves."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from pipelines import migrate
from pipelines.db import Base
from pipelines.engine import normalise_url
from pipelines.storage import SchemaOutOfDate, Storage

TABLES = {"sites", "articles", "url_state", "crawl_runs", "alembic_version"}


def test_new_database_is_created_at_head(db_url: str) -> None:
    with Storage.open(db_url) as storage:
        assert storage.current_revision() == storage.head_revision() == "0001"
        names = set(inspect(storage.engine).get_table_names())
        assert names >= TABLES
        if storage.engine.dialect.name == "sqlite":
            assert "articles_fts" in names
            assert Path(storage.engine.url.database or "").is_file()  # parent folder was created
        else:
            columns = {c["name"] for c in inspect(storage.engine).get_columns("articles")}
            assert {"title_folded", "sapo_folded", "body_folded", "search_vector"} <= columns


def test_migration_matches_models(storage: Storage) -> None:
    """The hand-written revision creates exactly what the models declare (besides the search index)."""
    search_extras = {
        "title_folded",
        "sapo_folded",
        "body_folded",
        "search_vector",
        "ix_articles_search_vector",
    }
    with storage.engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    unexpected = []
    for diff in diffs:
        flat = str(diff)
        if "articles_fts" in flat or "alembic_version" in flat or any(x in flat for x in search_extras):
            continue
        unexpected.append(diff)
    assert unexpected == []


def test_new_database_without_upgrade_is_out_of_date(db_url: str) -> None:
    with pytest.raises(SchemaOutOfDate, match="provnews db upgrade"):
        Storage.open(db_url, upgrade=False)


def test_unknown_old_revision_is_out_of_date(db_url: str) -> None:
    Storage.open(db_url).close()
    storage = Storage(db_url)
    with storage.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0000'"))
    storage.close()
    with pytest.raises(SchemaOutOfDate) as caught:
        Storage.open(db_url)
    message = str(caught.value)
    assert "0000" in message and "0001" in message and "`provnews db upgrade`" in message
    assert caught.value.current == "0000" and caught.value.head == "0001"


def test_tables_without_revision_are_not_silently_migrated(db_url: str) -> None:
    storage = Storage.open(db_url)
    command.stamp(migrate.alembic_config(storage.engine), "base")
    storage.close()
    with pytest.raises(SchemaOutOfDate, match=r"<none>.*0001.*provnews db upgrade"):
        Storage.open(db_url)


def test_downgrade_to_base_and_upgrade_again(db_url: str) -> None:
    storage = Storage.open(db_url)
    migrate.downgrade(storage.engine, "base")
    assert storage.current_revision() is None
    assert migrate.is_empty(storage.engine)
    storage.upgrade()
    storage.upgrade()  # idempotent at head
    assert storage.current_revision() == "0001"
    storage.close()
    Storage.open(db_url).close()


def test_sqlite_connection_settings(tmp_path: Path) -> None:
    with Storage.open(str(tmp_path / "plain-path.sqlite3")) as storage, storage.engine.connect() as conn:
        pragma = {
            name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
            for name in ("journal_mode", "synchronous", "busy_timeout", "foreign_keys")
        }
    assert pragma == {"journal_mode": "wal", "synchronous": 1, "busy_timeout": 5000, "foreign_keys": 1}


def test_url_normalisation() -> None:
    assert normalise_url("data/x.sqlite3") == "sqlite:///data/x.sqlite3"
    assert normalise_url("postgresql://u:p%40ss@db/provnews").startswith("postgresql+psycopg://u:p%40ss@db/")
    assert normalise_url("postgresql+psycopg://db/provnews") == "postgresql+psycopg://db/provnews"
