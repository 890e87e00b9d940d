"""Shared, cached synthetic runs for the synthetic-force tests (one generation per process)."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

DEMO_ZIP = Path(__file__).parents[2] / "demo-data" / "policeuk" / "northumbria_2020-05_2022-08.zip"
#: The validation window: a financial year inside the months police.uk covers.
WINDOW = ("2021-04", "2022-03")
SEED = 20240401


def demo_zip() -> Path:
    if not DEMO_ZIP.is_file():
        pytest.skip(f"bundled demo data missing: {DEMO_ZIP}")
    return DEMO_ZIP


@functools.cache
def full_year():  # type: ignore[no-untyped-def]
    """A full-scale synthetic financial year (2021-04..2022-03), seed fixed."""
    from peelian.data.synthetic import generate_force

    return generate_force(SEED, *WINDOW, calibrate_from=demo_zip(), scale=1.0)


@functools.cache
def calibration():  # type: ignore[no-untyped-def]
    from peelian.data.synthetic import load_calibration

    return load_calibration(demo_zip())
