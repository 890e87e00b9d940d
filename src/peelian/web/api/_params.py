"""The parameter vocabulary of the JSON API: every parameter that takes a fixed set of values is
a ``Literal`` (an ``enum`` in the OpenAPI schema), every month a declared ``YYYY-MM`` pattern,
every integer bounded to 64 bits, every free string bounded in length.

FastAPI validates these before a route runs, so a bad value is a 422 in the one error shape
(never a 500), the schema says exactly what is accepted (so an API fuzzer's schema-valid requests
are valid), and the response cache keys on these validated values
(:func:`peelian.web.api._cache.cache_key`).
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Path, Query

from peelian.web.services.common import MAX_LIMIT

__all__ = [
    "MAX_ID",
    "MAX_MAP_CELLS",
    "MONTH_PATTERN",
    "AreaCode",
    "AreaLevel",
    "Assessment",
    "BatchId",
    "CrimeSet",
    "EmergingPattern",
    "EventsBy",
    "EventsLevel",
    "ExportFormat",
    "ForecastFlag",
    "GistarClass",
    "HotspotKind",
    "Limit",
    "MapLevel",
    "MapMetric",
    "MeasureLevel",
    "Month",
    "Offset",
    "ReportFormat",
]

#: The largest identifier or offset accepted: a signed 64-bit integer, what both stores hold.
MAX_ID = 2**63 - 1
#: The most cells a map's GeoJSON carries (exports have no limit).
MAX_MAP_CELLS = 20_000
#: ``YYYY-MM`` (months 01-12).
MONTH_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"

#: Results made of grid cells: the hotspot kinds and the forecast.
HotspotKind = Literal["gistar", "emerging", "kde", "forecast"]
GistarClass = Literal["hot", "cold", "none"]
#: A forecast cell is flagged for patrol or not.
ForecastFlag = Literal["true", "false"]
#: Esri's emerging hot spot classes (:data:`peelian.analysis.hotspots.PATTERNS`).
EmergingPattern = Literal[
    "New Hot Spot",
    "Consecutive Hot Spot",
    "Intensifying Hot Spot",
    "Persistent Hot Spot",
    "Diminishing Hot Spot",
    "Sporadic Hot Spot",
    "Oscillating Hot Spot",
    "Historical Hot Spot",
    "New Cold Spot",
    "Consecutive Cold Spot",
    "Intensifying Cold Spot",
    "Persistent Cold Spot",
    "Diminishing Cold Spot",
    "Sporadic Cold Spot",
    "Oscillating Cold Spot",
    "Historical Cold Spot",
    "No Pattern Detected",
]
AreaLevel = Literal["force", "csp", "ward", "lsoa21", "lsoa11"]
EventsBy = Literal["month", "category", "area"]
EventsLevel = Literal["lsoa21", "ward", "csp", "force"]
MapLevel = Literal["lsoa21", "ward", "csp"]
MapMetric = Literal["count", "rate", "harm"]
MeasureLevel = Literal["force", "csp", "ward", "lsoa"]
Assessment = Literal["improving", "worsening", "no significant change", "not assessed"]
ExportFormat = Literal["csv", "geojson"]
ReportFormat = Literal["pdf", "html"]

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size (max 1000).")]
Offset = Annotated[int, Query(ge=0, le=MAX_ID, description="Rows to skip.")]
Month = Annotated[
    str | None, Query(pattern=MONTH_PATTERN, description="A month, YYYY-MM.", examples=["2022-08"])
]
CrimeSet = Annotated[
    str | None,
    Query(
        pattern=r"^[a-z0-9][a-z0-9-]{0,79}$",
        description="Crime-set slug, e.g. violence-and-sexual-offences (default: that one if "
        "computed, else the first computed).",
    ),
]
AreaCode = Annotated[
    str,
    Path(
        pattern=r"^[A-Za-z0-9]{1,16}$", description="ONS area code, e.g. E05001101.", max_length=16
    ),
]
BatchId = Annotated[int, Path(ge=1, le=MAX_ID, description="Ingest batch id.")]
