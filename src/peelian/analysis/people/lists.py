"""A cohort's prioritised list: its members scored with the matrix, then split by de-selection.

This is what every surface shows (CLI ``peelian people rfg``, the pages, the API): one row per
person with the score, each component's points, the raw values behind them and the records.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from peelian.analysis.people._config import Matrix
from peelian.analysis.people.cohorts import CohortSelection
from peelian.analysis.people.rfg import rfg_scores
from peelian.analysis.people.tasking import apply_deselections

__all__ = ["PrioritisedList", "prioritise"]


@dataclass(frozen=True)
class PrioritisedList:
    """``active``: the list, highest score first, with ``rank``; ``deselected``: members off the
    list on the as-of date, with ``reason`` and ``reason_label``; both carry the score columns
    of :func:`~.rfg.rfg_scores` plus ``rules``, ``household``, ``lsoa_code``, ``age_low``,
    ``age_high`` from the selection."""

    selection: CohortSelection
    matrix: Matrix
    active: pd.DataFrame
    deselected: pd.DataFrame


def prioritise(
    selection: CohortSelection,
    matrix: Matrix,
    deselections: pd.DataFrame | None = None,
    *,
    with_records: bool = True,
) -> PrioritisedList:
    """Score ``selection``'s members with ``matrix`` (the cohort's method) and apply the
    de-selections (recorded ones and the cohort's no-offending rule)."""
    cohort = selection.cohort
    scored = rfg_scores(
        selection.records,
        selection.victims,
        selection.as_of,
        matrix,
        method=cohort.method,
        with_records=with_records,
    )
    extra = selection.members[
        ["person_ref", "rules", "household", "lsoa_code", "age_low", "age_high"]
    ]
    scored = scored.merge(extra, on="person_ref", how="left")
    des = (
        deselections
        if deselections is not None
        else pd.DataFrame(columns=["person_ref", "cohort", "reason", "start_date", "end_date"])
    )
    active, deselected = apply_deselections(scored, des, cohort, selection.as_of)
    active = active.assign(rank=range(1, len(active) + 1))
    return PrioritisedList(selection, matrix, active, deselected)
