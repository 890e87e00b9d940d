"""Cohorts: who a declared, versioned rule selects on an as-of date, and why others are not.

A cohort (:class:`~._config.Cohort`, from ``data/cohorts_v1.toml`` or a user's file) selects a
person when any of its rules does. A rule counts the person's qualifying records in the window
``[window_start(as_of, years, months), as_of]`` (both days included; records are dated by
``reported_at``), checks their age on the as-of date, the number of records and of distinct
victims. MATAC's serial perpetrator (issue 15, DOMAIN.md section 6) is the rule
``roles=[suspect, offender]``, ``records=[{flags=[domestic_abuse]}]``, 3 years, aged 16+,
at least 2 records and 2 victims.

Frames (pseudonymised references only, never names):

- ``involvements``: ``person_ref``, ``crime_ref``, ``role``;
- ``occurrences``: ``crime_ref``, ``reported_at``, ``ho_code`` and the flag columns the rules
  test (``domestic_abuse``, ``knife``, ...), plus ``lsoa_code`` when areas are wanted;
- ``persons``: ``person_ref``, ``birth_year`` and optionally ``birth_date`` (exact ages), ``sex``,
  ``ethnicity``;
- ``missing`` (rules with ``source = "missing"``): ``person_ref``, ``episode_ref``,
  ``reported_missing_at``;
- ``links`` (household rules): ``from_ref``, ``to_ref``, ``link_type``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from peelian.analysis.people._config import Cohort, CohortRule, RecordTest
from peelian.analysis.people.rfg import window_start
from peelian.offences import offence_set

__all__ = ["CohortSelection", "ages_on", "select_cohort"]

_EMPTY_RECORDS = ("person_ref", "crime_ref", "reported_at", "ho_code", "lsoa_code")


def ages_on(persons: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """``person_ref``, ``age_low``, ``age_high``: the youngest and oldest each person can be on
    ``as_of``. With ``birth_date`` the age is exact (low = high; the birthday counts: a 16th
    birthday on the as-of date is 16). With only ``birth_year`` it is one of two values (the
    birthday may be before or after the as-of date), except on 31 December. Unknown: ``<NA>``.

    >>> p = pd.DataFrame({"person_ref": ["a"], "birth_year": [2010]})
    >>> ages_on(p, dt.date(2026, 6, 1))[["age_low", "age_high"]].values.tolist()
    [[15, 16]]
    """
    out = pd.DataFrame({"person_ref": persons["person_ref"].to_numpy()})
    years = as_of.year - pd.to_numeric(persons["birth_year"], errors="coerce").astype("Int64")
    low = (years - (0 if (as_of.month, as_of.day) == (12, 31) else 1)).to_numpy()
    high = years.to_numpy()
    if "birth_date" in persons.columns:
        bd = pd.to_datetime(persons["birth_date"], errors="coerce")
        exact = (
            as_of.year
            - bd.dt.year
            - (
                (bd.dt.month > as_of.month)
                | ((bd.dt.month == as_of.month) & (bd.dt.day > as_of.day))
            ).astype(int)
        )
        known = bd.notna().to_numpy()
        low = np.where(known, exact.astype("Int64").to_numpy(), low)
        high = np.where(known, exact.astype("Int64").to_numpy(), high)
    out["age_low"] = pd.array(low, dtype="Int64")
    out["age_high"] = pd.array(high, dtype="Int64")
    return out


@dataclass(frozen=True)
class CohortSelection:
    """What :func:`select_cohort` found.

    ``members``: one row per selected person: ``person_ref``, ``rules`` (numbers of the rules
    met, 1-based), ``record_count``, ``victim_count``, ``age_low``, ``age_high``, ``household``
    (the shared address of a household rule, else None), ``lsoa_code`` (of their newest
    qualifying record). ``records``: the qualifying records of the members (``person_ref``,
    ``crime_ref``, ``reported_at``, ``ho_code``, ``lsoa_code``), what the score is computed on.
    ``victims``: ``crime_ref``, ``person_ref`` of the victims on those records. ``candidates``:
    everyone with a qualifying record who was not selected, with ``why_not``. ``excluded``:
    counts by reason.
    """

    cohort: Cohort
    as_of: dt.date
    members: pd.DataFrame
    records: pd.DataFrame
    victims: pd.DataFrame
    candidates: pd.DataFrame
    excluded: dict[str, int]
    windows: list[dict[str, Any]] = field(default_factory=list)


def _test_mask(occ: pd.DataFrame, test: RecordTest, cache: dict[str, Any]) -> pd.Series:
    m = pd.Series(True, index=occ.index)
    for flag in test.flags:
        m &= occ[flag].fillna(False).astype(bool) if flag in occ.columns else False
    if test.offence_sets:
        any_set = pd.Series(False, index=occ.index)
        for name in test.offence_sets:
            key = f"people:set:{name}"
            if key not in cache:
                cache[key] = offence_set(name).mask(occ, cache=cache).to_numpy()
            any_set |= cache[key]
        m &= any_set
    return m


def _window(occ_day: pd.Series, rule: CohortRule, as_of: dt.date) -> tuple[pd.Series, dt.date]:
    start = window_start(as_of, years=rule.lookback_years, months=rule.lookback_months)
    inside = (occ_day >= pd.Timestamp(start)) & (occ_day <= pd.Timestamp(as_of))
    return inside, start


def _rule_records(
    rule: CohortRule,
    inv: pd.DataFrame,
    occ: pd.DataFrame,
    missing: pd.DataFrame | None,
    as_of: dt.date,
    cache: dict[str, Any],
) -> tuple[pd.DataFrame, dt.date]:
    """The qualifying records of one rule, one row per person and record."""
    if rule.source == "missing":
        if missing is None or missing.empty:
            return pd.DataFrame(columns=list(_EMPTY_RECORDS)), window_start(
                as_of, years=rule.lookback_years, months=rule.lookback_months
            )
        day = pd.to_datetime(missing["reported_missing_at"]).dt.normalize()
        inside, start = _window(day, rule, as_of)
        m = missing[inside.to_numpy()]
        recs = pd.DataFrame(
            {
                "person_ref": m["person_ref"].to_numpy(),
                "crime_ref": m["episode_ref"].to_numpy(),
                "reported_at": m["reported_missing_at"].to_numpy(),
                "ho_code": None,
                "lsoa_code": None,
            }
        )
        return recs.drop_duplicates(["person_ref", "crime_ref"]), start
    inside, start = _window(cache["people:day"], rule, as_of)
    keep = inside.copy()
    if rule.records:
        any_test = pd.Series(False, index=occ.index)
        for test in rule.records:
            any_test |= _test_mask(occ, test, cache)
        keep &= any_test
    crimes = occ.loc[keep, [c for c in _EMPTY_RECORDS if c != "person_ref"]]
    people = inv[inv["role"].isin(rule.roles)][["person_ref", "crime_ref"]]
    recs = people.merge(crimes, on="crime_ref", how="inner")
    return recs.drop_duplicates(["person_ref", "crime_ref"]), start


def _victims(inv: pd.DataFrame, crimes: pd.Series) -> pd.DataFrame:
    v = inv[(inv["role"] == "victim") & inv["crime_ref"].isin(crimes)]
    return v[["crime_ref", "person_ref"]].drop_duplicates()


def _victim_counts(recs: pd.DataFrame, victims: pd.DataFrame) -> pd.Series:
    v = victims.rename(columns={"person_ref": "victim_ref"})
    j = recs[["person_ref", "crime_ref"]].merge(v, on="crime_ref")
    j = j[j["victim_ref"] != j["person_ref"]]
    return j.drop_duplicates(["person_ref", "victim_ref"]).groupby("person_ref").size()


def _rule_check(
    rule: CohortRule, recs: pd.DataFrame, victims: pd.DataFrame, ages: pd.DataFrame
) -> pd.DataFrame:
    """Per person with a qualifying record: counts, ages, and ``why_not`` ("" = selected)."""
    per = recs.groupby("person_ref").agg(record_count=("crime_ref", "size"))
    per["victim_count"] = _victim_counts(recs, victims).reindex(per.index, fill_value=0)
    per = per.join(ages.set_index("person_ref"), how="left")
    why = pd.Series("", index=per.index, dtype=object)

    def fail(mask: Any, text: str) -> None:
        m = np.asarray(mask, dtype=bool) & (why == "").to_numpy()
        why[m] = text

    unknown = per["age_low"].isna().to_numpy()
    if rule.min_age is not None or rule.max_age is not None:
        fail(unknown, "age unknown")
    if rule.min_age is not None:
        low, high = per["age_low"].fillna(-1), per["age_high"].fillna(-1)
        fail(high < rule.min_age, f"under {rule.min_age} on the as-of date")
        fail(low < rule.min_age, f"age uncertain: may be under {rule.min_age} (birth year only)")
    if rule.max_age is not None:
        low, high = per["age_low"].fillna(10**6), per["age_high"].fillna(10**6)
        fail(low >= rule.max_age, f"aged {rule.max_age} or over on the as-of date")
        fail(high >= rule.max_age, f"age uncertain: may be {rule.max_age} (birth year only)")
    fail(
        per["record_count"] < rule.min_records,
        f"fewer than {rule.min_records} qualifying records in the window",
    )
    if rule.min_victims:
        fail(
            per["victim_count"] < rule.min_victims,
            f"fewer than {rule.min_victims} different victims on the qualifying records",
        )
    per["why_not"] = why
    return per


def _households(
    rule: CohortRule, checked: pd.DataFrame, links: pd.DataFrame | None
) -> pd.DataFrame:
    """Apply a household rule: members pass only with enough passing housemates."""
    spec = rule.household or {}
    need = int(spec.get("min_members", 2))
    checked["household"] = None
    if links is None or links.empty:
        checked.loc[checked["why_not"] == "", "why_not"] = "no shared address recorded"
        return checked
    homes = links[links["link_type"] == spec.get("link_type", "resides")][["from_ref", "to_ref"]]
    ok = checked.index[checked["why_not"] == ""]
    h = homes[homes["from_ref"].isin(ok)].drop_duplicates()
    sizes = h.groupby("to_ref")["from_ref"].nunique()
    big = h[h["to_ref"].isin(sizes[sizes >= need].index)]
    first_home = big.sort_values("to_ref").drop_duplicates("from_ref").set_index("from_ref")
    checked.loc[first_home.index, "household"] = first_home["to_ref"]
    alone = (checked["why_not"] == "") & checked["household"].isna()
    checked.loc[alone, "why_not"] = f"fewer than {need} people at a shared address meet the rule"
    return checked


def select_cohort(
    cohort: Cohort,
    involvements: pd.DataFrame,
    occurrences: pd.DataFrame,
    persons: pd.DataFrame,
    as_of: dt.date,
    *,
    missing: pd.DataFrame | None = None,
    links: pd.DataFrame | None = None,
    cache: dict[str, Any] | None = None,
) -> CohortSelection:
    """Who ``cohort`` selects on ``as_of`` (see the module docstring for the frames).

    ``cache``: pass the same dict to several calls on the same frames (other cohorts, other
    as-of dates) and the offence-set masks and dates are computed once.
    """
    cache = {} if cache is None else cache
    if "people:day" not in cache:
        cache["people:day"] = pd.to_datetime(occurrences["reported_at"]).dt.normalize()
    ages = ages_on(persons, as_of)
    checks, all_recs, windows = [], [], []
    for i, rule in enumerate(cohort.rules, start=1):
        recs, start = _rule_records(rule, involvements, occurrences, missing, as_of, cache)
        victims = (
            _victims(involvements, recs["crime_ref"])
            if rule.source != "missing"
            else (pd.DataFrame(columns=["crime_ref", "person_ref"]))
        )
        checked = _rule_check(rule, recs, victims, ages)
        if rule.household is not None:
            checked = _households(rule, checked, links)
        else:
            checked["household"] = None
        checked["rule"] = i
        checks.append(checked)
        all_recs.append(recs.assign(rule=i))
        windows.append({"rule": i, "from": start, "to": as_of})
    return _assemble(cohort, as_of, involvements, checks, all_recs, windows)


def _assemble(
    cohort: Cohort,
    as_of: dt.date,
    inv: pd.DataFrame,
    checks: list[pd.DataFrame],
    all_recs: list[pd.DataFrame],
    windows: list[dict[str, Any]],
) -> CohortSelection:
    both = pd.concat(checks).reset_index().rename(columns={"index": "person_ref"})
    passed = both[both["why_not"] == ""]
    members = passed.groupby("person_ref", sort=True).agg(
        rules=("rule", lambda s: sorted(int(x) for x in s)),
        household=("household", "first"),
        age_low=("age_low", "first"),
        age_high=("age_high", "first"),
    )
    pairs = passed[["person_ref", "rule"]]
    recs = pd.concat(all_recs).merge(pairs, on=["person_ref", "rule"], how="inner")
    recs = recs.sort_values("reported_at").drop_duplicates(["person_ref", "crime_ref"], keep="last")
    victims = _victims(inv, recs["crime_ref"])
    members["record_count"] = recs.groupby("person_ref").size().reindex(members.index, fill_value=0)
    members["victim_count"] = (
        _victim_counts(recs, victims).reindex(members.index, fill_value=0).astype(int)
    )
    newest = recs.drop_duplicates("person_ref", keep="last").set_index("person_ref")
    members["lsoa_code"] = newest["lsoa_code"].reindex(members.index)
    members = members.reset_index()
    failed = both[~both["person_ref"].isin(members["person_ref"])]
    if len(checks) == 1:
        candidates = failed[["person_ref", "record_count", "victim_count", "why_not"]]
        candidates = candidates.sort_values("person_ref").reset_index(drop=True)
    else:
        candidates = (
            failed.groupby("person_ref", sort=True)
            .agg(
                record_count=("record_count", "max"),
                victim_count=("victim_count", "max"),
                why_not=("why_not", lambda s: "; ".join(dict.fromkeys(s))),
            )
            .reset_index()
        )
    excluded = (
        failed.drop_duplicates("person_ref", keep="first")["why_not"].value_counts().to_dict()
    )
    return CohortSelection(
        cohort=cohort,
        as_of=as_of,
        members=members,
        records=recs.drop(columns=["rule"]).reset_index(drop=True),
        victims=victims.reset_index(drop=True),
        candidates=candidates,
        excluded={str(k): int(v) for k, v in excluded.items()},
        windows=windows,
    )
