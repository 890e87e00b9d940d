"""Response bodies of the JSON API as Pydantic models, for the OpenAPI document (``/docs``).

The routes answer pre-serialised, cached bodies (:mod:`peelian.web.api._cache`), so these models
only *describe* them: they are attached with ``responses=`` (:func:`responses`), never as
``response_model`` (validating every body would slow the endpoints). The keys come from the
services in :mod:`peelian.web.services`; ``tests/web/test_api.py`` checks that real responses
carry every field marked required here, so the two cannot drift apart silently.

Item models list the main fields and allow extra ones (results carry every column their job
saved); envelopes list all their keys. Numbers that a result may lack are ``null`` (NaN is sent
as ``null``).
"""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, RootModel

__all__ = [
    "AreaDetail",
    "AreaFeatureCollection",
    "AreaProfile",
    "AreasPage",
    "Backtest",
    "BatchDetail",
    "BatchesPage",
    "CellsFeatureCollection",
    "Concentration",
    "DataStatus",
    "ErrorBody",
    "FeatureCollection",
    "GeoJSONResponse",
    "EventCountsPage",
    "ForecastPage",
    "GripPlan",
    "HotspotCellsPage",
    "MapValues",
    "MeasureMonthly",
    "MeasuresCatalogue",
    "MeasuresPage",
    "QuarantinePage",
    "QuarantineReasons",
    "ResultKinds",
    "responses",
]


class _Item(BaseModel):
    """A row of a result or table: the main fields are listed, others are allowed."""

    model_config = ConfigDict(extra="allow")


# -- errors -----------------------------------------------------------------------------------
class ErrorDetail(BaseModel):
    code: str = Field(description="Machine-readable kind, e.g. not_found, invalid_parameter.")
    message: str = Field(description="What went wrong and why.")
    hint: str | None = Field(description="How to fix it (e.g. the command that computes it).")


class ErrorBody(BaseModel):
    """The one error shape of every endpoint (:func:`peelian.web.errors.error_body`)."""

    error: ErrorDetail


_ERRORS: dict[int, str] = {
    400: "The request is malformed.",
    401: "Not logged in (code unauthenticated): log in at /login.",
    403: "The user's role does not allow this (code forbidden).",
    404: "Not found, or the result has not been computed yet: the hint names the command.",
    422: "A parameter is invalid (code invalid_parameter): the message names it.",
}


def responses(
    model: type[BaseModel] | None = None,
    *errors: int,
    content: dict[str, Any] | None = None,
    json_route: bool = True,
) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route: its 200 body (``model`` and/or other media ``content``) and
    the error statuses it can answer (401 always) with :class:`ErrorBody`.

    FastAPI files a ``model`` under the route's own media type; a route whose
    ``response_class`` is not JSON (``json_route=False``) gets its errors as a reference to
    ``ErrorBody`` under ``application/json``, which is what errors are (the JSON routes register
    the component)."""
    ok: dict[str, Any] = {"description": "Successful response."}
    if model is not None:
        ok["model"] = model
    if content is not None:
        ok["content"] = content
    out: dict[int | str, dict[str, Any]] = {200: ok}
    error_ref = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
    for status in sorted({401, *errors}):
        out[status] = (
            {"model": ErrorBody, "description": _ERRORS[status]}
            if json_route
            else {"content": error_ref, "description": _ERRORS[status]}
        )
    return out


class GeoJSONResponse(JSONResponse):
    """A response of GeoJSON: for ``response_class=``, so the docs list the body under
    ``application/geo+json`` (the routes build their bodies themselves)."""

    media_type = "application/geo+json"


# -- shared -----------------------------------------------------------------------------------
class RunMeta(BaseModel):
    """Which persisted run a response comes from."""

    model_config = ConfigDict(extra="allow")

    id: int = Field(description="Run id.")
    kind: str = Field(description="Result kind, e.g. measures, gistar, concentration.")
    name: str = Field(description="Run name: the crime set's slug, or 'all' / 'grip'.")
    created_at: str = Field(description="When the run was saved (ISO 8601, UTC).")
    params: dict[str, Any] = Field(description="The parameters the job ran with.")
    summary: dict[str, Any] = Field(description="Headline figures and automatic choices.")
    peelian_version: str | None = Field(description="peelian version that computed it.")


class _Page(BaseModel):
    """A page of a list: ``items`` with ``total``, ``limit``, ``offset`` and ``next_offset``."""

    total: int = Field(description="Rows matching the filters (all pages).")
    limit: int = Field(description="Page size asked for (at most 1000).")
    offset: int = Field(description="Rows skipped.")
    next_offset: int | None = Field(description="The offset of the next page; null on the last.")


# -- data: status, batches, quarantine ----------------------------------------------------------
class ForceSummary(_Item):
    force: str = Field(description="Force slug, e.g. northumbria.")
    events: int
    outcomes: int
    stops: int
    month_from: str | None = Field(description="First month with events (YYYY-MM).")
    month_to: str | None = Field(description="Last month with events (YYYY-MM).")
    months: int = Field(description="Months with events.")


class MonthEvents(_Item):
    month: str = Field(description="YYYY-MM.")
    events: int


class RunCount(_Item):
    kind: str
    runs: int = Field(description="Runs of this kind kept in the store.")
    latest: str | None = Field(description="When the newest was saved.")


class IngestFile(_Item):
    id: int
    batch_id: int
    path: str = Field(description="File as read (zip!member for archives).")
    kind: str = Field(description="street, outcomes, stop-and-search, ...")
    force: str | None = None
    month: str | None = None
    rows_read: int
    rows_stored: int
    rows_quarantined: int
    reasons: dict[str, int] | None = Field(None, description="Quarantined rows per reason.")
    action: str | None = Field(None, description="loaded, replaced, skipped, ...")
    reconciles: bool = Field(description="rows_read == rows_stored + rows_quarantined.")


class _BatchBase(_Item):
    id: int
    source: str = Field(description="policeuk, force, areas, survey, ...")
    started_at: str | None
    finished_at: str | None
    status: str
    command: str | None = Field(description="The command that ran the ingest.")
    peelian_version: str | None
    files: list[IngestFile]
    reconciles: bool = Field(description="Every file reconciles.")


class Batch(_BatchBase):
    rows_read: int
    rows_stored: int
    rows_quarantined: int
    actions: dict[str, int] = Field(description="Files per action (loaded, replaced, skipped).")


class BatchesPage(_Page):
    items: list[Batch]


class BatchDetail(_BatchBase):
    report: Any = Field(None, description="The ingest's stored report, if any.")


class DataStatus(BaseModel):
    """What is loaded (what ``peelian info`` prints), plus what the data page adds."""

    model_config = ConfigDict(extra="allow")

    events: int = Field(description="Event rows (police.uk and force records).")
    outcomes: int
    stops: int
    forces: list[str]
    months: list[str] = Field(description="Months with any rows, YYYY-MM.")
    months_missing: list[str] = Field(description="Months without rows between the first/last.")
    month_from: str | None
    month_to: str | None
    areas: dict[str, int] = Field(description="Areas per level.")
    quarantined: int = Field(description="Rows quarantined at ingest.")
    force_summary: list[ForceSummary]
    events_by_month: list[MonthEvents]
    events_by_location_precision: dict[str, int]
    results: list[RunCount] = Field(description="Persisted runs per result kind.")
    last_batches: list[Batch] = Field(description="The 5 newest ingest batches.")


class ResultKind(BaseModel):
    names: list[str] = Field(description="Names (crime sets) with a run of this kind.")
    computed: bool
    command: str = Field(description="The CLI command that computes it.")


class ResultKinds(RootModel[dict[str, ResultKind]]):
    """Per result kind (measures, gistar, emerging, kde, concentration, backtest, forecast,
    grip_plan): the names computed, or the command that computes it."""


class QuarantineReason(_Item):
    reason: str
    kind: str = Field(description="File kind.")
    rows: int


class QuarantineReasons(BaseModel):
    reasons: list[QuarantineReason] = Field(description="Most frequent first.")


class QuarantineRow(_Item):
    id: int
    file_id: int
    batch_id: int
    path: str
    kind: str
    row_number: int
    reason: str
    detail: str | None
    raw: str | None = Field(None, description="The row as read (analyst and admin roles only).")


class QuarantinePage(_Page):
    items: list[QuarantineRow]
    raw_included: bool = Field(description="Whether items carry the raw row.")


# -- areas ----------------------------------------------------------------------------------------
class Area(_Item):
    code: str = Field(description="ONS code, e.g. E05001101.")
    name: str
    level: str = Field(description="force, csp, ward, lsoa21 or lsoa11.")
    parent_code: str | None
    ward_code: str | None
    csp_code: str | None
    force_code: str | None
    population: float | None = Field(description="Residents (mid-year estimate).")
    imd_decile: float | None = Field(description="IMD decile (LSOAs; 1 = most deprived).")
    imd_score: float | None
    area_km2: float | None


class AreasPage(_Page):
    items: list[Area]


class AreaRef(_Item):
    code: str
    name: str
    level: str


class AreaChild(AreaRef):
    population: float | None = None


class AreaDetail(Area):
    ancestors: list[AreaRef] = Field(description="Nearest first.")
    child_level: str | None
    children: list[AreaChild] = Field(description="By name.")


class Geometry(_Item):
    type: str
    coordinates: list[Any]


class Feature(BaseModel):
    model_config = ConfigDict(extra="allow")

    type: str = Field(description="Feature.")
    properties: dict[str, Any] = Field(description="For cells: the cell's columns.")
    geometry: Geometry | None = Field(description="WGS84 (EPSG:4326).")


class FeatureCollection(BaseModel):
    """A GeoJSON FeatureCollection in WGS84."""

    type: str = Field(description="FeatureCollection.")
    features: list[Feature]


class AreaFeatureCollection(FeatureCollection):
    """Area boundaries in WGS84, simplified; each feature's id and properties.code = the code."""


class CellsFeatureCollection(FeatureCollection):
    """Cells of a run as GeoJSON (WGS84), the strongest first."""

    model_config = ConfigDict(extra="allow")

    truncated: bool = Field(description="More cells matched than max_cells (or the export).")
    run: RunMeta


# -- events ---------------------------------------------------------------------------------------
class EventCount(_Item):
    events: int = Field(description="Events in this group.")
    harm: float | None = Field(description="CCHI harm (days of imprisonment); null if unknown.")
    month: str | None = Field(None, description="by=month: YYYY-MM.")
    category: str | None = Field(None, description="by=category: police.uk category.")
    area_code: str | None = Field(None, description="by=area: the area's code.")
    area_name: str | None = None
    population: float | None = None
    rate_per_1000: float | None = Field(None, description="by=area: events per 1,000 residents.")


class EventCountsPage(_Page):
    items: list[EventCount]
    by: str = Field(description="month, category or area.")
    level: str | None = Field(description="The area level for by=area.")
    total_events: int = Field(description="Events matching the filters.")
    events_without_area: int = Field(description="by=area: events whose LSOA is not loaded.")
    harm_available: bool


class MapValue(_Item):
    area_code: str
    area_name: str | None
    events: int
    rate_per_1000: float | None
    harm: float | None
    value: float | None = Field(description="The chosen metric's value.")


class MapValues(BaseModel):
    level: str
    metric: str = Field(description="count, rate or harm.")
    items: list[MapValue]


class MonthPoint(_Item):
    month: str
    events: int
    harm: float | None


class CategoryCount(_Item):
    category: str
    events: int
    harm: float | None


# -- measures -------------------------------------------------------------------------------------
class CatalogueEntry(_Item):
    measure: str = Field(description="Measure id, e.g. homicide.")
    label: str | None = None
    unit: str | None = Field(None, description="count or percent.")
    source: str | None = None
    direction_good: str | None = Field(None, description="up or down.")


class MeasuresCatalogue(BaseModel):
    run: RunMeta
    period_end: str | None = Field(description="The latest period's last month (YYYY-MM).")
    measures: list[CatalogueEntry]


class MeasureValue(_Item):
    measure: str = Field(description="Measure id.")
    label: str | None = None
    unit: str | None = None
    source: str | None = None
    area_level: str = Field(description="force, csp, ward or lsoa.")
    area_code: str
    area_name: str | None
    period_end: str = Field(description="Last month of the 12-month period (YYYY-MM).")
    current: float | None = Field(description="Count (or %) in the latest 12 months.")
    baseline: float | None = Field(description="The same in the comparison period.")
    change: float | None = None
    change_pct: float | None = None
    rate_ratio: float | None = Field(description="current / baseline.")
    ci_low: float | None = Field(description="95% CI of the rate ratio, lower.")
    ci_high: float | None = Field(description="95% CI of the rate ratio, upper.")
    p_value: float | None = Field(description="Test of no change.")
    p_value_adjusted: float | None = Field(description="p widened for over-dispersion.")
    p_adjusted: float | None = Field(None, description="FDR-adjusted p (Benjamini-Hochberg).")
    significant: bool | None = Field(description="Significant after the FDR adjustment.")
    direction_good: str | None = None
    assessment: str | None = Field(description="improving, worsening or no significant change.")
    narrative: str | None = None


class MeasuresPage(_Page):
    items: list[MeasureValue]
    run: RunMeta


class MonthlyPoint(_Item):
    measure: str
    area_level: str
    area_code: str
    month: str = Field(description="YYYY-MM.")
    count: float | None
    centre: float | None = Field(description="SPC centre line.")
    lcl: float | None = Field(description="Lower control limit.")
    ucl: float | None = Field(description="Upper control limit.")
    signal: str | None = Field(description="The SPC rule this month breaks, if any.")


class MeasureMonthly(BaseModel):
    measure: str
    area_code: str | None
    run: RunMeta
    months: list[MonthlyPoint] = Field(description="By month.")


class ProfileMeasures(BaseModel):
    items: list[MeasureValue]
    computed: bool
    hint: str | None = Field(None, description="The command that computes measures.")


class AreaProfile(BaseModel):
    area: AreaDetail
    trend: list[MonthPoint] = Field(description="Events per month in the area.")
    categories: list[CategoryCount]
    total_events: int
    measures: ProfileMeasures


# -- hotspots, forecasts, Grip ------------------------------------------------------------------
class HotspotCell(_Item):
    cell_id: int | str = Field(description="Cell id on the run's grid.")
    x: float = Field(description="Cell centre easting (EPSG:27700, metres).")
    y: float = Field(description="Cell centre northing.")
    n: int | None = Field(None, description="gistar: events in the cell.")
    harm: float | None = Field(None, description="gistar: CCHI harm in the cell.")
    gistar: float | None = Field(None, description="gistar: Getis-Ord Gi* z-score.")
    p_value: float | None = Field(None, description="gistar: p-value.")
    p_adjusted: float | None = Field(None, description="gistar: FDR-adjusted p-value.")
    hotspot: str | None = Field(None, description="gistar: hot, cold or none.")
    pattern: str | None = Field(None, description="emerging: Esri's pattern class.")
    trend_tau: float | None = Field(None, description="emerging: Mann-Kendall tau.")
    trend_p: float | None = Field(None, description="emerging: Mann-Kendall p-value.")
    n_total: int | None = Field(None, description="emerging: events over the period.")
    density: float | None = Field(None, description="kde: density (events per m^2).")


class HotspotCellsPage(_Page):
    items: list[HotspotCell]
    run: RunMeta
    names: list[str] = Field(description="Crime sets with a run of this kind.")


class ForecastCell(_Item):
    cell_id: int | str
    x: float
    y: float
    predicted: float | None = Field(description="Expected events next month.")
    rank: int = Field(description="1 = highest predicted.")
    flagged: bool | None = Field(description="In the flagged share of the area.")


class ForecastPage(_Page):
    items: list[ForecastCell]
    run: RunMeta
    names: list[str]


class BacktestSummaryRow(_Item):
    model: str
    coverage: float | None = Field(description="% of the area flagged.")


class BacktestScore(_Item):
    model: str
    month: str = Field(description="Test month.")
    coverage: float | None
    hit_rate: float | None
    pai: float | None = Field(description="Predictive Accuracy Index.")


class Backtest(BaseModel):
    run: RunMeta
    names: list[str]
    summary: list[BacktestSummaryRow] = Field(description="Per model and coverage.")
    results: list[BacktestScore] = Field(description="Per model, month and coverage.")


class GripHotspot(_Item):
    rank: int
    cell_id: int | str
    x: float
    y: float
    harm: float | None
    expected_harm_share: float | None = Field(description="Share of the force's harm (0-1).")
    high_risk_hours: str | None


class GripVisit(_Item):
    hotspot_rank: int
    date: str = Field(description="YYYY-MM-DD.")
    start_time: str
    end_time: str


class GripPlan(BaseModel):
    run: RunMeta
    hotspots: list[GripHotspot]
    visits: list[GripVisit]
    hotspots_geojson: FeatureCollection | None = Field(description="Hotspot cells (WGS84).")


class ConcentrationStatistic(_Item):
    statistic: str = Field(description="e.g. share_n_top_5pct, gini, stability_jaccard.")
    value: float | None
    label: str = Field(description="What it is, in words.")


class ConcentrationShare(_Item):
    top_fraction: float = Field(description="Top fraction of cells (0.05 = the top 5%).")
    cells: int = Field(description="How many cells that is.")
    share_n: float | None = Field(description="Share of all crime in those cells (0-1).")
    share_harm: float | None = Field(description="Share of all CCHI harm in those cells (0-1).")


class LorenzPoint(_Item):
    cell_share: float = Field(description="Share of cells, most crime first (0-1).")
    share_n: float | None = Field(description="Share of crime in them.")
    share_harm: float | None = Field(description="Share of harm (cells in harm order).")


class Concentration(BaseModel):
    """How concentrated crime is across the cells: the latest concentration run of a crime set.
    Point estimates: the run stores no intervals; the chance benchmark is the Poisson-expected
    Gini."""

    run: RunMeta
    names: list[str] = Field(description="Crime sets with a concentration run.")
    period: str | None = Field(description="Months analysed (first..last).")
    n_events: int | None
    n_cells: int | None
    cell_size: float | None = Field(description="Cell size in metres.")
    statistics: list[ConcentrationStatistic] = Field(
        description="Headline figures: shares in the top 1/5/10% of cells, Gini coefficients, "
        "stability of the top 5% between two 12-month periods."
    )
    shares: list[ConcentrationShare] = Field(description="Shares in the top 1-50% of cells.")
    stability: dict[str, Any] | None = Field(
        description="Jaccard overlap and Spearman correlation of the top cells, latest 12 "
        "months against the 12 before, with the periods; null when not comparable."
    )
    stability_note: str | None = Field(description="Why stability is missing or uncertain.")
    lorenz: list[LorenzPoint] = Field(description="The Lorenz curve at 101 shares of cells.")
