"""The one parameter validator (issue 13 item 3): constraints as data in each package, one
checking function and one message shape in the vocabulary, used by the grid/hotspot functions
and the forecasters alike."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from peelian.errors import ParameterError
from peelian.schemas.params import (
    boolean,
    check_params,
    integer,
    number,
    one_of,
    or_none,
    probability,
)

SRC = Path(__file__).parents[2] / "src" / "peelian"

TABLE = {
    "cell_size": number(gt=0),
    "weight": number(ge=0),
    "alpha": probability(),
    "k": integer(ge=1),
    "oversample": integer(ge=1, odd=True),
    "resolution": integer(ge=0, le=15),
    "fdr": boolean(),
    "kind": one_of("square", "hex"),
    "bandwidth": or_none(number(gt=0)),
}


@pytest.mark.parametrize(
    ("name", "value", "what"),
    [
        ("cell_size", -5, "a number > 0"),
        ("cell_size", float("nan"), "a number > 0"),
        ("cell_size", True, "a number > 0"),
        ("weight", -0.1, "a number >= 0"),
        ("alpha", 1.0, "a number strictly between 0 and 1"),
        ("k", 2.0, "an integer >= 1"),
        ("k", 0, "an integer >= 1"),
        ("oversample", 4, "an odd integer >= 1"),
        ("resolution", 16, "an integer from 0 to 15"),
        ("fdr", "yes", "True or False"),
        ("kind", "hexagon", "one of 'square', 'hex'"),
    ],
)
def test_one_message_shape(name, value, what) -> None:
    with pytest.raises(ParameterError) as err:
        check_params("gistar", {name: value}, TABLE)
    assert err.value.message == f"The {name!r} parameter of gistar must be {what}. Got {value!r}."


def test_valid_values_none_and_unknown_names_pass() -> None:
    check_params(
        "gistar",
        {"cell_size": np.float64(250), "k": np.int64(3), "fdr": np.bool_(True), "other": -1},
        TABLE,
    )
    check_params("gistar", {"cell_size": None}, TABLE)  # None: choose automatically
    with pytest.raises(ParameterError, match="must be a number > 0. Got None"):
        check_params("f", {"cell_size": None}, TABLE, none_ok=False)
    check_params("f", {"bandwidth": None}, TABLE, none_ok=False)
    with pytest.raises(ParameterError, match="must be a number > 0 or None. Got 0"):
        check_params("f", {"bandwidth": 0}, TABLE, none_ok=False)


def test_grid_and_forecast_checks_use_it() -> None:
    from peelian.analysis.forecast import MovingAverage
    from peelian.analysis.forecast._base import validate_params
    from peelian.analysis.grid import check_params as grid_check

    with pytest.raises(ParameterError) as err:
        grid_check("gistar", {"cell_size": -5})
    assert err.value.message == "The 'cell_size' parameter of gistar must be a number > 0. Got -5."
    with pytest.raises(ParameterError, match="'k' parameter of MovingAverage must be an integer"):
        validate_params(
            "MovingAverage", MovingAverage._constraints, MovingAverage(k=0).get_params()
        )
    # one implementation of the message: no other module formats it
    shape = re.compile(r"parameter of \{(func|owner)\} must be \{what\}")
    found = sorted(
        str(p.relative_to(SRC)) for p in SRC.rglob("*.py") if shape.search(p.read_text())
    )
    assert found == ["schemas/params.py"]
