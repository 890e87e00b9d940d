"""``peelian db``: schema status and upgrades."""

from __future__ import annotations

import typer

from peelian.cli._common import DbOption, JsonOption, console, handle_errors, print_json, store_for

__all__ = ["register"]

db_app = typer.Typer(help="Database schema: status and upgrade.", no_args_is_help=True)


@db_app.command("upgrade")
@handle_errors
def upgrade(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Upgrade the database schema to the newest revision (back it up first)."""
    store = store_for(db, initialise=False)
    before, after = store.upgrade()
    if as_json:
        print_json({"database": store.url, "from": before, "to": after})
    else:
        console.print(f"Upgraded {store.url} from {before or 'empty'} to {after}.")


@db_app.command("status")
@handle_errors
def status(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Show the database URL, its schema revision and the revision this peelian needs."""
    from peelian.data.store import head_revision

    store = store_for(db, initialise=False)
    current, head = store.current_revision(), head_revision()
    info = {
        "database": store.url,
        "dialect": store.dialect,
        "revision": current,
        "head": head,
        "up_to_date": current == head,
    }
    if as_json:
        print_json(info)
    else:
        state = "up to date" if current == head else "needs `peelian db upgrade`"
        console.print(f"{store.url}: schema {current or 'none'} (newest {head}) - {state}")


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
