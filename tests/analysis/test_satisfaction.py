"""Survey import (reconciliation) and satisfaction analysis, against statsmodels."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from statsmodels.stats.proportion import proportion_confint
from typer.testing import CliRunner

from peelian.analysis.measures import (
    satisfaction_drivers,
    satisfaction_measure_rows,
    satisfaction_rates,
)
from peelian.analysis.stats import bh_adjust
from peelian.cli import app
from peelian.data.ingest.surveys import import_survey, load_survey_responses
from peelian.errors import EmptySelectionError, IngestError
from peelian.schemas.measure_definitions import load_measure_definitions

HEADER = "ResponseRef,SurveyDate,CrimeRef,CrimeType,DomesticAbuse,Overall,Contact,Actions,KeptInformed,Treatment"


def _survey(n: int = 1200, seed: int = 4) -> pd.DataFrame:
    """Responses where not being kept informed drives overall dissatisfaction (built in code)."""
    rng = np.random.default_rng(seed)
    days = pd.to_datetime("2020-09-01") + pd.to_timedelta(rng.integers(0, 730, n), unit="D")
    informed = rng.choice([1, 2, 3, 4, 5], n, p=[0.15, 0.15, 0.1, 0.3, 0.3])
    contact = rng.choice([2, 3, 4, 5], n, p=[0.05, 0.05, 0.4, 0.5])
    logit = -2.2 + 2.0 * (informed < 4) + 0.3 * (contact < 4)
    unhappy = rng.uniform(size=n) < 1 / (1 + np.exp(-logit))
    overall = np.where(unhappy, rng.choice([1, 2, 3], n), rng.choice([4, 5], n))
    return pd.DataFrame(
        {
            "ResponseRef": [f"R{i:05d}" for i in range(n)],
            "SurveyDate": days.strftime("%d/%m/%Y"),
            "CrimeRef": [f"C{i}" for i in range(n)],
            "CrimeType": rng.choice(
                ["Burglary", "Violence and sexual offences", "Vehicle crime"], n
            ),
            "DomesticAbuse": rng.choice(["Y", "N"], n, p=[0.3, 0.7]),
            "Overall": overall,
            "Contact": contact,
            "Actions": rng.choice([3, 4, 5], n),
            "KeptInformed": informed,
            "Treatment": rng.choice([4, 5], n),
        }
    )


def _write(df: pd.DataFrame, path: Path, extra: str = "") -> Path:
    path.write_text(HEADER + "\n" + df.to_csv(index=False, header=False) + extra, encoding="utf-8")
    return path


def test_import_reconciles_and_replaces(store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    df = _survey(300)
    bad = (
        "R99991,31/02/2021,,Burglary,N,4,4,4,4,4\nR99992,01/03/2021,,Burglary,N,7,4,4,4,4\n"
        "R99993,01/03/2021,,Burglary,maybe,4,4,4,4,4\n,01/03/2021,,Burglary,N,4,4,4,4,4\n"
        "R00001,01/03/2021,,Burglary,N,4,4,4,4,4\n"
    )
    (tmp_path / "SYNTHETIC_DATA_README.txt").write_text("synthetic", encoding="utf-8")
    f = _write(df, tmp_path / "satisfaction_survey.csv", bad)
    entry = import_survey(store, f)["files"][0]
    assert (entry["rows_read"], entry["rows_stored"], entry["rows_quarantined"]) == (305, 300, 5)
    assert entry["reasons"] == {
        "bad_date": 1,
        "bad_flag": 1,
        "bad_score": 1,
        "duplicate_response_ref": 1,
        "missing_response_ref": 1,
    }
    again = import_survey(store, f)["files"][0]
    assert again["action"] == "unchanged" and again["rows_stored"] == 0
    (tmp_path / "real").mkdir()
    generic = tmp_path / "real" / "generic.csv"
    generic.write_text(
        "response_id,date,crime_type,domestic_abuse,overall,kept_informed\n"
        "R00000,2021-03-01,Burglary,no,5,\nG1,2021-03-02,Robbery,yes,2,1\n",
        encoding="utf-8",
    )
    g = import_survey(store, generic)["files"][0]
    assert g["rows_stored"] == 2 and g["responses_replaced"] == 1
    loaded = load_survey_responses(store)
    assert len(loaded) == 301 and loaded["synthetic"].sum() == 299
    r0 = loaded.set_index("response_ref").loc["R00000"]
    assert r0["overall"] == 5 and pd.isna(r0["kept_informed"])
    nope = tmp_path / "nope.csv"
    nope.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(IngestError, match="not a recognised survey layout"):
        import_survey(store, nope)


def _frame(df: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame(
        {
            "month": pd.to_datetime(df["SurveyDate"], dayfirst=True).dt.strftime("%Y-%m"),
            "crime_type": df["CrimeType"],
            "domestic_abuse": df["DomesticAbuse"].eq("Y"),
            "overall": df["Overall"],
            "contact": df["Contact"],
            "actions": df["Actions"],
            "kept_informed": df["KeptInformed"],
            "treatment": df["Treatment"],
        }
    )
    out.loc[::50, "kept_informed"] = np.nan
    return out


def test_rates_match_statsmodels_wilson() -> None:
    r = _frame(_survey())
    by = satisfaction_rates(r, by=["domestic_abuse"])
    for row in by.itertuples():
        sub = r[r["domestic_abuse"] == row.domestic_abuse]
        sat = int((sub["overall"] >= 4).sum())
        lo, hi = proportion_confint(sat, len(sub), method="wilson")
        assert (row.satisfied, row.answered) == (sat, len(sub))
        assert row.ci_low == pytest.approx(lo * 100) and row.ci_high == pytest.approx(hi * 100)
    ki = satisfaction_rates(r, item="kept_informed")
    assert ki["answered"].iloc[0] == r["kept_informed"].notna().sum()
    q = satisfaction_rates(r, period="quarter")
    assert q["period"].iloc[0] == "2020Q3" and q["answered"].sum() == len(r)


def test_drivers_find_kept_informed_and_match_statsmodels() -> None:
    r = _frame(_survey())
    d = satisfaction_drivers(r)
    assert d.frame.iloc[0]["item"] == "kept_informed"
    assert "being kept informed is the strongest driver" in d.narrative
    cc = r.dropna()
    used = [i for i in ("contact", "actions", "kept_informed", "treatment") if (cc[i] < 4).any()]
    assert used == ["contact", "actions", "kept_informed"]  # treatment is never below 4 here
    x = sm.add_constant(np.column_stack([(cc[i] < 4).astype(float) for i in used]))
    fit = sm.Logit((cc["overall"] < 4).astype(float), x).fit(disp=0)
    ki = d.frame.set_index("item").loc["kept_informed"]
    assert ki["odds_ratio"] == pytest.approx(np.exp(fit.params.iloc[3]), rel=1e-6)
    assert ki["p_value"] == pytest.approx(fit.pvalues.iloc[3], rel=1e-4)
    assert np.isnan(d.frame.set_index("item").loc["treatment", "odds_ratio"])
    assert d.n_used == len(cc) and d.n_excluded == len(r) - len(cc)
    with pytest.raises(EmptySelectionError):
        satisfaction_drivers(r.head(20))


def test_survey_measure_rows() -> None:
    r = _frame(_survey())
    cat = load_measure_definitions().select(
        ["victim-satisfaction", "victim-satisfaction-domestic-abuse"]
    )
    months = sorted(r["month"].unique())
    rows = satisfaction_measure_rows(r, cat, "2022-08", months_covered=months)
    first = rows.iloc[0]
    cur = r[(r["month"] >= "2021-09") & (r["month"] <= "2022-08")]
    assert first["current"] == pytest.approx((cur["overall"] >= 4).mean() * 100)
    assert first["compared_with"] == "previous 12 months"
    assert 0 <= first["p_value"] <= 1
    assert "% of victims surveyed were satisfied with the service overall" in first["narrative"]
    assert "(domestic abuse)" in rows.iloc[1]["narrative"]


def test_survey_measure_rows_by_csp() -> None:
    """CSP rows from responses placed in a CSP (here: by crime type, a stand-in for the crime's
    LSOA); unplaced responses are counted in the force figure only and said; BH across CSPs."""
    r = _frame(_survey())
    codes = {"E08000021": "Newcastle upon Tyne", "E08000037": "Gateshead"}
    r["csp_code"] = np.where(r.index % 3 == 0, "E08000021", "E08000037")
    r.loc[r.index % 10 == 0, "csp_code"] = None
    cat = load_measure_definitions().select(["victim-kept-informed"])
    rows = satisfaction_measure_rows(
        r, cat, "2022-08", months_covered=sorted(r["month"].unique()), csps=codes
    ).set_index("area_code")
    assert list(rows["area_level"]) == ["force", "csp", "csp"]
    cur = r[(r["month"] >= "2021-09") & (r["month"] <= "2022-08")]
    for code in codes:
        sub = cur[(cur["csp_code"] == code) & cur["kept_informed"].notna()]
        assert rows.loc[code, "current"] == pytest.approx((sub["kept_informed"] >= 4).mean() * 100)
        assert (
            f"in {codes[code]} were satisfied with being kept informed"
            in rows.loc[code, "narrative"]
        )
    unplaced = int(cur["csp_code"].isna().sum())
    assert f"{unplaced} of the force's {len(cur)} responses" in rows.loc["E08000037", "note"]
    ps = rows.loc[list(codes), "p_value"].to_numpy()
    assert rows.loc[list(codes), "p_adjusted"].to_numpy() == pytest.approx(bh_adjust(ps))
    assert (
        "after adjusting for 2 community safety partnerships" in rows.loc["E08000021", "narrative"]
    )
    forced = rows.loc["force"]
    all_ki = cur[cur["kept_informed"].notna()]
    assert forced["current"] == pytest.approx((all_ki["kept_informed"] >= 4).mean() * 100)


def test_cli_import_and_report(store, db_url: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    f = _write(_survey(), tmp_path / "s.csv")
    runner = CliRunner()
    res = runner.invoke(app, ["satisfaction", "import", str(f), "--db", db_url])
    assert res.exit_code == 0, res.output
    assert "stored 1200" in res.stdout
    res = runner.invoke(app, ["satisfaction", "report", "--db", db_url, "--json"])
    assert res.exit_code == 0, res.output
    rep = json.loads(res.stdout)
    assert rep["responses"] == 1200
    assert rep["drivers"]["items"][0]["item"] == "kept_informed"
    text = runner.invoke(app, ["satisfaction", "report", "--db", db_url])
    assert "strongest driver" in text.stdout
