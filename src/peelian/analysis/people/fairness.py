"""Fairness: who a list selects by age band, sex and ethnicity, beside the area's population.

Issue 15 item 5 and DOMAIN.md section 10 (ALGO-CARE): each list shows its distribution beside
the population it is drawn from, refreshed each run. A ratio above 1 means the group is a larger
share of the list than of the population; it describes the list, it does not explain it (police
records reflect where and whom police look at: the feedback-loop caveat). Population by age:
ONS mid-year estimates (``area_population``); by ethnicity: Census 2021 (``area_ethnicity``);
sex: no population table is loaded, so only the list's shares are shown.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

__all__ = ["AGE_BANDS", "FAIRNESS_COLUMNS", "age_band", "fairness_table"]

#: Age bands (lower edge, label); the last is open.
AGE_BANDS: tuple[tuple[int, str], ...] = (
    (0, "Under 10"),
    (10, "10 to 17"),
    (18, "18 to 24"),
    (25, "25 to 34"),
    (35, "35 to 44"),
    (45, "45 to 54"),
    (55, "55 to 64"),
    (65, "65 and over"),
)
#: Columns of :func:`fairness_table`.
FAIRNESS_COLUMNS = (
    "dimension",
    "group",
    "count",
    "share",
    "population",
    "population_share",
    "ratio",
)
_NOT_RECORDED = "Not recorded"
_SEX = {"M": "Male", "F": "Female", "U": "Unknown"}
#: The persons table's ethnicity codes -> the first word of the Census 2021 group.
_ETHNIC_CENSUS_PREFIX = {
    "White": "White",
    "Asian": "Asian",
    "Black": "Black",
    "Mixed": "Mixed",
    "Other": "Other",
}


def age_band(age: pd.Series) -> pd.Series:
    """The :data:`AGE_BANDS` label of each age (``Not recorded`` when unknown).

    >>> age_band(pd.Series([9, 10, 17, 18, 64, 65, None])).tolist()[:6]
    ['Under 10', '10 to 17', '10 to 17', '18 to 24', '55 to 64', '65 and over']
    """
    edges = np.array([b[0] for b in AGE_BANDS])
    labels = np.array([b[1] for b in AGE_BANDS], dtype=object)
    a = pd.to_numeric(age, errors="coerce")
    idx = np.searchsorted(edges, a.fillna(-1).to_numpy(), side="right") - 1
    out = np.where((idx >= 0) & a.notna().to_numpy(), labels[np.clip(idx, 0, None)], _NOT_RECORDED)
    return pd.Series(out, index=age.index, dtype=object)


def _rows(dimension: str, groups: pd.Series, population: pd.Series | None) -> list[dict]:
    counts = groups.value_counts()
    total = int(counts.sum())
    pop_total = float(population.sum()) if population is not None else 0.0
    order = list(population.index) if population is not None else sorted(counts.index)
    order += [g for g in counts.index if g not in order]
    rows = []
    for g in order:
        n = int(counts.get(g, 0))
        share = n / total if total else None
        pop = float(population[g]) if population is not None and g in population.index else None
        pshare = pop / pop_total if pop is not None and pop_total else None
        ratio = share / pshare if share is not None and pshare else None
        rows.append(
            {
                "dimension": dimension,
                "group": g,
                "count": n,
                "share": share,
                "population": pop,
                "population_share": pshare,
                "ratio": ratio,
            }
        )
    return rows


def fairness_table(
    people: pd.DataFrame,
    as_of: dt.date,
    *,
    population_by_age: pd.DataFrame | None = None,
    population_by_ethnicity: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The list's distribution by age band, sex and ethnicity beside the population's
    (columns :data:`FAIRNESS_COLUMNS`).

    ``people``: ``person_ref``, ``birth_year``, ``sex``, ``ethnicity`` of the people on the list
    (age on ``as_of`` = its year minus the birth year). ``population_by_age``: ``age``,
    ``population`` (one area, one year); ``population_by_ethnicity``: ``ethnic_group`` (Census
    2021 five groups), ``residents``. A group missing from a population has no share or ratio.
    """
    people = people.drop_duplicates("person_ref")
    ages = as_of.year - pd.to_numeric(people["birth_year"], errors="coerce")
    rows: list[dict] = []
    pop_age = None
    if population_by_age is not None and not population_by_age.empty:
        pa = population_by_age.assign(band=age_band(population_by_age["age"]))
        pop_age = pa.groupby("band")["population"].sum().reindex([b[1] for b in AGE_BANDS])
    rows += _rows("Age band", age_band(ages), pop_age)
    sex = people["sex"].map(_SEX).fillna(_NOT_RECORDED)
    rows += _rows("Sex", sex, None)
    pop_eth = None
    if population_by_ethnicity is not None and not population_by_ethnicity.empty:
        pe = population_by_ethnicity.assign(
            group=population_by_ethnicity["ethnic_group"].str.split(",| ", regex=True).str[0]
        )
        pop_eth = pe.groupby("group")["residents"].sum()
    eth = people["ethnicity"].map(_ETHNIC_CENSUS_PREFIX).fillna(_NOT_RECORDED)
    rows += _rows("Ethnicity", eth, pop_eth)
    return pd.DataFrame(rows, columns=list(FAIRNESS_COLUMNS))
