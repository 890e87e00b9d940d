"""What is loaded and where it came from: forces, months, rows per kind and category, areas,
ingest batches with their reconciliation, and the quarantine with its reasons (issue 2's page).

Who sees what (decision 0010):

- The command that ran an ingest and the server paths of its files are for admins; other roles
  see the file name (``x.zip!2021-08/...csv`` keeps the archive's name and the member) and no
  command. Errors and notes shown to them have absolute paths shortened to the file name.
- Quarantined rows of person-level files (force records and surveys: ``force:*``, ``survey``)
  are person data: their raw row, and the values quoted in their detail, are shown only to a
  role :func:`can_see_raw_person_rows` entitles, and every such view is audited (who, which
  batches and files, how many rows; never the rows). The raw rows of police.uk files (public
  data) are shown to analysts and admins as before.
"""

from __future__ import annotations

import re
from pathlib import PurePath
from typing import Any, Protocol

import pandas as pd
from sqlalchemy import func, select

from peelian.casework.policy import load_policy
from peelian.data.ingest.batch import redact_secrets
from peelian.data.tables import analysis_runs, events, ingest_batches, ingest_files, quarantine
from peelian.errors import NotFoundError
from peelian.web.context import WebContext
from peelian.web.services.common import jsonable, page, records

__all__ = [
    "batch_detail",
    "batches",
    "can_see_raw_person_rows",
    "data_status",
    "file_name",
    "is_person_level",
    "quarantine_page",
    "quarantine_reasons",
    "synthetic_sources",
]


class _User(Protocol):
    username: str
    role: str

    def allows(self, role: str) -> bool: ...


def can_see_raw_person_rows(user: _User | None) -> bool:
    """Whether ``user`` may see the raw quarantined rows of person-level files.

    The one place this is decided, from the casework policy: roles that may read every
    ``person`` record (with the shipped policy: admin, supervisor, safeguarding). Every page and
    endpoint that shows quarantined rows asks this.
    """
    return user is not None and load_policy().get((user.role, "person", "read")) == "all"


def is_person_level(kind: str | None) -> bool:
    """Whether files of this ingest kind hold person-level records (force records, surveys)."""
    return kind is not None and (kind.startswith("force:") or kind == "survey")


_ABSOLUTE = re.compile(
    r"(?<![\w.:/\\])(?:[A-Za-z]:)?[/\\](?:[^\s'\"/\\!,;]+[/\\])+(?=[^\s'\"/\\]+)"
)


def file_name(path: str | None) -> str | None:
    """A file's name without its server folders (``/srv/x.zip!2021-08/a.csv`` ->
    ``x.zip!2021-08/a.csv``)."""
    if path is None:
        return None
    outer, sep, member = str(path).partition("!")
    return f"{PurePath(outer.replace(chr(92), '/')).name}{sep}{member}"


def _public_text(text: Any) -> Any:
    """Text with absolute paths shortened to their file name and passwords masked."""
    if not isinstance(text, str):
        return text
    return _ABSOLUTE.sub("", redact_secrets(text) or "")


def _public_report(report: Any) -> Any:
    if isinstance(report, dict):
        person = is_person_level(
            report.get("kind") if isinstance(report.get("kind"), str) else None
        )
        out = {}
        for key, value in report.items():
            if key == "path":
                out[key] = file_name(value)
            elif key == "command":
                continue
            elif key == "note" and person and isinstance(value, str):
                # notes written before decision 0010 could quote a person's row
                out[key] = _public_text(value.split(":", 1)[0])
            else:
                out[key] = _public_report(value)
        return out
    if isinstance(report, list):
        return [_public_report(v) for v in report]
    return _public_text(report)


_FILE_COLUMNS = [
    "id",
    "batch_id",
    "path",
    "kind",
    "force",
    "month",
    "rows_read",
    "rows_stored",
    "rows_quarantined",
    "reasons",
    "action",
    "reconciles",
]


def _status(ctx: WebContext) -> dict[str, Any]:
    """:func:`peelian.data.frames.data_status` (what ``peelian info`` prints), plus
    what the dashboard adds: per-force summaries, missing months, monthly totals, location
    precision and which results are computed."""
    from peelian.data.frames import data_status as base_status

    store = ctx.store
    status = jsonable(base_status(store))
    status.pop("database", None)  # the server's database URL is not for every viewer
    by_force_month = pd.DataFrame(status.get("by_force_month") or [])
    months = list(status.get("months") or [])
    forces = []
    if len(by_force_month):
        for force, grp in by_force_month.groupby("force", sort=True):
            with_events = grp[grp["events"] > 0]
            forces.append(
                {
                    "force": force,
                    "events": int(grp["events"].sum()),
                    "outcomes": int(grp["outcomes"].sum()),
                    "stops": int(grp["stops"].sum()),
                    "month_from": with_events["month"].min() if len(with_events) else None,
                    "month_to": with_events["month"].max() if len(with_events) else None,
                    "months": int(with_events["month"].nunique()),
                }
            )
    missing = []
    if months:
        span = pd.period_range(months[0], months[-1], freq="M").strftime("%Y-%m").tolist()
        missing = sorted(set(span) - set(months))
    located = store.read_frame(
        select(events.c.location_precision, func.count().label("n")).group_by(
            events.c.location_precision
        )
    )
    runs = store.read_frame(
        select(
            analysis_runs.c.kind,
            func.count().label("runs"),
            func.max(analysis_runs.c.created_at).label("latest"),
        ).group_by(analysis_runs.c.kind)
    )
    events_by_month = (
        by_force_month.groupby("month", as_index=False)["events"].sum()
        if len(by_force_month)
        else pd.DataFrame(columns=["month", "events"])
    )
    return {
        **status,
        "force_summary": forces,
        "months_missing": missing,
        "month_from": months[0] if months else None,
        "month_to": months[-1] if months else None,
        "events_by_month": records(events_by_month),
        "events_by_location_precision": {
            str(r.location_precision): int(r.n) for r in located.itertuples()
        },
        "results": records(runs),
    }


def synthetic_sources(ctx: WebContext) -> set[str]:
    """The sources (``force``, ``survey``) holding generated rows (``provenance`` of the cached
    data status), for the pages' synthetic labels."""
    status = ctx.derived("data_status", lambda: _status(ctx))
    return {k for k, v in status.get("provenance", {}).items() if v["synthetic"]}


def data_status(ctx: WebContext, *, admin: bool = False) -> dict[str, Any]:
    """What is loaded (the data page and ``peelian info``'s content), cached per data version.

    Without ``admin`` the batches carry no command and no server paths."""
    status = dict(ctx.derived("data_status", lambda: _status(ctx)))
    if not admin:
        status["batches"] = _public_report(status.get("batches") or [])
    status["last_batches"] = batches(ctx, limit=5, offset=0, admin=admin)["items"]
    return status


def _files_frame(ctx: WebContext, batch_ids: list[int], *, admin: bool) -> pd.DataFrame:
    if not batch_ids:
        return pd.DataFrame(columns=_FILE_COLUMNS)
    files = ctx.store.read_frame(
        select(ingest_files)
        .where(ingest_files.c.batch_id.in_(batch_ids))
        .order_by(ingest_files.c.id)
    )
    files["reconciles"] = files["rows_read"] == files["rows_stored"] + files["rows_quarantined"]
    if not admin:
        files["path"] = files["path"].map(file_name)
    return files


def batches(
    ctx: WebContext, *, limit: int = 20, offset: int = 0, admin: bool = False
) -> dict[str, Any]:
    """Ingest batches, newest first, each with its files and their reconciliation.

    The command and the files' server paths only with ``admin`` (others get ``command: null``
    and file names)."""
    frame = ctx.store.read_frame(
        select(
            ingest_batches.c.id,
            ingest_batches.c.source,
            ingest_batches.c.started_at,
            ingest_batches.c.finished_at,
            ingest_batches.c.status,
            ingest_batches.c.command,
            ingest_batches.c.peelian_version,
        ).order_by(ingest_batches.c.id.desc())
    )
    result = page(frame, limit, offset)
    ids = [int(b["id"]) for b in result["items"]]
    files = _files_frame(ctx, ids, admin=admin)
    for item in result["items"]:
        item["command"] = redact_secrets(item.get("command")) if admin else None
        mine = files[files["batch_id"] == item["id"]]
        item["files"] = records(mine, _FILE_COLUMNS)
        item["rows_read"] = int(mine["rows_read"].sum())
        item["rows_stored"] = int(mine["rows_stored"].sum())
        item["rows_quarantined"] = int(mine["rows_quarantined"].sum())
        item["reconciles"] = bool(mine["reconciles"].all()) if len(mine) else True
        actions = mine["action"].value_counts()
        item["actions"] = {str(k): int(v) for k, v in actions.items()}
    return result


def batch_detail(ctx: WebContext, batch_id: int, *, admin: bool = False) -> dict[str, Any]:
    """One batch with all its files and its stored report (command and server paths only with
    ``admin``)."""
    with ctx.store.engine.connect() as conn:
        row = (
            conn.execute(select(ingest_batches).where(ingest_batches.c.id == batch_id))
            .mappings()
            .first()
        )
    if row is None:
        raise NotFoundError(
            f"There is no ingest batch {batch_id}.", "List batches at /api/batches."
        )
    files = _files_frame(ctx, [batch_id], admin=admin)
    detail = records(pd.DataFrame([dict(row)]))[0]
    if admin:
        detail["command"] = redact_secrets(detail.get("command"))
    else:
        detail["command"] = None
        detail["report"] = _public_report(detail.get("report"))
    return {
        **detail,
        "files": records(files, _FILE_COLUMNS),
        "reconciles": bool(files["reconciles"].all()) if len(files) else True,
    }


def quarantine_reasons(ctx: WebContext) -> list[dict[str, Any]]:
    """Quarantined rows per reason and file kind, most frequent first."""
    frame = ctx.store.read_frame(
        select(quarantine.c.reason, ingest_files.c.kind, func.count().label("rows"))
        .join(ingest_files, ingest_files.c.id == quarantine.c.file_id)
        .group_by(quarantine.c.reason, ingest_files.c.kind)
        .order_by(func.count().desc())
    )
    return records(frame)


def _redact_detail(detail: Any) -> Any:
    """A person-level row's detail without the values it quotes (``sex: 'X'`` -> ``sex``)."""
    if not isinstance(detail, str):
        return detail
    field = detail.split(":", 1)[0].strip() if ":" in detail else ""
    hidden = "value hidden: person-level record"
    return f"{field}: [{hidden}]" if field and " " not in field else f"[{hidden}]"


def _audit_person_rows(
    ctx: WebContext, frame: pd.DataFrame, username: str, *, reason: str | None, purpose: str
) -> None:
    from peelian.data.accounts.users import audit

    batches = sorted({int(b) for b in frame["batch_id"]})
    files = sorted({int(f) for f in frame["file_id"]})
    audit(
        ctx.store,
        username,
        "quarantine_raw_view",
        target="quarantine",
        record_kind="quarantine",
        record_id=",".join(map(str, batches)),
        detail={
            "batches": batches,
            "files": files,
            "rows": len(frame),
            "kinds": sorted(set(frame["kind"])),
            "reason_filter": reason,
        },
        purpose=purpose,
    )


def _audit_quarantine_view(
    ctx: WebContext, frame: pd.DataFrame, username: str, *, reason: str | None, withheld: int
) -> None:
    """Every view of quarantined rows is logged (issue 11 item 14): who, which batches, how many
    rows and how many person-level rows were withheld; never the rows themselves."""
    from peelian.data.accounts.users import audit

    batches = sorted({int(b) for b in frame["batch_id"]})
    audit(
        ctx.store,
        username,
        "quarantine_view",
        target="quarantine",
        record_kind="quarantine",
        record_id=",".join(map(str, batches)) or None,
        detail={
            "batches": batches,
            "rows": len(frame),
            "person_rows_withheld": withheld,
            "reason_filter": reason,
        },
        purpose="data quality review",
    )


def quarantine_page(
    ctx: WebContext,
    *,
    reason: str | None = None,
    batch_id: int | None = None,
    limit: int = 50,
    offset: int = 0,
    with_raw: bool = False,
    user: _User | None = None,
    purpose: str = "data quality review",
) -> dict[str, Any]:
    """Quarantined rows with their reason and detail.

    ``with_raw``: the raw rows of public (police.uk) files. Rows of person-level files carry
    their raw row and full detail only for a ``user`` :func:`can_see_raw_person_rows`
    entitles, and then the view is audited (who, batches, files, row count; never the rows);
    for everyone else their raw row is withheld and the values in their detail hidden. File
    paths are file names unless ``user`` is an admin.
    """
    person_raw = can_see_raw_person_rows(user)
    admin = user is not None and user.allows("admin")
    cols = [
        quarantine.c.id,
        quarantine.c.file_id,
        ingest_files.c.batch_id,
        ingest_files.c.path,
        ingest_files.c.kind,
        quarantine.c.row_number,
        quarantine.c.reason,
        quarantine.c.detail,
    ]
    if with_raw or person_raw:
        cols.append(quarantine.c.raw)
    q = select(*cols).join(ingest_files, ingest_files.c.id == quarantine.c.file_id)
    count_q = (
        select(func.count())
        .select_from(quarantine)
        .join(ingest_files, ingest_files.c.id == quarantine.c.file_id)
    )
    if reason:
        q = q.where(quarantine.c.reason == reason)
        count_q = count_q.where(quarantine.c.reason == reason)
    if batch_id is not None:
        q = q.where(ingest_files.c.batch_id == batch_id)
        count_q = count_q.where(ingest_files.c.batch_id == batch_id)
    # Page in SQL: the quarantine can be large.
    page(pd.DataFrame(), limit, offset)  # validates limit/offset
    frame = ctx.store.read_frame(q.order_by(quarantine.c.id).limit(limit).offset(offset))
    with ctx.store.engine.connect() as conn:
        total = int(conn.execute(count_q).scalar_one())
    person = frame["kind"].map(is_person_level).astype(bool) if len(frame) else pd.Series([])
    withheld = 0
    if len(frame):
        if not person_raw:
            withheld = int(person.sum())
            frame.loc[person, "detail"] = frame.loc[person, "detail"].map(_redact_detail)
        if with_raw or person_raw:
            if not person_raw:
                frame["raw"] = frame["raw"].astype(object).where(~person, None)
            if not with_raw:
                frame["raw"] = frame["raw"].astype(object).where(person, None)
        if not admin:
            frame["path"] = frame["path"].map(file_name)
        if person_raw and user is not None and person.any():
            _audit_person_rows(ctx, frame[person], user.username, reason=reason, purpose=purpose)
        elif user is not None:
            _audit_quarantine_view(ctx, frame, user.username, reason=reason, withheld=withheld)
    return {
        "items": records(frame),
        "total": total,
        "limit": limit,
        "offset": offset,
        "next_offset": offset + limit if offset + limit < total else None,
        "raw_included": bool(with_raw or person_raw),
        "person_rows_withheld": withheld,
    }
