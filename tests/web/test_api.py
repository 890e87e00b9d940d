"""JSON API tests against a seeded store, with an in-process client (both dialects)."""

from __future__ import annotations

import pytest
from web_seed import CATEGORIES, MONTHS, expected_events


def test_status_reports_what_is_loaded_and_reconciles(viewer) -> None:
    body = viewer.get("/api/status").json()
    exp = expected_events()
    assert body["events"] == int(exp["n"].sum())
    assert body["months"] == MONTHS and body["months_missing"] == []
    assert body["forces"] == ["northumbria"] and body["force_summary"][0]["months"] == 12
    by_cat = {r["category"]: r["rows"] for r in body["events_by_category"]}
    assert by_cat == exp.groupby("category")["n"].sum().to_dict()
    assert body["areas"] == {"force": 1, "csp": 2, "ward": 4, "lsoa21": 8, "lsoa11": 1}
    assert body["quarantined"] == 12
    batch = body["last_batches"][0]
    assert batch["reconciles"] is True
    assert batch["rows_read"] == batch["rows_stored"] + batch["rows_quarantined"]
    assert batch["rows_stored"] == int(exp["n"].sum())
    assert len(batch["files"]) == 12


def test_quarantine_shows_reasons_and_raw_rows_only_to_analysts(viewer, analyst) -> None:
    reasons = viewer.get("/api/quarantine/reasons").json()["reasons"]
    assert reasons == [{"reason": "coordinates_outside_uk", "kind": "street", "rows": 12}]
    page = viewer.get("/api/quarantine?limit=5").json()
    assert page["total"] == 12 and len(page["items"]) == 5 and page["next_offset"] == 5
    assert "raw" not in page["items"][0] and page["raw_included"] is False
    page = analyst.get("/api/quarantine?limit=5&offset=10").json()
    assert len(page["items"]) == 2 and page["next_offset"] is None
    assert page["items"][0]["raw"].startswith("abc,2021")


def test_event_counts_by_month_category_and_area(viewer) -> None:
    exp = expected_events()
    months = viewer.get("/api/events/counts?by=month").json()
    assert [r["month"] for r in months["items"]] == MONTHS
    assert months["items"][0]["events"] == int(exp[exp["month"] == "2021-01"]["n"].sum())
    cats = viewer.get("/api/events/counts?by=category&month_from=2021-06&month_to=2021-08").json()
    sub = exp[exp["month"].between("2021-06", "2021-08")]
    assert {r["category"]: r["events"] for r in cats["items"]} == sub.groupby("category")[
        "n"
    ].sum().to_dict()
    wards = viewer.get("/api/events/counts?by=area&level=ward&category=Burglary").json()
    assert wards["events_without_area"] == 0
    byward = {r["area_code"]: r["events"] for r in wards["items"]}
    b = exp[exp["category"] == "Burglary"]
    # ward index = lsoa // 2; LSOA 7 was published with its 2011 code and mapped via the lookup
    assert byward["E05001101"] == int(b[b["lsoa"].isin([0, 1])]["n"].sum())
    assert byward["E05001202"] == int(b[b["lsoa"].isin([6, 7])]["n"].sum())
    assert set(CATEGORIES) >= {r["category"] for r in cats["items"]}
    csp = viewer.get("/api/events/counts?by=area&level=csp").json()["items"][0]
    assert csp["rate_per_1000"] == pytest.approx(csp["events"] / csp["population"] * 1000)


def test_areas_hierarchy_and_geojson(viewer) -> None:
    wards = viewer.get("/api/areas?level=ward&parent=E08000021").json()
    assert [w["name"] for w in wards["items"]] == ["Byker", "Walker"]
    area = viewer.get("/api/areas/E01030000").json()
    assert [a["level"] for a in area["ancestors"]] == ["ward", "csp", "force"]
    force = viewer.get("/api/areas/E23000007").json()
    assert force["child_level"] == "csp" and len(force["children"]) == 2
    geo = viewer.get("/api/geo/areas/ward.geojson")
    assert geo.headers["content-type"].startswith("application/geo+json")
    feats = geo.json()["features"]
    assert len(feats) == 4
    lon, lat = feats[0]["geometry"]["coordinates"][0][0]
    assert -1.7 < lon < -1.5 and 54.9 < lat < 55.1  # Newcastle, in WGS84
    prof = viewer.get("/api/areas/E05001101/profile").json()
    assert len(prof["trend"]) == 12 and prof["measures"]["computed"] is True
    assert {m["measure"] for m in prof["measures"]["items"]} >= {"homicide", "cyber-enabled-crime"}


def test_measures_filters_and_monthly_spc(viewer) -> None:
    cat = viewer.get("/api/measures/catalogue").json()
    assert cat["period_end"] == "2021-12" and len(cat["measures"]) == 6
    force = viewer.get("/api/measures").json()
    assert force["total"] == 6 and {r["area_level"] for r in force["items"]} == {"force"}
    kids = viewer.get("/api/measures?measure=homicide&parent=E23000007").json()
    assert sorted(r["area_name"] for r in kids["items"]) == ["Gateshead", "Newcastle upon Tyne"]
    worse = viewer.get("/api/measures?area_level=ward&assessment=worsening").json()
    assert worse["total"] > 0 and all(r["significant"] for r in worse["items"])
    monthly = viewer.get("/api/measures/homicide/monthly").json()
    assert len(monthly["months"]) == 12 and monthly["area_code"] == "E23000007"
    assert {"centre", "lcl", "ucl", "signal"} <= set(monthly["months"][0])


def test_hotspots_forecasts_and_grip(viewer) -> None:
    hot = viewer.get("/api/hotspots/gistar?classification=hot").json()
    assert hot["total"] == 4 and hot["items"][0]["gistar"] == 4.0
    assert hot["run"]["summary"]["cell_size"] == 500
    geo = viewer.get("/api/hotspots/gistar/cells.geojson").json()
    assert len(geo["features"]) == 8  # hot and cold, not the 24 "none"
    em = viewer.get("/api/hotspots/emerging").json()
    assert em["items"][0]["pattern"] == "Intensifying Hot Spot"
    fc = viewer.get("/api/forecasts?flagged=true").json()
    assert fc["total"] == 5 and [c["rank"] for c in fc["items"]] == [1, 2, 3, 4, 5]
    bt = viewer.get("/api/backtests").json()
    assert {r["model"] for r in bt["summary"]} == {"naive", "kde", "sepp"}
    grip = viewer.get("/api/grip").json()
    assert [h["rank"] for h in grip["hotspots"]] == [1, 2, 3] and len(grip["visits"]) == 9


def test_exports_need_the_analyst_role(viewer, analyst) -> None:
    assert viewer.get("/api/exports/gistar.csv").status_code == 403
    csv = analyst.get("/api/exports/gistar.csv")
    assert csv.status_code == 200 and csv.text.splitlines()[0].startswith("cell_id,x,y,n,harm")
    assert len(csv.text.strip().splitlines()) == 33
    gj = analyst.get("/api/exports/emerging.geojson").json()
    assert gj["type"] == "FeatureCollection"


def test_every_page_has_a_json_endpoint(viewer) -> None:
    for path in (
        "/index.json",
        "/measures.json",
        "/map.json",
        "/hotspots.json",
        "/forecasts.json",
        "/data.json",
        "/reports.json",
        "/areas/E05001101.json",
    ):
        r = viewer.get(path)
        assert r.status_code == 200, (path, r.text[:300])
        assert r.headers["content-type"] == "application/json"
    ov = viewer.get("/index.json").json()
    assert len(ov["measures"]) == 6 and ov["synthetic"] is True
    assert ov["changes"] and all(c["significant"] for c in ov["changes"])
    # strongest evidence first, by the FDR-adjusted p that decided "significant"
    adj = [c["p_adjusted"] for c in ov["changes"]]
    assert adj == sorted(adj) and adj[0] == 0.004 and len(set(adj)) > 1


def test_openapi_and_offline_docs(client) -> None:
    spec = client.get("/openapi.json").json()
    assert "/api/measures" in spec["paths"] and "/api/events/counts" in spec["paths"]
    docs = client.get("/docs").text
    assert "/vendor/swagger/swagger-ui-bundle.js" in docs and "cdn" not in docs.lower()
    js = client.get("/vendor/swagger/swagger-ui-bundle.js")
    assert js.status_code == 200 and len(js.content) > 100_000
    plotly = client.get("/vendor/plotly.min.js", headers={"accept-encoding": "gzip"})
    assert plotly.status_code == 200 and "plotly" in plotly.text[:2000].lower()


def test_status_after_a_real_policeuk_ingest(store, tmp_path) -> None:
    """Events loaded by engineer A's ingest of the police.uk fixtures reconcile on the page."""
    from pathlib import Path

    from fastapi.testclient import TestClient
    from web_seed import PASSWORD, login

    from peelian.config import Settings
    from peelian.data.accounts.users import add_user
    from peelian.data.ingest.policeuk import ingest_policeuk
    from peelian.web import create_app

    fixtures = Path(__file__).parents[1] / "fixtures" / "policeuk" / "northumbria"
    report = ingest_policeuk(store, [fixtures])
    add_user(store, "viewer1", PASSWORD, "viewer")
    app = create_app(Settings(data_dir=tmp_path, env="test", secret_key="k" * 40), store=store)
    with TestClient(app) as c:
        login(c, "viewer1")
        status = c.get("/api/status").json()
        street = [f for f in report["files"] if f["kind"] == "street"]
        assert status["events"] == sum(f["rows_stored"] for f in street)
        assert status["months"] == ["2020-05", "2020-06", "2021-08"]
        assert status["months_missing"][:2] == ["2020-07", "2020-08"]
        batch = c.get("/api/batches").json()["items"][0]
        assert batch["id"] == report["batch"] and batch["reconciles"] is True
        assert batch["rows_read"] == sum(f["rows_read"] for f in report["files"])
        months = c.get("/api/events/counts?by=month").json()["items"]
        assert {m["month"]: m["events"] for m in months} == {
            f["month"]: f["rows_stored"] for f in street
        }
        page = c.get("/data", headers={"accept": "text/html"}).text
        assert "reconciles" in page and "Anti-social behaviour" in page


# -- crime concentration ----------------------------------------------------------------------
def test_concentration_shares_gini_stability_and_lorenz(viewer) -> None:
    body = viewer.get("/api/hotspots/concentration").json()
    assert body["run"]["name"] == "violence-and-sexual-offences"
    assert body["names"] == ["violence-and-sexual-offences"]
    assert body["n_events"] == 784 and body["n_cells"] == 32 and body["cell_size"] == 500
    assert body["period"] == "2021-01..2021-12"
    stats = {r["statistic"]: r["value"] for r in body["statistics"]}
    # cells hold 40, 39, ..., 9 events (784): the top 1, 2 and 4 cells of 32
    assert stats["share_n_top_1pct"] == pytest.approx(40 / 784)
    assert stats["share_n_top_5pct"] == pytest.approx(79 / 784)
    assert stats["share_n_top_10pct"] == pytest.approx(154 / 784)
    assert stats["share_harm_top_10pct"] == pytest.approx(154 / 784)  # harm is 3 per event
    # Gini = sum_i (2i - n - 1) x_(i) / (n sum x) over x = 9..40 ascending: 5456 / 25088
    assert stats["gini"] == pytest.approx(5456 / 25088)
    assert 0 < stats["gini_poisson_expected"] < stats["gini_generalised"] == stats["gini"]
    shares = {r["top_fraction"]: r for r in body["shares"]}
    assert sorted(shares) == [0.01, 0.02, 0.05, 0.1, 0.2, 0.5]
    assert shares[0.5]["cells"] == 16 and shares[0.5]["share_n"] == pytest.approx(520 / 784)
    # no 2020 events: no stability comparison, and the run says why
    assert body["stability"] is None
    assert body["stability_note"] == "no events in 2020-01..2020-12 to compare with"
    lorenz = body["lorenz"]
    assert len(lorenz) == 101 and lorenz[0]["share_n"] == 0 and lorenz[-1]["share_n"] == 1
    assert lorenz[50]["cell_share"] == 0.5 and lorenz[50]["share_n"] == pytest.approx(520 / 784)
    assert viewer.get("/api/results").json()["concentration"]["computed"] is True
    r = viewer.get("/api/hotspots/concentration?name=burglary")
    assert r.status_code == 404
    assert "peelian hotspots concentration" in r.json()["error"]["hint"]


def test_concentration_saved_by_the_cli_has_the_same_figures(store, viewer) -> None:
    """``peelian hotspots concentration --save`` (``save_analysis``) saves the same parts as the
    demo's job, without the stability comparison: the dashboard shows the same figures."""
    from web_seed import concentration_result

    from peelian.jobs.hotspots import save_analysis

    save_analysis(store, "concentration", "all", concentration_result(), {"period": "2021"})
    body = viewer.get("/api/hotspots/concentration?name=all").json()
    job = viewer.get("/api/hotspots/concentration").json()
    assert body["run"]["name"] == "all" and body["stability"] is None
    assert body["lorenz"] == job["lorenz"] and len(body["lorenz"]) == 101
    got = {r["statistic"]: r["value"] for r in body["statistics"]}
    want = {r["statistic"]: r["value"] for r in job["statistics"]}
    assert got.keys() == want.keys() and got == pytest.approx(want)
    assert body["shares"] == job["shares"]


def test_hotspots_page_shows_concentration(viewer) -> None:
    data = viewer.get("/hotspots.json").json()
    assert data["concentration_empty"] is None
    assert data["concentration_figures"]["share_n_top_5pct"] == pytest.approx(79 / 784)
    page = viewer.get("/hotspots", headers={"accept": "text/html"}).text
    section = page[page.index('id="c-h"') :]
    assert "784 events in 32 cells of 500 m" in section
    assert "The top 5% of cells hold 10.1% of the crime and 10.1% of the harm" in section
    assert '<td>top 50%</td><td class="num">16</td><td class="num">66.3%</td>' in section
    assert 'Gini coefficient</td><td class="num">0.217</td>' in section
    assert 'data-chart="lorenz-spec"' in section
    assert "no events in 2020-01..2020-12 to compare with" in section


def test_hotspots_page_names_the_command_for_concentration(store, tmp_path) -> None:
    from fastapi.testclient import TestClient
    from web_seed import PASSWORD, login

    from peelian.config import Settings
    from peelian.data.accounts.users import add_user
    from peelian.web import create_app

    add_user(store, "viewer1", PASSWORD, "viewer")
    app = create_app(Settings(data_dir=tmp_path, env="test", secret_key="s" * 40), store=store)
    with TestClient(app) as c:
        login(c, "viewer1")
        page = c.get("/hotspots", headers={"accept": "text/html"}).text
        section = page[page.index('id="c-h"') :]
        assert "Crime concentration not computed yet" in section
        cmd = "peelian hotspots concentration --crime-type violence-and-sexual-offences --save"
        assert cmd in section
        r = c.get("/api/hotspots/concentration")
        assert r.status_code == 404 and cmd in r.json()["error"]["hint"]


# -- OpenAPI response schemas -----------------------------------------------------------------
def _resolve(schema: dict, spec: dict) -> dict:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


_TYPES = {"string": str, "boolean": bool, "array": list, "object": dict}


def _problems(value: object, schema: dict, spec: dict, where: str) -> list[str]:
    """Where ``value`` breaks ``schema``: a missing required key or a value of another type."""
    schema = _resolve(schema, spec)
    if value is None and schema.get("nullable"):  # OpenAPI 3.0's spelling of "or null"
        return []
    if "anyOf" in schema:
        tries = [_problems(value, s, spec, where) for s in schema["anyOf"]]
        return [] if any(not t for t in tries) else min(tries, key=len)
    kind = schema.get("type")
    if kind == "null":
        return [] if value is None else [f"{where}: not null"]
    if kind == "integer" and (not isinstance(value, int) or isinstance(value, bool)):
        return [f"{where}: {value!r} is not an integer"]
    if kind == "number" and (not isinstance(value, int | float) or isinstance(value, bool)):
        return [f"{where}: {value!r} is not a number"]
    if kind in _TYPES and not isinstance(value, _TYPES[kind]):
        return [f"{where}: {value!r} is not a {kind}"]
    out: list[str] = []
    if isinstance(value, dict):
        missing = set(schema.get("required", [])) - set(value)
        out += [f"{where}: missing {sorted(missing)}"] if missing else []
        for key, sub in value.items():
            if key in schema.get("properties", {}):
                out += _problems(sub, schema["properties"][key], spec, f"{where}.{key}")
            elif isinstance(schema.get("additionalProperties"), dict):
                out += _problems(sub, schema["additionalProperties"], spec, f"{where}.{key}")
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value[:5]):
            out += _problems(item, schema["items"], spec, f"{where}[{i}]")
    return out


#: The person-level APIs, tested beside their policy tables and by the fuzzer.
PERSON_LEVEL_API = ("/api/casework/", "/api/people", "/api/victims")


def _aggregate_api(path: str) -> bool:
    return path.startswith("/api/") and not path.startswith(PERSON_LEVEL_API)


def test_openapi_documents_every_api_response(client) -> None:
    spec = client.get("/openapi.json").json()
    # The person-level APIs (casework, people, victims: their own tests and the fuzzer,
    # tests/web/test_api_fuzz.py) are not here.
    api = {p: ops["get"] for p, ops in spec["paths"].items() if _aggregate_api(p)}
    assert len(api) == 23 and "/api/hotspots/concentration" in api
    error_ref = "#/components/schemas/ErrorBody"
    for path, op in api.items():
        ok = op["responses"]["200"]["content"]
        assert any(media.get("schema") for media in ok.values()), path
        for status in ("401", "403", "404", "422"):
            if status in op["responses"]:
                body = op["responses"][status]["content"]["application/json"]["schema"]
                assert body == {"$ref": error_ref}, (path, status)
        assert "401" in op["responses"], path
    assert (
        "404" in api["/api/measures"]["responses"]
        and "404" in api["/api/areas/{code}"]["responses"]
    )
    assert "403" in api["/api/exports/{kind}.{fmt}"]["responses"]
    error = _resolve(spec["components"]["schemas"]["ErrorBody"]["properties"]["error"], spec)
    assert set(error["required"]) == {"code", "message", "hint"}
    page = _resolve(api["/api/measures"]["responses"]["200"]["content"]["application/json"]
                    ["schema"], spec)  # fmt: skip
    assert {"items", "total", "limit", "offset", "next_offset", "run"} <= set(page["required"])
    item = _resolve(page["properties"]["items"]["items"], spec)
    assert {"measure", "area_code", "current", "baseline", "rate_ratio", "ci_low", "ci_high",
            "p_value", "p_value_adjusted", "significant"} <= set(item["properties"])  # fmt: skip
    assert item["additionalProperties"] is True  # results carry more columns than listed
    assert item["properties"]["rate_ratio"]["description"]


#: One URL per API path (each JSON or GeoJSON), checked against its documented schema.
SCHEMA_URLS = [
    "/api/status",
    "/api/results",
    "/api/batches",
    "/api/batches/1",
    "/api/quarantine/reasons",
    "/api/quarantine?limit=3",
    "/api/areas?level=lsoa21",
    "/api/areas/E05001101",
    "/api/areas/E05001101/profile",
    "/api/geo/areas/ward.geojson",
    "/api/events/counts?by=area&level=ward",
    "/api/events/counts?by=month",
    "/api/events/map",
    "/api/measures/catalogue",
    "/api/measures",
    "/api/measures/homicide/monthly",
    "/api/hotspots/gistar",
    "/api/hotspots/emerging",
    "/api/hotspots/kde",
    "/api/hotspots/gistar/cells.geojson",
    "/api/hotspots/concentration",
    "/api/exports/gistar.geojson",
    "/api/forecasts",
    "/api/backtests",
    "/api/grip",
]


def test_responses_have_every_field_the_schema_requires(analyst) -> None:
    """The documented schemas cannot drift from what the services answer: every field a schema
    requires is in the real response, with the documented type."""
    import re

    spec = analyst.get("/openapi.json").json()
    templates = {p: re.compile(re.sub(r"\\{\w+\\}", r"[^/]+", re.escape(p))) for p in spec["paths"]}
    checked = set()
    for url in SCHEMA_URLS:
        path = url.split("?")[0]
        template = (
            path
            if path in spec["paths"]
            else next(p for p, rx in templates.items() if rx.fullmatch(path))
        )
        checked.add(template)
        r = analyst.get(url)
        assert r.status_code == 200, (url, r.text[:300])
        content = spec["paths"][template]["get"]["responses"]["200"]["content"]
        media = r.headers["content-type"].split(";")[0]
        assert media in content, (url, media, list(content))
        assert _problems(r.json(), content[media]["schema"], spec, url) == []
    # every JSON path of the API but the report (PDF/HTML)
    api = {p for p in spec["paths"] if _aggregate_api(p)}
    assert api - checked == {"/api/reports/ncpm"}
