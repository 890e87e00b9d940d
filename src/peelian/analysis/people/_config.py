"""The versioned configuration of the people lists: the RFG / RFGV matrix and the cohort rules.

Both are TOML files inside the package (``data/rfg_matrix_v1.toml``, ``data/cohorts_v1.toml``),
or a user's own file. The shipped files are illustrative defaults and say so (``illustrative``):
every surface that shows a score or a list shows that label. A file is checked whole on load;
a bad file is refused with what is wrong and where (never half-used).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from peelian.errors import ParameterError
from peelian.offences import BOOLEAN_FLAG_COLUMNS, offence_sets

__all__ = [
    "COMPONENTS",
    "Cohort",
    "CohortRule",
    "Matrix",
    "RecordTest",
    "load_cohorts",
    "load_matrix",
]

#: The score's components, in order; RFG uses the first three.
COMPONENTS: tuple[str, ...] = ("recency", "frequency", "gravity", "victims")
_DEFAULT_MATRIX = "rfg_matrix_v1.toml"
_DEFAULT_COHORTS = "cohorts_v1.toml"


def _read(path: str | Path | None, default: str, what: str) -> tuple[dict[str, Any], str]:
    try:
        if path is None:
            text = (resources.files("peelian.analysis.people") / "data" / default).read_text()
            origin = f"peelian default ({default})"
        else:
            text = Path(path).read_text(encoding="utf-8")
            origin = str(path)
        return tomllib.loads(text), origin
    except FileNotFoundError as exc:
        raise ParameterError(
            f"There is no {what} file at {path}.", "Give the path of a TOML file."
        ) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ParameterError(
            f"The {what} file {path or default} is not valid TOML: {exc}.",
            "Fix the file (see the shipped default for its layout).",
        ) from exc


def _bad(what: str, where: str, hint: str) -> ParameterError:
    return ParameterError(f"{where}: {what}.", hint)


@dataclass(frozen=True)
class Matrix:
    """An RFG / RFGV matrix: bands per component, weights, and where it came from.

    ``recency``: ``(max_days, points)`` pairs, ascending; the first whose ``max_days`` is at least
    the days since the newest record gives the points (none: 0). ``frequency``, ``gravity`` and
    ``victims``: ``(min, points)`` pairs, ascending; the last whose ``min`` is at most the value
    gives the points (none: 0).
    """

    name: str
    version: str
    illustrative: bool
    label: str
    sources: tuple[str, ...]
    weights: dict[str, float]
    recency: tuple[tuple[float, float], ...]
    frequency: tuple[tuple[float, float], ...]
    gravity: tuple[tuple[float, float], ...]
    victims: tuple[tuple[float, float], ...]
    origin: str = "peelian default"

    def bands(self, component: str) -> tuple[tuple[float, float], ...]:
        """The bands of one component."""
        bands: tuple[tuple[float, float], ...] = getattr(self, component)
        return bands

    def describe(self) -> dict[str, Any]:
        """Everything about the matrix, JSON-ready (what pages, CLI and model card show)."""
        return {
            "name": self.name,
            "version": self.version,
            "illustrative": self.illustrative,
            "label": self.label,
            "sources": list(self.sources),
            "weights": dict(self.weights),
            "bands": {
                "recency": [{"max_days": a, "points": p} for a, p in self.recency],
                **{
                    c: [{"min": a, "points": p} for a, p in self.bands(c)]
                    for c in ("frequency", "gravity", "victims")
                },
            },
            "origin": self.origin,
        }


def _bands(raw: Any, key: str, component: str, where: str) -> tuple[tuple[float, float], ...]:
    rows = (raw or {}).get("bands")
    if not isinstance(rows, list) or not rows:
        raise _bad(
            f"[{component}] has no bands", where, f"Add bands = [{{ {key} = ..., points = ... }}]."
        )
    out: list[tuple[float, float]] = []
    for i, row in enumerate(rows, start=1):
        try:
            edge, points = float(row[key]), float(row["points"])
        except (KeyError, TypeError, ValueError) as exc:
            raise _bad(
                f"band {i} of [{component}] needs numbers {key} and points", where, f"Got {row!r}."
            ) from exc
        if out and edge <= out[-1][0]:
            raise _bad(
                f"the bands of [{component}] must rise", where, f"Band {i} has {key} {edge}."
            )
        out.append((edge, points))
    return tuple(out)


def load_matrix(path: str | Path | None = None) -> Matrix:
    """The RFG / RFGV matrix of ``path`` (a TOML file), or the shipped illustrative default."""
    raw, origin = _read(path, _DEFAULT_MATRIX, "RFG matrix")
    where = f"RFG matrix {origin}"
    for key in ("name", "version", "label"):
        if not isinstance(raw.get(key), str) or not raw[key]:
            raise _bad(f"it has no {key}", where, f'Add {key} = "..." at the top.')
    weights = raw.get("weights") or {}
    try:
        w = {c: float(weights.get(c, 1.0)) for c in COMPONENTS}
    except (TypeError, ValueError) as exc:
        raise _bad("[weights] must be numbers", where, f"Got {weights!r}.") from exc
    sources = raw.get("sources") or []
    if not sources:
        raise _bad(
            "it cites no sources", where, 'Add sources = ["..."]: where the bands come from.'
        )
    return Matrix(
        name=raw["name"],
        version=str(raw["version"]),
        illustrative=bool(raw.get("illustrative", False)),
        label=raw["label"],
        sources=tuple(str(s) for s in sources),
        weights=w,
        recency=_bands(raw.get("recency"), "max_days", "recency", where),
        frequency=_bands(raw.get("frequency"), "min", "frequency", where),
        gravity=_bands(raw.get("gravity"), "min", "gravity", where),
        victims=_bands(raw.get("victims"), "min", "victims", where),
        origin=origin,
    )


@dataclass(frozen=True)
class RecordTest:
    """A record passes when every flag is true and (if any are named) its offence is in one of
    the offence sets."""

    flags: tuple[str, ...] = ()
    offence_sets: tuple[str, ...] = ()

    def describe(self) -> dict[str, Any]:
        return {"flags": list(self.flags), "offence_sets": list(self.offence_sets)}


@dataclass(frozen=True)
class CohortRule:
    """One rule of a cohort (see ``data/cohorts_v1.toml`` for the meaning of each field)."""

    source: str = "occurrences"
    roles: tuple[str, ...] = ("suspect", "offender")
    records: tuple[RecordTest, ...] = ()
    lookback_years: int = 0
    lookback_months: int = 0
    min_age: int | None = None
    max_age: int | None = None
    min_records: int = 1
    min_victims: int = 0
    household: dict[str, Any] | None = None

    def describe(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "roles": list(self.roles),
            "records": [t.describe() for t in self.records],
            "lookback_years": self.lookback_years,
            "lookback_months": self.lookback_months,
            "min_age": self.min_age,
            "max_age": self.max_age,
            "min_records": self.min_records,
            "min_victims": self.min_victims,
            "household": self.household,
        }


@dataclass(frozen=True)
class Cohort:
    """A declared, versioned cohort: who it selects (``rules``, any of), how it is scored
    (``method``) and when a member is de-selected for not offending."""

    name: str
    label: str
    kind: str  # "prioritisation" | "early_intervention"
    method: str  # "rfgv" | "rfg"
    description: str
    source: str
    version: str
    illustrative: bool
    rules: tuple[CohortRule, ...]
    deselect_no_offending_months: int = 0
    origin: str = "peelian default"
    extra: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "label": self.label,
            "kind": self.kind,
            "method": self.method,
            "description": self.description,
            "source": self.source,
            "version": self.version,
            "illustrative": self.illustrative,
            "rules": [r.describe() for r in self.rules],
            "deselect_no_offending_months": self.deselect_no_offending_months,
            "origin": self.origin,
        }


_ROLES = ("victim", "suspect", "offender", "witness")


def _int(value: Any, what: str, where: str, *, allow_none: bool = False) -> Any:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _bad(f"{what} must be a whole number >= 0", where, f"Got {value!r}.")
    return value


def _rule(raw: dict[str, Any], where: str, known_sets: set[str]) -> CohortRule:
    source = raw.get("source", "occurrences")
    if source not in ("occurrences", "missing"):
        raise _bad("source must be occurrences or missing", where, f"Got {source!r}.")
    roles = tuple(raw.get("roles", ("suspect", "offender")))
    if bad := [r for r in roles if r not in _ROLES]:
        raise _bad(f"unknown roles {bad}", where, f"Use {', '.join(_ROLES)}.")
    tests = []
    for t in raw.get("records", []):
        flags = tuple(t.get("flags", ()))
        sets = tuple(t.get("offence_sets", ()))
        if bad := [f for f in flags if f not in BOOLEAN_FLAG_COLUMNS]:
            raise _bad(f"unknown flags {bad}", where, f"Use {', '.join(BOOLEAN_FLAG_COLUMNS)}.")
        if bad := [s for s in sets if s not in known_sets]:
            raise _bad(f"unknown offence sets {bad}", where, "See `peelian offences sets`.")
        tests.append(RecordTest(flags, sets))
    years = _int(raw.get("lookback_years", 0), "lookback_years", where)
    months = _int(raw.get("lookback_months", 0), "lookback_months", where)
    if not years and not months:
        raise _bad("it has no lookback", where, "Set lookback_years or lookback_months.")
    household = raw.get("household")
    if household is not None and int(household.get("min_members", 0)) < 2:
        raise _bad("household.min_members must be at least 2", where, f"Got {household!r}.")
    return CohortRule(
        source=source,
        roles=roles,
        records=tuple(tests),
        lookback_years=years,
        lookback_months=months,
        min_age=_int(raw.get("min_age"), "min_age", where, allow_none=True),
        max_age=_int(raw.get("max_age"), "max_age", where, allow_none=True),
        min_records=max(1, _int(raw.get("min_records", 1), "min_records", where)),
        min_victims=_int(raw.get("min_victims", 0), "min_victims", where),
        household=dict(household) if household else None,
    )


def load_cohorts(path: str | Path | None = None) -> dict[str, Cohort]:
    """The cohorts of ``path`` (a TOML file), or the shipped defaults, by name."""
    raw, origin = _read(path, _DEFAULT_COHORTS, "cohort rules")
    version = str(raw.get("version") or "")
    if not version:
        raise _bad("it has no version", f"Cohort rules {origin}", 'Add version = "1".')
    known_sets = set(offence_sets())
    out: dict[str, Cohort] = {}
    for name, c in (raw.get("cohorts") or {}).items():
        where = f"Cohort {name!r} of {origin}"
        method = c.get("method", "rfgv")
        if method not in ("rfg", "rfgv"):
            raise _bad("method must be rfg or rfgv", where, f"Got {method!r}.")
        kind = c.get("kind", "prioritisation")
        if kind not in ("prioritisation", "early_intervention"):
            raise _bad("kind must be prioritisation or early_intervention", where, f"Got {kind!r}.")
        rules = tuple(_rule(r, where, known_sets) for r in c.get("rules", []))
        if not rules:
            raise _bad("it has no rules", where, "Add at least one [[cohorts.NAME.rules]].")
        out[name] = Cohort(
            name=name,
            label=str(c.get("label") or name),
            kind=kind,
            method=method,
            description=str(c.get("description", "")),
            source=str(c.get("source", "")),
            version=version,
            illustrative=bool(raw.get("illustrative", False)),
            rules=rules,
            deselect_no_offending_months=_int(
                c.get("deselect_no_offending_months", 0), "deselect_no_offending_months", where
            ),
            origin=origin,
        )
    if not out:
        raise _bad("it declares no cohorts", f"Cohort rules {origin}", "Add [cohorts.NAME].")
    return out
