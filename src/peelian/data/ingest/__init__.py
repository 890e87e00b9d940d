"""Ingest: load source files into the store, reconciling every row.

- :mod:`peelian.data.ingest.batch`: the batch / reconciliation recorder every ingester uses.
- :func:`ingest_policeuk`: police.uk zips, folders and CSV files (street, outcomes,
  stop-and-search), recognised by header.
"""

from __future__ import annotations

from peelian.data.ingest._sources import IngestLimits
from peelian.data.ingest.batch import (
    ACTIONS,
    Batch,
    FileRecord,
    QuarantinedRow,
    ReconciliationError,
    open_batch,
    redact_secrets,
)
from peelian.data.ingest.policeuk import ingest_policeuk

__all__ = [
    "ACTIONS",
    "Batch",
    "FileRecord",
    "IngestLimits",
    "QuarantinedRow",
    "ReconciliationError",
    "ingest_policeuk",
    "open_batch",
    "redact_secrets",
]
