"""Vectorised mapping of one export file (a table of strings) onto a force table.

Every row either becomes a target row or gets the first reason it cannot be used; nothing is
dropped silently. Reasons (the ``quarantine.reason`` values of force ingest):

``invalid_utf8``, ``missing_required``, ``bad_date``, ``bad_number``, ``out_of_range``,
``unknown_value``, ``unknown_ho_code``, ``bad_lsoa``, ``outside_uk``, ``date_order``,
``duplicate_key``, and, checked against the store, ``unknown_crime_ref``, ``unknown_person_ref``,
``unknown_address_ref``.

The work is columnar (pyarrow compute): value maps, code look-ups and flag derivations run once
per *distinct* value (dictionary encoding) and are taken back to the rows; dates are parsed by
``pyarrow.compute.strptime`` with the mapping's formats.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from peelian.data.ingest._force_mapping import ColumnSpec, TableSpec
from peelian.offences import home_office_codes, normalise_ho_code

__all__ = ["UK_BOUNDS", "Transformed", "as_table", "mark", "transform", "vmap"]

#: British National Grid extent of Great Britain and its islands (metres): a coordinate outside
#: it cannot be a UK location (EPSG:27700 bounds).
UK_BOUNDS = (0.0, 0.0, 700_000.0, 1_300_000.0)
_LSOA_RE = re.compile(r"^[EW]0[12]\d{6}$")
_DEFAULT_TRUE = frozenset({"Y", "YES", "1", "TRUE", "T"})
_DEFAULT_FALSE = frozenset({"N", "NO", "0", "FALSE", "F"})
_TS = pa.timestamp("us")
_ARROW_TYPES = {
    "str": pa.string(),
    "code": pa.string(),
    "lsoa": pa.string(),
    "list": pa.string(),
    "enum": pa.string(),
    "bool": pa.bool_(),
    "int": pa.int64(),
    "float": pa.float64(),
    "datetime": _TS,
    "date": pa.date32(),
}

Detail: TypeAlias = str | pa.Array | Callable[[np.ndarray], list[str]]


@dataclass
class Transformed:
    """Target columns (pyarrow arrays, one slot per data row) and each row's first problem."""

    columns: dict[str, pa.Array]
    ok: np.ndarray  # bool: the row has no problem yet
    reasons: np.ndarray  # object: None where the row is good
    details: np.ndarray  # object
    missing_columns: list[str]
    raw_override: dict[int, str] = field(default_factory=dict)  # row -> raw text to keep

    @property
    def good(self) -> np.ndarray:
        return self.ok

    @property
    def reason(self) -> pd.Series:
        return pd.Series(self.reasons, dtype=object)

    @property
    def detail(self) -> pd.Series:
        return pd.Series(self.details, dtype=object)

    @property
    def frame(self) -> pd.DataFrame:
        """The target columns as pandas (timestamps as ``datetime64``, missing as None/NaT)."""
        data = {}
        for name, arr in self.columns.items():
            if pa.types.is_timestamp(arr.type) or pa.types.is_date(arr.type):
                data[name] = pd.to_datetime(pc.cast(arr, _TS).to_pandas())
            elif pa.types.is_boolean(arr.type) or pa.types.is_integer(arr.type):
                data[name] = pd.Series(arr.to_pylist(), dtype=object)
            else:
                data[name] = arr.to_pandas()
        return pd.DataFrame(data)


def _np(mask: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """A boolean pyarrow array as NumPy (null counts as False)."""
    return np.asarray(pc.fill_null(mask, False).to_numpy(zero_copy_only=False), dtype=bool)


def mark(
    out: Transformed,
    mask: np.ndarray | pa.Array,
    reason: str,
    detail: Detail,
    *,
    prefix: str | None = None,
) -> None:
    """Give ``reason`` to rows in ``mask`` that have none yet. ``detail`` is text, an array of
    the values shown (only for the rows marked) as ``prefix: 'value'``, or a function of the
    marked row positions returning their texts."""
    m = mask if isinstance(mask, np.ndarray) else _np(mask)
    new = m & out.ok
    if not new.any():
        return
    idx = np.flatnonzero(new)
    out.ok[idx] = False
    out.reasons[idx] = reason
    if isinstance(detail, str):
        out.details[idx] = detail
        return
    if callable(detail):
        texts = detail(idx)
    else:
        values = detail.take(pa.array(idx)).to_pylist()
        texts = [(f"{prefix}: {v!r}" if prefix is not None else str(v)) for v in values]
    out.details[idx] = np.array(texts, dtype=object)


def vmap(arr: pa.Array, fn: Callable[[str], Any], type_: pa.DataType) -> pa.Array:
    """``fn`` applied to each distinct value of a string array, taken back to every row."""
    if len(arr) == 0:
        return pa.array([], type=type_)
    enc = pc.dictionary_encode(arr)
    mapped = pa.array([fn(v) for v in enc.dictionary.to_pylist()], type=type_)
    return mapped.take(enc.indices)


def _null_where(arr: pa.Array, mask: pa.Array) -> pa.Array:
    return pc.if_else(mask, pa.scalar(None, arr.type), arr)


def as_table(raw: pd.DataFrame | pa.Table) -> pa.Table:
    """A table of strings (pandas frames, e.g. from tests or Excel, are converted)."""
    if isinstance(raw, pa.Table):
        return raw
    cols = {str(c): [None if pd.isna(v) else str(v) for v in raw[c]] for c in raw.columns}
    return pa.table({c: pa.array(v, type=pa.string()) for c, v in cols.items()})


def _column(raw: pa.Table, name: str) -> pa.Array:
    arr = raw.column(name).combine_chunks()
    if not pa.types.is_string(arr.type):
        arr = pc.cast(arr, pa.string())
    return pc.utf8_trim_whitespace(pc.fill_null(arr, ""))


def _source(raw: pa.Table, spec: ColumnSpec, missing: list[str]) -> pa.Array:
    n = raw.num_rows
    if not spec.columns:
        value = "" if spec.constant is None else str(spec.constant)
        return pa.array([value] * n, type=pa.string())
    parts = []
    for col in spec.columns:
        if col in raw.column_names:
            parts.append(_column(raw, col))
        else:
            missing.append(col)
            parts.append(pa.array([""] * n, type=pa.string()))
    s = parts[0]
    for p in parts[1:]:
        s = pc.utf8_trim_whitespace(pc.binary_join_element_wise(s, p, " "))
    return s


def _strict_check(text: pa.Array, got: pa.Array, fmt: str) -> np.ndarray:
    """Rows ``pc.strptime`` accepted that strict parsing rejects.

    Arrow's strptime normalises an impossible day (31/06 becomes 1 July), which always lands on
    day 1-3 of the next month; those rows are re-parsed strictly (pandas, exact format)."""
    bad = np.zeros(len(text), dtype=bool)
    if "%d" not in fmt and "%j" not in fmt:
        return bad
    suspect = np.flatnonzero(_np(pc.less_equal(pc.day(got), 3)))
    if len(suspect):
        values = text.take(pa.array(suspect)).to_pandas()
        strict = pd.to_datetime(values, format=fmt, errors="coerce")
        bad[suspect[strict.isna().to_numpy()]] = True
    return bad


def _dates(s: pa.Array, blank: np.ndarray, formats: tuple[str, ...]) -> pa.Array:
    """Parse with each format in turn (vectorised), then ISO 8601 for what is left."""
    n = len(s)
    result = pa.nulls(n, type=_TS)
    todo = ~blank
    for fmt in formats:
        if not todo.any():
            break
        got = pc.strptime(s, format=fmt, unit="us", error_is_null=True)
        ok = _np(pc.is_valid(got)) & todo
        ok &= ~_strict_check(s, got, fmt)
        if ok.any():
            result = pc.if_else(pa.array(ok), got, result)
            todo &= ~ok
    if todo.any():
        idx = np.flatnonzero(todo)
        values = s.take(pa.array(idx)).to_pandas()
        iso = pd.to_datetime(values, format="ISO8601", errors="coerce")
        if getattr(iso.dt, "tz", None) is not None:
            iso = iso.dt.tz_localize(None)
        found = iso.notna().to_numpy()
        if found.any():
            full = np.full(n, np.datetime64("NaT"), dtype="datetime64[us]")
            full[idx[found]] = iso[found].to_numpy().astype("datetime64[us]")
            result = pc.if_else(
                pa.array(np.isin(np.arange(n), idx[found])), pa.array(full, type=_TS), result
            )
    return result


def _numbers(s: pa.Array, blank: np.ndarray) -> tuple[pa.Array, np.ndarray]:
    """(float64 array, rows that are not numbers)."""
    nullable = _null_where(s, pa.array(blank))
    try:
        num = pc.cast(nullable, pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        coerced = pd.to_numeric(nullable.to_pandas(), errors="coerce")
        num = pa.array(coerced.to_numpy(dtype=float), from_pandas=True)
    nan = _np(pc.is_nan(num))
    num = _null_where(num, pa.array(nan))
    return num, ~blank & (_np(pc.is_null(num)) | nan)


def _apply(
    out: Transformed,
    raw: pa.Table,
    spec: ColumnSpec,
    codes: frozenset[str],
    enums: tuple[str, ...],
    ranges: tuple[float, float] | None,
) -> None:
    s = _source(raw, spec, out.missing_columns)
    blank = _np(pc.equal(s, ""))
    detail = s
    kind = spec.kind
    if spec.values is not None and kind not in ("bool", "list"):
        values = spec.values
        if kind == "code":  # unmapped values may already be Home Office codes
            s = vmap(s, lambda v: str(values.get(v.upper(), v)), pa.string())
        else:
            allowed = {a.upper(): a for a in enums} if kind == "enum" else {}
            default = spec.default

            def one(v: str) -> str | None:
                got = values.get(v.upper())
                if got is None:
                    got = allowed.get(v.upper())
                if got is None and v and default is not None:
                    got = default
                return None if got is None else str(got)

            mapped = vmap(s, one, pa.string())
            bad = ~blank & _np(pc.is_null(mapped))
            mark(out, bad, "unknown_value", detail, prefix=spec.target)
            s = pc.fill_null(mapped, "")
    result: pa.Array
    if kind == "str":
        result = _null_where(s, pa.array(blank))
    elif kind == "code":

        def code(v: str) -> str | None:
            c = normalise_ho_code(v)
            return c if c in codes else None

        result = vmap(s, code, pa.string())
        mark(out, ~blank & _np(pc.is_null(result)), "unknown_ho_code", detail, prefix=spec.target)
    elif kind in ("datetime", "date"):
        result = _dates(s, blank, spec.date_formats)
        mark(out, ~blank & _np(pc.is_null(result)), "bad_date", detail, prefix=spec.target)
        if kind == "date":
            result = pc.cast(pc.floor_temporal(result, unit="day"), pa.date32())
    elif kind in ("float", "int"):
        num, bad = _numbers(s, blank)
        mark(out, bad, "bad_number", detail, prefix=spec.target)
        if ranges is not None:
            lo, hi = ranges
            outside = pc.or_(pc.less(num, lo), pc.greater(num, hi))
            mark(out, _np(outside), "out_of_range", detail, prefix=spec.target)
        if kind == "int":
            whole = pc.equal(num, pc.floor(num))
            mark(out, _np(pc.invert(whole)), "bad_number", detail, prefix=spec.target)
            result = pc.cast(pc.if_else(whole, num, pa.scalar(None, pa.float64())), pa.int64())
        else:
            result = num
    elif kind == "bool":
        if spec.values is not None:
            vals = spec.values

            def flag(v: str) -> bool | None:
                got = vals.get(v.upper())
                return got if isinstance(got, bool) else None

            result = vmap(s, flag, pa.bool_())
            mark(out, ~blank & _np(pc.is_null(result)), "unknown_value", detail, prefix=spec.target)
        elif spec.contains:
            sep, contains = spec.separator, spec.contains
            result = vmap(
                s, lambda v: any(x.strip() in contains for x in v.upper().split(sep)), pa.bool_()
            )
        else:
            t = spec.true_values or _DEFAULT_TRUE
            f = spec.false_values or _DEFAULT_FALSE

            def yn(v: str) -> bool | None:
                up = v.upper()
                return True if up in t else False if up in f else None

            result = vmap(s, yn, pa.bool_())
            mark(out, ~blank & _np(pc.is_null(result)), "unknown_value", detail, prefix=spec.target)
    elif kind == "lsoa":
        result = vmap(s, lambda v: v.upper() if _LSOA_RE.match(v.upper()) else None, pa.string())
        mark(out, ~blank & _np(pc.is_null(result)), "bad_lsoa", detail, prefix=spec.target)
    elif kind == "list":
        sep, lvalues = spec.separator, spec.values

        def norm(v: str) -> str | None:
            vals = [t.strip() for t in v.split(sep) if t.strip()]
            if lvalues is not None:
                vals = [str(lvalues.get(x.upper(), x)) for x in vals]
            return ";".join(sorted({x.lower() for x in vals})) or None

        result = vmap(s, norm, pa.string())
    else:  # enum
        allowed = {a.upper(): a for a in enums}
        result = vmap(s, lambda v: allowed.get(v.upper()), pa.string())
        mark(out, ~blank & _np(pc.is_null(result)), "unknown_value", detail, prefix=spec.target)
    if spec.default is not None:
        result = pc.if_else(pa.array(blank), pa.scalar(spec.default).cast(result.type), result)
        blank = np.zeros_like(blank)
    if spec.required:
        mark(out, blank | _np(pc.is_null(result)), "missing_required", spec.target + ": blank")
    out.columns[spec.target] = result


def _duplicates(values: pa.Array) -> np.ndarray:
    """Rows whose (non-null) value appeared in an earlier row."""
    enc = pc.dictionary_encode(values)
    codes = pc.fill_null(enc.indices, -1).to_numpy(zero_copy_only=False)
    _, first = np.unique(codes, return_index=True)
    dup = np.ones(len(codes), dtype=bool)
    dup[first] = False
    return dup & (codes >= 0)


def transform(
    raw: pa.Table | pd.DataFrame, table: TableSpec, *, invalid: dict[int, str] | None = None
) -> Transformed:
    """Map a table of strings (one export file) onto ``table``; rows keep their position.

    ``invalid``: rows that could not be decoded (0-based position -> raw text, escaped); they are
    quarantined as ``invalid_utf8`` and their text is kept as given.
    """
    raw = as_table(raw)
    n = raw.num_rows
    out = Transformed(
        columns={},
        ok=np.ones(n, dtype=bool),
        reasons=np.full(n, None, dtype=object),
        details=np.full(n, None, dtype=object),
        missing_columns=[],
        raw_override=dict(invalid or {}),
    )
    if invalid:
        bad = np.zeros(n, dtype=bool)
        bad[list(invalid)] = True
        mark(out, bad, "invalid_utf8", "the line is not valid UTF-8; raw bytes kept escaped")
    codes = frozenset(home_office_codes()["code"])
    target = table.target
    for spec in table.specs:
        _apply(
            out, raw, spec, codes, target.enums.get(spec.target, ()), target.ranges.get(spec.target)
        )
    f = out.columns
    for x, y in (("easting", "northing"), ("found_easting", "found_northing")):
        if x in f and y in f:
            ex, ny = f[x], f[y]
            half = _np(pc.not_equal(pc.is_null(ex), pc.is_null(ny)))
            mark(out, half, "missing_required", f"{x}/{y}: only one given")
            x0, y0, x1, y1 = UK_BOUNDS
            inside = pc.and_(
                pc.and_(pc.greater_equal(ex, x0), pc.less_equal(ex, x1)),
                pc.and_(pc.greater_equal(ny, y0), pc.less_equal(ny, y1)),
            )
            outside = _np(pc.invert(inside))  # null (a coordinate missing) -> not outside

            def where(
                idx: np.ndarray, ex: pa.Array = ex, ny: pa.Array = ny, x: str = x, y: str = y
            ) -> list[str]:
                xs, ys = ex.take(pa.array(idx)).to_pylist(), ny.take(pa.array(idx)).to_pylist()
                return [f"{x}/{y}: {a}, {b}" for a, b in zip(xs, ys, strict=True)]

            mark(out, outside, "outside_uk", where)
    for a, b in (("committed_from", "committed_to"), ("reported_missing_at", "found_at")):
        if a in f and b in f:
            bad = _np(pc.less(f[b], f[a]))

            def order(idx: np.ndarray, b: str = b, a: str = a) -> list:
                shown = pd.Series(f[b].take(pa.array(idx)).to_pylist()).astype(str)
                return [f"{b} before {a}: {v}" for v in shown]

            mark(out, bad, "date_order", order)
    key = target.key
    if key and key in f:
        keys = f[key]

        def dup_detail(idx: np.ndarray) -> list[str]:
            return [f"{key}: {v}" for v in keys.take(pa.array(idx)).to_pylist()]

        mark(out, _duplicates(keys), "duplicate_key", dup_detail)
    return out
