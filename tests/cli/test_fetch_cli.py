"""``peelian fetch policeuk`` through the CLI, against a local static HTTP server (no ranges)."""

from __future__ import annotations

import functools
import json
import threading
import zipfile
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from typer.testing import CliRunner

from peelian.cli import app
from peelian.data.datasets import demo_policeuk_zip

runner = CliRunner()


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def site(tmp_path: Path) -> Iterator[str]:
    """A static police.uk look-alike: the dates API and a 2020-06 archive holding two real
    Northumbria months (2020-05, 2020-06) taken from the bundled zip."""
    root = tmp_path / "site"
    (root / "api").mkdir(parents=True)
    (root / "data" / "archive").mkdir(parents=True)
    dates = [{"date": m, "stop-and-search": ["northumbria"]} for m in ("2020-06", "2020-05")]
    (root / "api" / "crimes-street-dates").write_text(json.dumps(dates))
    with (
        zipfile.ZipFile(demo_policeuk_zip()) as src,
        zipfile.ZipFile(root / "data" / "archive" / "2020-06.zip", "w") as dst,
    ):
        for name in src.namelist():
            if name.startswith(("2020-05/", "2020-06/")) and name.endswith(".csv"):
                dst.writestr(name, src.read(name))
    handler = functools.partial(_Quiet, directory=str(root))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_fetch_then_ingest_counts_match(site: str, tmp_path: Path) -> None:
    out = tmp_path / "download"
    args = ["fetch", "policeuk", "--force", "northumbria", "--from", "2020-05", "--to", "2020-06"]
    result = runner.invoke(app, [*args, "--out", str(out), "--base-url", site, "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert len(report["files"]) == 6 and report["absent"] == []
    street = {f["month"]: f["rows"] for f in report["files"] if f["kind"] == "street"}
    with zipfile.ZipFile(demo_policeuk_zip()) as zf:
        for month, rows in street.items():
            text = zf.read(f"{month}/{month}-northumbria-street.csv")
            assert (out / month / f"{month}-northumbria-street.csv").read_bytes() == text
            assert rows == text.count(b"\n") - 1
    # run again: everything is already here
    again = runner.invoke(app, [*args, "--out", str(out), "--base-url", site])
    assert again.exit_code == 0 and "6 already here" in again.stdout


def test_bad_month_is_a_usage_error(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        ["fetch", "policeuk", "--force", "northumbria", "--from", "2023-1", "--to", "2023-02",
         "--out", str(tmp_path), "--json"],
    )  # fmt: skip
    assert result.exit_code == 2
    assert "YYYY-MM" in json.loads(result.stdout)["error"]["message"]
