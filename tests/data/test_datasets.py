"""The bundled demo data is found, complete and intact (it is committed to the repository)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from peelian.data import datasets
from peelian.errors import NotFoundError

REPO = Path(__file__).resolve().parents[2]


def test_demo_data_dir_is_the_repository_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PEELIAN_DEMO_DATA", raising=False)
    assert datasets.demo_data_dir() == REPO / "demo-data"


def test_env_var_overrides_and_a_bad_one_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PEELIAN_DEMO_DATA", str(REPO / "demo-data"))
    assert datasets.demo_data_dir() == REPO / "demo-data"
    monkeypatch.setenv("PEELIAN_DEMO_DATA", str(tmp_path))
    with pytest.raises(NotFoundError, match="PEELIAN_DEMO_DATA"):
        datasets.demo_data_dir()


def test_missing_file_is_a_not_found_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PEELIAN_DEMO_DATA", raising=False)
    with pytest.raises(NotFoundError, match="no file 'nope.csv'"):
        datasets.demo_file("nope.csv")


def test_policeuk_zip_is_the_published_28_months() -> None:
    path = datasets.demo_policeuk_zip()
    with zipfile.ZipFile(path) as zf:
        months = sorted({n.split("/")[0] for n in zf.namelist() if n.endswith(".csv")})
        stops = {n.split("/")[0] for n in zf.namelist() if n.endswith("stop-and-search.csv")}
    assert len(months) == 28 and months[0] == "2020-05" and months[-1] == "2022-08"
    assert set(months) - stops == {"2022-01"}  # as published: no stop-and-search for 2022-01
    files = {e["file"]: e for e in datasets.demo_manifest()["files"]}
    entry = files[datasets.DEMO_POLICEUK_ZIP]
    assert entry["rows_by_kind"]["street"] == 449_089
    assert entry["sha256"] == "622add59d0d29ab911d71268b1dd4e080ce8fe3d717e6454ed7444d5cea157e4"


def test_every_file_matches_its_manifest_and_fits_the_budget() -> None:
    status = datasets.verify_demo_data()
    assert len(status) == 20 and set(status.values()) == {"ok"}
    root = datasets.demo_data_dir()
    total = sum(p.stat().st_size for p in root.rglob("*") if p.is_file())
    assert total <= 40 * 1024 * 1024


def test_attribution_carries_the_licence_texts() -> None:
    text = (datasets.demo_data_dir() / "ATTRIBUTION.md").read_text()
    assert (
        "Contains public sector information licensed under the Open Government Licence v3.0" in text
    )
    assert "Contains OS data © Crown copyright and database right" in text
    for entry in datasets.demo_manifest()["files"]:
        assert entry["sha256"] in text
