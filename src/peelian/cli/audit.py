"""``peelian audit``: verify the tamper-evident audit chain, search it and export it."""

from __future__ import annotations

import datetime as dt
import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from peelian.cli._common import DbOption, JsonOption, console, handle_errors, print_json, store_for
from peelian.errors import ParameterError

__all__ = ["register"]

audit_app = typer.Typer(
    help="The tamper-evident audit log: verify, search, export.", no_args_is_help=True
)

UserOpt = Annotated[str | None, typer.Option("--user", help="Only entries by this user.")]
ActionOpt = Annotated[
    str | None, typer.Option("--action", help="Only actions starting with this, e.g. referral.")
]
KindOpt = Annotated[
    str | None, typer.Option("--kind", help="Only this record kind, e.g. referral.")
]
RecordOpt = Annotated[str | None, typer.Option("--record", help="Only this record id.")]
SinceOpt = Annotated[str | None, typer.Option("--since", help="From this date (YYYY-MM-DD).")]
UntilOpt = Annotated[
    str | None, typer.Option("--until", help="Before this date (YYYY-MM-DD, exclusive).")
]
TextOpt = Annotated[
    str | None,
    typer.Option("--text", help="Text in the action, target, record id or purpose."),
]


def _day(value: str | None, name: str) -> dt.datetime | None:
    if not value:
        return None
    try:
        return dt.datetime.fromisoformat(value)
    except ValueError as exc:
        raise ParameterError(f"{name} must be a date (YYYY-MM-DD). Got {value!r}.") from exc


def _filter(
    user: str | None,
    action: str | None,
    kind: str | None,
    record: str | None,
    since: str | None,
    until: str | None,
    text: str | None,
):  # type: ignore[no-untyped-def]
    from peelian.data.audit import AuditFilter

    return AuditFilter(
        username=user,
        action=action,
        record_kind=kind,
        record_id=record,
        since=_day(since, "--since"),
        until=_day(until, "--until"),
        text=text,
    )


@audit_app.command("verify")
@handle_errors
def verify_cmd(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Prove the hash chain from the first entry to the last; name the first broken entry.

    Exits with code 4 when the chain is broken.
    """
    from peelian.data.audit import verify

    started = time.perf_counter()
    result = verify(store_for(db))
    seconds = round(time.perf_counter() - started, 2)
    if as_json:
        print_json({**result.to_dict(), "seconds": seconds})
    elif result.ok:
        console.print(
            f"The audit chain is whole: {result.checked:,} entries verified "
            f"(last entry {result.last_id or 'none'}) in {seconds} s."
        )
    else:
        console.print(
            f"[bold red]The audit chain is broken at entry {result.first_broken_id}:[/] "
            f"{result.reason}. {result.checked:,} entries before it verified."
        )
    if not result.ok:
        raise typer.Exit(4)


@audit_app.command("search")
@handle_errors
def search_cmd(
    user: UserOpt = None,
    action: ActionOpt = None,
    kind: KindOpt = None,
    record: RecordOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    text: TextOpt = None,
    limit: Annotated[int, typer.Option("--limit", help="At most this many (1-10000).")] = 50,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Search the audit log, newest first."""
    from peelian.data.audit import count, search

    store = store_for(db)
    flt = _filter(user, action, kind, record, since, until, text)
    rows = search(store, flt, limit=limit)
    total = count(store, flt)
    if as_json:
        print_json({"total": total, "entries": rows, "filter": flt.to_dict()})
        return
    table = Table("id", "when (UTC)", "who", "action", "record", "purpose")
    for r in rows:
        rec = f"{r['record_kind']} {r['record_id']}" if r["record_kind"] else (r["target"] or "")
        table.add_row(
            str(r["id"]),
            f"{r['at']:%Y-%m-%d %H:%M:%S}",
            r["username"] or "system",
            r["action"],
            rec,
            r["purpose"] or "",
        )
    console.print(table)
    console.print(f"{len(rows)} of {total:,} matching entries.")


@audit_app.command("export")
@handle_errors
def export_cmd(
    out: Annotated[
        Path | None, typer.Option("--out", help="CSV file to write (default: standard output).")
    ] = None,
    user: UserOpt = None,
    action: ActionOpt = None,
    kind: KindOpt = None,
    record: RecordOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    text: TextOpt = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Export matching entries (oldest first) as CSV, hashes included. The export itself is
    audited."""
    from peelian.data.audit import export_csv
    from peelian.data.audit import record as audit_record

    store = store_for(db)
    flt = _filter(user, action, kind, record, since, until, text)
    if out is None:
        n = export_csv(store, sys.stdout, flt)
    else:
        with out.open("w", newline="", encoding="utf-8") as fh:
            n = export_csv(store, fh, flt)
    audit_record(
        store, "cli", "audit.export", record_kind="audit", detail={**flt.to_dict(), "rows": n}
    )
    if as_json and out is not None:
        print_json({"rows": n, "out": str(out)})
    elif out is not None:
        console.print(f"Wrote {n:,} audit entries to {out}.")


def register(app: typer.Typer) -> None:
    app.add_typer(audit_app, name="audit")
