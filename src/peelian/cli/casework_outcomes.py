"""``peelian casework outcomes``: outcome tracking of interventions and referrals (issue 14
item 3). Without options, the summary per prevention tier and intervention type; with
``--intervention`` or ``--referral``, one record's outcomes (a person's need ``--purpose``, and
the read is audited as ``cli``). The command line acts as an admin and sees small counts."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from peelian.cli._common import DbOption, JsonOption, console, handle_errors, print_json, store_for

__all__ = ["outcomes"]


def _summary_table(summary: dict[str, Any]) -> Table:
    from peelian.schemas.formatting import fmt_count, fmt_interval, fmt_number, fmt_p_value

    t = Table(title="Outcomes per prevention tier and intervention type")
    for col in (
        "Target",
        "Tier",
        "Type",
        "Measure",
        "Months",
        "Complete / all",
        "Before",
        "After",
        "Rate ratio (CI)",
        "p",
        "q (BH)",
        "None after",
    ):
        t.add_column(col)
    for r in [*summary["people"], *summary["places"]]:
        share = (
            f"{fmt_count(r['none_after'])} of {fmt_count(r['complete'])}"
            + (
                f" ({fmt_interval(r['none_after_ci_low'], r['none_after_ci_high'])})"
                if r["none_after_share"] is not None
                else ""
            )
            if r["none_after"] is not None
            else "hidden"
        )
        t.add_row(
            "People" if r["target"] == "people" else "Places",
            r["tier_label"],
            r["type_label"],
            r["measure_label"],
            str(r["months"]),
            f"{fmt_count(r['complete'])} / {fmt_count(r['units'])}",
            fmt_count(r["before"]),
            fmt_count(r["after"]),
            f"{fmt_number(r['rate_ratio'], 2)} ({fmt_interval(r['ci_low'], r['ci_high'])})",
            fmt_p_value(r["p_value"]),
            fmt_p_value(r["q_value"]),
            share,
        )
    return t


@handle_errors
def outcomes(
    intervention: Annotated[
        int | None, typer.Option("--intervention", help="One intervention's outcomes.")
    ] = None,
    referral: Annotated[
        int | None, typer.Option("--referral", help="One referral's outcomes.")
    ] = None,
    purpose: Annotated[
        str | None,
        typer.Option("--purpose", help="Why (needed for a person's outcomes; audited)."),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the summary as CSV to this file.")
    ] = None,
    level: Annotated[float, typer.Option("--level", help="Confidence level.")] = 0.95,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Offending and victimisation before and after (people), crime before and after (places),
    and the summary per tier and type with exact intervals. Before/after is not causal."""
    from peelian.casework.organisations import SYSTEM
    from peelian.casework.outcomes import intervention_outcomes, referral_outcomes

    store = store_for(db, must_exist=True)
    if intervention is not None or referral is not None:
        if referral is not None:
            one = referral_outcomes(store, SYSTEM, referral, purpose=purpose)
        else:
            one = intervention_outcomes(store, SYSTEM, int(intervention or 0), purpose=purpose)
        print_json(one) if as_json else _print_one(one)
        return
    from peelian.casework.outcomes_summary import OUTCOME_COLUMNS, outcome_rows, outcome_summary
    from peelian.cli.casework import write_csv

    summary = outcome_summary(store, SYSTEM, level=level, export=out is not None)
    if out is not None:
        n = write_csv(outcome_rows(summary), OUTCOME_COLUMNS, out)
        console.print(f"Wrote {n} outcome rows to {out} (the export is audited).")
        return
    if as_json:
        print_json(summary)
        return
    if not summary["people"] and not summary["places"]:
        console.print(
            "No interventions or referrals with outcomes to track yet: register some with "
            "`peelian casework interventions add` or `peelian casework referrals add`."
        )
    else:
        console.print(_summary_table(summary))
    if summary["synthetic"]:
        console.print("Figures from people are derived from SYNTHETIC force records.")
    console.print(summary["not_causal"])


def _print_one(one: dict[str, Any]) -> None:
    if not one.get("tracked", True):
        console.print(one["reason"])
        return
    if one.get("note"):
        console.print(one["note"])
    for w in one.get("windows", []):
        if one["target_kind"] == "person":
            for m in ("offending", "victimisation"):
                x = w[m]
                console.print(
                    f"{w['months']} months, {x['label']}: {x['before']} before, {x['after']} "
                    f"after{' so far' if x['after_so_far'] else ''}. {x['status']}"
                )
        else:
            c = w["comparison"]
            console.print(
                f"{w['months']} months (police.uk, {one['area_code']}): {w['before']} before, "
                f"{w['after']} after"
                f"{' so far' if w['after_so_far'] else ''}. {w['status']}"
                + (f" {c['narrative']}" if c else "")
            )
    console.print(one["not_causal"])
