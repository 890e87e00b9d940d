"""``peelian victims``: the Victims' Code engine (deadlines, duties, worklists, compliance)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import typer
from rich.table import Table

from peelian.cli._common import DbOption, JsonOption, console, handle_errors, print_json, store_for
from peelian.errors import ParameterError

__all__ = ["register"]

victims_app = typer.Typer(
    help="Victims' Code duties: deadlines, worklists and compliance.", no_args_is_help=True
)
AsAtOpt = Annotated[
    str | None,
    typer.Option("--as-at", help="Assess as at this date, YYYY-MM-DD (default: the records' end)."),
]
ForceOpt = Annotated[str | None, typer.Option("--force", help="Force slug (when several).")]


def _date(value: str, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError as exc:
        raise ParameterError(
            f"The {option} option must be a date YYYY-MM-DD. Got {value!r}.", "E.g. 2022-06-01."
        ) from exc


@victims_app.command("due")
@handle_errors
def due(
    from_: Annotated[str, typer.Option("--from", help="The trigger's date, YYYY-MM-DD.")],
    working_days: Annotated[
        int, typer.Option("--working-days", help="Working days allowed (5, or 1 enhanced).")
    ],
    as_json: JsonOption = False,
) -> None:
    """The day a duty is due: the first working day on which N working days after the trigger
    have passed (England and Wales bank holidays)."""
    from peelian.analysis.victims.calendar import CALENDAR_SOURCE, due_date

    trigger = _date(from_, "--from")
    if working_days < 0 or working_days > 1000:
        raise ParameterError(
            f"--working-days must be between 0 and 1000. Got {working_days}.", "E.g. 5."
        )
    day = due_date(trigger, working_days)
    out = {
        "from": trigger.isoformat(),
        "working_days": working_days,
        "due": day.isoformat(),
        "weekday": day.strftime("%A"),
        "calendar": CALENDAR_SOURCE,
    }
    if as_json:
        print_json(out)
    else:
        console.print(f"Due {day:%A %d %B %Y} ({day.isoformat()}).", highlight=False)


@victims_app.command("duties")
@handle_errors
def duties(
    refresh: Annotated[
        bool, typer.Option("--refresh", help="Compute every duty now and save the run.")
    ] = False,
    as_at: AsAtOpt = None,
    force: ForceOpt = None,
    edition: Annotated[str, typer.Option("--edition", help="Victims' Code edition.")] = "2020",
    before_in_force: Annotated[
        bool,
        typer.Option("--before-in-force", help="Also assess triggers before the Code applied."),
    ] = False,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Duties and their status (met on time, met late, overdue, not yet due), by duty."""
    from peelian.casework.victims import compliance, refresh_duties

    store = store_for(db)
    if refresh:
        refresh_duties(
            store,
            force=force,
            as_at=_date(as_at, "--as-at") if as_at else None,
            edition=edition,
            before_in_force=before_in_force,
        )
    comp = compliance(store)
    s = comp["summary"]
    rows = comp["tables"]["by_duty"]
    if as_json:
        print_json({"summary": s, "by_duty": rows})
        return
    _print_rates(rows, "duty_label", f"Victims' Code duties as at {s['as_at']}", s)


def _print_rates(rows: list[dict[str, Any]], key: str, title: str, s: dict[str, Any]) -> None:
    from peelian.schemas.formatting import fmt_count, fmt_interval, fmt_share

    t = Table(title=title + (" (SYNTHETIC records)" if s.get("synthetic") else ""))
    for c in ("", "Due", "On time", "Late", "Overdue", "Not yet due", "On-time rate", "95% CI"):
        t.add_column(c)
    for r in rows:
        t.add_row(
            str(r.get(key) or r.get("duty") or "–"),
            fmt_count(r["due"]),
            fmt_count(r["on_time"]),
            fmt_count(r["late"]),
            fmt_count(r["overdue"]),
            fmt_count(r["not_yet_due"]),
            fmt_share(r["rate"]),
            fmt_interval(
                None if r["low"] is None else r["low"] * 100,
                None if r["high"] is None else r["high"] * 100,
                1,
            )
            + " %",
        )
    console.print(t)
    for note in s.get("flags", []):
        console.print(f"Note: {note}", highlight=False)
    for reason, n in (s.get("not_assessed") or {}).items():
        console.print(f"Not assessed: {n:,} {reason}.", highlight=False)


@victims_app.command("worklist")
@handle_errors
def worklist_cmd(
    purpose: Annotated[
        str | None, typer.Option("--purpose", help="Why you need it (required; audited).")
    ] = None,
    officer: Annotated[str | None, typer.Option("--officer", help="Officer id.")] = None,
    team: Annotated[str | None, typer.Option("--team", help="Team (ward name).")] = None,
    command: Annotated[str | None, typer.Option("--command", help="Command (CSP name).")] = None,
    bucket: Annotated[
        str | None,
        typer.Option("--bucket", help="overdue, due_today, due_this_week or later."),
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=5000, help="Rows.")] = 50,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Open duties, most urgent first, with the victim's preferred contact method and agreed
    update frequency (names pseudonymised victims: needs --purpose; audited)."""
    from peelian.casework.organisations import SYSTEM
    from peelian.casework.victims import worklist

    w = worklist(
        store_for(db),
        SYSTEM,
        purpose=purpose,
        officer=officer,
        team=team,
        command=command,
        bucket=bucket,
        limit=limit,
    )
    if as_json:
        print_json(w)
        return
    c = w["counts"]
    console.print(
        f"As at {w['as_at']}: {c['overdue']:,} overdue, {c['due_today']:,} due today, "
        f"{c['due_this_week']:,} due this week, {c['later']:,} later"
        + (" (SYNTHETIC records)." if w["synthetic"] else "."),
        highlight=False,
    )
    t = Table()
    for col in (
        "Urgency",
        "Crime",
        "Victim",
        "Duty",
        "Due",
        "Days late",
        "Enhanced",
        "Contact by",
        "Every",
        "Officer",
    ):
        t.add_column(col)
    for r in w["rows"]:
        t.add_row(
            r["urgency"],
            r["crime_ref"],
            r["person_ref"],
            r["duty_label"],
            r["due"],
            str(r["working_days_late"]),
            "yes" if r["enhanced"] else "no",
            str(r["preferred_channel"] or "–"),
            f"{r['update_every_days']} days",
            str(r["officer"] or "–"),
        )
    console.print(t)


@victims_app.command("compliance")
@handle_errors
def compliance_cmd(
    by: Annotated[
        str,
        typer.Option(
            "--by", help="duty, category, sv_type, enhanced, command, duty_enhanced or trend."
        ),
    ] = "duty",
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """On-time rates with exact (Clopper-Pearson) 95% intervals, and the monthly trend."""
    from peelian.casework.victims import compliance

    names = {
        "duty": ("by_duty", "duty_label"),
        "category": ("by_category", "policeuk_category"),
        "sv_type": ("by_sv_type", "sv_type"),
        "enhanced": ("by_enhanced", "rights"),
        "command": ("by_command", "command"),
        "duty_enhanced": ("by_duty_enhanced", "duty_label"),
        "trend": ("trend", "month"),
    }
    if by not in names:
        raise ParameterError(f"Cannot group by {by!r}.", f"Use one of {', '.join(names)}.")
    comp = compliance(store_for(db))
    table, key = names[by]
    rows = comp["tables"][table]
    if as_json:
        print_json({"summary": comp["summary"], "by": by, "rows": rows})
        return
    s = comp["summary"]
    _print_rates(rows, key, f"Victims' Code compliance by {by.replace('_', ' ')}", s)
    console.print(s["trend_test"]["sentence"], highlight=False)


def register(app: typer.Typer) -> None:
    app.add_typer(victims_app, name="victims")
