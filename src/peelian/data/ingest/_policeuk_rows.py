"""police.uk files: recognise the kind by header, validate rows (vectorised), project to BNG.

Each ``prepare_*`` function takes a parsed file (string columns) and returns the rows to store
(a pyarrow table with the store's column names) and the rows to quarantine, with reasons.
Reasons (one per row, the first that applies, in this order):

- ``bad_month``: Month is not ``YYYY-MM``.
- ``future_month``: Month is after the month of the ingest (police.uk publishes past months).
- ``month_mismatch``: Month differs from the file's month (a street/outcomes file holds one month).
- ``missing_category`` / ``missing_crime_id`` / ``missing_outcome_type``: a required field is blank.
- ``unknown_category``: a Crime type that is not one of the 14 police.uk categories of the
  offence vocabulary (:func:`peelian.offences.categories`; case and spacing are forgiven).
- ``bad_date``: a stop-and-search Date that is not an ISO date or timestamp.
- ``nan_coordinates``: a longitude/latitude written as the text ``nan`` (or another missing-value
  token such as ``NA``, ``NULL``): a re-saved file, not police.uk's blank for "no location".
- ``non_numeric_coordinates``: a longitude/latitude that is not a number, or only one of the two.
- ``coordinates_outside_uk``: a point outside the UK (longitude -8.75..1.95, latitude 49.8..60.95).
- ``bad_boolean``: a stop-and-search True/False field with another value.
- ``duplicate_crime_id``: a street row whose Crime ID an earlier row of the file (the same month)
  already has, e.g. one crime listed with two categories. The first row is kept; the repeat is
  quarantined with the row it repeats (ASB rows have no Crime ID and are never duplicates).

Rows with both coordinates blank are stored with ``location_precision='none'`` (unlocated).
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import re
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from peelian.data.ingest._csv import NULL_TOKENS, ParsedCSV
from peelian.data.ingest.batch import QuarantinedRow

__all__ = [
    "COLUMNS",
    "COORDINATE_COLUMNS",
    "HEADERS",
    "KINDS",
    "Prepared",
    "current_month",
    "detect_kind",
    "force_from_name",
    "force_slug",
    "month_from_name",
    "prepare",
    "raw_rows",
    "to_bng",
]

KINDS = ("street", "outcomes", "stop-and-search")

HEADERS: dict[str, list[str]] = {
    "street": [
        "Crime ID",
        "Month",
        "Reported by",
        "Falls within",
        "Longitude",
        "Latitude",
        "Location",
        "LSOA code",
        "LSOA name",
        "Crime type",
        "Last outcome category",
        "Context",
    ],
    "outcomes": [
        "Crime ID",
        "Month",
        "Reported by",
        "Falls within",
        "Longitude",
        "Latitude",
        "Location",
        "LSOA code",
        "LSOA name",
        "Outcome type",
    ],
    "stop-and-search": [
        "Type",
        "Date",
        "Part of a policing operation",
        "Policing operation",
        "Latitude",
        "Longitude",
        "Gender",
        "Age range",
        "Self-defined ethnicity",
        "Officer-defined ethnicity",
        "Legislation",
        "Object of search",
        "Outcome",
        "Outcome linked to object of search",
        "Removal of more than just outer clothing",
    ],
}

#: Column names used in the store, in header order.
COLUMNS: dict[str, list[str]] = {
    "street": [
        "crime_id", "month", "reported_by", "falls_within", "longitude", "latitude", "location",
        "lsoa_code", "lsoa_name", "category", "last_outcome", "context",
    ],
    "outcomes": [
        "crime_id", "month", "reported_by", "falls_within", "longitude", "latitude", "location",
        "lsoa_code", "lsoa_name", "outcome_type",
    ],
    "stop-and-search": [
        "type", "date", "part_of_operation", "operation", "latitude", "longitude", "gender",
        "age_range", "self_defined_ethnicity", "officer_defined_ethnicity", "legislation",
        "object_of_search", "outcome", "outcome_linked", "removal_more_than_outer",
    ],
}  # fmt: skip

UK_LON = (-8.75, 1.95)
UK_LAT = (49.8, 60.95)
_NUMBER = r"^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$"
_MONTH = r"^\d{4}-(0[1-9]|1[0-2])$"
_NAME = re.compile(
    r"(?P<month>\d{4}-\d{2})-(?P<force>[a-z0-9-]+?)-(?P<kind>street|outcomes|stop-and-search)"
    r"\.csv$",
    re.IGNORECASE,
)
_SUFFIXES = (" police service", " constabulary", " police")


def detect_kind(header: list[str]) -> str | None:
    """The police.uk kind whose header this is (case and spacing ignored), or ``None``."""
    norm = [h.strip().lower() for h in header]
    for kind, expected in HEADERS.items():
        if norm == [h.lower() for h in expected]:
            return kind
    return None


def month_from_name(name: str) -> str | None:
    m = _NAME.search(name.rsplit("/", 1)[-1])
    return m.group("month") if m else None


def force_from_name(name: str) -> str | None:
    m = _NAME.search(name.rsplit("/", 1)[-1])
    return m.group("force").lower() if m else None


def force_slug(reported_by: str) -> str:
    """police.uk-style force slug from a force name: 'Northumbria Police' -> 'northumbria'."""
    name = reported_by.strip().lower()
    if name.startswith("police service of "):
        name = name[len("police service of ") :]
    for suffix in _SUFFIXES:
        if name.endswith(suffix):
            name = name[: -len(suffix)]
            break
    return re.sub(r"[^a-z0-9]+", "-", name).strip("-")


@functools.lru_cache(maxsize=1)
def _transformer() -> Any:
    from pyproj import Transformer

    return Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)


def to_bng(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Project WGS84 longitude/latitude arrays to British National Grid (EPSG:27700) metres.

    NaN in, NaN out. Uses pyproj's vectorised transform (the PROJ pipeline EPSG:4326 ->
    EPSG:27700; with the OSTN15 grid when installed, else the Helmert approximation, ~2-5 m).
    """
    x, y = _transformer().transform(lon, lat)
    x, y = np.array(x, dtype=float), np.array(y, dtype=float)
    bad = ~(np.isfinite(x) & np.isfinite(y))  # PROJ returns inf for NaN input
    x[bad], y[bad] = np.nan, np.nan
    return x, y


@functools.lru_cache(maxsize=1)
def _vintage_codes() -> tuple[frozenset[str], frozenset[str]]:
    text = (resources.files("peelian.data.ingest") / "lsoa_vintage_codes.csv").read_text()
    only11: set[str] = set()
    only21: set[str] = set()
    for line in text.splitlines():
        if line.startswith("#") or line.startswith("code,"):
            continue
        code, vintage = line.split(",")
        (only11 if vintage == "2011" else only21).add(code)
    return frozenset(only11), frozenset(only21)


def lsoa_vintage(codes: pa.Array, month: str | None) -> tuple[int | None, str]:
    """The LSOA vintage (2011 or 2021) of a file and how it was decided.

    Codes that exist in only one vintage decide it (ONS lookup); with none of them, the month
    does: police.uk files up to 2023 use 2011 codes, 2024 files use 2021 codes.
    """
    unique = set(pc.unique(pc.drop_null(codes)).to_pylist())
    if not unique:
        return None, "no LSOA codes"
    only11, only21 = _vintage_codes()
    n11, n21 = len(unique & only11), len(unique & only21)
    if n21 > n11:
        return 2021, f"{n21} codes exist only in LSOA 2021"
    if n11 > n21:
        return 2011, f"{n11} codes exist only in LSOA 2011"
    if month is not None and month >= "2024-01":
        return 2021, "month 2024 or later (no vintage-specific codes)"
    return 2011, "month before 2024 (no vintage-specific codes)"


@dataclass
class Prepared:
    """Rows to store (store column names) and rows to quarantine, for one file."""

    kind: str
    month: str | None
    rows: pa.Table
    quarantined: list[QuarantinedRow] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)


def raw_rows(table: pa.Table, idx: np.ndarray) -> list[str]:
    """The given rows re-serialised as CSV lines (for quarantine)."""
    sub = table.take(pa.array(idx, type=pa.int64())).to_pylist()
    out = []
    for rec in sub:
        buf = io.StringIO()
        csv.writer(buf, lineterminator="").writerow(["" if v is None else v for v in rec.values()])
        out.append(buf.getvalue())
    return out


def _mask(arr: pa.ChunkedArray | pa.Array) -> np.ndarray:
    return np.asarray(pc.fill_null(arr, False).to_numpy(zero_copy_only=False), dtype=bool)


def _coords(
    table: pa.Table, lon_col: str, lat_col: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(lon, lat, unlocated, non_numeric, outside_uk) arrays."""
    lon_s, lat_s = table[lon_col], table[lat_col]
    lon_null, lat_null = _mask(pc.is_null(lon_s)), _mask(pc.is_null(lat_s))
    ok_lon = _mask(pc.match_substring_regex(lon_s, _NUMBER))
    ok_lat = _mask(pc.match_substring_regex(lat_s, _NUMBER))
    lon = pc.cast(pc.if_else(pa.array(ok_lon), lon_s, None), pa.float64())
    lat = pc.cast(pc.if_else(pa.array(ok_lat), lat_s, None), pa.float64())
    lon_np = lon.to_numpy(zero_copy_only=False).astype(float)
    lat_np = lat.to_numpy(zero_copy_only=False).astype(float)
    unlocated = lon_null & lat_null
    non_numeric = ~unlocated & ~(ok_lon & ok_lat)
    with np.errstate(invalid="ignore"):
        inside = (
            (lon_np >= UK_LON[0])
            & (lon_np <= UK_LON[1])
            & (lat_np >= UK_LAT[0])
            & (lat_np <= UK_LAT[1])
        )
    outside = ~unlocated & ~non_numeric & ~inside
    return lon_np, lat_np, unlocated, non_numeric, outside


def _file_month(months: pa.ChunkedArray, valid: np.ndarray, name_month: str | None) -> str | None:
    """The file's month: the most common valid Month in it (the file name's month if none)."""
    if not valid.any():
        return name_month if name_month is not None and re.match(_MONTH, name_month) else None
    counts = pc.value_counts(pc.filter(months, pa.array(valid))).to_pylist()
    return str(max(counts, key=lambda c: (c["counts"], c["values"]))["values"])


def _assign(reasons: np.ndarray, mask: np.ndarray, reason: str) -> None:
    reasons[(reasons == "") & mask] = reason


def _quarantine(
    parsed: ParsedCSV,
    reasons: np.ndarray,
    details: dict[str, str],
    row_details: dict[int, str] | None = None,
) -> tuple[np.ndarray, list[QuarantinedRow]]:
    bad = np.flatnonzero(reasons != "")
    rows: list[QuarantinedRow] = []
    row_details = row_details or {}
    if len(bad):
        raws = raw_rows(parsed.table, bad)
        rows = [
            QuarantinedRow(
                int(parsed.row_numbers[i]),
                str(reasons[i]),
                row_details.get(int(i), details.get(str(reasons[i]))),
                raw,
            )
            for i, raw in zip(bad, raws, strict=True)
        ]
    return reasons == "", rows


_DETAILS = {
    "bad_month": "Month must be YYYY-MM (e.g. 2021-08)",
    "month_mismatch": "Month differs from the file's month; a police.uk file holds one month",
    "missing_category": "Crime type is blank",
    "missing_crime_id": "Crime ID is blank; an outcome must name its crime",
    "missing_outcome_type": "Outcome type is blank",
    "bad_date": "Date must be an ISO date or timestamp (e.g. 2021-08-01T13:05:00+01:00)",
    "non_numeric_coordinates": "Longitude/Latitude must both be numbers, or both blank",
    "coordinates_outside_uk": "the point is outside the UK (longitude -8.75..1.95, "
    "latitude 49.8..60.95)",
    "bad_boolean": "a True/False field holds another value",
    "nan_coordinates": "Longitude/Latitude hold the text 'nan' (or NA/NULL), not a number or a "
    "blank: the file was re-saved by a program; use the file as downloaded from police.uk",
    "unknown_category": "Crime type is not one of the 14 police.uk categories (see `peelian "
    "offences list`); categories used before 2013 are not supported",
}

#: The coordinate columns whose missing-value texts are kept (for ``nan_coordinates``).
COORDINATE_COLUMNS = frozenset({"longitude", "latitude"})


def current_month() -> str:
    """The month of the ingest (UTC), ``YYYY-MM``: later months are ``future_month``."""
    return dt.datetime.now(dt.UTC).strftime("%Y-%m")


@functools.lru_cache(maxsize=1)
def _category_names() -> dict[str, str]:
    from peelian.offences import categories

    names = categories()["name"].tolist()
    return {" ".join(n.lower().split()): n for n in names}


def _categories(values: pa.ChunkedArray) -> tuple[pa.Array, np.ndarray]:
    """(canonical category names, rows whose non-blank Crime type is unknown)."""
    known = _category_names()
    arr = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    if len(arr) == 0:
        return pa.array([], type=pa.string()), np.zeros(0, dtype=bool)
    enc = pc.dictionary_encode(arr)
    mapped = pa.array(
        [known.get(" ".join(str(v).lower().split())) for v in enc.dictionary.to_pylist()],
        type=pa.string(),
    ).take(enc.indices)
    unknown = _mask(pc.is_null(mapped)) & ~_mask(pc.is_null(arr))
    return mapped, unknown


def _nan_coordinates(table: pa.Table, lon_col: str, lat_col: str) -> np.ndarray:
    tokens = pa.array(NULL_TOKENS, type=pa.string())
    return _mask(pc.is_in(table[lon_col], value_set=tokens)) | _mask(
        pc.is_in(table[lat_col], value_set=tokens)
    )


def _duplicate_ids(
    ids: pa.ChunkedArray, candidates: np.ndarray, row_numbers: np.ndarray
) -> tuple[np.ndarray, dict[int, str]]:
    """Rows (among ``candidates``) whose non-blank id an earlier candidate row has, and for each
    such row the detail naming the row it repeats."""
    values = pd.Series(ids.to_numpy(zero_copy_only=False), dtype=object)
    usable = candidates & values.notna().to_numpy(bool)
    dup = np.zeros(len(values), dtype=bool)
    details: dict[int, str] = {}
    if not usable.any():
        return dup, details
    sub = values[usable]
    repeated = sub.duplicated(keep="first").to_numpy(bool)
    if not repeated.any():
        return dup, details
    idx = np.flatnonzero(usable)
    first_row: dict[str, int] = {}
    for pos, value in zip(idx, sub.tolist(), strict=True):
        first_row.setdefault(value, int(row_numbers[pos]))
    for pos in idx[repeated]:
        dup[pos] = True
        details[int(pos)] = (
            f"Crime ID repeats row {first_row[values.iat[pos]]} of this file (the same month); "
            "the first row is kept"
        )
    return dup, details


def _crime_like(parsed: ParsedCSV, kind: str, name_month: str | None, today: str) -> Prepared:
    t = parsed.table
    n = t.num_rows
    reasons = np.full(n, "", dtype=object)
    month_ok = _mask(pc.match_substring_regex(t["month"], _MONTH))
    future = month_ok & _mask(pc.greater(t["month"], today))
    month = _file_month(t["month"], month_ok & ~future, name_month)
    _assign(reasons, ~month_ok, "bad_month")
    _assign(reasons, future, "future_month")
    if month is not None:
        _assign(reasons, ~_mask(pc.equal(t["month"], month)), "month_mismatch")
    category = None
    if kind == "street":
        _assign(reasons, _mask(pc.is_null(t["category"])), "missing_category")
        category, unknown = _categories(t["category"])
        _assign(reasons, unknown, "unknown_category")
    else:
        _assign(reasons, _mask(pc.is_null(t["crime_id"])), "missing_crime_id")
        _assign(reasons, _mask(pc.is_null(t["outcome_type"])), "missing_outcome_type")
    _assign(reasons, _nan_coordinates(t, "longitude", "latitude"), "nan_coordinates")
    lon, lat, unlocated, non_numeric, outside = _coords(t, "longitude", "latitude")
    _assign(reasons, non_numeric, "non_numeric_coordinates")
    _assign(reasons, outside, "coordinates_outside_uk")
    row_details: dict[int, str] = {}
    if kind == "street":
        dup, row_details = _duplicate_ids(t["crime_id"], reasons == "", parsed.row_numbers)
        _assign(reasons, dup, "duplicate_crime_id")
    keep, quarantined = _quarantine(parsed, reasons, _DETAILS, row_details)
    keep_idx = pa.array(np.flatnonzero(keep), type=pa.int64())
    good = t.take(keep_idx)
    lon_k, lat_k = lon[keep], lat[keep]
    east, north = to_bng(lon_k, lat_k)
    vintage, basis = lsoa_vintage(good["lsoa_code"], month)
    cols: dict[str, Any] = {
        "crime_id": good["crime_id"],
        "reported_by": good["reported_by"],
        "falls_within": good["falls_within"],
        "longitude": pa.array(lon_k, from_pandas=True),
        "latitude": pa.array(lat_k, from_pandas=True),
        "easting": pa.array(np.round(east, 1), from_pandas=True),
        "northing": pa.array(np.round(north, 1), from_pandas=True),
        "location": good["location"],
        "lsoa_code": good["lsoa_code"],
        "lsoa_name": good["lsoa_name"],
    }
    if kind == "street":
        assert category is not None
        cols["category"] = category.take(keep_idx)
        cols["last_outcome"] = good["last_outcome"]
        cols["context"] = good["context"]
        cols["location_precision"] = pa.array(
            np.where(unlocated[keep], "none", "snapped").astype(object), type=pa.string()
        )
    else:
        cols["outcome_type"] = good["outcome_type"]
    cols["row_number"] = pa.array(parsed.row_numbers[keep], type=pa.int64())
    info = {
        "lsoa_vintage": vintage,
        "lsoa_vintage_basis": basis,
        "unlocated": int((unlocated & keep).sum()),
    }
    return Prepared(kind, month, pa.table(cols), quarantined, info)


_TRUE = {"true", "yes", "y", "1"}
_FALSE = {"false", "no", "n", "0"}


def _booleans(arr: pa.ChunkedArray) -> tuple[pa.Array, np.ndarray]:
    lower = pc.utf8_lower(pc.utf8_trim_whitespace(arr))
    is_true = _mask(pc.is_in(lower, pa.array(sorted(_TRUE))))
    is_false = _mask(pc.is_in(lower, pa.array(sorted(_FALSE))))
    nulls = _mask(pc.is_null(arr))
    values = pa.array(np.where(is_true, True, False), mask=~(is_true | is_false))
    return values, ~(is_true | is_false | nulls)


def _stop_times(dates: pa.ChunkedArray) -> tuple[pd.Series, pd.Series, np.ndarray, np.ndarray]:
    """(UTC naive datetimes, local dates, time_given, bad) for stop-and-search ``Date`` strings.

    Timestamps with an offset are converted to UTC; timestamps without one are taken as
    Europe/London local time; date-only values get local midnight and ``time_given=False``.
    """
    s = pd.Series(dates.to_numpy(zero_copy_only=False), dtype=object).str.strip()
    date_only = s.str.fullmatch(r"\d{4}-\d{2}-\d{2}").fillna(False).to_numpy(bool)
    has_offset = s.str.contains(r"(?:[+-]\d{2}:?\d{2}|Z)$", regex=True).fillna(False).to_numpy(bool)
    utc = pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns, UTC]")
    if has_offset.any():
        utc[has_offset] = pd.to_datetime(s[has_offset], utc=True, errors="coerce", format="ISO8601")
    local = ~has_offset & s.notna().to_numpy(bool)
    if local.any():
        naive = pd.to_datetime(s[local], errors="coerce", format="ISO8601")
        utc[local] = naive.dt.tz_localize(
            "Europe/London", ambiguous="NaT", nonexistent="shift_forward"
        ).dt.tz_convert("UTC")
    bad = utc.isna().to_numpy(bool)
    london = utc.dt.tz_convert("Europe/London")
    local_date = london.dt.date
    time_given = ~date_only
    midnight = ((london.dt.hour == 0) & (london.dt.minute == 0) & (london.dt.second == 0)).to_numpy(
        bool
    )
    valid = ~bad
    if valid.sum() >= 10 and (midnight & valid).sum() >= 0.9 * valid.sum():
        # A force that publishes dates only, as midnight times: the time is not given.
        time_given = time_given & ~midnight
    return utc.dt.tz_localize(None), local_date, time_given, bad


def _stops(parsed: ParsedCSV, name_month: str | None) -> Prepared:
    t = parsed.table
    n = t.num_rows
    reasons = np.full(n, "", dtype=object)
    utc, local_date, time_given, bad_date = _stop_times(t["date"])
    _assign(reasons, bad_date, "bad_date")
    _assign(reasons, _nan_coordinates(t, "longitude", "latitude"), "nan_coordinates")
    lon, lat, unlocated, non_numeric, outside = _coords(t, "longitude", "latitude")
    _assign(reasons, non_numeric, "non_numeric_coordinates")
    _assign(reasons, outside, "coordinates_outside_uk")
    bools = {}
    for col in ("part_of_operation", "outcome_linked", "removal_more_than_outer"):
        values, bad = _booleans(t[col])
        bools[col] = values
        _assign(reasons, bad, "bad_boolean")
    keep, quarantined = _quarantine(parsed, reasons, _DETAILS)
    if name_month is not None and re.match(_MONTH, name_month):
        month = name_month
    elif keep.any():
        months = pd.Series(local_date[keep]).map(lambda d: d.strftime("%Y-%m"))
        month = str(months.mode().iloc[0])
    else:
        month = None
    idx = pa.array(np.flatnonzero(keep), type=pa.int64())
    good = t.take(idx)
    east, north = to_bng(lon[keep], lat[keep])
    cols: dict[str, Any] = {
        "type": good["type"],
        "datetime_utc": pa.array(utc[keep].to_numpy(), type=pa.timestamp("us")),
        "local_date": pa.array(list(local_date[keep]), type=pa.date32()),
        "time_given": pa.array(time_given[keep], type=pa.bool_()),
        "part_of_operation": bools["part_of_operation"].take(idx),
        "operation": good["operation"],
        "longitude": pa.array(lon[keep], from_pandas=True),
        "latitude": pa.array(lat[keep], from_pandas=True),
        "easting": pa.array(np.round(east, 1), from_pandas=True),
        "northing": pa.array(np.round(north, 1), from_pandas=True),
        "gender": good["gender"],
        "age_range": good["age_range"],
        "self_defined_ethnicity": good["self_defined_ethnicity"],
        "officer_defined_ethnicity": good["officer_defined_ethnicity"],
        "legislation": good["legislation"],
        "object_of_search": good["object_of_search"],
        "outcome": good["outcome"],
        "outcome_linked": bools["outcome_linked"].take(idx),
        "removal_more_than_outer": bools["removal_more_than_outer"].take(idx),
        "location_precision": pa.array(
            np.where(unlocated[keep], "none", "snapped").astype(object), type=pa.string()
        ),
        "row_number": pa.array(parsed.row_numbers[keep], type=pa.int64()),
    }
    info = {
        "unlocated": int((unlocated & keep).sum()),
        "date_only": int((~time_given & keep).sum()),
    }
    return Prepared("stop-and-search", month, pa.table(cols), quarantined, info)


def prepare(parsed: ParsedCSV, kind: str, name: str, *, today: str | None = None) -> Prepared:
    """Validate a parsed police.uk file of ``kind`` and build the rows to store.

    ``today``: the ingest month (``YYYY-MM``, default :func:`current_month`); later months are
    quarantined as ``future_month``.
    """
    name_month = month_from_name(name)
    if kind == "stop-and-search":
        return _stops(parsed, name_month)
    return _crime_like(parsed, kind, name_month, today or current_month())
