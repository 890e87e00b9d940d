"""Seasonally adjusted trend of monthly counts: a Poisson or negative-binomial GLM with
calendar-month effects, fitted to many series at once by batched IRLS.

Model: ``log E[y_t] = log(exposure_t) + b0 + b1 * t_years + month effects`` (month effects when
there are at least 24 months). The Poisson fit is checked for over-dispersion with Pearson's
statistic (``X2 ~ chi2(n - p)`` under the Poisson model; over-dispersed when its p < 0.05); an
over-dispersed series is refitted as NB2 (variance ``mu + alpha mu^2``) with ``alpha`` from the
Cameron & Trivedi auxiliary regression, updated once after the refit. The trend is reported as
the annual percentage change ``100 (exp(b1) - 1)`` with its Wald 95% interval and p-value.

Sources: McCullagh P, Nelder JA (1989). *Generalized Linear Models*, 2nd ed. (IRLS, Pearson
dispersion); Cameron AC, Trivedi PK (1990). Regression-based tests for overdispersion in the
Poisson model. *J. Econometrics* 46: 347-364; Cameron & Trivedi (2013), *Regression Analysis of
Count Data*, 2nd ed., ch. 3. For a fixed ``alpha`` the fits equal statsmodels'
``GLM(family=Poisson())`` and ``GLM(family=NegativeBinomial(alpha=alpha))``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import stats

from peelian.errors import ParameterError

__all__ = ["TrendResult", "seasonal_design", "seasonal_trend", "seasonal_trend_batch"]


def seasonal_design(months: list[str], seasonal: bool | None = None) -> tuple[np.ndarray, bool]:
    """Design matrix [intercept, years since the middle month, 11 month dummies]."""
    if not months:
        raise ParameterError("A trend needs at least one month.")
    try:
        ym = np.array([int(m[:4]) * 12 + int(m[5:7]) - 1 for m in months])
    except (ValueError, TypeError) as exc:
        raise ParameterError(f"Months must be 'YYYY-MM' strings. Got {months[:3]!r}.") from exc
    t = (ym - ym.mean()) / 12.0
    if seasonal is None:
        seasonal = len(months) >= 24
    cols = [np.ones(len(months)), t]
    if seasonal:
        moy = ym % 12
        for k in range(1, 12):
            cols.append((moy == k).astype(float))
    return np.column_stack(cols), seasonal


def _mm(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b`` without BLAS: on a shared, oversubscribed machine multi-threaded BLAS stalls
    (its threads wait for each other); these products are small and memory-bound anyway."""
    return np.einsum("ij,jk->ik", a, b, optimize=False)


def _irls(
    y: np.ndarray,
    x: np.ndarray,
    offset: np.ndarray,
    w_obs: np.ndarray,
    alpha: np.ndarray,
    iters: int = 50,
    tol: float = 1e-9,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Batched IRLS for log-link Poisson (alpha = 0) / NB2 GLMs. Returns beta, cov, mu.

    ``X'WX`` for every series is one matrix product ``W @ (x_t x_t')`` (rows = series); a
    series stops iterating when its coefficients change by less than ``tol`` or its fitted
    means by less than ``tol`` relative to ``1 + mu`` (a month-of-year with no events drives
    its coefficient to minus infinity while the fit itself has converged).
    """
    s, t = y.shape
    p = x.shape[1]
    xx = (x[:, :, None] * x[:, None, :]).reshape(t, p * p)
    ridge = 1e-10 * np.eye(p)
    mu = np.where(w_obs > 0, y + 0.5, 1.0) * np.ones_like(y)
    eta = np.log(mu)
    beta = np.zeros((s, p))
    active = np.arange(s)
    for _ in range(iters):
        if not len(active):
            break
        ya, oa, wa, ma, ea = y[active], offset[active], w_obs[active], mu[active], eta[active]
        aa = alpha[active, None]
        w = wa * ma / (1 + aa * ma)
        z = ea - oa + (ya - ma) / ma
        xtwx = _mm(w, xx).reshape(-1, p, p) + ridge
        xtwz = _mm(w * z, x)
        new = np.linalg.solve(xtwx, xtwz[..., None])[..., 0]
        eta_new = np.clip(_mm(new, x.T) + oa, -30, 30)
        mu_new = np.exp(eta_new)
        done = (np.abs(new - beta[active]).max(axis=1) < tol) | (
            (np.abs(mu_new - ma) / (1 + ma)).max(axis=1) < tol
        )
        beta[active], eta[active], mu[active] = new, eta_new, mu_new
        active = active[~done]
    w = w_obs * mu / (1 + alpha[:, None] * mu)
    xtwx = _mm(w, xx).reshape(-1, p, p) + ridge
    cov = np.linalg.inv(xtwx)
    return beta, cov, mu


def seasonal_trend_batch(
    counts: npt.ArrayLike,
    months: list[str],
    exposure: npt.ArrayLike | None = None,
    *,
    seasonal: bool | None = None,
    family: str = "auto",
    level: float = 0.95,
) -> dict[str, np.ndarray]:
    """Trend of many monthly series (rows) at once; NaN months are left out.

    Returns arrays per series: trend_pct (annual % change), trend_low, trend_high, p_value,
    dispersion (Pearson X2/df of the Poisson fit), dispersion_p, alpha (0 for Poisson), family
    ("poisson"/"negbin"/"" when it cannot be fitted), n_months, seasonal, and resid (S, T)
    Pearson residuals of the final fit. Series with no events or fewer than p + 2 months get NaN,
    and so do series too sparse for a bounded interval (the trend's upper bound overflows).
    """
    if family not in ("auto", "poisson", "negbin"):
        raise ParameterError(
            f"The 'family' parameter of seasonal_trend must be 'auto', 'poisson' or 'negbin'. Got {family!r}."
        )
    y = np.asarray(counts, dtype=float)
    if y.ndim == 1:
        y = y[None, :]
    if y.shape[1] != len(months):
        raise ParameterError(f"{y.shape[1]} values per series but {len(months)} months.")
    x, seas = seasonal_design(months, seasonal)
    s, t = y.shape
    p = x.shape[1]
    obs = ~np.isnan(y)
    if exposure is None:
        expo = np.ones_like(y)
    else:
        expo = np.broadcast_to(np.asarray(exposure, dtype=float), y.shape)
        if np.any(expo[obs] <= 0):
            raise ParameterError("The 'exposure' of a trend must be > 0 in every month.")
    w_obs = obs.astype(float)
    y0 = np.where(obs, y, 0.0)
    offset = np.log(np.where(obs, expo, 1.0))
    n_obs = obs.sum(axis=1)
    fit_ok = (n_obs >= p + 2) & (y0.sum(axis=1) > 0)
    nan = np.full(s, np.nan)
    out = {
        "trend_pct": nan.copy(),
        "trend_low": nan.copy(),
        "trend_high": nan.copy(),
        "p_value": nan.copy(),
        "dispersion": nan.copy(),
        "dispersion_p": nan.copy(),
        "alpha": nan.copy(),
        "family": np.full(s, "", dtype=object),
        "n_months": n_obs,
        "seasonal": np.full(s, seas),
        "resid": np.full((s, t), np.nan),
    }
    if not fit_ok.any():
        return out
    idx = np.flatnonzero(fit_ok)
    yy, ww, oo = y0[idx], w_obs[idx], offset[idx]
    df = n_obs[idx] - p
    zeros = np.zeros(len(idx))
    beta, cov, mu = _irls(yy, x, oo, ww, zeros)
    x2 = (ww * (yy - mu) ** 2 / mu).sum(axis=1)
    disp = x2 / df
    disp_p = stats.chi2.sf(x2, df)
    if family == "poisson":
        use_nb = np.zeros(len(idx), dtype=bool)
    elif family == "negbin":
        use_nb = np.ones(len(idx), dtype=bool)
    else:
        use_nb = disp_p < 0.05
    alpha = zeros.copy()
    if use_nb.any():
        k = np.flatnonzero(use_nb)
        a = np.clip(
            (ww[k] * ((yy[k] - mu[k]) ** 2 - yy[k])).sum(1) / (ww[k] * mu[k] ** 2).sum(1),
            1e-8,
            None,
        )
        b2, c2, m2 = _irls(yy[k], x, oo[k], ww[k], a)
        a = np.clip(
            (ww[k] * ((yy[k] - m2) ** 2 - yy[k])).sum(1) / (ww[k] * m2**2).sum(1), 1e-8, None
        )
        b2, c2, m2 = _irls(yy[k], x, oo[k], ww[k], a)
        beta[k], cov[k], mu[k], alpha[k] = b2, c2, m2, a
    se = np.sqrt(cov[:, 1, 1])
    b1 = beta[:, 1]
    z = stats.norm.ppf(1 - (1 - level) / 2)
    # a series too sparse for a trend (e.g. one event in four years) has a huge standard error
    # and an interval bound that overflows: it is not estimable (NaN, family ""), never inf
    with np.errstate(over="ignore", invalid="ignore"):
        pct = 100 * (np.exp(b1) - 1)
        low = 100 * (np.exp(b1 - z * se) - 1)
        high = 100 * (np.exp(b1 + z * se) - 1)
    ok = np.isfinite(pct) & np.isfinite(low) & np.isfinite(high)
    out["trend_pct"][idx] = np.where(ok, pct, np.nan)
    out["trend_low"][idx] = np.where(ok, low, np.nan)
    out["trend_high"][idx] = np.where(ok, high, np.nan)
    out["p_value"][idx] = np.where(ok, 2 * stats.norm.sf(np.abs(b1 / se)), np.nan)
    out["dispersion"][idx] = disp
    out["dispersion_p"][idx] = disp_p
    out["alpha"][idx] = alpha
    out["family"][idx] = np.where(ok, np.where(use_nb, "negbin", "poisson"), "")
    var = mu + alpha[:, None] * mu**2
    out["resid"][idx] = np.where(ww > 0, (yy - mu) / np.sqrt(var), np.nan)
    return out


@dataclass(frozen=True)
class TrendResult:
    """Seasonally adjusted trend of one series (see :func:`seasonal_trend`)."""

    family: str
    seasonal: bool
    n_months: int
    trend_pct: float
    trend_low: float
    trend_high: float
    p_value: float
    dispersion: float
    dispersion_p: float
    alpha: float
    residuals: tuple[float, ...]
    large_residual_months: tuple[str, ...]
    citation: str = "McCullagh & Nelder 1989; Cameron & Trivedi 1990"

    @property
    def significant(self) -> bool:
        return bool(self.p_value < 0.05)

    @property
    def description(self) -> str:
        """A plain-English sentence that never claims an unsupported trend."""
        model = "negative-binomial" if self.family == "negbin" else "Poisson"
        adj = "seasonally adjusted " if self.seasonal else ""
        if np.isnan(self.p_value):
            return "There are too few months or events to estimate a trend."
        if not self.significant:
            return (
                f"There is no significant {adj}trend ({model} regression: {self.trend_pct:+.1f}% a "
                f"year, 95% CI {self.trend_low:+.1f}% to {self.trend_high:+.1f}%, p = {self.p_value:.2f})."
            )
        way = "rising" if self.trend_pct > 0 else "falling"
        return (
            f"The {adj}trend is {way} by {abs(self.trend_pct):.1f}% a year ({model} regression: 95% "
            f"CI {self.trend_low:+.1f}% to {self.trend_high:+.1f}%, p = {max(self.p_value, 0.001):.3f})."
        )


def seasonal_trend(
    counts: npt.ArrayLike,
    months: list[str],
    exposure: npt.ArrayLike | None = None,
    *,
    seasonal: bool | None = None,
    family: str = "auto",
    residual_limit: float = 3.0,
) -> TrendResult:
    """Seasonally adjusted trend of one monthly series, with the over-dispersion check and the
    months whose standardised (Pearson) residual exceeds ``residual_limit``."""
    r = seasonal_trend_batch(counts, months, exposure, seasonal=seasonal, family=family)
    resid = r["resid"][0]
    large = tuple(m for m, e in zip(months, resid, strict=True) if abs(e) > residual_limit)
    return TrendResult(
        family=str(r["family"][0]),
        seasonal=bool(r["seasonal"][0]),
        n_months=int(r["n_months"][0]),
        trend_pct=float(r["trend_pct"][0]),
        trend_low=float(r["trend_low"][0]),
        trend_high=float(r["trend_high"][0]),
        p_value=float(r["p_value"][0]),
        dispersion=float(r["dispersion"][0]),
        dispersion_p=float(r["dispersion_p"][0]),
        alpha=float(r["alpha"][0]),
        residuals=tuple(float(v) for v in resid),
        large_residual_months=large,
    )
