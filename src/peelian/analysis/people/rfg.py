"""RFG / RFGV scores: Recency, Frequency, Gravity (+ Victims) of each person's qualifying records.

The prioritisation used by Northumbria Police's MATAC for serial domestic abuse perpetrators and
by Integrated Offender Management (DOMAIN.md section 6; Davies & Biddle 2018, *Criminology &
Criminal Justice* 18(4)). For each person, over their qualifying records (see
:mod:`peelian.analysis.people.cohorts`):

- **recency**: days from the newest record's reported date to the as-of date;
- **frequency**: the number of records;
- **gravity**: their harm, the sum of the Cambridge Crime Harm Index days of each record's Home
  Office code (the one lookup, :func:`peelian.offences.harm_weights` ``("force")``); a code with
  no weight adds 0 and is counted in ``unweighted_records`` (never dropped unseen);
- **victims**: the distinct people with the victim role on them (never the person themself).

Each raw value becomes points through the matrix's bands (:class:`~._config.Matrix`), and
``score = sum(weight x points)`` over recency, frequency and gravity (RFG), plus victims (RFGV).
Every row keeps the raw values, the points and the records behind them. Pure: frames in, frames
out, pseudonymised ``person_ref`` only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import numpy as np
import pandas as pd

from peelian.analysis.people._config import COMPONENTS, Matrix
from peelian.errors import ParameterError
from peelian.offences import harm_weights, normalise_ho_code

__all__ = ["SCORE_COLUMNS", "band_points", "rfg_scores", "window_start"]

#: Columns of :func:`rfg_scores`, in order.
SCORE_COLUMNS: tuple[str, ...] = (
    "person_ref",
    "score",
    "recency",
    "frequency",
    "gravity",
    "victims",
    "days_since_last",
    "record_count",
    "harm",
    "victim_count",
    "unweighted_records",
    "first_record",
    "last_record",
    "crime_refs",
)


def window_start(as_of: dt.date, *, years: int = 0, months: int = 0) -> dt.date:
    """The first day of the window "the ``years`` years and ``months`` months up to ``as_of``":
    the same calendar day that many years and months before (29 February -> 28 February, the 31st
    -> the month's last day). The window is ``[window_start, as_of]``, both days included.

    >>> window_start(dt.date(2026, 5, 1), years=3)
    datetime.date(2023, 5, 1)
    >>> window_start(dt.date(2024, 2, 29), years=3)
    datetime.date(2021, 2, 28)
    """
    total = as_of.year * 12 + (as_of.month - 1) - (years * 12 + months)
    year, month = divmod(total, 12)
    month += 1
    nxt = dt.date(year + (month == 12), month % 12 + 1, 1)
    last_day = (nxt - dt.timedelta(days=1)).day
    return dt.date(year, month, min(as_of.day, last_day))


def band_points(
    values: np.ndarray | pd.Series, bands: tuple[tuple[float, float], ...], *, upper: bool = False
) -> np.ndarray:
    """Points of each value under ``bands`` (ascending ``(edge, points)`` pairs).

    ``upper=False`` (``min`` bands): the last band whose edge is <= the value; below the first
    edge, 0. ``upper=True`` (recency's ``max_days`` bands): the first band whose edge is >= the
    value; above the last edge, 0.

    >>> band_points(np.array([0, 1, 2, 7]), ((1, 1), (2, 2), (5, 5))).tolist()
    [0.0, 1.0, 2.0, 5.0]
    >>> band_points(np.array([0, 28, 29, 2000]), ((28, 5), (91, 4)), upper=True).tolist()
    [5.0, 5.0, 4.0, 0.0]
    """
    edges = np.array([b[0] for b in bands], dtype=float)
    points = np.append(np.array([b[1] for b in bands], dtype=float), 0.0)
    v = np.asarray(values, dtype=float)
    if upper:
        idx = np.searchsorted(edges, v, side="left")  # len(edges) -> the appended 0
    else:
        idx = np.searchsorted(edges, v, side="right") - 1  # -1 -> the appended 0
    return points[idx]


def _harm(codes: pd.Series, weights: Mapping[str, float] | None) -> pd.Series:
    table = dict(weights) if weights is not None else harm_weights("force")
    uniq = pd.Series(codes.dropna().unique())
    norm = {c: table.get(normalise_ho_code(str(c)) or str(c), np.nan) for c in uniq}
    return codes.map(norm).astype(float)


def rfg_scores(
    records: pd.DataFrame,
    victims: pd.DataFrame,
    as_of: dt.date,
    matrix: Matrix,
    *,
    method: str = "rfgv",
    weights: Mapping[str, float] | None = None,
    with_records: bool = True,
) -> pd.DataFrame:
    """One row per person: the score, each component's points and the raw values behind them
    (columns :data:`SCORE_COLUMNS`), highest score first (ties: newest record, then person_ref).

    ``records``: one row per person and qualifying record: ``person_ref``, ``crime_ref``,
    ``reported_at``, ``ho_code`` (a record counted once per person whatever their roles on it).
    ``victims``: ``crime_ref``, ``person_ref`` of the people with the victim role on each record.
    ``weights``: harm days per Home Office code (default: the one lookup, ``harm_weights("force")``).
    ``method``: ``"rfgv"`` or ``"rfg"`` (victims' points shown but not added). Records after
    ``as_of`` are refused: select the window first.
    """
    if method not in ("rfg", "rfgv"):
        raise ParameterError(
            f"The 'method' parameter of rfg_scores must be rfg or rfgv. Got {method!r}."
        )
    missing = {"person_ref", "crime_ref", "reported_at", "ho_code"} - set(records.columns)
    if missing:
        raise ParameterError(
            f"rfg_scores needs the columns {sorted(missing)} in records.",
            "Pass one row per person and record (see peelian.analysis.people.person_records).",
        )
    if records.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in SCORE_COLUMNS})
    recs = records.drop_duplicates(["person_ref", "crime_ref"])
    day = pd.to_datetime(recs["reported_at"]).dt.normalize()
    as_of_ts = pd.Timestamp(as_of)
    if (day > as_of_ts).any():
        raise ParameterError(
            f"rfg_scores was given {int((day > as_of_ts).sum())} records after the as-of date {as_of}.",
            "Select the records of the window [start, as-of] first.",
        )
    harm = _harm(recs["ho_code"], weights)
    frame = pd.DataFrame(
        {
            "person_ref": recs["person_ref"].to_numpy(),
            "crime_ref": recs["crime_ref"].to_numpy(),
            "day": day.to_numpy(),
            "harm": harm.fillna(0.0).to_numpy(),
            "unweighted": harm.isna().to_numpy(),
        }
    )
    g = frame.groupby("person_ref", sort=False)
    out = g.agg(
        record_count=("crime_ref", "size"),
        harm=("harm", "sum"),
        unweighted_records=("unweighted", "sum"),
        first_record=("day", "min"),
        last_record=("day", "max"),
    )
    out["days_since_last"] = (as_of_ts - out["last_record"]).dt.days.astype(int)
    out["victim_count"] = _victim_counts(frame[["person_ref", "crime_ref"]], victims).reindex(
        out.index, fill_value=0
    )
    if with_records:
        out["crime_refs"] = g["crime_ref"].agg(lambda s: sorted(s))
    else:
        out["crime_refs"] = None
    raw = {
        "recency": out["days_since_last"],
        "frequency": out["record_count"],
        "gravity": out["harm"],
        "victims": out["victim_count"],
    }
    used = COMPONENTS if method == "rfgv" else COMPONENTS[:3]
    out["score"] = 0.0
    for c in COMPONENTS:
        out[c] = band_points(raw[c].to_numpy(), matrix.bands(c), upper=c == "recency")
        if c in used:
            out["score"] += matrix.weights[c] * out[c]
    out = out.reset_index()
    out["unweighted_records"] = out["unweighted_records"].astype(int)
    out["first_record"] = out["first_record"].dt.date
    out["last_record"] = out["last_record"].dt.date
    out = out.sort_values(
        ["score", "last_record", "person_ref"], ascending=[False, False, True], kind="mergesort"
    )
    return out[list(SCORE_COLUMNS)].reset_index(drop=True)


def _victim_counts(pairs: pd.DataFrame, victims: pd.DataFrame) -> pd.Series:
    """Distinct victims per person over their records (never the person themself)."""
    if victims.empty:
        return pd.Series(dtype=int)
    v = victims[["crime_ref", "person_ref"]].rename(columns={"person_ref": "victim_ref"})
    joined = pairs.merge(v, on="crime_ref", how="inner")
    joined = joined[joined["victim_ref"] != joined["person_ref"]]
    return joined.drop_duplicates(["person_ref", "victim_ref"]).groupby("person_ref").size()
