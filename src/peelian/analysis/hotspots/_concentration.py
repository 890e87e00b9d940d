"""Crime concentration at places (share in the top cells, Lorenz curve, Gini and its sparse-data
corrections) and the stability of the top cells between periods."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from peelian.analysis.grid import check_params
from peelian.analysis.hotspots._results import (
    HotspotResult,
    base_frame,
    prepare_counts,
)
from peelian.errors import ParameterError
from peelian.schemas.months import months_between

__all__ = [
    "CONCENTRATION_COLUMNS",
    "STABILITY_COLUMNS",
    "SUMMARY_TOP",
    "concentration",
    "concentration_summary",
    "generalised_gini",
    "gini",
    "lorenz_curve",
    "lorenz_table",
    "poisson_expected_gini",
    "stability",
    "top_share",
]

#: Columns of ``concentration(...).cells``: rank 1 = most crime (ties broken by harm, then by
#: cell order); cum_share_n / cum_share_harm = share of all crime / harm in the cells ranked at
#: or above this one; cum_share_cells = share of cells ranked at or above this one.
CONCENTRATION_COLUMNS: tuple[str, ...] = (
    "cell_id", "x", "y", "n", "harm", "rank", "cum_share_cells", "cum_share_n",
    "cum_share_harm", "geometry",
)  # fmt: skip
#: Columns of ``stability(...).cells``.
STABILITY_COLUMNS: tuple[str, ...] = (
    "cell_id", "x", "y", "n_a", "n_b", "rank_a", "rank_b", "top_a", "top_b", "geometry",
)  # fmt: skip

DEFAULT_TOP: tuple[float, ...] = (0.01, 0.02, 0.05, 0.10, 0.20, 0.50)


def gini(values: np.ndarray) -> float:
    """The Gini coefficient of non-negative values (the standard, "biased" one):
    G = sum_i (2i - n - 1) x_(i) / (n sum x), x sorted ascending (as DescTools::Gini with
    unbiased=FALSE, which lorenzgini builds on)."""
    x = np.sort(np.asarray(values, dtype=float))
    n, total = len(x), float(x.sum())
    if n == 0 or total <= 0:
        return float("nan")
    i = np.arange(1, n + 1)
    return float(np.sum((2 * i - n - 1) * x) / (n * total))


def generalised_gini(values: np.ndarray) -> float:
    """Bernasco & Steenbeek's generalised Gini ``G'`` for sparse data, as published.

    In the paper's notation, ``N`` places and ``n`` crimes: when there are fewer crimes than
    places (``n < N``) perfect equality is impossible, and the most equal spread puts one crime
    in each of ``n`` places (so at most ``n`` places have crimes). The generalised Lorenz curve is
    compared with that line of maximal equality, from (0, 0) to (n/N, 1), instead of the
    diagonal; the area between the Lorenz curve and it, over the area beneath it, is

        G' = 1 - (N / n)(1 - G) = max(1, N / n)(G - 1) + 1,

    which equals ``G`` when ``n >= N``. Example: 10 places with 3 + 1 + 1 crimes have G = 0.78
    and G' = 0.56 (the area under the Lorenz curve, sorted ascending, is 0.11; under the line
    of maximal equality n/(2N) = 0.25; G' = 1 - 0.11/0.25). Bernasco W, Steenbeek W (2017),
    More places than crimes: implications for evaluating the law of crime concentration at
    place, *Journal of Quantitative Criminology* 33(3): 451-467; the biased form of their R
    package lorenzgini, ``gini(generalized=TRUE, unbiased=FALSE)`` (the paper's footnote 3
    leaves out the small-sample correction ``n/(n - 1)`` that the package adds by default).
    """
    x = np.asarray(values, dtype=float)
    crimes, places = float(x.sum()), len(x)
    g = gini(x)
    if not math.isfinite(g):
        return g
    return max(1.0, places / crimes) * (g - 1.0) + 1.0


def poisson_expected_gini(
    n_events: int, weights: np.ndarray, simulations: int = 200, seed: int | None = 0
) -> float:
    """The generalised Gini expected by chance alone: ``n_events`` placed at random (multinomial)
    over cells with probability proportional to ``weights``, averaged over ``simulations`` (the
    randomisation benchmark of Levin, Rosenfeld & Deckard 2017, "The law of crime
    concentration: an application and recommendations for future research", J Quant Criminol
    33(3): 469-477; the Gini's upward bias under Poisson noise is the point of Mohler,
    Brantingham, Carter & Short 2019, "Reducing bias in estimates for the law of crime
    concentration", J Quant Criminol 35(4): 747-765). Which cells may receive crime is the
    benchmark's choice: see :func:`concentration`."""
    rng = np.random.default_rng(seed)
    p = np.asarray(weights, dtype=float) / float(np.sum(weights))
    sims = [generalised_gini(rng.multinomial(n_events, p)) for _ in range(simulations)]
    return float(np.mean(sims))


def lorenz_curve(values: np.ndarray) -> pd.DataFrame:
    """Lorenz curve with the cells ordered from most to least crime: ``cell_share`` (0-1) against
    ``share`` of the total (the concentration-curve reading criminologists use)."""
    x = np.sort(np.asarray(values, dtype=float))[::-1]
    total = x.sum()
    cum = np.concatenate([[0.0], np.cumsum(x) / total]) if total > 0 else np.zeros(len(x) + 1)
    return pd.DataFrame({"cell_share": np.arange(len(x) + 1) / max(len(x), 1), "share": cum})


def top_share(values: np.ndarray, fraction: float) -> float:
    """Share of the total in the top ``ceil(fraction x n)`` cells."""
    x = np.sort(np.asarray(values, dtype=float))[::-1]
    k = max(1, math.ceil(fraction * len(x) - 1e-9))
    total = x.sum()
    return float(x[:k].sum() / total) if total > 0 else float("nan")


def _ranks(primary: np.ndarray, secondary: np.ndarray | None) -> np.ndarray:
    sec = np.zeros(len(primary)) if secondary is None else np.nan_to_num(secondary)
    order = np.lexsort((np.arange(len(primary)), -sec, -primary))
    rank = np.empty(len(primary), dtype=np.int64)
    rank[order] = np.arange(1, len(primary) + 1)
    return rank


def concentration(
    events: pd.DataFrame,
    boundary: Any,
    *,
    cell_size: float | None = None,
    grid: str = "square",
    resolution: int | None = None,
    top: Sequence[float] = DEFAULT_TOP,
    harm_weights: Mapping[str, float] | None = None,
    harm_col: str | None = None,
    simulations: int = 200,
    seed: int | None = 0,
    reference: pd.DataFrame | None = None,
) -> HotspotResult:
    """How concentrated crime (and harm) is across the cells of the area.

    ``summary``: n_events, n_cells, gini, gini_generalised (Bernasco & Steenbeek 2017, over
    every cell), gini_poisson_expected (``G0``: the generalised Gini of the same number of
    crimes placed at random by the chance benchmark) and gini_poisson_adjusted
    ``(G' - G0) / (1 - G0)``: a chance-corrected generalised Gini, the share of the
    concentration possible beyond chance that is observed. That last normalisation is
    peelian's own (in the manner of Cohen's kappa), not a published index; with weights also
    gini_harm.

    The chance benchmark: with ``reference`` (events of every type over the same months, e.g.
    all police.uk crime), crimes fall uniformly at random on the cells where at least one
    reference event happened (the places where crime can happen; moorland, water and fields
    receive none), and ``gini_active`` / ``gini_generalised_active`` give the Gini over those
    cells only; without it, uniformly by area over every cell of the area, which counts
    uninhabited land as a place where crime could have happened, makes chance look more even
    than it can be and so overstates the concentration beyond chance. ``chance_benchmark`` says
    which was used, ``chance_cells`` how many cells it spreads over.

    ``frames["shares"]``: top_fraction, cells, share_n, share_harm. ``frames["lorenz"]``: the
    Lorenz curve. ``cells`` has :data:`CONCENTRATION_COLUMNS`.
    """
    for t in top:
        check_params("concentration", {"top": t})
    g, counts, choices, warnings = prepare_counts(
        "concentration", events, boundary, cell_size=cell_size, grid=grid,
        resolution=resolution, harm_weights=harm_weights, harm_col=harm_col, by_period=False,
    )  # fmt: skip
    n = counts.total_n.astype(float)
    harm = counts.total_harm
    rank = _ranks(n, harm)
    order = np.argsort(rank)
    cum_n = np.empty(len(n))
    cum_n[order] = np.cumsum(n[order]) / n.sum()
    cum_h = np.full(len(n), np.nan)
    if harm is not None and harm.sum() > 0:
        cum_h[order] = np.cumsum(harm[order]) / harm.sum()
    cols = base_frame(g, counts)
    cols.update(rank=rank, cum_share_cells=rank / len(n), cum_share_n=cum_n, cum_share_harm=cum_h)
    shares = pd.DataFrame(
        {
            "top_fraction": list(top),
            "cells": [max(1, math.ceil(t * len(n) - 1e-9)) for t in top],
            "share_n": [top_share(n, t) for t in top],
            "share_harm": [top_share(harm, t) if harm is not None else np.nan for t in top],
        }
    )
    g_gen = generalised_gini(n)
    weights, benchmark, active = _chance_weights(g, reference)
    g0 = poisson_expected_gini(int(n.sum()), weights, simulations, seed)
    summary: dict[str, Any] = {
        "n_events": int(n.sum()),
        "n_cells": g.n_cells,
        "cell_size": g.cell_size,
        "gini": gini(n),
        "gini_generalised": g_gen,
        "gini_poisson_expected": g0,
        "gini_poisson_adjusted": (g_gen - g0) / (1.0 - g0) if g0 < 1 else float("nan"),
        "cells_with_crime_share": float((n > 0).mean()),
        "shares": shares.to_dict("records"),
        "chance_benchmark": benchmark,
        "chance_cells": int((weights > 0).sum()),
        "gini_active": gini(n[active]) if active is not None else float("nan"),
        "gini_generalised_active": (
            generalised_gini(n[active]) if active is not None else float("nan")
        ),
    }
    if harm is not None:
        summary["gini_harm"] = gini(harm)
    params = {"cell_size": g.cell_size, "grid": g.kind, "top": list(top),
              "simulations": simulations, "seed": seed}  # fmt: skip
    frames = {"shares": shares, "lorenz": lorenz_curve(n)}
    return HotspotResult(
        analysis="concentration", data=cols, grid=g, params=params, choices=choices,
        report=counts.report, summary=summary, warnings=tuple(warnings), frames=frames,
    )  # fmt: skip


def _chance_weights(g: Any, reference: pd.DataFrame | None) -> tuple[np.ndarray, str, Any]:
    """The chance benchmark's weight per cell, its description, and the active cells (or None)."""
    if reference is None or not len(reference):
        text = (
            "crimes at random, uniformly by area over every cell of the area (including land "
            "where crime cannot happen)"
        )
        return np.asarray(g.area, dtype=float), text, None
    from peelian.analysis.grid import count_events

    ref = count_events(g, reference, by_period=False)
    active = np.asarray(ref.total_n, dtype=float) > 0
    if not active.any():
        raise ParameterError(
            "The reference events of concentration fall in none of the cells.",
            "Pass events of every type for the same area and months (e.g. all police.uk crime).",
        )
    text = (
        f"crimes at random, uniformly over the {int(active.sum()):,} cells with at least one "
        "reference event (crime of any type in the same months)"
    )
    return active.astype(float), text, active


def stability(
    events: pd.DataFrame,
    boundary: Any,
    *,
    period_a: tuple[str, str],
    period_b: tuple[str, str],
    top: float = 0.05,
    cell_size: float | None = None,
    grid: str = "square",
    resolution: int | None = None,
) -> HotspotResult:
    """Do the same cells stay on top? Compares two periods (each ``(first_month, last_month)``).

    ``summary``: jaccard = |A and B| / |A or B| of the top ``top`` fraction of cells in each
    period (Jaccard 1912), overlap (cells in both), spearman_rho and spearman_p (Spearman's rank
    correlation of all cells' counts, scipy.stats.spearmanr, ties averaged; NaN when a period
    is constant), and months_with_events_a/b (months with any event: a period with gaps may
    reflect missing data rather than change). ``cells`` has :data:`STABILITY_COLUMNS`.
    """
    check_params("stability", {"top": top})
    months_a, months_b = months_between(*period_a), months_between(*period_b)
    if set(months_a) & set(months_b):
        raise ParameterError(
            f"The two periods overlap ({period_a[0]}..{period_a[1]} and "
            f"{period_b[0]}..{period_b[1]}).",
            "Choose periods that do not share months.",
        )
    periods = sorted(set(months_a) | set(months_b))
    g, counts, choices, warnings = prepare_counts(
        "stability", events, boundary, cell_size=cell_size, grid=grid, resolution=resolution,
        harm_weights=None, by_period=True, periods=periods,
    )  # fmt: skip
    idx = {p: i for i, p in enumerate(counts.periods)}
    n_a = counts.n[:, [idx[m] for m in months_a]].sum(axis=1)
    n_b = counts.n[:, [idx[m] for m in months_b]].sum(axis=1)
    k = max(1, math.ceil(top * g.n_cells - 1e-9))
    rank_a, rank_b = _ranks(n_a.astype(float), None), _ranks(n_b.astype(float), None)
    top_a, top_b = rank_a <= k, rank_b <= k
    both = int((top_a & top_b).sum())
    either = int((top_a | top_b).sum())
    if np.ptp(n_a) == 0 or np.ptp(n_b) == 0:  # a constant period has no ranks to correlate
        rho_p = (float("nan"), float("nan"))
        warnings.append("One period has the same count in every cell: no rank correlation.")
    else:
        res = stats.spearmanr(n_a, n_b)
        rho_p = (float(res.statistic), float(res.pvalue))
    months_with = counts.n.sum(axis=0) > 0
    data_months = {
        "a": int(months_with[[idx[m] for m in months_a]].sum()),
        "b": int(months_with[[idx[m] for m in months_b]].sum()),
    }
    cols = {
        "x": g.x, "y": g.y,
        "n_a": n_a.astype(np.int64), "n_b": n_b.astype(np.int64), "rank_a": rank_a,
        "rank_b": rank_b, "top_a": top_a, "top_b": top_b,
    }  # fmt: skip
    summary = {
        "n_cells": g.n_cells, "top_fraction": top, "top_cells": k, "overlap": both,
        "jaccard": both / either if either else float("nan"),
        "spearman_rho": rho_p[0], "spearman_p": rho_p[1],
        "n_a": int(n_a.sum()), "n_b": int(n_b.sum()),
        "months_with_events_a": data_months["a"], "months_with_events_b": data_months["b"],
    }  # fmt: skip
    params = {"cell_size": g.cell_size, "grid": g.kind, "top": top,
              "period_a": list(period_a), "period_b": list(period_b)}  # fmt: skip
    return HotspotResult(
        analysis="stability", data=cols, grid=g, params=params, choices=choices,
        report=counts.report, summary=summary, warnings=tuple(warnings),
    )  # fmt: skip


#: The top fractions :func:`concentration_summary` reports.
SUMMARY_TOP: tuple[float, ...] = (0.01, 0.05, 0.10)


def concentration_summary(
    result: HotspotResult, stable: HotspotResult | None = None
) -> pd.DataFrame:
    """The headline concentration figures as a long frame (statistic, value, label): shares of
    crime and harm in the top 1, 5 and 10% of cells, the Gini coefficients of
    :func:`concentration` and, when a :func:`stability` result is given, its Jaccard overlap,
    Spearman correlation and p-value. What the dashboard shows next to the Lorenz curve."""
    n = result.data["n"].astype(float)
    harm = result.data["harm"]
    has_harm = bool(np.isfinite(harm).any())
    rows: list[tuple[str, float, str]] = []
    for t in SUMMARY_TOP:
        pct, key = f"{t * 100:g}%", f"{t * 100:g}pct"
        share_harm = top_share(np.nan_to_num(harm), t) if has_harm else float("nan")
        rows += [
            (f"share_n_top_{key}", top_share(n, t), f"Share of crime in the top {pct} of cells"),
            (f"share_harm_top_{key}", share_harm, f"Share of harm in the top {pct} of cells"),
        ]
    s = result.summary
    rows += [
        ("n_events", float(s["n_events"]), "Events"),
        ("n_cells", float(s["n_cells"]), "Cells"),
        ("gini", s["gini"], "Gini coefficient"),
        ("gini_generalised", s["gini_generalised"], "Generalised Gini (Bernasco & Steenbeek)"),
        ("gini_poisson_expected", s["gini_poisson_expected"], "Generalised Gini by chance"),
        (
            "gini_poisson_adjusted",
            s["gini_poisson_adjusted"],
            "Chance-corrected generalised Gini, (G' - G0)/(1 - G0) (peelian's normalisation)",
        ),
        (
            "gini_generalised_active",
            s.get("gini_generalised_active", float("nan")),
            "Generalised Gini over the cells where crime of any type happened",
        ),
        ("gini_harm", s.get("gini_harm", float("nan")), "Gini coefficient of harm"),
    ]
    if stable is not None:
        st = stable.summary
        pct = f"{stable.params['top'] * 100:g}%"
        pa, pb = stable.params["period_a"], stable.params["period_b"]
        span = f"{pa[0]}..{pa[1]} vs {pb[0]}..{pb[1]}"
        rows += [
            ("stability_jaccard", st["jaccard"], f"Jaccard overlap of the top {pct}, {span}"),
            ("stability_overlap", float(st["overlap"]), f"Cells in the top {pct} of both"),
            ("stability_top_cells", float(st["top_cells"]), f"Cells in the top {pct}"),
            ("stability_spearman_rho", st["spearman_rho"], f"Rank correlation, {span}"),
            ("stability_spearman_p", st["spearman_p"], "p-value of the rank correlation"),
        ]
    return pd.DataFrame(rows, columns=["statistic", "value", "label"]).astype(
        {"statistic": "str", "value": float, "label": "str"}
    )


def lorenz_table(result: HotspotResult, points: int = 1001) -> pd.DataFrame:
    """The Lorenz curves of crime and of harm (each with its cells in its own order, most first)
    sampled at ``points`` evenly spaced shares of cells (linear between the exact steps):
    cell_share, share_n, share_harm. Small enough to store and draw for any grid."""
    grid_share = np.linspace(0.0, 1.0, points)
    out = {"cell_share": grid_share}
    for key, col in (("share_n", "n"), ("share_harm", "harm")):
        values = np.asarray(result.data[col], dtype=float)
        if not np.isfinite(values).any() or np.nansum(values) <= 0:
            out[key] = np.full(points, np.nan)
            continue
        curve = lorenz_curve(np.nan_to_num(values))
        out[key] = np.interp(grid_share, curve["cell_share"], curve["share"])
    return pd.DataFrame(out)
