"""Errors of the offence vocabulary: :mod:`peelian.errors` classes, so the CLI and the web API
map them to their exit codes and HTTP statuses like any other peelian error.

- :class:`OffenceDefinitionError` -- a :class:`~peelian.errors.SchemaError` (exit 3): a
  definition, override or data file cannot be used.
- :class:`UnknownOffenceError` -- a :class:`~peelian.errors.NotFoundError` (exit 6): a named
  set, type, category or file does not exist.
- :class:`OffenceParameterError` -- a :class:`~peelian.errors.ParameterError` (exit 2): a
  function of this package was called with an invalid argument.

All three derive from :class:`OffenceError`, so ``except OffenceError`` catches any of them.
"""

from __future__ import annotations

from peelian.errors import NotFoundError, ParameterError, PeelianError, SchemaError

__all__ = [
    "OffenceDefinitionError",
    "OffenceError",
    "OffenceParameterError",
    "UnknownOffenceError",
]


class OffenceError(PeelianError):
    """Base class of the offence vocabulary's errors: ``message`` says what and why, ``hint``
    how to fix it."""


class OffenceDefinitionError(OffenceError, SchemaError):
    """A definition, override or data file cannot be used (exit 3, HTTP 422)."""


class UnknownOffenceError(OffenceError, NotFoundError):
    """A named set, type, category or file does not exist (exit 6, HTTP 404)."""


class OffenceParameterError(OffenceError, ParameterError):
    """An argument has an invalid value (exit 2, HTTP 422)."""
