"""What every CLI command shares: the ``--db`` option, one-line errors mapped to exit codes,
``--json`` output, the Rich console and progress bars."""

from __future__ import annotations

import datetime as dt
import decimal
import functools
import json
import logging
import math
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from peelian.config import Settings, get_settings
from peelian.errors import NotFoundError, PeelianError, exit_code_for

__all__ = [
    "DbOption",
    "JsonOption",
    "console",
    "err_console",
    "fail",
    "handle_errors",
    "json_default",
    "print_json",
    "progress",
    "resolve_database",
    "settings_for",
    "store_for",
]

console = Console()
err_console = Console(stderr=True)
F = TypeVar("F", bound=Callable[..., Any])

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        envvar="PEELIAN_DATABASE_URL",
        help="Database URL (default: SQLite in the data directory). "
        "E.g. postgresql://postgres@127.0.0.1:5432/test",
        show_default=False,
    ),
]
JsonOption = Annotated[
    bool, typer.Option("--json", help="Print one JSON object instead of tables.")
]


def settings_for(db: str | None) -> Settings:
    """Settings with ``--db`` applied on top of the environment."""
    settings = get_settings()
    if db:
        settings = settings.model_copy(update={"database_url": db})
    return settings


def resolve_database(db: str | None) -> tuple[str, str | None]:
    """The database URL a command uses, and a note when it is not the one the settings name.

    With no ``--db``, no ``PEELIAN_DATABASE_URL`` and no ``PEELIAN_DATA_DIR``, and no database
    yet in the default data directory, a demo database built by ``make demo`` in this checkout
    (``.peelian-demo/peelian.sqlite``) is used, and the note says so.
    """
    from peelian.data.datasets import demo_database

    settings = settings_for(db)
    url = settings.resolved_database_url
    chosen = bool(db) or bool({"database_url", "data_dir"} & settings.model_fields_set)
    default = settings.data_dir / "peelian.sqlite"
    if not chosen and not default.exists():
        demo = demo_database()
        if demo is not None:
            note = (
                f"Using the demo database {demo} (there is no database at {default}); set "
                f"PEELIAN_DATA_DIR={demo.parent} to make it the default, or give --db."
            )
            return f"sqlite:///{demo}", note
    return url, None


def _sqlite_path(url: str) -> Path | None:
    if not url.startswith("sqlite") or "///" not in url:
        return None
    path = url.split("///", 1)[1].split("?", 1)[0]
    return None if path in ("", ":memory:") else Path(path)


def store_for(db: str | None, *, initialise: bool = True, must_exist: bool = False) -> Any:
    """Open the store named by ``--db`` / ``PEELIAN_DATABASE_URL`` / the default SQLite file
    (or the demo database, see :func:`resolve_database`; the note goes to stderr).

    ``must_exist``: a read-only command; never create a database, and say there is none
    (:class:`~peelian.errors.NotFoundError`) instead of reading an empty one.
    """
    from peelian.data.store import check_database_url, open_store

    url, note = resolve_database(db)
    check_database_url(url)
    if note:
        err_console.print(note, highlight=False, soft_wrap=True)
    if not must_exist:
        return open_store(url, initialise=initialise)
    hint = (
        "Nothing is loaded yet: run `make demo` (the demo database), or `peelian ingest "
        "policeuk <zip>` to start one; or give --db / PEELIAN_DATABASE_URL / PEELIAN_DATA_DIR "
        "for an existing database."
    )
    path = _sqlite_path(url)
    if path is not None and not path.exists():
        raise NotFoundError(f"There is no peelian database at {path}.", hint)
    store = open_store(url, initialise=False)
    if store.current_revision() is None and store.is_empty():
        store.dispose()
        raise NotFoundError(f"The database at {store.url} has no peelian tables.", hint)
    store.check_schema()
    return store


def json_default(obj: Any) -> Any:
    """JSON encoder for the types our results contain (dates, numpy, paths, decimals)."""
    import numpy as np

    if isinstance(obj, dt.datetime | dt.date):
        return obj.isoformat()
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        f = float(obj)
        return None if math.isnan(f) else f
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, decimal.Decimal):
        return float(obj)
    if isinstance(obj, Path):
        return str(obj)
    if hasattr(obj, "to_dict"):
        return obj.to_dict()
    raise TypeError(f"Cannot encode {type(obj).__name__} as JSON")


def _clean_nan(obj: Any) -> Any:
    if isinstance(obj, float) and (math.isnan(obj) or math.isinf(obj)):
        return None
    if isinstance(obj, dict):
        return {k: _clean_nan(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_clean_nan(v) for v in obj]
    return obj


def print_json(obj: Any) -> None:
    """Print one JSON document on stdout (NaN becomes null, so it is valid JSON)."""
    sys.stdout.write(json.dumps(_clean_nan(obj), default=json_default, ensure_ascii=False))
    sys.stdout.write("\n")
    sys.stdout.flush()


def fail(exc: PeelianError, *, as_json: bool = False) -> None:
    """Report a domain error on one line (or as JSON) and exit with its code."""
    if as_json:
        print_json({"error": exc.to_dict()})
    else:
        err_console.print(f"[bold red]Error:[/] {exc}", highlight=False, soft_wrap=True)
    raise typer.Exit(exit_code_for(exc))


def handle_errors(func: F) -> F:
    """Turn :class:`PeelianError` into a one-line message and its exit code; never a traceback.

    Anything else is a bug: one line, exit code 1, and the traceback only with ``PEELIAN_DEBUG=1``.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        as_json = bool(kwargs.get("as_json"))
        try:
            return func(*args, **kwargs)
        except PeelianError as exc:
            fail(exc, as_json=as_json)
        except (typer.Exit, typer.Abort, SystemExit):
            raise
        except KeyboardInterrupt:
            err_console.print("Interrupted.")
            raise typer.Exit(130) from None
        except Exception as exc:  # a bug: say so in one line
            import os

            if os.environ.get("PEELIAN_DEBUG"):
                raise
            msg = (
                f"Internal error ({type(exc).__name__}: {exc}). This is a bug in peelian: "
                "please report it with the command you ran; PEELIAN_DEBUG=1 shows the traceback."
            )
            if as_json:
                print_json({"error": {"code": "internal_error", "message": msg, "hint": None}})
            else:
                err_console.print(f"[bold red]Error:[/] {msg}", highlight=False, soft_wrap=True)
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]


@contextmanager
def progress(enabled: bool = True) -> Iterator[Progress]:
    """A Rich progress bar on stderr (disabled for ``--json`` or when not a terminal)."""
    prog = Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        disable=not enabled,
        transient=False,
    )
    with prog:
        yield prog


def configure_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
