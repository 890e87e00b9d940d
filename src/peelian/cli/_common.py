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
from peelian.errors import PeelianError, exit_code_for

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


def store_for(db: str | None, *, initialise: bool = True) -> Any:
    """Open the store named by ``--db`` / ``PEELIAN_DATABASE_URL`` / the default SQLite file."""
    from peelian.data.store import open_store

    return open_store(settings_for(db).resolved_database_url, initialise=initialise)


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
