"""Write result frames to files analysts open elsewhere: GeoJSON, GeoPackage and CSV.

    export_frame(result.cells, "hotspots.gpkg")     # chosen by the suffix

- GeoPackage (``.gpkg``, via pyogrio): geometry kept in EPSG:27700, one layer (``layer=``, default
  the file stem); opens in QGIS and ArcGIS.
- GeoJSON (``.geojson``/``.json``): reprojected to WGS84 longitude/latitude, as RFC 7946 requires.
- CSV (``.csv``): every column but the geometry (cell centres stay as ``x``/``y`` in BNG metres).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from peelian.errors import ParameterError, StoreError

__all__ = ["FORMATS", "export_frame", "format_for", "write_csv", "write_geojson", "write_gpkg"]

#: suffix -> format name
FORMATS: dict[str, str] = {
    ".gpkg": "gpkg",
    ".geojson": "geojson",
    ".json": "geojson",
    ".csv": "csv",
}


def format_for(path: str | Path) -> str:
    """The export format named by a path's suffix."""
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise ParameterError(
            f"Cannot tell the export format of {str(path)!r} from its suffix {suffix or '(none)'}.",
            "Name the file .gpkg (GeoPackage), .geojson or .csv.",
        )
    return FORMATS[suffix]


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """Columns as types every writer accepts (pandas string dtype -> object, bool kept)."""
    out = frame.copy()
    for col in out.columns:
        if col != "geometry" and pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].astype(object)
    return out


def _need_geo(frame: pd.DataFrame, fmt: str):  # type: ignore[no-untyped-def]
    import geopandas as gpd

    if not isinstance(frame, gpd.GeoDataFrame):
        raise ParameterError(
            f"{fmt} export needs a frame with geometry; this one has none.",
            "Export it as .csv instead.",
        )
    return frame


def _guard(path: Path) -> None:
    if not path.parent.exists():
        raise StoreError(
            f"Cannot write {path}: the folder {path.parent} does not exist.",
            "Create the folder first or choose another --out path.",
        )


def write_gpkg(frame: pd.DataFrame, path: str | Path, *, layer: str | None = None) -> Path:
    """Write a GeoDataFrame to a GeoPackage layer (replacing the file's layer of that name)."""
    path = Path(path)
    _guard(path)
    geo = _need_geo(frame, "GeoPackage")
    _plain(geo).to_file(path, layer=layer or path.stem, driver="GPKG", engine="pyogrio")
    return path


def write_geojson(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write a GeoDataFrame as GeoJSON in WGS84 (RFC 7946)."""
    path = Path(path)
    _guard(path)
    geo = _need_geo(frame, "GeoJSON")
    if path.exists():
        path.unlink()
    _plain(geo.to_crs(4326)).to_file(path, driver="GeoJSON", engine="pyogrio")
    return path


def write_csv(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write every column except the geometry as UTF-8 CSV."""
    path = Path(path)
    _guard(path)
    plain = pd.DataFrame(frame.drop(columns=["geometry"], errors="ignore"))
    plain.to_csv(path, index=False)
    return path


def export_frame(frame: pd.DataFrame, path: str | Path, *, layer: str | None = None) -> Path:
    """Write ``frame`` in the format named by ``path``'s suffix (see :data:`FORMATS`)."""
    fmt = format_for(path)
    if fmt == "gpkg":
        return write_gpkg(frame, path, layer=layer)
    if fmt == "geojson":
        return write_geojson(frame, path)
    return write_csv(frame, path)
