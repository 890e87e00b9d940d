"""The police.uk categories, the Home Office offence codes and the CCHI harm weights."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import pandas as pd

from peelian.offences._errors import (
    OffenceDefinitionError,
    OffenceParameterError,
    UnknownOffenceError,
)
from peelian.offences._files import data_path, read_meta_csv

__all__ = [
    "categories",
    "cchi_weights",
    "code_lookup",
    "home_office_codes",
    "normalise_ho_code",
    "taxonomy_provenance",
]

_CODE_COLUMNS = [
    "code",
    "label",
    "ons_group",
    "ons_subgroup",
    "policeuk_category",
    "valid_from_fy",
    "valid_to_fy",
    "knife_flag_eligible",
    "verified",
    "note",
]
_CODE_RE = re.compile(r"^0*(\d+)(?:[./](\d+))?([A-Z]?)$")


def normalise_ho_code(value: object) -> str | None:
    """A Home Office code as peelian writes it: ``"008N"`` -> ``"8N"``, ``"4/1"`` -> ``"4.1"``.

    Returns ``None`` for blanks and for text that is not shaped like a code.

    >>> normalise_ho_code(" 08n "), normalise_ho_code("4/10"), normalise_ho_code("")
    ('8N', '4.10', None)
    """
    if value is None or (isinstance(value, float) and value != value):
        return None
    text = str(value).strip().upper().replace(" ", "")
    if text.endswith(".0") and text[:-2].isdigit():  # a number read from Excel: 1.0 -> 1
        text = text[:-2]
    m = _CODE_RE.match(text)
    if not m:
        return None
    major, minor, letter = m.groups()
    return f"{int(major)}{'.' + minor if minor else ''}{letter}"


@lru_cache(maxsize=1)
def _codes() -> tuple[pd.DataFrame, dict[str, str]]:
    frame, meta = read_meta_csv(data_path("home_office_codes.csv"))
    frame = frame[_CODE_COLUMNS].copy()
    frame["knife_flag_eligible"] = frame["knife_flag_eligible"].str.lower().eq("true")
    for col in ("valid_from_fy", "valid_to_fy", "note"):
        frame[col] = frame[col].replace("", None)
    return frame, meta


def home_office_codes() -> pd.DataFrame:
    """The Home Office offence codes: one row per code.

    Columns: code, label, ons_group, ons_subgroup, policeuk_category, valid_from_fy, valid_to_fy
    (financial years ``YYYY/YY``; ``None`` = before 2012/13 / still in use), knife_flag_eligible,
    verified (where the row was checked: ``hocr-2021``, ``ons-hierarchy``, ``domain`` or
    ``unverified``), note. Source: Home Office Counting Rules and the ONS offence hierarchy; see
    :func:`taxonomy_provenance`.
    """
    return _codes()[0].copy()


def code_lookup() -> dict[str, dict[str, object]]:
    """``{code: row}`` for fast lookups of a code's label, subgroup and police.uk category."""
    return home_office_codes().set_index("code").to_dict("index")


@lru_cache(maxsize=1)
def _categories() -> tuple[pd.DataFrame, dict[str, str]]:
    frame, meta = read_meta_csv(data_path("categories.csv"))
    frame["is_crime"] = frame["is_crime"].str.lower().eq("true")
    return frame, meta


def categories() -> pd.DataFrame:
    """The 14 police.uk crime categories: slug, name, is_crime, note."""
    return _categories()[0].copy()


def taxonomy_provenance() -> dict[str, dict[str, str]]:
    """The name, version and source of every shipped vocabulary file."""
    return {
        "home_office_codes": dict(_codes()[1]),
        "categories": dict(_categories()[1]),
        "cchi_weights": dict(read_meta_csv(data_path("cchi", "cchi_weights.csv"))[1]),
    }


_CCHI_FILES = {
    "subgroup": "cchi_weights.csv",
    "category": "cchi_weights_by_category.csv",
    "force_category": "cchi_weights_by_force_category.csv",
}


def cchi_weights(level: str = "category", *, path: str | Path | None = None) -> pd.DataFrame:
    """Cambridge Crime Harm Index weights (days of imprisonment-equivalent) as a frame.

    Sherman, Neyroud & Neyroud (2016), "The Cambridge Crime Harm Index: measuring total harm
    from crime based on sentencing guidelines", *Policing* 10(3). The shipped table holds medians
    derived by the public project ``isthisben/cbl-realcrime`` from the CCHI 2026 update:
    indicative, not official. Anti-social behaviour has no weight.

    ``level``: ``"category"`` (columns category, cchi_days), ``"subgroup"`` (category,
    ons_subgroup, cchi_days, national_count_2024_25), ``"force_category"`` (force, category,
    cchi_days) or ``"code"`` (code, ons_subgroup, policeuk_category, cchi_days: each Home Office
    code gets its subgroup's weight). ``path`` replaces the shipped table with your own CSV of
    the same layout. ``frame.attrs["provenance"]`` says where the weights came from.
    """
    if level not in (*_CCHI_FILES, "code"):
        raise OffenceParameterError(
            f"The 'level' parameter of cchi_weights must be one of category, subgroup, "
            f"force_category, code. Got {level!r}."
        )
    source = Path(path) if path else data_path("cchi", _CCHI_FILES.get(level, "cchi_weights.csv"))
    frame, meta = read_meta_csv(source)
    frame = frame.rename(columns={"crime_type": "category", "prc_subgroup": "ons_subgroup"})
    if "cchi_days" not in frame.columns:
        raise OffenceDefinitionError(
            f"The harm weights file {source} has no 'cchi_days' column.",
            "Give a CSV with the columns of the shipped table (see docs/guide/offences.md).",
        )
    frame["cchi_days"] = pd.to_numeric(frame["cchi_days"], errors="coerce")
    if "national_count_2024_25" in frame.columns:
        frame["national_count_2024_25"] = pd.to_numeric(
            frame["national_count_2024_25"], errors="coerce"
        ).astype("Int64")
    if level == "code":
        codes = home_office_codes()[["code", "ons_subgroup", "policeuk_category"]]
        frame = codes.merge(frame[["ons_subgroup", "cchi_days"]], on="ons_subgroup", how="left")
    frame.attrs["provenance"] = {"path": str(source), **meta}
    return frame


def category_name(slug_or_name: str) -> str:
    """The police.uk category name for a slug or a name in any case."""
    cats = categories()
    key = slug_or_name.strip().lower()
    hit = cats[(cats["slug"] == key) | (cats["name"].str.lower() == key)]
    if hit.empty:
        raise UnknownOffenceError(
            f"{slug_or_name!r} is not a police.uk crime category.",
            "Run `peelian offences list` to see the 14 categories.",
        )
    return str(hit["name"].iloc[0])
