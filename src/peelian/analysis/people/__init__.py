"""People: offender prioritisation (RFG / RFGV), declared cohorts, de-selection and tasking, and
fairness distributions (issue 15 items 1, 4 and 5). Pure: frames in, frames out, pseudonymised
``person_ref`` only; the store is read by :mod:`peelian.casework.people`.

Modules, so others can be added beside them (networks, vulnerability):

- :mod:`._config` -- the versioned matrix and cohort rules (``data/*.toml``, illustrative
  defaults labelled as such);
- :mod:`.rfg` -- the scores; :mod:`.cohorts` -- who a rule selects and why others are not;
- :mod:`.tasking` -- de-selection and the 4-weekly entered / left list;
- :mod:`.lists` -- a cohort's prioritised list; :mod:`.fairness` -- distributions beside the
  population.
"""

from __future__ import annotations

from peelian.analysis.people._config import (
    COMPONENTS,
    Cohort,
    CohortRule,
    Matrix,
    RecordTest,
    load_cohorts,
    load_matrix,
)
from peelian.analysis.people.cohorts import CohortSelection, ages_on, select_cohort
from peelian.analysis.people.fairness import AGE_BANDS, FAIRNESS_COLUMNS, age_band, fairness_table
from peelian.analysis.people.lists import PrioritisedList, prioritise
from peelian.analysis.people.rfg import SCORE_COLUMNS, band_points, rfg_scores, window_start
from peelian.analysis.people.tasking import (
    DESELECTION_REASONS,
    TASKING_DAYS,
    apply_deselections,
    tasking_changes,
    tasking_dates,
)

__all__ = [
    "AGE_BANDS",
    "COMPONENTS",
    "DESELECTION_REASONS",
    "FAIRNESS_COLUMNS",
    "SCORE_COLUMNS",
    "TASKING_DAYS",
    "Cohort",
    "CohortRule",
    "CohortSelection",
    "Matrix",
    "PrioritisedList",
    "RecordTest",
    "age_band",
    "ages_on",
    "apply_deselections",
    "band_points",
    "fairness_table",
    "load_cohorts",
    "load_matrix",
    "prioritise",
    "rfg_scores",
    "select_cohort",
    "tasking_changes",
    "tasking_dates",
    "window_start",
]
