"""Outcome tracking (issue 14 item 3) with known answers: a person's offending and
victimisation before and after, window completeness, a place's police.uk counts with the exact
test, the summary per tier and type (exact intervals, Wilson proportions, BH q-values),
suppression of small counts, the audit with purpose, and refusals by the policy."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pytest
from sqlalchemy import insert

from peelian.analysis.before_after import (
    NOT_CAUSAL,
    add_months,
    day_windows,
    month_windows,
    pearson_dispersion,
    summarise_windows,
)
from peelian.analysis.stats import bh_adjust, compare_counts, wilson_interval
from peelian.casework.interventions import register_intervention
from peelian.casework.outcomes import (
    intervention_outcomes,
    person_outcomes,
    place_outcomes,
    referral_outcomes,
)
from peelian.casework.outcomes_summary import outcome_rows, outcome_summary
from peelian.casework.policy import principal_for
from peelian.casework.referrals import make_referral
from peelian.data.audit import AuditFilter, search, verify
from peelian.data.tables import (
    events,
    ingest_batches,
    ingest_files,
    involvements,
    occurrences,
    persons,
)
from peelian.errors import AuthError, ParameterError

PASSWORD = "a long test passphrase"

FORCE = "northumbria"
LSOA = "E01008305"
#: (crime_ref, reported day, [(person_ref, role)]): the known answers below count these.
CRIMES: list[tuple[str, str, list[tuple[str, str]]]] = [
    ("EDGE1", "2020-01-15", [("P000009", "victim")]),  # first month of data
    ("EDGE2", "2021-12-20", [("P000009", "victim")]),  # last month of data
    # P000001, intervention from 2021-03-01
    ("C1", "2020-05-10", [("P000001", "suspect")]),
    ("C2", "2020-12-01", [("P000001", "offender"), ("P000001", "suspect")]),  # counted once
    ("C3", "2021-03-01", [("P000001", "suspect")]),  # the index day belongs to before
    ("C4", "2021-06-15", [("P000001", "offender")]),
    ("C5", "2021-11-20", [("P000001", "suspect")]),
    ("V1", "2021-02-01", [("P000001", "victim")]),
    ("V2", "2021-04-01", [("P000001", "victim")]),
    ("W1", "2021-05-01", [("P000001", "witness")]),  # not counted
    # P000003, referred 2020-10-01 (12-month before-window starts before the data)
    ("D1", "2020-05-01", [("P000003", "suspect")]),
    ("D2", "2020-06-01", [("P000003", "suspect")]),
    ("D3", "2020-09-30", [("P000003", "offender")]),
    # P000004 and P000005, interventions from 2021-01-01
    *[(f"E{i}", f"2020-{7 + i:02d}-10", [("P000004", "suspect")]) for i in range(1, 5)],
    ("F1", "2020-08-01", [("P000005", "suspect")]),
    ("F2", "2020-11-01", [("P000005", "suspect")]),
    ("F3", "2021-02-01", [("P000005", "suspect")]),
]
PEOPLE = ["P000001", "P000003", "P000004", "P000005", "P000009"]  # P000002 is not a person


def _file(conn: Any, source: str, kind: str) -> int:
    now = dt.datetime(2022, 1, 5)
    batch = conn.execute(
        insert(ingest_batches).returning(ingest_batches.c.id),
        {"source": source, "started_at": now, "finished_at": now, "status": "complete",
         "command": "test", "peelian_version": "test"},
    ).scalar_one()  # fmt: skip
    return int(
        conn.execute(
            insert(ingest_files).returning(ingest_files.c.id),
            {"batch_id": batch, "path": f"{kind}.csv", "kind": kind, "force": FORCE,
             "month": None, "sha256": f"{batch:064d}", "size_bytes": 1, "rows_read": 0,
             "rows_stored": 0, "rows_quarantined": 0, "reasons": {}, "action": "loaded"},
        ).scalar_one()
    )  # fmt: skip


def police_uk_per_month(month: str) -> int:
    """Burglaries recorded in LSOA in a month (known answer): 5 before March 2021, then 2."""
    return 5 if month < "2021-03" else 2


MONTHS = [f"{y}-{m:02d}" for y in (2020, 2021) for m in range(1, 13)]


@pytest.fixture
def force_records(store, orgs) -> Any:
    with store.begin() as conn:
        fid = _file(conn, "force", "occurrences")
        conn.execute(
            insert(persons),
            [{"force": FORCE, "person_ref": p, "birth_year": 2003, "sex": "M",
              "synthetic": True, "file_id": fid, "row_number": i + 1}
             for i, p in enumerate(PEOPLE)],
        )  # fmt: skip
        occ, inv = [], []
        for n, (ref, day, who) in enumerate(CRIMES):
            at = dt.datetime.fromisoformat(day) + dt.timedelta(hours=14)
            occ.append(
                {"force": FORCE, "crime_ref": ref, "ho_code": "8N", "policeuk_category":
                 "Violence and sexual offences", "reported_at": at, "month": day[:7],
                 "time_precision": "minute", "location_precision": "none", "synthetic": True,
                 "file_id": fid, "row_number": n + 1}
            )  # fmt: skip
            inv += [
                {"force": FORCE, "crime_ref": ref, "person_ref": p, "role": role,
                 "file_id": fid, "row_number": n + 1}
                for p, role in who
            ]  # fmt: skip
        conn.execute(insert(occurrences), occ)
        conn.execute(insert(involvements), inv)
        pid = _file(conn, "policeuk", "street")
        rows, r = [], 0
        for month in MONTHS:
            for _ in range(police_uk_per_month(month)):
                r += 1
                rows.append(
                    {"source": "policeuk", "force": FORCE, "month": month, "crime_id": f"x{r}",
                     "category": "Burglary", "lsoa_code": LSOA, "lsoa_vintage": 2021,
                     "time_precision": "month", "location_precision": "snapped",
                     "file_id": pid, "row_number": r}
                )  # fmt: skip
        conn.execute(insert(events), rows)
    return store


def _person_iv(store: Any, ref: str, start: str, **kw: Any) -> dict[str, Any]:
    args = {
        "title": f"Diversion for {ref}",
        "tier": "secondary",
        "intervention_type": "diversion_pathway",
        "target_kind": "person",
        "target_ref": ref,
        "start_date": start,
        "purpose": "diversion panel",
    }
    return register_intervention(store, principal_for(store, "safe1"), **{**args, **kw})


# -- pure windows ----------------------------------------------------------------------------


def test_windows_are_calendar_months_and_complete_only_inside_the_data() -> None:
    assert add_months(dt.date(2021, 8, 31), 6) == dt.date(2022, 2, 28)
    w = day_windows(dt.date(2021, 3, 1), 6, ("2020-01", "2021-12"))
    assert (w["before_from"], w["after_to"]) == (dt.date(2020, 9, 1), dt.date(2021, 9, 1))
    assert w["before_complete"] and w["after_complete"]
    w = day_windows(dt.date(2021, 3, 1), 12, ("2020-01", "2021-12"))
    assert w["before_complete"] and not w["after_complete"]  # ends 2022-03-01
    assert not day_windows(dt.date(2020, 10, 1), 12, ("2020-01", "2021-12"))["before_complete"]
    # ending exactly on the last day of the data is complete
    assert day_windows(dt.date(2021, 6, 30), 6, ("2020-01", "2021-12"))["after_complete"]
    m = month_windows(dt.date(2021, 3, 15), 6, ("2020-01", "2021-12"))
    assert (m["before_from"], m["before_to"], m["after_from"], m["after_to"]) == (
        "2020-09",
        "2021-02",
        "2021-04",
        "2021-09",
    )
    assert not month_windows(dt.date(2021, 3, 15), 12, ("2020-01", "2021-12"))["after_complete"]
    with pytest.raises(ParameterError):
        day_windows(dt.date(2021, 1, 1), 0, None)


def test_dispersion_and_a_group_summary_have_known_values() -> None:
    # unit levels fitted: [2,4,2] vs [1,0,1] -> chi2 1/3 + 1 + 1/3 on 3 - 1 df
    assert pearson_dispersion(np.array([2, 4, 2]), np.array([1, 0, 1])) == pytest.approx(5 / 6)
    # units without events leave the degrees of freedom
    assert pearson_dispersion(np.array([2, 4, 2, 0]), np.array([1, 0, 1, 0])) == pytest.approx(
        5 / 6
    )
    # a unit that rises and one that falls: 10/16 of events before; chi2 = 10 + 6 on 1 df
    b, a = np.array([0, 10]), np.array([6, 0])
    phi = 16.0
    assert pearson_dispersion(b, a) == pytest.approx(phi)
    import pandas as pd

    counts = pd.DataFrame(
        {
            "g": ["x", "x"],
            "months": [6, 6],
            "before": b,
            "after": a,
            "before_complete": [True, True],
            "after_complete": [True, True],
        }
    )
    [row] = summarise_windows(counts, ["g", "months"], ["months"]).to_dict("records")
    want = compare_counts(6, 10, 12, 12, dispersion=row["dispersion"])
    assert row["dispersion"] == pytest.approx(phi)
    assert row["p_value"] == want.p_value_adjusted and row["p_value_exact"] == want.p_value
    assert (row["ci_low"], row["ci_high"]) == want.ci_ratio_adjusted


# -- one person ------------------------------------------------------------------------------


def test_a_persons_offending_and_victimisation_before_and_after(force_records) -> None:
    store = force_records
    iv = _person_iv(store, "P000001", "2021-03-01")
    out = person_outcomes(
        store, principal_for(store, "safe1"), intervention_id=iv["id"], purpose="panel review"
    )
    assert out["in_force_records"] and out["coverage"] == {"first": "2020-01", "last": "2021-12"}
    assert out["not_causal"] == NOT_CAUSAL and out["synthetic"] is True
    six, twelve = out["windows"]
    assert (six["offending"]["before"], six["offending"]["after"]) == (2, 1)  # C2 C3 | C4
    assert (six["victimisation"]["before"], six["victimisation"]["after"]) == (1, 1)
    assert six["complete"] and six["offending"]["change"] == -1
    assert (twelve["offending"]["before"], twelve["offending"]["after"]) == (3, 2)
    # the 12-month after-window ends 2022-03-01, after the data: shown so far, never compared
    assert not twelve["complete"] and twelve["offending"]["change"] is None
    assert twelve["offending"]["after_so_far"] is True
    assert "not complete yet" in twelve["offending"]["status"]
    [entry] = search(store, AuditFilter(action="outcome.read"))
    assert (entry["username"], entry["record_kind"], entry["record_id"], entry["purpose"]) == (
        "safe1",
        "intervention",
        str(iv["id"]),
        "panel review",
    )
    assert verify(store).ok


def test_a_person_not_in_the_force_records_is_not_counted_as_no_offending(force_records) -> None:
    store = force_records
    iv = _person_iv(store, "P000002", "2021-03-01")
    out = intervention_outcomes(store, principal_for(store, "safe1"), iv["id"], purpose="check")
    assert out["tracked"] and out["in_force_records"] is False and out["windows"] == []
    assert "not in the force records" in out["note"]


def test_a_referrals_outcomes_and_an_incomplete_before_window(force_records, orgs) -> None:
    store = force_records
    safe = principal_for(store, "safe1")
    ref = make_referral(
        store,
        safe,
        person_ref="P000003",
        organisation_id=orgs["csp"]["id"],
        reason="youth diversion",
        consent="given",
        purpose="referral",
        referred_on="2020-10-01",
    )
    out = referral_outcomes(store, safe, ref["id"], purpose="referral follow-up")
    six, twelve = out["windows"]
    assert (six["offending"]["before"], six["offending"]["after"], six["complete"]) == (3, 0, True)
    assert not twelve["before_complete"] and twelve["offending"]["change"] is None
    assert "starts before the force records" in twelve["offending"]["status"]
    [entry] = search(store, AuditFilter(action="outcome.read"))
    assert (entry["record_kind"], entry["purpose"]) == ("referral", "referral follow-up")


def test_person_outcomes_need_a_purpose_and_the_right_to_read_people(force_records) -> None:
    store = force_records
    iv = _person_iv(store, "P000001", "2021-03-01")
    with pytest.raises(ParameterError, match="purpose"):
        person_outcomes(store, principal_for(store, "safe1"), intervention_id=iv["id"], purpose="")
    for who in ("analyst1", "viewer1", "audit1", "health1"):
        with pytest.raises(AuthError):
            person_outcomes(
                store, principal_for(store, who), intervention_id=iv["id"], purpose="curious"
            )
    assert search(store, AuditFilter(action="outcome.read")) == []


# -- one place -------------------------------------------------------------------------------


def test_a_places_crime_before_and_after_with_the_exact_test(force_records) -> None:
    store = force_records
    iv = register_intervention(
        store,
        principal_for(store, "analyst1"),
        title="Alley gating",
        tier="primary",
        intervention_type="design_out_crime",
        target_kind="place",
        target_ref=LSOA,
        start_date="2021-03-15",
    )
    out = place_outcomes(store, principal_for(store, "viewer1"), iv["id"])
    six, twelve = out["windows"]
    assert (six["before"], six["after"]) == (30, 12)
    want = compare_counts(12, 30, 6, 6).to_dict()
    assert six["comparison"]["p_value"] == want["p_value"]
    assert six["comparison"]["ci_ratio"] == want["ci_ratio"]
    assert (twelve["before"], twelve["after"], twelve["complete"]) == (60, 18, False)
    assert twelve["comparison"] is None
    with pytest.raises(AuthError):
        place_outcomes(store, principal_for(store, "audit1"), iv["id"])


# -- the summary -----------------------------------------------------------------------------


def _caseload(store: Any, orgs: dict[str, Any]) -> dict[str, Any]:
    ivs = {
        ref: _person_iv(store, ref, start)
        for ref, start in (("P000001", "2021-03-01"), ("P000004", "2021-01-01"))
    }
    ivs["P000005"] = _person_iv(store, "P000005", "2021-01-01")
    make_referral(  # same person and group as an intervention: one unit (earliest date)
        store,
        principal_for(store, "safe1"),
        person_ref="P000001",
        organisation_id=orgs["csp"]["id"],
        reason="mentoring",
        consent="given",
        purpose="referral",
        referred_on="2021-03-10",
        intervention_id=ivs["P000001"]["id"],
    )
    return ivs


def test_the_summary_per_tier_and_type_with_exact_intervals(force_records, orgs) -> None:
    store = force_records
    _caseload(store, orgs)
    out = outcome_summary(store, principal_for(store, "super1"))
    vol = {(v["tier"], v["intervention_type"]): v for v in out["volumes"]}
    div = vol[("secondary", "diversion_pathway")]
    assert (div["interventions"], div["person_interventions"], div["referrals"]) == (3, 3, 1)
    assert (div["people"], div["people_in_force_records"]) == (3, 3)
    assert vol[("primary", "patrol")]["interventions"] == 0  # zero rows keep denominators
    rows = {(r["measure"], r["months"]): r for r in out["people"]}
    off6 = rows[("offending", 6)]
    # P000001 2 -> 1, P000004 4 -> 0, P000005 2 -> 1
    assert (off6["units"], off6["complete"], off6["before"], off6["after"]) == (3, 3, 8, 2)
    want = compare_counts(2, 8, 18, 18)  # dispersion 5/6 < 1: not widened
    assert off6["dispersion"] == 1.0 and off6["p_value"] == want.p_value
    assert (off6["ci_low"], off6["ci_high"]) == want.ci_ratio
    assert off6["rate_ratio"] == pytest.approx(0.25)
    low, high = wilson_interval(1, 3)
    assert (off6["none_after"], off6["complete"], off6["none_after_share"]) == (1, 3, 1 / 3)
    assert (off6["none_after_ci_low"], off6["none_after_ci_high"]) == (float(low), float(high))
    assert (off6["stopped"], off6["any_before"]) == (1, 3)
    # one group per family: BH leaves p unchanged
    assert off6["q_value"] == pytest.approx(float(bh_adjust([want.p_value])[0]))
    off12 = rows[("offending", 12)]  # every 12-month after-window runs past 2021-12
    assert (off12["complete"], off12["incomplete"], off12["p_value"]) == (0, 3, None)
    assert out["not_causal"] == NOT_CAUSAL and out["synthetic"] is True
    [entry] = search(store, AuditFilter(action="outcome.summary"))
    assert entry["username"] == "super1"


def test_small_counts_are_hidden_for_roles_without_person_access(force_records, orgs) -> None:
    store = force_records
    _caseload(store, orgs)
    out = outcome_summary(store, principal_for(store, "viewer1"), hide_below=5)
    assert "Referrals are not included" in " ".join(out["notes"])
    off6 = next(r for r in out["people"] if (r["measure"], r["months"]) == ("offending", 6))
    # after = 2 and none_after = 1 are small: they and what reveals them are hidden
    assert off6["after"] is None and off6["before"] is None and off6["p_value"] is None
    assert off6["none_after"] is None and off6["none_after_share"] is None
    assert off6["complete"] == 3  # a volume of casework records, not a person count
    assert "after" in off6["suppressed"].split(";")
    seen = outcome_summary(store, principal_for(store, "super1"))
    full = next(r for r in seen["people"] if (r["measure"], r["months"]) == ("offending", 6))
    assert full["after"] == 2 and full["suppressed"] is None
    with pytest.raises(AuthError):
        outcome_summary(store, principal_for(store, "audit1"))


def test_outcome_rows_put_people_and_places_in_one_table(force_records, orgs) -> None:
    store = force_records
    _caseload(store, orgs)
    register_intervention(
        store,
        principal_for(store, "analyst1"),
        title="Alley gating",
        tier="primary",
        intervention_type="design_out_crime",
        target_kind="place",
        target_ref=LSOA,
        start_date="2021-03-15",
    )
    out = outcome_summary(store, principal_for(store, "super1"), export=True)
    place = next(r for r in out["places"] if r["months"] == 6)
    assert (place["before"], place["after"], place["complete"]) == (30, 12, 1)
    want = compare_counts(12, 30, 6, 6)
    assert (place["ci_low"], place["ci_high"]) == want.ci_ratio
    rows = outcome_rows(out)
    assert {r["target"] for r in rows} == {"people", "places"}
    assert len(search(store, AuditFilter(action="outcome.export"))) == 1


# -- the JSON API ----------------------------------------------------------------------------


def _login(client: Any, username: str) -> str:
    client.get("/login")
    token = client.cookies.get("peelian_csrf") or ""
    r = client.post(
        "/login",
        data={"username": username, "password": PASSWORD, "csrf_token": token, "next": "/"},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text[:200]
    return client.cookies.get("peelian_csrf") or ""


def test_the_api_asks_a_purpose_audits_and_hides_small_counts(
    force_records, orgs, tmp_path
) -> None:
    from fastapi.testclient import TestClient

    from peelian.config import Settings
    from peelian.web import create_app

    store = force_records
    ivs = _caseload(store, orgs)
    settings = Settings(data_dir=tmp_path, env="test", secret_key="test-secret-" + "x" * 32)
    app = create_app(settings, store=store)
    url = f"/api/casework/interventions/{ivs['P000001']['id']}/outcomes"
    with TestClient(app, raise_server_exceptions=False) as safe:
        token = _login(safe, "safe1")
        assert safe.post(url, json={"purpose": "x"}).status_code == 403  # no CSRF header
        h = {"X-CSRF-Token": token}
        r = safe.post(url, json={}, headers=h)
        assert r.status_code == 422 and "purpose" in r.text
        r = safe.post(url, json={"purpose": "panel review"}, headers=h)
        assert r.status_code == 200, r.text
        six = r.json()["windows"][0]
        assert (six["offending"]["before"], six["offending"]["after"]) == (2, 1)
        csv = safe.get("/api/casework/outcomes/summary", params={"format": "csv"})
        assert csv.status_code == 200 and csv.text.splitlines()[0].startswith("target,tier,")
    with TestClient(app, raise_server_exceptions=False) as analyst:
        h = {"X-CSRF-Token": _login(analyst, "analyst1")}
        assert analyst.post(url, json={"purpose": "curious"}, headers=h).status_code == 403
        body = analyst.get("/api/casework/outcomes/summary").json()  # analyst sees small counts
        off6 = next(r for r in body["people"] if (r["measure"], r["months"]) == ("offending", 6))
        assert off6["after"] == 2
    with TestClient(app, raise_server_exceptions=False) as viewer:
        _login(viewer, "viewer1")
        body = viewer.get("/api/casework/outcomes/summary").json()
        off6 = next(r for r in body["people"] if (r["measure"], r["months"]) == ("offending", 6))
        assert off6["after"] is None and body["suppressed_below"] == 5
    reads = search(store, AuditFilter(action="outcome.read"))
    assert [(e["username"], e["purpose"]) for e in reads] == [("safe1", "panel review")]
    assert len(search(store, AuditFilter(action="outcome.export"))) == 1


# -- the command line ------------------------------------------------------------------------


def test_the_cli_prints_the_summary_and_asks_a_purpose(force_records, orgs, db_url, tmp_path):  # type: ignore[no-untyped-def]
    import json

    from typer.testing import CliRunner

    from peelian.cli import app

    store = force_records
    ivs = _caseload(store, orgs)
    runner = CliRunner()
    r = runner.invoke(app, ["casework", "outcomes", "--db", db_url, "--json"])
    assert r.exit_code == 0, r.output
    body = json.loads(r.stdout)
    off6 = next(x for x in body["people"] if (x["measure"], x["months"]) == ("offending", 6))
    assert (off6["before"], off6["after"], off6["complete"]) == (8, 2, 3)  # admin sees all
    one = ["casework", "outcomes", "--db", db_url, "--intervention", str(ivs["P000004"]["id"])]
    r = runner.invoke(app, one)
    assert r.exit_code != 0 and "purpose" in r.output
    r = runner.invoke(app, [*one, "--purpose", "panel review", "--json"])
    assert r.exit_code == 0, r.output
    six = json.loads(r.stdout)["windows"][0]
    assert (six["offending"]["before"], six["offending"]["after"]) == (4, 0)
    out = tmp_path / "outcomes.csv"
    r = runner.invoke(app, ["casework", "outcomes", "--db", db_url, "--out", str(out)])
    assert r.exit_code == 0 and out.read_text().startswith("target,tier,tier_label,")
    actions = [e["action"] for e in search(store, AuditFilter(username="cli"))]
    assert actions.count("outcome.read") == 1 and actions.count("outcome.export") == 1
