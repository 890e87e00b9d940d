"""Static report charts with matplotlib (Agg backend, SVG output, no display needed)."""

from __future__ import annotations

import io

import pandas as pd

__all__ = ["spc_chart_svg"]

_BLUE, _GREY, _RED = "#1d4e89", "#7b8794", "#b3261e"


def spc_chart_svg(monthly: pd.DataFrame, *, title: str, unit: str = "count") -> str:
    """An SPC chart (monthly values, centre line, control limits, signals) as SVG text.

    The centre line and limits are the measures engine's (c-chart or XmR with Anhøj run rules,
    Anhøj & Olesen 2014); this function only draws them.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    rows = monthly.sort_values("month")
    fig = Figure(figsize=(7.2, 2.5), dpi=100)
    ax = fig.add_subplot(1, 1, 1)
    x = list(range(len(rows)))
    ax.plot(x, rows["count"], color=_BLUE, marker="o", markersize=3, linewidth=1.6, label=unit)
    for col, style, label in (
        ("centre", "-", "centre"),
        ("ucl", "--", "limits"),
        ("lcl", "--", None),
    ):
        if col in rows and rows[col].notna().any():
            ax.plot(x, rows[col], color=_GREY, linestyle=style, linewidth=1, label=label)
    if "signal" in rows:
        sig = (
            rows["signal"].notna()
            & (rows["signal"].astype(str) != "")
            & (rows["signal"].astype(str) != "False")
        )
        if sig.any():
            xs = [i for i, s in zip(x, sig, strict=True) if s]
            ax.scatter(
                xs,
                rows.loc[sig, "count"],
                s=60,
                facecolors="none",
                edgecolors=_RED,
                linewidths=1.8,
                label="SPC signal",
                zorder=3,
            )
    step = max(1, len(x) // 8)
    ax.set_xticks(x[::step])
    ax.set_xticklabels([str(m) for m in rows["month"]][::step], fontsize=7)
    ax.tick_params(axis="y", labelsize=7)
    ax.set_title(title, fontsize=9, loc="left")
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=7, frameon=False, ncol=4, loc="upper left", bbox_to_anchor=(0, -0.14))
    fig.subplots_adjust(left=0.07, right=0.99, top=0.88, bottom=0.3)
    buf = io.StringIO()
    fig.savefig(buf, format="svg")
    svg = buf.getvalue()
    return svg[svg.index("<svg") :]
