"""Shared fixtures: one store suite over SQLite and PostgreSQL (STYLE practice 12).

PostgreSQL: ``PEELIAN_TEST_PG_URL`` (default ``postgresql://postgres@127.0.0.1:5432/test``). Each
test gets its own schema (dropped afterwards), so parallel workers and developers never collide.
With ``CI=true`` a skipped PostgreSQL or browser test fails the run.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

TESTS = Path(__file__).parent
FIXTURES = TESTS / "fixtures"
PG_URL = os.environ.get("PEELIAN_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _pg_available() -> str | None:
    """None if the PostgreSQL test server answers, else why not."""
    try:
        import psycopg

        with psycopg.connect(PG_URL, connect_timeout=3):
            return None
    except Exception as exc:
        return f"PostgreSQL test server not reachable at {PG_URL}: {exc}"


@pytest.fixture(scope="session")
def pg_unavailable() -> str | None:
    return _pg_available()


@pytest.fixture
def pg_schema_url(pg_unavailable: str | None) -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh, empty schema (dropped afterwards)."""
    if pg_unavailable:
        pytest.skip(pg_unavailable)
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in PG_URL else "?"
    try:
        yield f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL of a fresh, empty database: SQLite file, then a PostgreSQL schema."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.sqlite'}"
    return request.getfixturevalue("pg_schema_url")


@pytest.fixture
def store(db_url: str):
    """A freshly initialised :class:`peelian.data.store.Store` on each dialect."""
    from peelian.data.store import open_store

    st = open_store(db_url)
    yield st
    st.dispose()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):  # type: ignore[no-untyped-def]
    """With CI=true, a skipped PostgreSQL or browser test is a failure."""
    outcome = yield
    report = outcome.get_result()
    if (
        IN_CI
        and report.skipped
        and (item.get_closest_marker("postgres") or item.get_closest_marker("browser"))
    ):
        report.outcome = "failed"
        report.longrepr = f"CI=true: a {('postgres' if item.get_closest_marker('postgres') else 'browser')} test may not be skipped ({report.longrepr})"
