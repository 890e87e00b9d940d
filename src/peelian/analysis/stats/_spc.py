"""Statistical process control: c-, u- and XmR charts with Anhøj run rules (default) or the
Western Electric rules, vectorised over many series (one row per series, one column per month).

Sources
-------
- Montgomery DC (2009). *Introduction to Statistical Quality Control*, 6th ed., section 7.3:
  c-chart centre ``c_bar``, limits ``c_bar +/- 3 sqrt(c_bar)`` (lower limit floored at 0);
  u-chart limits ``u_bar +/- 3 sqrt(u_bar / n_i)`` for varying exposure ``n_i``.
- Wheeler DJ (1995). *Advanced Topics in Statistical Process Control*: XmR limits
  ``x_bar +/- 2.66 MR_bar`` (2.66 = 3 / d2, d2 = 1.128 for moving ranges of two).
- Anhøj J, Olesen AV (2014). Run charts revisited: a simulation study of run chart rules for
  detection of non-random variation in health care processes. *PLoS ONE* 9(11): e113825.
  With ``n`` useful observations (points on the centre line are ignored): an unusually long run
  is one longer than ``round(log2(n) + 3)``; too few crossings is fewer than
  ``qbinom(0.05, n - 1, 0.5)``. Applied to the chart's centre line as in qicharts2
  (Anhøj 2018). Not assessed for fewer than 10 useful points (the paper's table starts at 10).
- Western Electric Company (1956). *Statistical Quality Control Handbook*: (1) one point beyond
  3 sigma; (2) two of three beyond 2 sigma on one side; (3) four of five beyond 1 sigma on one
  side; (4) eight in a row on one side of the centre line.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats

from peelian.errors import ParameterError

__all__ = [
    "SPCChart",
    "anhoj_limits",
    "anhoj_rules",
    "c_chart_limits",
    "spc_batch",
    "spc_chart",
    "u_chart_limits",
    "western_electric_rules",
    "xmr_limits",
]

ChartKind = Literal["c", "u", "xmr"]
RuleSet = Literal["anhoj", "western_electric"]


def _as_2d(values: npt.ArrayLike) -> tuple[np.ndarray, bool]:
    arr = np.asarray(values, dtype=float)
    if arr.ndim == 1:
        return arr[None, :], True
    if arr.ndim != 2:
        raise ParameterError("SPC charts take one series (1-D) or one series per row (2-D).")
    return arr, False


def c_chart_limits(counts: npt.ArrayLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """c-chart centre, lower and upper limits per series (Montgomery 2009, s7.3.1)."""
    c, _ = _as_2d(counts)
    with np.errstate(invalid="ignore"):
        centre = np.nanmean(np.where(np.isnan(c).all(axis=1, keepdims=True), 0, c), axis=1)
    sd = np.sqrt(centre)
    return centre, np.maximum(centre - 3 * sd, 0.0), centre + 3 * sd


def u_chart_limits(
    counts: npt.ArrayLike, exposure: npt.ArrayLike
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """u-chart centre (per series) and per-point limits for rates with varying exposure
    (Montgomery 2009, s7.3.1): ``u_bar = sum c / sum n``, limits ``u_bar +/- 3 sqrt(u_bar/n_i)``."""
    c, _ = _as_2d(counts)
    n = np.broadcast_to(np.asarray(exposure, dtype=float), c.shape)
    if np.any(n <= 0):
        raise ParameterError("The 'exposure' parameter of u_chart_limits must be > 0 everywhere.")
    ok = ~np.isnan(c)
    with np.errstate(invalid="ignore", divide="ignore"):
        ubar = np.where(ok, c, 0).sum(axis=1) / np.where(ok, n, 0).sum(axis=1)
        sd = np.sqrt(ubar[:, None] / n)
    return ubar, np.maximum(ubar[:, None] - 3 * sd, 0.0), ubar[:, None] + 3 * sd


def xmr_limits(values: npt.ArrayLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """XmR (individuals) chart centre and limits ``x_bar +/- 2.66 MR_bar`` (Wheeler 1995)."""
    x, _ = _as_2d(values)
    with np.errstate(invalid="ignore"):
        centre = np.nanmean(x, axis=1)
        mr = np.nanmean(np.abs(np.diff(x, axis=1)), axis=1) if x.shape[1] > 1 else np.nan
    return centre, centre - 2.66 * mr, centre + 2.66 * mr


def anhoj_limits(n_useful: npt.ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Anhøj & Olesen (2014) limits: (longest run allowed, fewest crossings allowed).

    NaN for fewer than 10 useful observations.

    >>> runs, crossings = anhoj_limits([10, 24, 30])
    >>> runs.tolist(), crossings.tolist()
    ([6.0, 8.0, 8.0], [2.0, 8.0, 10.0])
    """
    n = np.asarray(n_useful, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        run = np.round(np.log2(n) + 3)
        cross = stats.binom.ppf(0.05, n - 1, 0.5)
    ok = n >= 10
    return np.where(ok, run, np.nan), np.where(ok, cross, np.nan)


def anhoj_rules(values: npt.ArrayLike, centre: npt.ArrayLike) -> dict[str, np.ndarray]:
    """Longest run and number of crossings of the centre line, with Anhøj's signals.

    Returns arrays (one per series): n_useful, longest_run, crossings, run_limit,
    crossing_limit, long_run (bool), few_crossings (bool). Points on the centre line and
    missing months are ignored, as the rules prescribe.
    """
    x, _ = _as_2d(values)
    s_count, t = x.shape
    cl = np.asarray(centre, dtype=float)
    cl = cl[:, None] if cl.ndim == 1 else cl
    with np.errstate(invalid="ignore"):
        sign = np.sign(x - cl)
    sign = np.nan_to_num(sign, nan=0.0)
    useful = sign != 0
    n_u = useful.sum(axis=1)
    order = np.argsort(~useful, axis=1, kind="stable")  # useful points first, in time order
    s_sorted = np.take_along_axis(sign, order, axis=1)
    change = np.concatenate(
        [np.zeros((s_count, 1), dtype=int), (s_sorted[:, 1:] != s_sorted[:, :-1]).astype(int)],
        axis=1,
    )
    run_id = np.cumsum(change, axis=1)
    valid = np.arange(t)[None, :] < n_u[:, None]
    gid = (np.arange(s_count)[:, None] * t + run_id)[valid]
    lengths = np.bincount(gid, minlength=s_count * t).reshape(s_count, t)
    longest = lengths.max(axis=1) if t else np.zeros(s_count)
    n_runs = (lengths > 0).sum(axis=1)
    crossings = np.maximum(n_runs - 1, 0)
    run_limit, cross_limit = anhoj_limits(n_u)
    with np.errstate(invalid="ignore"):
        long_run = np.where(np.isnan(run_limit), False, longest > run_limit)
        few = np.where(np.isnan(cross_limit), False, crossings < cross_limit)
    return {
        "n_useful": n_u,
        "longest_run": longest.astype(int),
        "crossings": crossings.astype(int),
        "run_limit": run_limit,
        "crossing_limit": cross_limit,
        "long_run": long_run.astype(bool),
        "few_crossings": few.astype(bool),
    }


def _window_count(flags: np.ndarray, width: int) -> np.ndarray:
    """Number of True flags in the window of ``width`` points ending at each point."""
    c = np.cumsum(flags.astype(int), axis=1)
    out = c.copy()
    out[:, width:] = c[:, width:] - c[:, :-width]
    return out


def western_electric_rules(
    values: npt.ArrayLike, centre: npt.ArrayLike, sigma: npt.ArrayLike
) -> dict[str, np.ndarray]:
    """The four Western Electric (1956) zone rules, per point (bool arrays shaped like values):
    rule1 (beyond 3 sigma), rule2 (2 of 3 beyond 2 sigma, same side), rule3 (4 of 5 beyond
    1 sigma, same side), rule4 (8 in a row on one side). A window rule flags its last point."""
    x, _ = _as_2d(values)
    cl = np.asarray(centre, dtype=float)
    cl = cl[:, None] if cl.ndim == 1 else cl
    sg = np.asarray(sigma, dtype=float)
    sg = sg[:, None] if sg.ndim == 1 else sg
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.nan_to_num((x - cl) / sg, nan=0.0, posinf=0.0, neginf=0.0)
    out = {"rule1": np.abs(z) > 3}
    for name, k, of, lim in (("rule2", 2, 3, 2), ("rule3", 4, 5, 1), ("rule4", 8, 8, 0)):
        hi = _window_count(z > lim, of) >= k
        lo = _window_count(z < -lim, of) >= k
        # a window rule needs its trigger point itself beyond the zone
        out[name] = (hi & (z > lim)) | (lo & (z < -lim))
    return out


def spc_batch(
    values: npt.ArrayLike,
    kind: ChartKind = "c",
    exposure: npt.ArrayLike | None = None,
    rules: RuleSet = "anhoj",
) -> dict[str, np.ndarray]:
    """Limits and signals for many series at once (rows = series, columns = months).

    Returns arrays: centre (S,), lcl and ucl (S, T), point (S, T: +1 above the upper limit, -1
    below the lower, 0 inside), and per series: n_above, n_below, long_run, few_crossings,
    longest_run, crossings, run_limit, crossing_limit (Anhøj) or we_rule2..4 (any point,
    Western Electric).
    """
    if kind not in ("c", "u", "xmr"):
        raise ParameterError(
            f"The 'kind' parameter of spc must be 'c', 'u' or 'xmr'. Got {kind!r}."
        )
    if rules not in ("anhoj", "western_electric"):
        raise ParameterError(
            f"The 'rules' parameter of spc must be 'anhoj' or 'western_electric'. Got {rules!r}."
        )
    x, _ = _as_2d(values)
    s_count, t = x.shape
    if kind == "c":
        centre, lcl, ucl = c_chart_limits(x)
        lcl2, ucl2 = np.repeat(lcl[:, None], t, 1), np.repeat(ucl[:, None], t, 1)
        plot, cl_pts, sigma = x, centre, np.sqrt(centre)
    elif kind == "u":
        if exposure is None:
            raise ParameterError("A u-chart needs 'exposure' (e.g. population or days).")
        n = np.broadcast_to(np.asarray(exposure, dtype=float), x.shape)
        centre, lcl2, ucl2 = u_chart_limits(x, n)
        plot = x / n
        cl_pts, sigma = centre, np.sqrt(centre[:, None] / n)
    else:
        centre, lcl, ucl = xmr_limits(x)
        lcl2, ucl2 = np.repeat(lcl[:, None], t, 1), np.repeat(ucl[:, None], t, 1)
        plot, cl_pts, sigma = x, centre, (ucl - centre) / 3
    with np.errstate(invalid="ignore"):
        point = np.where(plot > ucl2, 1, np.where(plot < lcl2, -1, 0))
    point = np.where(np.isnan(plot), 0, point)
    out: dict[str, np.ndarray] = {
        "centre": centre,
        "lcl": lcl2,
        "ucl": ucl2,
        "point": point,
        "n_above": (point == 1).sum(axis=1),
        "n_below": (point == -1).sum(axis=1),
    }
    if rules == "anhoj":
        out.update(anhoj_rules(plot, cl_pts))
    else:
        we = western_electric_rules(plot, cl_pts, sigma)
        for k in ("rule2", "rule3", "rule4"):
            out[f"we_{k}"] = we[k].any(axis=1)
            out[f"we_{k}_points"] = we[k]
    return out


@dataclass(frozen=True)
class SPCChart:
    """One control chart: ``frame`` has month, value, centre, lcl, ucl, signal (per point:
    "above"/"below"/""), and the run-rule results. ``signals`` lists what was found."""

    kind: str
    rules: str
    frame: pd.DataFrame
    centre: float
    signals: tuple[str, ...]
    details: dict[str, float]
    citation: str


def spc_chart(
    values: npt.ArrayLike,
    *,
    kind: ChartKind = "c",
    exposure: npt.ArrayLike | None = None,
    rules: RuleSet = "anhoj",
    months: list[str] | None = None,
) -> SPCChart:
    """A single control chart with its signals (see :func:`spc_batch`).

    >>> chart = spc_chart([21, 24, 16, 12, 15, 5, 28, 20, 31, 25, 20, 24, 16, 19, 10, 17, 13,
    ...                    22, 18, 39, 30, 24, 16, 19, 17, 15])
    >>> round(chart.centre, 2), chart.signals
    (19.85, ('above the upper limit', 'below the lower limit', 'too few crossings'))
    """
    x = np.asarray(values, dtype=float)
    if x.ndim != 1 or x.size == 0:
        raise ParameterError("The 'values' parameter of spc_chart must be a non-empty 1-D series.")
    res = spc_batch(x, kind, None if exposure is None else np.asarray(exposure)[None, :], rules)
    plot = x if kind != "u" else x / np.asarray(exposure, dtype=float)
    frame = pd.DataFrame(
        {
            "month": months if months is not None else list(range(1, x.size + 1)),
            "value": plot,
            "centre": float(res["centre"][0]),
            "lcl": res["lcl"][0],
            "ucl": res["ucl"][0],
            "signal": np.select(
                [res["point"][0] == 1, res["point"][0] == -1], ["above", "below"], ""
            ),
        }
    )
    signals: list[str] = []
    if res["n_above"][0]:
        signals.append("above the upper limit")
    if res["n_below"][0]:
        signals.append("below the lower limit")
    details: dict[str, float] = {}
    if rules == "anhoj":
        details = {
            k: float(res[k][0])
            for k in ("n_useful", "longest_run", "crossings", "run_limit", "crossing_limit")
        }
        if res["long_run"][0]:
            signals.append("unusually long run")
        if res["few_crossings"][0]:
            signals.append("too few crossings")
        citation = "Montgomery 2009 s7.3; Anhøj & Olesen 2014"
    else:
        for k, label in (
            ("rule2", "2 of 3 beyond 2 sigma"),
            ("rule3", "4 of 5 beyond 1 sigma"),
            ("rule4", "8 in a row on one side"),
        ):
            frame[f"we_{k}"] = res[f"we_{k}_points"][0]
            if res[f"we_{k}"][0]:
                signals.append(label)
        citation = "Montgomery 2009 s7.3; Western Electric 1956"
    return SPCChart(
        kind=kind,
        rules=rules,
        frame=frame,
        centre=float(res["centre"][0]),
        signals=tuple(signals),
        details=details,
        citation=citation,
    )
