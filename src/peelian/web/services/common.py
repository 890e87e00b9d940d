"""Helpers shared by the services: frames to JSON records, pagination, parameter checks."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pandas as pd

from peelian.errors import ParameterError
from peelian.schemas.months import check_month

__all__ = [
    "MAX_LIMIT",
    "jsonable",
    "check_month",
    "page",
    "records",
    "scalar",
]

#: The largest page any list endpoint returns (``limit`` above it is refused with 422).
MAX_LIMIT = 1000


def records(frame: pd.DataFrame, columns: list[str] | None = None) -> list[dict[str, Any]]:
    """Rows as JSON-safe dicts (NaN -> None, numpy -> Python, timestamps -> ISO strings).

    Geometry columns are dropped (maps fetch GeoJSON from their own endpoints).
    """
    if columns is not None:
        frame = frame[[c for c in columns if c in frame.columns]]
    if "geometry" in frame.columns:
        frame = pd.DataFrame(frame.drop(columns="geometry"))
    if frame.empty:
        return []
    return json.loads(frame.to_json(orient="records", date_format="iso", force_ascii=False))


def scalar(value: Any) -> Any:
    """A numpy/pandas scalar as a JSON-safe Python value."""
    if value is None:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value


def page(
    frame: pd.DataFrame,
    limit: int,
    offset: int,
    columns: list[str] | None = None,
    **meta: Any,
) -> dict[str, Any]:
    """One page of a frame: ``{"items", "total", "limit", "offset", "next_offset", ...meta}``."""
    if not 1 <= limit <= MAX_LIMIT:
        raise ParameterError(
            f"The 'limit' parameter must be between 1 and {MAX_LIMIT}. Got {limit}.",
            "Page through longer lists with 'offset'.",
        )
    if offset < 0:
        raise ParameterError(f"The 'offset' parameter must be >= 0. Got {offset}.")
    total = len(frame)
    chunk = frame.iloc[offset : offset + limit]
    nxt = offset + limit if offset + limit < total else None
    return {
        "items": records(chunk, columns),
        "total": total,
        "limit": limit,
        "offset": offset,
        "next_offset": nxt,
        **meta,
    }


def _default(obj: Any) -> Any:
    import datetime as dt

    if isinstance(obj, pd.Timestamp | dt.datetime | dt.date):
        return obj.isoformat()
    if isinstance(obj, np.generic):
        return scalar(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    return str(obj)


def jsonable(value: Any) -> Any:
    """Any nesting of dicts, lists, numpy and pandas scalars and dates as plain JSON values."""
    return json.loads(json.dumps(value, default=_default), parse_constant=lambda _: None)
