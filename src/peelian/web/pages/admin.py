"""Admin pages: users (add, disable, enable, remove) and the audit log; report download page."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import RedirectResponse

from peelian.data.accounts.users import (
    ROLES,
    add_user,
    list_audit,
    list_users,
    remove_user,
    set_enabled,
)
from peelian.errors import NotFoundError, ParameterError
from peelian.web.auth import SessionUser, check_csrf, require
from peelian.web.pages._helpers import add_page

__all__ = ["router"]

router = APIRouter()


_ADMIN = Depends(require("admin"))


def _memberships(store: Any) -> tuple[dict[str, int | None], list[dict[str, Any]]]:
    """Each user's organisation id, and the organisations (id, name) to choose from."""
    from sqlalchemy import select

    from peelian.casework.organisations import SYSTEM, list_organisations
    from peelian.data.tables import users

    with store.engine.connect() as conn:
        rows = conn.execute(select(users.c.username, users.c.organisation_id)).all()
    member = {
        r.username: None if r.organisation_id is None else int(r.organisation_id) for r in rows
    }
    orgs = [{"id": o["id"], "name": o["name"]} for o in list_organisations(store, SYSTEM)]
    return member, orgs


def users_page(request: Request, user: SessionUser) -> dict[str, Any]:
    ctx = request.app.state.ctx
    member, orgs = _memberships(ctx.store)
    names = {o["id"]: o["name"] for o in orgs}
    return {
        "title": "Users",
        "roles": list(ROLES),
        "organisations": orgs,
        "users": [
            {
                "username": u.username,
                "role": u.role,
                "enabled": u.enabled,
                "organisation_id": member.get(u.username),
                "organisation": names.get(member.get(u.username) or -1),
                "created_at": u.created_at.isoformat(),
                "last_login_at": u.last_login_at.isoformat() if u.last_login_at else None,
            }
            for u in list_users(ctx.store)
        ],
        "audit": [{**e, "at": e["at"].isoformat()} for e in list_audit(ctx.store, limit=50)],
        "message": request.query_params.get("message"),
    }


def reports_page(request: Request, user: SessionUser) -> dict[str, Any]:
    ctx = request.app.state.ctx
    from peelian.web.services.results import measures_catalogue

    try:
        catalogue = measures_catalogue(ctx)
        period_end, empty = catalogue["period_end"], None
    except NotFoundError as exc:
        period_end, empty = None, {"message": exc.message, "command": "peelian measures --save"}
    return {
        "title": "Reports",
        "period_end": period_end,
        "empty": empty,
        "can_download": user.allows("analyst"),
    }


add_page(router, "/admin/users", "users.html", users_page, role="admin", title="Users", cache=False)
add_page(router, "/reports", "reports.html", reports_page, title="Reports")


@router.post("/admin/users", include_in_schema=False)
def add_user_submit(
    request: Request,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=1024)],
    role: Annotated[str, Form()],
    csrf_token: Annotated[str, Form()] = "",
    admin: SessionUser = _ADMIN,
) -> Response:
    check_csrf(request, csrf_token)
    try:
        add_user(
            request.app.state.ctx.store, username.strip(), password, role, actor=admin.username
        )
        message = f"Added {username.strip()} ({role})."
    except ParameterError as exc:
        message = f"{exc.message} {exc.hint or ''}".strip()
    from urllib.parse import quote

    return RedirectResponse(f"/admin/users?message={quote(message)}", status_code=303)


@router.post("/admin/users/{username}/remove", include_in_schema=False)
def remove_user_submit(
    request: Request,
    username: str,
    csrf_token: Annotated[str, Form()] = "",
    admin: SessionUser = _ADMIN,
) -> Response:
    check_csrf(request, csrf_token)
    if username == admin.username:
        raise ParameterError("You cannot remove yourself.", "Ask another admin to do it.")
    remove_user(request.app.state.ctx.store, username, actor=admin.username)
    request.app.state.ctx.forget_user(username)
    return RedirectResponse("/admin/users?message=Removed+" + username, status_code=303)


@router.post("/admin/users/{username}/organisation", include_in_schema=False)
def organisation_submit(
    request: Request,
    username: str,
    organisation_id: Annotated[str, Form(max_length=18)] = "",
    csrf_token: Annotated[str, Form()] = "",
    admin: SessionUser = _ADMIN,
) -> Response:
    """Make a user a member of an organisation (blank: of none); the change is audited. What
    a user may see of casework follows their organisation (``peelian.casework.policy``)."""
    from urllib.parse import quote

    from peelian.casework.organisations import assign_user
    from peelian.casework.policy import principal_for

    check_csrf(request, csrf_token)
    store = request.app.state.ctx.store
    org = organisation_id.strip()
    try:
        if org and not org.isdigit():
            raise ParameterError(f"Choose an organisation from the list. Got {org[:40]!r}.")
        assign_user(
            store, principal_for(store, admin.username), username, int(org) if org else None
        )
        names = {o["id"]: o["name"] for o in _memberships(store)[1]}
        message = f"{username} is now " + (
            f"a member of {names.get(int(org), org)}." if org else "in no organisation."
        )
    except (ParameterError, NotFoundError) as exc:
        message = f"{exc.message} {exc.hint or ''}".strip()
    request.app.state.ctx.forget_user(username)
    return RedirectResponse(f"/admin/users?message={quote(message)}", status_code=303)


@router.post("/admin/users/{username}/{action}", include_in_schema=False)
def enable_user_submit(
    request: Request,
    username: str,
    action: str,
    csrf_token: Annotated[str, Form()] = "",
    admin: SessionUser = _ADMIN,
) -> Response:
    """Disable (ends the user's sessions at once) or enable a user."""
    check_csrf(request, csrf_token)
    if action not in ("disable", "enable"):
        raise NotFoundError(f"There is no user action {action!r}.", "Use disable or enable.")
    if username == admin.username:
        raise ParameterError("You cannot disable yourself.", "Ask another admin to do it.")
    set_enabled(request.app.state.ctx.store, username, action == "enable", actor=admin.username)
    request.app.state.ctx.forget_user(username)
    verb = "Disabled" if action == "disable" else "Enabled"
    return RedirectResponse(f"/admin/users?message={verb}+{username}", status_code=303)
