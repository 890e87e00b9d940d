"""The store on both dialects: initialise, schema check, transactions, upgrade."""

from __future__ import annotations

import pytest
from sqlalchemy import func, insert, select, text

from peelian.data.store import head_revision, open_store
from peelian.data.tables import ingest_batches
from peelian.errors import SchemaOutdatedError, StoreError


def test_new_database_is_initialised_to_head(store) -> None:
    assert store.current_revision() == head_revision()
    assert not store.is_empty()


def test_transaction_rolls_back_on_error(store) -> None:
    import datetime as dt

    row = {
        "source": "policeuk",
        "started_at": dt.datetime(2024, 1, 1),
        "status": "running",
        "peelian_version": "test",
    }
    with pytest.raises(RuntimeError), store.begin() as conn:
        conn.execute(insert(ingest_batches), [row])
        raise RuntimeError("boom")
    with store.begin() as conn:
        assert conn.execute(select(func.count()).select_from(ingest_batches)).scalar() == 0
        conn.execute(insert(ingest_batches), [row])
    assert store.read_frame(select(ingest_batches.c.status))["status"].tolist() == ["running"]


def test_old_schema_is_refused_until_upgrade(db_url: str) -> None:
    st = open_store(db_url)
    with st.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0000_old'"))
    with pytest.raises(SchemaOutdatedError, match="peelian db upgrade"):
        open_store(db_url)


def test_pre_release_store_with_the_same_revision_but_missing_tables_is_refused(
    db_url: str,
) -> None:
    """The pre-release initial revision is rebuilt when tables change, so a store made before
    has the head revision but lacks tables: it is refused with what to do, not left to fail
    later with "no such column"."""
    st = open_store(db_url)
    assert st.missing_schema() == []
    with st.begin() as conn:
        conn.execute(text("DROP TABLE sessions"))
    st.dispose()
    with pytest.raises(SchemaOutdatedError, match="earlier pre-release") as info:
        open_store(db_url)
    assert "sessions" in str(info.value) and "make demo" in info.value.hint


def test_unreachable_database_gives_store_error() -> None:
    with pytest.raises(StoreError, match="Cannot open the database"):
        open_store("postgresql://nobody@127.0.0.1:1/none?connect_timeout=1")


def test_migrated_schema_matches_the_table_definitions(store) -> None:
    """`make migration` was run after the last table change (no autogenerate differences)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from peelian.data.tables import metadata

    with store.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": False})
        diffs = compare_metadata(ctx, metadata)
    assert diffs == [], f"run `make migration`: {diffs}"


def test_head_revision_agrees_with_alembic() -> None:
    from alembic.script import ScriptDirectory

    from peelian.data.store import _alembic_config

    assert head_revision() == ScriptDirectory.from_config(_alembic_config()).get_current_head()
    assert head_revision() == "0001"
