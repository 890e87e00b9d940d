"""Downloads from data.police.uk (the only part of peelian that touches the network).

- :func:`fetch_policeuk`: one force's street, outcomes and stop-and-search files for a range of
  months, written in the police.uk layout for ``peelian ingest policeuk``; rate-limited (15
  requests/second, bursts of 30), retried, resumable, cached and verified.
- :class:`TokenBucket`, :class:`PoliteClient`: the rate limiter and retrying HTTP client.
"""

from __future__ import annotations

from peelian.data.fetch._http import PoliteClient, TokenBucket
from peelian.data.fetch._policeuk import (
    DEFAULT_BASE_URL,
    HEADERS,
    KINDS,
    MANIFEST,
    fetch_policeuk,
    months_between,
)

__all__ = [
    "DEFAULT_BASE_URL",
    "HEADERS",
    "KINDS",
    "MANIFEST",
    "PoliteClient",
    "TokenBucket",
    "fetch_policeuk",
    "months_between",
]
