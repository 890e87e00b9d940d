"""Build the area hierarchy (LSOA 2021 -> ward -> CSP -> force, plus LSOA 2011) from source files.

Pure pandas/shapely: no store. :func:`build_hierarchy` takes the recognised
:class:`~peelian.data.geography._files.SourceFile` objects and returns the rows of the ``areas``,
``lsoa_lookup``, ``area_population``, ``area_ethnicity`` and ``area_deprivation`` tables, while
marking, in each source file, the rows it could not use (with a reason).

Population (method, documented in docs/guide/geography.md): the ONS mid-year estimates are per
LSOA **2011**; the hierarchy is built on LSOA **2021**. Each LSOA 2011's count *for each single
year of age* is apportioned to the LSOA 2021 areas it maps to in the ONS lookup (U unchanged:
all of it; M merged: all of it to the merged area; S split and X complex: in proportion to the
Census 2021 usual residents of the target LSOAs, or equally when no Census count is loaded), with
largest-remainder rounding so that whole people are kept and every total reconciles exactly.
Ward, CSP and force populations are sums of their LSOA 2021 areas.

Deprivation: LSOA rows carry the IMD of their vintage (IMD 2019 for LSOA 2011, IMD 2025 for
LSOA 2021). Ward/CSP/force rows carry the population-weighted mean of their LSOAs' IMD 2025
scores (the MHCLG "average score" summary for higher geographies, English Indices of
Deprivation 2019 technical report, section 3.7), with no decile or rank (those are national
rankings of LSOAs only).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from peelian.data.geography._files import SourceFile

__all__ = ["Built", "apportion", "build_hierarchy"]

LEVELS = ("lsoa11", "lsoa21", "ward", "csp", "force")
CHANGE_CODES = {"U", "S", "M", "X"}


@dataclass
class Built:
    """Rows for each areas table, and the automatic choices made while building them."""

    areas: pd.DataFrame
    lsoa_lookup: pd.DataFrame
    area_population: pd.DataFrame
    area_ethnicity: pd.DataFrame
    area_deprivation: pd.DataFrame
    choices: dict[str, Any] = field(default_factory=dict)


def _files(sources: list[SourceFile], kind: str) -> list[SourceFile]:
    return [s for s in sources if s.kind == kind]


def _clean_codes(src: SourceFile, cols: list[str]) -> pd.DataFrame:
    """Drop (and quarantine) rows whose code columns are blank or not 9-character ONS codes."""
    frame = src.frame
    ok = pd.Series(True, index=frame.index)
    for col in cols:
        values = frame[col].astype(str).str.strip()
        frame[col] = values
        bad = ok & ~values.str.fullmatch(r"[EWSN]\d{8}")
        if bad.any():
            src.reject(frame[bad], "bad_code", f"{col} is blank or not a 9-character ONS code")
        ok &= ~bad
    return frame[ok]


def _dedupe(src: SourceFile, frame: pd.DataFrame, key: list[str]) -> pd.DataFrame:
    dup = frame.duplicated(key, keep="first")
    if dup.any():
        src.reject(frame[dup], "duplicate_code", f"{'+'.join(key)} already given earlier")
    return frame[~dup]


# -- boundaries -------------------------------------------------------------------------------
def _boundaries(sources: list[SourceFile], kind: str) -> pd.DataFrame:
    """code, name, geometry, attrs from every boundary file of a kind (first code wins)."""
    import shapely

    parts = []
    seen: set[str] = set()
    for src in _files(sources, kind):
        gdf = src.frame
        cols = src.columns
        frame = pd.DataFrame(
            {
                "_row": gdf["_row"].to_numpy(),
                "code": gdf[cols["code"]].astype(str).str.strip().to_numpy(),
                "name": (gdf[cols["name"]] if cols.get("name") else gdf[cols["code"]])
                .astype(str)
                .to_numpy(),
                "geometry": gdf.geometry.to_numpy(),
            }
        )
        for key in ("ltla", "ward", "ward_name", "ltla_name"):
            frame[key] = gdf[cols[key]].astype(str).to_numpy() if cols.get(key) else ""
        src.frame = frame
        frame = _clean_codes(src, ["code"])
        empty = shapely.is_missing(frame["geometry"].to_numpy()) | shapely.is_empty(
            frame["geometry"].to_numpy()
        )
        if empty.any():
            src.reject(frame[empty], "empty_geometry", "the feature has no geometry")
            frame = frame[~empty]
        again = frame["code"].isin(seen)
        if again.any():
            src.reject(frame[again], "duplicate_code", "code already loaded from another file")
            frame = frame[~again]
        frame = _dedupe(src, frame, ["code"])
        seen |= set(frame["code"])
        frame = frame.assign(_src=id(src))
        parts.append(frame)
    empty = ["_row", "code", "name", "geometry", "ltla", "ward", "ward_name", "ltla_name", "_src"]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=empty)


def _mark_outside(
    sources: list[SourceFile], kind: str, frame: pd.DataFrame, used: pd.Series
) -> None:
    """Quarantine lookup rows that refer to no loaded area (kept with their reason)."""
    for src in _files(sources, kind):
        mine = frame[(frame["_src"] == id(src)) & ~used]
        if len(mine):
            src.reject(mine, "outside_loaded_areas", "refers to an area with no boundary loaded")


def _table(
    sources: list[SourceFile], kind: str, code_cols: list[str], key: list[str]
) -> pd.DataFrame:
    """Rows of every table file of a kind; ``code_cols``/``key`` are regexes of column names."""
    import re

    parts = []
    for src in _files(sources, kind):
        cols = [c for c in src.frame.columns if c != "_row"]
        resolve = {p: next((c for c in cols if re.fullmatch(p, c)), p) for p in code_cols + key}
        frame = _clean_codes(src, [resolve[p] for p in code_cols])
        frame = _dedupe(src, frame, [resolve[p] for p in key])
        parts.append(frame.assign(_src=id(src)))
    if not parts:
        return pd.DataFrame(columns=["_row", "_src"])
    return pd.concat(parts, ignore_index=True)


def _col(frame: pd.DataFrame, pattern: str) -> str:
    import re

    return next(c for c in frame.columns if re.fullmatch(pattern, c))


# -- apportionment ----------------------------------------------------------------------------
def apportion(values: pd.DataFrame, weights: pd.DataFrame, *, by: list[str]) -> pd.DataFrame:
    """Split integer ``values`` (columns ``source``, *by*, ``value``) over ``weights`` (columns
    ``source``, ``target``, ``weight``) with largest-remainder (Hamilton) rounding.

    Every source's value is kept exactly: ``result.groupby(source+by).value.sum() == values``.
    Sources whose weights sum to 0 are split equally. Ties go to the lower target code.
    """
    w = weights.copy()
    w["weight"] = w["weight"].astype(float)
    total = w.groupby("source")["weight"].transform("sum")
    n = w.groupby("source")["weight"].transform("size")
    w["share"] = np.where(total > 0, w["weight"] / total.where(total > 0, 1.0), 1.0 / n)
    m = values.merge(w[["source", "target", "share"]], on="source", how="inner")
    exact = m["value"].to_numpy(dtype=float) * m["share"].to_numpy()
    base = np.floor(exact + 1e-9)
    m["value_out"] = base.astype(np.int64)
    m["_frac"] = exact - base
    keys = ["source", *by]
    m["_deficit"] = m["value"].astype(np.int64) - m.groupby(keys)["value_out"].transform("sum")
    m = m.sort_values([*keys, "_frac", "target"], ascending=[True] * len(keys) + [False, True])
    m["_rank"] = m.groupby(keys).cumcount()
    m["value_out"] += (m["_rank"] < m["_deficit"]).astype(np.int64)
    out = m[["source", "target", *by, "value_out"]].rename(columns={"value_out": "value"})
    return out.sort_values(["target", *by, "source"]).reset_index(drop=True)


# -- the hierarchy ----------------------------------------------------------------------------
def build_hierarchy(sources: list[SourceFile]) -> Built:
    """Assemble every areas table from the recognised source files (see the module docstring)."""
    import shapely

    choices: dict[str, Any] = {}
    b11 = _boundaries(sources, "boundary_lsoa11")
    b21 = _boundaries(sources, "boundary_lsoa21")
    bward = _boundaries(sources, "boundary_ward")
    bcsp = _boundaries(sources, "boundary_csp")
    bforce = _boundaries(sources, "boundary_force")

    # LSOA 2011 -> 2021 lookup: stored whole (A's ingest maps cross-border codes with it too).
    lk = _table(
        sources,
        "lookup_lsoa11_lsoa21",
        ["lsoa11_code", "lsoa21_code"],
        ["lsoa11_code", "lsoa21_code"],
    )
    if len(lk):
        lk["change_code"] = lk["change_code"].str.strip().str.upper()
        bad = ~lk["change_code"].isin(CHANGE_CODES)
        for src in _files(sources, "lookup_lsoa11_lsoa21"):
            rows = lk[bad & (lk["_src"] == id(src))]
            if len(rows):
                src.reject(rows, "bad_change_code", "change_code must be U, S, M or X")
        lk = lk[~bad]
    lsoa_lookup = lk[["lsoa11_code", "lsoa21_code", "change_code"]].reset_index(drop=True)

    # LSOA 2021 -> ward -> local authority (= CSP).
    l21w = _table(sources, "lookup_lsoa21_ward_ltla", ["lsoa21_code"], ["lsoa21_code"])
    if len(l21w):
        wcol, ltcol = _col(l21w, r"ward\d\d_code"), _col(l21w, r"ltla\d\d_code")
        l21w = l21w.assign(
            ward=l21w[wcol].str.strip(),
            ward_name=l21w[_col(l21w, r"ward\d\d_name")]
            if any(c.startswith("ward") and c.endswith("_name") for c in l21w.columns)
            else "",
            ltla=l21w[ltcol].str.strip(),
            ltla_name=l21w[_col(l21w, r"ltla\d\d_name")]
            if any(c.startswith("ltla") and c.endswith("_name") for c in l21w.columns)
            else "",
        )
        used = l21w["lsoa21_code"].isin(b21["code"])
        _mark_outside(sources, "lookup_lsoa21_ward_ltla", l21w, used)
        l21w = l21w[used]
    lsoa21 = b21.copy()
    if len(l21w):
        m = lsoa21[["code"]].merge(
            l21w[["lsoa21_code", "ward", "ward_name", "ltla", "ltla_name"]],
            left_on="code",
            right_on="lsoa21_code",
            how="left",
        )
        for col in ("ward", "ward_name", "ltla", "ltla_name"):
            got = m[col].fillna("").to_numpy()
            lsoa21[col] = np.where(got != "", got, lsoa21[col].fillna("").to_numpy())
    lsoa21 = lsoa21.rename(columns={"ward": "ward_code", "ltla": "csp_code"})

    # Wards: the wards the LSOA 2021 areas point at (when the lookup is loaded), else the
    # published ward boundaries. Published wards that the lookup no longer uses are quarantined.
    ward_names = dict(zip(lsoa21["ward_code"], lsoa21["ward_name"], strict=False))
    ward_codes = set(lsoa21["ward_code"]) - {""}
    if ward_codes:
        unused = ~bward["code"].isin(ward_codes)
        for src in _files(sources, "boundary_ward"):
            rows = bward[unused & (bward["_src"] == id(src))]
            if len(rows):
                src.reject(
                    rows,
                    "ward_not_in_lookup",
                    "ward code not used by the LSOA 2021 -> ward lookup (superseded)",
                )
        bward = bward[~unused]
    else:
        ward_codes = set(bward["code"])
    wards = pd.DataFrame({"code": pd.Series(sorted(ward_codes), dtype=object)})
    wards = wards.merge(bward[["code", "name", "geometry", "ltla"]], on="code", how="left")
    wards["name"] = [
        n if isinstance(n, str) and n else ward_names.get(c, c)
        for c, n in zip(wards["code"], wards["name"], strict=True)
    ]
    lsoa_csp_of_ward = (
        lsoa21[lsoa21["ward_code"] != ""]
        .groupby("ward_code")["csp_code"]
        .agg(lambda s: s.mode().iat[0])
    )
    wards["csp_code"] = (
        wards["code"].map(dict(lsoa_csp_of_ward)).astype(object).fillna(wards["ltla"]).fillna("")
    )

    # CSPs (local authorities).
    csp_names = dict(zip(lsoa21["csp_code"], lsoa21["ltla_name"], strict=False))
    csp_codes = (
        set(bcsp["code"]) | (set(wards["csp_code"]) - {""}) | (set(lsoa21["csp_code"]) - {""})
    )
    lcp = _table(
        sources, "lookup_ltla_csp_pfa", [r"ltla\d\d_code"], [r"ltla\d\d_code", r"csp\d\d_code"]
    )
    force_of_csp: dict[str, str] = {}
    force_names: dict[str, str] = {}
    ons_csp: dict[str, str] = {}
    if len(lcp):
        lt, pf = _col(lcp, r"ltla\d\d_code"), _col(lcp, r"pfa\d\d_code")
        ltn, pfn = _col(lcp, r"ltla\d\d_name"), _col(lcp, r"pfa\d\d_name")
        cs = _col(lcp, r"csp\d\d_code")
        lcp = lcp.assign(_lt=lcp[lt].str.strip())
        used = lcp["_lt"].isin(csp_codes)
        _mark_outside(sources, "lookup_ltla_csp_pfa", lcp, used)
        lcp = lcp[used]
        force_of_csp = dict(zip(lcp["_lt"], lcp[pf].str.strip(), strict=True))
        force_names = dict(zip(lcp[pf].str.strip(), lcp[pfn], strict=True))
        csp_names.update(
            {
                k: v
                for k, v in zip(lcp["_lt"], lcp[ltn], strict=True)
                if k not in csp_names or not csp_names[k]
            }
        )
        ons_csp = dict(zip(lcp["_lt"], lcp[cs], strict=True))
    csps = pd.DataFrame({"code": pd.Series(sorted(csp_codes), dtype=object)})
    csps = csps.merge(bcsp[["code", "name", "geometry"]], on="code", how="left")
    csps["name"] = [
        n if isinstance(n, str) and n else csp_names.get(c) or c
        for c, n in zip(csps["code"], csps["name"], strict=True)
    ]

    # Forces.
    force_codes = set(bforce["code"]) | {f for f in force_of_csp.values() if f}
    forces = pd.DataFrame({"code": pd.Series(sorted(force_codes), dtype=object)})
    forces = forces.merge(bforce[["code", "name", "geometry"]], on="code", how="left")
    forces["name"] = [
        n if isinstance(n, str) and n else force_names.get(c, c)
        for c, n in zip(forces["code"], forces["name"], strict=True)
    ]

    # Geometry where none was published: dissolve the level below (best-fit, reported).
    dissolved: dict[str, list[str]] = {}

    def fill(level_frame: pd.DataFrame, children: pd.DataFrame, key: str, level: str) -> None:
        geoms = level_frame["geometry"].to_numpy(dtype=object).copy()
        source = np.where(pd.isna(level_frame["geometry"]).to_numpy(), "none", "published").astype(
            object
        )
        for i, code in enumerate(level_frame["code"]):
            if geoms[i] is None or (isinstance(geoms[i], float) and np.isnan(geoms[i])):
                kids = children.loc[children[key] == code, "geometry"].dropna().to_numpy()
                if len(kids):
                    geoms[i] = shapely.union_all(kids)
                    source[i] = "dissolved"
                    dissolved.setdefault(level, []).append(code)
                else:
                    geoms[i] = None
        level_frame["geometry"] = geoms
        level_frame["geometry_source"] = source

    fill(wards, lsoa21, "ward_code", "ward")
    fill(csps, wards, "csp_code", "csp")
    # CSP -> force: the lookup; else the force boundary holding the CSP (spatial, reported).
    csps["force_code"] = csps["code"].map(lambda c: force_of_csp.get(c, ""))
    spatial = []
    for i in np.flatnonzero((csps["force_code"] == "").to_numpy()):
        geom = csps["geometry"].iat[i]
        if geom is None:
            continue
        pt = geom.representative_point()
        hit = forces[
            [
                g is not None and not (isinstance(g, float)) and g.contains(pt)
                for g in forces["geometry"]
            ]
        ]
        if len(hit):
            csps.loc[csps.index[i], "force_code"] = hit["code"].iat[0]
            spatial.append(csps["code"].iat[i])
    if spatial:
        choices["csp_force_by_location"] = spatial
    fill(forces, csps, "force_code", "force")
    if dissolved:
        choices["geometry_dissolved_from_children"] = dissolved

    csp_force = dict(zip(csps["code"], csps["force_code"], strict=True))
    lsoa21["force_code"] = lsoa21["csp_code"].map(lambda c: csp_force.get(c, ""))
    wards["force_code"] = wards["csp_code"].map(lambda c: csp_force.get(c, ""))
    lsoa21["geometry_source"] = "published"

    # LSOA 2011: CSP and ward through the lookup to LSOA 2021, else its own LA attribute.
    lsoa11 = b11.copy()
    l11lt = _table(sources, "lookup_lsoa11_ltla", ["lsoa11_code"], ["lsoa11_code"])
    targets = lsoa_lookup.merge(
        lsoa21[["code", "ward_code", "csp_code"]], left_on="lsoa21_code", right_on="code"
    )
    ward_of_11: dict = (
        targets.groupby("lsoa11_code")["ward_code"]
        .agg(lambda s: s.iat[0] if s.nunique() == 1 else "")
        .to_dict()
    )
    csp_of_11 = targets.groupby("lsoa11_code")["csp_code"].agg(lambda s: s.mode().iat[0])
    lsoa11["ward_code"] = lsoa11["code"].map(lambda c: ward_of_11.get(c, ""))
    own_la = lsoa11["ltla"].fillna("")
    if len(l11lt) and "lsoa11_code" in l11lt.columns:
        la = dict(
            zip(l11lt["lsoa11_code"], l11lt[_col(l11lt, r"ltla\d\d_code")].str.strip(), strict=True)
        )
        own_la = pd.Series(
            [la.get(c, o) for c, o in zip(lsoa11["code"], own_la, strict=True)], index=lsoa11.index
        )
        used = l11lt["lsoa11_code"].isin(lsoa11["code"])
        _mark_outside(sources, "lookup_lsoa11_ltla", l11lt, used)
    lsoa11["csp_code"] = (
        lsoa11["code"].map(dict(csp_of_11)).astype(object).fillna(own_la).fillna("")
    )
    lsoa11["force_code"] = lsoa11["csp_code"].map(lambda c: csp_force.get(c, ""))
    lsoa11["geometry_source"] = "published"

    # Assemble the areas rows.
    def level_rows(frame: pd.DataFrame, level: str, parent: str, **codes: Any) -> pd.DataFrame:
        out = pd.DataFrame(
            {
                "code": frame["code"].to_numpy(),
                "level": level,
                "name": frame["name"].astype(str).str.slice(0, 128).to_numpy(),
                "ward_code": codes.get("ward", frame.get("ward_code")),
                "csp_code": codes.get("csp", frame.get("csp_code")),
                "force_code": codes.get("force", frame.get("force_code")),
                "geometry": frame["geometry"].to_numpy(),
                "geometry_source": frame["geometry_source"].to_numpy(),
            }
        )
        out["parent_code"] = out[parent] if parent else None
        return out

    areas = pd.concat(
        [
            level_rows(lsoa11, "lsoa11", "csp_code"),
            level_rows(lsoa21, "lsoa21", "ward_code"),
            level_rows(wards, "ward", "csp_code", ward=wards["code"].to_numpy()),
            level_rows(csps, "csp", "force_code", ward=None, csp=csps["code"].to_numpy()),
            level_rows(forces, "force", "", ward=None, csp=None, force=forces["code"].to_numpy()),
        ],
        ignore_index=True,
    )
    for col in ("ward_code", "csp_code", "force_code", "parent_code"):
        areas[col] = areas[col].replace("", None)
        areas[col] = areas[col].where(areas[col].notna(), None)
    if ons_csp:
        choices["ons_csp_codes"] = {k: ons_csp[k] for k in sorted(ons_csp)}

    built = Built(
        areas=areas,
        lsoa_lookup=lsoa_lookup,
        area_population=pd.DataFrame(columns=["code", "level", "year", "age", "population"]),
        area_ethnicity=pd.DataFrame(
            columns=["code", "level", "ethnic_group", "residents", "total_residents"]
        ),
        area_deprivation=pd.DataFrame(
            columns=["code", "level", "version", "domain", "decile", "rank", "score"]
        ),
        choices=choices,
    )
    from peelian.data.geography._attributes import add_attributes

    add_attributes(built, sources)
    return built
