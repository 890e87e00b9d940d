"""Geography: the area hierarchy LSOA 2021 -> ward -> CSP (local authority) -> force, plus
LSOA 2011 (mapped to 2021 through the ONS lookup), with population, ethnicity and deprivation.

- :func:`load_areas` (``peelian areas load``) reads boundaries, lookups, population, Census 2021
  ethnicity and IMD files, recognised by their columns, and stores them as one ingest batch.
- :func:`areas_frame`, :func:`force_boundary`, :func:`area_children`, :func:`area`,
  :func:`area_lookup`, :func:`population_frame`, :func:`ethnicity_frame`,
  :func:`deprivation_frame` read it back (geometry in EPSG:27700).
- :func:`lsoa21_rule` is the one rule that places a record's LSOA code in the 2021 geography
  (decision 0015): the counts, the frames and every page use it.
- :func:`apportion` is the largest-remainder apportionment used for LSOA 2011 -> 2021
  population (see docs/guide/geography.md).
"""

from __future__ import annotations

from peelian.data.geography._build import apportion
from peelian.data.geography._load import load_areas
from peelian.data.geography._lsoa21 import (
    PLACEMENT_RULES,
    Lsoa21Rule,
    geography_version,
    lsoa21_rule,
)
from peelian.data.geography._query import (
    CHILD_LEVEL,
    LEVELS,
    area,
    area_children,
    area_lookup,
    areas_frame,
    deprivation_frame,
    ethnicity_frame,
    force_boundary,
    population_frame,
)

__all__ = [
    "CHILD_LEVEL",
    "LEVELS",
    "NORTHUMBRIA",
    "PLACEMENT_RULES",
    "Lsoa21Rule",
    "apportion",
    "area",
    "area_children",
    "area_lookup",
    "areas_frame",
    "deprivation_frame",
    "ethnicity_frame",
    "force_boundary",
    "geography_version",
    "load_areas",
    "lsoa21_rule",
    "population_frame",
]

#: Northumbria Police's force area code (ONS police force areas).
NORTHUMBRIA = "E23000007"
