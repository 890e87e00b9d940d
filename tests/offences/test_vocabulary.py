"""The shared vocabulary (issue 13 item 3): one crime-type slug, one category resolution, one
harm-weight lookup and one Benjamini-Hochberg function, used by the jobs, the measures, the web
and the hotspot analyses alike."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

import peelian.offences as off
from peelian.errors import NotFoundError, ParameterError

SRC = Path(__file__).parents[2] / "src" / "peelian"


def test_slugs_and_categories() -> None:
    assert off.crime_slug("Violence and sexual offences") == "violence-and-sexual-offences"
    assert off.crime_slug("  ") == "all"
    assert off.resolve_categories("criminal-damage-and-arson") == ["Criminal damage and arson"]
    assert off.resolve_categories("BURGLARY") == ["Burglary"]
    assert off.resolve_categories("all") is None and off.resolve_categories(None) is None
    with pytest.raises(NotFoundError, match="Unknown crime type 'burglry'"):
        off.resolve_categories("burglry")


def test_one_harm_weight_lookup() -> None:
    by_cat = off.cchi_weights("category").dropna(subset=["cchi_days"])
    pu = off.harm_weights("policeuk")
    assert pu == dict(zip(by_cat["category"], by_cat["cchi_days"].astype(float), strict=True))
    assert "Anti-social behaviour" not in pu  # ASB has no CCHI weight
    codes = off.cchi_weights("code").set_index("code")
    force = off.harm_weights("force")
    assert force["8N"] == float(codes.loc["8N", "cchi_days"]) > 0
    # a code whose ONS subgroup has no weight takes its police.uk category's
    no_sub = codes[codes["cchi_days"].isna() & codes["policeuk_category"].isin(pu.keys())]
    for code, row in no_sub.iterrows():
        assert force[str(code)] == pu[row["policeuk_category"]]
    pu["Burglary"] = -1.0  # a copy: callers cannot change the shared table
    assert off.harm_weights("policeuk")["Burglary"] > 0
    with pytest.raises(ParameterError, match="'source' parameter of harm_weights"):
        off.harm_weights("durham")


def test_every_surface_uses_the_vocabulary() -> None:
    from peelian.analysis.hotspots import _gistar
    from peelian.analysis.stats import bh_adjust
    from peelian.jobs import hotspots
    from peelian.web.services import events

    assert hotspots.crime_slug is off.crime_slug
    assert hotspots.resolve_categories is off.resolve_categories
    assert hotspots.harm_weights is off.harm_weights
    assert events.category_weights() == off.harm_weights("policeuk")
    assert _gistar.bh_adjust is bh_adjust
    p = np.array([0.01, np.nan, 0.04, 0.03, 0.2])
    np.testing.assert_allclose(_gistar.bh_adjust(p), [0.04, np.nan, 0.16 / 3, 0.16 / 3, 0.2])
    with pytest.raises(ParameterError):  # one validator: a p-value above 1 is refused
        _gistar.bh_adjust(np.array([0.5, 1.5]))


@pytest.mark.parametrize(
    ("name", "home"),
    [
        ("crime_slug", "offences/_vocabulary.py"),
        ("resolve_categories", "offences/_vocabulary.py"),
        ("harm_weights", "offences/_vocabulary.py"),
        ("bh_adjust", "analysis/stats/_fdr.py"),
    ],
)
def test_each_helper_is_defined_once(name: str, home: str) -> None:
    pattern = re.compile(rf"^def {name}\(", re.M)
    found = sorted(
        str(p.relative_to(SRC)) for p in SRC.rglob("*.py") if pattern.search(p.read_text())
    )
    assert found == [home]
