"""Measures: named, versioned definitions (``peelian.schemas.measure_definitions``) turned into
rolling 12-month counts per area, compared with the baseline and the previous period with exact
statistics, SPC signals, seasonal trends and a plain-English narrative per result.

    counts = measure_counts(catalogue, policeuk=policeuk_counts, occurrences=occ)
    result = compute(counts, catalogue, areas, period_end="2022-08")
    result.values      # one row per measure x area (the columns of the "measures" contract)
    result.monthly     # one row per measure x area x month with SPC limits and signals

Victim satisfaction from surveys: :func:`satisfaction_rates`, :func:`satisfaction_drivers`,
:func:`satisfaction_measure_rows`.
"""

from peelian.analysis.measures._definitions import load_definitions
from peelian.analysis.measures._engine import (
    MONTHLY_COLUMNS,
    VALUE_COLUMNS,
    MeasuresResult,
    compute,
)
from peelian.analysis.measures._evidence import EVIDENCE_COLUMNS, fdr_families, verdict_evidence
from peelian.analysis.measures._narrative import narrate_rows
from peelian.analysis.measures._satisfaction import (
    ITEM_LABELS,
    ITEMS,
    DriversResult,
    satisfaction_drivers,
    satisfaction_rates,
)
from peelian.analysis.measures._series import (
    COUNT_COLUMNS,
    area_map,
    measure_counts,
    month_index,
    month_label,
)
from peelian.analysis.measures._survey_rows import satisfaction_measure_rows

__all__ = [
    "COUNT_COLUMNS",
    "ITEMS",
    "ITEM_LABELS",
    "DriversResult",
    "EVIDENCE_COLUMNS",
    "MONTHLY_COLUMNS",
    "VALUE_COLUMNS",
    "MeasuresResult",
    "area_map",
    "compute",
    "fdr_families",
    "load_definitions",
    "measure_counts",
    "month_index",
    "month_label",
    "narrate_rows",
    "satisfaction_drivers",
    "satisfaction_measure_rows",
    "satisfaction_rates",
    "verdict_evidence",
]
