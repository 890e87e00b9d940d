"""SQL aggregates for the measures engine, on both dialects, against the real demo rows."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest

from peelian.data.counts import (
    external_series,
    force_measure_frame,
    measure_areas,
    policeuk_counts,
    source_months,
)
from peelian.data.ingest.external import import_external_series
from peelian.errors import IngestError, NotFoundError

sys.path.insert(0, str(Path(__file__).parents[1] / "fixtures" / "measures"))
import demo_frames


def test_policeuk_counts_reconcile(store) -> None:  # type: ignore[no-untyped-def]
    filled = demo_frames.fill_store(store, months=("2021-01", "2021-12"))
    counts = policeuk_counts(store)
    assert counts["n"].sum() == filled["events"]
    rows = filled["rows"]
    exp = rows[rows["category"] == "Burglary"].groupby("month").size()
    got = counts[counts["category"] == "Burglary"].groupby("month")["n"].sum()
    assert got.to_dict() == exp.to_dict()
    unlocated = counts[counts["lsoa_code"].isna()]["n"].sum()
    assert unlocated == rows["lsoa_code"].isna().sum() > 0  # kept, for the force total
    # published as 2011 codes; placed in the 2021 geography by the rule of decision 0015
    # (codes the lookup does not know stay as published)
    assert set(counts["lsoa_vintage"].dropna()) <= {2011, 2021}
    assert counts.loc[counts["lsoa_vintage"] == 2021, "n"].sum() > 0.9 * filled["events"]
    assert policeuk_counts(store, month_from="2021-06", month_to="2021-06")[
        "month"
    ].unique().tolist() == ["2021-06"]
    months = source_months(store)
    assert months["policeuk"] == [f"2021-{m:02d}" for m in range(1, 13)]
    assert "force" not in months and "survey" not in months
    assert force_measure_frame(store) == (None, None)


def test_measure_areas(store) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(NotFoundError, match="No areas"):
        measure_areas(store)
    demo_frames.fill_store(store, months=("2021-01", "2021-01"))
    areas, lookup = measure_areas(store)
    assert set(areas["level"]) == {"force", "csp", "ward", "lsoa11", "lsoa21"}
    assert areas.loc[areas["level"] == "csp", "code"].nunique() == 6
    assert lookup["lsoa11_code"].str.startswith("E01").all()
    assert areas["population"].dtype.kind == "f"


def test_external_series_import(store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    demo_frames.fill_store(store, months=("2021-01", "2021-01"))
    f = tmp_path / "hes.csv"
    f.write_text(
        "month,value\n2021-01,4\n2021-02,3\n2021-13,2\n2021-03,-1\n2021-02,5\n2021-04,\n",
        encoding="utf-8",
    )
    report = import_external_series(store, f, series="hospital-admissions-sharp-object-u25")
    entry = report["files"][0]
    assert entry["rows_read"] == 6 and entry["rows_stored"] == 2
    assert entry["reasons"] == {"bad_month": 1, "bad_value": 2, "duplicate_month": 1}
    ext = external_series(store)
    assert isinstance(ext, pd.DataFrame)
    assert ext["value"].tolist() == [4.0, 3.0] and set(ext["area_code"]) == {"E23000007"}
    with pytest.raises(IngestError, match="series"):
        (tmp_path / "x.csv").write_text("month,value\n2021-01,1\n", encoding="utf-8")
        import_external_series(store, tmp_path / "x.csv")


# -- force records: D's synthetic export -> C's ingest -> SQL aggregates -> measures ----------
FORCE_MONTHS = [f"{y}-{m:02d}" for y in (2021, 2022) for m in range(1, 13)]


@pytest.fixture(scope="module")
def force_export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small synthetic RMS export (24 months, 5% of Northumbria's volume) written by
    ``peelian.data.synthetic`` exactly as `peelian synth force` does."""
    from peelian.data.synthetic import generate_force, write_export

    out = tmp_path_factory.mktemp("force_export")
    write_export(generate_force(11, FORCE_MONTHS[0], FORCE_MONTHS[-1], scale=0.05), out)
    return out


def _direct(export: Path) -> pd.DataFrame:
    """occurrences.csv read with pandas alone: month of the report, codes, Y/N flags."""
    raw = pd.read_csv(export / "occurrences.csv", dtype=str, keep_default_na=False)
    flags = {
        "DomesticAbuse": "domestic_abuse",
        "KnifeSharp": "knife",
        "FirearmDischarged": "firearm_discharged",
        "Alcohol": "alcohol",
        "Drugs": "drugs",
        "CyberEnabled": "cyber",
        "PublicSpace": "public_space",
        "VAWG": "vawg",
        "GangMarker": "gang",
        "CountyLines": "county_lines",
    }
    out = pd.DataFrame(
        {
            "crime_ref": raw["CrimeRef"],
            "ho_code": raw["HOCode"],
            "month": raw["ReportedDateTime"].str[6:10] + "-" + raw["ReportedDateTime"].str[3:5],
            "lsoa_code": raw["LSOA11Code"].replace("", None),
            "hate_strands": raw["HateStrands"],
        }
    )
    for src, dst in flags.items():
        out[dst] = raw[src].eq("Y")
    return out


def test_force_measures_equal_direct_counts_from_the_export(  # type: ignore[no-untyped-def]
    store, force_export: Path
) -> None:
    from peelian.data.ingest.force import ingest_force
    from peelian.jobs.measures import run_measures
    from peelian.offences import offence_set

    areas = demo_frames.fill_areas(store)
    report = ingest_force(store, [force_export], "synthetic_rms")
    occ_file = next(f for f in report["files"] if f["path"].endswith("occurrences.csv"))
    direct = _direct(force_export)
    assert occ_file["rows_read"] == len(direct)
    assert occ_file["rows_quarantined"] == 0  # so every file row must be counted
    assert source_months(store)["force"] == FORCE_MONTHS
    frame, people = force_measure_frame(store)
    assert frame["n"].sum() == len(direct) and people is None
    names = [
        "homicide",
        "knife-flagged-offences",
        "firearm-discharges",
        "sv-knife-crime",
        "sv-firearms-offences",
        "sv-serious-youth-violence",  # needs the people involved (ages)
        "sv-domestic-abuse",
        "drug-related-homicide",
    ]
    res = run_measures(store, measures=names, area_levels=("force", "csp"))
    v, monthly = res.values, res.monthly
    hom_codes = {"1", "4.1", "4.10", "4.2"}
    knife_codes = offence_set("knife-crime").codes
    sv_codes = offence_set("serious-violence").codes
    assert knife_codes is not None and sv_codes is not None
    # under 25 (report year minus birth year) as victim, suspect or offender
    inv = pd.read_csv(force_export / "involvements.csv", dtype=str)
    born = pd.read_csv(force_export / "persons.csv", dtype=str).set_index("PersonRef")
    inv = inv[inv["Role"].isin(["VIC", "SUS", "OFF"])]
    year = direct.set_index("crime_ref")["month"].str[:4].astype(int)
    age = inv["CrimeRef"].map(year) - inv["PersonRef"].map(born["BirthYear"]).astype(float)
    young = set(inv.loc[age < 25, "CrimeRef"])
    expect = {
        "homicide": direct["ho_code"].isin(hom_codes),
        "knife-flagged-offences": direct["ho_code"].isin(knife_codes) & direct["knife"],
        "sv-knife-crime": direct["ho_code"].isin(knife_codes) & direct["knife"],
        "firearm-discharges": direct["firearm_discharged"],
        "drug-related-homicide": direct["ho_code"].isin(hom_codes) & direct["drugs"],
        "sv-firearms-offences": direct["firearm_discharged"]
        | direct["ho_code"].isin({"10A", "10B", "81"}),
        "sv-domestic-abuse": offence_set("domestic-abuse").mask(direct).astype(bool),
        "sv-serious-youth-violence": direct["ho_code"].isin(sv_codes)
        & direct["crime_ref"].isin(young),
    }
    assert expect["knife-flagged-offences"].sum() > 50 and expect["homicide"].sum() >= 1
    csp_of = areas[areas["level"] == "lsoa11"].set_index("code")["csp_code"]
    for name, mask in expect.items():
        sel = direct[mask]
        f = v[(v["measure"] == name) & (v["area_level"] == "force")].iloc[0]
        assert f["current"] == (sel["month"] >= "2022-01").sum(), name
        assert f["comparison"] == (sel["month"] <= "2021-12").sum(), name
        assert f["compared_with"] == "previous 12 months"
        got = monthly[(monthly["measure"] == name) & (monthly["area_level"] == "force")]
        by_month = sel.groupby("month").size().reindex(FORCE_MONTHS, fill_value=0)
        assert got.set_index("month")["count"].astype(int).to_dict() == by_month.to_dict(), name
        csp = v[(v["measure"] == name) & (v["area_level"] == "csp")].set_index("area_code")
        want = sel[sel["month"] >= "2022-01"]["lsoa_code"].map(csp_of).value_counts()
        assert (
            csp["current"].astype(int).to_dict() == want.reindex(csp.index, fill_value=0).to_dict()
        )
    assert expect["sv-serious-youth-violence"].sum() > 20  # the per-crime path with people
    hom = v[(v["measure"] == "homicide") & (v["area_level"] == "force")].iloc[0]
    assert hom["narrative"].startswith(f"There {'was' if hom['current'] == 1 else 'were'} ")
    assert hom["test_used"].startswith("exact Poisson")


def test_people_based_sets_in_sql_equal_the_per_crime_frames(  # type: ignore[no-untyped-def]
    store, force_export: Path
) -> None:
    """Every offence set that looks at people (age, sex, role) selects the same crimes when
    compiled to SQL (person conditions as EXISTS, decision 0007) as on per-crime occurrences
    and involvements with ``OffenceSet.mask``."""
    from peelian.data.ingest.force import ingest_force
    from peelian.data.offence_sql import force_measure_counts
    from peelian.offences import offence_sets, serious_violence_types

    demo_frames.fill_areas(store)
    ingest_force(store, [force_export], "synthetic_rms")
    per_crime, inv = force_measure_frame(store, needs_people=True)
    assert per_crime is not None and inv is not None
    every = [*offence_sets().values(), *serious_violence_types().values()]
    sets = [s for s in every if s.needs_involvements]
    assert {"serious-youth-violence", "vawg"} <= {s.name for s in sets}
    counted = force_measure_counts(store, [(s.name, s.name, []) for s in sets])
    got = counted.groupby("measure")["count"].sum()
    for s in sets:
        want = int(s.mask(per_crime, inv).sum())
        assert int(got.get(s.name, 0)) == want, s.name
        assert want > 0, s.name  # each definition selects some crimes in the synthetic data


def test_provenance_says_which_sources_are_synthetic(  # type: ignore[no-untyped-def]
    store, force_export: Path
) -> None:
    from peelian.data.frames import data_status, is_synthetic_source, provenance
    from peelian.data.ingest.force import ingest_force
    from peelian.data.ingest.surveys import import_survey

    empty = provenance(store)
    assert empty["force"] == {"rows": 0, "synthetic_rows": 0, "synthetic": False}
    demo_frames.fill_areas(store)
    ingest_force(store, [force_export], "synthetic_rms")
    import_survey(store, force_export / "satisfaction_survey.csv")
    prov = data_status(store)["provenance"]
    n_occ = len(pd.read_csv(force_export / "occurrences.csv", usecols=[0]))
    n_survey = len(pd.read_csv(force_export / "satisfaction_survey.csv", usecols=[0]))
    assert prov["force"] == {"rows": n_occ, "synthetic_rows": n_occ, "synthetic": True}
    assert prov["survey"] == {"rows": n_survey, "synthetic_rows": n_survey, "synthetic": True}
    synthetic = {k for k, v in prov.items() if v["synthetic"]}
    assert is_synthetic_source("survey", synthetic) and is_synthetic_source("force", synthetic)
    assert not is_synthetic_source("policeuk", synthetic)
    assert not is_synthetic_source("survey", {"force"})  # a real survey beside synthetic records


def test_population_by_year_sums_ages(store) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import insert

    from peelian.data.counts import population_by_year
    from peelian.data.tables import area_population

    assert population_by_year(store).empty
    pop = pd.read_csv(
        demo_frames.DEMO / "population" / "population19_lsoa11_northumbria.csv", nrows=3
    )
    pop20 = pd.read_csv(
        demo_frames.DEMO / "population" / "population20_lsoa11_northumbria.csv", nrows=3
    )
    rows = []
    for year, frame in ((2019, pop), (2020, pop20)):
        for _, r in frame.iterrows():
            for age in range(91):
                col = "90+" if age == 90 else str(age)
                rows.append(
                    {
                        "code": r["lsoa11_code"],
                        "level": "lsoa11",
                        "year": year,
                        "age": age,
                        "population": int(r[col]),
                    }
                )
    with store.begin() as conn:
        conn.execute(insert(area_population), rows)
    got = population_by_year(store).set_index(["code", "year"])["population"]
    for year, frame in ((2019, pop), (2020, pop20)):
        ages = [c for c in frame.columns if c.isdigit() or c == "90+"]
        for _, r in frame.iterrows():
            assert got[(r["lsoa11_code"], year)] == r[ages].sum()
    assert got[(pop["lsoa11_code"].iloc[0], 2019)] == 2026  # the published total


def test_satisfaction_by_csp_through_crime_references(  # type: ignore[no-untyped-def]
    store, force_export: Path
) -> None:
    """The survey has no area: each response is placed in a CSP through its crime reference
    (force record -> LSOA -> CSP). Percent satisfied with being kept informed, force and CSP,
    equals the figure computed directly from the export files."""
    from peelian.data.ingest.force import ingest_force
    from peelian.data.ingest.surveys import import_survey
    from peelian.jobs.measures import run_measures

    areas = demo_frames.fill_areas(store)
    ingest_force(store, [force_export / "occurrences.csv"], "synthetic_rms")
    rep = import_survey(store, force_export / "satisfaction_survey.csv")
    assert rep["files"][0]["rows_quarantined"] == 0
    res = run_measures(
        store,
        measures=["victim-kept-informed", "victim-satisfaction"],
        area_levels=("force", "csp"),
        period_end="2022-12",
    )
    v = res.values.set_index(["measure", "area_code"])
    survey = pd.read_csv(force_export / "satisfaction_survey.csv", dtype=str)
    occ = pd.read_csv(force_export / "occurrences.csv", dtype=str).set_index("CrimeRef")
    csp_of = areas[areas["level"] == "lsoa11"].set_index("code")["csp_code"]
    survey["csp"] = survey["CrimeRef"].map(occ["LSOA11Code"]).map(csp_of)
    cur = survey[survey["SurveyDate"].str[6:10] == "2022"]
    ki = pd.to_numeric(cur["KeptInformed"])
    answered = ki.notna()
    force = v.loc[("victim-kept-informed", "E23000007")]
    assert force["current"] == pytest.approx((ki[answered] >= 4).mean() * 100)
    assert (
        "satisfied with being kept informed in the 12 months to December 2022"
        in (force["narrative"])
    )
    csp_rows = res.values[
        (res.values["measure"] == "victim-kept-informed") & (res.values["area_level"] == "csp")
    ]
    assert len(csp_rows) == 6
    for code, group in cur[answered].groupby("csp"):
        row = v.loc[("victim-kept-informed", code)]
        sat = (pd.to_numeric(group["KeptInformed"]) >= 4).mean() * 100
        assert row["current"] == pytest.approx(sat), code
        assert f"in {row['area_name']} were satisfied with being kept informed" in row["narrative"]
    assert cur[answered]["csp"].notna().all()  # every synthetic response is about a known crime
    overall = v.loc[("victim-satisfaction", "E23000007")]
    assert overall["current"] == pytest.approx(
        (pd.to_numeric(cur["Overall"]).dropna() >= 4).mean() * 100
    )
    # the force level alone gives force rows only
    only_force = run_measures(
        store, measures=["victim-kept-informed"], area_levels=("force",), period_end="2022-12"
    )
    assert set(only_force.values["area_level"]) == {"force"}


def test_counts_are_kept_until_new_data_of_their_source_land(  # type: ignore[no-untyped-def]
    store, force_export: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Decision 0008: each distinct definition is counted once per data version; a survey
    import leaves the force counts valid, a new force batch makes them be counted again."""
    from sqlalchemy import func, select

    from peelian.data import offence_sql
    from peelian.data.count_cache import clear_count_cache, data_version
    from peelian.data.ingest.force import ingest_force
    from peelian.data.ingest.surveys import import_survey
    from peelian.data.tables import count_cache

    demo_frames.fill_areas(store)
    ingest_force(store, [force_export], "synthetic_rms")
    specs = [
        ("homicide", "homicide", []),
        ("knife-flagged-offences", "knife-crime", []),
        ("sv-knife-crime", "knife-crime", []),  # same definition: counted once, kept once
        ("knife-vawg", "vawg", ["knife"]),
    ]
    fresh = offence_sql.force_measure_counts(store, specs, cache=False)
    first = offence_sql.force_measure_counts(store, specs)
    pd.testing.assert_frame_equal(first, fresh)
    with store.engine.connect() as conn:
        kept = conn.execute(select(count_cache.c.what, count_cache.c.data_version)).all()
    assert sorted(w for w, _ in kept) == [
        "force-measure:homicide",
        "force-measure:knife-flagged-offences",
        "force-measure:knife-vawg",
    ]
    assert {v for _, v in kept} == {data_version(store, "force")}
    knife = first[first["measure"] == "knife-flagged-offences"]["count"].sum()
    assert knife == first[first["measure"] == "sv-knife-crime"]["count"].sum() > 0

    calls: list[int] = []
    real = offence_sql._count

    def counting(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(len(args[1]))
        return real(*args, **kwargs)

    monkeypatch.setattr(offence_sql, "_count", counting)
    pd.testing.assert_frame_equal(offence_sql.force_measure_counts(store, specs), fresh)
    import_survey(store, force_export / "satisfaction_survey.csv")  # another source
    pd.testing.assert_frame_equal(offence_sql.force_measure_counts(store, specs), fresh)
    assert calls == []  # both answered from the cache
    # a definition not counted yet goes to the database alone
    more = offence_sql.force_measure_counts(store, [*specs, ("csea", "csea", [])])
    assert calls == [1] and set(more["measure"]) == {*first["measure"], "csea"}
    # a new force batch (here: the same files again, stored unchanged) invalidates every entry
    ingest_force(store, [force_export], "synthetic_rms")
    pd.testing.assert_frame_equal(offence_sql.force_measure_counts(store, specs), fresh)
    assert calls == [1, 3]  # the three distinct definitions, in one GROUP BY
    with store.engine.connect() as conn:
        n = conn.execute(select(func.count()).select_from(count_cache)).scalar()
    assert n == 3  # the stale entries were dropped when the fresh ones were kept
    assert clear_count_cache(store) == 3


def test_counts_without_a_writable_cache(store) -> None:  # type: ignore[no-untyped-def]
    """The cache is an optimisation only: without its table the counts come from the records."""
    from peelian.data.tables import count_cache

    filled = demo_frames.fill_store(store, months=("2021-01", "2021-02"))
    count_cache.drop(store.engine)
    assert policeuk_counts(store)["n"].sum() == filled["events"]
    assert policeuk_counts(store)["n"].sum() == filled["events"]


def test_policeuk_counts_cached(store) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import text

    from peelian.data.count_cache import data_version, read_counts

    demo_frames.fill_store(store, months=("2021-01", "2021-03"))
    a = policeuk_counts(store)
    b = policeuk_counts(store)
    pd.testing.assert_frame_equal(a, b)
    c = policeuk_counts(store, cache=False)
    pd.testing.assert_frame_equal(a, c)
    with store.engine.connect() as conn:
        keys = [r[0] for r in conn.execute(text("SELECT key FROM count_cache"))]
    assert len(keys) == 1
    assert len(read_counts(store, keys, data_version(store, "policeuk"))) == 1
    assert read_counts(store, keys, "policeuk:0:0") == {}  # another version: not served
