"""The one SQLAlchemy ``MetaData`` every peelian table belongs to, with a naming convention so
constraint names are the same on SQLite and PostgreSQL (and in Alembic migrations)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Integer, MetaData

__all__ = ["ID", "metadata"]

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

#: Primary-key type: BIGINT on PostgreSQL, INTEGER (so it is the rowid alias) on SQLite.
ID = BigInteger().with_variant(Integer(), "sqlite")
