"""The synthetic force generator: API, export format, determinism, calendar, errors, CLI."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _synthetic_shared import demo_zip
from typer.testing import CliRunner

from peelian.data.synthetic import (
    EXPORT_FILES,
    README_NAME,
    add_working_days,
    bank_holidays,
    generate_force,
    working_days_between,
    write_export,
)
from peelian.data.synthetic._calendar import easter_sunday
from peelian.data.synthetic._codes import code_mix
from peelian.errors import IngestError, NotFoundError, ParameterError

FIXTURE = Path(__file__).parents[1] / "fixtures" / "synthetic" / "export_small"
CONTRACT = {
    "occurrences.csv": "CrimeRef,HOCode,OffenceDescription,ReportedDateTime,CommittedFrom,"
    "CommittedTo,Easting,Northing,LSOA11Code,DomesticAbuse,KnifeSharp,FirearmDischarged,Alcohol,"
    "Drugs,HateStrands,CyberEnabled,PublicSpace,VAWG,GangMarker,CountyLines",
    "persons.csv": "PersonRef,BirthYear,Sex,Ethnicity",
    "involvements.csv": "CrimeRef,PersonRef,Role",
    "investigation_events.csv": "CrimeRef,PersonRef,EventType,EventDateTime",
    "outcomes.csv": "CrimeRef,OutcomeCode,OutcomeDate",
    "victim_contacts.csv": "CrimeRef,PersonRef,ContactDateTime,Channel,ContactBy,Purpose,"
    "EnhancedRights",
    "missing_episodes.csv": "EpisodeRef,PersonRef,ReportedMissing,Found,RiskLevel,FoundEasting,"
    "FoundNorthing",
    "addresses.csv": "AddressRef,Easting,Northing,LSOA11Code",
    "intel_links.csv": "FromRef,ToRef,ToKind,LinkType,SinceDate",
    "satisfaction_survey.csv": "ResponseRef,SurveyDate,CrimeRef,CrimeType,DomesticAbuse,Overall,"
    "Contact,Actions,KeptInformed,Treatment",
}
DATE = re.compile(r"^\d{2}/\d{2}/\d{4} \d{2}:\d{2}$")


def small(seed: int = 5, months: tuple[str, str] = ("2021-06", "2021-07"), scale: float = 0.05):  # type: ignore[no-untyped-def]
    return generate_force(seed, *months, calibrate_from=demo_zip(), scale=scale)


def _digest(folder: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.iterdir())
        if p.suffix in {".csv", ".txt"}
    }


# --- calendar -------------------------------------------------------------------------------


def test_easter_known_dates() -> None:
    assert easter_sunday(2019) == dt.date(2019, 4, 21)
    assert easter_sunday(2022) == dt.date(2022, 4, 17)
    assert easter_sunday(2038) == dt.date(2038, 4, 25)


def test_bank_holidays_match_gov_uk() -> None:
    # gov.uk/bank-holidays, England and Wales, 2022 (jubilee, state funeral, Christmas substitutes)
    expected = [
        "2022-01-03", "2022-04-15", "2022-04-18", "2022-05-02", "2022-06-02", "2022-06-03",
        "2022-08-29", "2022-09-19", "2022-12-26", "2022-12-27",
    ]  # fmt: skip
    assert [str(d) for d in bank_holidays(2022, 2022)] == expected
    h2020 = [str(d) for d in bank_holidays(2020, 2020)]
    assert "2020-05-08" in h2020 and "2020-05-04" not in h2020  # VE Day moved early May
    assert "2020-12-28" in h2020  # Boxing Day (Saturday) substitute
    assert len(bank_holidays(2030, 2030)) == 8  # an ordinary year


def test_working_days() -> None:
    hol = bank_holidays(2022, 2023)
    # Friday 15 April 2022 is Good Friday: 1 working day after Thursday 14 April is Tuesday 19.
    d = add_working_days(
        np.array(["2022-04-14", "2022-06-01", "2022-12-24"], "datetime64[D]"), 1, hol
    )
    assert [str(x) for x in d] == ["2022-04-19", "2022-06-06", "2022-12-28"]
    # 5 working days after Monday 19 Sep 2022 (the state funeral, a bank holiday): 20-23, 26.
    assert (
        str(add_working_days(np.array(["2022-09-19"], "datetime64[D]"), 5, hol)[0]) == "2022-09-26"
    )
    # 0 working days after a Sunday is the Friday before: "on the day" never moves forward.
    assert (
        str(add_working_days(np.array(["2022-09-18"], "datetime64[D]"), 0, hol)[0]) == "2022-09-16"
    )
    n = working_days_between(
        np.array(["2022-12-23"], "datetime64[D]"), np.array(["2022-12-30"], "datetime64[D]"), hol
    )
    assert n[0] == 3  # 28, 29, 30 December


# --- API and contents -------------------------------------------------------------------------


def test_generate_force_frames_and_labels() -> None:
    f = small()
    occ = f.occurrences
    assert f.meta["synthetic"] is True
    assert occ["crime_ref"].str.match(r"^SYN-\d{4}-\d{7}$").all()
    assert occ["crime_ref"].is_unique
    assert occ["synthetic"].all()
    assert f.persons["person_ref"].str.startswith("SYN-P").all()
    assert (occ["reported_at"] >= occ["committed_to"]).all()
    assert (occ["committed_to"] >= occ["committed_from"]).all()
    months = occ["reported_at"].dt.strftime("%Y-%m")
    assert set(months) == {"2021-06", "2021-07"}
    located = occ["easting"].notna()
    assert occ.loc[located, "easting"].between(360_000, 480_000).all()
    assert occ.loc[located, "northing"].between(500_000, 680_000).all()
    # every code is in the project's taxonomy, in the category it came from
    from peelian.offences import home_office_codes

    ho = home_office_codes().set_index("code")
    cat = ho.reindex(occ["ho_code"])["policeuk_category"].to_numpy()
    assert (cat == occ["policeuk_category"].to_numpy()).all()
    # references resolve
    refs = set(occ["crime_ref"])
    people = set(f.persons["person_ref"])
    assert set(f.involvements["crime_ref"]) <= refs
    assert set(f.involvements["person_ref"]) <= people
    assert set(f.victim_contacts["crime_ref"]) <= refs
    assert set(f.outcomes["crime_ref"]) <= refs
    assert set(f.survey["crime_ref"]) <= refs
    assert set(f.missing_episodes["person_ref"]) <= people
    person_links = f.intel_links[f.intel_links["to_kind"] == "PERSON"]
    assert set(person_links["to_ref"]) <= people
    addr = f.intel_links[f.intel_links["to_kind"] == "ADDRESS"]
    assert set(addr["to_ref"]) <= set(f.addresses["address_ref"])
    assert {"CUCKOOED", "EXPLOITS", "RESIDES"} <= set(f.intel_links["link_type"])
    # events never after the end of the window; contacts never before the report
    end = pd.Timestamp("2021-07-31 23:59")
    assert (f.investigation_events["at"] <= end).all()
    first_contact = f.victim_contacts.groupby("crime_ref")["at"].min()
    rep = occ.set_index("crime_ref")["reported_at"].reindex(first_contact.index)
    assert (first_contact >= rep).all()


def test_code_mix_is_consistent_with_taxonomy() -> None:
    from peelian.offences import home_office_codes

    ho = home_office_codes().set_index("code")
    mix = code_mix()
    assert set(mix["code"]) <= set(ho.index)
    assert (ho.loc[mix["code"], "policeuk_category"].to_numpy() == mix["category"].to_numpy()).all()
    for c in (
        "p_victim",
        "p_suspect",
        "p_da",
        "p_knife",
        "p_public",
        "p_alcohol",
        "p_hate",
        "p_cyber",
    ):
        assert mix[c].between(0, 1).all(), c


def test_extrapolated_months_follow_the_volume_model() -> None:
    from _synthetic_shared import calibration

    f = generate_force(3, "2019-06", "2019-06", calibrate_from=demo_zip())
    cal = calibration()
    exp = cal.expected(["2019-06"]).iloc[0]
    got = f.occurrences.groupby("policeuk_category").size().reindex(exp.index, fill_value=0)
    # Poisson: within 4 standard deviations of the model's expectation.
    assert (np.abs(got - exp) <= 4 * np.sqrt(exp) + 1).all()
    assert not f.occurrences["calibrated"].any()


def test_scale_scales_volumes() -> None:
    a = small(scale=0.05)
    b = small(scale=0.2)
    ratio = len(b.occurrences) / len(a.occurrences)
    assert 3.6 <= ratio <= 4.4


# --- export ----------------------------------------------------------------------------------


def test_export_matches_contract(tmp_path: Path) -> None:
    f = small()
    written = write_export(f, tmp_path / "out")
    assert set(CONTRACT) | {README_NAME} <= set(written)
    assert set(EXPORT_FILES) == set(CONTRACT)
    for name, header in CONTRACT.items():
        text = (tmp_path / "out" / name).read_text("utf-8")
        assert text.splitlines()[0].replace('"', "") == header, name
        frame = pd.read_csv(tmp_path / "out" / name, dtype=str, keep_default_na=False)
        assert len(frame) == len(getattr(f, EXPORT_FILES[name][0]))
    occ = pd.read_csv(tmp_path / "out" / "occurrences.csv", dtype=str, keep_default_na=False)
    for col in ("ReportedDateTime", "CommittedFrom", "CommittedTo"):
        assert occ[col].str.match(DATE).all()
    for col in ("DomesticAbuse", "KnifeSharp", "PublicSpace", "VAWG", "CountyLines"):
        assert occ[col].isin(["Y", "N"]).all()
    assert occ["CrimeRef"].str.startswith("SYN-").all()
    assert occ["HOCode"].isin(code_mix()["code"]).all()
    readme = (tmp_path / "out" / README_NAME).read_text("utf-8")
    assert readme.startswith("SYNTHETIC DATA")
    assert "not real" in readme.lower()
    meta = json.loads((tmp_path / "out" / "synthetic_meta.json").read_text("utf-8"))
    assert meta["synthetic"] is True and meta["seed"] == 5
    ev = pd.read_csv(
        tmp_path / "out" / "investigation_events.csv", dtype=str, keep_default_na=False
    )
    assert set(ev["EventType"]) <= {
        "ARREST",
        "INTERVIEW",
        "CHARGE",
        "BAIL",
        "RUI",
        "NFA",
        "NOT_INVESTIGATED",
    }
    assert (ev.loc[ev["EventType"] == "NOT_INVESTIGATED", "PersonRef"] == "").all()
    sv = pd.read_csv(tmp_path / "out" / "satisfaction_survey.csv", dtype=str, keep_default_na=False)
    for col in ("Overall", "KeptInformed"):
        assert sv[col].isin(["1", "2", "3", "4", "5", ""]).all()


def test_same_seed_same_files_different_seed_differs(tmp_path: Path) -> None:
    write_export(small(seed=11), tmp_path / "a")
    write_export(small(seed=11), tmp_path / "b")
    write_export(small(seed=12), tmp_path / "c")
    a, b, c = (_digest(tmp_path / x) for x in "abc")
    assert a == b
    assert a["occurrences.csv"] != c["occurrences.csv"]
    assert a["persons.csv"] != c["persons.csv"]


def test_committed_fixture_is_reproducible(tmp_path: Path) -> None:
    """tests/fixtures/synthetic/export_small was made by
    `peelian synth force --seed 1 --from 2021-06 --to 2021-06 --scale 0.02 --out ...`; if the
    model changes on purpose, regenerate it with that command."""
    f = generate_force(1, "2021-06", "2021-06", calibrate_from=demo_zip(), scale=0.02)
    write_export(f, tmp_path / "x")
    fresh = _digest(tmp_path / "x")
    committed = _digest(FIXTURE)
    assert fresh == committed


# --- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"seed": -1}, "'seed'"),
        ({"seed": 1.5}, "'seed'"),
        ({"month_from": "2021-13"}, "'month_from'"),
        ({"month_to": "March"}, "'month_to'"),
        ({"month_from": "2022-01", "month_to": "2021-01"}, "is reversed"),
        ({"scale": 0}, "'scale'"),
        ({"scale": 50}, "'scale'"),
    ],
)
def test_bad_parameters(kwargs: dict, fragment: str) -> None:
    args = {"seed": 1, "month_from": "2021-01", "month_to": "2021-02"} | kwargs
    with pytest.raises(ParameterError, match=re.escape(fragment)):
        generate_force(**args, calibrate_from=demo_zip())


def test_bad_calibration_files(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError):
        generate_force(1, "2021-01", "2021-01", calibrate_from=tmp_path / "missing.zip")
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"not a zip")
    with pytest.raises(IngestError, match="not a readable zip"):
        generate_force(1, "2021-01", "2021-01", calibrate_from=junk)
    empty = tmp_path / "empty.zip"
    with zipfile.ZipFile(empty, "w") as zf:
        zf.writestr("readme.txt", "hello")
    with pytest.raises(IngestError, match="no police.uk street files"):
        generate_force(1, "2021-01", "2021-01", calibrate_from=empty)


def test_write_export_refuses_a_file_as_folder(tmp_path: Path) -> None:
    target = tmp_path / "file"
    target.write_text("x")
    with pytest.raises(ParameterError, match="not a folder"):
        write_export(small(), target)


# --- CLI -------------------------------------------------------------------------------------------


def test_cli_synth_force(tmp_path: Path) -> None:
    from peelian.cli import app

    runner = CliRunner()
    out = tmp_path / "cli"
    res = runner.invoke(
        app,
        [
            "synth",
            "force",
            "--seed",
            "2",
            "--from",
            "2021-06",
            "--to",
            "2021-06",
            "--scale",
            "0.02",
            "--calibrate-from",
            str(demo_zip()),
            "--out",
            str(out),
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout)
    assert report["synthetic"] is True
    assert report["counts"]["occurrences"] > 100
    assert (out / README_NAME).is_file()
    bad = runner.invoke(app, ["synth", "force", "--from", "2021-6", "--out", str(out), "--json"])
    assert bad.exit_code == 2
    assert json.loads(bad.stdout)["error"]["code"] == "invalid_parameter"
    missing = runner.invoke(
        app,
        [
            "synth",
            "force",
            "--calibrate-from",
            str(tmp_path / "nope.zip"),
            "--from",
            "2021-06",
            "--to",
            "2021-06",
            "--out",
            str(out),
        ],
    )
    assert missing.exit_code == 6
    assert "Traceback" not in missing.output


def test_guide_examples_run() -> None:
    """The Python examples of docs/guide/synthetic.md run (documentation is executable)."""
    import contextlib
    import io

    guide = Path(__file__).parents[2] / "docs" / "guide" / "synthetic.md"
    blocks = re.findall(r"```python\n(.*?)```", guide.read_text("utf-8"), flags=re.S)
    assert blocks
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        for block in blocks:
            exec(compile(block, str(guide), "exec"), {})
    assert out.getvalue().splitlines()[:2] == ["True True", "True"]
