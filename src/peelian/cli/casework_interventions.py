"""``peelian casework interventions``: the interventions registry (register, list, show, update,
end, volumes per tier and type, CSV export). The command line acts as an admin; every change is
audited as ``cli``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from peelian.cli._common import DbOption, JsonOption, console, handle_errors, print_json, store_for

__all__ = ["INTERVENTION_COLUMNS", "interventions_app"]

interventions_app = typer.Typer(help="Interventions: tier, type, target, dates, funding.")

PurposeOpt = Annotated[
    str | None,
    typer.Option("--purpose", help="Why (needed for person and family targets; audited)."),
]
VersionOpt = Annotated[
    int, typer.Option("--version", help="The version you read (optimistic locking).")
]
OutOpt = Annotated[
    Path | None, typer.Option("--out", help="CSV file to write (default: standard output).")
]
#: Columns of the CSV export (person and family targets are never exported: target_hidden).
INTERVENTION_COLUMNS = [
    "id",
    "title",
    "tier",
    "intervention_type",
    "target_kind",
    "target_ref",
    "target_hidden",
    "problem_id",
    "start_date",
    "end_date",
    "owner",
    "organisation",
    "funding_source",
    "version",
]


@interventions_app.command("add")
@handle_errors
def intervention_add(
    title: Annotated[str, typer.Argument(help="A short name for the intervention.")],
    tier: Annotated[str, typer.Option("--tier", help="primary, secondary or tertiary.")],
    kind: Annotated[
        str,
        typer.Option(
            "--type",
            help="early_intervention, diversion_pathway, signposting, focused_deterrence, "
            "safeguarding, design_out_crime, education_programme or patrol.",
        ),
    ],
    target_kind: Annotated[
        str, typer.Option("--target-kind", help="person, family, place or group.")
    ],
    target: Annotated[
        str,
        typer.Option(
            "--target", help="person_ref (person/family), LSOA code or problem:<id> (place)."
        ),
    ],
    start: Annotated[str, typer.Option("--start", help="Start date (YYYY-MM-DD).")],
    end: Annotated[str | None, typer.Option("--end", help="Last day (YYYY-MM-DD).")] = None,
    owner: Annotated[str | None, typer.Option("--owner", help="Who owns it.")] = None,
    organisation: Annotated[
        int | None, typer.Option("--organisation", help="Owning organisation id.")
    ] = None,
    funding: Annotated[str | None, typer.Option("--funding", help="Funding source.")] = None,
    problem: Annotated[int | None, typer.Option("--problem", help="Linked problem id.")] = None,
    purpose: PurposeOpt = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Register an intervention."""
    from peelian.casework.interventions import register_intervention
    from peelian.casework.organisations import SYSTEM

    i = register_intervention(
        store_for(db),
        SYSTEM,
        title=title,
        tier=tier,
        intervention_type=kind,
        target_kind=target_kind,
        target_ref=target,
        start_date=start,
        end_date=end,
        owner=owner,
        organisation_id=organisation,
        funding_source=funding,
        problem_id=problem,
        purpose=purpose,
    )
    if as_json:
        print_json(i)
    else:
        console.print(f"Registered intervention {i['id']}: {i['title']} (version {i['version']}).")


@interventions_app.command("list")
@handle_errors
def intervention_list(
    tier: Annotated[str | None, typer.Option("--tier", help="A prevention tier.")] = None,
    kind: Annotated[str | None, typer.Option("--type", help="An intervention type.")] = None,
    active_on: Annotated[
        str | None, typer.Option("--active-on", help="Only those running on this date.")
    ] = None,
    text: Annotated[str | None, typer.Option("--text", help="Text in title or funding.")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """List interventions (person and family targets are not shown)."""
    from peelian.casework.interventions import list_interventions
    from peelian.casework.organisations import SYSTEM

    found = list_interventions(
        store_for(db), SYSTEM, tier=tier, intervention_type=kind, active_on=active_on, text=text
    )
    if as_json:
        print_json(found)
        return
    table = Table("id", "title", "tier", "type", "target", "start", "end", "version")
    for r in found["rows"]:
        table.add_row(
            str(r["id"]),
            r["title"],
            r["tier_label"],
            r["type_label"],
            r["target_kind_label"] if r["target_hidden"] else str(r["target_ref"]),
            str(r["start_date"]),
            str(r["end_date"] or ""),
            str(r["version"]),
        )
    console.print(
        table if found["rows"] else "No interventions match: `peelian casework interventions add`."
    )


@interventions_app.command("show")
@handle_errors
def intervention_show(
    intervention: Annotated[int, typer.Argument(help="The intervention's id.")],
    purpose: PurposeOpt = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show one intervention (a person or family target only with --purpose; audited)."""
    from peelian.casework.interventions import get_intervention
    from peelian.casework.organisations import SYSTEM

    i = get_intervention(store_for(db), SYSTEM, intervention, purpose=purpose)
    if as_json:
        print_json(i)
        return
    target = "(hidden: give --purpose)" if i["target_hidden"] else i["target_ref"]
    console.print(f"[bold]{i['id']}: {i['title']}[/] (version {i['version']})")
    console.print(f"{i['tier_label']}; {i['type_label']}; {i['target_kind_label']} {target}")
    console.print(
        f"{i['start_date']} to {i['end_date'] or 'ongoing'}; funding {i['funding_source']}"
    )


@interventions_app.command("update")
@handle_errors
def intervention_update(
    intervention: Annotated[int, typer.Argument(help="The intervention's id.")],
    version: VersionOpt,
    end: Annotated[str | None, typer.Option("--end", help="New last day.")] = None,
    owner: Annotated[str | None, typer.Option("--owner", help="New owner.")] = None,
    funding: Annotated[str | None, typer.Option("--funding", help="Funding source.")] = None,
    purpose: PurposeOpt = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Change an intervention's end date, owner or funding."""
    from peelian.casework.interventions import update_intervention
    from peelian.casework.organisations import SYSTEM

    i = update_intervention(
        store_for(db),
        SYSTEM,
        intervention,
        version,
        end_date=end,
        owner=owner,
        funding_source=funding,
        purpose=purpose,
    )
    if as_json:
        print_json(i)
    else:
        console.print(f"Intervention {i['id']} saved (version {i['version']}).")


@interventions_app.command("volumes")
@handle_errors
def intervention_volumes(
    on: Annotated[str | None, typer.Option("--on", help="Active on this date.")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Interventions per tier and type: all, active, personal and place/group targets."""
    import datetime as dt

    from peelian.casework.interventions import volumes
    from peelian.casework.organisations import SYSTEM

    rows = volumes(store_for(db), SYSTEM, on=dt.date.fromisoformat(on) if on else None)
    if as_json:
        print_json({"volumes": rows})
        return
    table = Table("tier", "type", "interventions", "active", "person/family", "place/group")
    for r in rows:
        table.add_row(
            r["tier_label"],
            r["type_label"],
            str(r["interventions"]),
            str(r["active"]),
            str(r["personal_targets"]),
            str(r["place_or_group_targets"]),
        )
    console.print(table)


@interventions_app.command("export")
@handle_errors
def intervention_export(out: OutOpt = None, db: DbOption = None) -> None:
    """Export interventions as CSV, without person or family targets (the export is audited)."""
    from peelian.casework.interventions import list_interventions
    from peelian.casework.organisations import SYSTEM
    from peelian.cli.casework import write_csv
    from peelian.data.audit import record

    store = store_for(db)
    rows = list_interventions(store, SYSTEM, limit=1_000_000)["rows"]
    n = write_csv(rows, INTERVENTION_COLUMNS, out)
    record(store, "cli", "intervention.export", record_kind="intervention", detail={"rows": n})
