"""De-selection and the 4-weekly tasking list: who is on the list, who entered, who left and why.

De-selection rules (issue 15): a person comes off a cohort's list while a recorded de-selection
is live (in custody, deceased, moved away, other: recorded with dates by a coordinator), or when
the cohort's automatic rule applies: no qualifying record in the last N months
(``deselect_no_offending_months``). A tasking meeting every 4 weeks (MATAC's cycle, DOMAIN.md
section 6) compares the list with the one saved at the previous meeting.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from peelian.analysis.people._config import Cohort
from peelian.analysis.people.rfg import window_start
from peelian.errors import ParameterError

__all__ = [
    "DESELECTION_REASONS",
    "TASKING_DAYS",
    "apply_deselections",
    "tasking_changes",
    "tasking_dates",
]

#: Recorded de-selection reasons and their labels.
DESELECTION_REASONS: dict[str, str] = {
    "custody": "In custody",
    "deceased": "Deceased",
    "moved_away": "Moved away",
    "other": "Other (see note)",
}
#: Days between tasking meetings.
TASKING_DAYS = 28


def tasking_dates(anchor: dt.date, until: dt.date) -> list[dt.date]:
    """The tasking dates ``anchor``, ``anchor + 28 days``, ... up to ``until`` (inclusive).

    >>> tasking_dates(dt.date(2026, 1, 5), dt.date(2026, 3, 2))
    [datetime.date(2026, 1, 5), datetime.date(2026, 2, 2), datetime.date(2026, 3, 2)]
    """
    if until < anchor:
        raise ParameterError(
            f"The tasking cycle starts on {anchor}, after {until}.", "Use a later date."
        )
    n = (until - anchor).days // TASKING_DAYS
    return [anchor + dt.timedelta(days=TASKING_DAYS * i) for i in range(n + 1)]


def apply_deselections(
    scored: pd.DataFrame,
    deselections: pd.DataFrame,
    cohort: Cohort,
    as_of: dt.date,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(active, deselected)``: ``scored`` (one row per person, with ``person_ref`` and
    ``last_record``) split by the live de-selections and the no-offending rule.

    ``deselections``: ``person_ref``, ``cohort`` (None = every cohort), ``reason``,
    ``start_date``, ``end_date`` (None = open-ended), optionally ``id``, ``note``,
    ``created_by``. A de-selection is live on ``as_of`` when ``start_date <= as_of`` and
    (no end or ``as_of <= end_date``). ``deselected`` adds ``reason``, ``reason_label`` and
    ``deselection_id`` (None for the automatic rule).
    """
    out = scored.copy()
    out["reason"] = None
    out["reason_label"] = None
    out["deselection_id"] = None
    if not deselections.empty:
        d = deselections
        cohort_ok = d["cohort"].isna() | (d["cohort"] == cohort.name)
        start = pd.to_datetime(d["start_date"])
        end = pd.to_datetime(d["end_date"])
        day = pd.Timestamp(as_of)
        live = d[cohort_ok & (start <= day) & (end.isna() | (end >= day))]
        live = live.sort_values("start_date").drop_duplicates("person_ref", keep="last")
        live = live.set_index("person_ref")
        hit = out["person_ref"].isin(live.index)
        refs = out.loc[hit, "person_ref"]
        out.loc[hit, "reason"] = refs.map(live["reason"]).to_numpy()
        out.loc[hit, "reason_label"] = [
            f"{DESELECTION_REASONS.get(r, r)} (recorded, from {s})"
            for r, s in zip(refs.map(live["reason"]), refs.map(live["start_date"]), strict=True)
        ]
        if "id" in live.columns:
            out.loc[hit, "deselection_id"] = refs.map(live["id"]).to_numpy()
    months = cohort.deselect_no_offending_months
    if months:
        cutoff = window_start(as_of, months=months)
        last = pd.to_datetime(out["last_record"]).dt.date
        quiet = out["reason"].isna() & (last < cutoff)
        out.loc[quiet, "reason"] = "no_offending"
        out.loc[quiet, "reason_label"] = (
            f"No offending in {months} months (no qualifying record since {cutoff})"
        )
    gone = out["reason"].notna()
    active = out[~gone].drop(columns=["reason", "reason_label", "deselection_id"])
    return active.reset_index(drop=True), out[gone].reset_index(drop=True)


def tasking_changes(
    previous: pd.DataFrame | None,
    current: pd.DataFrame,
    deselected: pd.DataFrame,
    candidates: pd.DataFrame,
) -> dict[str, pd.DataFrame]:
    """Who ``entered``, ``left`` and ``stayed`` since the ``previous`` list, and why.

    ``previous``: ``person_ref``, ``rank``, ``score`` of the list saved at the last meeting
    (None: no earlier meeting, everyone entered). ``current``: the active list now
    (``person_ref``, ``score``, ``record_count``, ``victim_count``). ``deselected``: from
    :func:`apply_deselections`. ``candidates``: people with a qualifying record the rule did not
    select, with ``why_not`` (from :func:`~.cohorts.select_cohort`).
    """
    cur = current.reset_index(drop=True).assign(rank=lambda f: range(1, len(f) + 1))
    prev = (
        previous if previous is not None else pd.DataFrame(columns=["person_ref", "rank", "score"])
    )
    was = set(prev["person_ref"])
    entered = cur[~cur["person_ref"].isin(was)].copy()
    entered["why"] = [
        f"meets the rule: {int(r)} qualifying records, {int(v)} victims"
        for r, v in zip(entered["record_count"], entered["victim_count"], strict=True)
    ]
    left = prev[~prev["person_ref"].isin(set(cur["person_ref"]))][["person_ref", "rank", "score"]]
    left = left.rename(columns={"rank": "previous_rank", "score": "previous_score"}).copy()
    des = deselected.set_index("person_ref")["reason_label"] if len(deselected) else pd.Series()
    why_not = candidates.set_index("person_ref")["why_not"] if len(candidates) else pd.Series()
    left["why"] = [
        f"de-selected: {des[p]}"
        if p in des.index
        else f"no longer meets the rule: {why_not[p]}"
        if p in why_not.index
        else "no longer meets the rule: no qualifying record in the window"
        for p in left["person_ref"]
    ]
    stayed = cur[cur["person_ref"].isin(was)].merge(
        prev[["person_ref", "rank", "score"]].rename(
            columns={"rank": "previous_rank", "score": "previous_score"}
        ),
        on="person_ref",
    )
    stayed["score_change"] = stayed["score"] - stayed["previous_score"].astype(float)
    return {
        "entered": entered.reset_index(drop=True),
        "left": left.reset_index(drop=True),
        "stayed": stayed.reset_index(drop=True),
    }
