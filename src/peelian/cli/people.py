"""``peelian people``: prioritised people (RFG / RFGV), cohorts, de-selection, the 4-weekly
tasking list and fairness distributions (issue 15). Person-level: the command line acts as an
admin and every command is audited as ``cli`` with its ``--purpose`` (by default one naming the
command run)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from peelian.cli._common import DbOption, JsonOption, console, handle_errors, print_json, store_for

__all__ = ["people_app", "register"]

people_app = typer.Typer(
    help="Prioritised people (RFG/RFGV), cohorts, de-selection, tasking and fairness "
    "(person-level, audited)."
)

PurposeOpt = Annotated[
    str | None,
    typer.Option("--purpose", help="Why you need it (audited; default names the command)."),
]
AsOfOpt = Annotated[str | None, typer.Option("--as-of", help="The as-of date, YYYY-MM-DD (today).")]
CohortOpt = Annotated[
    str, typer.Option("--cohort", help="A cohort name (see `peelian people cohorts`).")
]
MatrixOpt = Annotated[
    Path | None,
    typer.Option("--matrix", help="Your own RFG matrix (TOML); default: the illustrative one."),
]


def _purpose(purpose: str | None, command: str) -> str:
    return purpose or f"command line: peelian people {command}"


def _synthetic(out: dict[str, Any]) -> None:
    if out.get("synthetic"):
        console.print("[yellow]Made from SYNTHETIC records, not real police records.[/yellow]")


def _score_table(out: dict[str, Any], limit: int) -> None:
    if out.get("illustrative_note"):
        console.print(f"[yellow]{out['illustrative_note']}[/yellow]")
    _synthetic(out)
    table = Table(title=f"{out['cohort']['label']} as of {out['as_of']}: {out['total']} people")
    for col in (
        "Rank",
        "Person",
        "Score",
        "Recency",
        "Frequency",
        "Gravity",
        "Victims",
        "Days since last",
        "Records",
        "Harm (days)",
        "Distinct victims",
        "Area",
    ):
        table.add_column(col)
    from peelian.schemas.formatting import fmt_number

    for p in out["people"][:limit]:
        table.add_row(
            str(p["rank"]),
            p["person_ref"],
            fmt_number(p["score"], 1),
            fmt_number(p["recency"], 1),
            fmt_number(p["frequency"], 1),
            fmt_number(p["gravity"], 1),
            fmt_number(p["victims"], 1),
            str(p["days_since_last"]),
            str(p["record_count"]),
            fmt_number(p["harm"]),
            str(p["victim_count"]),
            p["area"] or "",
        )
    console.print(table)
    if out["deselected"]:
        console.print(f"{len(out['deselected'])} de-selected (see --json for who and why).")


@people_app.command("rfg")
@handle_errors
def rfg(
    cohort: Annotated[
        str | None, typer.Option("--cohort", help="A cohort (see `peelian people cohorts`).")
    ] = None,
    offence_set: Annotated[
        str | None,
        typer.Option("--offence-set", help="Or any offence set (see `peelian offences sets`)."),
    ] = None,
    months: Annotated[
        int, typer.Option("--months", help="With --offence-set: the lookback in months.")
    ] = 12,
    as_of: AsOfOpt = None,
    matrix: MatrixOpt = None,
    limit: Annotated[int, typer.Option("--limit", help="Rows to show (table).")] = 30,
    purpose: PurposeOpt = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """The RFG / RFGV list of a cohort (or of an offence set): each person's score, its
    components and the records behind them."""
    from peelian.casework.organisations import SYSTEM
    from peelian.casework.people import cohort_list, offence_set_list
    from peelian.errors import ParameterError

    if (cohort is None) == (offence_set is None):
        raise ParameterError("Give one of --cohort or --offence-set.", "E.g. --cohort matac.")
    why = _purpose(purpose, "rfg")
    if cohort is not None:
        out = cohort_list(
            store_for(db), SYSTEM, cohort, as_of=as_of, purpose=why, matrix_path=matrix
        )
    else:
        assert offence_set is not None
        out = offence_set_list(
            store_for(db),
            SYSTEM,
            offence_set,
            as_of=as_of,
            lookback_months=months,
            purpose=why,
            matrix_path=matrix,
        )
    if as_json:
        print_json(out)
    else:
        _score_table(out, limit)


@people_app.command("cohorts")
@handle_errors
def cohorts(as_json: JsonOption = False) -> None:
    """The declared cohorts: rules, versions, sources (no person-level data)."""
    from peelian.casework.people import cohort_catalogue

    rows = cohort_catalogue()
    if as_json:
        print_json({"cohorts": rows})
        return
    table = Table(title="Cohorts")
    for col in ("Name", "Label", "Kind", "Method", "Version", "Definition"):
        table.add_column(col)
    for c in rows:
        table.add_row(
            c["name"],
            c["label"],
            c["kind"].replace("_", " "),
            c["method"].upper(),
            c["version"] + (" (illustrative)" if c["illustrative"] else ""),
            c["description"],
        )
    console.print(table)


@people_app.command("matrix")
@handle_errors
def matrix_show(matrix: MatrixOpt = None, as_json: JsonOption = False) -> None:
    """The RFG / RFGV matrix: bands, weights and sources."""
    from peelian.analysis.people import load_matrix

    m = load_matrix(matrix).describe()
    if as_json:
        print_json(m)
        return
    console.print(f"{m['label']} (version {m['version']})")
    for comp, bands in m["bands"].items():
        console.print(f"{comp} (weight {m['weights'][comp]}): {bands}")


@people_app.command("deselect")
@handle_errors
def deselect(
    person: Annotated[str, typer.Argument(help="The person's pseudonymised person_ref.")],
    reason: Annotated[str, typer.Option("--reason", help="custody, deceased, moved_away, other.")],
    start: Annotated[str, typer.Option("--from", help="First day off the list, YYYY-MM-DD.")],
    until: Annotated[
        str | None, typer.Option("--until", help="Last day off the list (open-ended).")
    ] = None,
    cohort: Annotated[
        str | None, typer.Option("--cohort", help="Only this cohort (every cohort).")
    ] = None,
    note: Annotated[str, typer.Option("--note", help="What was recorded and by whom.")] = "",
    purpose: PurposeOpt = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Record a de-selection (in custody, deceased, moved away, other)."""
    from peelian.casework.organisations import SYSTEM
    from peelian.casework.people_tasking import record_deselection

    r = record_deselection(
        store_for(db),
        SYSTEM,
        person,
        reason,
        start_date=start,
        end_date=until,
        cohort=cohort,
        note=note,
        purpose=_purpose(purpose, "deselect"),
    )
    if as_json:
        print_json(r)
    else:
        console.print(f"De-selection {r['id']} recorded for {person} ({reason}).")


@people_app.command("deselections")
@handle_errors
def deselections(
    purpose: PurposeOpt = None, db: DbOption = None, as_json: JsonOption = False
) -> None:
    """Every recorded de-selection."""
    from peelian.casework.organisations import SYSTEM
    from peelian.casework.people_tasking import list_deselections

    rows = list_deselections(store_for(db), SYSTEM, purpose=_purpose(purpose, "deselections"))
    if as_json:
        print_json({"deselections": rows})
        return
    table = Table(title="De-selections")
    for col in ("Id", "Person", "Cohort", "Reason", "From", "Until", "By"):
        table.add_column(col)
    for r in rows:
        table.add_row(
            str(r["id"]),
            r["person_ref"],
            r["cohort"] or "every cohort",
            r["reason_label"],
            str(r["start_date"]),
            str(r["end_date"] or "open"),
            r["created_by"],
        )
    console.print(table)


@people_app.command("tasking")
@handle_errors
def tasking(
    cohort: CohortOpt,
    as_of: AsOfOpt = None,
    save: Annotated[
        bool, typer.Option("--save", help="Keep this list for the next meeting.")
    ] = False,
    purpose: PurposeOpt = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """The 4-weekly tasking list: who entered, who left and why, since the last saved list."""
    from peelian.casework.organisations import SYSTEM
    from peelian.casework.people_tasking import run_tasking

    out = run_tasking(
        store_for(db), SYSTEM, cohort, as_of=as_of, save=save, purpose=_purpose(purpose, "tasking")
    )
    if as_json:
        print_json(out)
        return
    _synthetic(out)
    prev = out["previous"]
    console.print(
        f"{out['cohort']['label']} as of {out['as_of']}: {len(out['people'])} people; "
        f"since {prev['as_of'] if prev else 'no earlier saved list'}: {len(out['entered'])} "
        f"entered, {len(out['left'])} left, {out['stayed']} stayed. Next: {out['next_tasking']}."
    )
    for r in out["entered"]:
        console.print(f"  entered {r['person_ref']} (rank {r['rank']}): {r['why']}")
    for r in out["left"]:
        console.print(f"  left {r['person_ref']}: {r['why']}")
    if out["saved_run"]:
        console.print(f"Saved as tasking run {out['saved_run']}.")


@people_app.command("fairness")
@handle_errors
def fairness_cmd(
    cohort: CohortOpt,
    as_of: AsOfOpt = None,
    purpose: PurposeOpt = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """The list by age band, sex and ethnicity beside the area population."""
    from peelian.casework.organisations import SYSTEM
    from peelian.casework.people_tasking import fairness
    from peelian.schemas.formatting import fmt_number, fmt_share

    out = fairness(
        store_for(db), SYSTEM, cohort, as_of=as_of, purpose=_purpose(purpose, "fairness")
    )
    if as_json:
        print_json(out)
        return
    _synthetic(out)
    table = Table(title=f"{out['cohort']['label']} as of {out['as_of']}: {out['people']} people")
    for col in ("Dimension", "Group", "People", "Share", "Population share", "Ratio"):
        table.add_column(col)
    for r in out["rows"]:
        table.add_row(
            r["dimension"],
            r["group"],
            str(r["count"]),
            fmt_share(r["share"]),
            fmt_share(r["population_share"]),
            fmt_number(r["ratio"], 2),
        )
    console.print(table)
    console.print(out["caveat"])


@people_app.command("overview")
@handle_errors
def overview(
    cohort: CohortOpt,
    as_of: AsOfOpt = None,
    purpose: PurposeOpt = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """How many people a cohort selects by area and over time, with referrals and
    interventions."""
    from peelian.casework.organisations import SYSTEM
    from peelian.casework.people_tasking import cohort_overview

    out = cohort_overview(
        store_for(db), SYSTEM, cohort, as_of=as_of, purpose=_purpose(purpose, "overview")
    )
    if as_json:
        print_json(out)
        return
    _synthetic(out)
    console.print(f"{out['cohort']['label']} as of {out['as_of']}: {out['people']} people")
    console.print("By area (Community Safety Partnership of the newest record):")
    for r in out["by_area"]:
        console.print(f"  {r['area']}: {r['people']}")
    console.print("At each tasking date:")
    for r in out["over_time"]:
        console.print(f"  {r['as_of']}: {r['people']}")
    ref, inter = out["referrals"], out["interventions"]
    console.print(
        f"Referrals: {ref['people']} people ({', '.join(f'{k} {v}' for k, v in ref['by_status'].items()) or 'none'}); "
        f"person interventions: {inter['people']} people ({inter['ongoing']} ongoing, {inter['ended']} ended)."
    )


def register(app: typer.Typer) -> None:
    app.add_typer(people_app, name="people", no_args_is_help=True)
