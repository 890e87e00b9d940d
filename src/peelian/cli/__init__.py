"""The ``peelian`` command line: a thin Typer app over the Python API.

Each sub-command group lives in its own module and is registered in :data:`COMMAND_MODULES`.
Exit codes are documented in :mod:`peelian.errors`.
"""

from __future__ import annotations

import importlib
from typing import Annotated

import typer

from peelian import __version__
from peelian.cli._common import configure_logging

__all__ = ["COMMAND_MODULES", "app", "main"]

app = typer.Typer(
    name="peelian",
    help="peelian: crime and serious-violence prevention analytics. "
    "The test of police efficiency is the absence of crime and disorder.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)

#: Modules that each define ``register(app)``; one per command group.
COMMAND_MODULES: tuple[str, ...] = (
    "peelian.cli.db",
    "peelian.cli.offences",
    "peelian.cli.force",
    "peelian.cli.areas",
    "peelian.cli.fetch",
    "peelian.cli.ingest",
    "peelian.cli.info",
    "peelian.cli.demo",
    "peelian.cli.serve",
    "peelian.cli.report",
    "peelian.cli.users",
    "peelian.cli.synth",
    "peelian.cli.measures",
    "peelian.cli.stats",
    "peelian.cli.satisfaction",
    "peelian.cli.hotspots",
    "peelian.cli.forecast",
    "peelian.cli.grip",
    "peelian.cli.casework",
    "peelian.cli.audit",
    "peelian.cli.people",
    "peelian.cli.victims",
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"peelian {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Log what is being done.")
    ] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    configure_logging(verbose)


for _name in COMMAND_MODULES:
    importlib.import_module(_name).register(app)


def main() -> None:
    """Entry point of the ``peelian`` script."""
    app()
