"""An ensemble: the weighted mean of member forecasts' expected counts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import numpy as np

from peelian.analysis.forecast._base import Forecaster, GridForecast
from peelian.analysis.forecast._cube import CountCube
from peelian.errors import ParameterError

__all__ = ["Ensemble"]


class Ensemble(Forecaster):
    """Weighted mean of its members' expected counts (weights normalised to sum to 1).

    Averaging forecasts that err differently usually beats each of them (Bates & Granger 1969,
    "The combination of forecasts"); the members and weights are chosen on months before any test
    window (see docs/model-cards/ensemble.md).
    """

    name: ClassVar[str] = "ensemble"

    def __init__(
        self, members: Sequence[Forecaster] = (), weights: Sequence[float] | None = None
    ) -> None:
        self.members = members
        self.weights = weights

    def _normalised_weights(self) -> np.ndarray:
        if not self.members:
            raise ParameterError(
                "The 'members' parameter of Ensemble must name at least one model."
            )
        w = np.ones(len(self.members)) if self.weights is None else np.asarray(self.weights, float)
        if w.shape != (len(self.members),) or np.any(w < 0) or w.sum() <= 0:
            raise ParameterError(
                f"The 'weights' parameter of Ensemble must give one weight >= 0 per member "
                f"({len(self.members)}), not all zero. Got {self.weights!r}."
            )
        return w / w.sum()

    def _fit(self, cube: CountCube) -> None:
        self.weights_ = self._normalised_weights()
        self.members_ = [m.fit(cube) for m in self.members]

    def _min_periods(self) -> int:
        return max([m._min_periods() for m in self.members] or [1])

    def combine(self, forecasts: Sequence[GridForecast]) -> np.ndarray:
        """The ensemble's expected counts from its members' forecasts (same order as members)."""
        w = self._normalised_weights()
        return np.sum([wi * f.expected for wi, f in zip(w, forecasts, strict=True)], axis=0)

    def _expected(self, cube: CountCube) -> np.ndarray:
        return self.combine([m.predict(cube) for m in self.members_])
