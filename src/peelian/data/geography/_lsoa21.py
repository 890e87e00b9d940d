"""The one rule that places a record in its LSOA 2021 (decision 0015).

Records carry the LSOA code they were published with: police.uk used LSOA 2011 codes until
2023 and 2021 codes after, force records whatever their RMS holds. Every surface (measures,
dashboard, map, area profiles, frames) reports LSOAs in the 2021 geography, placed here:

1. a 2021-vintage code is its own LSOA 2021 (``rule = "published"``), and so is a code the
   lookup does not list as a 2011 LSOA but that is a loaded LSOA 2021 (ONS never reuses a
   code for another area);
2. a 2011 code that the ONS exact-fit lookup (``lsoa_lookup``) maps to one 2021 LSOA --
   unchanged (U) or merged (M) -- goes to it (``"lookup"``);
3. a 2011 code that became several 2021 LSOAs -- split (S) or irregular (X) -- goes to the
   successor whose boundary contains the record's own published location (``"point"``; for
   police.uk the anonymised snap point from which police.uk derived the LSOA in the first
   place). A point on no successor (generalised boundaries leave slivers) goes to the nearest
   successor when every successor's boundary is loaded. Counts stay whole numbers, so exact
   Poisson methods still apply;
4. anything else -- a split code without a location or without loaded 2021 boundaries, a code
   absent from the lookup -- is left unplaced (``lsoa21_code`` missing, ``"unplaced"``): it
   counts in the force total and in the ward/CSP only through the levels that can still place
   it, never in a guessed LSOA.

ONS: "LSOA (2011) to LSOA (2021) to Local Authority District (2022) Lookup for England and
Wales" (exact fit; change indicators U, S, M, X). Split 2021 LSOAs nest inside their 2011 LSOA,
so a point inside the 2011 area lies in exactly one successor.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sqlalchemy import select

from peelian.data.store import Store
from peelian.data.tables import areas, ingest_batches, lsoa_lookup

__all__ = ["PLACEMENT_RULES", "Lsoa21Rule", "geography_version", "lsoa21_rule"]

#: How a record's LSOA 2021 was found (the values of the ``lsoa21_rule`` column).
PLACEMENT_RULES: tuple[str, ...] = ("published", "lookup", "point", "unplaced")


def geography_version(store: Store) -> str:
    """The boundary/lookup state (newest ``areas`` batch and their number): placements made at
    one version stay valid until areas are loaded again."""
    from sqlalchemy import func

    q = select(func.max(ingest_batches.c.id), func.count()).where(
        ingest_batches.c.source == "areas"
    )
    with store.engine.connect() as conn:
        newest, n = conn.execute(q).one()
    return f"areas:{newest or 0}:{n}"


@dataclass(frozen=True)
class Lsoa21Rule:
    """The lookup in the form the rule needs: ``one`` (2011 code -> its only 2021 LSOA) and
    ``split`` (2011 code -> its several 2021 LSOAs), with the successors' boundaries."""

    one: dict[str, str] = field(default_factory=dict)
    split: dict[str, tuple[str, ...]] = field(default_factory=dict)
    shapes: dict[str, object] = field(default_factory=dict)  # lsoa21 code -> shapely geometry
    lsoa21: frozenset[str] = frozenset()  # the loaded LSOA 2021 codes

    def place(self, frame: pd.DataFrame) -> pd.DataFrame:
        """``lsoa21_code`` (string, missing when unplaced) and ``lsoa21_rule`` for each row of
        ``frame`` (columns lsoa_code, lsoa_vintage, and easting/northing when known)."""
        n = len(frame)
        code = frame["lsoa_code"].astype(object).to_numpy()
        if "lsoa_vintage" in frame.columns:
            vintage = pd.to_numeric(frame["lsoa_vintage"], errors="coerce").to_numpy(dtype=float)
        else:
            vintage = np.full(n, np.nan)
        out = np.full(n, None, dtype=object)
        rule = np.full(n, "unplaced", dtype=object)
        has = pd.notna(code)
        # a code the lookup does not know as a 2011 LSOA but that is a loaded 2021 LSOA is that
        # LSOA, whatever vintage it was published with (ONS never reuses a code for another
        # area: an unchanged LSOA keeps its code); this also reads force records without a
        # vintage
        known11 = pd.Series(code).isin(self.one.keys() | self.split.keys()).to_numpy()
        known21 = pd.Series(code).isin(self.lsoa21).to_numpy()
        is21 = has & ((vintage == 2021) | (~known11 & known21))
        out[is21] = code[is21]
        rule[is21] = "published"
        one = pd.Series(code).map(self.one).to_numpy(dtype=object)
        via = has & ~is21 & pd.notna(one)
        out[via] = one[via]
        rule[via] = "lookup"
        split = has & ~is21 & ~via & pd.Series(code).isin(self.split.keys()).to_numpy()
        if split.any() and {"easting", "northing"} <= set(frame.columns):
            idx = np.flatnonzero(split)
            e = pd.to_numeric(frame["easting"], errors="coerce").to_numpy(dtype=float)[idx]
            nn = pd.to_numeric(frame["northing"], errors="coerce").to_numpy(dtype=float)[idx]
            for k, i in enumerate(idx):
                got = self._by_point(str(code[i]), e[k], nn[k])
                if got is not None:
                    out[i] = got
                    rule[i] = "point"
        return pd.DataFrame(
            {
                "lsoa21_code": pd.array(out, dtype="string"),
                "lsoa21_rule": rule,
            },
            index=frame.index,
        )

    def _by_point(self, code: str, e: float, n: float) -> str | None:
        if not (np.isfinite(e) and np.isfinite(n)):
            return None
        from shapely.geometry import Point

        cands = [(c, self.shapes[c]) for c in self.split[code] if c in self.shapes]
        if not cands:
            return None
        pt = Point(e, n)
        for c, shape in cands:
            if shape.covers(pt):  # type: ignore[attr-defined]
                return c
        if len(cands) < len(self.split[code]):
            return None  # it may lie in a successor whose boundary is not loaded
        # a sliver between generalised boundaries: the nearest successor (ties by code)
        return min(cands, key=lambda cs: (cs[1].distance(pt), cs[0]))[0]  # type: ignore[attr-defined]


def lsoa21_rule(store: Store, *, with_shapes: bool = True) -> Lsoa21Rule:
    """The rule of this store's lookup and LSOA 2021 boundaries (empty when none is loaded);
    without ``with_shapes`` the boundaries are not read (enough to know which codes split)."""
    l21 = store.read_frame(select(areas.c.code).where(areas.c.level == "lsoa21"))
    lsoa21 = frozenset(l21["code"].astype(str))
    lk = store.read_frame(select(lsoa_lookup.c.lsoa11_code, lsoa_lookup.c.lsoa21_code))
    if lk.empty:
        return Lsoa21Rule(lsoa21=lsoa21)
    lk = lk.dropna().astype(str).drop_duplicates().sort_values(["lsoa11_code", "lsoa21_code"])
    groups = lk.groupby("lsoa11_code", sort=True)["lsoa21_code"].agg(tuple)
    one = {k: v[0] for k, v in groups.items() if len(v) == 1}
    split = {k: v for k, v in groups.items() if len(v) > 1}
    shapes: dict[str, object] = {}
    if split and with_shapes:
        from shapely import wkb

        successors = sorted({c for v in split.values() for c in v})
        geo = store.read_frame(
            select(areas.c.code, areas.c.geometry_wkb).where(
                areas.c.level == "lsoa21", areas.c.code.in_(successors)
            )
        )
        for c, h in zip(geo["code"], geo["geometry_wkb"], strict=True):
            if isinstance(h, str) and h:
                shapes[str(c)] = wkb.loads(bytes.fromhex(h))
    return Lsoa21Rule(one=one, split=split, shapes=shapes, lsoa21=lsoa21)
