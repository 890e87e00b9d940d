"""Offence definitions as SQL: count force records per measure, LSOA and month in the database.

An offence set (``peelian.offences``) is a tree of ``codes``, ``categories``, ``flag``,
``person``, ``set``, ``all``, ``any`` and ``not`` nodes. :func:`offence_condition` turns the tree
into one SQL boolean over ``occurrences`` with the same two-valued rules as
``OffenceSet.mask`` on frames (a missing flag is false; a ``person`` node is an EXISTS over the
crime's involvements). :func:`force_measure_counts` then counts every force measure in one
``GROUP BY month, lsoa_code`` with one ``SUM(CASE ...)`` per measure, so no per-crime rows
leave the database (decision 0007).

    counts = force_measure_counts(store, [("homicide", "homicide", [])])
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import and_, case, exists, extract, false, func, literal, not_, or_, select, true

from peelian.data.store import Store
from peelian.data.tables import involvements, occurrences, persons
from peelian.offences import ROLES, OffenceSet, offence_set

__all__ = ["force_measure_counts", "offence_condition", "person_exists"]

#: Columns of :func:`force_measure_counts` (those of ``measure_counts`` in the analysis layer).
COUNT_COLUMNS = ("measure", "area_level", "area_code", "month", "count", "harm")


def person_exists(cond: Mapping[str, Any]) -> Any:
    """SQL: some involvement of the occurrence matches a ``person`` condition (the rules of
    ``OffenceSet.mask`` on frames: roles case-insensitive; age = year of ``reported_at`` minus
    birth year, unknown ages never match; sex case-insensitive)."""
    inv, per, occ = involvements, persons, occurrences
    roles = [str(r).lower() for r in cond.get("roles", ROLES)]
    where = [
        inv.c.force == occ.c.force,
        inv.c.crime_ref == occ.c.crime_ref,
        func.lower(inv.c.role).in_(roles),
    ]
    joined: Any = inv
    if any(k in cond for k in ("age_lt", "age_ge", "sex")):
        joined = inv.join(
            per, and_(per.c.force == inv.c.force, per.c.person_ref == inv.c.person_ref)
        )
    age = extract("year", occ.c.reported_at) - per.c.birth_year
    if "age_lt" in cond:
        where.append(age < float(cond["age_lt"]))
    if "age_ge" in cond:
        where.append(age >= float(cond["age_ge"]))
    if "sex" in cond:
        where.append(func.upper(per.c.sex).in_([str(x).upper() for x in cond["sex"]]))
    return exists(select(literal(1)).select_from(joined).where(*where))


def offence_condition(oset: OffenceSet) -> Any:
    """The offence set as one SQL boolean over the ``occurrences`` table (codes are stored
    normalised by the force import, so ``codes`` nodes compare directly)."""
    return _node(oset, oset.definition)


def _node(oset: OffenceSet, node: Mapping[str, Any]) -> Any:
    ((key, arg),) = node.items()
    occ = occurrences
    if key == "codes":
        return occ.c.ho_code.in_(list(arg)) if arg else false()
    if key == "categories":
        wanted = sorted({str(c).lower() for c in arg})
        return func.lower(occ.c.policeuk_category).in_(wanted)
    if key == "flag":
        if arg == "hate":
            return func.coalesce(func.trim(occ.c.hate_strands), "") != ""
        return occ.c[arg].is_(True)
    if key == "set":
        return _node(oset, oset.subset(arg).definition)
    if key == "all":
        return and_(true(), *[_node(oset, sub) for sub in arg])
    if key == "any":
        return or_(false(), *[_node(oset, sub) for sub in arg])
    if key == "not":
        return not_(_node(oset, arg))
    if key == "person":
        return person_exists(arg)
    raise ValueError(f"unknown offence node {key!r}")  # compiled definitions never get here


def force_measure_counts(
    store: Store,
    measures: Sequence[tuple[str, str | None, Sequence[str]]],
    *,
    force: str | None = None,
) -> pd.DataFrame:
    """Monthly counts of force records per measure and LSOA, computed in SQL.

    ``measures``: (measure name, offence set name or None, flags that must all be true). Returns
    the columns of ``peelian.analysis.measures.measure_counts`` (measure, area_level "unit",
    area_code = the record's LSOA or NaN when unlocated, month, count, harm = NaN) for the
    (measure, LSOA, month) cells with at least one record.
    """
    if not measures:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in COUNT_COLUMNS})
    occ = occurrences
    sums = []
    for i, (_, set_name, flags) in enumerate(measures):
        parts = [offence_condition(offence_set(set_name))] if set_name else []
        parts += [occ.c[f].is_(True) for f in flags]
        cond = and_(true(), *parts)
        sums.append(func.sum(case((cond, 1), else_=0)).label(f"m{i}"))
    q = select(occ.c.month, occ.c.lsoa_code, *sums).group_by(occ.c.month, occ.c.lsoa_code)
    if force:
        q = q.where(occ.c.force == force)
    wide = store.read_frame(q, raw=True)  # strings and integers only
    names = [m for m, _, _ in measures]
    long = wide.melt(
        id_vars=["month", "lsoa_code"],
        value_vars=[f"m{i}" for i in range(len(measures))],
        var_name="k",
        value_name="count",
    )
    long["count"] = pd.to_numeric(long["count"]).fillna(0).astype("int64")
    long = long[long["count"] > 0]
    out = pd.DataFrame(
        {
            "measure": np.asarray(names, dtype=object)[long["k"].str[1:].astype(int).to_numpy()],
            "area_level": "unit",
            "area_code": long["lsoa_code"].to_numpy(dtype=object),
            "month": long["month"].astype(str).to_numpy(),
            "count": long["count"].to_numpy(),
            "harm": np.nan,
        }
    )
    return out.reset_index(drop=True)
