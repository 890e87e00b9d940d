"""peelian.offences: the offence vocabulary, as versioned data files inside the package.

- :func:`categories` -- the 14 police.uk crime categories.
- :func:`home_office_codes` -- Home Office offence codes with label, ONS group and subgroup, the
  financial years each is valid for, police.uk category and knife-flag eligibility.
- :func:`offence_sets`, :func:`offence_set` -- named offence sets (homicide, neighbourhood crime,
  ...) as :class:`OffenceSet` definitions evaluable on frames with ``OffenceSet.mask``.
- :func:`serious_violence_types` -- the twelve serious violence types, overridable per Community
  Safety Partnership (Serious Violence Duty).
- :func:`cchi_weights` -- Cambridge Crime Harm Index weights (replaceable table with provenance).
- :func:`harm_weights` -- the one harm-weight lookup (CCHI days per category or per code);
  :func:`crime_slug`, :func:`resolve_categories` -- what a crime-type name means.

The files live in ``peelian/offences/data``; see ``docs/guide/offences.md`` and decision 0004.
Errors are :mod:`peelian.errors` classes (:class:`OffenceDefinitionError` is a ``SchemaError``,
:class:`UnknownOffenceError` a ``NotFoundError``, :class:`OffenceParameterError` a
``ParameterError``), all catchable as :class:`OffenceError`.
"""

from __future__ import annotations

from peelian.offences._errors import (
    OffenceDefinitionError,
    OffenceError,
    OffenceParameterError,
    UnknownOffenceError,
)
from peelian.offences._sets import (
    BOOLEAN_FLAG_COLUMNS,
    FLAG_COLUMNS,
    ROLES,
    OffenceSet,
    csp_overrides_available,
    offence_set,
    offence_sets,
    serious_violence_types,
)
from peelian.offences._taxonomy import (
    categories,
    category_name,
    cchi_weights,
    code_lookup,
    home_office_codes,
    normalise_ho_code,
    taxonomy_provenance,
)
from peelian.offences._vocabulary import (
    HARM_SOURCES,
    crime_slug,
    harm_weights,
    resolve_categories,
)

__all__ = [
    "BOOLEAN_FLAG_COLUMNS",
    "FLAG_COLUMNS",
    "HARM_SOURCES",
    "ROLES",
    "OffenceDefinitionError",
    "OffenceError",
    "OffenceParameterError",
    "OffenceSet",
    "UnknownOffenceError",
    "categories",
    "category_name",
    "cchi_weights",
    "code_lookup",
    "crime_slug",
    "csp_overrides_available",
    "harm_weights",
    "home_office_codes",
    "normalise_ho_code",
    "offence_set",
    "offence_sets",
    "resolve_categories",
    "serious_violence_types",
    "taxonomy_provenance",
]
