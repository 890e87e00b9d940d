"""Named offence sets and serious violence types: definitions as data, evaluated on frames.

A definition is a small expression (see ``data/offence_sets.yaml``)::

    {all: [{set: knife-flag-eligible}, {flag: knife}]}

compiled once (names checked, subgroups expanded to Home Office codes) and evaluated with
:meth:`OffenceSet.mask` on an occurrences frame (one row per crime; columns ``crime_ref``,
``ho_code``, the flag columns, ``policeuk_category``) plus, for age- or sex-based definitions, an
involvements frame (``crime_ref``, ``role`` and ``age`` or ``birth_year``, ``sex``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from peelian.offences._errors import OffenceDefinitionError, UnknownOffenceError
from peelian.offences._files import data_path, read_yaml
from peelian.offences._taxonomy import categories, home_office_codes, normalise_ho_code

__all__ = [
    "BOOLEAN_FLAG_COLUMNS",
    "FLAG_COLUMNS",
    "ROLES",
    "OffenceSet",
    "csp_overrides_available",
    "offence_set",
    "offence_sets",
    "serious_violence_types",
]

#: Flag columns of an occurrence (``hate`` in a definition tests ``hate_strands`` not empty).
FLAG_COLUMNS: tuple[str, ...] = (
    "domestic_abuse",
    "knife",
    "firearm_discharged",
    "alcohol",
    "drugs",
    "hate_strands",
    "cyber",
    "public_space",
    "vawg",
    "gang",
    "county_lines",
)
#: The yes/no flags (every flag column but the list-valued ``hate_strands``).
BOOLEAN_FLAG_COLUMNS: tuple[str, ...] = tuple(c for c in FLAG_COLUMNS if c != "hate_strands")
_FLAGS = set(BOOLEAN_FLAG_COLUMNS) | {"hate"}
#: Roles a person can have in an occurrence.
ROLES: tuple[str, ...] = ("victim", "suspect", "offender", "witness")
_NODE_KEYS = {
    "codes",
    "subgroups",
    "categories",
    "flag",
    "set",
    "person",
    "all",
    "any",
    "not",
    "knife_eligible",
}
_PERSON_KEYS = {"roles", "age_lt", "age_ge", "sex"}


@dataclass(frozen=True)
class OffenceSet:
    """A named, versioned offence definition (an offence set or a serious violence type)."""

    name: str
    label: str
    description: str
    definition: Mapping[str, Any]
    kind: str  # "offence-set" | "serious-violence-type"
    version: str
    source: str
    origin: str  # "peelian default" or the override file that changed it
    _registry: _Registry = field(repr=False, compare=False)

    # -- what it covers -----------------------------------------------------------------------
    @property
    def codes(self) -> frozenset[str] | None:
        """Home Office codes the definition can match (``None`` if it selects by category only)."""
        return self._registry.codes_of(self.definition)

    @property
    def flags(self) -> frozenset[str]:
        """Flags the definition tests."""
        return frozenset(self._registry.walk(self.definition, "flag"))

    def subset(self, name: str) -> OffenceSet:
        """Another set or type as this one's registry (defaults plus its partnership's
        override) defines it: what a ``{set: NAME}`` node of the definition refers to."""
        return self._registry.get(name)

    @property
    def needs_involvements(self) -> bool:
        """True if evaluating it needs the people involved (age, sex, role)."""
        return bool(list(self._registry.walk(self.definition, "person")))

    def describe(self) -> dict[str, Any]:
        """Everything about the definition, JSON-ready (what ``peelian offences show`` prints)."""
        codes = self.codes
        return {
            "name": self.name,
            "label": self.label,
            "kind": self.kind,
            "description": self.description,
            "definition": _plain(self.definition),
            "codes": sorted(codes, key=_code_key) if codes is not None else None,
            "flags": sorted(self.flags),
            "needs_involvements": self.needs_involvements,
            "version": self.version,
            "source": self.source,
            "origin": self.origin,
        }

    # -- evaluation ---------------------------------------------------------------------------
    def mask(
        self,
        occurrences: pd.DataFrame,
        involvements: pd.DataFrame | None = None,
        *,
        cache: dict[str, Any] | None = None,
    ) -> pd.Series:
        """A boolean Series (index of ``occurrences``): which occurrences the definition selects.

        ``involvements`` (one row per person and crime: crime_ref, role, and age or birth_year,
        sex) is needed only when :attr:`needs_involvements`. With ``birth_year`` only, the age
        is the year of ``reported_at`` (or ``committed_from``) minus the birth year, which can
        overstate the age by one year.

        ``cache``: pass the same (initially empty) dict to several ``mask`` calls on the *same*
        frames and the normalised Home Office codes and the sets they share are computed once.
        """
        ctx = _Context(occurrences, involvements, self._registry, cache)
        return ctx.eval(self.definition, trail=(self.name,)).rename(self.name)


def _plain(obj: Any) -> Any:
    if isinstance(obj, Mapping):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_plain(v) for v in obj]
    return obj


def _code_key(code: str) -> tuple[int, str]:
    digits = "".join(ch for ch in code.split(".")[0] if ch.isdigit())
    return (int(digits) if digits else 0, code)


class _Context:
    def __init__(
        self,
        occ: pd.DataFrame,
        inv: pd.DataFrame | None,
        registry: _Registry,
        cache: dict[str, Any] | None = None,
    ) -> None:
        self.occ, self.inv, self.registry = occ, inv, registry
        self.cache: dict[str, Any] = {} if cache is None else cache

    def codes(self) -> pd.Series:
        """The occurrences' Home Office codes, normalised once per distinct value."""
        key = "\0codes"  # cannot clash with a set name
        if key not in self.cache:
            col = self.column("ho_code")
            idx, uniques = pd.factorize(col, use_na_sentinel=True)
            norm = np.array([normalise_ho_code(u) for u in uniques] + [None], dtype=object)
            self.cache[key] = pd.Series(norm[idx], index=self.occ.index)  # -1 -> None
        return self.cache[key]

    def column(self, *names: str) -> pd.Series:
        for name in names:
            if name in self.occ.columns:
                return self.occ[name]
        raise OffenceDefinitionError(
            f"The occurrences frame has no {' or '.join(repr(n) for n in names)} column, which "
            "this offence definition needs.",
            "Load occurrences with peelian.data.force_frames.load_occurrences().",
        )

    def eval(self, node: Mapping[str, Any], trail: tuple[str, ...]) -> pd.Series:
        ((key, arg),) = node.items()
        index = self.occ.index
        if key == "codes":
            return pd.Series(self.codes().isin(arg).to_numpy(), index=index)
        if key == "categories":
            col = self.column("policeuk_category", "category").astype("string").str.lower()
            wanted = {str(c).lower() for c in arg}
            return pd.Series(col.isin(wanted).fillna(False).to_numpy(dtype=bool), index=index)
        if key == "flag":
            if arg == "hate":
                col = self.column("hate_strands").astype("string").str.strip()
                return pd.Series(col.fillna("").ne("").to_numpy(dtype=bool), index=index)
            col = self.column(arg)
            return pd.Series(col.fillna(False).astype(bool).to_numpy(), index=index)
        if key == "set":
            if arg not in self.cache:
                target = self.registry.get(arg)
                self.cache[arg] = self.eval(target.definition, (*trail, arg))
            return self.cache[arg]
        if key == "all":
            out = pd.Series(True, index=index)
            for sub in arg:
                out &= self.eval(sub, trail)
            return out
        if key == "any":
            out = pd.Series(False, index=index)
            for sub in arg:
                out |= self.eval(sub, trail)
            return out
        if key == "not":
            return ~self.eval(arg, trail)
        if key == "person":
            return self.person(arg, trail)
        raise OffenceDefinitionError(
            f"Unknown node {key!r} in the definition of {trail[0]}."
        )  # compiled

    def person(self, cond: Mapping[str, Any], trail: tuple[str, ...]) -> pd.Series:
        inv = self.inv
        if inv is None:
            raise OffenceDefinitionError(
                f"The definition of {trail[0]!r} looks at the people involved (age, sex or role), "
                "so it needs an involvements frame.",
                "Pass involvements=load_involvements(store) to mask().",
            )
        missing = {"crime_ref", "role"} - set(inv.columns)
        if missing:
            raise OffenceDefinitionError(
                f"The involvements frame lacks the column(s) {sorted(missing)}.",
                "Use peelian.data.force_frames.load_involvements().",
            )
        keep = inv["role"].astype("string").str.lower().isin(cond.get("roles", ROLES))
        keep = keep.fillna(False).to_numpy(dtype=bool).copy()
        if "age_lt" in cond or "age_ge" in cond:
            age = self.ages(inv).to_numpy(dtype=float)
            with np.errstate(invalid="ignore"):
                if "age_lt" in cond:
                    keep &= age < float(cond["age_lt"])
                if "age_ge" in cond:
                    keep &= age >= float(cond["age_ge"])
        if "sex" in cond:
            if "sex" not in inv.columns:
                raise OffenceDefinitionError("The involvements frame has no 'sex' column.")
            sexes = {str(s).upper() for s in cond["sex"]}
            keep &= (
                inv["sex"]
                .astype("string")
                .str.upper()
                .isin(sexes)
                .fillna(False)
                .to_numpy(dtype=bool)
            )
        refs = pd.unique(inv.loc[keep, "crime_ref"])
        return pd.Series(self.column("crime_ref").isin(refs).to_numpy(), index=self.occ.index)

    def ages(self, inv: pd.DataFrame) -> pd.Series:
        if "age" in inv.columns:
            return pd.to_numeric(inv["age"], errors="coerce")
        if "birth_year" not in inv.columns:
            raise OffenceDefinitionError(
                "An age-based definition needs an 'age' or 'birth_year' column in involvements."
            )
        when = self.column("reported_at", "committed_from")
        years = pd.Series(
            pd.to_datetime(when, errors="coerce").dt.year.to_numpy(),
            index=self.column("crime_ref").to_numpy(),
        )
        years = years[~years.index.duplicated()]
        occ_year = inv["crime_ref"].map(years)
        return occ_year - pd.to_numeric(inv["birth_year"], errors="coerce")


class _Registry:
    """All definitions in force for one partnership (defaults + its override)."""

    def __init__(self) -> None:
        self.sets: dict[str, OffenceSet] = {}
        self.types: dict[str, OffenceSet] = {}
        codes = home_office_codes()
        self.known_codes = set(codes["code"])
        self.subgroup_codes = codes.groupby("ons_subgroup")["code"].apply(frozenset).to_dict()
        self.knife_codes = frozenset(codes.loc[codes["knife_flag_eligible"], "code"])
        cats = categories()
        self.known_categories = {c.lower() for c in cats["name"]} | set(cats["slug"])

    def get(self, name: str) -> OffenceSet:
        found = self.sets.get(name) or self.types.get(name)
        if found is None:
            raise UnknownOffenceError(
                f"There is no offence set or serious violence type called {name!r}.",
                "Run `peelian offences list` to see the names.",
            )
        return found

    # -- compiling ----------------------------------------------------------------------------
    def compile(self, node: Any, where: str) -> dict[str, Any]:
        """Check a node and expand subgroups / knife eligibility to code lists."""
        if not isinstance(node, Mapping) or len(node) != 1:
            raise OffenceDefinitionError(
                f"{where}: each part of a definition must be a mapping with exactly one key "
                f"(one of {', '.join(sorted(_NODE_KEYS))}). Got {node!r}.",
                "See docs/guide/offences.md for the definition language.",
            )
        ((key, arg),) = node.items()
        if key not in _NODE_KEYS:
            raise OffenceDefinitionError(
                f"{where}: unknown key {key!r} in a definition.",
                f"Use one of {', '.join(sorted(_NODE_KEYS))}.",
            )
        if key in ("all", "any"):
            if not isinstance(arg, list) or not arg:
                raise OffenceDefinitionError(f"{where}: {key!r} needs a non-empty list.")
            return {key: [self.compile(sub, where) for sub in arg]}
        if key == "not":
            return {"not": self.compile(arg, where)}
        if key == "set":
            return {"set": str(arg)}
        if key == "flag":
            if arg not in _FLAGS:
                raise OffenceDefinitionError(
                    f"{where}: unknown flag {arg!r}.", f"Flags: {', '.join(sorted(_FLAGS))}."
                )
            return {"flag": arg}
        if key == "codes":
            codes = [normalise_ho_code(c) for c in _as_list(arg)]
            unknown = [
                c for c, n in zip(_as_list(arg), codes, strict=True) if n not in self.known_codes
            ]
            if unknown:
                raise OffenceDefinitionError(
                    f"{where}: unknown Home Office code(s) {unknown}.",
                    "See `peelian offences codes` or home_office_codes() for the known codes.",
                )
            return {"codes": sorted(set(codes), key=_code_key)}  # type: ignore[arg-type]
        if key == "subgroups":
            out: set[str] = set()
            for sg in _as_list(arg):
                if sg not in self.subgroup_codes:
                    raise OffenceDefinitionError(
                        f"{where}: unknown ONS subgroup {sg!r}.",
                        f"Subgroups: {', '.join(sorted(self.subgroup_codes))}.",
                    )
                out |= self.subgroup_codes[sg]
            return {"codes": sorted(out, key=_code_key)}
        if key == "knife_eligible":
            return {"codes": sorted(self.knife_codes, key=_code_key)}
        if key == "categories":
            bad = [c for c in _as_list(arg) if str(c).lower() not in self.known_categories]
            if bad:
                raise OffenceDefinitionError(f"{where}: unknown police.uk categor(ies) {bad}.")
            return {"categories": list(_as_list(arg))}
        # person
        if not isinstance(arg, Mapping) or not set(arg) <= _PERSON_KEYS:
            raise OffenceDefinitionError(
                f"{where}: 'person' takes a mapping with keys {sorted(_PERSON_KEYS)}. Got {arg!r}."
            )
        roles = [str(r).lower() for r in _as_list(arg.get("roles", list(ROLES)))]
        if not set(roles) <= set(ROLES):
            raise OffenceDefinitionError(
                f"{where}: roles must be among {list(ROLES)}. Got {roles}."
            )
        return {"person": {**dict(arg), "roles": roles}}

    def check_references(self) -> None:
        """Every ``set:`` names a definition, and no definition refers to itself."""
        state: dict[str, int] = {}

        def visit(name: str, trail: tuple[str, ...]) -> None:
            if state.get(name) == 2:
                return
            if state.get(name) == 1:
                raise OffenceDefinitionError(
                    f"The offence definitions refer to each other in a circle: "
                    f"{' -> '.join((*trail, name))}."
                )
            state[name] = 1
            for ref in self.walk(self.get(name).definition, "set"):
                if ref not in self.sets and ref not in self.types:
                    raise OffenceDefinitionError(
                        f"The definition of {name!r} refers to {ref!r}, which does not exist."
                    )
                visit(ref, (*trail, name))
            state[name] = 2

        for name in [*self.sets, *self.types]:
            visit(name, ())

    # -- inspection ---------------------------------------------------------------------------
    def walk(self, node: Mapping[str, Any], key: str) -> list[Any]:
        ((k, arg),) = node.items()
        found = [arg] if k == key else []
        if k in ("all", "any"):
            for sub in arg:
                found += self.walk(sub, key)
        elif k == "not":
            found += self.walk(arg, key)
        elif k == "set" and key != "set":
            found += self.walk(self.get(arg).definition, key)
        return found

    def codes_of(self, node: Mapping[str, Any]) -> frozenset[str] | None:
        ((k, arg),) = node.items()
        if k == "codes":
            return frozenset(arg)
        if k == "set":
            return self.codes_of(self.get(arg).definition)
        if k in ("flag", "person", "not"):
            return frozenset(self.known_codes)  # no restriction by itself
        if k == "categories":
            return None
        parts = [self.codes_of(sub) for sub in arg]
        if k == "any":
            return None if any(p is None for p in parts) else frozenset().union(*parts)
        known = [p for p in parts if p is not None]
        return frozenset.intersection(*known) if known else None


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else [value]


def _add(
    registry: _Registry,
    target: dict[str, OffenceSet],
    entries: Mapping[str, Any],
    *,
    kind: str,
    doc: Mapping[str, Any],
    origin: str,
    partial: bool,
) -> None:
    if not isinstance(entries, Mapping):
        raise OffenceDefinitionError(
            f"{origin}: the sets/types section must be a mapping of name -> entry."
        )
    for name, entry in entries.items():
        where = f"{origin}: {name}"
        if not isinstance(entry, Mapping):
            raise OffenceDefinitionError(
                f"{where}: an entry must be a mapping (label, description, ...)."
            )
        if entry.get("disabled"):
            target.pop(name, None)
            continue
        base = target.get(name) if partial else None
        if "definition" not in entry and base is None:
            raise OffenceDefinitionError(f"{where}: a new definition needs a 'definition'.")
        definition = (
            registry.compile(entry["definition"], where)
            if "definition" in entry
            else base.definition  # type: ignore[union-attr]
        )
        target[name] = OffenceSet(
            name=name,
            label=str(entry.get("label", base.label if base else name)),
            description=" ".join(
                str(entry.get("description", base.description if base else "")).split()
            ),
            definition=definition,
            kind=kind,
            version=str(doc.get("version", "")),
            source=" ".join(str(doc.get("source", "")).split()),
            origin=origin,
            _registry=registry,
        )


def csp_overrides_available() -> list[str]:
    """CSP codes with an override file shipped in ``offences/data/overrides/``."""
    return sorted(p.stem for p in data_path("overrides").glob("*.yaml"))


def _registry_for(csp: str | None, overrides: str | Path | None) -> _Registry:
    """The definitions in force for ``csp`` (or with the ``overrides`` file), built once per
    version of the files (a measures run asks for some thirty sets)."""
    path: Path | None = Path(overrides) if overrides else None
    if path is None and csp:
        candidate = data_path("overrides", f"{csp}.yaml")
        path = candidate if candidate.exists() else None
    if path is not None and not path.exists():
        raise UnknownOffenceError(
            f"The override file {path} does not exist.", "Check the path you gave."
        )
    files = [data_path("offence_sets.yaml"), data_path("serious_violence.yaml")]
    stamp = tuple(f.stat().st_mtime_ns for f in [*files, *([path] if path else [])])
    return _build_registry(csp, str(path.resolve()) if path else None, stamp)


@lru_cache(maxsize=32)
def _build_registry(csp: str | None, override: str | None, _stamp: tuple[int, ...]) -> _Registry:
    registry = _Registry()
    sets_doc = read_yaml(data_path("offence_sets.yaml"))
    types_doc = read_yaml(data_path("serious_violence.yaml"))
    _add(
        registry,
        registry.sets,
        sets_doc.get("sets", {}),
        kind="offence-set",
        doc=sets_doc,
        origin="peelian default",
        partial=False,
    )
    _add(
        registry,
        registry.types,
        types_doc.get("types", {}),
        kind="serious-violence-type",
        doc=types_doc,
        origin="peelian default",
        partial=False,
    )
    path = Path(override) if override else None
    if path is not None:
        doc = read_yaml(path)
        file_csp = doc.get("csp")
        if csp and file_csp and str(file_csp) != csp:
            raise OffenceDefinitionError(
                f"The override file {path} is for partnership {file_csp}, not {csp}.",
                "Pass the file that belongs to this partnership.",
            )
        origin = f"override {path.name} ({file_csp or csp or 'no partnership named'})"
        _add(
            registry,
            registry.sets,
            doc.get("sets") or {},
            kind="offence-set",
            doc=doc,
            origin=origin,
            partial=True,
        )
        _add(
            registry,
            registry.types,
            doc.get("types") or {},
            kind="serious-violence-type",
            doc=doc,
            origin=origin,
            partial=True,
        )
    registry.check_references()
    return registry


def offence_sets(
    *, csp: str | None = None, overrides: str | Path | None = None
) -> dict[str, OffenceSet]:
    """The named offence sets (homicide, neighbourhood-crime, serious-violence, ...)."""
    return dict(_registry_for(csp, overrides).sets)


def serious_violence_types(
    csp: str | None = None, *, overrides: str | Path | None = None
) -> dict[str, OffenceSet]:
    """The twelve serious violence types, as defined for ``csp`` (its override applied).

    ``csp`` is the partnership's GSS code; its file ``offences/data/overrides/<csp>.yaml`` is
    used if it exists, else peelian's defaults. ``overrides`` is a path to your own file (it wins).
    Each result's ``origin`` says which applied.
    """
    return dict(_registry_for(csp, overrides).types)


def offence_set(
    name: str, *, csp: str | None = None, overrides: str | Path | None = None
) -> OffenceSet:
    """One offence set or serious violence type by name."""
    return _registry_for(csp, overrides).get(name)
