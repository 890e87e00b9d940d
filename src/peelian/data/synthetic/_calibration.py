"""Calibration of the synthetic force on real police.uk street-level data.

The synthetic force is *calibrated*, not invented: its monthly volumes per police.uk category and
its places (LSOA and snapped map point) come from a real police.uk download (the bundled
Northumbria zip by default), read directly with pyarrow. Anti-social behaviour rows are left out:
synthetic occurrences are crimes.

Outside the months the download covers, monthly volumes are extrapolated per category with a
log-linear model fitted to the real months (ordinary least squares on log counts)::

    log y[c, t] = a[c] + b[c] * t + s[c, month_of_year(t)] + l[c] * lockdown(t)

with ``t`` in years, ``s`` month-of-year seasonal effects (summing to zero), and ``lockdown`` an
indicator of the months of England's national COVID-19 lockdowns (March-June 2020, November 2020,
January-March 2021) so that lockdown dips do not bend the seasonality. The annual trend ``b`` is
clamped to +/-10% a year so a short series cannot extrapolate wildly; the clamp, if used, is
reported in :attr:`Calibration.choices`. Seasonal decomposition of crime counts this way follows
common practice in crime analysis (e.g. Linning, Andresen & Brantingham 2017, *Crime seasonality*,
Int. J. Offender Therapy and Comparative Criminology 61(16)).
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from peelian.errors import IngestError, NotFoundError

__all__ = ["LOCKDOWN_MONTHS", "Calibration", "default_calibration_zip", "load_calibration"]

#: Months of the national lockdowns in England (whole or most of the month).
LOCKDOWN_MONTHS = frozenset(
    {"2020-04", "2020-05", "2020-06", "2020-11", "2021-01", "2021-02", "2021-03"}
)
_MAX_TREND = 0.10
_NTE_SHARE = 0.01
_STREET = re.compile(r"(?:^|/)(\d{4}-\d{2})/\1-[a-z-]+-street\.csv$")
_COLUMNS = ["Month", "Longitude", "Latitude", "LSOA code", "LSOA name", "Crime type"]


@dataclass(frozen=True)
class Calibration:
    """What the generator learns from a police.uk download.

    ``rows``: one row per real crime (month, category, point_id, lsoa_code, district), ASB
    excluded; ``points``: the snapped map points (point_id, easting, northing in EPSG:27700);
    ``monthly``: real counts, months x categories; ``model``: the fitted volume model per category
    (intercept, trend, lockdown, s01..s12); ``nte_lsoas``: the LSOAs treated as night-time economy
    centres (the top 1% by public order plus theft from the person).
    """

    source: str
    sha256: str
    rows: pd.DataFrame
    points: pd.DataFrame
    monthly: pd.DataFrame
    model: pd.DataFrame
    nte_lsoas: frozenset[str]
    choices: dict[str, Any] = field(default_factory=dict)

    @property
    def months(self) -> list[str]:
        return list(self.monthly.index)

    @property
    def categories(self) -> list[str]:
        return list(self.monthly.columns)

    def expected(self, months: list[str]) -> pd.DataFrame:
        """Expected monthly counts per category from the fitted model (months x categories)."""
        t = _years(months)
        moy = np.array([int(m[5:7]) for m in months])
        lock = np.array([m in LOCKDOWN_MONTHS for m in months], dtype=float)
        m = self.model
        seas = m[[f"s{k:02d}" for k in range(1, 13)]].to_numpy()  # categories x 12
        log_mu = (
            m["intercept"].to_numpy()[None, :]
            + t[:, None] * m["trend"].to_numpy()[None, :]
            + seas[:, moy - 1].T
            + lock[:, None] * m["lockdown"].to_numpy()[None, :]
        )
        return pd.DataFrame(np.exp(log_mu), index=months, columns=m.index)


def default_calibration_zip() -> Path:
    """The bundled Northumbria police.uk zip (``demo-data/policeuk/...``)."""
    from peelian.data.datasets import demo_policeuk_zip

    return demo_policeuk_zip()


def _years(months: list[str]) -> np.ndarray:
    return np.array([int(m[:4]) + (int(m[5:7]) - 1) / 12.0 - 2020.0 for m in months])


def _read_zip(path: Path) -> pd.DataFrame:
    opts = pacsv.ConvertOptions(
        include_columns=_COLUMNS,
        column_types={c: pa.string() for c in ("Month", "LSOA code", "LSOA name", "Crime type")}
        | {"Longitude": pa.float64(), "Latitude": pa.float64()},
    )
    try:
        with zipfile.ZipFile(path) as zf:
            names = sorted(n for n in zf.namelist() if _STREET.search(n))
            if not names:
                raise IngestError(
                    f"{path} holds no police.uk street files (YYYY-MM/YYYY-MM-force-street.csv).",
                    "Pass a zip downloaded from data.police.uk/data with 'Include crime data'.",
                )
            tables = [pacsv.read_csv(io.BytesIO(zf.read(n)), convert_options=opts) for n in names]
    except zipfile.BadZipFile as exc:
        raise IngestError(
            f"{path} is not a readable zip file ({exc}).",
            "Download it again from data.police.uk/data.",
        ) from None
    except (pa.ArrowInvalid, KeyError) as exc:
        raise IngestError(
            f"{path} has a street file without the police.uk columns ({exc}).",
            "Calibrate on a police.uk street-level download as published.",
        ) from None
    return pa.concat_tables(tables).to_pandas()


def _fit_model(monthly: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, float]]:
    months = list(monthly.index)
    t = _years(months)
    moy = np.array([int(m[5:7]) for m in months])
    lock = np.array([m in LOCKDOWN_MONTHS for m in months], dtype=float)
    # Design: intercept, trend, lockdown, 11 seasonal contrasts (sum-to-zero coding).
    seas = np.zeros((len(months), 11))
    for k in range(1, 12):
        seas[:, k - 1] = (moy == k).astype(float) - (moy == 12).astype(float)
    present = sorted(set(moy))
    if len(present) < 12:
        seas = seas[:, [k - 1 for k in range(1, 12) if k in present or 12 in present]]
    x = np.column_stack([np.ones(len(months)), t, lock, seas])
    rows = []
    clamped: dict[str, float] = {}
    for cat in monthly.columns:
        y = np.log(np.maximum(monthly[cat].to_numpy(dtype=float), 0.5))
        beta, *_ = np.linalg.lstsq(x, y, rcond=None)
        s = np.zeros(12)
        s[:11] = beta[3:14] if beta.size >= 14 else 0.0
        s[11] = -s[:11].sum()
        trend = float(beta[1])
        if abs(trend) > _MAX_TREND:
            clamped[cat] = trend
            trend = float(np.sign(trend) * _MAX_TREND)
            # Refit the other terms with the trend fixed.
            beta2, *_ = np.linalg.lstsq(np.delete(x, 1, axis=1), y - trend * t, rcond=None)
            beta = np.insert(beta2, 1, trend)
            s[:11] = beta[3:14]
            s[11] = -s[:11].sum()
        rows.append(
            {"category": cat, "intercept": beta[0], "trend": trend, "lockdown": beta[2]}
            | {f"s{k:02d}": s[k - 1] for k in range(1, 13)}
        )
    return pd.DataFrame(rows).set_index("category"), clamped


def load_calibration(path: str | Path | None = None) -> Calibration:
    """Read a police.uk street-level zip and fit the volume model.

    ``path`` defaults to the bundled Northumbria download. Raises
    :class:`~peelian.errors.NotFoundError` if the file does not exist and
    :class:`~peelian.errors.IngestError` if it is not a police.uk download.
    """
    zpath = Path(path) if path is not None else default_calibration_zip()
    if not zpath.is_file():
        raise NotFoundError(
            f"The calibration file {zpath} does not exist.",
            "Pass --calibrate-from with a police.uk zip (e.g. demo-data/policeuk/...zip).",
        )
    sha = hashlib.sha256(zpath.read_bytes()).hexdigest()
    raw = _read_zip(zpath)
    raw = raw[raw["Crime type"].notna() & (raw["Crime type"] != "Anti-social behaviour")]
    if raw.empty:
        raise IngestError(
            f"{zpath} holds no crime rows (only anti-social behaviour or nothing).",
            "Calibrate on a police.uk download that includes crime data.",
        )
    months = sorted(raw["Month"].unique())
    expected = pd.period_range(months[0], months[-1], freq="M").strftime("%Y-%m").tolist()
    if months != expected or len(months) < 13:
        raise IngestError(
            f"{zpath} covers {len(months)} months with gaps or fewer than 13 consecutive months "
            f"({months[0]}..{months[-1]}).",
            "The volume model needs at least 13 consecutive months of street-level data.",
        )
    lon = raw["Longitude"].to_numpy()
    lat = raw["Latitude"].to_numpy()
    located = np.isfinite(lon) & np.isfinite(lat)
    key = pd.DataFrame({"lon": lon[located], "lat": lat[located]})
    uniq = key.drop_duplicates().reset_index(drop=True)
    from pyproj import Transformer

    tr = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)
    east, north = tr.transform(uniq["lon"].to_numpy(), uniq["lat"].to_numpy())
    uniq["point_id"] = np.arange(len(uniq), dtype=np.int64)
    pid = np.full(len(raw), -1, dtype=np.int64)
    pid[located] = key.merge(uniq, on=["lon", "lat"], how="left")["point_id"].to_numpy()
    points = pd.DataFrame(
        {"point_id": uniq["point_id"], "easting": np.round(east, 1), "northing": np.round(north, 1)}
    )
    district = raw["LSOA name"].fillna("").str.replace(r"\s+\S+$", "", regex=True)
    rows = pd.DataFrame(
        {
            "month": pd.Categorical(raw["Month"].to_numpy()),
            "category": pd.Categorical(raw["Crime type"].to_numpy()),
            "point_id": pid,
            "lsoa_code": pd.Categorical(raw["LSOA code"].replace("", None).to_numpy()),
            "district": pd.Categorical(district.replace("", None).to_numpy()),
        }
    )
    monthly = (
        rows.groupby(["month", "category"], observed=True).size().unstack(fill_value=0).sort_index()
    )
    monthly.index = monthly.index.astype(str)
    monthly.columns = monthly.columns.astype(str)
    model, clamped = _fit_model(monthly)
    nte_src = rows[rows["category"].isin(["Public order", "Theft from the person"])]
    per_lsoa = nte_src.groupby("lsoa_code", observed=True).size().sort_values(ascending=False)
    n_nte = max(1, round(_NTE_SHARE * rows["lsoa_code"].nunique()))
    nte = frozenset(per_lsoa.index[:n_nte])
    choices = {
        "calibration_months": f"{months[0]}..{months[-1]}",
        "trend_clamped": clamped,
        "nte_lsoas": sorted(nte),
        "nte_rule": f"top {_NTE_SHARE:.0%} of LSOAs by public order + theft from the person",
        "unlocated_rows": int((~located).sum()),
    }
    return Calibration(
        source=zpath.name,
        sha256=sha,
        rows=rows,
        points=points,
        monthly=monthly,
        model=model,
        nte_lsoas=nte,
        choices=choices,
    )
