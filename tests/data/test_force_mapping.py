"""Mappings: checked before any file is read; value maps, dates and flags on known values."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from peelian.data.ingest._force_transform import transform
from peelian.data.ingest.force import load_mapping, shipped_mappings
from peelian.errors import NotFoundError, SchemaError


def _mapping(tmp_path: Path, tables: str) -> Path:
    path = tmp_path / "m.yaml"
    path.write_text("name: t\nforce: testforce\nsynthetic: false\ntables:\n" + tables)
    return path


def test_shipped_mappings_load() -> None:
    assert set(shipped_mappings()) == {"synthetic_rms", "template_rms"}
    syn = load_mapping("synthetic_rms")
    assert syn.synthetic == "true" and syn.force == "northumbria" and len(syn.tables) == 9
    tpl = load_mapping("template_rms")
    assert tpl.tables["occurrences"].replace == "by_key"
    assert tpl.tables["occurrences"].sheet == "Crimes"


@pytest.mark.parametrize(
    ("tables", "match"),
    [
        ("  crimes: {files: [a.csv], columns: {crime_ref: A}}\n", "not a force table"),
        ("  occurrences: {files: [a.csv], columns: {crime_ref: A, colour: B}}\n", "not a field"),
        ("  occurrences: {files: [a.csv], columns: {crime_ref: A}}\n", "required field"),
        (
            "  persons: {files: [a.csv], columns: {person_ref: {column: A, colour: 1}}}\n",
            "unknown option",
        ),
        (
            "  persons: {files: [a.csv], replace: sometimes, columns: {person_ref: A}}\n",
            "whole_file or by_key",
        ),
        ("  persons: {columns: {person_ref: A}}\n", "files"),
        (
            "  persons: {files: [a.csv], columns: {person_ref: {column: A, flag: yn}}}\n",
            "yes/no fields",
        ),
        (
            "  persons: {files: [a.csv], columns: {person_ref: A, sex: {column: S, lookup: x.csv}}}\n",
            "cannot read the lookup",
        ),
    ],
)
def test_bad_mappings_are_explained(tmp_path: Path, tables: str, match: str) -> None:
    with pytest.raises(SchemaError, match=match):
        load_mapping(_mapping(tmp_path, tables))


def test_missing_mapping_file() -> None:
    with pytest.raises(NotFoundError, match="synthetic_rms"):
        load_mapping("no_such_mapping.yaml")


def test_value_maps_dates_flags_and_yaml_codes(tmp_path: Path) -> None:
    (tmp_path / "codes.csv").write_text("local,ho\nABH,8N\nROB,34B\n")
    path = _mapping(
        tmp_path,
        """\
  occurrences:
    files: [c.csv]
    columns:
      crime_ref: Ref
      ho_code: {column: Code, lookup: codes.csv}
      reported_at: {columns: [D, T], date_format: "%d/%m/%Y %H:%M"}
      committed_from: {column: From, date_format: ["%d/%m/%Y %H:%M", "%d.%m.%Y"]}
      knife: {column: Markers, contains: [KNIFE, BLADE], separator: ","}
      alcohol: {column: Alc, true_values: [ON], false_values: [OFF]}
      drugs: {column: Drg, flag: yn}
      hate_strands: {column: Hate, separator: "|", values: {RAC: race}}
  involvements:
    files: [i.csv]
    columns:
      crime_ref: Ref
      person_ref: P
      role: {column: R, values: {VIC: victim, OFF: offender, ON: witness}}
""",
    )
    m = load_mapping(path)
    raw = pd.DataFrame(
        {
            "Ref": ["a", "b", "c", "d", "e"],
            "Code": ["ABH", "rob", "008n", "XYZ", "4/1"],
            "D": ["01/06/2021", "02/06/2021", "31/06/2021", "03/06/2021", "04/06/2021"],
            "T": ["23:40", "00:05", "10:00", "10:00", "10:00"],
            "From": ["01/06/2021 23:00", "01.06.2021", "", "2021-06-03T09:00", ""],
            "Markers": ["DA, knife", "BLADE", "", "ALC", "KNIFE"],
            "Alc": ["ON", "OFF", "", "on", "maybe"],
            "Drg": ["Y", "N", "YES", "", "N"],
            "Hate": ["RAC|religion", "", "", "", ""],
        }
    )
    out = transform(raw, m.tables["occurrences"])
    f = out.frame
    assert f["ho_code"].tolist()[:3] == ["8N", "34B", "8N"] and f["ho_code"].iloc[4] == "4.1"
    assert out.reason.fillna("ok").tolist() == [
        "ok",
        "ok",
        "bad_date",
        "unknown_ho_code",
        "unknown_value",
    ]
    assert f["reported_at"].iloc[0] == pd.Timestamp("2021-06-01 23:40")
    assert f["committed_from"].tolist()[:2] == [
        pd.Timestamp("2021-06-01 23:00"),
        pd.Timestamp("2021-06-01"),
    ]
    assert f["committed_from"].iloc[3] == pd.Timestamp("2021-06-03 09:00")  # ISO fallback
    assert f["knife"].tolist() == [True, True, False, False, True]
    assert f["alcohol"].fillna("NA").tolist()[:4] == [True, False, "NA", True]
    assert f["drugs"].fillna("NA").tolist() == [True, False, True, "NA", False]
    assert f["hate_strands"].iloc[0] == "race;religion" and pd.isna(f["hate_strands"].iloc[1])
    roles = transform(
        pd.DataFrame(
            {"Ref": ["a"] * 4, "P": ["1", "2", "3", ""], "R": ["VIC", "off", "ON", "VIC"]}
        ),
        m.tables["involvements"],
    )
    assert roles.frame["role"].tolist()[:3] == ["victim", "offender", "witness"]
    assert roles.reason.fillna("ok").tolist() == ["ok", "ok", "ok", "missing_required"]
