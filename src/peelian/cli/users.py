"""``peelian users``: add, list, disable, enable and remove dashboard users; set a password."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.table import Table

from peelian.cli._common import DbOption, JsonOption, console, handle_errors, print_json, store_for
from peelian.errors import ParameterError

__all__ = ["register"]

users_app = typer.Typer(help="Dashboard users and their roles.", no_args_is_help=True)


@users_app.command("add")
@handle_errors
def add(
    username: Annotated[str, typer.Argument(help="The login name.")],
    role: Annotated[str, typer.Option("--role", help="viewer, analyst or admin.")] = "viewer",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Add a user (the password is asked for, or read from stdin with --password-stdin)."""
    from peelian.data.accounts.users import add_user

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    if not password:
        raise ParameterError("No password was given.", "Pipe one in with --password-stdin.")
    user = add_user(store_for(db), username, password, role, actor="cli")
    if as_json:
        print_json({"username": user.username, "role": user.role})
    else:
        console.print(f"Added {user.username} ({user.role}).")


@users_app.command("list")
@handle_errors
def list_(db: DbOption = None, as_json: JsonOption = False) -> None:
    """List users with their roles and last login."""
    from peelian.data.accounts.users import list_users

    users = list_users(store_for(db))
    rows = [
        {
            "username": u.username,
            "role": u.role,
            "enabled": u.enabled,
            "created_at": u.created_at,
            "last_login_at": u.last_login_at,
        }
        for u in users
    ]
    if as_json:
        print_json({"users": rows})
        return
    table = Table("username", "role", "created (UTC)", "last login (UTC)")
    for r in rows:
        table.add_row(
            r["username"],
            r["role"],
            f"{r['created_at']:%Y-%m-%d %H:%M}",
            f"{r['last_login_at']:%Y-%m-%d %H:%M}" if r["last_login_at"] else "never",
        )
    console.print(table)


@users_app.command("remove")
@handle_errors
def remove(
    username: Annotated[str, typer.Argument(help="The login name.")],
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Remove a user (their sessions end at once)."""
    from peelian.data.accounts.users import remove_user

    remove_user(store_for(db), username, actor="cli")
    if as_json:
        print_json({"removed": username})
    else:
        console.print(f"Removed {username}.")


@users_app.command("password")
@handle_errors
def password(
    username: Annotated[str, typer.Argument(help="The login name.")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Set a user's password (ends all their sessions: they log in again)."""
    from peelian.data.accounts.users import set_password

    if password_stdin:
        new = sys.stdin.readline().rstrip("\r\n")
    else:
        new = typer.prompt("New password", hide_input=True, confirmation_prompt=True)
    if not new:
        raise ParameterError("No password was given.", "Pipe one in with --password-stdin.")
    set_password(store_for(db), username, new, actor="cli")
    if as_json:
        print_json({"username": username, "password_changed": True})
    else:
        console.print(f"Changed the password of {username}; their sessions have ended.")


def _set_enabled(username: str, enabled: bool, db: str | None, as_json: bool) -> None:
    from peelian.data.accounts.users import set_enabled

    set_enabled(store_for(db), username, enabled, actor="cli")
    if as_json:
        print_json({"username": username, "enabled": enabled})
    elif enabled:
        console.print(f"Enabled {username}.")
    else:
        console.print(f"Disabled {username}; their sessions have ended.")


@users_app.command("disable")
@handle_errors
def disable(
    username: Annotated[str, typer.Argument(help="The login name.")],
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Disable a user (they cannot log in; their sessions end at once)."""
    _set_enabled(username, False, db, as_json)


@users_app.command("enable")
@handle_errors
def enable(
    username: Annotated[str, typer.Argument(help="The login name.")],
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Enable a disabled user again."""
    _set_enabled(username, True, db, as_json)


def register(app: typer.Typer) -> None:
    app.add_typer(users_app, name="users")
