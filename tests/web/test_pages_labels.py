"""Synthetic and old-data labels on the forecasts, hotspots and map pages (issue 12 item 8), and
the hotspot page's wording through the one formatter (item 9)."""

from __future__ import annotations

from peelian.data.results import latest_result, save_result
from peelian.schemas.formatting import fdr_label, fmt_distance


def _grip_run(store, summary: dict) -> int:
    old = latest_result(store, "grip_plan", "grip")
    return save_result(store, "grip_plan", "grip", old.frames, summary=summary)


def test_grip_plan_from_synthetic_old_records_is_labelled(store, seeded, viewer) -> None:
    meta = {
        "source": {"source": "force records", "selection": "serious violence", "synthetic": True},
        "months": ["2021-09", "2022-08"],
        "summary": {"start": "2026-12-07", "hotspots": 3},
    }
    _grip_run(store, meta)
    data = viewer.get("/forecasts.json").json()
    assert data["grip"]["synthetic"] is True
    assert data["grip"]["data_age"].startswith(
        "The data end in August 2022, 4 years 3 months before the first visit (7 December 2026)"
    )
    assert any(f.startswith("Grip patrol plan") for f in data["synthetic_figures"])
    # the police.uk backtest and forecast are not labelled synthetic
    assert not any(
        f.startswith(("Backtest", "Current forecast")) for f in data["synthetic_figures"]
    )
    html = viewer.get("/forecasts").text
    assert "<strong>Synthetic data:</strong>" in html and "Grip patrol plan: hotspots" in html
    assert "<strong>Old data:</strong> The data end in August 2022" in html


def test_real_grip_plan_has_no_labels(store, seeded, viewer) -> None:
    _grip_run(
        store,
        {
            "source": {"source": "police.uk (fallback)", "synthetic": False},
            "months": ["2021-01", "2021-12"],
            "summary": {"start": "2022-01-03"},
        },
    )
    data = viewer.get("/forecasts.json").json()
    assert data["grip"]["synthetic"] is False and data["grip"]["data_age"] is None
    assert data["synthetic_figures"] == []
    assert "Synthetic data:" not in viewer.get("/forecasts").text


def test_hotspots_from_synthetic_force_records_are_labelled(
    store, seeded, viewer, monkeypatch
) -> None:
    import peelian.web.services.status as status

    old = latest_result(store, "gistar")
    save_result(
        store, "gistar", "force-burglary", old.frames, summary={**old.summary, "source": "force"}
    )
    monkeypatch.setattr(status, "synthetic_sources", lambda ctx: {"force"})
    data = viewer.get("/hotspots.json", params={"name": "force-burglary"}).json()
    assert data["synthetic_figures"] == ["Getis-Ord Gi* hot and cold spots"]
    html = viewer.get("/hotspots", params={"name": "force-burglary"}).text
    assert "<li>Getis-Ord Gi* hot and cold spots</li>" in html
    # the police.uk crime set is not labelled
    assert viewer.get("/hotspots.json").json()["synthetic_figures"] == []


def test_hotspot_wording_uses_the_formatter(store, seeded, viewer) -> None:
    old = latest_result(store, "kde")
    save_result(
        store,
        "kde",
        old.name,
        old.frames,
        params={"bandwidth": 882.3753250782007, "kernel": "quartic"},
        summary={"bandwidth": 882.3753250782007, "kernel": "quartic"},
    )
    g = latest_result(store, "gistar")
    save_result(
        store, "gistar", g.name, g.frames, summary={**g.summary, "fdr": True, "alpha": 0.05}
    )
    html = viewer.get("/hotspots").text
    assert "Bandwidth 882 m" in html and fmt_distance(882.3753250782007) == "882 m"
    assert "882.375" not in html
    assert f"significance after {fdr_label(0.05)}" in html
    assert "at True" not in html


def test_area_profile_prints_the_decile_as_a_whole_number(viewer) -> None:
    data = viewer.get("/areas/E01030007.json").json()
    assert data["area"]["imd_decile"] == 8
    html = viewer.get("/areas/E01030007").text
    assert "IMD decile 8 (1 = most deprived)" in html and "IMD decile 8.0" not in html
