"""Browser walks of casework (STYLE 14), as different users in their own browser sessions:

- a whole SARA problem opened from an emerging hotspot on the Hotspots page, through analysis
  (the problem analysis triangle) and a response action for a partner organisation, to an
  assessment against a comparison area; the partner updates its action and a supervisor closes
  the problem with its result;
- a referral made by a safeguarding user to a youth justice service, taken on and given its
  outcome by a partner user of that service (under a live agreement sharing referrals and
  people), while a partner without such an agreement cannot see it.

The real app runs under uvicorn (``web_seed.serve_seeded_app``); axe-core checks every page
visited (``a11y.assert_accessible``); screenshots go to tests/artifacts/.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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
USERS = {
    "analyst1": ("analyst", "force"),
    "super1": ("supervisor", "force"),
    "safe1": ("safeguarding", "force"),
    "csp1": ("partner", "csp"),
    "yjs1": ("partner", "yjs"),
    "health1": ("partner", "health"),
}


def _seed_casework(path: Path) -> dict[str, Any]:
    """Organisations, a user per role, and two live agreements: the force and the CSP share
    problems and actions; the force and the youth justice service share referrals and people.
    Health has no agreement."""
    from peelian.casework.organisations import (
        SYSTEM,
        add_agreement,
        add_organisation,
        assign_user,
    )
    from peelian.data.accounts.users import add_user
    from peelian.data.store import open_store

    store = open_store(f"sqlite:///{path}")
    try:
        orgs = {
            "force": add_organisation(store, SYSTEM, "Northumbria Police", "force"),
            "csp": add_organisation(store, SYSTEM, "Newcastle CSP", "csp"),
            "yjs": add_organisation(store, SYSTEM, "Newcastle Youth Justice", "youth_justice"),
            "health": add_organisation(store, SYSTEM, "Tyneside Health", "health"),
        }
        assign_user(store, SYSTEM, "admin1", orgs["force"]["id"])
        for name, (role, org) in USERS.items():
            add_user(store, name, PASSWORD, role)
            assign_user(store, SYSTEM, name, orgs[org]["id"])
        start = dt.date.today() - dt.timedelta(days=30)
        for partner, kinds in (("csp", ["problem", "action"]), ("yjs", ["referral", "person"])):
            add_agreement(
                store,
                SYSTEM,
                title=f"Force and {orgs[partner]['name']}",
                purpose="crime prevention and safeguarding",
                lawful_basis="DPA 2018 s.35; Crime and Disorder Act 1998 s.115",
                record_kinds=kinds,
                party_ids=[orgs["force"]["id"], orgs[partner]["id"]],
                start_date=start,
            )
        return {k: {"id": v["id"], "name": v["name"]} for k, v in orgs.items()}
    finally:
        store.dispose()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("casework-browser")
    serving = serve_seeded_app(tmp, "c" * 40, PASSWORD)
    url = next(serving)
    _seed_casework(tmp / "store.sqlite")
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
    """``login(username)``: a page of a new browser session, logged in as that user."""
    ARTIFACTS.mkdir(exist_ok=True)
    contexts: list[Any] = []
    errors: list[str] = []
    outside: list[str] = []

    def make(username: str) -> Any:
        context = browser.new_context(viewport={"width": 1360, "height": 900})
        contexts.append(context)
        pg = context.new_page()
        pg.set_default_timeout(20_000)
        pg.on("pageerror", lambda e: errors.append(str(e)))
        pg.on(
            "request",
            lambda r: (
                None if r.url.startswith((server, "data:", "blob:")) else outside.append(r.url)
            ),
        )
        pg.goto(server + "/login")
        pg.get_by_label("Username").fill(username)
        pg.get_by_label("Password").fill(PASSWORD)
        pg.get_by_role("button", name="Log in").click()
        pg.wait_for_url(server + "/")
        return pg

    yield make
    for context in contexts:
        context.close()
    assert outside == [], f"requests left the machine: {outside[:5]}"
    assert errors == [], f"JavaScript errors: {errors[:5]}"


def _check(pg: Any, name: str) -> None:
    """axe-core on the page as it is, and a screenshot."""
    pg.wait_for_load_state()
    assert_accessible(pg, context=name)
    pg.screenshot(path=str(ARTIFACTS / f"casework-{name}.png"), full_page=True)


def _message(pg: Any) -> str:
    return pg.locator("p.alert.info[role=status]").inner_text()


def _submit(pg: Any, form: Any, button: str) -> None:
    with pg.expect_navigation():
        form.get_by_role("button", name=button).click()


def test_a_sara_problem_from_a_hotspot_to_a_closed_assessment(login, server) -> None:  # type: ignore[no-untyped-def]
    analyst = login("analyst1")
    analyst.get_by_role("link", name="Hotspots", exact=True).click()
    analyst.wait_for_selector("#emerging-table")
    _check(analyst, "hotspots")
    row = analyst.locator("#emerging-table tbody tr", has_text="Intensifying").first
    cell = row.locator("td").first.inner_text()
    row.get_by_role("link", name=re.compile("Open a problem")).click()
    analyst.wait_for_url(re.compile(r"/casework/problems\?"))
    form = analyst.locator("form", has=analyst.get_by_role("button", name="Open problem"))
    assert form.get_by_label("Title").input_value() == f"Intensifying Hot Spot (cell {cell})"
    assert form.get_by_label("Hotspot run id").input_value().isdigit()
    assert form.get_by_label("Emerging hotspot class").input_value() == "intensifying"
    _check(analyst, "problem-from-hotspot")
    form.get_by_label("Title").fill("Violence around Byker Metro")
    form.get_by_label("Area (LSOA code)").fill("E01030000")
    _submit(analyst, form, "Open problem")
    pid = re.search(r"Opened problem (\d+)", _message(analyst)).group(1)  # type: ignore[union-attr]
    analyst.locator("#problems-table").get_by_role(
        "link", name="Violence around Byker Metro"
    ).click()
    analyst.wait_for_url(f"**/casework/problems/{pid}")
    assert "Intensifying" in analyst.locator("section", has_text="Scanning: evidence").inner_text()

    def stage(name: str) -> None:
        box = analyst.locator("section", has_text="Stage, status and review")
        box.get_by_label("Stage").select_option(label=name)
        _submit(analyst, box, "Save")
        assert _message(analyst).startswith(f"Saved: {name}")

    stage("Analysis")
    tri = analyst.locator("form", has=analyst.get_by_role("button", name="Save triangle"))
    tri.get_by_label("Victim or target").fill("Commuters at the Metro station after 10 pm")
    tri.get_by_label("Location").fill("Byker Metro forecourt and underpass")
    tri.get_by_label("Place manager").fill("Nexus (Metro operator)")
    _submit(analyst, tri, "Save triangle")
    assert _message(analyst) == "Saved the problem analysis triangle."
    _check(analyst, "problem-analysis")
    stage("Response")
    act = analyst.locator("form[aria-label='Add an action']")
    act.get_by_label("New action").fill("Street pastors on Friday and Saturday nights")
    act.get_by_label("Partner organisation").select_option(label="Newcastle CSP")
    act.get_by_label("Due").fill("2021-09-30")
    _submit(analyst, act, "Add action")
    assert _message(analyst) == "Added the action."
    stage("Assessment")
    assess = analyst.locator("form[aria-label='Assess the problem']")
    for label, value in (
        ("Before: first month", "2021-01"),
        ("Before: last month", "2021-06"),
        ("After: first month", "2021-07"),
        ("After: last month", "2021-12"),
        ("Comparison area LSOAs (comma-separated)", "E01030003"),
        ("Comparison area name", "Walker east"),
    ):
        assess.get_by_label(label, exact=True).fill(value)
    _submit(analyst, assess, "Assess")
    assert _message(analyst).startswith("Assessed:")
    table = analyst.locator("#assessment-table").inner_text()
    assert "Comparison: Walker east" in table and "Problem area" in table
    _check(analyst, "problem-assessed")

    # the response registered as an intervention at the place, with its outcomes
    analyst.get_by_role("link", name="Interventions", exact=True).click()
    _check(analyst, "interventions-empty")
    reg = analyst.locator("form", has=analyst.get_by_role("button", name="Register intervention"))
    reg.get_by_label("Title").fill("Lighting and CCTV at Byker Metro")
    reg.get_by_label("Prevention tier").select_option(label="Primary (before harm)")
    reg.get_by_label("Type").select_option(label="Design out crime")
    reg.get_by_label(re.compile("^Target:")).fill("E01030000")
    reg.get_by_label("Start").fill("2021-07-01")
    reg.get_by_label("Responds to problem number (optional)").fill(pid)
    _submit(analyst, reg, "Register intervention")
    assert _message(analyst).startswith("Registered intervention")
    outcomes = analyst.locator("#outcomes-table").inner_text()
    assert "6 months" in outcomes and "2021-01 to 2021-06" in outcomes
    assert "Not causal:" in analyst.locator("main").inner_text()
    _check(analyst, "intervention")
    analyst.get_by_role("link", name="All interventions").click()
    filters = analyst.locator("form[aria-label='Filter interventions']")
    filters.get_by_label("Tier").select_option(label="Primary (before harm)")
    _submit(analyst, filters, "Filter")
    assert analyst.locator("#interventions-table tbody tr").count() == 1
    _check(analyst, "interventions")

    # the partner organisation sees the problem under its agreement and updates its action
    partner = login("csp1")
    partner.goto(f"{server}/casework/problems/{pid}")
    row = partner.locator("#actions-table tbody tr", has_text="Street pastors")
    assert "Newcastle CSP" in row.inner_text()
    row.get_by_label(re.compile("Status of action")).select_option(label="Done")
    _submit(partner, row, "Save")
    assert _message(partner) == "Updated the action."
    assert "Close with a result" not in partner.content()  # partners may not close problems
    _check(partner, "problem-partner")

    # a supervisor reviews and closes it with the result
    supervisor = login("super1")
    supervisor.get_by_role("link", name="Casework", exact=True).click()
    supervisor.locator("#problems-table").get_by_role(
        "link", name="Violence around Byker Metro"
    ).click()
    assert "Done" in supervisor.locator("#actions-table").inner_text()
    close = supervisor.locator("section", has_text="Close with a result")
    close.get_by_label(re.compile("Result")).fill("Pastors deployed; no significant change")
    _submit(supervisor, close, "Close problem")
    assert _message(supervisor) == "Closed the problem."
    assert "Status: Closed" in supervisor.locator("main").inner_text()
    _check(supervisor, "problem-closed")


def test_a_referral_from_creation_to_outcome_and_hidden_without_agreement(  # type: ignore[no-untyped-def]
    login, server
) -> None:
    safe = login("safe1")
    safe.get_by_role("link", name="Referrals", exact=True).click()
    assert "Why do you need the referrals?" in safe.locator("main").inner_text()
    _check(safe, "referrals-prompt")
    form = safe.locator("form", has=safe.get_by_role("button", name="Make referral"))
    form.get_by_label("Person: the force's pseudonymised reference (no names)").fill("P004242")
    form.get_by_label("Refer to").select_option(label="Newcastle Youth Justice")
    form.get_by_label("Reason: why this person, to this service").fill(
        "Carried a knife to school; first contact with police"
    )
    # consent refused without the lawful basis: refused with the reason, nothing typed is lost
    form.get_by_label("Consent refused").check()
    form.get_by_label("Purpose (written to the audit log)").fill("MASH referral 3 June")
    _submit(safe, form, "Make referral")
    assert "record why the referral is made without it" in _message(safe)
    form = safe.locator("form", has=safe.get_by_role("button", name="Make referral"))
    assert (
        form.get_by_label("Person: the force's pseudonymised reference (no names)").input_value()
        == "P004242"
    )
    form.get_by_label(re.compile("the lawful basis for referring without it")).fill(
        "Risk of serious harm; DPA 2018 s.35"
    )
    _submit(safe, form, "Make referral")
    rid = re.search(r"Made referral (\d+) to Newcastle Youth Justice", _message(safe)).group(1)  # type: ignore[union-attr]
    facts = safe.locator("dl.facts").inner_text()
    assert "P004242" in facts and "Consent refused: Risk of serious harm" in facts
    _check(safe, "referral-made")

    # the youth justice partner finds it (a purpose first), takes it on and records the outcome
    yjs = login("yjs1")
    yjs.get_by_role("link", name="Referrals", exact=True).click()
    search = yjs.locator("form[aria-label='Search referrals']")
    search.get_by_label("Purpose").fill("referral triage")
    _submit(yjs, search, "Show referrals")
    table = yjs.locator("#referrals-table").inner_text()
    assert "P004242" in table and "Consent refused" in table
    _check(yjs, "referrals-partner")
    with yjs.expect_navigation():
        yjs.get_by_role("button", name=f"Referral {rid}").click()
    assert "Carried a knife to school" in yjs.locator("dl.facts").inner_text()
    move = yjs.locator("section", has_text="Move it on")
    assert move.get_by_label("Closed").count() == 0  # partners may not close a referral
    move.get_by_label("Accepted").check()
    _submit(yjs, move, "Save status")
    assert _message(yjs) == "Saved: accepted (version 2)."
    record = yjs.locator("section", has_text="Record the outcome")
    record.get_by_label("What came of the referral").fill(
        "Engaged with the knife crime programme: 8 of 8 sessions"
    )
    _submit(yjs, record, "Record outcome")
    assert _message(yjs) == "Recorded the outcome (version 3)."
    assert "8 of 8 sessions" in yjs.locator("dl.facts").inner_text()
    assert "Not causal:" in yjs.locator("main").inner_text()
    _check(yjs, "referral-outcome")

    # a partner without an agreement sharing referrals cannot see it, by page or by number
    health = login("health1")
    health.get_by_role("link", name="Referrals", exact=True).click()
    assert "may not read referrals" in health.locator("main").inner_text()
    _check(health, "referrals-refused")
    health.goto(f"{server}/casework/referrals/{rid}")
    text = health.locator("main").inner_text()
    assert "may not read referrals" in text and "P004242" not in text
