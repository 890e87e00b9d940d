"""Interventions and referrals pages: filters, paging and CSV of the list, forms that validate,
optimistic locking, the purpose asked in a POST body (never a URL) and audited, the person of a
referral shown only to roles the policy lets read people, and the hotspot -> problem link."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from typing import Any

import test_casework_pages
from test_casework_pages import events_in
from web_seed import PASSWORD

from peelian.casework.interventions import register_intervention
from peelian.casework.organisations import SYSTEM, add_agreement, add_organisation, assign_user
from peelian.casework.policy import principal_for
from peelian.casework.referrals import make_referral
from peelian.data.accounts.users import add_user
from peelian.data.audit import AuditFilter, search

# the fixtures of the casework pages tests: organisations, users of every role, a problem, a
# place intervention and a referral to the CSP
casework = test_casework_pages.casework
as_user = test_casework_pages.as_user


def _token(client: Any) -> str:
    return client.cookies.get("peelian_csrf") or ""


def _post(client: Any, url: str, **data: Any) -> Any:
    r = client.post(url, data={**data, "csrf_token": _token(client)}, follow_redirects=True)
    assert r.status_code == 200, (url, r.status_code, r.text[:300])
    return r


def _message(html: str) -> str:
    m = re.search(r'<p class="alert info" role="status">(.*?)</p>', html, re.S)
    return (m.group(1) if m else "").replace("&#39;", "'").replace("&quot;", '"')


def _register(store: Any, user: str, **kw: Any) -> dict[str, Any]:
    values = {
        "title": "Patrol at Byker",
        "tier": "primary",
        "intervention_type": "patrol",
        "target_kind": "place",
        "target_ref": "E01030001",
        "start_date": dt.date(2021, 6, 1),
    } | kw
    return register_intervention(store, principal_for(store, user), **values)


# -- interventions ---------------------------------------------------------------------------


def test_interventions_list_filters_pages_and_exports(store, casework, as_user) -> None:
    today = dt.date.today()
    _register(store, "safe1", title="Youth diversion", tier="secondary",
              intervention_type="diversion_pathway", target_kind="person", target_ref="P000777",
              start_date=today - dt.timedelta(days=10), purpose="diversion panel")  # fmt: skip
    _register(store, "analyst1", title="Planned lighting", intervention_type="design_out_crime",
              start_date=today + dt.timedelta(days=30), funding_source="Safer Streets")  # fmt: skip
    _register(store, "analyst1", title="Ended patrol", start_date=dt.date(2020, 1, 1),
              end_date=dt.date(2020, 3, 31))  # fmt: skip
    analyst = as_user("analyst1")
    page = analyst.get("/casework/interventions.json").json()
    assert page["total"] == 4  # the fixture's design-out-crime intervention too
    assert {r["title"]: r["status"] for r in page["rows"]} == {
        "Youth diversion": "active",
        "Planned lighting": "planned",
        "Ended patrol": "ended",
        "Target hardening in Byker": "active",
    }
    # a person target is never shown in the list, to anyone
    diversion = next(r for r in page["rows"] if r["title"] == "Youth diversion")
    assert diversion["target_ref"] is None and diversion["target_hidden"] is True
    html = analyst.get("/casework/interventions").text
    assert "P000777" not in html and "not shown in lists" in html
    assert "Secondary (early signs, at risk)" in html and "Diversion pathway" in html

    def titles(**params: str) -> list[str]:
        data = analyst.get("/casework/interventions.json", params=params).json()
        return sorted(r["title"] for r in data["rows"])

    assert titles(tier="secondary") == ["Youth diversion"]
    assert titles(intervention_type="design_out_crime") == [
        "Planned lighting",
        "Target hardening in Byker",
    ]
    assert titles(status="ended") == ["Ended patrol"]
    assert titles(active_from="2020-02-01", active_to="2020-12-31") == ["Ended patrol"]
    assert titles(text="safer streets") == ["Planned lighting"]
    assert titles(organisation_id=str(casework["csp"]["id"])) == []
    empty = analyst.get("/casework/interventions.json", params={"organisation_id": "999"}).json()
    assert empty["empty"]["message"] == "No interventions match these filters."
    # a bad filter is refused with what is wrong, not ignored
    bad = analyst.get("/casework/interventions.json", params={"status": "finished"})
    assert bad.status_code == 422 and "Status must be one of" in bad.text
    bad = analyst.get("/casework/interventions.json", params={"active_from": "2021-13-01"})
    assert bad.status_code == 422 and "must be a date" in bad.text
    # the CSV holds the filtered rows, without person targets, and the export is audited
    r = analyst.get("/casework/interventions.csv", params={"tier": "secondary"})
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [(x["title"], x["target_ref"], x["status"]) for x in rows] == [
        ("Youth diversion", "", "active")
    ]
    entry = search(store, AuditFilter(action="intervention.export"), limit=1)[0]
    assert entry["username"] == "analyst1" and '"rows": 1' in str(entry["detail"]).replace("'", '"')
    assert as_user("audit1").get("/casework/interventions").status_code == 403


def test_interventions_list_pages_fifty_at_a_time(store, casework, as_user) -> None:
    for i in range(54):
        _register(store, "analyst1", title=f"Patrol {i:02d}")
    viewer = as_user("viewer1")
    first = viewer.get("/casework/interventions.json", params={"text": "patrol"}).json()
    assert (first["total"], first["pages"], len(first["rows"])) == (54, 2, 50)
    assert first["prev_url"] is None and "page=2" in first["next_url"]
    second = viewer.get(
        first["next_url"].replace("/casework/interventions?", "/casework/interventions.json?")
    ).json()
    assert [r["title"] for r in second["rows"]] == [f"Patrol {i:02d}" for i in (3, 2, 1, 0)]
    assert "text=patrol" in second["prev_url"]
    html = viewer.get("/casework/interventions", params={"text": "patrol"}).text
    assert "Page 1 of 2" in html and "Register an intervention" not in html  # viewers read only


def test_register_form_validates_with_clear_messages(store, casework, as_user) -> None:
    analyst = as_user("analyst1")
    form = {
        "title": "Street lighting",
        "tier": "primary",
        "intervention_type": "design_out_crime",
        "target_kind": "place",
        "target_ref": "E01030002",
        "start_date": "2021-07-01",
    }
    msg = _message(_post(analyst, "/casework/interventions", **form, end_date="2021-06-01").text)
    assert "The end date 2021-06-01 is before the start date 2021-07-01" in msg
    msg = _message(_post(analyst, "/casework/interventions", **{**form, "start_date": ""}).text)
    assert msg == "Start date is needed (YYYY-MM-DD)."
    msg = _message(_post(analyst, "/casework/interventions", **{**form, "tier": "quaternary"}).text)
    assert msg.startswith("Tier must be one of: Primary (before harm)")
    # analysts may not aim an intervention at a person (the policy's person rule)
    r = analyst.post(
        "/casework/interventions",
        data={
            **form,
            "target_kind": "person",
            "target_ref": "P000001",
            "csrf_token": _token(analyst),
        },
    )
    assert r.status_code == 403
    r = _post(analyst, "/casework/interventions", **form, funding_source="Safer Streets 4")
    assert r.url.path.startswith("/casework/interventions/")
    assert _message(r.text).startswith("Registered intervention")
    assert "Safer Streets 4" in r.text and "E01030002" in r.text


def test_a_person_target_is_shown_only_with_a_purpose_and_audited(store, casework, as_user) -> None:
    rec = _register(store, "safe1", title="Mentoring", tier="tertiary",
                    intervention_type="early_intervention", target_kind="person",
                    target_ref="P000555", purpose="panel")  # fmt: skip
    url = f"/casework/interventions/{rec['id']}"
    safe = as_user("safe1")
    page = safe.get(url)
    assert "P000555" not in page.text and "Show the target" in page.text
    assert safe.get(url + ".json").json()["intervention"]["target_ref"] is None
    shown = _post(safe, url, op="read", purpose="strategy meeting 9 June")
    assert "P000555" in shown.text and "strategy meeting 9 June" in shown.text
    assert shown.url.path == url and "purpose" not in str(shown.url)
    reads = search(store, AuditFilter(action="intervention.read", record_id=str(rec["id"])))
    assert [(e["username"], e["purpose"]) for e in reads] == [("safe1", "strategy meeting 9 June")]
    # an analyst reads the intervention, but may not see who it is aimed at
    analyst = as_user("analyst1")
    assert "Show the target" not in analyst.get(url).text
    assert "P000555" not in _post(analyst, url, op="read", purpose="curious").text
    assert len(search(store, AuditFilter(action="intervention.read"))) == 1


def test_update_and_end_use_the_version_read(store, casework, as_user) -> None:
    rec = casework["intervention"]
    url = f"/casework/interventions/{rec['id']}"
    analyst, supervisor = as_user("analyst1"), as_user("super1")
    fields = {
        "title": "Target hardening, Byker",
        "tier": "primary",
        "intervention_type": "design_out_crime",
        "start_date": "2021-07-01",
        "owner": "pc.jones",
        "funding_source": "PCC",
    }
    msg = _message(_post(analyst, url, op="update", version="1", **fields).text)
    assert msg == f"Saved intervention {rec['id']} (version 2)."
    stale = _message(
        _post(supervisor, url, op="update", version="1", **{**fields, "owner": "x"}).text
    )
    assert "changed by someone else" in stale and "Nothing was saved" in stale
    bad = _message(_post(analyst, url, op="update", version="2", **{**fields, "title": "ab"}).text)
    assert "needs a title of 3-200 characters" in bad
    data = analyst.get(url + ".json").json()["intervention"]
    assert (data["owner"], data["funding_source"], data["version"]) == ("pc.jones", "PCC", 2)
    # ending needs the close permission: analysts have none, supervisors do
    assert "End intervention" not in analyst.get(url).text
    msg = _message(_post(supervisor, url, op="end", version="2", end_date="2021-12-31").text)
    assert msg == "Ended the intervention on 2021-12-31 (version 3)."
    assert analyst.get(url + ".json").json()["intervention"]["status"] == "ended"


def test_a_place_intervention_shows_its_outcomes_with_the_caveat(store, casework, as_user) -> None:
    from peelian.casework.outcomes import NOT_CAUSAL

    url = f"/casework/interventions/{casework['intervention']['id']}"  # E01030000 from 2021-07
    analyst = as_user("analyst1")
    res = analyst.get(url + ".json").json()["outcomes"]["result"]
    six = next(w for w in res["windows"] if w["months"] == 6)
    before = events_in(store, ["E01030000"], "2021-01", "2021-06")
    assert (six["before_from"], six["before_to"], six["before"]) == ("2021-01", "2021-06", before)
    assert six["after"] == events_in(store, ["E01030000"], "2021-08", "2021-12")
    # police.uk ends 2021-12, so the after-window (to 2022-01) is incomplete: never compared
    assert six["comparison"] is None and six["after_so_far"] is True
    html = analyst.get(url).text
    assert f"{before:,}" in html and "(so far)" in html and "not compared" in html
    twelve = next(w for w in res["windows"] if w["months"] == 12)
    assert twelve["before_from"] == "2020-07" and not twelve["before_complete"]
    assert "(records start later)" in html  # police.uk starts 2021-01: that count is partial
    assert "Not causal:" in html and NOT_CAUSAL.split(".")[0] in html.replace("&#39;", "'")


def test_a_referral_page_shows_the_person_outcomes_only_to_who_may_see_them(
    store, casework, as_user
) -> None:
    _partners(store, casework)
    url = f"/casework/referrals/{casework['referral']['id']}/read"
    page = _post(as_user("safe1"), url, purpose="review")
    # P000123 is not in the (empty) force records: said so, never shown as "no offending"
    assert "P000123 is not in the force records" in page.text and "Not causal:" in page.text
    reads = search(store, AuditFilter(action="outcome.read"))
    assert [(e["username"], e["purpose"]) for e in reads] == [("safe1", "review")]
    csp = _post(as_user("csp1"), url, purpose="triage")
    assert "may not see who this referral is about, so not their offending" in csp.text.replace(
        "&#39;", "'"
    )
    assert len(search(store, AuditFilter(action="outcome.read"))) == 1


# -- referrals -------------------------------------------------------------------------------


def _partners(store: Any, casework: dict[str, Any]) -> None:
    """csp1 gets an agreement sharing referrals (not people); a youth justice partner one
    sharing referrals and people."""
    yjs = add_organisation(store, SYSTEM, "Newcastle Youth Justice", "youth_justice")
    add_user(store, "yjs1", PASSWORD, "partner")
    assign_user(store, SYSTEM, "yjs1", yjs["id"])
    start = dt.date.today() - dt.timedelta(days=10)
    for org, kinds in ((casework["csp"], ["referral"]), (yjs, ["referral", "person"])):
        add_agreement(
            store,
            SYSTEM,
            title=f"Referrals to {org['name']}",
            purpose="safeguarding referrals",
            lawful_basis="DPA 2018 s.35; Crime and Disorder Act 1998 s.115",
            record_kinds=kinds,
            party_ids=[casework["force"]["id"], org["id"]],
            start_date=start,
        )
    casework["yjs"] = yjs


def test_referrals_ask_why_in_a_post_and_audit_the_list(store, casework, as_user) -> None:
    safe = as_user("safe1")
    prompt = safe.get("/casework/referrals")
    assert "Why do you need the referrals?" in prompt.text
    assert 'id="referrals-table"' not in prompt.text
    assert safe.get("/casework/referrals.json").json()["rows"] == []
    r = _post(safe, "/casework/referrals/search", purpose="weekly triage")
    assert "P000123" in r.text and "Repeat victim of burglary" not in r.text  # reason on its page
    assert "Newcastle CSP" in r.text and "Consent given" in r.text
    listed = search(store, AuditFilter(action="referral.list"))
    assert [(e["username"], e["purpose"]) for e in listed] == [("safe1", "weekly triage")]
    data = safe.post(
        "/casework/referrals/search.json",
        data={"purpose": "weekly triage", "status": "made", "csrf_token": _token(safe)},
    ).json()
    assert [(x["id"], x["person_ref"]) for x in data["rows"]] == [
        (casework["referral"]["id"], "P000123")
    ]
    none = _post(safe, "/casework/referrals/search", purpose="triage", status="closed")
    assert "No referrals match these filters." in none.text
    dates = _post(safe, "/casework/referrals/search", purpose="t", referred_from="2030-01-01",
                  referred_to="2029-01-01")  # fmt: skip
    assert "'To' (2029-01-01) is before 'From' (2030-01-01)." in _message(dates.text)
    missing = _post(safe, "/casework/referrals/search", purpose="  ")
    assert "say why you need to list it" in _message(missing.text)
    assert as_user("analyst1").get("/casework/referrals").status_code == 403
    assert as_user("viewer1").post("/casework/referrals/search", data={"purpose": "x", "csrf_token": "bad"}).status_code == 403  # fmt: skip


def test_make_referral_form_validates_and_keeps_what_was_typed(store, casework, as_user) -> None:
    safe = as_user("safe1")
    form = {
        "person_ref": "P000900",
        "organisation_id": str(casework["csp"]["id"]),
        "reason": "Child at risk of exploitation",
        "consent": "not_sought",
        "purpose": "MASH referral",
    }
    r = _post(safe, "/casework/referrals", **form)
    assert "record why the referral is made without it" in _message(r.text)
    assert 'value="P000900"' in r.text and "Child at risk of exploitation" in r.text
    r = _post(safe, "/casework/referrals", **{**form, "person_ref": "John Smith"})
    assert "no names or spaces" in _message(r.text)
    r = _post(safe, "/casework/referrals", **{**form, "consent": "maybe"})
    assert _message(r.text).startswith("Consent must be one of")
    r = _post(safe, "/casework/referrals", **form, consent_note="Risk of serious harm; s.47")
    msg = _message(r.text)
    assert re.fullmatch(r"Made referral \d+ to Newcastle CSP\.", msg), msg
    assert "P000900" in r.text and "Consent not sought: Risk of serious harm; s.47" in r.text
    created = search(store, AuditFilter(action="referral.create"), limit=1)[0]
    assert created["purpose"] == "MASH referral"


def test_partners_see_referrals_under_agreements_and_people_only_if_shared(
    store, casework, as_user
) -> None:
    _partners(store, casework)
    safe = principal_for(store, "safe1")
    to_yjs = make_referral(store, safe, person_ref="P000321", organisation_id=casework["yjs"]["id"],
                           reason="Knife possession, first offence", consent="given",
                           purpose="out of court disposal")  # fmt: skip
    csp = as_user("csp1")
    rows = _post(csp, "/casework/referrals/search.json", purpose="triage").json()["rows"]
    assert [(r["id"], r["person_ref"], r["person_hidden"]) for r in rows] == [
        (casework["referral"]["id"], None, True)
    ]
    page = _post(csp, f"/casework/referrals/{casework['referral']['id']}/read", purpose="triage")
    assert "P000123" not in page.text and "your role may not see who" in page.text
    yjs = as_user("yjs1")
    rows = _post(yjs, "/casework/referrals/search.json", purpose="triage").json()["rows"]
    assert [(r["id"], r["person_ref"]) for r in rows] == [(to_yjs["id"], "P000321")]
    # a partner cannot read a referral to another organisation, and one without an
    # agreement sharing referrals sees none
    r = yjs.post(f"/casework/referrals/{casework['referral']['id']}/read",
                 data={"purpose": "x", "csrf_token": _token(yjs)})  # fmt: skip
    assert r.status_code == 403
    health = as_user("health1")
    assert health.get("/casework/referrals").status_code == 403
    assert health.post("/casework/referrals/search", data={"purpose": "x", "csrf_token": _token(health)}).status_code == 403  # fmt: skip


def test_a_referral_moves_on_and_records_its_outcome(store, casework, as_user) -> None:
    _partners(store, casework)
    rid = casework["referral"]["id"]
    url = f"/casework/referrals/{rid}"
    csp, safe = as_user("csp1"), as_user("safe1")
    prompt = csp.get(url)
    assert "Why do you need this record?" in prompt.text and "Repeat victim" not in prompt.text
    page = _post(csp, url + "/read", purpose="triage")
    assert "Repeat victim of burglary" in page.text and "Accepted" in page.text
    assert "Closed" not in re.sub(r"<dt>Status.*?</dd>", "", page.text)  # partners may not close
    msg = _message(
        _post(csp, url, op="status", version="1", status="accepted", purpose="triage").text
    )
    assert msg == "Saved: accepted (version 2)."
    # the safeguarding lead saves with the version they read before: refused, shown
    stale = _message(
        _post(safe, url, op="outcome", version="1", outcome="x", purpose="review").text
    )
    assert "changed by someone else" in stale
    bad = _message(_post(csp, url, op="status", version="2", status="made", purpose="triage").text)
    assert "can become in progress or closed, not made" in bad
    msg = _message(_post(csp, url, op="outcome", version="2", purpose="triage",
                         outcome="Engaged with victim support for 6 weeks").text)  # fmt: skip
    assert msg == "Recorded the outcome (version 3)."
    data = _post(safe, url + "/read.json", purpose="review").json()
    assert data["referral"]["outcome"] == "Engaged with victim support for 6 weeks"
    assert data["referral"]["person_ref"] == "P000123"
    changes = search(store, AuditFilter(action="referral.update", record_id=str(rid)))
    assert sorted((e["username"], e["purpose"]) for e in changes) == [
        ("csp1", "triage"),
        ("csp1", "triage"),
    ]
    no_why = _post(csp, url, op="outcome", version="3", outcome="more", purpose="")
    assert "Why do you need this record?" in no_why.text
    assert "say why you need to change it" in _message(no_why.text)


def test_referral_export_needs_a_purpose_and_is_audited(store, casework, as_user) -> None:
    safe = as_user("safe1")
    r = safe.post("/casework/referrals/export", data={"purpose": "quarterly return", "csrf_token": _token(safe)})  # fmt: skip
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [(x["id"], x["person_ref"], x["organisation"]) for x in rows] == [
        (str(casework["referral"]["id"]), "P000123", "Newcastle CSP")
    ]
    assert search(store, AuditFilter(action="referral.export"))[0]["purpose"] == "quarterly return"
    r = safe.post("/casework/referrals/export", data={"purpose": "", "csrf_token": _token(safe)})
    assert r.status_code == 422


def test_hotspots_link_opens_a_problem_form_filled_from_the_hotspot(store, seeded, casework, as_user) -> None:  # fmt: skip
    analyst = as_user("analyst1")
    html = analyst.get("/hotspots").text
    links = re.findall(r'href="(/casework/problems\?[^"]+)"', html)
    assert links, "no 'Open a problem' link on the Hotspots page"
    url = links[0].replace("&amp;", "&")
    assert f"hotspot_run_id={seeded['runs']['emerging']}" in url
    form = analyst.get(url).text
    assert f'value="{seeded["runs"]["emerging"]}"' in form
    assert '<option value="intensifying" selected>' in form


# -- users page: organisation ------------------------------------------------------------------


def test_admin_sets_a_users_organisation_on_the_users_page(store, casework, as_user) -> None:
    admin = as_user("admin1")
    users = {u["username"]: u for u in admin.get("/admin/users.json").json()["users"]}
    assert users["csp1"]["organisation"] == "Newcastle CSP"
    assert users["viewer1"]["organisation"] == "Northumbria Police"
    health = casework["health"]
    r = _post(admin, "/admin/users/csp1/organisation", organisation_id=str(health["id"]))
    assert _message(r.text) == "csp1 is now a member of Tyneside Health."
    users = {u["username"]: u for u in admin.get("/admin/users.json").json()["users"]}
    assert (users["csp1"]["organisation_id"], users["csp1"]["organisation"]) == (
        health["id"],
        "Tyneside Health",
    )
    assert f'<option value="{health["id"]}" selected>Tyneside Health</option>' in r.text
    entry = search(store, AuditFilter(action="user.organisation"), limit=1)[0]
    assert (entry["username"], entry["target"], entry["record_id"]) == (
        "admin1",
        "csp1",
        str(health["id"]),
    )
    # the policy follows at once: csp1 now has no agreement sharing problems
    assert as_user("csp1").get("/casework/problems.json").status_code == 403
    assert _message(_post(admin, "/admin/users/csp1/organisation", organisation_id="").text) == (
        "csp1 is now in no organisation."
    )
    bad = _post(admin, "/admin/users/csp1/organisation", organisation_id="99999")
    assert "99999" in _message(bad.text)
    bad = _post(admin, "/admin/users/nobody/organisation", organisation_id=str(health["id"]))
    assert "There is no user named 'nobody'" in _message(bad.text)
    analyst = as_user("analyst1")
    r = analyst.post("/admin/users/csp1/organisation",
                     data={"organisation_id": str(health["id"]), "csrf_token": _token(analyst)})  # fmt: skip
    assert r.status_code == 403
