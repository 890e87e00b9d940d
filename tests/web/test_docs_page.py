"""/docs renders (issue 12 item 10): the app serves OpenAPI 3.0.3, which the bundled Swagger UI 4
reads, and the schema is valid OpenAPI 3.0 (checked against the 3.0 meta-schema that
schemathesis ships). The browser test opens /docs logged in and sees the routes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from a11y import assert_accessible
from web_seed import serve_seeded_app

from peelian.web.openapi30 import OPENAPI_VERSION, to_openapi_30

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
PASSWORD = "a long test passphrase"


def _openapi_30_errors(doc: dict) -> list[str]:
    import jsonschema_rs
    from schemathesis.specs.openapi.definitions import OPENAPI_30

    validator = jsonschema_rs.validator_for(OPENAPI_30)
    return [f"{list(e.instance_path)}: {str(e)[:200]}" for e in validator.iter_errors(doc)]


def test_openapi_json_is_valid_openapi_30(admin) -> None:  # type: ignore[no-untyped-def]
    r = admin.get("/openapi.json")
    assert r.status_code == 200
    doc = r.json()
    assert doc["openapi"] == OPENAPI_VERSION == "3.0.3"
    assert _openapi_30_errors(doc) == []
    assert "/api/events/counts" in doc["paths"] and "/api/areas" in doc["paths"]
    # a nullable query parameter keeps its type and says it may be absent
    params = {p["name"]: p for p in doc["paths"]["/api/events/counts"]["get"]["parameters"]}
    assert params["month_from"]["schema"].get("type") == "string"
    assert params["month_from"]["schema"].get("nullable") is True


def test_translation_of_json_schema_2020_12_constructs() -> None:
    doc = {
        "openapi": "3.1.0",
        "info": {
            "title": "t",
            "version": "1",
            "summary": "s",
            "license": {"name": "OGL", "identifier": "OGL-UK-3.0"},
        },
        "webhooks": {},
        "paths": {},
        "components": {
            "schemas": {
                "A": {
                    "type": "object",
                    "properties": {
                        "ref_or_null": {
                            "anyOf": [{"$ref": "#/components/schemas/B"}, {"type": "null"}]
                        },
                        "n": {"type": ["integer", "null"], "exclusiveMinimum": 0},
                        "kind": {"const": "x"},
                        "month": {"type": "string", "examples": ["2022-08", "2022-09"]},
                        "pair": {
                            "type": "array",
                            "prefixItems": [{"type": "number"}, {"type": "number"}],
                        },
                        "blob": {"type": "string", "contentMediaType": "application/octet-stream"},
                    },
                },
                "B": {"type": "object"},
            }
        },
    }
    out = to_openapi_30(doc)
    props = out["components"]["schemas"]["A"]["properties"]
    assert props["ref_or_null"] == {"nullable": True, "allOf": [{"$ref": "#/components/schemas/B"}]}
    assert props["n"] == {
        "type": "integer",
        "nullable": True,
        "minimum": 0,
        "exclusiveMinimum": True,
    }
    assert props["kind"] == {"enum": ["x"]}
    assert props["month"] == {"type": "string", "example": "2022-08"}
    assert props["pair"]["items"] == {"anyOf": [{"type": "number"}, {"type": "number"}]}
    assert props["pair"]["minItems"] == props["pair"]["maxItems"] == 2
    assert props["blob"] == {"type": "string", "format": "binary"}
    assert "webhooks" not in out and "summary" not in out["info"]
    assert out["info"]["license"] == {"name": "OGL"}
    assert _openapi_30_errors(out) == []
    assert doc["openapi"] == "3.1.0"  # the input is left alone


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from serve_seeded_app(tmp_path_factory.mktemp("docs"), "d" * 40, PASSWORD)


@pytest.mark.browser
def test_docs_page_lists_the_routes(server: str) -> None:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium is not installed at {CHROMIUM} (make browser)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        pg = browser.new_page()
        pg.set_default_timeout(30_000)
        outside: list[str] = []
        pg.on(
            "request",
            lambda r: (
                None if r.url.startswith((server, "data:", "blob:")) else outside.append(r.url)
            ),
        )
        errors: list[str] = []
        pg.on("pageerror", lambda e: errors.append(str(e)))
        pg.goto(server + "/login")
        pg.get_by_label("Username").fill("admin1")
        pg.get_by_label("Password").fill(PASSWORD)
        pg.get_by_role("button", name="Log in").click()
        pg.wait_for_url(server + "/")
        pg.goto(server + "/docs")
        pg.wait_for_selector(".opblock", state="attached")
        assert_accessible(pg, context="/docs (Swagger UI)")
        text = pg.locator("#swagger-ui").inner_text()
        paths = pg.locator(".opblock-summary-path").all_inner_texts()
        browser.close()
    assert "Unable to render this definition" not in text
    assert "/api/events/counts" in [p.replace("\u200b", "") for p in paths]
    assert len(paths) >= 20
    assert outside == [], f"requests left the machine: {outside[:5]}"
    assert errors == [], f"JavaScript errors: {errors[:5]}"
