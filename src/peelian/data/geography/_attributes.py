"""Attach population, ethnicity, deprivation, rural-urban class and area to the built hierarchy.

Methods (apportionment, IMD summaries) are described in :mod:`peelian.data.geography._build`.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from peelian.data.geography._files import AGE_COLUMNS, SourceFile

if TYPE_CHECKING:
    from peelian.data.geography._build import Built

__all__ = ["add_attributes"]

_DOMAIN_NAMES = {
    "imd": "IMD",
    "income": "Income",
    "employment": "Employment",
    "education": "Education",
    "health": "Health",
    "crime": "Crime",
    "housing_and_access": "Housing and Access",
    "housing_and_services": "Housing and Services",
    "environment": "Environment",
}


def _files(sources: list[SourceFile], kind: str) -> list[SourceFile]:
    return [s for s in sources if s.kind == kind]


def _codes_ok(src: SourceFile, frame: pd.DataFrame, col: str, known: set[str]) -> pd.DataFrame:
    codes = frame[col].astype(str).str.strip()
    frame = frame.assign(**{col: codes})
    bad = ~codes.str.fullmatch(r"[EWSN]\d{8}")
    if bad.any():
        src.reject(frame[bad], "bad_code", f"{col} is blank or not a 9-character ONS code")
    frame = frame[~bad]
    dup = frame.duplicated([col])
    if dup.any():
        src.reject(frame[dup], "duplicate_code", f"{col} given twice")
    frame = frame[~dup]
    out = ~frame[col].isin(known)
    if out.any():
        src.reject(frame[out], "outside_loaded_areas", "refers to an area with no boundary loaded")
    return frame[~out]


def _integers(src: SourceFile, frame: pd.DataFrame, cols: list[str]) -> pd.DataFrame:
    """Parse ``cols`` as non-negative integers; quarantine rows where any is not one."""
    parsed = frame[cols].apply(lambda s: pd.to_numeric(s.astype(str).str.strip(), errors="coerce"))
    bad = parsed.isna().any(axis=1) | (parsed < 0).any(axis=1) | (parsed % 1 != 0).any(axis=1)
    if bad.any():
        src.reject(frame[bad], "bad_number", f"{', '.join(cols[:3])}... must be whole numbers >= 0")
    frame = frame[~bad].copy()
    frame[cols] = parsed[~bad].astype(np.int64)
    return frame


def _population(built: Built, sources: list[SourceFile]) -> dict[int, pd.DataFrame]:
    """Long single-year-of-age frames per year: level, code, age, population."""
    from peelian.data.geography._build import apportion

    areas = built.areas
    lsoa11 = set(areas.loc[areas["level"] == "lsoa11", "code"])
    lsoa21 = areas.loc[areas["level"] == "lsoa21", ["code", "ward_code", "csp_code", "force_code"]]
    lk = built.lsoa_lookup[built.lsoa_lookup["lsoa21_code"].isin(set(lsoa21["code"]))]
    reachable = lsoa11 | set(lk["lsoa11_code"]) | set(lsoa21["code"])
    census = _census_residents(sources)
    weights = pd.DataFrame(
        {"source": lk["lsoa11_code"].to_numpy(), "target": lk["lsoa21_code"].to_numpy()}
    )
    # An LSOA 2011 code missing from the lookup but present in 2021 maps to itself.
    same = sorted((lsoa11 & set(lsoa21["code"])) - set(weights["source"]))
    weights = pd.concat(
        [weights, pd.DataFrame({"source": same, "target": same})], ignore_index=True
    )
    weights["weight"] = weights["target"].map(census).fillna(0.0) if census else 1.0
    if census:
        built.choices["population_apportioned_by"] = "Census 2021 usual residents of LSOA 2021"
    else:
        built.choices["population_apportioned_by"] = "equal shares (no Census 2021 counts loaded)"

    out: dict[int, pd.DataFrame] = {}
    for src in sorted(_files(sources, "population_lsoa11"), key=lambda s: s.year or 0):
        frame = src.frame
        if src.year is None:
            src.reject(
                frame, "year_unknown", "the file name does not say the year (e.g. population20_...)"
            )
            continue
        if src.year in out:
            src.reject(frame, "duplicate_year", f"population for {src.year} already loaded")
            continue
        frame = _codes_ok(src, frame, "lsoa11_code", reachable)
        frame = _integers(src, frame, ["total_population", *AGE_COLUMNS])
        mismatch = frame[AGE_COLUMNS].sum(axis=1) != frame["total_population"]
        if mismatch.any():
            src.reject(frame[mismatch], "total_mismatch", "total_population != sum of the ages")
            frame = frame[~mismatch]
        long = frame.melt(
            id_vars=["lsoa11_code"], value_vars=AGE_COLUMNS, var_name="age", value_name="value"
        )
        long["age"] = long["age"].str.rstrip("+").astype(int)
        parts = [
            long[long["lsoa11_code"].isin(lsoa11)]
            .rename(columns={"lsoa11_code": "code", "value": "population"})
            .assign(level="lsoa11")
        ]
        a21 = apportion(long.rename(columns={"lsoa11_code": "source"}), weights, by=["age"])
        a21 = a21.groupby(["target", "age"], as_index=False)["value"].sum()
        a21 = a21.rename(columns={"target": "code", "value": "population"}).assign(level="lsoa21")
        parts.append(a21)
        joined = a21.merge(lsoa21, on="code")
        for level, key in (("ward", "ward_code"), ("csp", "csp_code"), ("force", "force_code")):
            agg = (
                joined.dropna(subset=[key])
                .groupby([key, "age"], as_index=False)["population"]
                .sum()
            )
            parts.append(agg.rename(columns={key: "code"}).assign(level=level))
        res = pd.concat(parts, ignore_index=True)[["code", "level", "age", "population"]]
        out[src.year] = res.assign(year=src.year)
    return out


def _census_residents(sources: list[SourceFile]) -> dict[str, float]:
    res: dict[str, float] = {}
    for src in _files(sources, "ethnicity_lsoa21"):
        f = src.frame
        tot = pd.to_numeric(f["total_residents"], errors="coerce")
        for code, value in zip(f["lsoa21_code"].str.strip(), tot, strict=True):
            if pd.notna(value) and code not in res:
                res[code] = float(value)
    return res


def _ethnicity(built: Built, sources: list[SourceFile]) -> pd.DataFrame:
    areas = built.areas
    lsoa21 = areas.loc[areas["level"] == "lsoa21", ["code", "ward_code", "csp_code", "force_code"]]
    known = set(lsoa21["code"])
    parts = []
    for src in _files(sources, "ethnicity_lsoa21"):
        frame = src.frame.assign(lsoa21_code=src.frame["lsoa21_code"].str.strip())
        bad = ~frame["lsoa21_code"].str.fullmatch(r"[EWSN]\d{8}") | (
            frame["ethnic_group"].str.strip() == ""
        )
        if bad.any():
            src.reject(frame[bad], "bad_code", "lsoa21_code or ethnic_group missing")
        frame = frame[~bad]
        dup = frame.duplicated(["lsoa21_code", "ethnic_group"])
        if dup.any():
            src.reject(frame[dup], "duplicate_code", "LSOA and ethnic group given twice")
        frame = frame[~dup]
        out = ~frame["lsoa21_code"].isin(known)
        if out.any():
            src.reject(
                frame[out], "outside_loaded_areas", "refers to an area with no boundary loaded"
            )
        frame = _integers(src, frame[~out], ["n", "total_residents"])
        parts.append(frame)
    if not parts:
        return built.area_ethnicity
    eth = pd.concat(parts, ignore_index=True).drop_duplicates(["lsoa21_code", "ethnic_group"])
    base = pd.DataFrame(
        {
            "code": eth["lsoa21_code"],
            "level": "lsoa21",
            "ethnic_group": eth["ethnic_group"].str.strip(),
            "residents": eth["n"],
            "total_residents": eth["total_residents"],
        }
    )
    out_parts = [base]
    joined = base.merge(lsoa21, on="code")
    totals = base.drop_duplicates("code").merge(lsoa21, on="code")
    for level, key in (("ward", "ward_code"), ("csp", "csp_code"), ("force", "force_code")):
        agg = (
            joined.dropna(subset=[key])
            .groupby([key, "ethnic_group"], as_index=False)["residents"]
            .sum()
        )
        tot = totals.dropna(subset=[key]).groupby(key)["total_residents"].sum()
        agg["total_residents"] = agg[key].map(tot)
        out_parts.append(agg.rename(columns={key: "code"}).assign(level=level))
    return pd.concat(out_parts, ignore_index=True)[list(base.columns)]


def _deprivation(built: Built, sources: list[SourceFile]) -> pd.DataFrame:
    areas = built.areas
    parts = []
    for kind, level in (("imd_lsoa11", "lsoa11"), ("imd_lsoa21", "lsoa21")):
        known = set(areas.loc[areas["level"] == level, "code"])
        for src in _files(sources, kind):
            col = f"{level}_code"
            frame = _codes_ok(src, src.frame, col, known)
            long = []
            for c in frame.columns:
                m = re.fullmatch(r"(.+)_(decile|rank|score)", c)
                if m:
                    values = pd.to_numeric(frame[c].str.strip(), errors="coerce")
                    long.append(
                        pd.DataFrame(
                            {
                                "code": frame[col],
                                "domain": m.group(1),
                                "stat": m.group(2),
                                "value": values,
                            }
                        )
                    )
            if not long:
                continue
            lf = pd.concat(long, ignore_index=True)
            wide = lf.pivot_table(
                index=["code", "domain"], columns="stat", values="value", aggfunc="first"
            ).reset_index()
            for stat in ("decile", "rank", "score"):
                if stat not in wide.columns:
                    wide[stat] = np.nan
            wide["domain"] = wide["domain"].map(
                lambda d: _DOMAIN_NAMES.get(d, d.replace("_", " ").title())
            )
            wide = wide.assign(level=level, version=src.year)
            parts.append(wide[["code", "level", "version", "domain", "decile", "rank", "score"]])
    if not parts:
        return built.area_deprivation
    return pd.concat(parts, ignore_index=True).drop_duplicates(
        ["code", "level", "version", "domain"]
    )


def _ruc(sources: list[SourceFile], kind: str, key: str, known: set[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for src in _files(sources, kind):
        frame = _codes_ok(src, src.frame, key, known)
        col = (
            "classification"
            if "classification" in frame.columns
            else next(c for c in frame.columns if c.startswith("ruc"))
        )
        out.update({k: v for k, v in zip(frame[key], frame[col], strict=True) if k not in out})
    return out


def add_attributes(built: Built, sources: list[SourceFile]) -> None:
    """Fill population, ethnicity, deprivation, rural-urban, area and centroid columns."""
    import shapely

    areas = built.areas
    pops = _population(built, sources)
    if pops:
        built.area_population = pd.concat(pops.values(), ignore_index=True)[
            ["code", "level", "year", "age", "population"]
        ]
        latest = max(pops)
        totals = pops[latest].groupby(["code", "level"])["population"].sum()
        idx = pd.MultiIndex.from_arrays([areas["code"], areas["level"]])
        areas["population"] = pd.array(totals.reindex(idx).to_numpy(), dtype="Int64")
        areas["population_year"] = [latest if pd.notna(v) else None for v in areas["population"]]
        built.choices["population_year"] = latest
    else:
        areas["population"] = pd.array([pd.NA] * len(areas), dtype="Int64")
        areas["population_year"] = None
    built.area_ethnicity = _ethnicity(built, sources)
    dep = _deprivation(built, sources)
    built.area_deprivation = dep
    for col in ("imd_decile", "imd_rank", "imd_score", "imd_version"):
        areas[col] = None
    if len(dep):
        imd = (
            dep[dep["domain"] == "IMD"]
            .sort_values("version")
            .drop_duplicates(["code", "level"], keep="last")
        )
        key = imd.set_index(["code", "level"])
        idx = pd.MultiIndex.from_arrays([areas["code"], areas["level"]])
        for stat in ("decile", "rank", "score", "version"):
            areas[f"imd_{stat}"] = key[stat].reindex(idx).to_numpy()
        _summarise_imd(areas, built)
    areas["rural_urban"] = None
    for kind, level in (("ruc_lsoa11", "lsoa11"), ("ruc_lsoa21", "lsoa21")):
        sel = areas["level"] == level
        ruc = _ruc(sources, kind, f"{level}_code", set(areas.loc[sel, "code"]))
        areas.loc[sel, "rural_urban"] = areas.loc[sel, "code"].map(ruc)
    geoms = areas["geometry"].to_numpy(dtype=object)
    has = np.array([g is not None and not isinstance(g, float) for g in geoms])
    area = np.full(len(areas), np.nan)
    cx = np.full(len(areas), np.nan)
    cy = np.full(len(areas), np.nan)
    if has.any():
        valid = np.array(list(geoms[has]), dtype=object)
        area[has] = shapely.area(valid) / 1e6
        cent = shapely.centroid(valid)
        cx[has], cy[has] = shapely.get_x(cent), shapely.get_y(cent)
    areas["area_km2"], areas["centroid_easting"], areas["centroid_northing"] = area, cx, cy


def _summarise_imd(areas: pd.DataFrame, built: Built) -> None:
    """Population-weighted mean IMD score of the LSOA 2021 areas in each ward, CSP and force."""
    l21 = areas[
        (areas["level"] == "lsoa21") & areas["imd_score"].notna() & areas["population"].notna()
    ]
    if l21.empty:
        return
    score = l21["imd_score"].astype(float) * l21["population"].astype(float)
    for level, key in (("ward", "ward_code"), ("csp", "csp_code"), ("force", "force_code")):
        num = score.groupby(l21[key]).sum()
        den = l21["population"].astype(float).groupby(l21[key]).sum()
        mean = (num / den).round(3)
        sel = areas["level"] == level
        areas.loc[sel, "imd_score"] = areas.loc[sel, "code"].map(mean)
        areas.loc[sel, "imd_version"] = int(l21["imd_version"].max())
    built.choices["imd_score_above_lsoa"] = "population-weighted mean of LSOA 2021 IMD scores"
