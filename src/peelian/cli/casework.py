"""``peelian casework``: organisations, data-sharing agreements and SARA problems.

The command line acts as an admin (whoever can run it can open the database); every change is
written to the audit log as ``cli``.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from peelian.cli._common import DbOption, JsonOption, console, handle_errors, print_json, store_for

__all__ = ["register"]

casework_app = typer.Typer(
    help="Casework: organisations, data-sharing agreements, problems (SARA).",
    no_args_is_help=True,
)
orgs_app = typer.Typer(help="Organisations (the force, its commands, partners).")
agreements_app = typer.Typer(help="Data-sharing agreements between organisations.")
casework_app.add_typer(orgs_app, name="organisations", no_args_is_help=True)
casework_app.add_typer(agreements_app, name="agreements", no_args_is_help=True)
problems_app = typer.Typer(help="Problems worked through SARA.")
casework_app.add_typer(problems_app, name="problems", no_args_is_help=True)

OutOpt = Annotated[
    Path | None, typer.Option("--out", help="CSV file to write (default: standard output).")
]


def write_csv(rows: list[dict[str, Any]], columns: list[str], out: Path | None) -> int:
    """Write ``rows`` (only ``columns``) as CSV to ``out`` or standard output."""
    fh = sys.stdout if out is None else out.open("w", newline="", encoding="utf-8")
    try:
        writer = csv.writer(fh)
        writer.writerow(columns)
        for r in rows:
            writer.writerow(
                [
                    ";".join(map(str, r[c])) if isinstance(r.get(c), list) else r.get(c, "")
                    for c in columns
                ]
            )
    finally:
        if out is not None:
            fh.close()
    return len(rows)


# -- organisations ---------------------------------------------------------------------------


@orgs_app.command("add")
@handle_errors
def org_add(
    name: Annotated[str, typer.Argument(help="The organisation's name.")],
    kind: Annotated[
        str,
        typer.Option(
            "--kind",
            help="force, command, csp, vru, childrens_services, adult_services, health, "
            "education, probation, youth_justice, housing or voluntary.",
        ),
    ],
    parent: Annotated[
        int | None, typer.Option("--parent", help="Id of the parent (e.g. a command's force).")
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Add an organisation."""
    from peelian.casework.organisations import SYSTEM, add_organisation

    org = add_organisation(store_for(db), SYSTEM, name, kind, parent_id=parent)
    if as_json:
        print_json(org)
    else:
        console.print(f"Added organisation {org['id']}: {org['name']} ({org['kind_label']}).")


@orgs_app.command("list")
@handle_errors
def org_list(
    kind: Annotated[str | None, typer.Option("--kind", help="Only this kind.")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """List organisations."""
    from peelian.casework.organisations import SYSTEM, list_organisations

    rows = list_organisations(store_for(db), SYSTEM, kind=kind)
    if as_json:
        print_json({"organisations": rows})
        return
    table = Table("id", "name", "kind", "parent")
    for r in rows:
        table.add_row(str(r["id"]), r["name"], r["kind_label"], str(r["parent_id"] or ""))
    console.print(
        table
        if rows
        else "No organisations yet: add one with `peelian casework "
        "organisations add NAME --kind force`."
    )


@orgs_app.command("export")
@handle_errors
def org_export(out: OutOpt = None, db: DbOption = None) -> None:
    """Export organisations as CSV."""
    from peelian.casework.organisations import SYSTEM, list_organisations

    rows = list_organisations(store_for(db), SYSTEM)
    write_csv(rows, ["id", "name", "kind", "parent_id", "created_at"], out)


@casework_app.command("assign")
@handle_errors
def assign(
    username: Annotated[str, typer.Argument(help="The user's login name.")],
    organisation: Annotated[int, typer.Argument(help="The organisation's id (0: none).")],
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Make a user a member of an organisation (what a partner user sees depends on it)."""
    from peelian.casework.organisations import SYSTEM, assign_user

    assign_user(store_for(db), SYSTEM, username, organisation or None)
    if as_json:
        print_json({"username": username, "organisation_id": organisation or None})
    else:
        console.print(f"{username} now belongs to organisation {organisation or 'none'}.")


# -- agreements ------------------------------------------------------------------------------

_AGREEMENT_COLUMNS = [
    "id",
    "title",
    "purpose",
    "lawful_basis",
    "record_kinds",
    "parties",
    "start_date",
    "end_date",
    "live",
    "version",
]


@agreements_app.command("add")
@handle_errors
def agreement_add(
    title: Annotated[str, typer.Option("--title", help="A short name.")],
    purpose: Annotated[str, typer.Option("--purpose", help="Why the data is shared.")],
    lawful_basis: Annotated[
        str, typer.Option("--lawful-basis", help="E.g. 'DPA 2018 s.35; CDA 1998 s.115'.")
    ],
    kinds: Annotated[
        str, typer.Option("--kinds", help="Record kinds shared, comma-separated (e.g. referral).")
    ],
    party: Annotated[list[int], typer.Option("--party", help="An organisation id (two or more).")],
    start: Annotated[str, typer.Option("--start", help="First day in force (YYYY-MM-DD).")],
    end: Annotated[
        str | None, typer.Option("--end", help="Last day in force (YYYY-MM-DD).")
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Record a data-sharing agreement."""
    from peelian.casework.organisations import SYSTEM, add_agreement

    a = add_agreement(
        store_for(db),
        SYSTEM,
        title=title,
        purpose=purpose,
        lawful_basis=lawful_basis,
        record_kinds=kinds.split(","),
        party_ids=party,
        start_date=start,
        end_date=end,
    )
    if as_json:
        print_json(a)
    else:
        console.print(
            f"Added agreement {a['id']}: {a['title']} between {', '.join(a['parties'])} "
            f"({'live' if a['live'] else 'not live'} today)."
        )


@agreements_app.command("list")
@handle_errors
def agreement_list(
    live: Annotated[bool, typer.Option("--live", help="Only agreements live today.")] = False,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """List data-sharing agreements."""
    from peelian.casework.organisations import SYSTEM, list_agreements

    rows = list_agreements(store_for(db), SYSTEM, live_only=live)
    if as_json:
        print_json({"agreements": rows})
        return
    table = Table("id", "title", "parties", "shares", "from", "to", "live")
    for r in rows:
        table.add_row(
            str(r["id"]),
            r["title"],
            ", ".join(r["parties"]),
            ", ".join(r["record_kind_labels"]),
            str(r["start_date"]),
            str(r["end_date"] or "open"),
            "yes" if r["live"] else "no",
        )
    console.print(table if rows else "No agreements yet: `peelian casework agreements add`.")


@agreements_app.command("end")
@handle_errors
def agreement_end(
    agreement: Annotated[int, typer.Argument(help="The agreement's id.")],
    on: Annotated[str, typer.Option("--on", help="Its last day in force (YYYY-MM-DD).")],
    version: Annotated[
        int, typer.Option("--version", help="The version you read (from `agreements list`).")
    ],
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """End an agreement on a date (fails if someone changed it since you read its version)."""
    from peelian.casework.organisations import SYSTEM, update_agreement

    a = update_agreement(store_for(db), SYSTEM, agreement, version, end_date=on)
    if as_json:
        print_json(a)
    else:
        console.print(f"Agreement {a['id']} now ends on {a['end_date']} (version {a['version']}).")


@agreements_app.command("export")
@handle_errors
def agreement_export(out: OutOpt = None, db: DbOption = None) -> None:
    """Export data-sharing agreements as CSV."""
    from peelian.casework.organisations import SYSTEM, list_agreements

    write_csv(list_agreements(store_for(db), SYSTEM), _AGREEMENT_COLUMNS, out)


# -- problems --------------------------------------------------------------------------------

PurposeOpt = Annotated[
    str | None,
    typer.Option("--purpose", help="Why (needed for problems naming people; audited)."),
]
VersionOpt = Annotated[
    int, typer.Option("--version", help="The version you read (optimistic locking).")
]
_PROBLEM_COLUMNS = [
    "id",
    "title",
    "focus",
    "names_people",
    "stage",
    "status",
    "organisation",
    "owner",
    "area_code",
    "review_date",
    "opened_at",
    "closed_at",
    "result",
    "version",
]


@problems_app.command("open")
@handle_errors
def problem_open(
    title: Annotated[str, typer.Argument(help="A short name for the problem.")],
    focus: Annotated[str, typer.Option("--focus", help="place, group or theme.")] = "place",
    area: Annotated[str | None, typer.Option("--area", help="LSOA or area code.")] = None,
    organisation: Annotated[
        int | None, typer.Option("--organisation", help="Owning organisation id.")
    ] = None,
    hotspot_run: Annotated[
        int | None, typer.Option("--hotspot-run", help="Evidence: a hotspot run id.")
    ] = None,
    measure: Annotated[str | None, typer.Option("--measure", help="Evidence: a measure.")] = None,
    emerging: Annotated[
        str | None, typer.Option("--emerging", help="Evidence: an emerging-hotspot class.")
    ] = None,
    review: Annotated[str | None, typer.Option("--review", help="Review date.")] = None,
    names_people: Annotated[
        bool, typer.Option("--names-people", help="The record names people.")
    ] = False,
    purpose: PurposeOpt = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Open a problem at the scanning stage."""
    from peelian.casework.organisations import SYSTEM
    from peelian.casework.problems import open_problem

    evidence = {"hotspot_run_id": hotspot_run, "measure": measure, "emerging_class": emerging}
    p = open_problem(
        store_for(db),
        SYSTEM,
        title=title,
        focus=focus,
        area_code=area,
        organisation_id=organisation,
        evidence={k: v for k, v in evidence.items() if v is not None} or None,
        review_date=review,
        names_people=names_people,
        purpose=purpose,
    )
    if as_json:
        print_json(p)
    else:
        console.print(f"Opened problem {p['id']}: {p['title']} (version {p['version']}).")


@problems_app.command("list")
@handle_errors
def problem_list(
    status: Annotated[str | None, typer.Option("--status", help="open, on_hold, closed.")] = None,
    stage: Annotated[str | None, typer.Option("--stage", help="A SARA stage.")] = None,
    text: Annotated[str | None, typer.Option("--text", help="Text in title or area.")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """List problems."""
    from peelian.casework.organisations import SYSTEM
    from peelian.casework.problems import list_problems

    found = list_problems(store_for(db), SYSTEM, status=status, stage=stage, text=text)
    if as_json:
        print_json(found)
        return
    table = Table("id", "title", "stage", "status", "review", "version")
    for r in found["rows"]:
        table.add_row(
            str(r["id"]),
            r["title"],
            r["stage_label"],
            r["status_label"],
            str(r["review_date"] or ""),
            str(r["version"]),
        )
    console.print(
        table if found["rows"] else "No problems match: `peelian casework problems open`."
    )


@problems_app.command("show")
@handle_errors
def problem_show(
    problem: Annotated[int, typer.Argument(help="The problem's id.")],
    purpose: PurposeOpt = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show one problem with its actions and assessment."""
    from peelian.casework.organisations import SYSTEM
    from peelian.casework.problems import get_problem

    p = get_problem(store_for(db), SYSTEM, problem, purpose=purpose)
    if as_json:
        print_json(p)
        return
    console.print(f"[bold]{p['id']}: {p['title']}[/] ({p['focus_label']}; version {p['version']})")
    console.print(f"Stage {p['stage_label']}, {p['status_label']}; review {p['review_date']}")
    for a in p["actions"]:
        console.print(
            f"  action {a['id']}: {a['description']} [{a['status_label']}] due {a['due_date']}"
        )
    if p["assessment"]:
        console.print(f"Assessment: {p['assessment']['verdict']}")


@problems_app.command("update")
@handle_errors
def problem_update(
    problem: Annotated[int, typer.Argument(help="The problem's id.")],
    version: VersionOpt,
    stage: Annotated[str | None, typer.Option("--stage", help="Move to this SARA stage.")] = None,
    status: Annotated[str | None, typer.Option("--status", help="open or on_hold.")] = None,
    review: Annotated[str | None, typer.Option("--review", help="New review date.")] = None,
    purpose: PurposeOpt = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Move a problem's stage, status or review date."""
    from peelian.casework.organisations import SYSTEM
    from peelian.casework.problems import update_problem

    p = update_problem(
        store_for(db),
        SYSTEM,
        problem,
        version,
        stage=stage,
        status=status,
        review_date=review,
        purpose=purpose,
    )
    if as_json:
        print_json(p)
    else:
        console.print(
            f"Problem {p['id']}: {p['stage_label']}, {p['status_label']} (version {p['version']})."
        )


@problems_app.command("action")
@handle_errors
def problem_action(
    problem: Annotated[int, typer.Argument(help="The problem's id.")],
    description: Annotated[str, typer.Option("--description", help="What will be done.")],
    owner: Annotated[str | None, typer.Option("--owner", help="Who does it.")] = None,
    organisation: Annotated[
        int | None, typer.Option("--organisation", help="Partner organisation id.")
    ] = None,
    due: Annotated[str | None, typer.Option("--due", help="Due date (YYYY-MM-DD).")] = None,
    purpose: PurposeOpt = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Add a response action to a problem."""
    from peelian.casework.organisations import SYSTEM
    from peelian.casework.problems import add_action

    a = add_action(
        store_for(db),
        SYSTEM,
        problem,
        description=description,
        owner=owner,
        organisation_id=organisation,
        due_date=due,
        purpose=purpose,
    )
    if as_json:
        print_json(a)
    else:
        console.print(f"Added action {a['id']} to problem {problem}.")


@problems_app.command("assess")
@handle_errors
def problem_assess(
    problem: Annotated[int, typer.Argument(help="The problem's id.")],
    version: VersionOpt,
    before: Annotated[str, typer.Option("--before", help="YYYY-MM:YYYY-MM")],
    after: Annotated[str, typer.Option("--after", help="YYYY-MM:YYYY-MM")],
    area: Annotated[list[str], typer.Option("--area", help="An LSOA of the problem.")] = [],  # noqa: B006
    comparison: Annotated[
        list[str], typer.Option("--comparison", help="An LSOA of the comparison area.")
    ] = [],  # noqa: B006
    purpose: PurposeOpt = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Assess a problem: counts before and after against a comparison area (exact tests)."""
    from peelian.casework.assessment import assess_problem
    from peelian.casework.organisations import SYSTEM
    from peelian.errors import ParameterError

    b, a = tuple(before.split(":")), tuple(after.split(":"))
    if len(b) != 2 or len(a) != 2:
        raise ParameterError(
            "--before and --after take FIRST:LAST months.", "E.g. --before 2025-01:2025-06."
        )
    r = assess_problem(
        store_for(db),
        SYSTEM,
        problem,
        version,
        before=b,
        after=a,  # type: ignore[arg-type]
        area_codes=area or None,
        comparison_codes=comparison,
        purpose=purpose,
    )
    if as_json:
        print_json(r)
    else:
        console.print(f"Problem {problem}: {r['verdict']} ({r['area']['narrative']})")


@problems_app.command("close")
@handle_errors
def problem_close(
    problem: Annotated[int, typer.Argument(help="The problem's id.")],
    version: VersionOpt,
    result: Annotated[str, typer.Option("--result", help="What was done and what was found.")],
    purpose: PurposeOpt = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Close a problem with its recorded result."""
    from peelian.casework.organisations import SYSTEM
    from peelian.casework.problems import close_problem

    p = close_problem(store_for(db), SYSTEM, problem, version, result=result, purpose=purpose)
    if as_json:
        print_json(p)
    else:
        console.print(f"Closed problem {p['id']}.")


@problems_app.command("overdue")
@handle_errors
def problem_overdue(db: DbOption = None, as_json: JsonOption = False) -> None:
    """The worklist: problems past their review date and actions past their due date."""
    from peelian.casework.organisations import SYSTEM
    from peelian.casework.problems import overdue

    work = overdue(store_for(db), SYSTEM)
    if as_json:
        print_json(work)
        return
    for r in work["reviews"]:
        console.print(f"Review overdue {r['days_overdue']} days: problem {r['id']} {r['title']}")
    for a in work["actions"]:
        console.print(
            f"Action overdue {a['days_overdue']} days: {a['description']} (problem {a['problem_id']})"
        )
    if not work["reviews"] and not work["actions"]:
        console.print("Nothing overdue.")


@problems_app.command("export")
@handle_errors
def problem_export(out: OutOpt = None, db: DbOption = None) -> None:
    """Export problems as CSV (the export is audited)."""
    from peelian.casework.organisations import SYSTEM
    from peelian.casework.problems import list_problems
    from peelian.data.audit import record

    store = store_for(db)
    rows = list_problems(store, SYSTEM, limit=1_000_000)["rows"]
    # names_people as yes/no, the import's words: a problem naming people re-imports as one
    rows = [{**r, "names_people": "yes" if r.get("names_people") else "no"} for r in rows]
    n = write_csv(rows, _PROBLEM_COLUMNS, out)
    record(store, "cli", "problem.export", record_kind="problem", detail={"rows": n})


@casework_app.command("demo")
@handle_errors
def demo_caseload(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Add a SYNTHETIC demo caseload at the real hotspots, and demo users of several roles."""
    from peelian.casework.demo import seed_caseload

    result = seed_caseload(store_for(db))
    if as_json:
        print_json(result)
        return
    console.print(
        f"Demo caseload (SYNTHETIC): {result['problems']} problems"
        + ("" if result["created"] else " (already there)")
        + ". Demo logins:"
    )
    for username, role, password in result["logins"]:
        console.print(f"  {username} ({role})  password {password}")


def register(app: typer.Typer) -> None:
    from peelian.cli.casework_import import import_records
    from peelian.cli.casework_interventions import interventions_app
    from peelian.cli.casework_outcomes import outcomes
    from peelian.cli.casework_referrals import referrals_app
    from peelian.cli.casework_retention import retention_app

    casework_app.add_typer(retention_app, name="retention", no_args_is_help=True)
    casework_app.add_typer(interventions_app, name="interventions", no_args_is_help=True)
    casework_app.add_typer(referrals_app, name="referrals", no_args_is_help=True)
    casework_app.command("import")(import_records)
    casework_app.command("outcomes")(outcomes)
    app.add_typer(casework_app, name="casework")
