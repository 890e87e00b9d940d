"""The shipped vocabulary: police.uk categories, Home Office codes, CCHI weights."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import peelian.offences as off


def test_fourteen_policeuk_categories() -> None:
    cats = off.categories()
    assert len(cats) == 14
    assert cats["name"].is_unique and cats["slug"].is_unique
    assert cats.loc[~cats["is_crime"], "name"].tolist() == ["Anti-social behaviour"]


def test_home_office_codes_columns_and_known_rows() -> None:
    codes = off.home_office_codes()
    assert list(codes.columns[:8]) == [
        "code",
        "label",
        "ons_group",
        "ons_subgroup",
        "policeuk_category",
        "valid_from_fy",
        "valid_to_fy",
        "knife_flag_eligible",
    ]
    assert codes["code"].is_unique
    row = codes.set_index("code").loc["8N"]
    assert row["label"] == "Assault with injury"
    assert row["ons_subgroup"] == "Violence with injury"
    assert row["policeuk_category"] == "Violence and sexual offences"
    assert bool(row["knife_flag_eligible"]) is True
    by = codes.set_index("code")
    assert by.loc["34B", "policeuk_category"] == "Robbery"
    assert by.loc["39", "policeuk_category"] == "Theft from the person"
    assert by.loc["28E", "valid_from_fy"] == "2017/18"
    assert by.loc["28A", "valid_to_fy"] == "2016/17"
    # every police.uk crime category except ASB is reachable from some code
    assert set(codes["policeuk_category"]) == set(off.categories().query("is_crime")["name"])


def test_every_code_subgroup_has_a_cchi_weight() -> None:
    weights = off.cchi_weights("code")
    assert weights["cchi_days"].notna().all()
    by = weights.set_index("code")["cchi_days"]
    assert by["1"] == 5475.0  # homicide
    assert by["28E"] == 273.5  # residential burglary
    assert by["46"] == 1.0  # shoplifting


def test_cchi_levels_and_provenance() -> None:
    cat = off.cchi_weights("category")
    assert len(cat) == 13  # no weight for anti-social behaviour
    assert "Anti-social behaviour" not in set(cat["category"])
    assert cat.set_index("category").loc["Robbery", "cchi_days"] == 365.0
    sub = off.cchi_weights("subgroup")
    assert len(sub) == 23 and sub["national_count_2024_25"].sum() > 5_000_000
    assert "cbl-realcrime" in sub.attrs["provenance"]["source"]
    assert len(off.cchi_weights("force_category")) > 13 * 40


def test_cchi_replaceable_table(tmp_path: Path) -> None:
    own = tmp_path / "w.csv"
    own.write_text("# version: local-1\ncategory,cchi_days\nRobbery,400\n")
    frame = off.cchi_weights("category", path=own)
    assert frame["cchi_days"].tolist() == [400.0]
    assert frame.attrs["provenance"]["version"] == "local-1"
    with pytest.raises(off.OffenceParameterError, match="level"):
        off.cchi_weights("lsoa")


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("8N", "8N"),
        (" 08n", "8N"),
        ("4/1", "4.1"),
        ("4.10", "4.10"),
        ("001", "1"),
        (1.0, "1"),
        ("105a", "105A"),
        ("", None),
        ("murder", None),
        (None, None),
    ],
)
def test_normalise_ho_code(raw: object, code: str | None) -> None:
    assert off.normalise_ho_code(raw) == code


def test_category_name_accepts_slugs() -> None:
    assert off.category_name("vehicle-crime") == "Vehicle crime"
    with pytest.raises(off.UnknownOffenceError):
        off.category_name("fraud")


def test_errors_are_peelian_errors_with_exit_codes(tmp_path: Path) -> None:
    from peelian.errors import NotFoundError, ParameterError, SchemaError, exit_code_for

    with pytest.raises(NotFoundError) as unknown:
        off.category_name("fraud")
    with pytest.raises(ParameterError) as level:
        off.cchi_weights("lsoa")
    bad = tmp_path / "w.csv"
    bad.write_text("category,weight\nRobbery,400\n")
    with pytest.raises(SchemaError) as schema:
        off.cchi_weights("category", path=bad)
    assert [exit_code_for(e.value) for e in (unknown, level, schema)] == [6, 2, 3]
    assert all(isinstance(e.value, off.OffenceError) for e in (unknown, level, schema))
    assert "cchi_days" in schema.value.message and schema.value.hint


def test_code_facts_follow_the_checked_sources() -> None:
    """Issue 12 item 11: 8R is malicious communications (not controlling or coercive behaviour);
    stalking 8Q from 2014/15; 8S from 2017/18; 28E-28H from 2017/18; unsourced start years stay
    flagged in the ``verified`` column."""
    by = off.home_office_codes().set_index("code")
    assert by.loc["8R", "label"] == "Malicious communications"
    assert by.loc["8R", "ons_subgroup"] == "Stalking and harassment"
    assert by.loc["8R", "verified"] == "ons-hierarchy; date unverified"
    assert by.loc["8Q", "valid_from_fy"] == "2014/15"
    assert by.loc["8S", "valid_from_fy"] == "2017/18"
    for code in ("28E", "28F", "28G", "28H"):
        assert by.loc[code, "valid_from_fy"] == "2017/18"
    for code in ("5D", "5E", "8N", "8P"):
        assert by.loc[code, "verified"] == "ons-hierarchy; date unverified"
        assert pd.isna(by.loc[code, "valid_from_fy"])
    # no code is labelled with an offence whose code no source gives
    assert not by["label"].str.contains("coercive", case=False).any()


def test_nothing_uses_8r_as_controlling_or_coercive_behaviour() -> None:
    from importlib import resources

    from peelian.data.synthetic import _codes

    sets = resources.files("peelian.offences").joinpath("data/offence_sets.yaml").read_text()
    assert "coercive" not in sets.lower()
    mix = _codes.code_mix().loc["8R"]
    # malicious communications: not a domestic-only offence drawn on the domestic profile
    assert mix["profile"] != "domestic" and mix["p_da"] < 0.5 and mix["p_cyber"] > 0.5
    assert _codes.code_labels()["8R"][0] == "Malicious communications"
    template = (
        resources.files("peelian.data")
        .joinpath("mappings/template_rms_offence_codes.csv")
        .read_text()
    )
    assert "CCB,8R" not in template and "MALCOMM,8R" in template
