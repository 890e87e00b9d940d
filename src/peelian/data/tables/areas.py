"""Geography: areas (LSOA 2011 and 2021, ward, local authority = Community Safety Partnership,
police force area) in one hierarchy, with population, deprivation and boundaries, plus the ONS
LSOA 2011 -> 2021 lookup and population breakdowns (single year of age, Census 2021 ethnicity).

Hierarchy: ``lsoa21 -> ward -> csp -> force``; ``lsoa11`` rows point at the CSP/LAD they fall in
and are mapped to ``lsoa21`` through ``lsoa_lookup``.
"""

from __future__ import annotations

from sqlalchemy import Column, Float, ForeignKey, Index, Integer, SmallInteger, String, Table, Text

from peelian.data.tables._meta import ID, metadata

__all__ = ["area_deprivation", "area_ethnicity", "area_population", "areas", "lsoa_lookup"]

areas = Table(
    "areas",
    metadata,
    Column("code", String(9), primary_key=True),
    Column("level", String(8), primary_key=True, comment="lsoa11 | lsoa21 | ward | csp | force"),
    Column("name", String(128), nullable=False),
    Column("parent_code", String(9), nullable=True, comment="next level up in the hierarchy"),
    Column("ward_code", String(9), nullable=True),
    Column("csp_code", String(9), nullable=True, comment="local authority (LTLA) code = CSP"),
    Column("force_code", String(9), nullable=True, comment="police force area code (E23...)"),
    Column("population", Integer, nullable=True),
    Column("population_year", SmallInteger, nullable=True),
    Column("imd_decile", SmallInteger, nullable=True, comment="1 = most deprived 10%"),
    Column("imd_rank", Integer, nullable=True),
    Column("imd_score", Float, nullable=True),
    Column("imd_version", SmallInteger, nullable=True, comment="2019 or 2025"),
    Column("rural_urban", String(64), nullable=True),
    Column("area_km2", Float, nullable=True),
    Column("centroid_easting", Float, nullable=True),
    Column("centroid_northing", Float, nullable=True),
    Column("geometry_wkb", Text, nullable=True, comment="hex WKB in EPSG:27700"),
    Column(
        "geometry_source",
        String(32),
        nullable=True,
        comment="published | dissolved (built from the areas below it) | none",
    ),
    Column("batch_id", ID, ForeignKey("ingest_batches.id"), nullable=True),
    Index("ix_areas_level_parent_code", "level", "parent_code"),
)

lsoa_lookup = Table(
    "lsoa_lookup",
    metadata,
    Column("lsoa11_code", String(9), primary_key=True),
    Column("lsoa21_code", String(9), primary_key=True),
    Column(
        "change_code", String(1), nullable=False, comment="ONS: U unchanged, S split, M merged, X"
    ),
    Index("ix_lsoa_lookup_lsoa21_code", "lsoa21_code"),
)

area_population = Table(
    "area_population",
    metadata,
    Column("code", String(9), primary_key=True),
    Column(
        "level",
        String(8),
        primary_key=True,
        comment="lsoa11 as published; lsoa21 apportioned; ward, csp, force summed",
    ),
    Column("year", SmallInteger, primary_key=True),
    Column("age", SmallInteger, primary_key=True, comment="single year; 90 = 90 and over"),
    Column("population", Integer, nullable=False),
)

area_ethnicity = Table(
    "area_ethnicity",
    metadata,
    Column("code", String(9), primary_key=True, comment="LSOA 2021, or a ward/CSP/force total"),
    Column("level", String(8), nullable=False, comment="lsoa21 | ward | csp | force"),
    Column("ethnic_group", String(96), primary_key=True, comment="Census 2021, 5 groups"),
    Column("residents", Integer, nullable=False),
    Column("total_residents", Integer, nullable=False),
)

area_deprivation = Table(
    "area_deprivation",
    metadata,
    Column("code", String(9), primary_key=True),
    Column("level", String(8), primary_key=True, comment="lsoa11 (IMD 2019) | lsoa21 (IMD 2025)"),
    Column("version", SmallInteger, primary_key=True, comment="IMD edition: 2019 or 2025"),
    Column(
        "domain",
        String(32),
        primary_key=True,
        comment="IMD, Income, Employment, Education, Health, Crime, Housing..., Environment",
    ),
    Column("decile", SmallInteger, nullable=True, comment="1 = most deprived 10% in England"),
    Column("rank", Integer, nullable=True, comment="1 = most deprived LSOA in England"),
    Column("score", Float, nullable=True),
)
