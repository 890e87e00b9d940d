"""The National Crime Measures report: context, HTML, PDF, actions file, CLI."""

from __future__ import annotations

import pytest
from web_seed import measure_frames, seed_all

from peelian.data.results import save_result
from peelian.errors import NotFoundError, ParameterError, SchemaError
from peelian.reports import build_ncpm_context, build_ncpm_report, load_actions


def test_sections_follow_the_northumbria_document_with_engine_figures(store) -> None:
    seed_all(store)
    ctx = build_ncpm_context(store)
    assert ctx["period_end"] == "2021-12" and ctx["period_label"] == "December 2021"
    titles = [(s["number"], s["title"]) for s in ctx["sections"]]
    assert titles == [
        (1, "Reduce homicides"),
        (2, "Reduce serious violence"),
        (3, "Disrupt drugs supply and county lines"),
        (4, "Reduce neighbourhood crime"),
        (5, "Improving victim satisfaction"),
        (6, "Tackling cyber crime"),
    ]
    values = measure_frames()["values"]
    force = values[values["area_level"] == "force"].set_index("measure")
    homicide = ctx["sections"][0]["measures"][0]
    assert homicide["measure"] == "homicide"
    assert homicide["current"] == force.loc["homicide", "current"]
    assert homicide["narrative"] == force.loc["homicide", "narrative"]
    assert homicide["chart"].startswith("data:image/svg+xml;base64,")
    assert [c["area_name"] for c in homicide["csp"]] == ["Gateshead", "Newcastle upon Tyne"]
    # section 5 (victim satisfaction) holds the ncpm-6 measure; 6 (cyber) the ncpm-5 one
    assert ctx["sections"][4]["measures"][0]["measure"] == "victim-satisfaction"
    assert ctx["sections"][5]["measures"][0]["measure"] == "cyber-enabled-crime"
    assert "Project Adder" in " ".join(ctx["sections"][0]["actions"])
    assert "drug-related-homicide" in ctx["sections"][2]["missing"]  # ncpm 3 in the catalogue
    assert ctx["synthetic"] is True  # force-sourced measures in the fixture


def test_html_has_every_section_intervals_actions_methods_and_attribution(store) -> None:
    seed_all(store)
    html = build_ncpm_report(store, fmt="html").content.decode()
    for text in (
        "1) Reduce homicides",
        "6) Tackling cyber crime",
        "Rate ratio (95% CI)",
        "GRIP Programme",
        "Method notes",
        "Benjamini",
        "widened by its square root",
        "Open Government Licence",
        "Synthetic data",
        '<img class="chart"',
    ):
        assert text in html, text
    assert "http://" not in html and "https://" not in html  # nothing fetched from the network


def test_pdf_is_a_real_pdf(store) -> None:
    seed_all(store)
    report = build_ncpm_report(store, period_end="2021-12", fmt="pdf")
    assert report.content.startswith(b"%PDF-") and len(report.content) > 20_000
    assert report.period_end == "2021-12"


def test_custom_actions_file_and_its_errors(store, tmp_path) -> None:
    seed_all(store)
    mine = tmp_path / "actions.yaml"
    mine.write_text(
        "title: Our measures\nsections:\n  - number: 1\n    title: Homicide\n    ncpm: 1\n"
        "    actions: |\n      First.\n\n      Second paragraph.\n",
        encoding="utf-8",
    )
    ctx = build_ncpm_context(store, actions_path=mine)
    assert ctx["title"] == "Our measures" and len(ctx["sections"]) == 1
    assert ctx["sections"][0]["actions"] == ["First.", "Second paragraph."]
    bad = tmp_path / "bad.yaml"
    bad.write_text("sections:\n  - title: no number\n", encoding="utf-8")
    with pytest.raises(SchemaError, match="lacks number"):
        load_actions(bad)
    with pytest.raises(ParameterError, match="does not exist"):
        load_actions(tmp_path / "missing.yaml")


def test_wrong_period_and_no_measures_say_what_to_run(store) -> None:
    with pytest.raises(NotFoundError, match="measures"):
        build_ncpm_context(store)
    save_result(store, "measures", "all", measure_frames())
    with pytest.raises(ParameterError, match="peelian measures --period-end 2022-03 --save"):
        build_ncpm_context(store, period_end="2022-03")
