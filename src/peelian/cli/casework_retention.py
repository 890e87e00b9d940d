"""``peelian casework retention``: records due for retention review (problems naming people,
referrals, interventions aimed at a person or family); erase their personal data or keep them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from peelian.cli._common import DbOption, JsonOption, console, handle_errors, print_json, store_for

__all__ = ["retention_app"]

retention_app = typer.Typer(help="Retention review of person-level casework records.")

KindOpt = Annotated[
    str,
    typer.Option(
        "--kind", help="What the id is: problem, referral or intervention.", show_default=True
    ),
]
_LABELS = {"problem_person": "Problem", "referral": "Referral", "intervention": "Intervention"}


@retention_app.command("due")
@handle_errors
def due(
    on: Annotated[str | None, typer.Option("--on", help="As on this date (YYYY-MM-DD).")] = None,
    rules: Annotated[
        Path | None,
        typer.Option(
            "--rules",
            help="A local retention file (record_kind,review_after_months,basis) instead of the "
            "packaged illustrative default.",
            exists=True,
        ),
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """List person-level records due for retention review."""
    import datetime as dt

    from peelian.casework.organisations import SYSTEM
    from peelian.casework.retention import due_for_review, load_retention_rules

    day = dt.date.fromisoformat(on) if on else None
    periods = load_retention_rules(rules.read_text("utf-8") if rules else None)
    rows = due_for_review(store_for(db), SYSTEM, on=day, rules=periods)
    if as_json:
        print_json({"due": rows, "rules": [r.__dict__ for r in periods.values()]})
        return
    for r in rows:
        console.print(
            f"{_LABELS[r['record_kind']]} {r['id']} (version {r['version']}): review due "
            f"{r['review_due']}, last activity {r['last_activity']}.",
            highlight=False,
        )
    counts = {k: sum(r["record_kind"] == k for r in rows) for k in _LABELS}
    console.print(
        f"{len(rows)} due ("
        + ", ".join(f"{n} {_LABELS[k].lower()}s" for k, n in counts.items())
        + ")."
    )
    for rule in periods.values():
        console.print(f"  {rule.record_kind}: {rule.review_after_months} months. {rule.basis}.")


@retention_app.command("erase")
@handle_errors
def erase(
    record: Annotated[int, typer.Argument(help="The record's id.")],
    version: Annotated[int, typer.Option("--version", help="The version you reviewed.")],
    purpose: Annotated[str, typer.Option("--purpose", help="Why (audited).")],
    kind: KindOpt = "problem",
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Erase the personal data of a problem, referral or intervention (the audit is kept)."""
    from peelian.casework.organisations import SYSTEM
    from peelian.casework.retention import erase_record

    report = erase_record(store_for(db), SYSTEM, kind, record, version, purpose=purpose)
    if as_json:
        print_json(report)
        return
    extra = f" and {report['actions']} actions" if "actions" in report else ""
    console.print(
        f"Erased the personal data of {kind} {record}: {', '.join(report['fields'])}{extra}. "
        "Its audit entries are kept."
    )


@retention_app.command("keep")
@handle_errors
def keep(
    record: Annotated[int, typer.Argument(help="The record's id.")],
    version: Annotated[int, typer.Option("--version", help="The version you reviewed.")],
    reason: Annotated[str, typer.Option("--reason", help="Why it is kept (audited).")],
    kind: KindOpt = "problem",
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Record a decision to keep a record past its review date."""
    from peelian.casework.organisations import SYSTEM
    from peelian.casework.retention import keep_record

    result = keep_record(store_for(db), SYSTEM, kind, record, version, reason=reason)
    if as_json:
        print_json(result)
    else:
        console.print(f"Kept {kind} {record} (version {result['version']}): {reason}.")
