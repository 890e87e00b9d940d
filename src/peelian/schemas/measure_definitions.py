"""Measure definitions as versioned data (``schemas/data/measures.yaml``) and their loader.

A measure says *what* to count (a police.uk category list, a force-records offence set or
serious violence type with flags, an external monthly series, or a survey item), *where* (area
levels), *against what* (a baseline window, default the 12 months to June 2019 as in the
National Crime and Policing Measures) and *which direction is good*. The engine
(:mod:`peelian.analysis.measures`) turns a catalogue into numbers; this module only reads and
checks the file (vocabulary layer: no I/O beyond reading the YAML).

    cat = load_measure_definitions()                # the shipped catalogue
    cat = load_measure_definitions(baseline_end="2020-03")   # a global baseline override
    cat.get("homicide").filter                      # {'offence_set': 'homicide'}
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from peelian.schemas.months import MONTH_PATTERN

__all__ = [
    "AREA_LEVELS",
    "MeasureDefinitionError",
    "UnknownMeasureError",
    "SOURCES",
    "UNITS",
    "MeasureCatalogue",
    "MeasureDefinition",
    "load_measure_definitions",
]

SOURCES = ("policeuk", "force", "external", "survey")
UNITS = ("count", "rate_per_1000", "cchi_harm", "percent")
AREA_LEVELS = ("force", "csp", "ward", "lsoa")
_FILTER_KEYS = {
    "policeuk": {"categories"},
    "force": {"offence_set", "flags"},
    "external": {"series"},
    "survey": {"item", "domestic_abuse", "crime_types"},
}
_MONTH = re.compile(MONTH_PATTERN)  # the vocabulary's one month rule
_NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")


class MeasureError(Exception):
    """Base class (``message`` what and why, ``hint`` how to fix). ``peelian.schemas`` may not
    import ``peelian.errors`` (independent vocabulary layers), so
    :func:`peelian.analysis.measures.load_definitions` maps these to ``SchemaError`` (exit 3) and
    ``NotFoundError`` (exit 6)."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        self.message = message
        self.hint = hint
        super().__init__(message if not hint else f"{message} {hint}")


class MeasureDefinitionError(MeasureError, ValueError):
    """A measure-definitions file cannot be used."""


class UnknownMeasureError(MeasureError, LookupError):
    """A named measure, or the definitions file, does not exist."""


@dataclass(frozen=True)
class MeasureDefinition:
    """One measure. ``baseline_end`` is a ``YYYY-MM`` month (the last month of the window)."""

    name: str
    label: str
    noun: tuple[str, str]
    group: str
    source: str
    filter: Mapping[str, Any]
    unit: str = "count"
    area_levels: tuple[str, ...] = AREA_LEVELS
    baseline_end: str = "2019-06"
    baseline_months: int = 12
    direction_good: str = "down"
    spc: str = "c"
    ncpm: int | None = None
    description: str = ""
    notes: str = ""

    @property
    def singular(self) -> str:
        return self.noun[0]

    @property
    def plural(self) -> str:
        return self.noun[1]

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "label": self.label,
            "noun": list(self.noun),
            "group": self.group,
            "ncpm": self.ncpm,
            "source": self.source,
            "filter": dict(self.filter),
            "unit": self.unit,
            "area_levels": list(self.area_levels),
            "baseline_end": self.baseline_end,
            "baseline_months": self.baseline_months,
            "direction_good": self.direction_good,
            "spc": self.spc,
            "description": self.description,
            "notes": self.notes,
        }


@dataclass(frozen=True)
class MeasureCatalogue:
    """A versioned set of measure definitions (what one YAML file holds)."""

    version: str
    source: str
    path: str
    definitions: tuple[MeasureDefinition, ...] = field(default_factory=tuple)

    def __iter__(self) -> Any:
        return iter(self.definitions)

    def __len__(self) -> int:
        return len(self.definitions)

    def names(self) -> list[str]:
        return [d.name for d in self.definitions]

    def get(self, name: str) -> MeasureDefinition:
        for d in self.definitions:
            if d.name == name:
                return d
        close = [n for n in self.names() if name.lower() in n][:5]
        raise UnknownMeasureError(
            f"There is no measure named {name!r} in measure definitions {self.version}.",
            f"Did you mean {', '.join(close)}?"
            if close
            else "List them with `peelian measures list`.",
        )

    def select(self, names: Iterable[str] | None) -> MeasureCatalogue:
        """The catalogue restricted to ``names`` (in that order); all when ``None``."""
        if names is None:
            return self
        return replace(self, definitions=tuple(self.get(n) for n in names))


def _fail(where: str, what: str) -> MeasureDefinitionError:
    return MeasureDefinitionError(
        f"Measure definitions {where}: {what}",
        "Fix the YAML file (see docs/guide/measures.md for the fields).",
    )


def _parse_one(
    raw: Mapping[str, Any], defaults: Mapping[str, Any], where: str
) -> MeasureDefinition:
    if not isinstance(raw, Mapping):
        raise _fail(where, "each measure must be a mapping.")
    data = {**defaults, **raw}
    name = data.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise _fail(where, f"'name' must be a lower-case slug. Got {name!r}.")
    where = f"{where} ({name})"
    for key in ("label", "source", "filter", "group"):
        if key not in data:
            raise _fail(where, f"the '{key}' field is missing.")
    source = data["source"]
    if source not in SOURCES:
        raise _fail(where, f"'source' must be one of {', '.join(SOURCES)}. Got {source!r}.")
    flt = data["filter"]
    if not isinstance(flt, Mapping) or not flt:
        raise _fail(where, "'filter' must be a non-empty mapping.")
    unknown = set(flt) - _FILTER_KEYS[source]
    if unknown:
        raise _fail(
            where,
            f"filter keys {sorted(unknown)} do not apply to source {source!r} "
            f"(allowed: {sorted(_FILTER_KEYS[source])}).",
        )
    if source == "policeuk" and not (isinstance(flt.get("categories"), list) and flt["categories"]):
        raise _fail(where, "a police.uk measure needs 'categories': a non-empty list.")
    if source == "force" and not (flt.get("offence_set") or flt.get("flags")):
        raise _fail(where, "a force-records measure needs 'offence_set' and/or 'flags'.")
    unit = data.get("unit", "count")
    if unit not in UNITS:
        raise _fail(where, f"'unit' must be one of {', '.join(UNITS)}. Got {unit!r}.")
    levels = tuple(data.get("area_levels") or AREA_LEVELS)
    bad = [lv for lv in levels if lv not in AREA_LEVELS]
    if bad:
        raise _fail(where, f"unknown area levels {bad} (use {', '.join(AREA_LEVELS)}).")
    baseline = data.get("baseline") or {}
    b_end = str(baseline.get("end", "2019-06"))
    b_months = baseline.get("months", 12)
    if not _MONTH.match(b_end):
        raise _fail(where, f"baseline 'end' must be a YYYY-MM month. Got {b_end!r}.")
    if not isinstance(b_months, int) or not 1 <= b_months <= 60:
        raise _fail(where, f"baseline 'months' must be a whole number 1-60. Got {b_months!r}.")
    direction = data.get("direction_good", "down")
    if direction not in ("down", "up"):
        raise _fail(where, f"'direction_good' must be 'down' or 'up'. Got {direction!r}.")
    spc = data.get("spc", "c")
    if spc not in ("c", "u", "xmr"):
        raise _fail(where, f"'spc' must be c, u or xmr. Got {spc!r}.")
    noun = data.get("noun") or [data["label"].lower(), data["label"].lower()]
    if isinstance(noun, str):
        noun = [noun, noun]
    if len(noun) != 2:
        raise _fail(where, "'noun' must be [singular, plural].")
    return MeasureDefinition(
        name=name,
        label=str(data["label"]),
        noun=(str(noun[0]), str(noun[1])),
        group=str(data["group"]),
        source=source,
        filter=dict(flt),
        unit=unit,
        area_levels=levels,
        baseline_end=b_end,
        baseline_months=int(b_months),
        direction_good=direction,
        spc=spc,
        ncpm=data.get("ncpm"),
        description=str(data.get("description", "")).strip(),
        notes=str(data.get("notes", "")).strip(),
    )


def load_measure_definitions(
    path: str | Path | None = None,
    *,
    baseline_end: str | None = None,
    baseline_months: int | None = None,
) -> MeasureCatalogue:
    """Read and check a measure-definitions YAML file (default: the shipped catalogue).

    ``baseline_end`` / ``baseline_months`` override the file's default baseline for every
    measure that does not set its own (a per-measure ``baseline`` always wins).
    """
    if path is None:
        ref = resources.files("peelian.schemas") / "data" / "measures.yaml"
        text, where = ref.read_text(encoding="utf-8"), "measures.yaml"
    else:
        p = Path(path)
        if not p.is_file():
            raise UnknownMeasureError(
                f"Measure definitions file {p} does not exist.", "Check the path."
            )
        text, where = p.read_text(encoding="utf-8"), str(p)
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise _fail(where, f"the file is not valid YAML ({exc}).") from exc
    if not isinstance(doc, Mapping) or not isinstance(doc.get("measures"), list):
        raise _fail(where, "the file must have 'version' and a 'measures' list.")
    defaults = dict(doc.get("defaults") or {})
    base = dict(defaults.get("baseline") or {})
    if baseline_end is not None:
        base["end"] = baseline_end
    if baseline_months is not None:
        base["months"] = baseline_months
    defaults["baseline"] = base
    defs = tuple(
        _parse_one(raw, defaults, f"{where} item {i + 1}") for i, raw in enumerate(doc["measures"])
    )
    names = [d.name for d in defs]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise _fail(where, f"duplicate measure names {dupes}.")
    return MeasureCatalogue(
        version=str(doc.get("version", "unversioned")),
        source=str(doc.get("source", "")).strip(),
        path=where,
        definitions=defs,
    )
