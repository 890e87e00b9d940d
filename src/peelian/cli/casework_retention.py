"""``peelian casework retention``: records due for retention review; erase or keep them."""

from __future__ import annotations

from typing import Annotated

import typer

from peelian.cli._common import DbOption, JsonOption, console, handle_errors, print_json, store_for

__all__ = ["retention_app"]

retention_app = typer.Typer(help="Retention review of person-level casework records.")


@retention_app.command("due")
@handle_errors
def due(
    on: Annotated[str | None, typer.Option("--on", help="As on this date (YYYY-MM-DD).")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """List person-level records due for retention review."""
    import datetime as dt

    from peelian.casework.organisations import SYSTEM
    from peelian.casework.retention import due_for_review, retention_rules

    day = dt.date.fromisoformat(on) if on else None
    rows = due_for_review(store_for(db), SYSTEM, on=day)
    if as_json:
        print_json({"due": rows, "rules": [r.__dict__ for r in retention_rules().values()]})
        return
    for r in rows:
        console.print(
            f"Problem {r['id']} (version {r['version']}): review due {r['review_due']}, "
            f"last activity {r['last_activity']}."
        )
    console.print(f"{len(rows)} due. Periods: {retention_rules()['problem_person'].basis}.")


@retention_app.command("erase")
@handle_errors
def erase(
    problem: Annotated[int, typer.Argument(help="The problem's id.")],
    version: Annotated[int, typer.Option("--version", help="The version you reviewed.")],
    purpose: Annotated[str, typer.Option("--purpose", help="Why (audited).")],
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Erase the personal data of a problem naming people (the audit entries are kept)."""
    from peelian.casework.organisations import SYSTEM
    from peelian.casework.retention import erase_problem

    report = erase_problem(store_for(db), SYSTEM, problem, version, purpose=purpose)
    if as_json:
        print_json(report)
    else:
        console.print(
            f"Erased the personal data of problem {problem}: {', '.join(report['fields'])} "
            f"and {report['actions']} actions. Its audit entries are kept."
        )


@retention_app.command("keep")
@handle_errors
def keep(
    problem: Annotated[int, typer.Argument(help="The problem's id.")],
    version: Annotated[int, typer.Option("--version", help="The version you reviewed.")],
    reason: Annotated[str, typer.Option("--reason", help="Why it is kept (audited).")],
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Record a decision to keep a record past its review date."""
    from peelian.casework.organisations import SYSTEM
    from peelian.casework.retention import keep_problem

    result = keep_problem(store_for(db), SYSTEM, problem, version, reason=reason)
    if as_json:
        print_json(result)
    else:
        console.print(f"Kept problem {problem} (version {result['version']}): {reason}.")
