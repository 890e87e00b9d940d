"""``peelian offences``: the offence vocabulary (sets, serious violence types, codes)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from peelian.cli._common import JsonOption, console, handle_errors, print_json

__all__ = ["register"]

offences_app = typer.Typer(
    help="Offence vocabulary: named offence sets, serious violence types, Home Office codes.",
    no_args_is_help=True,
)

CspOption = Annotated[
    str | None,
    typer.Option("--csp", help="Community Safety Partnership (GSS code) whose override applies."),
]
OverridesOption = Annotated[
    Path | None,
    typer.Option("--overrides", help="Your own override file (Serious Violence Duty)."),
]


@offences_app.command("list")
@handle_errors
def list_(csp: CspOption = None, overrides: OverridesOption = None, as_json: JsonOption = False):
    """List the named offence sets and the serious violence types."""
    from peelian import offences as off

    sets = off.offence_sets(csp=csp, overrides=overrides)
    types = off.serious_violence_types(csp, overrides=overrides)
    rows = [s.describe() for s in [*sets.values(), *types.values()]]
    if as_json:
        print_json({"csp": csp, "definitions": rows})
        return
    table = Table("name", "kind", "label", "origin", title="Offence definitions")
    for r in rows:
        table.add_row(r["name"], r["kind"], r["label"], r["origin"])
    console.print(table)


@offences_app.command("show")
@handle_errors
def show(
    name: Annotated[str, typer.Argument(help="e.g. knife-crime, neighbourhood-crime")],
    csp: CspOption = None,
    overrides: OverridesOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show one offence set or serious violence type: definition, codes, flags, source."""
    from peelian import offences as off

    info = off.offence_set(name, csp=csp, overrides=overrides).describe()
    if as_json:
        print_json(info)
        return
    console.print(f"[bold]{info['label']}[/] ({info['name']}, {info['kind']})")
    console.print(info["description"])
    console.print(f"definition: {info['definition']}")
    codes = info["codes"]
    console.print(f"Home Office codes: {', '.join(codes) if codes is not None else 'by category'}")
    console.print(f"flags: {', '.join(info['flags']) or 'none'}")
    console.print(f"needs the people involved: {'yes' if info['needs_involvements'] else 'no'}")
    console.print(f"version {info['version']}; {info['origin']}; source: {info['source']}")


@offences_app.command("codes")
@handle_errors
def codes(as_json: JsonOption = False) -> None:
    """List the Home Office offence codes with their ONS subgroup and police.uk category."""
    from peelian import offences as off

    frame = off.home_office_codes()
    if as_json:
        print_json(
            {
                "provenance": off.taxonomy_provenance()["home_office_codes"],
                "codes": frame.to_dict("records"),
            }
        )
        return
    table = Table("code", "label", "ONS subgroup", "police.uk category", "knife flag", "verified")
    for r in frame.itertuples():
        table.add_row(
            r.code,
            r.label,
            r.ons_subgroup,
            r.policeuk_category,
            "yes" if r.knife_flag_eligible else "",
            r.verified,
        )
    console.print(table)


def register(app: typer.Typer) -> None:
    app.add_typer(offences_app, name="offences")
