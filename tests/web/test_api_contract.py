"""The API's contract and robustness (issue 11 items 7, 10, 13; issue 13 items 2, 7).

- The documented sequence ``areas load`` -> ``ingest policeuk`` -> ``measures --save`` -> the
  overview answers 200 on SQLite and PostgreSQL (flags saved as booleans, not 'True'/'False').
- After a 500 the next request on the same keep-alive connection is still answered.
- Integers past 64 bits give a 422 with the one error shape; every 405 names what is allowed.
- The one response cache is bounded and keyed only on validated parameters.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner
from web_seed import PASSWORD, login

from peelian.cli import app as cli_app
from peelian.config import Settings
from peelian.data.results import latest_result, load_result, save_result
from peelian.data.users import add_user
from peelian.web import create_app

FIXTURES = Path(__file__).parents[1] / "fixtures"
runner = CliRunner()


def _settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, env="test", secret_key="test-secret-" + "x" * 32)


# -- issue 11 item 10: the documented sequence, then the overview -------------------------------
@pytest.mark.slow
def test_documented_sequence_then_overview(db_url: str, store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    for args in (
        ["areas", "load", "--db", db_url],
        ["ingest", "policeuk", str(FIXTURES / "policeuk" / "northumbria"), "--db", db_url],
        ["measures", "--db", db_url, "--save"],
    ):
        res = runner.invoke(cli_app, args)
        assert res.exit_code == 0, (args[0], res.output[-2000:])
    values = latest_result(store, "measures", "all").frames["values"]
    # Flags come back as flags: booleans (with gaps where a measure has no figure).
    for col in ("significant", "baseline_available"):
        assert str(values[col].dtype) == "boolean", (col, values[col].dtype)
    assert set(values["significant"].dropna().unique()) <= {True, False}
    assert values["significant"].notna().sum() > 1000

    add_user(store, "viewer1", PASSWORD, "viewer")
    with TestClient(create_app(_settings(tmp_path), store=store)) as client:
        assert login(client, "viewer1").status_code == 303
        res = client.get("/index.json")
        assert res.status_code == 200, res.text
        body = res.json()
        assert body["measures"] and body["measures_empty"] is None
        assert all(row["significant"] in (True, False, None) for row in body["measures"])
        assert client.get("/").status_code == 200
        res = client.get("/api/measures", params={"area_level": "csp", "significant": "false"})
        assert res.status_code == 200 and res.json()["total"] > 0
        assert all(row["significant"] is False for row in res.json()["items"])


def test_flags_round_trip_and_old_string_flags_are_read_as_booleans(store) -> None:  # type: ignore[no-untyped-def]
    frame = pd.DataFrame(
        {
            "area_code": ["E1", "E2", "E3", "E4"],
            "significant": pd.Series([True, None, False, float("nan")], dtype=object),
            "n": pd.Series([1, None, 3, 4], dtype=object),
            "note": ["a", None, "b", "c"],
        }
    )
    run = load_result(store, save_result(store, "measures", "flags", {"values": frame}))
    got = run.frames["values"]
    assert str(got["significant"].dtype) == "boolean"
    assert got["significant"].tolist()[0] is True and got["significant"].tolist()[2] is False
    assert got["significant"].isna().tolist() == [False, True, False, True]
    assert got["n"].tolist()[0] == 1.0 and pd.isna(got["n"].iloc[1])
    assert got["note"].tolist()[0] == "a"
    # A run saved by older code, whose flags were stringified before saving.
    old = frame.assign(significant=pd.array(["True", None, "False", None], dtype="string"))
    run = load_result(store, save_result(store, "measures", "old", {"values": old}))
    flags = run.frames["values"]["significant"]
    assert (
        str(flags.dtype) == "boolean"
        and flags.tolist()[::2] == [True, False]
        and flags.isna().sum() == 2
    )
