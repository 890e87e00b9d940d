"""Input checks shared by the grid and hotspot functions: projected coordinates, columns and
parameters validated declaratively (STYLE practice 4: constraints as data, one validator, one
message shape)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from peelian.errors import SchemaError
from peelian.schemas.params import Constraint, boolean, integer, number, one_of, probability
from peelian.schemas.params import check_params as _check

__all__ = [
    "ANONYMISATION_SCALE_M",
    "check_boundary",
    "check_params",
    "event_coordinates",
]

log = logging.getLogger("peelian.analysis.grid")

#: police.uk snaps every location to a map point; below about 200 m a cell says more about the
#: snapping than about crime (DOMAIN section 9).
ANONYMISATION_SCALE_M = 200.0

_LONLAT_HINT = (
    "Pass British National Grid metres in 'easting'/'northing' (EPSG:27700): convert with "
    "pyproj (Transformer.from_crs(4326, 27700, always_xy=True)) or GeoDataFrame.to_crs(27700)."
)


def _looks_like_lonlat(x: np.ndarray, y: np.ndarray) -> bool:
    ok = np.isfinite(x) & np.isfinite(y)
    if not ok.any():
        return False
    return bool(np.all(np.abs(x[ok]) <= 180.0) and np.all(np.abs(y[ok]) <= 90.0))


def event_coordinates(events: pd.DataFrame, func: str) -> tuple[np.ndarray, np.ndarray]:
    """Easting and northing of ``events`` as float arrays (NaN where unlocated).

    Refuses longitude/latitude: a GeoDataFrame in a geographic CRS, a frame with only
    ``longitude``/``latitude``, or easting/northing values that all lie within +-180/+-90.
    """
    if not isinstance(events, pd.DataFrame):
        raise SchemaError(
            f"{func} needs a DataFrame of events; got {type(events).__name__}.",
            "Load events with peelian.data.frames.load_events(store) or pass a pandas DataFrame.",
        )
    crs = getattr(events, "crs", None) if hasattr(events, "geometry") else None
    if crs is not None and getattr(crs, "is_geographic", False):
        raise SchemaError(
            f"{func} needs projected coordinates in metres; these events are in {crs.name} "
            "(longitude/latitude).",
            _LONLAT_HINT,
        )
    if "easting" not in events.columns or "northing" not in events.columns:
        if {"longitude", "latitude"} <= set(events.columns):
            raise SchemaError(
                f"{func} needs projected coordinates in metres; these events only have "
                "longitude/latitude.",
                _LONLAT_HINT,
            )
        raise SchemaError(
            f"{func} needs 'easting' and 'northing' columns (British National Grid metres); "
            f"the events have {sorted(map(str, events.columns))[:12]}.",
            _LONLAT_HINT,
        )
    x = np.array(pd.to_numeric(events["easting"], errors="coerce"), dtype=float, copy=True)
    y = np.array(pd.to_numeric(events["northing"], errors="coerce"), dtype=float, copy=True)
    if _looks_like_lonlat(x, y):
        raise SchemaError(
            f"{func} needs projected coordinates in metres; the 'easting'/'northing' values all "
            "lie within +-180/+-90, so they look like longitude/latitude.",
            _LONLAT_HINT,
        )
    bad = ~(np.isfinite(x) & np.isfinite(y))
    x[bad] = np.nan
    y[bad] = np.nan
    return x, y


def check_boundary(boundary: Any, func: str) -> Any:
    """The boundary as a valid, non-empty polygonal shapely geometry in metres."""
    import shapely
    from shapely.geometry.base import BaseGeometry

    if not isinstance(boundary, BaseGeometry):
        raise SchemaError(
            f"{func} needs the study area as a shapely geometry; got {type(boundary).__name__}.",
            "Use peelian.data.geography.force_boundary(store) or GeoDataFrame.union_all().",
        )
    if boundary.is_empty or boundary.geom_type not in {"Polygon", "MultiPolygon"}:
        raise SchemaError(
            f"{func} needs a non-empty (multi)polygon study area; got {boundary.geom_type}"
            f"{' (empty)' if boundary.is_empty else ''}.",
            "Pass the force or district boundary polygon.",
        )
    minx, miny, maxx, maxy = boundary.bounds
    if max(abs(minx), abs(maxx)) <= 180 and max(abs(miny), abs(maxy)) <= 90:
        raise SchemaError(
            f"{func} needs the boundary in metres (EPSG:27700); its bounds "
            f"{tuple(round(v, 4) for v in boundary.bounds)} look like longitude/latitude.",
            "Convert it with GeoSeries.to_crs(27700).",
        )
    if not boundary.is_valid:
        boundary = shapely.make_valid(boundary)
    return boundary


# -- declarative parameter constraints -------------------------------------------------------------

#: parameter name -> constraint; ``None`` always means "choose automatically" and is not checked.
#: Checked by the vocabulary's one validator, :func:`peelian.schemas.params.check_params`.
CONSTRAINTS: dict[str, Constraint] = {
    "cell_size": number(gt=0),
    "distance": number(gt=0),
    "bandwidth": number(gt=0),
    "alpha": probability(),
    "ring": integer(ge=1),
    "permutations": integer(ge=0),
    "time_window": integer(ge=0),
    "oversample": integer(ge=1, odd=True),
    "fdr": boolean(),
    "resolution": integer(ge=0, le=15),
    "kind": one_of("square", "hex", "h3"),
    "grid": one_of("square", "hex", "h3"),
    "kernel": one_of("quartic", "gaussian"),
    "value": one_of("count", "harm"),
    "top": probability(),
}


def check_params(func: str, params: Mapping[str, Any]) -> None:
    """Validate ``params`` against :data:`CONSTRAINTS`; raise one uniform message.

    "The 'cell_size' parameter of gistar must be a number > 0. Got -5."
    """
    _check(func, params, CONSTRAINTS)
