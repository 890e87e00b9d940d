"""The API's contract and robustness (issue 11 items 7, 10, 13; issue 13 items 2, 7).

- The documented sequence ``areas load`` -> ``ingest policeuk`` -> ``measures --save`` -> the
  overview answers 200 on SQLite and PostgreSQL (flags saved as booleans, not 'True'/'False').
- After a 500 the next request on the same keep-alive connection is still answered.
- Integers past 64 bits give a 422 with the one error shape; every 405 names what is allowed.
- The one response cache is bounded and keyed only on validated parameters.
"""

from __future__ import annotations

import http.client
import socket
import threading
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner
from web_seed import PASSWORD, login

from peelian.cli import app as cli_app
from peelian.config import Settings
from peelian.data.accounts.users import add_user
from peelian.data.results import latest_result, load_result, save_result
from peelian.web import create_app

FIXTURES = Path(__file__).parents[1] / "fixtures"
runner = CliRunner()


def _settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, env="test", secret_key="test-secret-" + "x" * 32)


# -- issue 11 item 10: the documented sequence, then the overview -------------------------------
@pytest.mark.slow
def test_documented_sequence_then_overview(db_url: str, store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    for args in (
        ["areas", "load", "--db", db_url],
        ["ingest", "policeuk", str(FIXTURES / "policeuk" / "northumbria"), "--db", db_url],
        ["measures", "--db", db_url, "--save"],
    ):
        res = runner.invoke(cli_app, args)
        assert res.exit_code == 0, (args[0], res.output[-2000:])
    values = latest_result(store, "measures", "all").frames["values"]
    # Flags come back as flags: booleans (with gaps where a measure has no figure).
    for col in ("significant", "baseline_available"):
        assert str(values[col].dtype) == "boolean", (col, values[col].dtype)
    assert set(values["significant"].dropna().unique()) <= {True, False}
    assert values["significant"].notna().sum() > 1000

    add_user(store, "viewer1", PASSWORD, "viewer")
    with TestClient(create_app(_settings(tmp_path), store=store)) as client:
        assert login(client, "viewer1").status_code == 303
        res = client.get("/index.json")
        assert res.status_code == 200, res.text
        body = res.json()
        assert body["measures"] and body["measures_empty"] is None
        assert all(row["significant"] in (True, False, None) for row in body["measures"])
        assert client.get("/").status_code == 200
        res = client.get("/api/measures", params={"area_level": "csp", "significant": "false"})
        assert res.status_code == 200 and res.json()["total"] > 0
        assert all(row["significant"] is False for row in res.json()["items"])


def test_flags_round_trip_and_old_string_flags_are_read_as_booleans(store) -> None:  # type: ignore[no-untyped-def]
    frame = pd.DataFrame(
        {
            "area_code": ["E1", "E2", "E3", "E4"],
            "significant": pd.Series([True, None, False, float("nan")], dtype=object),
            "n": pd.Series([1, None, 3, 4], dtype=object),
            "note": ["a", None, "b", "c"],
        }
    )
    run = load_result(store, save_result(store, "measures", "flags", {"values": frame}))
    got = run.frames["values"]
    assert str(got["significant"].dtype) == "boolean"
    assert got["significant"].tolist()[0] is True and got["significant"].tolist()[2] is False
    assert got["significant"].isna().tolist() == [False, True, False, True]
    assert got["n"].tolist()[0] == 1.0 and pd.isna(got["n"].iloc[1])
    assert got["note"].tolist()[0] == "a"
    # A run saved by older code, whose flags were stringified before saving.
    old = frame.assign(significant=pd.array(["True", None, "False", None], dtype="string"))
    run = load_result(store, save_result(store, "measures", "old", {"values": old}))
    flags = run.frames["values"]["significant"]
    assert (
        str(flags.dtype) == "boolean"
        and flags.tolist()[::2] == [True, False]
        and flags.isna().sum() == 2
    )


# -- issue 11 item 13: integers past 64 bits -----------------------------------------------------
@pytest.mark.parametrize(
    "url",
    [
        "/api/batches/99999999999999999999",
        "/api/batches?offset=99999999999999999999",
        "/api/quarantine?batch_id=99999999999999999999",
        "/api/areas?offset=99999999999999999999",
        "/data.json?offset=99999999999999999999",
    ],
)
def test_integers_past_64_bits_are_422(viewer, url: str) -> None:  # type: ignore[no-untyped-def]
    res = viewer.get(url)
    assert res.status_code == 422, res.text
    err = res.json()["error"]
    assert err["code"] == "invalid_parameter" and "9223372036854775807" in err["message"]
    assert set(err) == {"code", "message", "hint"}


# -- issue 13 item 7: 405 with Allow; parameters typed in the schema -----------------------------
def test_every_405_carries_allow(viewer) -> None:  # type: ignore[no-untyped-def]
    for method, url, allow in [
        ("POST", "/api/status", "GET"),
        ("DELETE", "/api/batches/1", "GET"),
        ("PUT", "/login", "GET, POST"),
        ("POST", "/areas/E05001101.json", "GET"),
    ]:
        res = viewer.request(method, url)
        assert res.status_code == 405, (method, url)
        assert res.headers["allow"] == allow, (method, url, res.headers.get("allow"))
        assert res.json()["error"]["code"] == "method_not_allowed"


def test_schema_declares_enums_patterns_and_errors(viewer) -> None:  # type: ignore[no-untyped-def]
    spec = viewer.get("/openapi.json").json()
    paths = spec["paths"]

    def param(path: str, name: str) -> dict[str, Any]:
        found = [p for p in paths[path]["get"]["parameters"] if p["name"] == name]
        assert found, (path, name)
        return found[0]

    def schema_of(p: dict[str, Any]) -> dict[str, Any]:
        s = p["schema"]
        return next((a for a in s.get("anyOf", []) if a.get("type") != "null"), s)

    assert schema_of(param("/api/hotspots/{kind}", "kind"))["enum"] == [
        "gistar", "emerging", "kde", "forecast"
    ]  # fmt: skip
    assert "concentration" not in schema_of(param("/api/hotspots/{kind}", "kind"))["enum"]
    assert set(schema_of(param("/api/events/map", "metric"))["enum"]) == {"count", "rate", "harm"}
    assert set(schema_of(param("/api/reports/ncpm", "format"))["enum"]) == {"pdf", "html"}
    assert schema_of(param("/api/events/counts", "month_from"))["pattern"].startswith("^\\d{4}")
    assert schema_of(param("/api/batches/{batch_id}", "batch_id"))["maximum"] == 2**63 - 1
    assert schema_of(param("/api/hotspots/{kind}/cells.geojson", "max_cells"))["maximum"] == 20000
    assert param("/areas/{code}.json", "code")["in"] == "path"
    assert set(schema_of(param("/map.json", "level"))["enum"]) == {"lsoa21", "ward", "csp"}
    responses = paths["/api/reports/ncpm"]["get"]["responses"]
    assert {"401", "403", "404", "422"} <= set(responses)
    assert {"401", "404", "422"} <= set(paths["/api/batches/{batch_id}"]["get"]["responses"])


# -- issue 13 item 2 / issue 11 item 7: one bounded cache on validated parameters ---------------
def test_cache_busting_queries_hit_one_entry(app, viewer) -> None:  # type: ignore[no-untyped-def]
    cache = app.state.ctx.responses
    cache.clear()
    first = viewer.get("/api/hotspots/gistar/cells.geojson", params={"max_cells": 3})
    assert first.status_code == 200 and len(first.json()["features"]) == 3
    assert len(cache) == 1
    for i in range(40):
        res = viewer.get(f"/api/hotspots/gistar/cells.geojson?max_cells=3&_={i}&junk{i}=x")
        assert res.status_code == 200 and res.content == first.content
    same = viewer.get("/api/hotspots/gistar/cells.geojson?max_cells=03&classification=")
    assert same.status_code in (200, 422)
    # Junk and cache-busting parameters never made another entry.
    assert len(cache) <= 2
    # A free classification string is refused, not cached.
    res = viewer.get("/api/hotspots/emerging/cells.geojson?classification=" + "x" * 50)
    assert res.status_code == 422 and len(cache) <= 2
    res = viewer.get("/api/hotspots/gistar/cells.geojson?max_cells=20001")
    assert res.status_code == 422
    # Pages key on their declared parameters only.
    before = len(cache)
    for i in range(10):
        assert viewer.get(f"/hotspots.json?nocache={i}").status_code == 200
    assert len(cache) == before + 1


def test_cache_stays_within_its_bounds(app, viewer) -> None:  # type: ignore[no-untyped-def]
    from peelian.web.api._cache import ResponseCache

    url = "/api/hotspots/gistar/cells.geojson"
    total = len(viewer.get(url, params={"max_cells": 20000}).json()["features"])
    assert total > 3
    app.state.ctx.responses = cache = ResponseCache(max_entries=16, max_bytes=10**9)
    for n in range(1, 61):
        res = viewer.get(url, params={"max_cells": n})
        assert res.status_code == 200 and len(res.json()["features"]) == min(n, total)
    assert len(cache) == 16
    app.state.ctx.responses = cache = ResponseCache(max_entries=1000, max_bytes=20_000)
    for n in range(1, 61):
        assert viewer.get("/api/areas", params={"limit": n}).status_code == 200
        assert cache.nbytes <= 20_000
    assert 0 < len(cache) < 60
    # The derived values behind the responses are bounded too.
    assert len(app.state.ctx._derived) <= app.state.ctx.max_derived


# -- issue 11 item 10: after a 500 the same connection still answers -----------------------------
def test_connection_survives_a_500(app) -> None:  # type: ignore[no-untyped-def]
    import uvicorn

    @app.get("/api/boom", include_in_schema=False)
    def boom() -> None:
        raise RuntimeError("boom")

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="critical"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        seen = []
        for path in ("/api/boom", "/openapi.json", "/api/boom", "/api/status"):
            conn.request("GET", path)
            res = conn.getresponse()
            body = res.read()
            seen.append(res.status)
            if res.status == 500:
                assert b'"internal_error"' in body
                assert res.getheader("x-content-type-options") == "nosniff"
        assert seen == [500, 200, 500, 401]
        conn.close()
    finally:
        server.should_exit = True
        thread.join(10)
