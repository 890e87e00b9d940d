"""``peelian casework referrals``: make, list, show, update and export referrals. Every command
needs ``--purpose`` (referrals name people); the command line acts as an admin and every read,
change and export is audited as ``cli``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from peelian.cli._common import DbOption, JsonOption, console, handle_errors, print_json, store_for

__all__ = ["referrals_app"]

referrals_app = typer.Typer(help="Referrals of people to partner organisations (person-level).")

PurposeOpt = Annotated[
    str | None, typer.Option("--purpose", help="Why you need it (required; audited).")
]
VersionOpt = Annotated[
    int, typer.Option("--version", help="The version you read (optimistic locking).")
]
OutOpt = Annotated[
    Path | None, typer.Option("--out", help="CSV file to write (default: standard output).")
]


@referrals_app.command("add")
@handle_errors
def referral_add(
    person: Annotated[str, typer.Argument(help="The person's pseudonymised person_ref.")],
    to: Annotated[int, typer.Option("--to", help="Id of the organisation referred to.")],
    reason: Annotated[str, typer.Option("--reason", help="Why this person, to this service.")],
    consent: Annotated[str, typer.Option("--consent", help="given, refused or not_sought.")],
    consent_note: Annotated[
        str | None,
        typer.Option("--consent-note", help="Why consent was refused or not sought."),
    ] = None,
    on: Annotated[str | None, typer.Option("--on", help="Date referred (today).")] = None,
    intervention: Annotated[
        int | None, typer.Option("--intervention", help="Linked intervention id.")
    ] = None,
    purpose: PurposeOpt = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Make a referral."""
    from peelian.casework.organisations import SYSTEM
    from peelian.casework.referrals import make_referral

    r = make_referral(
        store_for(db),
        SYSTEM,
        person_ref=person,
        organisation_id=to,
        reason=reason,
        consent=consent,
        consent_note=consent_note,
        referred_on=on,
        intervention_id=intervention,
        purpose=purpose,
    )
    if as_json:
        print_json(r)
    else:
        console.print(f"Referral {r['id']} to {r['organisation']} made (version {r['version']}).")


@referrals_app.command("list")
@handle_errors
def referral_list(
    status: Annotated[
        str | None,
        typer.Option("--status", help="made, accepted, declined, in_progress or closed."),
    ] = None,
    to: Annotated[int | None, typer.Option("--to", help="Organisation referred to.")] = None,
    person: Annotated[str | None, typer.Option("--person", help="A person_ref.")] = None,
    purpose: PurposeOpt = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """List referrals (audited)."""
    from peelian.casework.organisations import SYSTEM
    from peelian.casework.referrals import list_referrals

    found = list_referrals(
        store_for(db), SYSTEM, purpose=purpose, status=status, organisation_id=to, person_ref=person
    )
    if as_json:
        print_json(found)
        return
    table = Table("id", "person", "to", "referred", "consent", "status", "version")
    for r in found["rows"]:
        table.add_row(
            str(r["id"]),
            str(r["person_ref"]),
            str(r["organisation"]),
            str(r["referred_on"]),
            r["consent_label"],
            r["status_label"],
            str(r["version"]),
        )
    console.print(
        table if found["rows"] else "No referrals match: `peelian casework referrals add`."
    )


@referrals_app.command("show")
@handle_errors
def referral_show(
    referral: Annotated[int, typer.Argument(help="The referral's id.")],
    purpose: PurposeOpt = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show one referral (audited)."""
    from peelian.casework.organisations import SYSTEM
    from peelian.casework.referrals import get_referral

    r = get_referral(store_for(db), SYSTEM, referral, purpose=purpose)
    if as_json:
        print_json(r)
        return
    console.print(f"[bold]Referral {r['id']}[/] of {r['person_ref']} to {r['organisation']}")
    console.print(f"{r['referred_on']} by {r['referred_by']}: {r['reason']}")
    console.print(f"{r['consent_label']}; {r['status_label']}; outcome: {r['outcome'] or '-'}")


@referrals_app.command("update")
@handle_errors
def referral_update(
    referral: Annotated[int, typer.Argument(help="The referral's id.")],
    version: VersionOpt,
    status: Annotated[str | None, typer.Option("--status", help="The next status.")] = None,
    outcome: Annotated[str | None, typer.Option("--outcome", help="What came of it.")] = None,
    purpose: PurposeOpt = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Move a referral's status or record its outcome."""
    from peelian.casework.organisations import SYSTEM
    from peelian.casework.referrals import update_referral

    r = update_referral(
        store_for(db), SYSTEM, referral, version, purpose=purpose, status=status, outcome=outcome
    )
    if as_json:
        print_json(r)
    else:
        console.print(f"Referral {r['id']}: {r['status_label']} (version {r['version']}).")


@referrals_app.command("export")
@handle_errors
def referral_export(out: OutOpt = None, purpose: PurposeOpt = None, db: DbOption = None) -> None:
    """Export referrals as CSV (needs --purpose; the export is audited)."""
    from peelian.casework.organisations import SYSTEM
    from peelian.casework.referrals import EXPORT_COLUMNS, export_referrals
    from peelian.cli.casework import write_csv

    write_csv(export_referrals(store_for(db), SYSTEM, purpose=purpose), EXPORT_COLUMNS, out)
