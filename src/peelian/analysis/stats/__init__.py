"""Statistics for honest crime measures: exact Poisson tests and intervals, rate ratios, FDR,
Wilson intervals, SPC charts with run rules (and, for many small areas, exact limits with FDR control), seasonal trends, empirical-Bayes smoothing.

Pure functions (arrays/frames in, arrays/frozen results out), vectorised over areas. Each
module's docstring cites the method it implements.

>>> from peelian.analysis.stats import compare_counts
>>> r = compare_counts(13, 18)
>>> round(r.p_value, 3)
0.473
"""

from peelian.analysis.stats._dispersion import dispersion_adjusted, quasi_poisson_dispersion
from peelian.analysis.stats._fdr import bh_adjust, bh_adjust_grouped
from peelian.analysis.stats._narrative import (
    fmt_count,
    fmt_interval,
    fmt_p,
    fmt_pct,
    narrate_comparison,
    small_numbers_note,
    verdict,
)
from peelian.analysis.stats._poisson import (
    CountComparison,
    compare_counts,
    compare_counts_arrays,
    exact_poisson_test,
    garwood_interval,
    rate_ratio_interval,
)
from peelian.analysis.stats._proportions import wilson_interval
from peelian.analysis.stats._smoothing import eb_rates, eb_rates_grouped
from peelian.analysis.stats._spc import (
    SPCChart,
    anhoj_limits,
    anhoj_rules,
    c_chart_limits,
    spc_batch,
    spc_chart,
    u_chart_limits,
    western_electric_rules,
    xmr_limits,
)
from peelian.analysis.stats._spc_family import family_spc, runs_pvalues
from peelian.analysis.stats._trend import (
    TrendResult,
    seasonal_design,
    seasonal_trend,
    seasonal_trend_batch,
)

__all__ = [
    "CountComparison",
    "SPCChart",
    "TrendResult",
    "anhoj_limits",
    "anhoj_rules",
    "bh_adjust",
    "bh_adjust_grouped",
    "c_chart_limits",
    "compare_counts",
    "compare_counts_arrays",
    "dispersion_adjusted",
    "eb_rates",
    "eb_rates_grouped",
    "exact_poisson_test",
    "family_spc",
    "fmt_count",
    "fmt_interval",
    "fmt_p",
    "fmt_pct",
    "garwood_interval",
    "narrate_comparison",
    "small_numbers_note",
    "quasi_poisson_dispersion",
    "rate_ratio_interval",
    "runs_pvalues",
    "seasonal_design",
    "seasonal_trend",
    "seasonal_trend_batch",
    "spc_batch",
    "spc_chart",
    "u_chart_limits",
    "verdict",
    "western_electric_rules",
    "wilson_interval",
    "xmr_limits",
]
