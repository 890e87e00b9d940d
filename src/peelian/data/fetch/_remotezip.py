"""Read members of a remote zip with HTTP range requests, so that one force's files can be taken
from the multi-gigabyte data.police.uk archive without downloading all of it. Servers without
range support get the whole file downloaded once into the cache instead."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

from peelian.data.fetch._http import PoliteClient
from peelian.errors import FetchError

__all__ = ["RemoteFile", "open_remote_zip"]

_BLOCK = 1 << 20  # read-ahead of 1 MiB per range request


class RemoteFile(io.RawIOBase):
    """A seekable, read-only file over HTTP ``Range`` requests (every read rate-limited)."""

    def __init__(self, http: PoliteClient, url: str, size: int) -> None:
        self.http, self.url, self.size, self.pos = http, url, size, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.pos, io.SEEK_END: self.size}[whence]
        self.pos = max(0, base + offset)
        return self.pos

    def readinto(self, buffer: Any) -> int:
        if self.pos >= self.size:
            return 0
        end = min(self.pos + len(buffer), self.size) - 1
        resp = self.http.get(
            self.url, headers={"Range": f"bytes={self.pos}-{end}"}, expect_length=end - self.pos + 1
        )
        if resp.status_code != 206:
            raise FetchError(
                f"{self.url} answered a range request with HTTP {resp.status_code}.",
                "The server no longer supports ranges: run the command again.",
            )
        data = resp.content
        buffer[: len(data)] = data
        self.pos += len(data)
        return len(data)


def _probe(http: PoliteClient, url: str) -> tuple[int, int | None]:
    """(status, total size if ranges are supported)."""
    resp = http.get(url, headers={"Range": "bytes=0-0"}, expect_length=1)
    if resp.status_code == 206:
        m = re.search(r"/(\d+)$", resp.headers.get("content-range", ""))
        if m:
            return 206, int(m.group(1))
    return resp.status_code, None


def open_remote_zip(http: PoliteClient, url: str, cache: Path) -> tuple[Any, str] | None:
    """A readable binary file of the zip at ``url`` and how it is read ("range" or "download"),
    or ``None`` if the server says it does not exist (404/410)."""
    status, size = _probe(http, url)
    if status in (404, 410):
        return None
    if size is not None:
        return io.BufferedReader(RemoteFile(http, url, size), buffer_size=_BLOCK), "range"
    if status >= 400:
        raise FetchError(f"{url} answered HTTP {status}.", "Check --base-url and the month.")
    cache.parent.mkdir(parents=True, exist_ok=True)
    if not cache.exists():
        resp = http.get(url)
        part = cache.with_suffix(cache.suffix + ".part")
        part.write_bytes(resp.content)
        part.replace(cache)
    return cache.open("rb"), "download"
