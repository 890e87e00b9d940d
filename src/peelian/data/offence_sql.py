"""Offence definitions as SQL: count force records per measure, LSOA and month in the database.

An offence set (``peelian.offences``) is a tree of ``codes``, ``categories``, ``flag``,
``person``, ``set``, ``all``, ``any`` and ``not`` nodes. :func:`offence_condition` turns the tree
into one SQL boolean over ``occurrences`` with the same two-valued rules as
``OffenceSet.mask`` on frames (a missing flag is false; a ``person`` node is an EXISTS over the
crime's involvements). :func:`force_measure_counts` then counts every force measure in one
``GROUP BY month, lsoa_code`` with one ``SUM(CASE ...)`` per measure, so no per-crime rows
leave the database (decision 0007); the counts are kept until new data land (decision 0008).

    counts = force_measure_counts(store, [("homicide", "homicide", [])])
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import (
    Integer,
    and_,
    case,
    cast,
    exists,
    false,
    func,
    literal,
    not_,
    or_,
    select,
    true,
)

from peelian._parallel import parallel_map, worker_count
from peelian.data.count_cache import cache_key, data_version, read_counts, write_counts
from peelian.data.geography import Lsoa21Rule, geography_version, lsoa21_rule
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
    # the year of reported_at is the first four characters of ``month`` (both dialects; cheaper
    # than extracting it from the timestamp on every probe)
    age = cast(func.substr(occ.c.month, 1, 4), Integer) - per.c.birth_year
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


def _pure_codes(oset: OffenceSet, node: Mapping[str, Any]) -> frozenset[str] | None:
    """The codes a node matches when it is made of code lists only (``codes``, and ``set``,
    ``any`` and ``all`` of code lists), else None."""
    ((key, arg),) = node.items()
    if key == "codes":
        return frozenset(str(c) for c in arg)
    if key == "set":
        return _pure_codes(oset, oset.subset(arg).definition)
    if key in ("any", "all") and arg:
        parts = [_pure_codes(oset, sub) for sub in arg]
        if any(p is None for p in parts):
            return None
        sets = [p for p in parts if p is not None]
        return frozenset().union(*sets) if key == "any" else frozenset.intersection(*sets)
    return None


def _node(oset: OffenceSet, node: Mapping[str, Any]) -> Any:
    occ = occurrences
    codes = _pure_codes(oset, node)
    if codes is not None:
        # one IN list instead of an OR (AND) of many: SQLite probes each list once per row
        return occ.c.ho_code.in_(sorted(codes)) if codes else false()
    ((key, arg),) = node.items()
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
    cache: bool = True,
) -> pd.DataFrame:
    """Monthly counts of force records per measure and LSOA, computed in SQL.

    ``measures``: (measure name, offence set name or None, flags that must all be true). Returns
    the columns of ``peelian.analysis.measures.measure_counts`` (measure, area_level "unit",
    area_code = the record's LSOA or None when unlocated, month, count, harm = NaN) for the
    (measure, LSOA, month) cells with at least one record.

    Each distinct definition is counted once, and with ``cache`` kept until new data land
    (:mod:`peelian.data.count_cache`, decision 0008): only definitions not counted since the
    last ingest go to the database, all of them in one ``GROUP BY``.
    """
    if not measures:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in COUNT_COLUMNS})
    occ = occurrences
    geo = geography_version(store)  # the LSOA 2021 placement depends on the boundaries
    conds: dict[str, Any] = {}
    what: dict[str, str] = {}
    keys = []
    for name, set_name, flags in measures:
        parts = [offence_condition(offence_set(set_name))] if set_name else []
        parts += [occ.c[f].is_(True) for f in flags]
        cond = and_(true(), *parts)
        probe = select(func.sum(case((cond, 1), else_=0)))
        if force:
            probe = probe.where(occ.c.force == force)
        key = cache_key(store, f"force-measure|{geo}", probe)
        keys.append(key)
        conds.setdefault(key, cond)
        what.setdefault(key, f"force-measure:{name}")
    version = data_version(store, "force") if cache else ""
    found = read_counts(store, list(conds), version) if cache else {}
    missing = [k for k in conds if k not in found]
    if missing:
        fresh = dict(zip(missing, _count(store, [conds[k] for k in missing], force), strict=True))
        found.update(fresh)
        if cache:
            write_counts(store, {k: (what[k], fresh[k]) for k in missing}, version)
    parts_out = []
    for (name, _, _), key in zip(measures, keys, strict=True):
        cells = found[key]
        parts_out.append(
            pd.DataFrame(
                {
                    "measure": name,
                    "area_level": "unit",
                    "area_code": cells["area_code"].to_numpy(dtype=object),
                    "month": cells["month"].astype(str).to_numpy(dtype=object),
                    "count": cells["count"].to_numpy(dtype="int64"),
                    "harm": np.nan,
                }
            )
        )
    return pd.concat(parts_out, ignore_index=True)


def _count(store: Store, conds: Sequence[Any], force: str | None) -> list[pd.DataFrame]:
    """(month, area_code, count) of the records meeting each condition, in one GROUP BY
    (split by month over the cores: each part on its own connection). ``area_code`` is the
    record's LSOA 2021 by the one rule of decision 0015 (records of a split 2011 LSOA are
    grouped by location too, so each goes whole to its successor), else its LSOA as recorded."""
    occ = occurrences
    rule = lsoa21_rule(store)
    split = sorted(rule.split)
    sums = [func.sum(case((c, 1), else_=0)).label(f"m{i}") for i, c in enumerate(conds)]
    q = select(occ.c.month, occ.c.lsoa_code, *sums).group_by(occ.c.month, occ.c.lsoa_code)
    if split:
        q = q.where(or_(occ.c.lsoa_code.is_(None), occ.c.lsoa_code.not_in(split)))
    if force:
        q = q.where(occ.c.force == force)
    months = store.read_frame(select(occ.c.month).distinct().order_by(occ.c.month))["month"]
    parts = min(worker_count(), max(1, len(months) // 6))
    if parts > 1:
        cuts = [str(months.iloc[len(months) * i // parts]) for i in range(1, parts)]
        ranges = list(zip([None, *cuts], [*cuts, None], strict=True))
        frames = parallel_map(lambda r: store.read_frame(_months(q, *r), raw=True), ranges)
        wide = pd.concat(frames, ignore_index=True)
    else:
        wide = store.read_frame(q, raw=True)  # strings and integers only
    if split:
        keys = (occ.c.month, occ.c.lsoa_code, occ.c.easting, occ.c.northing)
        qs = select(*keys, *sums).where(occ.c.lsoa_code.in_(split)).group_by(*keys)
        if force:
            qs = qs.where(occ.c.force == force)
        wide = pd.concat([wide, store.read_frame(qs, raw=True)], ignore_index=True)
    wide = _in_lsoa21(rule, wide, len(conds))
    out = []
    for i in range(len(conds)):
        n = pd.to_numeric(wide[f"m{i}"]).fillna(0).astype("int64")
        keep = (n > 0).to_numpy()
        out.append(
            pd.DataFrame(
                {
                    "month": wide["month"].astype(str).to_numpy(dtype=object)[keep],
                    "area_code": wide["lsoa_code"].to_numpy(dtype=object)[keep],
                    "count": n.to_numpy()[keep],
                }
            )
        )
    return out


def _in_lsoa21(rule: Lsoa21Rule, wide: pd.DataFrame, n_conds: int) -> pd.DataFrame:
    """``wide`` regrouped by month and LSOA 2021 (the code as recorded where it cannot be
    placed); force records carry no vintage column in this query, so the rule reads it from the
    code (see :meth:`peelian.data.geography.Lsoa21Rule.place`)."""
    placed = rule.place(wide)["lsoa21_code"].astype(object)
    code = placed.where(placed.notna(), wide["lsoa_code"].astype(object))
    sums = [f"m{i}" for i in range(n_conds)]
    frame = wide[["month", *sums]].copy()
    for c in sums:
        frame[c] = pd.to_numeric(frame[c]).fillna(0).astype("int64")
    frame["lsoa_code"] = code.to_numpy(dtype=object)
    return frame.groupby(["month", "lsoa_code"], dropna=False, sort=True)[sums].sum().reset_index()


def _months(q: Any, first: str | None, stop: str | None) -> Any:
    """``q`` restricted to months in [first, stop) (open ends when None)."""
    if first is not None:
        q = q.where(occurrences.c.month >= first)
    if stop is not None:
        q = q.where(occurrences.c.month < stop)
    return q
