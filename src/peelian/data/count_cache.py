"""Aggregate counts kept until new data land (decision 0008).

Counting every force record for every measure, or every police.uk crime per month, LSOA and
category, reads the whole table: seconds on a force's four years of records. The answer only
changes when an ingest batch of its source lands, so each aggregate is kept in ``count_cache``
as Parquet, keyed by *what* was counted (the SHA-256 of the SQL, compiled with its literal
values) and stamped with the version of the data it was counted from. A new batch of that
source (committed or failed) changes the version, and a stale entry is counted again on its
next use and replaced. Two measures with the same definition share one entry; editing a
definition changes its SQL and so its key.

    version = data_version(store, "policeuk")
    hit = read_counts(store, ["3f2a..."], version)      # {key: frame} for the fresh ones
    write_counts(store, {"3f2a...": ("policeuk", frame)}, version)

The cache is an optimisation only: a database that cannot be written (a read-only copy, a
locked file) is read from as before and the counts are not kept.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import logging
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
from sqlalchemy import and_, delete, func, insert, or_, select
from sqlalchemy.exc import SQLAlchemyError

from peelian import __version__
from peelian.data.store import Store
from peelian.data.tables import count_cache, ingest_batches
from peelian.errors import StoreError

__all__ = [
    "CACHE_FORMAT",
    "cache_key",
    "clear_count_cache",
    "data_version",
    "read_counts",
    "sql_text",
    "write_counts",
]

#: Bump when the meaning of a cached frame changes (its columns, or how it is counted); 2: LSOA
#: codes placed in the 2021 geography by the rule of decision 0015.
CACHE_FORMAT = 2

log = logging.getLogger(__name__)


def data_version(store: Store, source: str) -> str:
    """The ingest state of one source ("force", "policeuk", ...): its newest batch id and its
    number of batches. Every write of records goes through a batch committed with its rows, so
    this changes whenever that source's records may have (a survey import leaves the force
    counts valid); the count also changes when an older, concurrent PostgreSQL batch commits
    after a newer one."""
    q = select(func.max(ingest_batches.c.id), func.count()).where(ingest_batches.c.source == source)
    with store.engine.connect() as conn:
        newest, n = conn.execute(q).one()
    return f"{source}:{newest or 0}:{n}"


def sql_text(store: Store, stmt: Any) -> str:
    """The statement as this database would run it, with its values inlined."""
    return str(stmt.compile(dialect=store.engine.dialect, compile_kwargs={"literal_binds": True}))


def cache_key(store: Store, what: str, stmt: Any) -> str:
    """The key of an aggregate: what kind of frame it is and the exact SQL that counts it."""
    text = f"{CACHE_FORMAT}|{__version__}|{store.dialect}|{what}|{sql_text(store, stmt)}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def read_counts(store: Store, keys: Sequence[str], version: str) -> dict[str, pd.DataFrame]:
    """The cached frames of ``keys`` counted at ``version`` (stale or missing keys are left out)."""
    if not keys:
        return {}
    import pyarrow.parquet as pq

    q = select(count_cache.c.key, count_cache.c.payload).where(
        count_cache.c.key.in_(list(keys)), count_cache.c.data_version == version
    )
    try:
        with store.engine.connect() as conn:
            rows = conn.execute(q).all()
    except SQLAlchemyError as exc:  # e.g. a pre-release database made before the cache
        log.info("count cache not read (%s): counting from the records", exc)
        return {}
    return {key: pq.read_table(io.BytesIO(payload)).to_pandas() for key, payload in rows}


def write_counts(
    store: Store, frames: Mapping[str, tuple[str, pd.DataFrame]], version: str
) -> bool:
    """Keep ``{key: (what, frame)}`` as counted at ``version``, dropping the entries of older
    versions of the same source. Returns False (and logs why) when the database cannot be
    written."""
    if not frames:
        return True
    source = version.split(":", 1)[0]
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    rows = []
    for key, (what, frame) in frames.items():
        buf = io.BytesIO()
        frame.to_parquet(buf, index=False)
        rows.append(
            {
                "key": key,
                "what": what[:64],
                "data_version": version,
                "created_at": now,
                "n_rows": len(frame),
                "payload": buf.getvalue(),
            }
        )
    try:
        with store.begin() as conn:
            conn.execute(
                delete(count_cache).where(
                    or_(
                        count_cache.c.key.in_(list(frames)),
                        and_(
                            count_cache.c.data_version.startswith(source + ":"),
                            count_cache.c.data_version != version,
                        ),
                    )
                )
            )
            conn.execute(insert(count_cache), rows)
    except (StoreError, SQLAlchemyError) as exc:
        log.info("counts not cached (%s): they will be counted again next time", exc)
        return False
    return True


def clear_count_cache(store: Store) -> int:
    """Forget every cached aggregate; returns how many there were."""
    with store.begin() as conn:
        return int(conn.execute(delete(count_cache)).rowcount or 0)
