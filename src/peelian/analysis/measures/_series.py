"""From records to monthly counts per measure and area unit, and from LSOA units up the area
hierarchy (LSOA -> ward -> CSP -> force), handling the LSOA 2011/2021 vintages honestly."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from peelian.errors import SchemaError
from peelian.schemas.measure_definitions import MeasureCatalogue

__all__ = ["COUNT_COLUMNS", "area_map", "measure_counts", "month_index", "month_label"]

#: Columns of the counts frame the engine takes.
COUNT_COLUMNS = ("measure", "area_level", "area_code", "month", "count", "harm")
_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]


def month_index(month: str | pd.Series | np.ndarray) -> Any:
    """``YYYY-MM`` -> months since year 0 (vectorised for Series)."""
    if isinstance(month, str):
        return _month_index(month)
    codes, uniques = pd.factorize(pd.Series(month).astype(str))
    lut = np.array([_month_index(u) for u in uniques], dtype=int)
    return lut[codes] if len(codes) else np.zeros(0, dtype=int)


@lru_cache(maxsize=4096)
def _month_index(month: str) -> int:
    try:
        y, m = int(month[:4]), int(month[5:7])
    except (TypeError, ValueError) as exc:
        raise SchemaError(f"Months must be 'YYYY-MM' strings. Got {month!r}.") from exc
    if not 1 <= m <= 12:
        raise SchemaError(f"Months must be 'YYYY-MM' strings. Got {month!r}.")
    return y * 12 + m - 1


@lru_cache(maxsize=4096)
def month_label(idx: int, style: str = "iso") -> str:
    """Months since year 0 -> ``YYYY-MM`` (iso) or ``December 2021`` (long)."""
    y, m = divmod(int(idx), 12)
    return f"{y:04d}-{m + 1:02d}" if style == "iso" else f"{_MONTHS[m]} {y}"


def _need(frame: pd.DataFrame, cols: tuple[str, ...], what: str) -> None:
    missing = [c for c in cols if c not in frame.columns]
    if missing:
        raise SchemaError(
            f"The {what} frame lacks the column(s) {', '.join(missing)}.",
            f"It needs {', '.join(cols)}.",
        )


def _norm_cat(s: pd.Series) -> pd.Series:
    return s.astype(str).str.strip().str.lower().str.replace("-", " ", regex=False)


def measure_counts(
    catalogue: MeasureCatalogue,
    *,
    policeuk: pd.DataFrame | None = None,
    occurrences: pd.DataFrame | None = None,
    involvements: pd.DataFrame | None = None,
    external: pd.DataFrame | None = None,
    harm_weights: Mapping[str, float] | None = None,
    force_counts: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Monthly counts per measure and area unit (the engine's input).

    - ``policeuk``: month, lsoa_code, category and optionally ``n`` (rows are events if absent);
      categories match the definitions by name or slug, case-insensitively.
    - ``occurrences``: force records (one row per crime, or aggregated with ``n``): month,
      lsoa_code, ho_code, flag columns; optionally ``harm`` (CCHI days per row).
      Each measure's ``offence_set`` is evaluated with :func:`peelian.offences.offence_set`
      (``involvements`` for age/sex-based sets) and its ``flags`` must all be true.
    - ``external``: series, area_level (force | csp), area_code, month, value.
    - ``harm_weights``: CCHI days per police.uk category (name), for the harm column.
    - ``force_counts``: force measures already counted (by the store, in SQL:
      ``peelian.data.offence_sql.force_measure_counts``), in the returned columns; used
      instead of ``occurrences``.

    Returns columns measure, area_level ("unit" = an LSOA code to roll up, or an explicit
    level), area_code (NaN for unlocated records), month, count, harm.
    """
    parts: list[pd.DataFrame] = []
    weights = {
        k.strip().lower().replace("-", " "): float(v) for k, v in (harm_weights or {}).items()
    }
    if policeuk is not None and len(policeuk):
        _need(policeuk, ("month", "lsoa_code", "category"), "police.uk counts")
        pu = policeuk.copy()
        if "n" not in pu.columns:
            pu["n"] = 1
        pu["cat"] = _norm_cat(pu["category"])
        pu["w"] = pu["cat"].map(weights).astype(float) if weights else np.nan
        pu["h"] = pu["n"] * pu["w"]
        pairs = pd.DataFrame(
            [
                (d.name, str(c).strip().lower().replace("-", " "))
                for d in catalogue
                if d.source == "policeuk"
                for c in d.filter["categories"]
            ],
            columns=["measure", "cat"],
        )
        if len(pairs):
            sel = pairs.merge(pu, on="cat")
            g = sel.groupby(["measure", "lsoa_code", "month"], dropna=False, sort=False).agg(
                count=("n", "sum"), harm=("h", "sum"), hw=("w", "count")
            )
            g.loc[g["hw"] == 0, "harm"] = np.nan
            g = g.drop(columns="hw").reset_index().rename(columns={"lsoa_code": "area_code"})
            g.insert(1, "area_level", "unit")
            parts.append(g)
    if force_counts is not None and len(force_counts):
        _need(force_counts, COUNT_COLUMNS, "force counts")
        parts.append(force_counts[list(COUNT_COLUMNS)])
    elif occurrences is not None and len(occurrences):
        _need(occurrences, ("month", "lsoa_code"), "force occurrences")
        from peelian.offences import offence_set

        occ = occurrences.reset_index(drop=True)
        n = occ["n"] if "n" in occ.columns else pd.Series(1, index=occ.index)
        harm = occ["harm"] if "harm" in occ.columns else pd.Series(np.nan, index=occ.index)
        cache: dict[str, pd.Series] = {}
        shared: dict[str, Any] = {}  # normalised codes and sub-sets, shared by every set
        for d in catalogue:
            if d.source != "force":
                continue
            mask = pd.Series(True, index=occ.index)
            name = d.filter.get("offence_set")
            if name:
                if name not in cache:
                    m = offence_set(name).mask(occ, involvements, cache=shared)
                    cache[name] = m.astype(bool)
                mask &= cache[name]
            for flag in d.filter.get("flags") or []:
                _need(occ, (flag,), "force occurrences")
                mask &= occ[flag].fillna(False).astype(bool)
            sel = pd.DataFrame(
                {
                    "area_code": occ["lsoa_code"][mask],
                    "month": occ["month"][mask],
                    "count": n[mask],
                    "harm": harm[mask],
                }
            )
            # harm stays NaN for a group without any weighted offence (min_count=1)
            g = sel.groupby(["area_code", "month"], dropna=False).sum(min_count=1).reset_index()
            g.insert(0, "measure", d.name)
            g.insert(1, "area_level", "unit")
            parts.append(g)
    if external is not None and len(external):
        _need(external, ("series", "area_code", "month", "value"), "external series")
        ext = external.copy()
        if "area_level" not in ext.columns:
            ext["area_level"] = "force"
        for d in catalogue:
            if d.source != "external":
                continue
            sel = ext[ext["series"] == d.filter["series"]]
            g = pd.DataFrame(
                {
                    "measure": d.name,
                    "area_level": sel["area_level"],
                    "area_code": sel["area_code"],
                    "month": sel["month"],
                    "count": sel["value"].astype(float),
                    "harm": np.nan,
                }
            )
            parts.append(g)
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in COUNT_COLUMNS})
    out = pd.concat(parts, ignore_index=True)
    out["month"] = out["month"].astype(str)
    return out[list(COUNT_COLUMNS)]


def area_map(
    areas: pd.DataFrame,
    unit_codes: pd.Series | np.ndarray,
    lookup: pd.DataFrame | None = None,
    force_code: str | None = None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Where each LSOA unit code lies: columns unit_code, lsoa, ward, csp, force.

    The LSOA level is reported in the vintage most unit codes use (2011 for police.uk files up
    to 2023, 2021 after); codes of the other vintage are converted through the ONS lookup only
    when the conversion is one-to-one or many-to-one, otherwise they are left out of the LSOA
    level (still counted in their ward, CSP and force when those are unambiguous). Codes not in
    ``areas`` (cross-border, unlocated) count only in the force total. Returns the map and a
    note of every such choice.
    """
    _need(areas, ("code", "level"), "areas")
    by_level = {lv: areas[areas["level"] == lv].set_index("code") for lv in areas["level"].unique()}
    l11 = by_level.get("lsoa11", pd.DataFrame())
    l21 = by_level.get("lsoa21", pd.DataFrame())
    codes = pd.Series(pd.unique(pd.Series(unit_codes).dropna().astype(str)))
    only11 = codes.isin(l11.index) & ~codes.isin(l21.index)
    only21 = codes.isin(l21.index) & ~codes.isin(l11.index)
    vintage = "lsoa21" if only21.sum() > only11.sum() else "lsoa11"
    if len(l11) == 0 and len(l21):
        vintage = "lsoa21"
    if force_code is None:
        forces = by_level.get("force", pd.DataFrame()).index.tolist()
        force_code = forces[0] if len(forces) == 1 else None
    lk = lookup if lookup is not None else pd.DataFrame(columns=["lsoa11_code", "lsoa21_code"])
    fwd = lk.groupby("lsoa11_code")["lsoa21_code"].agg(list)  # 2011 -> [2021]
    back = lk.groupby("lsoa21_code")["lsoa11_code"].agg(list)  # 2021 -> [2011]

    def col(frame: pd.DataFrame, name: str) -> dict[str, Any]:
        if name not in frame.columns:
            return {}
        return {k: v for k, v in frame[name].astype(object).to_dict().items() if isinstance(v, str)}

    ward21 = col(l21, "ward_code")
    csp_of = {**col(l11, "csp_code"), **col(l21, "csp_code")}
    force_of = {**col(l11, "force_code"), **col(l21, "force_code")}
    set11, set21 = set(l11.index), set(l21.index)
    fwd_d, back_d = fwd.to_dict(), back.to_dict()
    rows = []
    notes: dict[str, Any] = {
        "lsoa_vintage": 2021 if vintage == "lsoa21" else 2011,
        "not_in_areas": [],
        "split_lsoa": [],
        "ward_ambiguous": [],
    }
    for c in codes.tolist():
        in11, in21 = c in set11, c in set21
        if not (in11 or in21):
            notes["not_in_areas"].append(c)
            rows.append((c, None, None, None, force_code))
            continue
        kids = [c] if in21 else list(fwd_d.get(c, []))
        if vintage == "lsoa11":
            parents = back_d.get(c, [])
            lsoa = c if in11 else (parents[0] if len(parents) == 1 else None)
        else:
            lsoa = c if in21 else (kids[0] if len(kids) == 1 else None)
        if lsoa is None:
            notes["split_lsoa"].append(c)
        wards = {ward21[k] for k in kids if k in ward21}
        ward = wards.pop() if len(wards) == 1 else None
        if ward is None:
            notes["ward_ambiguous"].append(c)
        rows.append((c, lsoa, ward, csp_of.get(c), force_of.get(c, force_code)))
    out = pd.DataFrame(rows, columns=["unit_code", "lsoa", "ward", "csp", "force"])
    return out, notes
