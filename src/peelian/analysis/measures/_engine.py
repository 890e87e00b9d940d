"""The measures engine: rolling 12-month counts per measure and area, compared with the
baseline and with the previous 12 months (exact tests, Garwood intervals, rate ratios, BH FDR),
rates per 1,000 residents, empirical-Bayes rates, CCHI harm, SPC with run rules, seasonal
trends, and a narrative sentence per result. Vectorised over areas and measures: one matrix
(rows = measure x area, columns = months) per run.

Honesty rules: a window counts only when its source has data for every month of it; a missing
baseline is reported as null with the reason, and the comparison falls back to the previous 12
months (documented in the narrative); where an area's monthly counts are over-dispersed the
exact test is widened by the estimated dispersion (quasi-Poisson; McCullagh & Nelder 1989,
Spiegelhalter 2005) and the decision uses the widened p-value (``p_value`` stays the exact one);
significance at levels with many areas uses the Benjamini-Hochberg adjusted p-value.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from peelian.analysis.measures._matrix import code_counts, level_blocks
from peelian.analysis.measures._narrative import narrate_rows
from peelian.analysis.measures._parts import (
    MONTHLY_COLUMNS,
    dispersion_columns,
    family_label,
    monthly_frame,
    note_for,
    source_key,
    spc_method,
)
from peelian.analysis.measures._series import area_map, month_index, month_label
from peelian.analysis.measures._spc_rows import exposure_matrix, spc_rows
from peelian.analysis.stats import (
    bh_adjust_grouped,
    compare_counts_arrays,
    dispersion_adjusted,
    eb_rates_grouped,
    garwood_interval,
    seasonal_trend_batch,
)
from peelian.errors import EmptySelectionError, ParameterError
from peelian.schemas.measure_definitions import AREA_LEVELS, MeasureCatalogue, MeasureDefinition

__all__ = ["SPC_FAMILY_LEVELS", "VALUE_COLUMNS", "MONTHLY_COLUMNS", "MeasuresResult", "compute"]

#: Levels whose control charts are read as one family per measure, with the false discovery
#: rate controlled across the family's areas (decision 0012); force and CSP charts are read alone.
SPC_FAMILY_LEVELS = ("ward", "lsoa")

VALUE_COLUMNS = (
    "measure",
    "label",
    "group",
    "ncpm",
    "source",
    "unit",
    "area_level",
    "area_code",
    "area_name",
    "period_end",
    "current",
    "baseline",
    "baseline_period_end",
    "baseline_available",
    "compared_with",
    "comparison",
    "change",
    "change_pct",
    "rate_ratio",
    "ci_low",
    "ci_high",
    "current_ci_low",
    "current_ci_high",
    "baseline_ci_low",
    "baseline_ci_high",
    "comparison_ci_low",
    "comparison_ci_high",
    "p_value",
    "p_adjusted",
    "dispersion",
    "dispersion_estimate",
    "dispersion_p",
    "p_value_adjusted",
    "ci_low_adjusted",
    "ci_high_adjusted",
    "test_used",
    "significant",
    "direction_good",
    "assessment",
    "previous",
    "previous_change_pct",
    "previous_rate_ratio",
    "previous_ci_low",
    "previous_ci_high",
    "previous_p_value",
    "previous_p_value_adjusted",
    "population",
    "rate_per_1000",
    "eb_rate_per_1000",
    "harm",
    "harm_comparison",
    "harm_change_pct",
    "spc_chart",
    "spc_signal",
    "spc_months",
    "trend_pct",
    "trend_low",
    "trend_high",
    "trend_p_value",
    "trend_model",
    "note",
    "narrative",
    "spc_method",
    "spc_p_value",
    "spc_q_value",
    "spc_fdr_family",
)


@dataclass(frozen=True)
class MeasuresResult:
    """Frames ``values`` (one row per measure x area) and ``monthly`` (one row per measure x
    area x month), and ``summary`` (period, automatic choices, what was unavailable and why)."""

    values: pd.DataFrame
    monthly: pd.DataFrame
    summary: dict[str, Any] = field(default_factory=dict)


def _obj(values: Any) -> pd.Series:
    """A Series of Python objects (pandas 3 would otherwise convert strings to Arrow, slowly)."""
    return pd.Series(np.asarray(values, dtype=object), dtype=object)


def compute(
    counts: pd.DataFrame,
    catalogue: MeasureCatalogue,
    areas: pd.DataFrame,
    *,
    period_end: str | None = None,
    area_levels: Sequence[str] | None = None,
    coverage: Mapping[str, Iterable[str]] | None = None,
    lookup: pd.DataFrame | None = None,
    force_code: str | None = None,
    level: float = 0.95,
    fdr: float = 0.05,
    spc_months: int = 24,
    rules: str = "anhoj",
    trend_levels: Sequence[str] = ("force", "csp"),
    survey_rows: pd.DataFrame | None = None,
    source_notes: Mapping[str, str] | None = None,
    population_by_year: pd.DataFrame | None = None,
) -> MeasuresResult:
    """Compute every measure of ``catalogue`` for every area of ``area_levels``.

    ``counts``: the frame of :func:`measure_counts`. ``areas``: code, level (lsoa11, lsoa21,
    ward, csp, force), name, ward_code, csp_code, force_code, population. ``coverage``: the
    months each source has data for (keys "policeuk", "force", "external:<series>"); inferred
    from ``counts`` when absent. ``period_end`` defaults to the last month covered.
    ``source_notes`` explain a source with no data (e.g. "no force records have been loaded").
    ``population_by_year`` (level, code, year, population): residents per calendar year, for
    the u-charts of measures whose ``spc`` is ``u`` (each month uses its year's population;
    without it, the areas' single population).
    """
    levels = tuple(area_levels or AREA_LEVELS)
    bad = [lv for lv in levels if lv not in AREA_LEVELS]
    if bad:
        raise ParameterError(
            f"The 'area_level' parameter of measures must be one of {', '.join(AREA_LEVELS)}. Got {bad[0]!r}."
        )
    notes_src = dict(source_notes or {})
    defs = {d.name: d for d in catalogue}
    cov = _coverage(counts, catalogue, coverage)
    covered_all = sorted({m for ms in cov.values() for m in ms})
    if not covered_all and survey_rows is None:
        raise EmptySelectionError(
            "There is no data for any measure.",
            "Load police.uk data (`peelian ingest policeuk`) or force records first.",
        )
    if period_end is None:
        period_end = month_label(max(month_index(m) for m in covered_all)) if covered_all else None
    elif not (isinstance(period_end, str) and len(period_end) == 7 and period_end[4] == "-"):
        raise ParameterError(
            f"The 'period_end' parameter of measures must be YYYY-MM. Got {period_end!r}."
        )
    end = month_index(period_end) if period_end else 0
    first_data = min((month_index(m) for m in covered_all), default=end)
    first_base = min(
        (month_index(d.baseline_end) - d.baseline_months + 1 for d in catalogue), default=end
    )
    lo = min(first_data, first_base, end - 23)
    n_t = end - lo + 1
    summary: dict[str, Any] = {
        "period_end": period_end,
        "definitions_version": catalogue.version,
        "level": level,
        "fdr": fdr,
        "spc": {
            "months": spc_months,
            "rules": rules,
            "family_levels": list(SPC_FAMILY_LEVELS),
            "family_fdr": fdr,
        },
        "coverage": {k: [min(v), max(v), len(v)] if v else None for k, v in cov.items()},
        "unavailable": {},
        "citations": [
            "Garwood 1936 (count intervals)",
            "Przyborowski & Wilenski 1940 (exact test)",
            "Breslow & Day 1987 (rate-ratio interval)",
            "Benjamini & Hochberg 1995 (FDR)",
            "Marshall 1991 (empirical Bayes)",
            "Montgomery 2009; Anhøj & Olesen 2014 (SPC)",
            "Fisher 1950; Swed & Eisenhart 1943; Mood 1940; Benjamini & Hochberg 1995 "
            "(ward and LSOA charts, decision 0012)",
            "McCullagh & Nelder 1989 s9.2; Spiegelhalter 2005 (over-dispersion of comparisons)",
            "McCullagh & Nelder 1989; Cameron & Trivedi 1990 (trend)",
        ],
    }

    cc = code_counts(counts)
    amap, map_notes = area_map(areas, cc.unit_codes(), lookup, force_code)
    force_code = force_code or (
        amap["force"].dropna().iloc[0] if amap["force"].notna().any() else None
    )
    if force_code is None:
        forces = areas.loc[areas["level"] == "force", "code"].tolist()
        force_code = forces[0] if forces else "force"
    amap["force"] = amap["force"].fillna(force_code)
    summary["areas"] = {
        "lsoa_vintage": map_notes["lsoa_vintage"],
        "codes_not_in_areas": len(map_notes["not_in_areas"]),
        "lsoa_codes_not_convertible": len(map_notes["split_lsoa"]),
        "lsoa_codes_with_ambiguous_ward": len(map_notes["ward_ambiguous"]),
        "note": "Records whose LSOA is unknown, outside the areas table or cannot be placed in "
        "one area count only at the levels where they can be placed (always in the force total).",
    }
    lsoa_level = "lsoa21" if map_notes["lsoa_vintage"] == 2021 else "lsoa11"
    names = areas.drop_duplicates(["level", "code"]).set_index(["level", "code"])["name"]
    pops = (
        areas.drop_duplicates(["level", "code"]).set_index(["level", "code"])["population"]
        if "population" in areas.columns
        else pd.Series(dtype=float)
    )
    level_areas = {
        "force": [force_code],
        "csp": sorted(areas.loc[areas["level"] == "csp", "code"]),
        "ward": sorted(areas.loc[areas["level"] == "ward", "code"]),
        "lsoa": sorted(areas.loc[areas["level"] == lsoa_level, "code"]),
    }
    blocks = level_blocks(cc, catalogue, cov, levels, level_areas, amap, lo, n_t)
    if blocks:
        meta = pd.concat([b[0] for b in blocks], ignore_index=True)
        cnt = np.vstack([b[1] for b in blocks])
        hm = np.vstack([b[2] for b in blocks])
        hm_seen = np.concatenate([b[3] for b in blocks])
    else:
        meta, cnt, hm, hm_seen = (
            pd.DataFrame(columns=["measure", "area_level", "area_code"]),
            np.zeros((0, n_t)),
            np.zeros((0, n_t)),
            np.zeros(0, dtype=bool),
        )
    values, monthly = _evaluate(
        meta,
        cnt,
        hm,
        hm_seen,
        defs,
        cov,
        lo,
        end,
        level,
        spc_months,
        rules,
        trend_levels,
        summary,
        notes_src,
        exposure_matrix(meta, lsoa_level, pops, population_by_year, lo, n_t),
        fdr,
    )
    # names, populations, rates, EB, FDR, assessment, narrative
    if len(values):
        key_level = values["area_level"].map({"lsoa": lsoa_level}).fillna(values["area_level"])
        idx = pd.MultiIndex.from_arrays([key_level, values["area_code"]])
        values["area_name"] = names.reindex(idx).to_numpy()
        values.loc[values["area_name"].isna() & (values["area_level"] == "force"), "area_name"] = (
            "Force area"
        )
        pop = (
            np.array(pops.reindex(idx), dtype=float) if len(pops) else np.full(len(values), np.nan)
        )
        if values["area_level"].eq("force").any() and len(pops):
            f = values["area_level"].eq("force").to_numpy() & np.isnan(pop)
            lsoa_pop = pops[pops.index.get_level_values(0) == lsoa_level].sum()
            pop[f] = lsoa_pop if lsoa_pop > 0 else np.nan
        values["population"] = pop
        with np.errstate(invalid="ignore", divide="ignore"):
            values["rate_per_1000"] = values["current"] / values["population"] * 1000
        values["eb_rate_per_1000"] = (
            eb_rates_grouped(
                values["current"],
                values["population"],
                values["measure"] + "|" + values["area_level"],
            )
            * 1000
        )
        # the decision p-value allows for over-dispersion (equal to the exact p when phi = 1)
        values["p_adjusted"] = bh_adjust_grouped(
            values["p_value_adjusted"], values["measure"] + "|" + values["area_level"]
        )
        values["significant"] = (values["p_adjusted"] < fdr).fillna(False).astype(bool)
        dg = values["direction_good"]
        up = values["change"] > 0
        values["assessment"] = np.where(
            ~values["significant"],
            "no significant change",
            np.where((dg == "down") ^ up, "improving", "worsening"),
        )
        values.loc[values["p_value"].isna(), "assessment"] = "not assessed"
        family = values.groupby(["measure", "area_level"])["area_code"].transform("size")
        values["narrative"] = _obj(
            narrate_rows(values, family, level, {n: d.noun for n, d in defs.items()})
        )
    if survey_rows is not None and len(survey_rows):
        values = pd.concat([values, survey_rows], ignore_index=True)
    for c in VALUE_COLUMNS:
        if c not in values.columns:
            values[c] = np.nan
    summary["rows"] = int(len(values))
    summary["measures"] = sorted(values["measure"].unique().tolist()) if len(values) else []
    return MeasuresResult(values=values[list(VALUE_COLUMNS)], monthly=monthly, summary=summary)


def _coverage(
    counts: pd.DataFrame, catalogue: MeasureCatalogue, coverage: Mapping[str, Iterable[str]] | None
) -> dict[str, list[str]]:
    if coverage is not None:
        return {k: sorted(set(v)) for k, v in coverage.items()}
    pairs = counts[["measure", "month"]].astype(object).drop_duplicates()
    out: dict[str, set[str]] = {}
    defs = {d.name: d for d in catalogue}
    for m, g in pairs.groupby("measure"):
        if m in defs:
            out.setdefault(source_key(defs[m]), set()).update(g["month"].tolist())
    return {k: sorted(v) for k, v in out.items()}


def _evaluate(
    meta: pd.DataFrame,
    cnt: np.ndarray,
    hm: np.ndarray,
    hm_seen: np.ndarray,
    defs: dict[str, MeasureDefinition],
    cov: dict[str, list[str]],
    lo: int,
    end: int,
    level: float,
    spc_months: int,
    rules: str,
    trend_levels: Sequence[str],
    summary: dict[str, Any],
    notes_src: Mapping[str, str],
    exposure: tuple[np.ndarray, np.ndarray],
    fdr: float = 0.05,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    n_rows, n_t = cnt.shape
    expo, expo_kind = exposure
    measures = list(dict.fromkeys(meta["measure"]))
    # coverage per measure (bool over months), broadcast to rows
    mcov = np.zeros((len(measures), n_t), dtype=bool)
    b_end = np.zeros(len(measures), dtype=int)
    b_len = np.zeros(len(measures), dtype=int)
    for i, name in enumerate(measures):
        d = defs[name]
        for m in cov.get(source_key(d), []):
            t = month_index(m) - lo
            if 0 <= t < n_t:
                mcov[i, t] = True
        b_end[i], b_len[i] = month_index(d.baseline_end), d.baseline_months
    mrow = (
        pd.Index(measures).get_indexer(meta["measure"].to_numpy(dtype=object))
        if n_rows
        else np.zeros(0, dtype=int)
    )
    cov_rows = mcov[mrow] if n_rows else np.zeros((0, n_t), dtype=bool)
    cum = np.concatenate([np.zeros((n_rows, 1)), np.cumsum(cnt, axis=1)], axis=1)
    hcum = np.concatenate([np.zeros((n_rows, 1)), np.cumsum(hm, axis=1)], axis=1)
    ccum = np.concatenate([np.zeros((len(measures), 1)), np.cumsum(mcov, axis=1)], axis=1)

    def window(e: np.ndarray, length: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        s = e - length + 1 - lo
        ok = (s >= 0) & (e - lo < n_t)
        s_c, e_c = np.clip(s, 0, n_t), np.clip(e - lo + 1, 0, n_t)
        full = ok & (
            (ccum[np.arange(len(measures)), e_c] - ccum[np.arange(len(measures)), s_c]) == length
        )
        return s_c, e_c, full

    e12 = np.full(len(measures), end)
    l12 = np.full(len(measures), 12)
    cs, ce, cfull = window(e12, l12)
    ps, pe, pfull = window(e12 - 12, l12)
    bs, be, bfull = window(b_end, b_len)
    r = np.arange(n_rows)
    take = lambda c, s, e: c[r, e[mrow]] - c[r, s[mrow]]  # noqa: E731
    cur = np.where(cfull[mrow], take(cum, cs, ce), np.nan)
    prev = np.where(pfull[mrow], take(cum, ps, pe), np.nan)
    base = np.where(bfull[mrow], take(cum, bs, be), np.nan)
    harm_ok = hm_seen
    h_cur = np.where(cfull[mrow] & harm_ok, take(hcum, cs, ce), np.nan)
    h_prev = np.where(pfull[mrow] & harm_ok, take(hcum, ps, pe), np.nan)
    h_base = np.where(bfull[mrow] & harm_ok, take(hcum, bs, be), np.nan)
    use_base = ~np.isnan(base)
    comp = np.where(use_base, base, prev)
    comp_len = np.where(use_base, b_len[mrow], 12)
    h_comp = np.where(use_base, h_base, h_prev)
    ok = ~np.isnan(cur) & ~np.isnan(comp)
    st = compare_counts_arrays(
        np.where(ok, np.round(cur), 0),
        np.where(ok, np.round(comp), 0),
        12.0,
        np.maximum(comp_len, 1),
        level,
    )
    okp = ~np.isnan(cur) & ~np.isnan(prev)
    sp = compare_counts_arrays(
        np.where(okp, np.round(cur), 0), np.where(okp, np.round(prev), 0), 12.0, 12.0, level
    )
    gc = dict(
        zip(
            ("a_low", "a_high"),
            garwood_interval(np.where(~np.isnan(cur), np.round(cur), 0), level),
            strict=True,
        )
    )
    gb = dict(
        zip(
            ("a_low", "a_high"),
            garwood_interval(np.where(~np.isnan(base), np.round(base), 0), level),
            strict=True,
        )
    )
    nan_if = lambda cond, a: np.where(cond, a, np.nan)  # noqa: E731
    with np.errstate(invalid="ignore", divide="ignore"):
        h_pct = np.where(h_comp > 0, (h_cur / h_comp * comp_len / 12 - 1) * 100, np.nan)
    values = meta.copy()
    meta_measure = meta["measure"].tolist()
    d_of = [defs[m] for m in meta_measure]
    values["label"] = _obj([d.label for d in d_of])
    values["group"] = _obj([d.group for d in d_of])
    values["ncpm"] = pd.array([d.ncpm for d in d_of], dtype="Int64")
    values["source"] = _obj([d.source for d in d_of])
    values["unit"] = _obj([d.unit for d in d_of])
    values["period_end"] = month_label(end)
    values["current"] = cur
    values["baseline"] = base
    values["baseline_period_end"] = _obj([d.baseline_end for d in d_of])
    values["baseline_available"] = use_base
    values["compared_with"] = _obj(
        np.where(use_base, "baseline", np.where(~np.isnan(prev), "previous 12 months", "none"))
    )
    values["comparison"] = comp
    values["change"] = nan_if(ok, st["change"])
    values["change_pct"] = nan_if(ok, st["change_pct"])
    values["rate_ratio"] = nan_if(ok, st["rate_ratio"])
    values["ci_low"] = nan_if(ok, st["ci_low"])
    values["ci_high"] = nan_if(ok, st["ci_high"])
    values["p_value"] = nan_if(ok, st["p_value"])
    disp = dispersion_columns(cnt, cov_rows, lo, end, ok, cur, comp, comp_len, st["p_value"], level)
    for k, col in disp.items():
        values[k] = _obj(col) if k == "test_used" else col
    values["current_ci_low"] = nan_if(~np.isnan(cur), gc["a_low"])
    values["current_ci_high"] = nan_if(~np.isnan(cur), gc["a_high"])
    values["baseline_ci_low"] = nan_if(use_base, gb["a_low"])
    values["baseline_ci_high"] = nan_if(use_base, gb["a_high"])
    values["comparison_ci_low"] = nan_if(ok, st["b_low"])
    values["comparison_ci_high"] = nan_if(ok, st["b_high"])
    values["direction_good"] = _obj([d.direction_good for d in d_of])
    values["previous"] = prev
    values["previous_change_pct"] = nan_if(okp, sp["change_pct"])
    values["previous_rate_ratio"] = nan_if(okp, sp["rate_ratio"])
    values["previous_ci_low"] = nan_if(okp, sp["ci_low"])
    values["previous_ci_high"] = nan_if(okp, sp["ci_high"])
    values["previous_p_value"] = nan_if(okp, sp["p_value"])
    # the same area's dispersion widens the comparison with the previous 12 months too
    prev_adj = dispersion_adjusted(
        np.where(okp, np.round(cur), 0),
        np.where(okp, np.round(prev), 0),
        phi=np.where(okp, disp["dispersion"], 1.0),
        level=level,
        p_value=np.where(okp, sp["p_value"], 1.0),
    )
    values["previous_p_value_adjusted"] = nan_if(okp, prev_adj["p_value_adjusted"])
    values["harm"] = h_cur
    values["harm_comparison"] = h_comp
    values["harm_change_pct"] = h_pct
    note_of = {m: note_for(defs[m], cov, lo, end, notes_src) for m in measures}
    values["note"] = _obj([note_of[m] for m in meta_measure])

    # --- SPC over the covered months of the last `spc_months` up to period end ----------------
    win = max(min(spc_months, n_t), 1)
    w0 = n_t - win
    declared = np.array([d.spc for d in d_of], dtype=object) if n_rows else np.zeros(0, object)
    months_win = [month_label(lo + w0 + k) for k in range(win)]
    # ward and LSOA charts: one family per measure and level, FDR-controlled (decision 0012)
    lv = meta["area_level"].to_numpy(dtype=object)
    fam_key = np.where(
        np.isin(lv, SPC_FAMILY_LEVELS), meta["measure"].to_numpy(object) + "|" + lv, ""
    )
    spc = spc_rows(
        cnt, cov_rows, declared, expo, expo_kind, w0, months_win, rules, fam_key.astype(object), fdr
    )
    centre, lcl, ucl, point = spc["centre"], spc["lcl"], spc["ucl"], spc["point"]
    values["spc_chart"] = _obj(spc["chart"])
    values["spc_signal"] = _obj(spc["signal"])
    values["spc_months"] = spc["n_cov"]
    values["spc_method"] = _obj(
        np.where(spc["n_cov"] >= 12, spc_method(spc["in_family"], spc["chart"], rules, fdr), "")
    )
    values["spc_p_value"] = spc["p_value"]
    values["spc_q_value"] = spc["q_value"]
    span = f"charts of {month_label(lo + w0, 'long')} to {month_label(end, 'long')}"
    texts: dict[tuple[str, float, str], str] = {}  # one sentence per family, not per row

    def family_text(lvl: str, n: float, label: str) -> str:
        if (lvl, n, label) not in texts:
            texts[(lvl, n, label)] = family_label(lvl, n, label, span)
        return texts[(lvl, n, label)]

    values["spc_fdr_family"] = _obj(
        [
            family_text(lvl, n, d.label) if f else ""
            for lvl, n, d, f in zip(lv, spc["family_size"], d_of, spc["in_family"], strict=True)
        ]
    )

    # --- seasonal trend (force and CSP by default) ---------------------------------------------
    values["trend_pct"] = np.nan
    values["trend_low"] = np.nan
    values["trend_high"] = np.nan
    values["trend_p_value"] = np.nan
    values["trend_model"] = ""
    tsel = np.flatnonzero(values["area_level"].isin(list(trend_levels)).to_numpy())
    if len(tsel):
        tw = min(n_t, 60)
        tb = cnt[tsel, n_t - tw :].copy()
        tb[~cov_rows[tsel, n_t - tw :]] = np.nan
        keep = (~np.isnan(tb)).sum(axis=1) >= 12
        if keep.any():
            tmonths = [month_label(lo + n_t - tw + k) for k in range(tw)]
            # drop leading/trailing months no row covers (seasonal dummies need real months)
            colok = (~np.isnan(tb[keep])).any(axis=0)
            tr = seasonal_trend_batch(
                tb[keep][:, colok], [m for m, c in zip(tmonths, colok, strict=True) if c]
            )
            rows_t = tsel[keep]
            for k_out, k_in in (
                ("trend_pct", "trend_pct"),
                ("trend_low", "trend_low"),
                ("trend_high", "trend_high"),
                ("trend_p_value", "p_value"),
            ):
                values.iloc[rows_t, values.columns.get_loc(k_out)] = tr[k_in]
            model = np.where(
                tr["family"] == "",
                "",
                np.where(tr["seasonal"], "seasonal ", "") + tr["family"].astype(str),
            )
            values.iloc[rows_t, values.columns.get_loc("trend_model")] = model
    # --- monthly part -------------------------------------------------------------------------
    monthly = monthly_frame(meta, cnt, cov_rows, lo, w0, centre, lcl, ucl, point)
    summary["unavailable"] = {
        d.name: values.loc[values["measure"] == d.name, "note"].iloc[0]
        for d in {defs[m].name: defs[m] for m in measures}.values()
        if np.isnan(cur[(meta["measure"] == d.name).to_numpy()]).all()
    }
    return values, monthly
