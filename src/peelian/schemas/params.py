"""The one parameter validator: constraints as data, one uniform message (STYLE practice 4,
after scikit-learn's ``_parameter_constraints``).

A constraint is ``(what, ok)``: the words that finish "must be ..." and a predicate. Tables of
them live next to the functions they guard (the grid and hotspot functions, the forecasters,
the web services); :func:`check_params` reads any of them:

>>> check_params("gistar", {"cell_size": 250.0}, {"cell_size": number(gt=0)})
>>> try:
...     check_params("gistar", {"cell_size": -5}, {"cell_size": number(gt=0)})
... except ValueError as exc:
...     print(exc)
The 'cell_size' parameter of gistar must be a number > 0. Got -5.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from numbers import Integral, Real
from typing import Any

import numpy as np

from peelian.errors import ParameterError

__all__ = [
    "Constraint",
    "boolean",
    "check_params",
    "integer",
    "number",
    "one_of",
    "or_none",
    "probability",
]

#: (what it must be, a predicate): "The 'x' parameter of f must be <what>. Got <value>."
Constraint = tuple[str, Callable[[Any], Any]]


def _real(v: Any) -> bool:
    return isinstance(v, Real) and not isinstance(v, bool) and math.isfinite(float(v))


def number(*, gt: float | None = None, ge: float | None = None) -> Constraint:
    """A finite number (not a bool) above ``gt`` or at least ``ge``."""
    if gt is not None:
        return (f"a number > {gt:g}", lambda v: _real(v) and v > gt)
    if ge is not None:
        return (f"a number >= {ge:g}", lambda v: _real(v) and v >= ge)
    return ("a number", _real)


def integer(*, ge: int | None = None, le: int | None = None, odd: bool = False) -> Constraint:
    """An integer (not a bool), optionally bounded and odd."""

    def ok(v: Any) -> bool:
        if not isinstance(v, Integral) or isinstance(v, bool):
            return False
        return (ge is None or v >= ge) and (le is None or v <= le) and (not odd or v % 2 == 1)

    if ge is not None and le is not None:
        what = f"an integer from {ge} to {le}"
    elif ge is not None:
        what = f"an {'odd ' if odd else ''}integer >= {ge}"
    else:
        what = "an integer"
    return (what, ok)


def probability() -> Constraint:
    """A number strictly between 0 and 1."""
    return ("a number strictly between 0 and 1", lambda v: _real(v) and 0 < v < 1)


def boolean() -> Constraint:
    """True or False (numpy's bool too)."""
    return ("True or False", lambda v: isinstance(v, bool | np.bool_))


def one_of(*options: Any) -> Constraint:
    """One of ``options`` (their reprs are listed in the message)."""
    return (f"one of {', '.join(repr(o) for o in options)}", lambda v: v in options)


def or_none(constraint: Constraint) -> Constraint:
    """``constraint`` or None, for :func:`check_params` with ``none_ok=False``."""
    what, ok = constraint
    return (f"{what} or None", lambda v: v is None or ok(v))


def check_params(
    owner: str,
    params: Mapping[str, Any],
    constraints: Mapping[str, Constraint],
    *,
    none_ok: bool = True,
) -> None:
    """Check each of ``params`` that has a constraint; raise :class:`ParameterError` with the
    one message shape for the first that fails. With ``none_ok`` (the default) ``None`` means
    "choose automatically" and is not checked."""
    for name, value in params.items():
        if name not in constraints or (none_ok and value is None):
            continue
        what, ok = constraints[name]
        if not ok(value):
            raise ParameterError(
                f"The {name!r} parameter of {owner} must be {what}. Got {value!r}."
            )
