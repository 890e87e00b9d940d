"""Browser walk of the people lists (issue 15; STYLE 14): a safeguarding user gives a purpose,
sees the MATAC list with its components, records a de-selection through the form and sees the
person move to "de-selected" with the reason; a partner user is refused the page and never sees
a People link. axe-core checks every page visited (``a11y.assert_accessible``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from a11y import assert_accessible
from web_seed import serve_seeded_app

from people_seed import AS_OF, seed_people

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


def _seed(path: Path) -> None:
    from peelian.casework.organisations import SYSTEM, add_organisation, assign_user
    from peelian.data.accounts.users import add_user
    from peelian.data.store import open_store

    store = open_store(f"sqlite:///{path}")
    try:
        force = add_organisation(store, SYSTEM, "Northumbria Police", "force")
        csp = add_organisation(store, SYSTEM, "Newcastle CSP", "csp")
        add_user(store, "safe1", PASSWORD, "safeguarding")
        add_user(store, "csp1", PASSWORD, "partner")
        assign_user(store, SYSTEM, "safe1", force["id"])
        assign_user(store, SYSTEM, "csp1", csp["id"])
        seed_people(store)
    finally:
        store.dispose()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("people-browser")
    serving = serve_seeded_app(tmp, "p" * 40, PASSWORD)
    url = next(serving)
    _seed(tmp / "store.sqlite")
    yield url
    next(serving, None)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium is not installed at {CHROMIUM} (make browser)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def login(browser: Any, server: str) -> Iterator[Any]:
    ARTIFACTS.mkdir(exist_ok=True)
    contexts: list[Any] = []
    errors: list[str] = []

    def make(username: str) -> Any:
        context = browser.new_context(viewport={"width": 1360, "height": 900})
        contexts.append(context)
        pg = context.new_page()
        pg.set_default_timeout(30_000)
        pg.on("pageerror", lambda e: errors.append(str(e)))
        pg.goto(server + "/login")
        pg.get_by_label("Username").fill(username)
        pg.get_by_label("Password").fill(PASSWORD)
        pg.get_by_role("button", name="Log in").click()
        pg.wait_for_url(server + "/")
        return pg

    yield make
    for context in contexts:
        context.close()
    assert errors == [], f"JavaScript errors: {errors[:5]}"


def test_safeguarding_user_sees_the_list_and_deselects(login, server) -> None:
    pg = login("safe1")
    pg.get_by_role("link", name="People").click()
    pg.wait_for_url(server + "/people")
    assert "Say why you need them" in pg.content()
    assert_accessible(pg, context="people-ask-purpose")
    pg.get_by_label("As of").fill(str(AS_OF))
    pg.get_by_label("Purpose (written to the audit log)").fill("MATAC tasking test")
    pg.get_by_role("button", name="Show").click()
    table = pg.locator("#people-table")
    table.wait_for()
    rows = table.locator("tbody tr")
    assert rows.count() == 2
    first = rows.nth(0).inner_text()
    assert "P-A" in first and "C-A1, C-A2" in first
    assert "Illustrative" in pg.content() and "Synthetic data" in pg.content()
    assert_accessible(pg, context="people-list")
    pg.screenshot(path=str(ARTIFACTS / "people-list.png"), full_page=True)
    pg.get_by_label("Person reference").fill("P-A")
    pg.get_by_label("Reason").select_option("custody")
    pg.get_by_label("From", exact=True).fill("2022-06-25")
    pg.get_by_role("button", name="Record de-selection").click()
    pg.locator("p.alert.info[role=status]").wait_for()
    assert "De-selection 1 recorded for P-A" in pg.locator("p.alert.info").inner_text()
    assert "In custody (recorded, from 2022-06-25)" in pg.locator("#deselected-table").inner_text()
    query = f"cohort=matac&as_of={AS_OF}&purpose=MATAC+tasking+test"
    pg.goto(f"{server}/people/tasking?{query}")
    assert pg.locator("#entered-table tbody tr").count() == 1  # P-T; P-A is de-selected
    assert_accessible(pg, context="people-tasking")
    pg.goto(f"{server}/people/fairness?{query}")
    assert "Age band" in pg.locator("#fairness-table").inner_text()
    assert_accessible(pg, context="people-fairness")


def test_partner_user_is_refused_and_has_no_link(login, server) -> None:
    pg = login("csp1")
    assert pg.get_by_role("link", name="People").count() == 0
    response = pg.goto(server + f"/people?cohort=matac&as_of={AS_OF}&purpose=curious")
    assert response is not None and response.status == 403
    assert "P-A" not in pg.content()
    assert_accessible(pg, context="people-partner-refused")
