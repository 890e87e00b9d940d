"""A grid self-exciting point process fitted by expectation-maximisation.

Mohler, G. O., Short, M. B., Malinowski, S., Johnson, M., Tita, G. E., Bertozzi, A. L. and
Brantingham, P. J. (2015). "Randomized controlled field trials of predictive policing." Journal
of the American Statistical Association 110(512): 1399-1411 (the model behind PredPol).

In each grid cell n the event rate is

    lambda_n(t) = mu_n + sum_{t_i < t} theta * omega * exp(-omega * (t - t_i)),

the sum running over the cell's past events: a constant background rate mu_n per cell plus
exponentially decaying self-excitation (near repeats) with a productivity theta (expected
offspring per event) and a decay omega shared by all cells. EM (the paper's appendix): the E-step
gives each event the probability of being background, mu_n / lambda_n(t_i), or triggered by each
earlier event j, theta omega exp(-omega (t_i - t_j)) / lambda_n(t_i); the M-step sets
mu_n = (expected background events in n) / T, theta = (expected triggered events) / N and
omega = (expected triggered events) / sum p_ij (t_i - t_j).

Time is measured in periods of the cube. The data give only the period of each event (police.uk:
the month), so **every event is placed at the midpoint of its period**: events of one period never
trigger each other, and omega describes month-to-month (or week-to-week, day-to-day) excitation.
The sums over earlier events are computed recursively per period, so a fit costs
O(cells x periods x iterations).

**Collapse.** With monthly, snapped data (police.uk) the near-repeat effect, which lasts days to a
few weeks (Johnson & Bowers 2004), falls inside one period, where events cannot trigger each
other: EM then puts theta near zero and the model *is* the historical mean per cell. The fitted
model says so: ``collapsed_`` is true when the triggered part of its forecast is under
:data:`COLLAPSE_SHARE` of the whole, and ``fit_warnings()`` (copied onto every forecast it
makes, the backtest's run summary and the model card) explains it. Use the model on force
records with day or minute times (``build_cube(..., freq="D")``), where it can see repeats.
"""

from __future__ import annotations

import logging
from typing import ClassVar

import numpy as np

from peelian.analysis.forecast._base import Forecaster
from peelian.analysis.forecast._cube import CountCube

__all__ = ["COLLAPSE_SHARE", "GridSEPP", "sepp_em", "sepp_log_likelihood"]

log = logging.getLogger("peelian.analysis.forecast")

#: The self-exciting model counts as collapsed when triggering gives less than this share of
#: its forecast events (it is then the historical mean per cell).
COLLAPSE_SHARE: float = 0.05


def _excitation(counts: np.ndarray, omega: float) -> tuple[np.ndarray, np.ndarray]:
    """S[:, k] = sum_{j<k} c_j e^{-omega (k-j)} and D[:, k] = sum_{j<k} c_j (k-j) e^{-omega (k-j)}."""
    n, t = counts.shape
    s = np.zeros((n, t))
    d = np.zeros((n, t))
    decay = np.exp(-omega)
    for k in range(1, t):
        s[:, k] = decay * (s[:, k - 1] + counts[:, k - 1])
        d[:, k] = decay * (d[:, k - 1] + s[:, k - 1] + counts[:, k - 1])
    return s, d


def sepp_em(
    counts: np.ndarray,
    *,
    theta: float = 0.5,
    omega: float = 1.0,
    max_iter: int = 200,
    tol: float = 1e-6,
) -> dict:
    """Fit mu (per cell), theta and omega to a cells x periods count array by EM.

    Returns ``{"mu", "theta", "omega", "n_iter", "converged", "log_lik"}``; ``log_lik`` is the
    point-process log-likelihood at the final parameters (events at period midpoints).
    """
    counts = np.asarray(counts, dtype=float)
    n_cells, t = counts.shape
    total = counts.sum()
    mu = counts.sum(axis=1) / max(t, 1) * 0.5
    converged, it = False, 0
    if total == 0:
        return {"mu": np.zeros(n_cells), "theta": 0.0, "omega": omega, "n_iter": 0,
                "converged": True, "log_lik": 0.0}  # fmt: skip
    for it in range(1, max_iter + 1):  # noqa: B007 - `it` is reported
        s, d = _excitation(counts, omega)
        trig = theta * omega * s
        lam = mu[:, None] + trig
        with np.errstate(divide="ignore", invalid="ignore"):
            w = np.where(lam > 0, counts / lam, 0.0)
        background = (w * mu[:, None]).sum(axis=1)
        p_trig = float((w * trig).sum())
        p_dt = float((w * theta * omega * d).sum())
        new_mu = background / t
        new_theta = p_trig / total
        new_omega = p_trig / p_dt if p_dt > 0 else omega
        change = max(
            abs(new_theta - theta),
            abs(new_omega - omega) / max(omega, 1e-12),
            float(np.max(np.abs(new_mu - mu))) if n_cells else 0.0,
        )
        mu, theta, omega = new_mu, new_theta, max(new_omega, 1e-6)
        if change < tol:
            converged = True
            break
    return {
        "mu": mu,
        "theta": float(theta),
        "omega": float(omega),
        "n_iter": it,
        "converged": converged,
        "log_lik": sepp_log_likelihood(counts, mu, theta, omega),
    }


def sepp_log_likelihood(counts: np.ndarray, mu: np.ndarray, theta: float, omega: float) -> float:
    """Point-process log-likelihood sum_i log lambda(t_i) - integral of lambda over [0, T], with
    events at period midpoints (Daley & Vere-Jones 2003, eq. 7.1.2)."""
    counts = np.asarray(counts, dtype=float)
    t = counts.shape[1]
    s, _ = _excitation(counts, omega)
    lam = np.asarray(mu, dtype=float)[:, None] + theta * omega * s
    with np.errstate(divide="ignore"):
        log_term = np.where(counts > 0, counts * np.log(np.where(lam > 0, lam, 1.0)), 0.0)
    ages = t - (np.arange(t) + 0.5)
    compensator = float(np.sum(mu)) * t + theta * float(
        (counts * (1 - np.exp(-omega * ages))).sum()
    )
    return float(log_term.sum() - compensator)


class GridSEPP(Forecaster):
    """Grid self-exciting point process (Mohler et al. 2015), fitted by EM on the cube.

    ``predict`` gives the expected events in each cell over the next period:
    mu_n + theta * (1 - e^{-omega}) * sum_i e^{-omega (T - t_i)}, with events at period midpoints.
    ``window`` limits the fit to the last periods (``None``: all). Fitted: ``mu_``, ``theta_``,
    ``omega_`` (per period), ``n_iter_``, ``converged_``, ``log_lik_``, ``trigger_share_`` (the
    share of the next period's forecast that comes from triggering) and ``collapsed_``
    (``trigger_share_ < COLLAPSE_SHARE``: the model is the historical mean; see the module notes).
    """

    name: ClassVar[str] = "sepp"
    _constraints: ClassVar = {
        "theta_init": ("num>", 0),
        "omega_init": ("num>", 0),
        "max_iter": ("int>=", 1),
        "tol": ("num>", 0),
        "window": ("num_or_none>", 0),
    }

    def __init__(
        self,
        theta_init: float = 0.5,
        omega_init: float = 1.0,
        max_iter: int = 200,
        tol: float = 1e-6,
        window: int | None = None,
    ) -> None:
        self.theta_init = theta_init
        self.omega_init = omega_init
        self.max_iter = max_iter
        self.tol = tol
        self.window = window

    def _min_periods(self) -> int:
        return 2

    def _fit(self, cube: CountCube) -> None:
        counts = cube.counts if self.window is None else cube.counts[:, -int(self.window) :]
        active = counts.sum(axis=1) > 0
        res = sepp_em(
            counts[active],
            theta=self.theta_init,
            omega=self.omega_init,
            max_iter=self.max_iter,
            tol=self.tol,
        )
        mu = np.zeros(cube.n_cells)
        mu[active] = res["mu"]
        self.mu_ = mu
        self.theta_ = res["theta"]
        self.omega_ = res["omega"]
        self.n_iter_ = res["n_iter"]
        self.converged_ = res["converged"]
        self.log_lik_ = res["log_lik"]
        self.freq_ = cube.freq
        base = float(self.mu_.sum())
        triggered = float(self._triggered(cube).sum())
        self.trigger_share_ = triggered / (base + triggered) if base + triggered > 0 else 0.0
        self.collapsed_ = self.trigger_share_ < COLLAPSE_SHARE
        if self.collapsed_:
            log.info("%s", self.fit_warnings()[0])

    def fit_warnings(self) -> list[str]:
        """A plain-language warning when the fit collapsed to the historical mean."""
        if not getattr(self, "collapsed_", False):
            return []
        unit = {"M": "month", "W": "week", "D": "day"}.get(self.freq_, self.freq_)
        head = (
            f"The self-exciting model collapsed to the historical mean: triggering gives "
            f"{self.trigger_share_:.1%} of its forecast (theta = {self.theta_:.3f}), under "
            f"{COLLAPSE_SHARE:.0%}."
        )
        if self.freq_ == "M":
            return [
                f"{head} Events dated only to the {unit} cannot show near repeats, which last "
                "days to weeks; use this model on force records with day or minute times."
            ]
        return [
            f"{head} Counted per {unit}, these events show no more repeats in a cell in the "
            f"following {unit}s than the cell's own steady rate explains: a finding about the "
            "data (synthetic force records, for one, are generated without near repeats), so "
            "the forecast is each cell's historical mean."
        ]

    def _triggered(self, cube: CountCube) -> np.ndarray:
        t = cube.n_periods
        ages = t - (np.arange(t) + 0.5)
        excite = cube.counts @ np.exp(-self.omega_ * ages)
        return self.theta_ * (1 - np.exp(-self.omega_)) * excite

    def _expected(self, cube: CountCube) -> np.ndarray:
        return self.mu_ + self._triggered(cube)
