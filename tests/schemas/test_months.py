"""The one month parser: ``2022-13``, ``Aug-2021`` and reversed ranges get a clear message in the
vocabulary, the CLI, the API and the jobs alike (issue 12, "Months are validated everywhere")."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from peelian.cli import app
from peelian.errors import ParameterError
from peelian.schemas.months import (
    MONTH_PATTERN,
    check_month,
    check_month_range,
    month_index,
    month_label,
    months_between,
    parse_month,
)

runner = CliRunner()


@pytest.mark.parametrize("good", ["2021-01", "2022-12", "1999-10", " 2022-08 "])
def test_parse_month_accepts_yyyy_mm(good):
    assert parse_month(good) == good.strip()
    assert re.match(MONTH_PATTERN, good.strip())


@pytest.mark.parametrize(
    ("bad", "says"),
    [
        ("2022-13", "there is no month 13"),
        ("2022-00", "there is no month 00"),
        ("Aug-2021", "Did you mean 2021-08?"),
        ("August 2021", "Did you mean 2021-08?"),
        ("2021/8", "Did you mean 2021-08?"),
        ("08-2021", "Did you mean 2021-08?"),
        ("2021-8", "Did you mean 2021-08?"),
        ("last year", "For example 2022-08."),
        (202108, "For example 2022-08."),
    ],
)
def test_parse_month_refuses_with_a_clear_message(bad, says):
    with pytest.raises(ParameterError) as err:
        parse_month(bad, "--from")
    assert err.value.message.startswith("The '--from' option must be YYYY-MM, a year and month.")
    assert says in str(err.value)
    if isinstance(bad, str):
        assert not re.match(MONTH_PATTERN, bad)


def test_parameter_names_and_optional_values():
    with pytest.raises(ParameterError, match="The 'month_from' parameter"):
        check_month("2022-13", "month_from")
    assert check_month(None, "month_from") is None
    assert check_month("", "month_from") is None


def test_reversed_range_is_refused_and_open_ends_pass():
    with pytest.raises(ParameterError) as err:
        check_month_range("2022-08", "2021-08", ("--from", "--to"))
    assert "reversed" in err.value.message and "--from 2022-08 is after --to 2021-08" in str(
        err.value
    )
    assert err.value.hint == "Swap them: --from 2021-08 --to 2022-08."
    assert check_month_range(None, "2022-08") == (None, "2022-08")
    assert check_month_range("2022-08", "2022-08") == ("2022-08", "2022-08")


def test_month_arithmetic():
    assert months_between("2021-11", "2022-02") == ["2021-11", "2021-12", "2022-01", "2022-02"]
    assert month_label(month_index("2021-12") + 1) == "2022-01"
    with pytest.raises(ParameterError, match="reversed"):
        months_between("2022-02", "2021-11")


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--from", "Aug-2021", "--to", "2022-08"], "Did you mean 2021-08?"),
        (["--from", "2022-13"], "there is no month 13"),
        (["--from", "2022-08", "--to", "2021-08"], "Swap them: --from 2021-08 --to 2022-08."),
    ],
)
def test_cli_hotspots_refuses_bad_months(tmp_path, args, says):
    """Before: `--from Aug-2021` said "no burglary between Aug-2021 and 2022-08" (exit 5)."""
    db = f"sqlite:///{tmp_path / 'm.sqlite'}"
    result = runner.invoke(
        app, ["hotspots", "count", "--crime-type", "burglary", *args, "--db", db]
    )
    assert result.exit_code == 2, result.output
    assert says in result.output
    assert "no burglary" not in result.output.lower()


def test_cli_forecast_backtest_refuses_a_month_name(tmp_path):
    db = f"sqlite:///{tmp_path / 'm.sqlite'}"
    result = runner.invoke(
        app,
        [
            "forecast",
            "backtest",
            "--crime-type",
            "burglary",
            "--test-from",
            "Mar-2022",
            "--test-to",
            "2022-08",
        ]
        + ["--db", db],
    )
    assert result.exit_code == 2, result.output
    assert "'--test-from' option" in result.output and "Did you mean 2022-03?" in result.output


def test_jobs_and_analysis_use_the_parser():
    from peelian.analysis.hotspots import stability

    with pytest.raises(ParameterError, match="Did you mean 2021-08"):
        # pandas alone would read "Aug-2021" as a month
        stability(None, None, period_a=("Aug-2021", "2021-12"), period_b=("2022-01", "2022-08"))
    with pytest.raises(ParameterError, match="reversed"):
        stability(None, None, period_a=("2021-12", "2021-08"), period_b=("2022-01", "2022-08"))


def test_data_layer_reads_refuse_bad_months(store) -> None:  # type: ignore[no-untyped-def]
    """load_events used to compare "Aug-2021" as text (an empty frame); force-record dates
    read "Aug-2021" as 1 August through pandas."""
    from peelian.data.force_frames import load_occurrences
    from peelian.data.frames import load_events

    with pytest.raises(ParameterError, match="Did you mean 2021-08"):
        load_events(store, month_from="Aug-2021")
    with pytest.raises(ParameterError, match="reversed"):
        load_events(store, month_from="2022-08", month_to="2021-08")
    with pytest.raises(ParameterError, match="Did you mean 2021-08"):
        load_occurrences(store, date_from="Aug-2021")
    assert load_events(store, month_from="2021-08", month_to="2022-08").empty
