"""The estimator contract every forecaster follows, and the grid forecast it returns.

scikit-learn's contract (STYLE practice 2): ``__init__`` only stores keyword parameters;
``fit(cube)`` learns from the cube's periods and returns ``self``, setting attributes that end in
``_``; ``predict()`` returns a :class:`GridForecast` of expected counts per cell for the period after
the fitted cube (``predict(cube)`` forecasts the period after a newer cube on the same cells with
the fitted parameters); ``get_params()`` returns the parameters for run logs. Using an estimator
before ``fit`` raises :class:`peelian.errors.NotFittedError`.
"""

from __future__ import annotations

import inspect
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from peelian.analysis.forecast._cube import CountCube, crime_possible
from peelian.analysis.forecast._metrics import DEFAULT_COVERAGE, flag_share, tie_rank
from peelian.errors import NotFittedError, ParameterError, SchemaError
from peelian.schemas.params import Constraint, check_params, integer, number, or_none

__all__ = ["CRIME_POSSIBLE", "WHOLE_FORCE", "Forecaster", "GridForecast", "validate_params"]

#: The scored area: cells with a police.uk event of any type in the training periods.
CRIME_POSSIBLE = "crime-possible"
#: The whole force area (every in-area cell), kept for comparison and labelled so.
WHOLE_FORCE = "whole force"


@dataclass(frozen=True, eq=False)
class GridForecast:
    """Expected event counts per cell for one period (the cells of the cube it came from)."""

    model: str
    period: pd.Period
    expected: np.ndarray
    cube: CountCube = field(repr=False)
    params: dict[str, Any] = field(default_factory=dict)
    #: What the model says about its own fit (e.g. the self-exciting model's collapse).
    warnings: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        exp = np.asarray(self.expected, dtype=float)
        if exp.shape != (self.cube.n_cells,) or not np.all(np.isfinite(exp)) or np.any(exp < 0):
            raise SchemaError(
                f"Forecast {self.model!r} must give one finite expected count >= 0 per cell."
            )
        object.__setattr__(self, "expected", exp)

    @property
    def density(self) -> np.ndarray:
        """Expected events per km^2 of in-area cell."""
        return self.expected / (self.cube.area / 1e6)

    def domain(self, area_basis: str = CRIME_POSSIBLE) -> np.ndarray | None:
        """The scored cells: the crime-possible cells of the training periods (no look-ahead),
        or ``None`` for the whole force (``area_basis="whole force"``)."""
        if area_basis == WHOLE_FORCE:
            return None
        if area_basis != CRIME_POSSIBLE:
            raise ParameterError(
                f"The area basis must be {CRIME_POSSIBLE!r} or {WHOLE_FORCE!r}. Got {area_basis!r}."
            )
        return crime_possible(self.cube)[0]

    def rank(self) -> np.ndarray:
        """1 = most expected events; tied cells share their group's best rank (no arbitrary
        order by grid position: ties are broken the way the scores break them, at random)."""
        return tie_rank(self.expected)

    def flag_share(self, coverage: float, area_basis: str = CRIME_POSSIBLE) -> np.ndarray:
        """Each cell's share of the flagged area (1 inside, the tied group's common fraction at
        the boundary, 0 outside) when the top cells cover ``coverage`` (a fraction, e.g. 0.01)
        of the crime-possible area (or of the whole force)."""
        return flag_share(self.expected, self.cube.area, coverage, self.domain(area_basis))

    def flagged(self, coverage: float, area_basis: str = CRIME_POSSIBLE) -> np.ndarray:
        """Boolean mask of the cells wholly inside the top ``coverage`` of the area (cells tied
        at the boundary are not in it; see :meth:`flag_share`)."""
        return self.flag_share(coverage, area_basis) >= 1.0

    def coverage_statement(
        self, coverage: float = DEFAULT_COVERAGE, area_basis: str = CRIME_POSSIBLE
    ) -> dict[str, Any]:
        """What ``coverage`` means in cells and km^2 for this forecast (for every figure shown)."""
        domain = self.domain(area_basis)
        inside = np.ones(self.cube.n_cells, bool) if domain is None else domain
        share = self.flag_share(coverage, area_basis)
        km2 = self.cube.area / 1e6
        full, tied = share >= 1.0, (share > 0) & (share < 1.0)
        return {
            "coverage_pct": coverage * 100,
            "area_basis": area_basis,
            "domain_cells": int(inside.sum()),
            "domain_km2": float(km2[inside].sum()),
            "flagged_cells": int(full.sum()),
            "flagged_km2": float(km2[full].sum()),
            "tied_cells": int(tied.sum()),
            "tied_share": float(share[tied][0]) if tied.any() else 0.0,
            "expected_flagged_km2": float(share @ km2),
            "rule": crime_possible(self.cube)[1] if domain is not None else "every in-area cell",
        }

    def to_frame(
        self, coverage: float = DEFAULT_COVERAGE, area_basis: str = CRIME_POSSIBLE
    ) -> pd.DataFrame:
        """cell_id, x, y, area_m2, predicted, rank (ties share a rank), crime_possible, flag_share,
        flagged (wholly inside the top ``coverage`` of the area) and tied (in the tie group at the
        boundary, flagged with probability ``flag_share``)."""
        share = self.flag_share(coverage, area_basis)
        return pd.DataFrame(
            {
                "cell_id": self.cube.cell_id,
                "x": self.cube.x,
                "y": self.cube.y,
                "area_m2": self.cube.area,
                "predicted": self.expected,
                "rank": self.rank(),
                "crime_possible": crime_possible(self.cube)[0],
                "flag_share": share,
                "flagged": share >= 1.0,
                "tied": (share > 0) & (share < 1.0),
            }
        )


def validate_params(owner: str, constraints: dict[str, tuple[str, Any]], params: dict) -> None:
    """Check parameters against declarative constraints (STYLE practice 4) with the
    vocabulary's one validator, :func:`peelian.schemas.params.check_params`.

    ``constraints`` maps a name to ``(kind, bound)``: ``("int>=", 1)``, ``("num>", 0)``,
    ``("num>=", 0)``, ``("in", {...})``, ``("num_or_none>", 0)``.
    """
    table = {name: _constraint(kind, bound) for name, (kind, bound) in constraints.items()}
    check_params(owner, {name: params[name] for name in constraints}, table, none_ok=False)


def _constraint(kind: str, bound: Any) -> Constraint:
    if kind == "int>=":
        return integer(ge=bound)
    if kind == "num>":
        return number(gt=bound)
    if kind == "num>=":
        return number(ge=bound)
    if kind == "num_or_none>":
        return or_none(number(gt=bound))
    if kind == "in":
        return (f"one of {sorted(bound)}", lambda v: v in bound)
    raise ValueError(kind)  # a programming error in a constraint table


class Forecaster(ABC):
    """Base class: parameters, fitted-state checks and the common ``predict`` plumbing.

    Subclasses define ``name``, ``_constraints``, ``_fit(cube)`` and ``_expected(cube)``.
    """

    name: ClassVar[str] = "forecaster"
    _constraints: ClassVar[dict[str, tuple[str, Any]]] = {}

    @classmethod
    def _param_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        return [p for p in sig.parameters if p != "self"]

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor parameters (for run logs and ``set_params``)."""
        return {p: getattr(self, p) for p in self._param_names()}

    def describe(self) -> dict[str, Any]:
        """The model's name and parameters as plain JSON-able data (for run logs)."""

        def plain(v: Any) -> Any:
            if isinstance(v, Forecaster):
                return v.describe()
            if isinstance(v, list | tuple):
                return [plain(x) for x in v]
            return v

        return {"model": self.name, "params": {k: plain(v) for k, v in self.get_params().items()}}

    def set_params(self, **params: Any) -> Forecaster:
        valid = set(self._param_names())
        for key, value in params.items():
            if key not in valid:
                raise ParameterError(
                    f"{type(self).__name__} has no parameter {key!r}.",
                    f"Valid parameters: {', '.join(sorted(valid))}.",
                )
            setattr(self, key, value)
        return self

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    # -- contract -------------------------------------------------------------------------------
    def fit(self, cube: CountCube) -> Forecaster:
        """Learn from every period of ``cube``; returns ``self``."""
        if not isinstance(cube, CountCube):
            raise SchemaError(
                f"{type(self).__name__}.fit needs a CountCube; got {type(cube).__name__}.",
                "Build one with peelian.analysis.forecast.cube_from_counts.",
            )
        validate_params(type(self).__name__, self._constraints, self.get_params())
        if cube.n_periods < self._min_periods():
            raise SchemaError(
                f"{type(self).__name__} needs at least {self._min_periods()} periods of data; "
                f"the cube has {cube.n_periods}.",
                "Load more history or choose a later forecast origin.",
            )
        self._fit(cube)
        self.cube_ = cube
        return self

    def predict(self, cube: CountCube | None = None) -> GridForecast:
        """Expected counts per cell for the period after ``cube`` (default: the fitted cube)."""
        self._check_fitted()
        cube = self.cube_ if cube is None else cube
        if cube.n_cells != self.cube_.n_cells:
            raise SchemaError(
                f"The cube has {cube.n_cells} cells; the model was fitted on {self.cube_.n_cells}.",
                "Predict on the same grid the model was fitted on.",
            )
        expected = np.clip(np.nan_to_num(self._expected(cube), nan=0.0), 0.0, None)
        return GridForecast(
            model=self.name,
            period=cube.next_period,
            expected=expected,
            cube=cube,
            params=self.describe()["params"],
            warnings=tuple(self.fit_warnings()),
        )

    def fit_warnings(self) -> list[str]:
        """Plain-language warnings about the fitted model (none by default)."""
        return []

    def _check_fitted(self) -> None:
        if not hasattr(self, "cube_"):
            raise NotFittedError(
                f"This {type(self).__name__} is not fitted yet.",
                "Call fit(cube) before predict().",
            )

    # -- to implement ---------------------------------------------------------------------------
    def _min_periods(self) -> int:
        return 1

    @abstractmethod
    def _fit(self, cube: CountCube) -> None:
        """Learn from ``cube``; each forecaster sets its fitted ``*_`` attributes here."""

    @abstractmethod
    def _expected(self, cube: CountCube) -> np.ndarray:
        """Expected counts per cell for the period after ``cube``'s last one."""
