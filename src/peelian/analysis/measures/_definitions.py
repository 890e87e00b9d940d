"""Loading measure definitions with peelian's error classes, and checking their names against
the offence vocabulary (which ``peelian.schemas`` cannot import)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from peelian.errors import NotFoundError, SchemaError
from peelian.schemas.measure_definitions import (
    MeasureCatalogue,
    MeasureDefinitionError,
    UnknownMeasureError,
    load_measure_definitions,
)

__all__ = ["load_definitions"]


def load_definitions(
    path: str | Path | None = None,
    *,
    names: Iterable[str] | None = None,
    baseline_end: str | None = None,
    baseline_months: int | None = None,
) -> MeasureCatalogue:
    """The measure catalogue (default: shipped), optionally restricted to ``names``, with every
    police.uk category and offence set checked against :mod:`peelian.offences`.

    Raises :class:`~peelian.errors.SchemaError` or :class:`~peelian.errors.NotFoundError`.
    """
    from peelian.offences import OffenceError, categories, offence_set

    try:
        cat = load_measure_definitions(
            path, baseline_end=baseline_end, baseline_months=baseline_months
        )
        cat = cat.select(list(names) if names is not None else None)
    except MeasureDefinitionError as exc:
        raise SchemaError(exc.message, exc.hint) from exc
    except UnknownMeasureError as exc:
        raise NotFoundError(exc.message, exc.hint) from exc
    known = {str(x).lower() for x in categories()["name"]} | {
        str(x).lower() for x in categories()["slug"]
    }
    for d in cat:
        if d.source == "policeuk":
            bad = [c for c in d.filter["categories"] if str(c).lower() not in known]
            if bad:
                raise SchemaError(
                    f"Measure {d.name!r} names unknown police.uk categories {bad}.",
                    "Use the names printed by `peelian offences categories`.",
                )
        if d.source == "force" and d.filter.get("offence_set"):
            try:
                offence_set(d.filter["offence_set"])
            except OffenceError as exc:
                raise NotFoundError(
                    f"Measure {d.name!r} uses the offence set {d.filter['offence_set']!r}, which "
                    f"peelian.offences does not define ({exc.message}).",
                    "Name a set from `peelian offences sets` or a serious violence type.",
                ) from exc
    return cat
