"""Every HTML page of the app passes axe-core with no serious or critical violation (decision
0017). The pages are enumerated from the app's route table, not listed by hand, so a new page
is checked the day it is added: every GET route that is not a served file or a page's JSON or
CSV twin is opened as an admin on the seeded app (path parameters filled from seeded records),
and every answer that is HTML is checked in Chromium after its charts and maps have drawn."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from a11y import assert_accessible
from web_seed import lsoas, serve_seeded_app

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
PASSWORD = "a long test passphrase"
#: Served files, not pages: the static mount and vendored scripts.
NOT_PAGES = ("/static", "/vendor/")
#: Query strings that make a route answer HTML when its default answer is not (the report is a
#: PDF by default; its HTML rendering is a page a user opens).
HTML_QUERY = {"/api/reports/ncpm": "format=html"}
#: Pages a route table cannot list: the error page (an unknown area) and the login form (opened
#: logged out, below).
EXTRA_PAGES = ("/areas/E01099999",)


def _flat_routes(routes: list[Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """``(full path, route)`` for every route, through included routers (kept lazily)."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            ctx = getattr(route, "include_context", None)
            yield from _flat_routes(inner.routes, prefix + (getattr(ctx, "prefix", "") or ""))
        else:
            yield prefix + getattr(route, "path", ""), route


def page_routes(app: Any) -> list[str]:
    """Every GET route that may answer HTML: not a served file, not a ``.json``/``.csv`` twin,
    and either hidden from the OpenAPI schema (the Jinja pages, /docs) or declaring text/html."""
    schema = app.openapi()["paths"]
    out = set()
    for path, route in _flat_routes(app.routes):
        methods = getattr(route, "methods", None) or set()
        if "GET" not in methods or path.startswith(NOT_PAGES) or path.endswith((".json", ".csv")):
            continue
        declared = schema.get(path, {}).get("get")
        if declared is None or any(
            "text/html" in (r.get("content") or {}) for r in declared.get("responses", {}).values()
        ):
            out.add(path)
    return sorted(out)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The seeded app served, with the demo caseload (problems, assessments, interventions,
    referrals, organisations) on it and the admin in the force, so every page that takes a
    record id has records; ``values`` gives each path parameter a seeded value."""
    from sqlalchemy import func, select

    from peelian.casework.demo import seed_caseload
    from peelian.casework.organisations import SYSTEM, assign_user, list_organisations
    from peelian.casework.policy import principal_for
    from peelian.casework.referrals import make_referral
    from peelian.data.store import open_store
    from peelian.data.tables import metadata

    tmp = tmp_path_factory.mktemp("a11y")
    for base in serve_seeded_app(tmp, "a" * 40, PASSWORD):
        store = open_store(f"sqlite:///{tmp / 'store.sqlite'}")
        seed_caseload(store, today=dt.date(2022, 1, 15))
        force = [o for o in list_organisations(store, SYSTEM) if o["kind"] == "force"][0]
        assign_user(store, SYSTEM, "admin1", force["id"])
        # the demo refers synthetic persons of the force records, which this store has none of
        make_referral(
            store,
            principal_for(store, "safeguarding.demo"),
            person_ref="P000123",
            organisation_id=[o for o in list_organisations(store, SYSTEM) if o["kind"] != "force"][
                0
            ]["id"],
            reason="Repeat victim of burglary; support with home security (synthetic test).",
            consent="given",
            purpose="safeguarding a repeat victim (synthetic test)",
        )
        values: dict[str, Any] = {"code": lsoas()[0]["code"]}
        with store.engine.connect() as conn:
            for name, table in metadata.tables.items():
                if name.endswith("s") and "id" in table.c:
                    first = conn.execute(select(func.min(table.c.id))).scalar_one()
                    if first is not None:
                        values[name.removesuffix("s") + "_id"] = first
        store.dispose()
        yield {"base": base, "values": values}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium is not installed at {CHROMIUM} (make browser)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def _fill(path: str, values: dict[str, Any]) -> str:
    missing = [p for p in re.findall(r"{(\w+)}", path) if p not in values]
    assert not missing, (
        f"page route {path} needs a value for {missing}: a record id parameter <kind>_id takes "
        "the first row of table <kind>s, so seed one (peelian.casework.demo.seed_caseload, or "
        "the 'seeded' fixture of tests/web/test_a11y.py)"
    )
    return re.sub(r"{(\w+)}", lambda m: str(values[m.group(1)]), path)


def _settle(pg: Any) -> None:
    """Wait until the page's data requests have answered and charts or maps have drawn."""
    pg.wait_for_load_state("networkidle")
    for sel in (".js-plotly-plot", ".maplibregl-map"):
        if pg.locator(sel).count():
            pg.wait_for_selector(f"{sel} canvas, {sel} .main-svg", state="attached")
    pg.wait_for_timeout(300)


def app_page_routes() -> list[str]:
    """:func:`page_routes` of the app ``create_app`` builds (the same table the server has)."""
    import tempfile

    from peelian.config import Settings
    from peelian.web import create_app

    with tempfile.TemporaryDirectory() as tmp:
        return page_routes(create_app(Settings(data_dir=tmp, env="test", secret_key="x" * 40)))


def test_the_check_fails_on_violations_and_names_them(browser: Any) -> None:
    """A page with an unlabelled field, an image without text and grey-on-white text fails,
    and the message names each rule and element; moderate findings are returned, not raised."""
    from a11y import EXCLUDED

    context = browser.new_context()
    pg = context.new_page()
    pg.set_content(
        '<html lang="en"><head><title>t</title></head><body><main><h1>Broken</h1>'
        '<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" id="pic">'
        '<input type="text" id="field"><p style="color:#bbb">faint text</p>'
        "<h3>skips a level</h3></main></body></html>"
    )
    with pytest.raises(AssertionError) as raised:
        assert_accessible(pg, context="a broken page")
    message = str(raised.value)
    assert "3 serious or critical accessibility violation(s) on a broken page" in message
    for rule, target in (("image-alt", "#pic"), ("label", "#field"), ("color-contrast", "p")):
        assert f"- {rule} (" in message and f"    {target}:" in message
    pg.set_content(
        '<html lang="en"><head><title>t</title></head><body><main><h1>Fine</h1>'
        "<h3>skips a level</h3></main></body></html>"
    )
    assert [v["id"] for v in assert_accessible(pg)] == ["heading-order"]
    context.close()
    assert all(reason.strip() for reason in EXCLUDED.values())


def test_route_table_lists_the_pages() -> None:
    """The enumeration finds the pages a user knows (so an empty list cannot pass the check)."""
    routes = app_page_routes()
    for expected in ("/", "/login", "/measures", "/map", "/areas/{code}", "/hotspots"):
        assert expected in routes
    for expected in ("/forecasts", "/data", "/admin/users", "/reports", "/docs"):
        assert expected in routes
    assert "/casework/problems/{problem_id}" in routes and "/api/reports/ncpm" in routes
    assert not [r for r in routes if r.endswith((".json", ".csv")) or r.startswith("/vendor")]


def _serve_empty(tmp: Path) -> Iterator[str]:
    """An app on a store with nothing but an admin, served like ``serve_seeded_app``."""
    import socket
    import threading
    import time

    import uvicorn

    from peelian.config import Settings
    from peelian.data.accounts.users import add_user
    from peelian.data.store import open_store
    from peelian.web import create_app

    store = open_store(f"sqlite:///{tmp / 'store.sqlite'}")
    add_user(store, "admin1", PASSWORD, "admin")
    app = create_app(Settings(data_dir=tmp, env="test", secret_key="e" * 40), store=store)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        store.dispose()


class _Checker:
    """Opens pages in one logged-in tab and collects every page's axe failure."""

    def __init__(self, browser: Any, base: str) -> None:
        self.context = browser.new_context(viewport={"width": 1360, "height": 900})
        self.pg = self.context.new_page()
        self.pg.set_default_timeout(30_000)
        self.base = base
        self.failures: list[str] = []
        self.checked: list[str] = []

    def check(self, url: str, label: str) -> None:
        try:
            assert_accessible(self.pg, context=label)
        except AssertionError as e:
            self.failures.append(str(e))
        self.checked.append(url)

    def log_in(self) -> None:
        """The login form as it first shows, after a wrong password, then a real login."""
        pg = self.pg
        pg.goto(self.base + "/login")
        self.check("/login", "login page (logged out)")
        pg.get_by_label("Username").fill("admin1")
        pg.get_by_label("Password").fill("not the password")
        pg.get_by_role("button", name="Log in").click()
        pg.wait_for_load_state()
        self.check("/login", "login page after a wrong password")
        pg.get_by_label("Username").fill("admin1")
        pg.get_by_label("Password").fill(PASSWORD)
        pg.get_by_role("button", name="Log in").click()
        pg.wait_for_url(self.base + "/")

    def visit(self, url: str) -> None:
        """Check ``url`` if it answers HTML; again with every ``<details>`` opened."""
        query = HTML_QUERY.get(url)
        full = f"{url}?{query}" if query else url
        response = self.pg.goto(self.base + full)
        assert response is not None, full
        if "text/html" not in (response.headers.get("content-type") or ""):
            return  # a hidden route that answers something else (none today)
        _settle(self.pg)
        self.check(full, f"{full} (HTTP {response.status})")
        if self.pg.locator("details:not([open])").count():
            self.pg.evaluate(
                "() => document.querySelectorAll('details').forEach(d => d.open = true)"
            )
            self.pg.wait_for_timeout(200)
            self.check(full, f"{full} with its details opened")


def test_every_html_page_has_no_serious_or_critical_violation(seeded, browser) -> None:  # type: ignore[no-untyped-def]
    values = seeded["values"]
    checker = _Checker(browser, seeded["base"])
    checker.log_in()
    for url in [_fill(p, values) for p in app_page_routes() if p != "/login"] + list(EXTRA_PAGES):
        checker.visit(url)
    checker.context.close()
    checked = checker.checked
    assert "/" in checked and "/casework/problems/" + str(values["problem_id"]) in checked
    assert len(checked) >= 15, checked
    assert not checker.failures, "\n\n".join(checker.failures)


def test_every_page_in_its_empty_state_has_no_serious_or_critical_violation(
    tmp_path_factory: pytest.TempPathFactory, browser: Any
) -> None:
    """On a store with nothing loaded every page shows its empty state (what to run); those
    states are checked too. Record pages answer the error page (no record 1)."""
    tmp = tmp_path_factory.mktemp("a11y-empty")
    for base in _serve_empty(tmp):
        checker = _Checker(browser, base)
        checker.log_in()
        ids = {p: 1 for path in app_page_routes() for p in re.findall(r"{(\w+)}", path)}
        for url in [_fill(p, ids) for p in app_page_routes() if p != "/login"]:
            checker.visit(url)
        checker.context.close()
        assert len(checker.checked) >= 15, checker.checked
        assert not checker.failures, "\n\n".join(checker.failures)
