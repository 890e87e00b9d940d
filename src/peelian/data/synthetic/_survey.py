"""Victim satisfaction survey responses, driven by how well the victim was kept informed.

Forces survey samples of victims of burglary, vehicle crime, violence, hate crime and domestic
abuse 6-12 weeks after their report (the Home Office user satisfaction survey design: five
questions -- ease of contact, actions taken, kept informed, treatment, whole experience -- on a
7-point scale, here 1-5 with 5 = very satisfied). Research on the survey consistently finds that
being kept informed is among the strongest drivers of overall satisfaction (e.g. Myhill & Bradford
2012, *Can police enhance public confidence by improving quality of service?*, Policing and
Society 22(4)). The synthetic answers follow that:

* KeptInformed = round(1.9 + 3.0 x on-time share - 0.5 x missed updates + N(0, 0.7)), where the
  on-time share is of the Victims' Code updates due before the survey (0.75 when none were due);
* Actions rises with a charge; Treatment and Contact are high on average;
* Overall = round(0.45 KI + 0.25 Treatment + 0.2 Actions + 0.1 Contact + N(0, 0.45)).

Each answer is left blank (not answered) with probability 3%.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["SURVEY_SHARE", "survey_responses"]

SURVEY_SHARE = 0.08
_SURVEYED_CATEGORIES = ("Burglary", "Vehicle crime", "Violence and sexual offences")


def _likert(x: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(x), 1, 5)


def survey_responses(
    occ_category: np.ndarray,
    da: np.ndarray,
    hate: np.ndarray,
    sexual: np.ndarray,
    victim: np.ndarray,
    reported: np.ndarray,
    charged: np.ndarray,
    contacts_due: pd.DataFrame,
    end: np.datetime64,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Survey responses: occ, survey_date, overall, contact, actions, kept_informed, treatment.

    ``contacts_due`` are the obligations of :func:`victim_contacts` (occ, due, on_time, missed).
    """
    n = victim.size
    eligible = (victim >= 0) & (np.isin(occ_category, _SURVEYED_CATEGORIES) & ~sexual | da | hate)
    pick = eligible & (rng.random(n) < np.where(da, SURVEY_SHARE * 1.5, SURVEY_SHARE))
    occ = np.flatnonzero(pick)
    when = reported[occ].astype("datetime64[D]") + rng.integers(42, 85, occ.size).astype(
        "timedelta64[D]"
    )
    keep = when <= end.astype("datetime64[D]")
    occ, when = occ[keep], when[keep]
    # Updates due before the survey date, and how they went.
    d = contacts_due[np.isin(contacts_due["occ"].to_numpy(), occ)]
    sdate = pd.Series(when, index=occ)
    d = d[d["due"].to_numpy() < sdate.reindex(d["occ"].to_numpy()).to_numpy()]
    agg = (
        d.groupby("occ")
        .agg(due=("on_time", "size"), on_time=("on_time", "sum"), missed=("missed", "sum"))
        .reindex(occ)
        .fillna(0)
    )
    share = np.where(agg["due"] > 0, agg["on_time"] / agg["due"].clip(lower=1), 0.75)
    k = occ.size
    ki = 1.9 + 3.0 * share - 0.5 * agg["missed"].to_numpy() + rng.normal(0, 0.7, k)
    contact = 3.9 + rng.normal(0, 0.8, k)
    actions = 3.1 + 0.9 * charged[occ] + 0.2 * (ki - 3) + rng.normal(0, 0.9, k)
    treatment = 4.1 + 0.15 * (ki - 3) + rng.normal(0, 0.7, k)
    ki_l, co_l, ac_l, tr_l = (_likert(x) for x in (ki, contact, actions, treatment))
    overall = _likert(0.45 * ki_l + 0.25 * tr_l + 0.2 * ac_l + 0.1 * co_l + rng.normal(0, 0.45, k))
    cols = {
        "overall": overall,
        "contact": co_l,
        "actions": ac_l,
        "kept_informed": ki_l,
        "treatment": tr_l,
    }
    out = pd.DataFrame({"occ": occ, "survey_date": when})
    for name, v in cols.items():
        v = v.astype(float)
        v[rng.random(k) < 0.03] = np.nan
        out[name] = (
            pd.array(np.where(np.isnan(v), pd.NA, v), dtype="Int64")
            if k
            else pd.array([], dtype="Int64")
        )
    return out.sort_values("survey_date", kind="stable").reset_index(drop=True)
