"""The casework import page: upload a CSV file of organisations, data-sharing agreements,
problems, interventions or referrals, and see the import report.

``GET /casework/import`` (and ``.json``) lists the record kinds the user may create, each with
its column contract (:data:`peelian.casework.import_contracts.CONTRACTS`, the same the CLI and
the API use) and an upload form. ``POST /casework/import`` (and ``.json``, the same report as
data) runs :func:`peelian.casework.importing.import_csv`, exactly what ``peelian casework
import`` and ``POST /api/casework/import/{kind}`` run, and shows its report in place: rows read,
created, and each rejected row with its spreadsheet row number, field, why and how to fix it.
The report never shows a row's values (a referral's reason or person reference must not appear
on a screen or in a log); the rejects download is the same table (row, field, why, fix), so the
user corrects those rows in their own file and imports them again.

The page's rule in :data:`peelian.web.api.casework.ROUTE_POLICY` is "create intervention":
under the policy the roles that may create some importable kind are exactly the roles that may
create interventions (``tests/web/test_casework_import_page.py`` holds that true). The import
itself asks the policy for the kind uploaded, and row by row; every import and dry run is
audited with the purpose given.
"""

from __future__ import annotations

import csv
import io
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from starlette.datastructures import UploadFile

from peelian.casework._vocab import RECORD_KINDS
from peelian.casework.import_contracts import CONTRACTS, KINDS, contract_table
from peelian.casework.policy import Principal, allowed
from peelian.errors import AuthError, NotFoundError, ParameterError
from peelian.web.api.casework import principal
from peelian.web.api.casework_import import MAX_BYTES
from peelian.web.auth import SessionUser, check_csrf, require
from peelian.web.pages._helpers import _page_responses, add_page
from peelian.web.pages.casework_interventions import error_text, render
from peelian.web.services.common import jsonable

__all__ = ["REJECT_COLUMNS", "column_label", "router"]

router = APIRouter()
_LOGIN = Depends(require("viewer"))
_TEMPLATE = "casework_import.html"
#: The columns of the rejects table and its CSV download (never the row's own values).
REJECT_COLUMNS = ("row", "field", "why", "fix")
_REQUIRED = {"yes": "Required", "no": "Optional", "ignored": "Read past (export only)"}
#: Where a kind's records are listed after an import.
_LISTED_AT = {
    "organisation": "/casework/organisations",
    "agreement": "/casework/organisations",
    "problem": "/casework/problems",
    "intervention": "/casework/interventions",
    "referral": "/casework/referrals",
}


def column_label(name: str) -> str:
    """A column's human label: ``person_ref`` -> "Person reference", ``party_ids`` ->
    "Party numbers" (the page shows the label and the header name to type)."""
    words = name.split("_")
    tail = {"id": "number", "ids": "numbers", "ref": "reference"}
    if len(words) > 1 and words[-1] in tail:
        words[-1] = tail[words[-1]]
    text = " ".join(words)
    return text[:1].upper() + text[1:]


def _kinds(me: Principal) -> list[dict[str, Any]]:
    out = []
    for kind in KINDS:
        contract = CONTRACTS[kind]
        out.append(
            {
                "kind": kind,
                "label": RECORD_KINDS.get(contract.record_kind, kind),
                "person_level": contract.person_level,
                "can_create": allowed(me, "create", contract.record_kind),
                "columns": [
                    {
                        "column": c["column"],
                        "label": column_label(c["column"]),
                        "required": _REQUIRED[c["required"]],
                        "holds": c["holds"],
                    }
                    for c in contract_table(kind)
                ],
            }
        )
    return out


def _base(me: Principal) -> dict[str, Any]:
    kinds = _kinds(me)
    if not any(k["can_create"] for k in kinds):
        raise AuthError(
            f"{me.username} ({me.role}) may not create any casework records, so has nothing "
            "to import.",
            "Access follows the casework policy; ask an admin if you need to import records.",
        )
    return {
        "title": "Import casework records",
        "kinds": kinds,
        "max_megabytes": MAX_BYTES // (1024 * 1024),
        "report": None,
        "message": None,
        "command": "peelian casework import KIND FILE.csv --purpose '...' --dry-run",
    }


def import_page(request: Request, user: SessionUser) -> dict[str, Any]:
    return _base(principal(request))


add_page(
    router,
    "/casework/import",
    _TEMPLATE,
    import_page,
    title="Import casework records",
    cache=False,
)


def rejects_csv(rejections: list[dict[str, Any]]) -> str:
    """The rejects table as CSV text: row, field, why, fix (never the row's values)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(REJECT_COLUMNS)
    for r in rejections:
        writer.writerow([r[c] for c in REJECT_COLUMNS])
    return buf.getvalue()


def _report_view(kind: str, report: dict[str, Any]) -> dict[str, Any]:
    rejections = report["rejections"]
    return {
        **report,
        "kind_label": RECORD_KINDS.get(CONTRACTS[kind].record_kind, kind),
        "rejections": [
            {**r, "field_label": column_label(r["field"]) if r["field"] != "(row)" else "Row"}
            for r in rejections
        ],
        "ignored_columns": [
            {"column": k, "label": column_label(k), "why": v}
            for k, v in report["ignored_columns"].items()
        ],
        "rejects_csv_href": "data:text/csv;charset=utf-8," + quote(rejects_csv(rejections))
        if rejections
        else None,
        "listed_at": _LISTED_AT[kind],
    }


async def _run(request: Request) -> dict[str, Any]:
    from starlette.concurrency import run_in_threadpool

    from peelian.casework.importing import import_csv

    form = await request.form(max_files=1, max_fields=20)
    check_csrf(request, str(form.get("csrf_token") or ""))
    me = await run_in_threadpool(principal, request)
    base = await run_in_threadpool(_base, me)
    kind = str(form.get("kind") or "")
    purpose = str(form.get("purpose") or "")[:2000]
    dry_run = bool(form.get("dry_run"))
    upload = form.get("file")
    base |= {"chosen": kind, "purpose": purpose, "dry_run": dry_run}
    try:
        if kind not in KINDS:
            raise ParameterError(
                "Choose the kind of record the file holds.", f"One of {', '.join(KINDS)}."
            )
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise ParameterError("Choose a CSV file to upload.", "Pick the file and try again.")
        data = await upload.read(MAX_BYTES + 1)
        if len(data) > MAX_BYTES:
            raise ParameterError(
                f"The file is larger than {base['max_megabytes']} MB. Nothing was imported.",
                "Split it into smaller files, or use `peelian casework import` on the server.",
            )
        store = request.app.state.ctx.store
        report = await run_in_threadpool(
            import_csv, store, me, kind, data, purpose=purpose, dry_run=dry_run
        )
    except (ParameterError, NotFoundError, AuthError) as exc:
        return base | {"message": error_text(exc)}
    return base | {"report": _report_view(kind, report.as_dict())}


@router.post("/casework/import", include_in_schema=False, dependencies=[_LOGIN])
async def import_submit(request: Request) -> Response:
    data = await _run(request)
    return render(request, _TEMPLATE, data)


@router.post(
    "/casework/import.json",
    tags=["pages"],
    summary="Import a CSV file from the Import page's form (multipart: kind, file, purpose, "
    "dry_run, csrf_token); the import report as data",
    dependencies=[_LOGIN],
    responses=_page_responses(),
)
async def import_submit_json(request: Request) -> Response:
    data = await _run(request)
    return JSONResponse(jsonable(data), headers={"Cache-Control": "no-store"})
