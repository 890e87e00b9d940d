"""Vocabulary helpers every layer shares: crime-type slugs, category resolution, harm weights.

They were built three times (the hotspot and forecast jobs, the measures job, the dashboard's
event counts); each surface now asks here, so a crime type means the same categories and a
category or Home Office code the same harm everywhere.

>>> crime_slug("Violence and sexual offences")
'violence-and-sexual-offences'
>>> resolve_categories("burglary")
['Burglary']
>>> round(harm_weights("policeuk")["Burglary"], 1) > 0
True
"""

from __future__ import annotations

import functools
import re

import pandas as pd

from peelian.offences._errors import OffenceParameterError, UnknownOffenceError
from peelian.offences._taxonomy import categories, cchi_weights

__all__ = ["HARM_SOURCES", "crime_slug", "harm_weights", "resolve_categories"]

#: Sources :func:`harm_weights` keys weights for: police.uk events (by category) and force
#: records (by Home Office code).
HARM_SOURCES: tuple[str, ...] = ("policeuk", "force")


def crime_slug(crime_type: str) -> str:
    """``"Violence and sexual offences"`` -> ``"violence-and-sexual-offences"`` (``"all"`` for
    an empty name)."""
    return re.sub(r"[^a-z0-9]+", "-", crime_type.lower()).strip("-") or "all"


def resolve_categories(crime_type: str | None) -> list[str] | None:
    """The police.uk categories a crime type names (a category, its slug, or ``all``, which
    gives ``None``: every category). An unknown name is an :class:`UnknownOffenceError` (a
    :class:`~peelian.errors.NotFoundError`)."""
    if crime_type is None or crime_slug(crime_type) == "all":
        return None
    for cat in categories()["name"]:
        if crime_slug(str(cat)) == crime_slug(crime_type):
            return [str(cat)]
    raise UnknownOffenceError(
        f"Unknown crime type {crime_type!r}.",
        "Use a police.uk category (see `peelian offences categories`), its slug, or 'all'.",
    )


def harm_weights(source: str = "policeuk") -> dict[str, float]:
    """The one harm-weight lookup: Cambridge Crime Harm Index days (Sherman, Neyroud & Neyroud
    2016, *Policing* 10(3); the shipped medians of :func:`cchi_weights`) keyed as ``source``'s
    records name their offence.

    ``"policeuk"``: per police.uk category (anti-social behaviour has none). ``"force"``: per
    Home Office code, each code its ONS subgroup's weight, and a code whose subgroup has no
    weight its police.uk category's. Returns a new dict (callers may change it).
    """
    if source not in HARM_SOURCES:
        raise OffenceParameterError(
            f"The 'source' parameter of harm_weights must be one of {', '.join(HARM_SOURCES)}. "
            f"Got {source!r}."
        )
    return dict(_weights(source))


@functools.cache
def _weights(source: str) -> tuple[tuple[str, float], ...]:
    frame = cchi_weights("category")
    by_cat = {
        str(k): float(v)
        for k, v in zip(frame["category"], frame["cchi_days"], strict=True)
        if pd.notna(v)
    }
    if source == "policeuk":
        return tuple(by_cat.items())
    codes = cchi_weights("code")
    out: list[tuple[str, float]] = []
    for code, cat, days in zip(
        codes["code"], codes["policeuk_category"], codes["cchi_days"], strict=True
    ):
        value = float(days) if pd.notna(days) else by_cat.get(str(cat), float("nan"))
        if pd.notna(value):
            out.append((str(code), value))
    return tuple(out)
