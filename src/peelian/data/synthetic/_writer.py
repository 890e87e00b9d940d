"""Write a :class:`SyntheticForce` as the CSV files a force's records system would export.

The layout is the contract between the generator and ``src/peelian/data/mappings/synthetic_rms.yaml``
(``peelian ingest force DIR --mapping ...``): UTF-8 CSV with a header row, dates
``dd/mm/yyyy HH:MM`` (UK RMS style), flags ``Y``/``N``, plus ``SYNTHETIC_DATA_README.txt``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from peelian.errors import ParameterError

if TYPE_CHECKING:
    from peelian.data.synthetic._generate import SyntheticForce

__all__ = ["EXPORT_FILES", "README_NAME", "write_export"]

README_NAME = "SYNTHETIC_DATA_README.txt"
_DATE_FMT = "%d/%m/%Y %H:%M"
_YN = {True: "Y", False: "N"}

#: file name -> (SyntheticForce attribute, [(export column, frame column, kind)]).
EXPORT_FILES: dict[str, tuple[str, list[tuple[str, str, str]]]] = {
    "occurrences.csv": (
        "occurrences",
        [
            ("CrimeRef", "crime_ref", "str"),
            ("HOCode", "ho_code", "str"),
            ("OffenceDescription", "offence_description", "str"),
            ("ReportedDateTime", "reported_at", "date"),
            ("CommittedFrom", "committed_from", "date"),
            ("CommittedTo", "committed_to", "date"),
            ("Easting", "easting", "int"),
            ("Northing", "northing", "int"),
            ("LSOA11Code", "lsoa_code", "str"),
            ("DomesticAbuse", "domestic_abuse", "yn"),
            ("KnifeSharp", "knife", "yn"),
            ("FirearmDischarged", "firearm_discharged", "yn"),
            ("Alcohol", "alcohol", "yn"),
            ("Drugs", "drugs", "yn"),
            ("HateStrands", "hate_strands", "str"),
            ("CyberEnabled", "cyber", "yn"),
            ("PublicSpace", "public_space", "yn"),
            ("VAWG", "vawg", "yn"),
            ("GangMarker", "gang", "yn"),
            ("CountyLines", "county_lines", "yn"),
        ],
    ),
    "persons.csv": (
        "persons",
        [
            ("PersonRef", "person_ref", "str"),
            ("BirthYear", "birth_year", "int"),
            ("Sex", "sex", "str"),
            ("Ethnicity", "ethnicity", "str"),
        ],
    ),
    "involvements.csv": (
        "involvements",
        [
            ("CrimeRef", "crime_ref", "str"),
            ("PersonRef", "person_ref", "str"),
            ("Role", "role", "str"),
        ],
    ),
    "investigation_events.csv": (
        "investigation_events",
        [
            ("CrimeRef", "crime_ref", "str"),
            ("PersonRef", "person_ref", "str"),
            ("EventType", "event_type", "str"),
            ("EventDateTime", "at", "date"),
        ],
    ),
    "outcomes.csv": (
        "outcomes",
        [
            ("CrimeRef", "crime_ref", "str"),
            ("OutcomeCode", "outcome_code", "int"),
            ("OutcomeDate", "at", "date"),
        ],
    ),
    "victim_contacts.csv": (
        "victim_contacts",
        [
            ("CrimeRef", "crime_ref", "str"),
            ("PersonRef", "person_ref", "str"),
            ("ContactDateTime", "at", "date"),
            ("Channel", "channel", "str"),
            ("ContactBy", "by", "str"),
            ("Purpose", "purpose", "str"),
            ("EnhancedRights", "enhanced", "yn"),
        ],
    ),
    "missing_episodes.csv": (
        "missing_episodes",
        [
            ("EpisodeRef", "episode_ref", "str"),
            ("PersonRef", "person_ref", "str"),
            ("ReportedMissing", "reported_missing", "date"),
            ("Found", "found", "date"),
            ("RiskLevel", "risk_level", "str"),
            ("FoundEasting", "found_easting", "int"),
            ("FoundNorthing", "found_northing", "int"),
        ],
    ),
    "addresses.csv": (
        "addresses",
        [
            ("AddressRef", "address_ref", "str"),
            ("Easting", "easting", "int"),
            ("Northing", "northing", "int"),
            ("LSOA11Code", "lsoa_code", "str"),
        ],
    ),
    "intel_links.csv": (
        "intel_links",
        [
            ("FromRef", "from_ref", "str"),
            ("ToRef", "to_ref", "str"),
            ("ToKind", "to_kind", "str"),
            ("LinkType", "link_type", "str"),
            ("SinceDate", "since", "date"),
        ],
    ),
    "satisfaction_survey.csv": (
        "survey",
        [
            ("ResponseRef", "response_ref", "str"),
            ("SurveyDate", "survey_date", "date"),
            ("CrimeRef", "crime_ref", "str"),
            ("CrimeType", "crime_type", "str"),
            ("DomesticAbuse", "domestic_abuse", "yn"),
            ("Overall", "overall", "int"),
            ("Contact", "contact", "int"),
            ("Actions", "actions", "int"),
            ("KeptInformed", "kept_informed", "int"),
            ("Treatment", "treatment", "int"),
        ],
    ),
}


def format_dates(values: pd.Series | np.ndarray) -> pa.Array:
    """``dd/mm/yyyy HH:MM`` strings (null for NaT), formatting each distinct day and minute once."""
    t = np.asarray(values, dtype="datetime64[ns]").astype("datetime64[m]")
    ok = ~np.isnat(t)
    mins = t.astype(np.int64)
    day = np.where(ok, mins // 1440, 0)
    tod = np.where(ok, mins % 1440, 0)
    uday, dinv = np.unique(day, return_inverse=True)
    iso = np.datetime_as_string(uday.astype("datetime64[D]"))
    dstr = pa.array([f"{s[8:10]}/{s[5:7]}/{s[0:4]}" for s in iso], type=pa.string())
    tstr = pa.array([f"{h:02d}:{m:02d}" for h in range(24) for m in range(60)])
    d = pc.take(dstr, pa.array(dinv.astype(np.int64), mask=~ok))
    hm = pc.take(tstr, pa.array(tod, mask=~ok))
    return pc.binary_join_element_wise(d, hm, " ")


def _column(values: pd.Series, kind: str) -> pa.Array:
    if kind == "date":
        return format_dates(values)
    if kind == "yn":
        return pa.array(np.where(values.to_numpy(dtype=bool), "Y", "N"))
    if kind == "int":
        num = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
        ok = np.isfinite(num)
        out = np.zeros(num.size, dtype=np.int64)
        out[ok] = np.rint(num[ok]).astype(np.int64)
        return pa.array(out, mask=~ok)
    arr = pa.array(values, from_pandas=True)
    if pa.types.is_dictionary(arr.type):
        arr = arr.dictionary_decode()
    return arr if pa.types.is_string(arr.type) else arr.cast(pa.string())


def readme_text(result: SyntheticForce) -> str:
    """The text of ``SYNTHETIC_DATA_README.txt``."""
    m = result.meta
    counts = "\n".join(f"  {k}: {v:,}" for k, v in result.counts().items())
    return f"""SYNTHETIC DATA -- NOT REAL POLICE RECORDS
==========================================

Every record in this folder was generated by a computer program (peelian synth force). No row
describes a real crime, person, address, officer or victim. Crime references start with "SYN-",
person references with "SYN-P", address references with "SYN-A".

The volumes, seasonality and places of the offences are calibrated on real, public, anonymised
police.uk street-level data ({m["calibration"]["source"]}, sha256 {m["calibration"]["sha256"][:16]}...),
Contains public sector information licensed under the Open Government Licence v3.0.
Everything else (exact times, exact locations, Home Office codes, flags, people, relationships,
investigations, outcomes, victim contacts, missing episodes, survey answers) is simulated. The
generative model is documented in docs/guide/synthetic.md of the peelian source.

Do not use these data to draw conclusions about any real force, place or person.

Generator: {m["generator"]}    seed: {m["seed"]}    months: {m["month_from"]}..{m["month_to"]}
scale: {m["scale"]}
Rows:
{counts}

Format: UTF-8 CSV with a header row; dates dd/mm/yyyy HH:MM; flags Y/N; Easting/Northing are
British National Grid (EPSG:27700) metres; LSOA11Code is the 2011 LSOA. Load with
  peelian ingest force {{DIR}}/*.csv --mapping src/peelian/data/mappings/synthetic_rms.yaml
"""


def write_export(result: SyntheticForce, out_dir: str | Path) -> dict[str, Path]:
    """Write the export files and the README into ``out_dir`` (created if missing).

    Returns file name -> path. Also writes ``synthetic_meta.json`` (the generator's parameters).
    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ParameterError(
            f"The output path {out} exists and is not a folder.",
            "Pass --out with a folder name (it is created if missing).",
        )
    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    opts = pacsv.WriteOptions(include_header=True, quoting_style="needed")
    for name, (attr, cols) in EXPORT_FILES.items():
        frame: pd.DataFrame = getattr(result, attr)
        table = pa.table({col: _column(frame[src], kind) for col, src, kind in cols})
        path = out / name
        pacsv.write_csv(table, path, write_options=opts)
        written[name] = path
    readme = out / README_NAME
    readme.write_text(readme_text(result), encoding="utf-8")
    written[README_NAME] = readme
    meta = out / "synthetic_meta.json"
    meta.write_text(json.dumps(_jsonable(result.meta), indent=2, sort_keys=True), encoding="utf-8")
    written[meta.name] = meta
    return written


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    return obj
