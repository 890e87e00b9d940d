"""Find and read geography source files, recognising each by its columns (not its name).

Boundaries (GeoJSON, GeoPackage, Shapefile) are projected to British National Grid (EPSG:27700)
and invalid geometries are repaired with :func:`shapely.make_valid` (counted per file). Tables
(CSV) are read as text so that every bad value can be quarantined with its reason.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from peelian.errors import IngestError

__all__ = ["BNG", "GEO_SUFFIXES", "SourceFile", "discover", "read_source"]

BNG = "EPSG:27700"
GEO_SUFFIXES = (".geojson", ".json", ".gpkg", ".shp")
TABLE_SUFFIXES = (".csv",)
AGE_COLUMNS = [str(a) for a in range(90)] + ["90+"]


@dataclass
class SourceFile:
    """One input file: its recognised kind, its rows (``_row`` = 1-based data row) and what
    happened to them. ``rejected`` rows are quarantined with ``(row, reason, detail, raw)``."""

    path: Path
    kind: str
    frame: Any
    sha256: str
    size_bytes: int
    year: int | None = None
    columns: dict[str, str] = field(default_factory=dict)
    rejected: list[tuple[int | None, str, str, str | None]] = field(default_factory=list)
    repaired: int = 0
    note: str | None = None

    @property
    def rows_read(self) -> int:
        return 0 if self.frame is None else len(self.frame)

    def reject(self, rows: pd.DataFrame, reason: str, detail: str) -> None:
        """Quarantine ``rows`` (a slice of :attr:`frame`) with one reason."""
        cols = [c for c in rows.columns if c not in ("_row", "geometry")]
        for rec in rows.to_dict("records"):
            raw = ",".join("" if pd.isna(rec.get(c)) else str(rec.get(c)) for c in cols)
            self.rejected.append((int(rec["_row"]), reason, detail, raw[:2000]))


def _sha256(path: Path) -> tuple[str, int]:
    h = hashlib.sha256()
    size = 0
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
            size += len(chunk)
    return h.hexdigest(), size


def discover(paths: Iterable[Path]) -> list[Path]:
    """Expand folders (recursively) into the boundary and table files they hold, sorted."""
    found: list[Path] = []
    for p in paths:
        if p.is_dir():
            found += sorted(
                q
                for q in p.rglob("*")
                if q.is_file()
                and q.suffix.lower() in GEO_SUFFIXES + TABLE_SUFFIXES
                and q.name != "manifest.json"
            )
        elif p.exists():
            found.append(p)
        else:
            raise IngestError(
                f"{p} does not exist.", "Give a geography file or a folder of them (see docs)."
            )
    return found


def _first(columns: Iterable[str], pattern: str) -> str | None:
    rx = re.compile(pattern, re.IGNORECASE)
    return next((c for c in columns if rx.fullmatch(c)), None)


def _year_from_name(path: Path) -> int | None:
    name = path.stem.lower()
    m = re.search(r"(?:^|[^0-9])((?:19|20)\d{2})(?:[^0-9]|$)", name)
    if m:
        return int(m.group(1))
    m = re.search(r"(?:population|mye|pop)_?(\d{2})(?:[^0-9]|$)", name)
    return 2000 + int(m.group(1)) if m else None


# -- recognising ------------------------------------------------------------------------------
def _recognise_geo(cols: list[str]) -> tuple[str, dict[str, str]] | None:
    lsoa11 = _first(cols, r"lsoa11_?c(?:o)?d(?:e)?")
    lsoa21 = _first(cols, r"lsoa21_?c(?:o)?d(?:e)?")
    ward = _first(cols, r"ward\d\d_?c(?:o)?d(?:e)?|wd\d\dcd")
    ltla = _first(cols, r"(?:ltla|lad)\d\d_?c(?:o)?d(?:e)?")
    pfa = _first(cols, r"pfa\d\d_?c(?:o)?d(?:e)?")

    def name_of(code: str | None) -> str | None:
        if code is None:
            return None
        stem = re.sub(r"_?c(?:o)?d(?:e)?$", "", code, flags=re.IGNORECASE)
        return _first(cols, rf"{re.escape(stem)}_?n(?:a)?m(?:e)?")

    if lsoa11:
        return "boundary_lsoa11", {
            "code": lsoa11,
            "name": name_of(lsoa11) or "",
            "ltla": ltla or "",
        }
    if lsoa21:
        ward_name = name_of(ward) if ward else None
        return "boundary_lsoa21", {
            "code": lsoa21,
            "name": name_of(lsoa21) or "",
            "ward": ward or "",
            "ward_name": ward_name or "",
            "ltla": ltla or "",
            "ltla_name": name_of(ltla) or "",
        }
    if ward:
        return "boundary_ward", {"code": ward, "name": name_of(ward) or "", "ltla": ltla or ""}
    if ltla:
        return "boundary_csp", {"code": ltla, "name": name_of(ltla) or ""}
    if pfa:
        return "boundary_force", {"code": pfa, "name": name_of(pfa) or ""}
    return None


def _recognise_table(cols: list[str]) -> str | None:
    s = {c.lower() for c in cols}
    if {"lsoa11_code", "lsoa21_code", "change_code"} <= s:
        return "lookup_lsoa11_lsoa21"
    if "lsoa21_code" in s and _first(cols, r"ward\d\d_code") and _first(cols, r"ltla\d\d_code"):
        return "lookup_lsoa21_ward_ltla"
    if (
        _first(cols, r"ltla\d\d_code")
        and _first(cols, r"csp\d\d_code")
        and _first(cols, r"pfa\d\d_code")
    ):
        return "lookup_ltla_csp_pfa"
    if "lsoa11_code" in s and _first(cols, r"ruc\d\d_code"):
        return "ruc_lsoa11"
    if "lsoa21_code" in s and _first(cols, r"ruc\d\d_code"):
        return "ruc_lsoa21"
    if "lsoa11_code" in s and "total_population" in s and set(AGE_COLUMNS) <= set(cols):
        return "population_lsoa11"
    if {"lsoa21_code", "ethnic_group", "n", "total_residents"} <= s:
        return "ethnicity_lsoa21"
    if "imd_decile" in s and ("lsoa11_code" in s or "lsoa21_code" in s):
        return "imd_lsoa11" if "lsoa11_code" in s else "imd_lsoa21"
    if "lsoa11_code" in s and _first(cols, r"ltla\d\d_code"):
        return "lookup_lsoa11_ltla"
    return None


# -- reading ----------------------------------------------------------------------------------
def _read_geo(path: Path) -> Any:
    import geopandas as gpd
    import shapely

    try:
        gdf = gpd.read_file(path, engine="pyogrio")
    except Exception as exc:
        raise IngestError(
            f"{path} cannot be read as a boundary file: {exc}.",
            "Give GeoJSON, GeoPackage or Shapefile boundaries as published by the ONS.",
        ) from exc
    if gdf.crs is None:
        raise IngestError(
            f"{path} has no coordinate reference system.",
            "Save it with its CRS (ONS boundaries are EPSG:4326 or EPSG:27700).",
        )
    gdf = gdf.to_crs(BNG)
    gdf.insert(0, "_row", range(1, len(gdf) + 1))
    geoms = gdf.geometry.values
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    invalid = present & ~shapely.is_valid(geoms)
    if invalid.any():
        fixed = shapely.make_valid(geoms[invalid])
        # make_valid may return a GeometryCollection of polygons and slivers: keep the polygons.
        fixed = [_polygonal(g) for g in fixed]
        col = gdf.geometry.copy()
        col[invalid] = fixed
        gdf = gdf.set_geometry(col)
    gdf.attrs["repaired"] = int(invalid.sum())
    return gdf


def _polygonal(geom: Any) -> Any:
    import shapely
    from shapely.geometry import MultiPolygon, Polygon

    if isinstance(geom, Polygon | MultiPolygon):
        return geom
    parts = [g for g in shapely.get_parts(geom) if isinstance(g, Polygon | MultiPolygon)]
    polys: list[Polygon] = []
    for g in parts:
        polys += list(g.geoms) if isinstance(g, MultiPolygon) else [g]
    return MultiPolygon(polys) if polys else geom


def _read_table(path: Path) -> pd.DataFrame:
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise IngestError(
            f"{path} is not UTF-8 text (byte {exc.start}).", "Save the file as UTF-8 CSV."
        ) from exc
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise IngestError(f"{path} is not a readable CSV: {exc}.", "Check the file.") from exc
    frame.insert(0, "_row", range(1, len(frame) + 1))
    return frame


def read_source(path: Path) -> SourceFile:
    """Read one file and recognise its kind; ``kind == "unrecognised"`` if it is not geography."""
    digest, size = _sha256(path)
    if path.suffix.lower() in GEO_SUFFIXES:
        if path.suffix.lower() == ".json" and size and path.read_bytes()[:200].find(b"Feature") < 0:
            return SourceFile(path, "unrecognised", None, digest, size, note="not GeoJSON")
        gdf = _read_geo(path)
        found = _recognise_geo([c for c in gdf.columns if c not in ("_row", "geometry")])
        if found is None:
            return SourceFile(path, "unrecognised", None, digest, size, note="no area code column")
        kind, cols = found
        src = SourceFile(path, kind, gdf, digest, size, columns=cols)
        src.repaired = int(gdf.attrs.get("repaired", 0))
        return src
    frame = _read_table(path)
    table_kind = _recognise_table([c for c in frame.columns if c != "_row"])
    if table_kind is None:
        return SourceFile(path, "unrecognised", None, digest, size, note="columns not recognised")
    frame.columns = ["_row", *[c.lower() if c not in AGE_COLUMNS else c for c in frame.columns[1:]]]
    src = SourceFile(path, table_kind, frame, digest, size)
    if table_kind == "population_lsoa11":
        src.year = _year_from_name(path)
    elif table_kind.startswith("imd_"):
        src.year = _year_from_name(path) or (2019 if table_kind == "imd_lsoa11" else 2025)
    return src
