"""``fetch_policeuk`` against a local HTTP server (never the network): layout, rate limit,
retries on 429/500/truncated responses, resume after interruption, cache and verification."""

from __future__ import annotations

import csv
import io
import json
import threading
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from peelian.data.datasets import demo_policeuk_zip
from peelian.data.fetch import MANIFEST, PoliteClient, TokenBucket, fetch_policeuk, months_between
from peelian.errors import FetchError, ParameterError

MONTHS = ["2023-01", "2023-02", "2023-03"]
ZIP_PATH = "/data/archive/2023-03.zip"


def _rows_for(kind: str, month: str, n: int = 25) -> bytes:
    """The first ``n`` rows of the real 2020-05 Northumbria file of ``kind``, moved to ``month``."""
    with zipfile.ZipFile(demo_policeuk_zip()) as zf:
        text = zf.read(f"2020-05/2020-05-northumbria-{kind}.csv").decode("utf-8")
    rows = list(csv.reader(io.StringIO(text)))
    header, body = rows[0], rows[1 : n + 1]
    col = header.index("Month") if "Month" in header else header.index("Date")
    for r in body:
        r[col] = month if "Month" in header else f"{month}-05T10:00:00+00:00"
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows([header, *body])
    return buf.getvalue().encode("utf-8")


def _archive() -> tuple[bytes, dict[str, bytes]]:
    members: dict[str, bytes] = {}
    for month in MONTHS:
        for force in ("northumbria", "durham"):
            for kind in ("street", "outcomes", "stop-and-search"):
                if force == "northumbria" and kind == "stop-and-search" and month == "2023-02":
                    continue  # as police.uk: not every force publishes stops every month
                members[f"{month}/{month}-{force}-{kind}.csv"] = _rows_for(kind, month)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue(), members


DATES = [
    {"date": "2023-03", "stop-and-search": ["northumbria", "durham"]},
    {"date": "2023-02", "stop-and-search": ["durham"]},
    {"date": "2023-01", "stop-and-search": ["northumbria", "durham"]},
]


class FakePoliceUK:
    """Routes, queued faults per path and a request log, shared with the handler thread."""

    def __init__(self) -> None:
        self.routes: dict[str, bytes] = {"/api/crimes-street-dates": json.dumps(DATES).encode()}
        self.faults: dict[str, list[dict[str, Any]]] = {}
        self.no_range: set[str] = set()
        self.log: list[tuple[str, str | None]] = []

    def handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                rng = self.headers.get("Range")
                fake.log.append((self.path, rng))
                queued = fake.faults.get(self.path) or []
                if queued:
                    fault = queued.pop(0)
                    if "status" in fault:
                        self.send_response(fault["status"])
                        if "retry_after" in fault:
                            self.send_header("Retry-After", fault["retry_after"])
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    if fault.get("truncate"):
                        body = fake.routes[self.path]
                        self.send_response(200 if rng is None else 206)
                        if rng:
                            a, b = (int(x) for x in rng.split("=")[1].split("-"))
                            body = body[a : b + 1]
                            self.send_header(
                                "Content-Range", f"bytes {a}-{b}/{len(fake.routes[self.path])}"
                            )
                        self.send_header("Content-Length", str(len(body)))
                        self.end_headers()
                        self.wfile.write(body[: len(body) // 2])
                        self.wfile.flush()
                        self.close_connection = True
                        return
                body = fake.routes.get(self.path)
                if body is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if rng and self.path not in fake.no_range:
                    a, b = (int(x) for x in rng.split("=")[1].split("-"))
                    b = min(b, len(body) - 1)
                    part = body[a : b + 1]
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {a}-{b}/{len(body)}")
                    self.send_header("Content-Length", str(len(part)))
                    self.end_headers()
                    self.wfile.write(part)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return Handler


@pytest.fixture
def server() -> Iterator[tuple[FakePoliceUK, str, dict[str, bytes]]]:
    fake = FakePoliceUK()
    data, members = _archive()
    fake.routes[ZIP_PATH] = data
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), fake.handler())
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake, f"http://127.0.0.1:{httpd.server_address[1]}", members
    finally:
        httpd.shutdown()
        httpd.server_close()


def _client(sleeps: list[float] | None = None) -> PoliteClient:
    record = sleeps if sleeps is not None else []
    return PoliteClient(bucket=TokenBucket(1000, 1000), sleep=record.append, backoff=0.01)


def test_fetch_writes_the_policeuk_layout_exactly(server: Any, tmp_path: Path) -> None:
    fake, base, members = server
    report = fetch_policeuk(
        "northumbria", "2023-01", "2023-03", tmp_path, base_url=base, client=_client()
    )
    paths = [f["path"] for f in report["files"]]
    assert len(paths) == 8 and all(f["action"] == "downloaded" for f in report["files"])
    assert report["absent"] == ["2023-02/2023-02-northumbria-stop-and-search.csv"]
    for f in report["files"]:
        assert (tmp_path / f["path"]).read_bytes() == members[f["path"]]  # byte-identical
        assert f["rows"] == 25
    assert not list(tmp_path.rglob("*durham*"))
    # only a small part of the archive travelled (range requests), never the whole zip body
    assert all(rng is not None for path, rng in fake.log if path == ZIP_PATH)
    manifest = json.loads((tmp_path / MANIFEST).read_text())
    assert set(manifest["files"]) == set(paths)
    assert all(
        e["header_ok"] and e["source"].startswith("2023-03.zip!")
        for e in manifest["files"].values()
    )


def test_fetched_folder_is_ingested_by_peelian(server: Any, tmp_path: Path, store: Any) -> None:
    from peelian.data.ingest import ingest_policeuk

    _, base, _ = server
    out = tmp_path / "out"
    report = fetch_policeuk(
        "northumbria", "2023-01", "2023-03", out, base_url=base, client=_client()
    )
    ingested = ingest_policeuk(store, [out])
    loaded = [
        f for f in ingested["files"] if f.get("kind") in {"street", "outcomes", "stop-and-search"}
    ]
    assert len(loaded) == 8
    assert sum(f["rows_read"] for f in loaded) == sum(f["rows"] for f in report["files"]) == 200
    assert sum(f["rows_stored"] for f in loaded) == 200


def test_retries_429_500_and_truncated_responses(server: Any, tmp_path: Path) -> None:
    fake, base, members = server
    fake.faults["/api/crimes-street-dates"] = [{"status": 429, "retry_after": "7"}, {"status": 503}]
    fake.faults[ZIP_PATH] = [
        {"status": 500},
        {"truncate": True},
        {"status": 429, "retry_after": "3"},
    ]
    sleeps: list[float] = []
    report = fetch_policeuk(
        "northumbria", "2023-01", "2023-03", tmp_path, base_url=base, client=_client(sleeps)
    )
    assert report["retries"] == 5 and report["throttled"] == 2
    assert 7.0 in sleeps and 3.0 in sleeps  # Retry-After honoured
    assert all((tmp_path / f["path"]).read_bytes() == members[f["path"]] for f in report["files"])


def test_gives_up_after_the_retries_with_a_fetch_error(server: Any, tmp_path: Path) -> None:
    fake, base, _ = server
    fake.faults["/api/crimes-street-dates"] = [{"status": 500}] * 10
    client = PoliteClient(bucket=TokenBucket(1000, 1000), sleep=lambda s: None, max_retries=3)
    with pytest.raises(FetchError, match="after 4 attempts") as err:
        fetch_policeuk("northumbria", "2023-01", "2023-03", tmp_path, base_url=base, client=client)
    assert err.value.exit_code == 7 and "run the same command again" in str(err.value)


def test_resume_after_interruption_and_refetch_of_a_corrupt_file(
    server: Any, tmp_path: Path
) -> None:
    fake, base, members = server

    def interrupt(_: str, done: int, total: int) -> None:
        if done == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        fetch_policeuk(
            "northumbria",
            "2023-01",
            "2023-03",
            tmp_path,
            base_url=base,
            client=_client(),
            on_progress=interrupt,
        )
    first = json.loads((tmp_path / MANIFEST).read_text())["files"]
    assert len(first) == 3
    again = fetch_policeuk(
        "northumbria", "2023-01", "2023-03", tmp_path, base_url=base, client=_client()
    )
    actions = {f["path"]: f["action"] for f in again["files"]}
    assert {p for p, a in actions.items() if a == "cached"} == set(first)
    assert sum(a == "downloaded" for a in actions.values()) == 5
    # a corrupted file is fetched again; everything else is taken from the cache
    victim = tmp_path / "2023-01/2023-01-northumbria-street.csv"
    victim.write_bytes(victim.read_bytes()[:100])
    fake.log.clear()
    third = fetch_policeuk(
        "northumbria", "2023-01", "2023-03", tmp_path, base_url=base, client=_client()
    )
    actions = {f["path"]: f["action"] for f in third["files"]}
    assert actions["2023-01/2023-01-northumbria-street.csv"] == "downloaded"
    assert sum(a == "cached" for a in actions.values()) == 7
    assert victim.read_bytes() == members["2023-01/2023-01-northumbria-street.csv"]
    fake.log.clear()
    fetch_policeuk("northumbria", "2023-01", "2023-03", tmp_path, base_url=base, client=_client())
    assert [p for p, _ in fake.log] == ["/api/crimes-street-dates"]  # all cached: no archive read


def test_server_without_ranges_downloads_the_archive_once_into_the_cache(
    server: Any, tmp_path: Path
) -> None:
    fake, base, members = server
    fake.no_range.add(ZIP_PATH)
    report = fetch_policeuk(
        "northumbria", "2023-01", "2023-03", tmp_path / "out", base_url=base, client=_client()
    )
    assert (tmp_path / "out" / ".cache" / "2023-03.zip").read_bytes() == fake.routes[ZIP_PATH]
    manifest = json.loads((tmp_path / "out" / MANIFEST).read_text())["files"]
    assert {e["read_by"] for e in manifest.values()} == {"download"}
    assert len(report["files"]) == 8


def test_months_not_published_and_missing_archive(server: Any, tmp_path: Path) -> None:
    fake, base, _ = server
    report = fetch_policeuk(
        "northumbria", "2023-02", "2023-05", tmp_path, base_url=base, client=_client()
    )
    assert report["not_published"] == ["2023-04", "2023-05"]
    assert len(report["files"]) == 5  # 2023-02 has no stop-and-search
    with pytest.raises(FetchError, match="none of the months"):
        fetch_policeuk(
            "northumbria", "2024-01", "2024-02", tmp_path, base_url=base, client=_client()
        )
    del fake.routes[ZIP_PATH]
    with pytest.raises(FetchError, match="does not exist"):
        fetch_policeuk(
            "northumbria", "2023-01", "2023-01", tmp_path / "x", base_url=base, client=_client()
        )


@pytest.mark.parametrize(
    ("force", "a", "b", "match"),
    [
        ("northumbria", "2023-13", "2023-14", "must be YYYY-MM"),
        ("northumbria", "2023-05", "2023-01", "is after"),
        ("Northumbria Police", "2023-01", "2023-02", "police.uk id"),
    ],
)
def test_bad_parameters(force: str, a: str, b: str, match: str, tmp_path: Path) -> None:
    with pytest.raises(ParameterError, match=match):
        fetch_policeuk(force, a, b, tmp_path, base_url="http://127.0.0.1:9", client=_client())


def test_token_bucket_allows_a_burst_of_30_then_15_a_second() -> None:
    now = [0.0]
    waits: list[float] = []

    def sleep(s: float) -> None:
        waits.append(s)
        now[0] += s

    bucket = TokenBucket(15, 30, clock=lambda: now[0], sleep=sleep)
    stamps = []
    for _ in range(90):
        bucket.acquire()
        stamps.append(now[0])
    assert stamps[29] == 0.0 and stamps[30] > 0  # the burst
    assert stamps[-1] == pytest.approx(60 / 15)  # then 15 a second
    # in any 1-second window after the burst, at most 15 (+1 at the edge) requests
    later = [t for t in stamps if t > 0]
    assert max(sum(1 for t in later if s <= t < s + 1) for s in later) <= 16
    assert months_between("2023-11", "2024-02") == ["2023-11", "2023-12", "2024-01", "2024-02"]
