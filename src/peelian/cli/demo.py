"""``peelian demo``: build the demo database from the bundled real data and serve the dashboard.

What ``make demo`` runs. Steps, each timed and reported:

1. ``areas``      — boundaries, lookups, population, IMD (bundled ``demo-data/``)
2. ``policeuk``   — the real Northumbria police.uk zip, 2020-05 .. 2022-08
3. ``synthetic``  — a synthetic Northumbria-sized force records export (labelled synthetic),
                    generated and ingested through the shipped ``synthetic_rms`` mapping
4. ``survey``     — the synthetic victim satisfaction survey
5. ``measures``   — every shipped measure for every area
6. ``hotspots``   — Gi*, emerging hotspots, KDE and crime concentration for violence and
                    burglary
7. ``forecast``   — backtests, the next-month forecast and the Grip patrol plan
8. ``login``      — a demo admin login, printed
then the dashboard is served at http://127.0.0.1:8000 (``--serve``).

Loading is idempotent: running the demo again changes no data, and analyses are recomputed only
when the data changed (or with ``--recompute``). A step that fails is reported with its error and
the demo goes on with the rest (the dashboard shows what could not be computed); the command exits
non-zero if any step failed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import typer

from peelian.cli._common import JsonOption, console, err_console, handle_errors, print_json
from peelian.config import Settings, get_settings
from peelian.errors import PeelianError

__all__ = ["DEMO_CRIME_TYPES", "DemoStep", "build_demo", "register"]

#: police.uk categories the demo computes hotspots and forecasts for.
DEMO_CRIME_TYPES: tuple[str, ...] = ("Violence and sexual offences", "Burglary")
#: The synthetic force window: from 12 months before the June-2019 baseline's end to the end of
#: the real police.uk data, so force-record measures have their national baseline.
SYNTH_FROM, SYNTH_TO, SYNTH_SEED = "2018-07", "2022-08", 20190630
TEST_FROM, TEST_TO = "2022-03", "2022-08"


@dataclass
class DemoStep:
    name: str
    ok: bool = False
    seconds: float = 0.0
    detail: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    skipped: str | None = None


@dataclass
class _Context:
    store: Any
    data_dir: Path
    recompute: bool
    changed: bool = False
    login: tuple[str, str] | None = None
    caseload_logins: list[tuple[str, str, str]] = field(default_factory=list)


def _changed(report: dict[str, Any]) -> bool:
    return any(f.get("action") in {"loaded", "replaced"} for f in report.get("files", []))


def _step_areas(ctx: _Context) -> dict[str, Any]:
    from peelian.data.datasets import demo_data_dir
    from peelian.data.geography import areas_frame, load_areas

    try:
        have = len(areas_frame(ctx.store, "lsoa21", with_geometry=False))
    except PeelianError:
        have = 0
    if have and not ctx.recompute:
        return {"areas": "already loaded", "lsoa21": have}
    report = load_areas(ctx.store, [demo_data_dir()], command="peelian demo")
    ctx.changed = True
    return {"batch": report.get("batch"), "levels": report.get("levels")}


def _step_policeuk(ctx: _Context) -> dict[str, Any]:
    from peelian.data.datasets import demo_policeuk_zip
    from peelian.data.ingest.policeuk import ingest_policeuk

    report = ingest_policeuk(ctx.store, [demo_policeuk_zip()], command="peelian demo")
    ctx.changed |= _changed(report)
    files = report["files"]
    return {
        "batch": report["batch"],
        "files": len(files),
        "rows_read": sum(f["rows_read"] for f in files),
        "rows_stored": sum(f["rows_stored"] for f in files),
        "rows_quarantined": sum(f["rows_quarantined"] for f in files),
    }


def _step_synthetic(ctx: _Context) -> dict[str, Any]:
    from peelian.data.ingest.force import ingest_force
    from peelian.data.synthetic import generate_force, write_export

    out = ctx.data_dir / "synthetic-force-export"
    if not (out / "occurrences.csv").exists() or ctx.recompute:
        result = generate_force(seed=SYNTH_SEED, month_from=SYNTH_FROM, month_to=SYNTH_TO)
        write_export(result, out)
    report = ingest_force(ctx.store, [out], "synthetic_rms", command="peelian demo")
    ctx.changed |= _changed(report)
    return {"batch": report.get("batch"), "tables": report.get("tables"), "export": str(out)}


def _step_survey(ctx: _Context) -> dict[str, Any]:
    from peelian.data.ingest.surveys import import_survey

    path = ctx.data_dir / "synthetic-force-export" / "satisfaction_survey.csv"
    report = import_survey(ctx.store, path, command="peelian demo")
    ctx.changed |= _changed(report)
    return {"batch": report.get("batch"), "files": report.get("files")}


def _has_results(ctx: _Context, kind: str) -> bool:
    from peelian.data.results import list_results

    return bool(len(list_results(ctx.store, kind)))


def _step_measures(ctx: _Context) -> dict[str, Any]:
    from peelian.jobs.measures import compute_measures

    if not (ctx.changed or ctx.recompute) and _has_results(ctx, "measures"):
        return {"skipped": "data unchanged; results present"}
    return {"run": compute_measures(ctx.store)}


def _step_hotspots(ctx: _Context) -> dict[str, Any]:
    from peelian.jobs.hotspots import run_hotspots

    # run_hotspots saves every kind of jobs.hotspots.ANALYSES (gistar, emerging, kde and
    # concentration); a store built before concentration existed is brought up to date.
    have = all(_has_results(ctx, kind) for kind in ("gistar", "concentration"))
    if not (ctx.changed or ctx.recompute) and have:
        return {"skipped": "data unchanged; results present"}
    return {ct: run_hotspots(ctx.store, crime_type=ct) for ct in DEMO_CRIME_TYPES}


def _step_forecast(ctx: _Context) -> dict[str, Any]:
    from peelian.jobs.forecast import run_backtest, run_forecast, run_grip_plan

    if not (ctx.changed or ctx.recompute) and _has_results(ctx, "backtest"):
        return {"skipped": "data unchanged; results present"}
    runs: dict[str, Any] = {}
    for ct in DEMO_CRIME_TYPES:
        runs[f"backtest {ct}"] = run_backtest(
            ctx.store, crime_type=ct, test_from=TEST_FROM, test_to=TEST_TO
        )
        runs[f"forecast {ct}"] = run_forecast(ctx.store, crime_type=ct)
    runs["grip plan"] = run_grip_plan(ctx.store, weeks=4, hotspots=20)
    return runs


def _step_login(ctx: _Context) -> dict[str, Any]:
    from peelian.data.accounts.users import ensure_demo_user

    ctx.login = ensure_demo_user(ctx.store)
    return {"username": ctx.login[0]}


def _step_caseload(ctx: _Context) -> dict[str, Any]:
    """The synthetic, labelled demo caseload and demo users for the casework roles."""
    from peelian.casework.demo import seed_caseload

    out = seed_caseload(ctx.store)
    ctx.caseload_logins = [tuple(x) for x in out["logins"]]  # type: ignore[misc]
    return {k: v for k, v in out.items() if k != "logins"} | {
        "users": [name for name, _role, _pw in out["logins"]]
    }


STEPS: tuple[tuple[str, Callable[[_Context], dict[str, Any]], bool], ...] = (
    ("areas", _step_areas, True),
    ("policeuk", _step_policeuk, True),
    ("synthetic", _step_synthetic, False),
    ("survey", _step_survey, False),
    ("measures", _step_measures, False),
    ("hotspots", _step_hotspots, False),
    ("forecast", _step_forecast, False),
    ("login", _step_login, True),
    ("caseload", _step_caseload, False),
)


def build_demo(
    settings: Settings,
    *,
    recompute: bool = False,
    on_step: Callable[[DemoStep], None] | None = None,
) -> tuple[list[DemoStep], tuple[str, str] | None, list[tuple[str, str, str]]]:
    """Run the demo steps against ``settings``' store; returns the steps, the demo admin login and
    the casework demo users' logins (username, role, password).

    A required step that fails stops the build (later steps need it); an optional one is reported
    and the build goes on.
    """
    from peelian.data.store import open_store

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = open_store(settings.resolved_database_url)
    ctx = _Context(store=store, data_dir=settings.data_dir, recompute=recompute)
    steps: list[DemoStep] = []
    try:
        for name, func, required in STEPS:
            step = DemoStep(name)
            t0 = time.perf_counter()
            try:
                step.detail = func(ctx)
                step.ok = True
                step.skipped = step.detail.get("skipped")
            except PeelianError as exc:
                step.error = str(exc)
            except Exception as exc:  # a step's bug is reported, the demo goes on with the rest
                step.error = f"{type(exc).__name__}: {exc}"
            step.seconds = time.perf_counter() - t0
            steps.append(step)
            if on_step is not None:
                on_step(step)
            if required and not step.ok:
                break
    finally:
        store.dispose()
    return steps, ctx.login, ctx.caseload_logins


def _print_step(step: DemoStep) -> None:
    if step.ok:
        state = "[green]skipped[/]" if step.skipped else "[green]done[/]"
        note = f" ({step.skipped})" if step.skipped else ""
        err_console.print(f"  {step.name:<10} {state} in {step.seconds:6.1f} s{note}")
    else:
        err_console.print(
            f"  {step.name:<10} [bold red]FAILED[/] after {step.seconds:.1f} s: {step.error}",
            highlight=False,
            soft_wrap=True,
        )


@handle_errors
def demo(
    data_dir: Annotated[
        Path, typer.Option("--data-dir", help="Folder for the demo database.")
    ] = Path(".peelian-demo"),
    serve: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Serve the dashboard after.")
    ] = False,
    recompute: Annotated[
        bool, typer.Option("--recompute", help="Recompute analyses even if the data is unchanged.")
    ] = False,
    host: Annotated[str, typer.Option(help="Host to serve on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to serve on.")] = 8000,
    as_json: JsonOption = False,
) -> None:
    """Build the demo database from the bundled real data (and synthetic force records); serve it."""
    settings = get_settings().model_copy(
        update={"data_dir": data_dir, "database_url": None, "host": host, "port": port}
    )
    if not as_json:
        err_console.print(f"Building the peelian demo in {data_dir}/ (SQLite) ...")
    steps, login, caseload_logins = build_demo(
        settings, recompute=recompute, on_step=None if as_json else _print_step
    )
    failed = [s for s in steps if not s.ok]
    if as_json:
        print_json(
            {
                "database": settings.resolved_database_url,
                "steps": [s.__dict__ for s in steps],
                "login": {"username": login[0], "password": login[1]} if login else None,
                "casework_logins": [
                    {"username": u, "role": r, "password": p} for u, r, p in caseload_logins
                ],
            }
        )
    else:
        if login:
            console.print(f"Demo login: username [bold]{login[0]}[/]  password [bold]{login[1]}[/]")
        for username, role, password in caseload_logins:
            console.print(
                f"  casework demo user ({role}): username [bold]{username}[/]  "
                f"password [bold]{password}[/]",
                soft_wrap=True,
            )
        if caseload_logins:
            console.print("The demo caseload (problems titled 'Demo:') is SYNTHETIC.")
            case = next((s.detail for s in steps if s.name == "caseload" and s.ok), {})
            if case.get("interventions"):
                states = case.get("referral_statuses", {})
                console.print(
                    f"  SYNTHETIC: {case['problems']} problems, {case['interventions']} "
                    f"interventions ({len(case.get('tiers', []))} tiers, "
                    f"{len(case.get('types', []))} types), {case['referrals']} referrals to "
                    f"partners ({', '.join(f'{n} {k}' for k, n in states.items())}).",
                    soft_wrap=True,
                )
        console.print(
            "Data: police.uk and ONS data under the Open Government Licence v3.0; force records "
            "in this demo are SYNTHETIC."
        )
    if serve and not any(s.name in {"areas", "policeuk"} for s in failed):
        from peelian.cli.serve import serve as run_server

        if not as_json:
            console.print(f"Serving the dashboard at http://{host}:{port} (Ctrl+C to stop)")
        run_server(settings)
    if failed:
        raise typer.Exit(3)


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
