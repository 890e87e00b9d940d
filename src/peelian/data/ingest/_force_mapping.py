"""Declarative mappings: how a force's export files become peelian's force tables.

A mapping is a YAML file (see ``peelian/data/mappings/template_rms.yaml`` for every option)::

    name: my-rms
    version: "1"
    force: northumbria
    synthetic: false            # true | false | auto (auto: a SYNTHETIC_DATA_README.txt beside)
    lsoa_vintage: 2011
    tables:
      occurrences:
        files: ["crimes*.csv"]  # glob(s) on the file name, case-insensitive
        sheet: Crimes           # Excel only (default: the first sheet)
        replace: whole_file     # or by_key
        columns:
          crime_ref: CrimeRef                       # a column, as is
          reported_at: {column: Reported, date_format: "%d/%m/%Y %H:%M", required: true}
          ho_code: {column: Offence, lookup: local_codes.csv}
          domestic_abuse: {column: DA, flag: yn}
          knife: {column: Markers, contains: KNIFE, separator: ","}

Parsing checks the mapping against :data:`TARGETS` so a typo is reported before any file is read.
"""

from __future__ import annotations

import csv
import fnmatch
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from peelian.data.ingest._force_targets import TARGETS, Target
from peelian.errors import NotFoundError, SchemaError

__all__ = ["ColumnSpec", "Mapping", "TableSpec", "load_mapping", "shipped_mappings"]

_SPEC_KEYS = {
    "column",
    "columns",
    "constant",
    "required",
    "values",
    "default",
    "date_format",
    "flag",
    "true_values",
    "false_values",
    "contains",
    "separator",
    "lookup",
}


class _Loader(yaml.SafeLoader):
    """YAML 1.2 booleans: only true/false. RMS codes such as OFF, ON, YES, NO, Y, N stay text."""


_Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:bool"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)

_FLAG_SHORTHANDS = {
    "yn": (("Y", "YES"), ("N", "NO")),
    "10": (("1",), ("0",)),
    "truefalse": (("TRUE", "T"), ("FALSE", "F")),
}


@dataclass(frozen=True)
class ColumnSpec:
    """How one target field is filled."""

    target: str
    kind: str  # the target field type
    columns: tuple[str, ...] = ()
    constant: Any = None
    required: bool = False
    values: dict[str, Any] | None = None  # upper-cased source -> target value
    default: Any = None
    date_formats: tuple[str, ...] = ()
    true_values: frozenset[str] = frozenset()
    false_values: frozenset[str] = frozenset()
    contains: frozenset[str] = frozenset()
    separator: str = ";"
    lookup: str | None = None  # "home_office_code" or a CSV path turned into ``values``


@dataclass(frozen=True)
class TableSpec:
    target: Target
    patterns: tuple[str, ...]
    sheet: str | None
    replace: str
    specs: tuple[ColumnSpec, ...]
    skip_rows: int = 0

    def matches(self, name: str) -> bool:
        low = name.lower()
        return any(fnmatch.fnmatch(low, p.lower()) for p in self.patterns)

    @property
    def source_columns(self) -> set[str]:
        return {c for s in self.specs for c in s.columns}


@dataclass(frozen=True)
class Mapping:
    name: str
    version: str
    force: str
    synthetic: str  # "true" | "false" | "auto"
    lsoa_vintage: int | None
    tables: dict[str, TableSpec]
    path: Path
    description: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "path": str(self.path),
            "force": self.force,
            "synthetic": self.synthetic,
            "tables": {t: list(s.patterns) for t, s in self.tables.items()},
        }


def shipped_mappings() -> dict[str, Path]:
    """The mappings shipped with peelian: ``{name: path}`` (synthetic_rms, template_rms)."""
    folder = Path(str(resources.files("peelian.data") / "mappings"))
    return {p.stem: p for p in sorted(folder.glob("*.yaml"))}


def _fail(path: Path, where: str, what: str, hint: str | None = None) -> SchemaError:
    return SchemaError(
        f"The mapping {path.name} is not usable: {where}: {what}",
        hint or "See the comments in peelian/data/mappings/template_rms.yaml for every option.",
    )


def _as_tuple(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, list | tuple):
        return tuple(str(v) for v in value)
    return (str(value),)


def _read_lookup(path: Path, base: Path, where: str) -> dict[str, str]:
    file = (base / path).resolve() if not path.is_absolute() else path
    try:
        with file.open(encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.reader(fh))
    except OSError as exc:
        raise _fail(
            base / path, where, f"cannot read the lookup file {file}: {exc.strerror}."
        ) from exc
    if not rows or len(rows[0]) < 2:
        raise _fail(file, where, "a lookup file needs two columns: source value, target value.")
    return {r[0].strip().upper(): r[1].strip() for r in rows[1:] if len(r) >= 2 and r[0].strip()}


def _column_spec(target: Target, name: str, raw: Any, path: Path, where: str) -> ColumnSpec:
    kind = target.fields[name]
    if isinstance(raw, str):
        raw = {"column": raw}
    if not isinstance(raw, dict):
        raise _fail(path, where, f"expected a column name or a mapping, got {raw!r}.")
    unknown = set(raw) - _SPEC_KEYS
    if unknown:
        raise _fail(
            path,
            where,
            f"unknown option(s) {sorted(unknown)}.",
            f"Options: {', '.join(sorted(_SPEC_KEYS))}.",
        )
    columns = _as_tuple(raw.get("columns", raw.get("column")))
    if not columns and "constant" not in raw:
        raise _fail(path, where, "give 'column', 'columns' or 'constant'.")
    values = None
    if raw.get("values") is not None:
        if not isinstance(raw["values"], dict):
            raise _fail(path, where, "'values' must map source values to target values.")
        values = {str(k).strip().upper(): v for k, v in raw["values"].items()}
    lookup = raw.get("lookup")
    if lookup is not None and lookup != "home_office_code":
        values = {**(values or {}), **_read_lookup(Path(str(lookup)), path.parent, where)}
        lookup = "file"
    true_values: frozenset[str] = frozenset()
    false_values: frozenset[str] = frozenset()
    if "flag" in raw:
        shorthand = str(raw["flag"]).lower()
        if shorthand not in _FLAG_SHORTHANDS:
            raise _fail(path, where, f"flag must be one of {sorted(_FLAG_SHORTHANDS)}.")
        t, f = _FLAG_SHORTHANDS[shorthand]
        true_values, false_values = frozenset(t), frozenset(f)
    true_values |= {str(v).upper() for v in _as_tuple(raw.get("true_values"))}
    false_values |= {str(v).upper() for v in _as_tuple(raw.get("false_values"))}
    contains = frozenset(v.upper() for v in _as_tuple(raw.get("contains")))
    if (true_values or contains) and kind != "bool":
        raise _fail(path, where, f"flag options apply to yes/no fields; {name} is {kind}.")
    date_formats = _as_tuple(raw.get("date_format"))
    if date_formats and kind not in ("date", "datetime"):
        raise _fail(path, where, f"date_format applies to dates; {name} is {kind}.")
    return ColumnSpec(
        target=name,
        kind=kind,
        columns=columns,
        constant=raw.get("constant"),
        required=bool(raw.get("required", False)) or name in target.required,
        values=values,
        default=raw.get("default"),
        date_formats=date_formats,
        true_values=true_values,
        false_values=false_values,
        contains=contains,
        separator=str(raw.get("separator", ";")),
        lookup="home_office_code" if kind == "code" else lookup,
    )


def load_mapping(path_or_name: str | Path) -> Mapping:
    """Read and check a mapping file (or a shipped mapping by name: ``synthetic_rms``)."""
    shipped = shipped_mappings()
    path = Path(path_or_name)
    if not path.exists() and str(path_or_name) in shipped:
        path = shipped[str(path_or_name)]
    if not path.exists():
        raise NotFoundError(
            f"The mapping file {path} does not exist.",
            f"Give a path, or one of the shipped mappings: {', '.join(shipped)}.",
        )
    try:
        doc = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)
    except (OSError, UnicodeDecodeError) as exc:
        raise SchemaError(f"Cannot read the mapping {path}: {exc}.", "Check the file.") from exc
    except yaml.YAMLError as exc:
        raise SchemaError(
            f"The mapping {path.name} is not valid YAML: {exc}.",
            "Fix the indentation or quoting at the line shown.",
        ) from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("tables"), dict):
        raise _fail(path, "top level", "a mapping needs a 'tables' section.")
    if not doc.get("force"):
        raise _fail(path, "top level", "name the force ('force: northumbria').")
    synthetic = str(doc.get("synthetic", "auto")).lower()
    if synthetic not in ("true", "false", "auto"):
        raise _fail(path, "synthetic", "must be true, false or auto.")
    tables: dict[str, TableSpec] = {}
    for table, spec in doc["tables"].items():
        if table not in TARGETS:
            raise _fail(
                path, f"tables.{table}", "not a force table.", f"Tables: {', '.join(TARGETS)}."
            )
        target = TARGETS[table]
        if not isinstance(spec, dict) or not isinstance(spec.get("columns"), dict):
            raise _fail(path, f"tables.{table}", "needs 'files' and a 'columns' mapping.")
        patterns = _as_tuple(spec.get("files", spec.get("file")))
        if not patterns:
            raise _fail(path, f"tables.{table}", "name the file(s) with 'files'.")
        replace = str(spec.get("replace", "whole_file"))
        if replace not in ("whole_file", "by_key"):
            raise _fail(path, f"tables.{table}.replace", "must be whole_file or by_key.")
        specs = []
        for name, raw in spec["columns"].items():
            if name not in target.fields:
                raise _fail(
                    path,
                    f"tables.{table}.columns.{name}",
                    "not a field of this table.",
                    f"Fields: {', '.join(target.fields)}.",
                )
            specs.append(_column_spec(target, name, raw, path, f"tables.{table}.columns.{name}"))
        missing = [r for r in target.required if r not in {s.target for s in specs}]
        if missing:
            raise _fail(path, f"tables.{table}", f"required field(s) {missing} are not mapped.")
        tables[table] = TableSpec(
            target=target,
            patterns=patterns,
            sheet=spec.get("sheet"),
            replace=replace,
            specs=tuple(specs),
            skip_rows=int(spec.get("skip_rows", 0)),
        )
    vintage = doc.get("lsoa_vintage")
    return Mapping(
        name=str(doc.get("name", path.stem)),
        version=str(doc.get("version", "")),
        force=str(doc["force"]),
        synthetic=synthetic,
        lsoa_vintage=int(vintage) if vintage else None,
        tables=tables,
        path=path,
        description=" ".join(str(doc.get("description", "")).split()),
    )
