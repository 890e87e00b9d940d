"""The engine's count matrices: one row per measure x area of a level, one column per month,
built from the counts frame with integer codes (factorised once) and ``np.bincount``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from peelian.analysis.measures._parts import source_key
from peelian.analysis.measures._series import month_index
from peelian.schemas.measure_definitions import MeasureCatalogue

__all__ = ["CodedCounts", "code_counts", "level_blocks"]


@dataclass(frozen=True)
class CodedCounts:
    """The counts frame as integer codes: ``measure``, ``area`` (-1 = no code) and ``level``
    index into ``measures``, ``areas`` and ``levels``; ``t`` is months since year 0."""

    measure: np.ndarray
    measures: np.ndarray
    area: np.ndarray
    areas: np.ndarray
    level: np.ndarray
    levels: np.ndarray
    t: np.ndarray
    count: np.ndarray
    harm: np.ndarray

    def unit_codes(self) -> pd.Series:
        """The distinct LSOA unit codes (rows with area_level "unit")."""
        unit = self.level == _find(self.levels, "unit")
        used = np.unique(self.area[unit & (self.area >= 0)])
        return pd.Series(self.areas[used], dtype=object)


def _find(values: np.ndarray, item: str) -> int:
    hit = np.flatnonzero(values == item)
    return int(hit[0]) if len(hit) else -2


def _factor(col: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    codes, uniques = pd.factorize(col, use_na_sentinel=True)
    return codes.astype(np.int64), np.asarray(uniques, dtype=object)


def code_counts(counts: pd.DataFrame) -> CodedCounts:
    """Factorise the counts frame (columns of :data:`COUNT_COLUMNS`) once."""
    m, mu = _factor(counts["measure"])
    a, au = _factor(counts["area_code"])
    lv, lu = _factor(counts["area_level"])
    t, tu = _factor(counts["month"].astype(str))
    t_of = np.array([month_index(str(x)) for x in tu], dtype=np.int64)
    return CodedCounts(
        measure=m,
        measures=mu,
        area=a,
        areas=au,
        level=lv,
        levels=lu,
        t=t_of[t] if len(t) else np.zeros(0, dtype=np.int64),
        count=counts["count"].to_numpy(dtype=float),
        harm=counts["harm"].to_numpy(dtype=float),
    )


def level_blocks(
    cc: CodedCounts,
    catalogue: MeasureCatalogue,
    cov: Mapping[str, list[str]],
    levels: Sequence[str],
    level_areas: Mapping[str, list[str]],
    amap: pd.DataFrame,
    lo: int,
    n_t: int,
) -> list[tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]]:
    """(meta, counts, harm, harm_seen) per level: unit (LSOA) rows placed through ``amap``
    (unit_code -> lsoa, ward, csp, force; records without an LSOA count in the force total),
    rows given at the level itself (external series) kept as they are."""
    amap_idx = amap.set_index("unit_code")
    unit = cc.level == _find(cc.levels, "unit")
    ti = cc.t - lo
    in_t = (ti >= 0) & (ti < n_t)
    blocks = []
    for lv in levels:
        codes = level_areas[lv]
        ms = [
            d
            for d in catalogue
            if d.source != "survey"
            and (lv in d.area_levels or lv == "force")
            and (lv == "force" or cov.get(source_key(d)))
        ]
        if not ms or not codes:
            continue
        code_pos = pd.Index(np.array(codes, dtype=object), dtype=object)
        # where each distinct area code lies at this level (as a unit, or given at the level)
        via_unit = code_pos.get_indexer(
            amap_idx[lv].reindex(pd.Index(cc.areas, dtype=object)).to_numpy(dtype=object)
        )
        as_given = code_pos.get_indexer(pd.Index(cc.areas, dtype=object))
        no_code = 0 if lv == "force" else -1
        a_unit = np.where(cc.area >= 0, via_unit[cc.area] if len(via_unit) else -1, no_code)
        a_given = np.where(cc.area >= 0, as_given[cc.area] if len(as_given) else -1, -1)
        ai = np.where(unit, a_unit, np.where(cc.level == _find(cc.levels, lv), a_given, -1))
        mpos = pd.Index([d.name for d in ms], dtype=object).get_indexer(
            pd.Index(cc.measures, dtype=object)
        )
        mi = mpos[cc.measure] if len(mpos) else np.full(len(cc.measure), -1)
        ok = (ai >= 0) & (mi >= 0) & in_t
        n_rows = len(ms) * len(codes)
        rows = mi * len(codes) + ai
        flat = rows[ok] * n_t + ti[ok]
        cnt = np.bincount(flat, weights=cc.count[ok], minlength=n_rows * n_t).reshape(n_rows, n_t)
        hok = ok & ~np.isnan(cc.harm)
        hm = np.bincount(
            rows[hok] * n_t + ti[hok], weights=cc.harm[hok], minlength=n_rows * n_t
        ).reshape(n_rows, n_t)
        hm_seen = np.bincount(rows[hok], minlength=n_rows) > 0
        meta = pd.DataFrame(
            {
                "measure": pd.Series(
                    np.repeat(np.array([d.name for d in ms], dtype=object), len(codes)),
                    dtype=object,
                ),
                "area_level": pd.Series(np.full(n_rows, lv, dtype=object), dtype=object),
                "area_code": pd.Series(
                    np.tile(np.array(codes, dtype=object), len(ms)), dtype=object
                ),
            }
        )
        blocks.append((meta, cnt, hm, hm_seen))
    return blocks
