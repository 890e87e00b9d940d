"""``peelian people``: the CLI contract of ``rfg --cohort matac --as-of ... --json`` on a small
store with known answers, audited with the purpose; de-selection and tasking through the CLI."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from peelian.cli import app
from peelian.data.audit import AuditFilter, search
from people_seed import AS_OF, MATAC_PEOPLE, seed_people

runner = CliRunner()


def _run(db_url: str, *args: str) -> dict:
    result = runner.invoke(app, [*args, "--db", db_url, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_rfg_matac_json_contract(store, db_url) -> None:
    seed_people(store)
    out = _run(db_url, "people", "rfg", "--cohort", "matac", "--as-of", str(AS_OF))
    assert [p["person_ref"] for p in out["people"]] == MATAC_PEOPLE  # P-A scores higher
    a = out["people"][0]
    for key in ("person_ref", "score", "recency", "frequency", "gravity", "victims"):
        assert key in a
    # P-A: newest 10 days before (5 points), 2 records (2), harm 365 + 10 = 375 (4), 2 victims
    assert (a["recency"], a["frequency"], a["gravity"], a["victims"], a["score"]) == (
        5.0,
        2.0,
        4.0,
        2.0,
        13.0,
    )
    assert a["crime_refs"] == ["C-A1", "C-A2"] and a["victim_count"] == 2
    assert out["illustrative"] is True and out["synthetic"] is True
    assert out["excluded"]["fewer than 2 different victims on the qualifying records"] == 1
    entries = search(store, AuditFilter(action="people.list"))
    assert entries[0]["record_id"] == "matac"
    assert entries[0]["purpose"] == "command line: peelian people rfg"


def test_deselect_then_tasking_says_who_left_and_why(store, db_url) -> None:
    seed_people(store)
    first = _run(
        db_url,
        "people",
        "tasking",
        "--cohort",
        "matac",
        "--as-of",
        "2022-06-02",
        "--save",
        "--purpose",
        "MATAC tasking 2 June",
    )
    assert first["previous"] is None and first["saved_run"] is not None
    # on 2 June P-U's first record (2019-06-29) is still in the window; P-A's 2nd is later
    assert {r["person_ref"] for r in first["entered"]} == {"P-T", "P-U"}
    d = _run(
        db_url,
        "people",
        "deselect",
        "P-T",
        "--reason",
        "custody",
        "--from",
        "2022-06-10",
        "--purpose",
        "remanded",
    )
    assert d["reason"] == "custody"
    second = _run(db_url, "people", "tasking", "--cohort", "matac", "--as-of", str(AS_OF))
    assert second["previous"]["as_of"] == "2022-06-02"
    assert [(r["person_ref"], r["why"]) for r in second["entered"]] == [
        ("P-A", "meets the rule: 2 qualifying records, 2 victims")
    ]
    assert sorted((r["person_ref"], r["why"]) for r in second["left"]) == [
        ("P-T", "de-selected: In custody (recorded, from 2022-06-10)"),
        ("P-U", "no longer meets the rule: fewer than 2 qualifying records in the window"),
    ]


def test_unknown_cohort_says_which_exist(store, db_url) -> None:
    result = runner.invoke(app, ["people", "rfg", "--cohort", "nope", "--db", db_url])
    assert result.exit_code != 0
    assert "matac" in result.output
