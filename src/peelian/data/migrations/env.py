"""Alembic environment for peelian: runs on the connection the Store hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from peelian.data.tables import metadata
from peelian.errors import StoreError

config = context.config
target_metadata = metadata


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        url = config.get_main_option("sqlalchemy.url")
        if not url:
            raise StoreError(
                "Alembic was given neither a connection nor a database URL.",
                hint="Run migrations through `peelian db upgrade --db URL`.",
            )
        engine = create_engine(url)
        with engine.begin() as conn:
            context.configure(
                connection=conn,
                target_metadata=target_metadata,
                render_as_batch=True,
                compare_type=True,
            )
            context.run_migrations()
        return
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
    )
    context.run_migrations()


run_migrations_online()
