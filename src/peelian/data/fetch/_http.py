"""A polite HTTP client for data.police.uk: a token bucket (15 requests/second, bursts of 30, the
published limit, https://data.police.uk/docs/api-call-limits/), and retries on 429 / 5xx /
dropped or truncated responses with exponential backoff that honours ``Retry-After``."""

from __future__ import annotations

import email.utils
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from peelian import __version__
from peelian.errors import FetchError

__all__ = ["PoliteClient", "TokenBucket", "Truncated"]

USER_AGENT = f"peelian/{__version__} (+https://github.com/peelian; police.uk open data)"


class Truncated(Exception):
    """A response body shorter than it said it would be."""


class TokenBucket:
    """``rate`` tokens a second, at most ``burst`` saved up; :meth:`acquire` waits for one.

    ``clock`` and ``sleep`` are injectable so tests can check the schedule without waiting.
    """

    def __init__(
        self,
        rate: float = 15.0,
        burst: int = 30,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0 or burst < 1:
            from peelian.errors import ParameterError

            raise ParameterError(
                f"The rate limit must be > 0 requests/second with a burst >= 1. Got {rate}, {burst}."
            )
        self.rate, self.burst = float(rate), int(burst)
        self.clock, self.sleep = clock, sleep
        self.tokens = float(burst)
        self.updated = clock()
        self.waited = 0.0
        self._lock = threading.Lock()

    def acquire(self) -> None:
        with self._lock:
            while True:
                now = self.clock()
                self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
                self.updated = now
                if self.tokens >= 1.0 - 1e-9:  # float tolerance: never spin on 0.999...
                    self.tokens = max(0.0, self.tokens - 1.0)
                    return
                wait = (1.0 - self.tokens) / self.rate
                self.waited += wait
                self.sleep(wait)


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value)
        if parsed is None:  # pragma: no cover - malformed header: fall back to backoff
            return None
        return max(0.0, parsed.timestamp() - time.time())


@dataclass
class PoliteClient:
    """httpx with the rate limit and retries. ``stats`` counts requests, retries and bytes."""

    bucket: TokenBucket = field(default_factory=TokenBucket)
    max_retries: int = 6
    backoff: float = 0.5
    max_backoff: float = 60.0
    timeout: float = 60.0
    sleep: Callable[[float], None] = time.sleep
    stats: dict[str, int] = field(
        default_factory=lambda: {"requests": 0, "retries": 0, "bytes": 0, "throttled": 0}
    )

    def __post_init__(self) -> None:
        self.client = httpx.Client(
            timeout=self.timeout, follow_redirects=True, headers={"User-Agent": USER_AGENT}
        )

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> PoliteClient:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def get(
        self,
        url: str,
        *,
        headers: dict[str, str] | None = None,
        expect_length: int | None = None,
        ok: tuple[int, ...] = (200, 206),
    ) -> httpx.Response:
        """GET with the rate limit; retries on 429, 5xx, transport errors and truncated bodies.

        Returns the response when its status is in ``ok`` or is a 4xx other than 429 (the caller
        decides what a 404 means); raises :class:`FetchError` after ``max_retries`` retries.
        """
        last = ""
        for attempt in range(self.max_retries + 1):
            self.bucket.acquire()
            self.stats["requests"] += 1
            delay = min(self.max_backoff, self.backoff * (2**attempt))
            try:
                resp = self.client.get(url, headers=headers)
                body = resp.content
                self.stats["bytes"] += len(body)
                declared = resp.headers.get("content-length")
                if (
                    declared is not None
                    and "content-encoding" not in resp.headers
                    and int(declared) != len(body)
                ):
                    raise Truncated(f"{len(body)} of {declared} bytes")
                if (
                    resp.status_code == 206
                    and expect_length is not None
                    and len(body) != expect_length
                ):
                    raise Truncated(f"{len(body)} of {expect_length} bytes of the range")
            except (httpx.TransportError, Truncated) as exc:
                last = f"{type(exc).__name__}: {exc}"
            else:
                if resp.status_code == 429 or resp.status_code >= 500:
                    last = f"HTTP {resp.status_code}"
                    if resp.status_code == 429:
                        self.stats["throttled"] += 1
                    after = _retry_after(resp.headers.get("retry-after"))
                    if after is not None:
                        delay = min(self.max_backoff, after)
                elif resp.status_code in ok or 400 <= resp.status_code < 500:
                    return resp
                else:
                    last = f"unexpected HTTP {resp.status_code}"
            if attempt < self.max_retries:
                self.stats["retries"] += 1
                self.sleep(delay)
        raise FetchError(
            f"Downloading {url} failed after {self.max_retries + 1} attempts (last: {last}).",
            "Check the network and the --base-url, then run the same command again: "
            "what was already downloaded is kept and skipped.",
        )
