"""The peelian exception hierarchy, and its mapping to CLI exit codes and HTTP statuses.

Every error says what is wrong, why, and how to fix it (STYLE practice 5). The mapping from
exception class to exit code / HTTP status lives here, in one place (STYLE practice 6), so the CLI
and the web API agree.

Exit codes (documented in ``docs/guide/cli.md``):

====  ===========================================================
0     success
1     unexpected internal error (a bug: please report it)
2     usage error (bad option or argument) -- Typer/Click's own code
3     input data error: the file or its contents cannot be used
4     store error: the database cannot be opened, is too old, or failed; or a record was
      changed by someone else since it was read (optimistic locking)
5     analysis refused: the data cannot support the requested method
6     not found: the named thing (measure, area, batch, user) does not exist
7     network error (only ``peelian fetch``)
8     authentication or permission error
====  ===========================================================
"""

from __future__ import annotations

__all__ = [
    "AuthError",
    "ConfigError",
    "ConflictError",
    "DataPrecisionError",
    "EmptySelectionError",
    "FetchError",
    "IngestError",
    "NotFittedError",
    "NotFoundError",
    "ParameterError",
    "PeelianError",
    "SchemaError",
    "SchemaOutdatedError",
    "StoreError",
    "exit_code_for",
    "http_status_for",
]


class PeelianError(Exception):
    """Base class of every error peelian raises on purpose.

    ``message`` says what is wrong and why; ``hint`` says how to fix it. ``str(err)`` joins both on
    one line, which is what the CLI prints.
    """

    exit_code: int = 1
    http_status: int = 500
    code: str = "error"

    def __init__(self, message: str, hint: str | None = None) -> None:
        self.message = message
        self.hint = hint
        super().__init__(message if not hint else f"{message} {hint}")

    def to_dict(self) -> dict[str, str | None]:
        """The JSON error shape shared by the CLI (``--json``) and the web API."""
        return {"code": self.code, "message": self.message, "hint": self.hint}


class ParameterError(PeelianError, ValueError):
    """A parameter has an invalid value (``The 'cell_size' parameter of gistar must be ...``)."""

    exit_code = 2
    http_status = 422
    code = "invalid_parameter"


class ConfigError(PeelianError):
    """Settings are missing or unsafe (e.g. a placeholder secret outside development)."""

    exit_code = 2
    http_status = 500
    code = "config_error"


class SchemaError(PeelianError, ValueError):
    """Input does not have the columns, types or values a function needs."""

    exit_code = 3
    http_status = 422
    code = "schema_error"


class IngestError(PeelianError):
    """A file cannot be ingested at all (rows that can be read are quarantined instead)."""

    exit_code = 3
    http_status = 422
    code = "ingest_error"


class StoreError(PeelianError):
    """The store cannot be opened or written."""

    exit_code = 4
    http_status = 503
    code = "store_error"


class ConflictError(StoreError):
    """A record was changed by someone else since it was read (optimistic locking): the update
    named a stale version and nothing was written."""

    http_status = 409
    code = "conflict"


class SchemaOutdatedError(StoreError):
    """The database schema is older than this version of peelian."""

    code = "schema_outdated"


class DataPrecisionError(PeelianError):
    """The data's time or location precision cannot support the requested analysis."""

    exit_code = 5
    http_status = 422
    code = "insufficient_precision"


class EmptySelectionError(PeelianError):
    """A selection (crime type, period, area) holds no events."""

    exit_code = 5
    http_status = 422
    code = "empty_selection"


class NotFittedError(PeelianError, AttributeError):
    """An estimator was used before ``fit``."""

    exit_code = 5
    http_status = 409
    code = "not_fitted"


class NotFoundError(PeelianError, LookupError):
    """A named thing (measure, area, batch, user, offence set) does not exist."""

    exit_code = 6
    http_status = 404
    code = "not_found"


class FetchError(PeelianError):
    """A download failed after its retries."""

    exit_code = 7
    http_status = 502
    code = "fetch_error"


class AuthError(PeelianError):
    """Authentication failed or the user lacks the role for an action."""

    exit_code = 8
    http_status = 403
    code = "forbidden"


def exit_code_for(exc: BaseException) -> int:
    """The CLI exit code for an exception (1 for anything not a :class:`PeelianError`)."""
    return exc.exit_code if isinstance(exc, PeelianError) else 1


def http_status_for(exc: BaseException) -> int:
    """The HTTP status for an exception (500 for anything not a :class:`PeelianError`)."""
    return exc.http_status if isinstance(exc, PeelianError) else 500
