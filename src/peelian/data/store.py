"""The store: one SQLAlchemy 2 Core schema on SQLite (embedded default) or PostgreSQL.

Open it with :func:`open_store` (nothing connects at import time)::

    store = open_store("sqlite:///.peelian/peelian.sqlite")
    with store.begin() as conn:           # one transaction; rolled back on any error
        conn.execute(...)
    frame = store.read_frame(select(events).where(events.c.month == "2021-08"))

A new, empty database is initialised to the newest schema on first use. A database with an
older schema is refused with :class:`~peelian.errors.SchemaOutdatedError` until
``peelian db upgrade`` (:meth:`Store.upgrade`) is run.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.sql import Executable

from peelian.config import normalise_database_url
from peelian.data.tables import metadata
from peelian.errors import ConfigError, SchemaOutdatedError, StoreError

__all__ = ["Store", "check_database_url", "open_store", "redact_url"]


def redact_url(url: str) -> str:
    """The URL with any password replaced by ``***`` (for messages and logs)."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # pragma: no cover - a malformed URL is reported as given
        return url


def _alembic_config(connection: Connection | None = None) -> Any:
    from alembic.config import Config

    cfg = Config()
    script_location = resources.files("peelian.data") / "migrations"
    cfg.set_main_option("script_location", str(script_location))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


@lru_cache(maxsize=1)
def head_revision() -> str:
    """The newest schema revision this version of peelian knows.

    Read from the ``revision`` / ``down_revision`` lines of the shipped migration files (the
    revision no other one names as its parent), which every command does on opening the store,
    so it avoids importing Alembic's script machinery (0.7 s); a test checks it against Alembic.
    """
    pattern = re.compile(r"^(down_revision|revision)\b[^=]*=\s*(?:['\"]([^'\"]+)['\"]|None)", re.M)
    revisions: set[str] = set()
    parents: set[str] = set()
    versions = resources.files("peelian.data") / "migrations" / "versions"
    for entry in versions.iterdir():
        if not entry.name.endswith(".py") or entry.name.startswith("__"):
            continue
        for key, value in pattern.findall(entry.read_text(encoding="utf-8")):
            if value:
                (revisions if key == "revision" else parents).add(value)
    heads = revisions - parents
    if len(heads) != 1:  # pragma: no cover - the package always ships one line of migrations
        raise StoreError(
            f"peelian's migrations have {len(heads)} heads ({sorted(heads)}), not one.",
            "Reinstall peelian; the installed package is damaged.",
        )
    return heads.pop()


class Store:
    """A handle on one peelian database. Create with :func:`open_store`."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # -- identity -----------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return redact_url(self.engine.url.render_as_string(hide_password=False))

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    def __repr__(self) -> str:
        return f"Store({self.url!r})"

    # -- schema -------------------------------------------------------------------------------
    def current_revision(self) -> str | None:
        """The schema revision recorded in the database (``None`` for an empty database)."""
        with self.engine.connect() as conn:
            if not inspect(conn).has_table("alembic_version"):
                return None
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()

    def is_empty(self) -> bool:
        with self.engine.connect() as conn:
            names = set(inspect(conn).get_table_names())
        return not (names & set(metadata.tables))

    def upgrade(self, revision: str = "head") -> tuple[str | None, str]:
        """Upgrade the schema to ``revision``; returns ``(from, to)`` revisions."""
        from alembic import command

        before = self.current_revision()
        with self.engine.begin() as conn:
            command.upgrade(_alembic_config(conn), revision)
        return before, self.current_revision() or revision

    def missing_schema(self) -> list[str]:
        """Tables and ``table.column`` names this peelian defines that the database lacks."""
        with self.engine.connect() as conn:
            insp = inspect(conn)
            present = set(insp.get_table_names())
            missing: list[str] = []
            for name, table in metadata.tables.items():
                if name not in present:
                    missing.append(name)
                    continue
                have = {c["name"] for c in insp.get_columns(name)}
                missing += [f"{name}.{c.name}" for c in table.columns if c.name not in have]
        return missing

    def check_schema(self) -> None:
        """Raise :class:`SchemaOutdatedError` if the database is older than this peelian: an
        older revision, or (pre-release, where the initial revision is rebuilt) the same
        revision with tables or columns missing."""
        current, head = self.current_revision(), head_revision()
        if current != head:
            raise SchemaOutdatedError(
                f"The database at {self.url} has schema revision {current or 'none'} but this "
                f"peelian needs {head}.",
                "Run `peelian db upgrade` (back the database up first).",
            )
        missing = self.missing_schema()
        if missing:
            shown = ", ".join(missing[:5]) + (
                f" and {len(missing) - 5} more" if len(missing) > 5 else ""
            )
            raise SchemaOutdatedError(
                f"The database at {self.url} was made by an earlier pre-release of peelian: it "
                f"lacks {shown}.",
                "Pre-release stores are not migrated: export what you need, then delete the "
                "database (for the demo: `rm -rf .peelian-demo`) and build it again "
                "(`make demo`).",
            )

    def initialise(self) -> None:
        """Create the newest schema in an empty database; check it in an existing one."""
        if self.is_empty() and self.current_revision() is None:
            self.upgrade()
        else:
            self.check_schema()

    # -- access -------------------------------------------------------------------------------
    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """A connection in a transaction: committed on success, rolled back on any error."""
        try:
            with self.engine.begin() as conn:
                yield conn
        except OperationalError as exc:
            raise StoreError(
                f"The database at {self.url} failed: {exc.orig}",
                "Check that it is reachable and not locked by another writer.",
            ) from exc

    def read_frame(
        self, query: Executable | str, params: dict[str, Any] | None = None, *, raw: bool = False
    ) -> pd.DataFrame:
        """Run a query and return its rows as a pandas DataFrame.

        ``raw=True`` takes the rows as the database driver returns them, skipping SQLAlchemy's
        per-value type processing (about three times faster for large aggregates). Use it only
        for queries of strings and numbers: on SQLite, dates would stay text and booleans 0/1.
        """
        stmt = text(query) if isinstance(query, str) else query
        with self.engine.connect() as conn:
            result = conn.execute(stmt, params or {})
            columns = list(result.keys())
            if raw and result.cursor is not None:
                return pd.DataFrame.from_records(result.cursor.fetchall(), columns=columns)
            # plain tuples: given Row objects, pandas probes each row's attributes (slow)
            rows = [tuple(r) for r in result.fetchall()]
            return pd.DataFrame.from_records(rows, columns=columns)

    def dispose(self) -> None:
        self.engine.dispose()


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA cache_size=-200000")
    cur.execute("PRAGMA mmap_size=268435456")  # memory-mapped reads: ~7% faster large scans
    cur.close()


_SUPPORTED = (
    "peelian supports SQLite (sqlite:///path/to/peelian.sqlite; four slashes for an absolute "
    "path, e.g. sqlite:////srv/peelian/peelian.sqlite) and PostgreSQL "
    "(postgresql://user@host:5432/peelian)."
)


def check_database_url(url: str) -> None:
    """Raise :class:`~peelian.errors.ConfigError` when ``url`` is a file path rather than a URL
    (naming the URL to use instead) or names a database peelian does not support."""
    if "://" not in url:
        path = Path(url).expanduser()
        raise ConfigError(
            f"{url!r} is a file path, not a database URL.",
            f"Use --db sqlite:///{path.resolve()} for a SQLite file. {_SUPPORTED}",
        )
    scheme = url.split("://", 1)[0].split("+", 1)[0].lower()
    if scheme not in ("sqlite", "postgresql", "postgres"):
        raise ConfigError(
            f"peelian cannot use a {scheme!r} database ({redact_url(url)}).", _SUPPORTED
        )


def open_store(url: str, *, initialise: bool = True) -> Store:
    """Open the store at a SQLAlchemy URL.

    ``sqlite:///path`` creates the file (and its folder) if needed; ``postgresql://...`` uses
    psycopg 3; a file path or another database is a :class:`~peelian.errors.ConfigError` saying
    what to give instead. With ``initialise=True`` (the default) an empty database gets the newest schema and
    an older one raises :class:`SchemaOutdatedError`; ``peelian db upgrade`` passes ``False``.
    """
    check_database_url(url)
    url = normalise_database_url(url)
    try:
        if url.startswith("sqlite"):
            path = url.split("///", 1)[1] if "///" in url else ""
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(url, future=True)
            event.listen(engine, "connect", _sqlite_pragmas)
        else:
            engine = create_engine(url, future=True, pool_pre_ping=True)
        store = Store(engine)
        if initialise:
            store.initialise()
        else:
            with engine.connect():
                pass
        return store
    except SchemaOutdatedError:
        raise
    except (SQLAlchemyError, OSError, ImportError) as exc:
        raise StoreError(
            f"Cannot open the database at {redact_url(url)}: {getattr(exc, 'orig', exc)}",
            "Check the --db URL (or PEELIAN_DATABASE_URL) and that the server is running.",
        ) from exc
