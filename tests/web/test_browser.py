"""Browser tests (STYLE 14): the real app under uvicorn, driven by Chromium through Playwright.

Logs in, opens every page, checks that charts and maps really render (Plotly's SVG and the
MapLibre canvas), drills down force -> CSP -> ward -> LSOA, clicks the map through to an area
profile, downloads the report, and saves a screenshot per page in tests/artifacts/. Every page
visited is checked with axe-core (tests/web/a11y.py): no serious or critical violation.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from a11y import assert_accessible
from web_seed import serve_seeded_app

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).parents[1] / "artifacts"
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


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from serve_seeded_app(tmp_path_factory.mktemp("browser"), "b" * 40, PASSWORD)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium is not installed at {CHROMIUM} (make browser)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, server):  # type: ignore[no-untyped-def]
    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(viewport={"width": 1360, "height": 900}, accept_downloads=True)
    pg = context.new_page()
    pg.set_default_timeout(20_000)
    outside: list[str] = []
    pg.on(
        "request",
        lambda r: None if r.url.startswith((server, "data:", "blob:")) else outside.append(r.url),
    )
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.goto(server + "/")
    assert "/login" in pg.url
    assert_accessible(pg, context="login page")
    pg.get_by_label("Username").fill("admin1")
    pg.get_by_label("Password").fill(PASSWORD)
    pg.get_by_role("button", name="Log in").click()
    pg.wait_for_url(server + "/")
    yield pg
    assert outside == [], f"requests left the machine: {outside[:5]}"
    assert errors == [], f"JavaScript errors: {errors[:5]}"
    context.close()


def _plot_rendered(pg, selector: str) -> None:  # type: ignore[no-untyped-def]
    pg.wait_for_selector(f"{selector} .main-svg", state="attached")
    assert pg.locator(f"{selector} .main-svg").count() >= 1


def _map_rendered(pg, selector: str) -> None:  # type: ignore[no-untyped-def]
    pg.wait_for_selector(f"{selector} canvas", state="attached")
    box = pg.locator(f"{selector} canvas").first.bounding_box()
    assert box and box["width"] > 200 and box["height"] > 200


def _shot(pg, name: str) -> None:  # type: ignore[no-untyped-def]
    """Check the page with axe-core, then save its screenshot."""
    pg.wait_for_timeout(400)
    assert_accessible(pg, context=name)
    pg.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_overview_renders_measures_sparklines_and_trend(page) -> None:  # type: ignore[no-untyped-def]
    pg = page
    assert pg.locator("h1").inner_text() == "Northumbria at a glance"
    assert pg.locator(".measure-card").count() == 6
    assert pg.locator(".measure-card svg.sparkline").count() == 6
    _plot_rendered(pg, "#trend")
    assert pg.locator("#trend .bars .point").count() == 12  # one bar per month
    assert "Synthetic data" in pg.locator(".badge-synthetic").inner_text()
    assert "Open Government Licence" in pg.locator("footer").inner_text()
    _shot(pg, "overview")


def test_measures_spc_and_drill_down_to_lsoa(page, server) -> None:  # type: ignore[no-untyped-def]
    pg = page
    pg.get_by_role("link", name="Measures", exact=True).click()
    _plot_rendered(pg, "#spc")
    assert pg.locator("#measures-table tbody tr").count() == 6
    _shot(pg, "measures")
    for expected in ("Gateshead", "Deckham", "Deckham 002A"):
        pg.locator("#children-table a.drill", has_text=expected).first.click()
        pg.wait_for_load_state()
        assert expected in pg.locator("h1").inner_text()
        _plot_rendered(pg, "#spc")
        assert_accessible(pg, context=f"measures for {expected}")
    crumbs = pg.locator(".breadcrumb li").all_inner_texts()
    assert [c.split(" (")[0] for c in crumbs] == [
        "Northumbria",
        "Gateshead",
        "Deckham",
        "Deckham 002A",
    ]
    _shot(pg, "measures-lsoa")


def test_map_renders_layers_and_click_opens_profile(page, server) -> None:  # type: ignore[no-untyped-def]
    pg = page
    pg.get_by_role("link", name="Map", exact=True).click()
    _map_rendered(pg, "#map")
    pg.wait_for_selector("#map[data-ready='true']", state="attached")
    # functions, not expressions: Playwright evaluates an expression with eval, which the CSP
    # (no 'unsafe-eval') refuses
    pg.wait_for_function("() => document.getElementById('map').data.length === 2")  # areas + Gi*
    _shot(pg, "map")
    pg.get_by_label("Forecast flagged cells").check()
    pg.wait_for_function("() => document.getElementById('map').data.length === 3")
    pg.select_option("select[name=level]", "lsoa21")
    pg.select_option("select[name=metric]", "rate")
    pg.get_by_role("button", name="Update map").click()
    pg.wait_for_selector("#map[data-ready='true']", state="attached")
    assert pg.locator("#map-table tbody tr").count() == 8
    box = pg.locator("#map").bounding_box()
    pg.mouse.click(box["x"] + box["width"] * 0.4, box["y"] + box["height"] * 0.45)
    pg.wait_for_url("**/areas/*")
    _plot_rendered(pg, "#area-trend")
    _plot_rendered(pg, "#area-cats")
    _shot(pg, "area-profile")


def test_hotspots_forecasts_data_pages(page) -> None:  # type: ignore[no-untyped-def]
    pg = page
    pg.get_by_role("link", name="Hotspots", exact=True).click()
    for sel in ("#gistar-map", "#emerging-map", "#kde-map"):
        _map_rendered(pg, sel)
    assert pg.locator("#gistar-table tbody tr").count() == 4
    assert pg.get_by_role("link", name="CSV").count() == 3
    _plot_rendered(pg, "#lorenz")
    assert pg.locator("#concentration-table tbody tr").count() == 6
    _shot(pg, "hotspots")
    pg.get_by_role("link", name="Forecasts", exact=True).click()
    _plot_rendered(pg, "#backtest")
    _map_rendered(pg, "#forecast-map")
    _map_rendered(pg, "#grip-map")
    assert pg.locator("#grip-table tbody tr").count() == 3
    _shot(pg, "forecasts")
    pg.get_by_role("link", name="Data", exact=True).click()
    assert pg.locator("#category-table tbody tr").count() == 3
    assert pg.locator("details.batch .pill.good").first.inner_text() == "reconciles"
    assert pg.locator("#quarantine-table tbody tr").count() == 12
    _shot(pg, "data")
    pg.get_by_role("link", name="Users", exact=True).click()
    assert pg.locator("#users-table tbody tr").count() == 1
    _shot(pg, "users")


def test_report_download(page, tmp_path) -> None:  # type: ignore[no-untyped-def]
    pg = page
    pg.get_by_role("link", name="Reports", exact=True).click()
    _shot(pg, "reports")
    with pg.expect_download(timeout=90_000) as info:
        pg.get_by_role("button", name="Download").click(no_wait_after=True)
    target = tmp_path / info.value.suggested_filename
    info.value.save_as(target)
    assert info.value.suggested_filename == "national-crime-measures-2021-12.pdf"
    assert target.read_bytes().startswith(b"%PDF-")
    pg.goto(pg.url.split("/reports")[0] + "/api/reports/ncpm?format=html")
    assert pg.locator("h2").first.inner_text() == "1) Reduce homicides"
    _shot(pg, "report-html")
