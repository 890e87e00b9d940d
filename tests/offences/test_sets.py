"""Offence sets and serious violence types evaluated on known rows; CSP overrides."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import peelian.offences as off

FLAGS = [c for c in off.FLAG_COLUMNS if c != "hate_strands"]


def _occ(rows: list[tuple]) -> pd.DataFrame:
    """(crime_ref, ho_code, {flags}) -> an occurrences frame like load_occurrences gives."""
    lookup = off.home_office_codes().set_index("code")["policeuk_category"]
    out = []
    for ref, code, flags in rows:
        rec = {
            "crime_ref": ref,
            "ho_code": code,
            "policeuk_category": lookup[code],
            "reported_at": pd.Timestamp("2021-06-01 22:00"),
            "hate_strands": "",
        }
        rec.update({f: f in flags for f in FLAGS})
        out.append(rec)
    return pd.DataFrame(out)


OCC = _occ(
    [
        ("C1", "1", {"knife", "public_space"}),  # murder with a knife in the street
        ("C2", "8N", {"domestic_abuse", "alcohol"}),  # domestic ABH
        ("C3", "8N", {"public_space", "alcohol", "knife"}),  # street ABH with a knife
        ("C4", "34B", set()),  # personal robbery
        ("C5", "28E", set()),  # residential burglary
        ("C6", "30C", set()),  # non-residential burglary
        ("C7", "10D", {"knife"}),  # blade possession: not knife-flag eligible
        ("C8", "19C", {"vawg"}),  # rape
        ("C9", "92A", {"county_lines", "gang"}),  # drug trafficking, county line
        ("C10", "105A", {"public_space", "drugs"}),  # common assault in public
        ("C11", "45", set()),  # theft from vehicle
        ("C12", "10B", {"firearm_discharged"}),
    ]
)
INV = pd.DataFrame(
    {
        "crime_ref": ["C1", "C1", "C2", "C2", "C3", "C3", "C4", "C8", "C10"],
        "person_ref": ["P1", "P2", "P3", "P4", "P5", "P6", "P7", "P8", "P9"],
        "role": [
            "victim",
            "suspect",
            "victim",
            "offender",
            "victim",
            "suspect",
            "victim",
            "victim",
            "victim",
        ],
        "birth_year": [1990, 2000, 1985, 1980, 1970, 1975, 2005, 2006, 1950],
        "sex": ["M", "M", "F", "M", "M", "M", "F", "F", "F"],
    }
)


def selected(name: str, **kw: object) -> list[str]:
    mask = off.offence_set(name, **kw).mask(OCC, INV)  # type: ignore[arg-type]
    assert mask.dtype == bool and mask.index.equals(OCC.index)
    return OCC.loc[mask, "crime_ref"].tolist()


@pytest.mark.parametrize(
    ("name", "refs"),
    [
        ("homicide", ["C1"]),
        ("violence-with-injury", ["C2", "C3"]),
        ("violence-without-injury", ["C10"]),
        ("robbery-personal", ["C4"]),
        ("residential-burglary", ["C5"]),
        ("vehicle-offences", ["C11"]),
        ("neighbourhood-crime", ["C4", "C5", "C11"]),
        # the police.uk proxy also counts non-residential burglary
        ("neighbourhood-crime-policeuk", ["C4", "C5", "C6", "C11"]),
        ("possession-of-weapons", ["C7", "C12"]),
        ("drug-trafficking", ["C9"]),
        ("knife-flag-eligible", ["C1", "C2", "C3", "C4", "C8"]),
        ("serious-violence", ["C1", "C2", "C3", "C4", "C7", "C8", "C12"]),
    ],
)
def test_offence_set_masks(name: str, refs: list[str]) -> None:
    assert selected(name) == refs


@pytest.mark.parametrize(
    ("name", "refs"),
    [
        ("knife-crime", ["C1", "C3"]),  # C7 has the flag but is not an eligible offence
        ("public-space-violence", ["C1", "C3", "C10"]),  # C2 is domestic abuse
        ("domestic-abuse", ["C2"]),
        ("alcohol-related-serious-violence", ["C2", "C3"]),
        # under 25 in 2021: P2 (2000), P7 (2005), P8 (2006)
        ("serious-youth-violence", ["C1", "C4", "C8"]),
        ("vawg", ["C2", "C8", "C10"]),
        ("county-lines-modern-slavery", ["C9"]),
        ("firearms-offences", ["C12"]),
        ("serious-organised-crime", ["C9"]),
        ("drug-supply-violence", []),
        ("serious-sexual-offending", ["C8"]),
        ("csea", ["C8"]),  # P8 is 15
    ],
)
def test_serious_violence_type_masks(name: str, refs: list[str]) -> None:
    assert selected(name) == refs


def test_twelve_types_documented() -> None:
    types = off.serious_violence_types()
    assert len(types) == 12
    for t in types.values():
        assert t.description and t.label and t.origin == "peelian default"
        assert t.kind == "serious-violence-type"


def test_age_based_type_needs_involvements() -> None:
    syv = off.offence_set("serious-youth-violence")
    assert syv.needs_involvements
    with pytest.raises(off.OffenceDefinitionError, match="involvements"):
        syv.mask(OCC)
    assert not off.offence_set("knife-crime").needs_involvements


def test_codes_and_flags_of_a_definition() -> None:
    assert off.offence_set("robbery").codes == frozenset({"34A", "34B"})
    assert off.offence_set("neighbourhood-crime-policeuk").codes is None
    assert off.offence_set("public-space-violence").flags == {"public_space", "domestic_abuse"}


def test_csp_override_file(tmp_path: Path) -> None:
    path = tmp_path / "E08000021.yaml"
    path.write_text(
        "csp: E08000021\nversion: '2024-test'\nsource: test\n"
        "sets:\n  serious-violence:\n    definition: {any: [{set: homicide}, {codes: ['10D']}]}\n"
        "types:\n  serious-youth-violence:\n"
        "    definition: {all: [{set: serious-violence},"
        " {person: {roles: [victim], age_lt: 18}}]}\n"
        "  serious-organised-crime: {disabled: true}\n"
    )
    types = off.serious_violence_types("E08000021", overrides=path)
    assert len(types) == 11 and "serious-organised-crime" not in types
    syv = types["serious-youth-violence"]
    assert "E08000021" in syv.origin and syv.version == "2024-test"
    # only C1 (homicide) and C7 (10D) are serious violence here; C1's victim P1 is 31: none
    assert OCC.loc[syv.mask(OCC, INV), "crime_ref"].tolist() == []
    # types that build on serious-violence follow the override
    alcohol = types["alcohol-related-serious-violence"].mask(OCC, INV)
    assert OCC.loc[alcohol, "crime_ref"].tolist() == []
    # defaults untouched for another partnership with no file
    assert len(off.serious_violence_types("E08000037")) == 12
    with pytest.raises(off.OffenceDefinitionError, match="E08000021"):
        off.serious_violence_types("E08000024", overrides=path)


@pytest.mark.parametrize(
    ("body", "match"),
    [
        ("sets:\n  x: {definition: {codes: ['ZZ9']}}\n", "unknown Home Office code"),
        ("sets:\n  x: {definition: {flag: sparkly}}\n", "unknown flag"),
        ("sets:\n  x: {definition: {set: nowhere}}\n", "does not exist"),
        ("sets:\n  x: {definition: {set: y}}\n  y: {definition: {set: x}}\n", "circle"),
        ("sets:\n  x: {definition: {codes: ['1'], flag: knife}}\n", "exactly one key"),
        ("sets: [1, 2\n", "not valid YAML"),
    ],
)
def test_bad_override_files_are_explained(tmp_path: Path, body: str, match: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(body)
    with pytest.raises(off.OffenceDefinitionError, match=match):
        off.offence_sets(overrides=path)
