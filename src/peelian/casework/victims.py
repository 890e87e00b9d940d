"""Victims' Code duties for the force: the rules file, the store reads, the persisted run, the
worklists (person-level: policy-checked and audited) and the compliance measures (aggregates).

    rules = load_rules("2020")                    # peelian/casework/data/victims_code_2020.toml
    run_id = refresh_duties(store)                # every duty, persisted with its compliance
    work = worklist(store, actor, purpose="victim care unit daily review", officer="C1003")
    comp = compliance(store)                      # on-time rates with exact intervals, trend

The duties are computed by :func:`peelian.analysis.victims.duties.compute_duties` (pure) from
the force records; the run (kind ``victims``, name ``duties``) keeps the open duties (overdue or
not yet due, for the worklists) and the compliance tables, so pages read results and never
compute in a request.

**Who works a duty.** Force records carry no officer-in-case field: the officer is the one who
last contacted the victim on the crime (``victim_contacts.contact_by``). The team is the ward of
the crime's LSOA and the command the Community Safety Partnership (local authority) area: a
default mapping, stated on every worklist.

A worklist names crimes and pseudonymised victims (record kind ``victim``, person-level): it
needs a purpose, and every read and export is written to the audit log with it.
"""

from __future__ import annotations

import datetime as dt
import threading
import tomllib
from collections import OrderedDict
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import func, select

from peelian.analysis.victims.compliance import compliance_rates, compliance_trend, trend_test
from peelian.analysis.victims.duties import STATUS_LABELS, DutiesResult, compute_duties
from peelian.analysis.victims.rules import CodeRules, rules_from_mapping
from peelian.casework._records import write
from peelian.casework.policy import Principal, require
from peelian.data import force_frames as ff
from peelian.data.audit import append
from peelian.data.results import latest_result, save_result
from peelian.data.store import Store
from peelian.data.tables import areas, occurrences, victim_contacts
from peelian.errors import NotFoundError, ParameterError
from peelian.offences import serious_violence_types

__all__ = [
    "RESULT_KIND",
    "WORKLIST_COLUMNS",
    "available_editions",
    "compliance",
    "compute",
    "default_as_at",
    "load_rules",
    "refresh_duties",
    "save_duties",
    "worklist",
    "worklist_summary",
]

RESULT_KIND, RESULT_NAME = "victims", "duties"
#: Columns of a worklist row (and its CSV export).
WORKLIST_COLUMNS = (
    "urgency",
    "crime_ref",
    "person_ref",
    "duty_label",
    "due",
    "status_label",
    "working_days_late",
    "enhanced",
    "preferred_channel",
    "update_every_days",
    "officer",
    "team",
    "command",
    "policeuk_category",
)
_GROUPS = {"officer": "officer", "team": "team", "command": "command"}


def available_editions() -> list[str]:
    """Editions with a rules file (``victims_code_YYYY.toml``), oldest first."""
    files = resources.files("peelian.casework") / "data"
    names = [p.name for p in files.iterdir() if p.name.startswith("victims_code_")]
    return sorted(n.removeprefix("victims_code_").removesuffix(".toml") for n in names)


def load_rules(edition: str = "2020") -> CodeRules:
    """The rules of one Code edition, read from its packaged file and checked."""
    if edition not in available_editions():
        raise NotFoundError(
            f"There is no Victims' Code rules file for the edition {edition!r}.",
            f"Editions: {', '.join(available_editions())}. A new edition is a new file "
            "peelian/casework/data/victims_code_YYYY.toml.",
        )
    path = resources.files("peelian.casework") / "data" / f"victims_code_{edition}.toml"
    return rules_from_mapping(tomllib.loads(path.read_text("utf-8")))


def default_as_at(store: Store, force: str | None = None) -> dt.date:
    """Today, or the day of the latest victim contact when the records end earlier (a demo or
    an old export): duties are assessed as at the end of the records, never beyond them."""
    q = select(func.max(victim_contacts.c.contact_at))
    if force:
        q = q.where(victim_contacts.c.force == force)
    with store.engine.connect() as conn:
        latest = conn.execute(q).scalar()
    today = dt.date.today()
    if latest is None:
        return today
    day = pd.Timestamp(latest).date()
    return min(day, today)


def _forces(store: Store, force: str | None) -> list[str]:
    with store.engine.connect() as conn:
        found = [r[0] for r in conn.execute(select(occurrences.c.force).distinct())]
    if force:
        if force not in found:
            raise NotFoundError(
                f"There are no force records for {force!r}.",
                f"Forces loaded: {', '.join(found) or 'none'}. Load them with peelian ingest force.",
            )
        return [force]
    if not found:
        raise NotFoundError(
            "There are no force records, so no Victims' Code duties.",
            "Load them with peelian ingest force, or peelian synth force for synthetic ones.",
        )
    return sorted(found)


def _area_names(store: Store) -> pd.DataFrame:
    """LSOA -> team (ward name) and command (CSP name)."""
    q = select(areas.c.code, areas.c.level, areas.c.name, areas.c.ward_code, areas.c.csp_code)
    a = store.read_frame(q)
    names = a.drop_duplicates("code").set_index("code")["name"]
    lsoa = a[a["level"].isin(["lsoa11", "lsoa21"])].drop_duplicates("code")
    return pd.DataFrame(
        {
            "lsoa_code": lsoa["code"].to_numpy(),
            "team": names.reindex(lsoa["ward_code"]).to_numpy(),
            "command": names.reindex(lsoa["csp_code"]).to_numpy(),
        }
    )


def compute(
    store: Store,
    *,
    force: str | None = None,
    as_at: dt.date | None = None,
    edition: str = "2020",
    before_in_force: bool = False,
) -> DutiesResult:
    """Every duty of one force (the only force loaded when ``force`` is None)."""
    forces = _forces(store, force)
    if len(forces) > 1:
        raise ParameterError(
            f"Force records of {len(forces)} forces are loaded ({', '.join(forces)}).",
            "Name one with --force.",
        )
    force = forces[0]
    rules = load_rules(edition)
    as_at = as_at or default_as_at(store, force)
    occ = ff.load_occurrences(store, force=force)
    victims = ff.load_involvements(store, force=force, roles=["victim"])
    return compute_duties(
        victims=victims[["crime_ref", "person_ref"]],
        occurrences=occ,
        events=ff.load_investigation_events(store, force=force),
        outcomes=ff.load_force_outcomes(store, force=force),
        contacts=ff.load_victim_contacts(store, force=force),
        rules=rules,
        as_at=as_at,
        before_in_force=before_in_force,
    )


def _sv_membership(store: Store, force: str | None) -> pd.DataFrame:
    """(crime_ref, sv_type label) for each serious violence type a crime belongs to."""
    occ = ff.load_occurrences(store, force=force)
    types = serious_violence_types()
    needs = any(t.needs_involvements for t in types.values())
    inv = ff.load_involvements(store, force=force) if needs else None
    cache: dict[str, Any] = {}
    parts = []
    for t in types.values():
        mask = t.mask(occ, inv, cache=cache).to_numpy(bool)
        parts.append(
            pd.DataFrame({"crime_ref": occ["crime_ref"].to_numpy()[mask], "sv_type": t.label})
        )
    return pd.concat(parts, ignore_index=True)


def _compliance_frames(duties: pd.DataFrame, sv: pd.DataFrame) -> dict[str, pd.DataFrame]:
    assessed = duties[duties["status"].astype(str) != "not_yet_due"]
    labels = {"True": "Enhanced rights", "False": "Standard"}
    enh = duties.assign(rights=duties["enhanced"].astype(str).map(labels))
    with_sv = duties[["crime_ref", "status"]].merge(sv, on="crime_ref")
    return {
        "by_duty": compliance_rates(duties, ["duty"]),
        "by_category": compliance_rates(duties, ["policeuk_category"]),
        "by_sv_type": compliance_rates(with_sv, ["sv_type"]),
        "by_enhanced": compliance_rates(enh, ["rights"]),
        "by_command": compliance_rates(duties, ["command"]),
        "by_duty_enhanced": compliance_rates(enh, ["duty", "rights"]),
        "trend": compliance_trend(assessed),
        "trend_by_duty": compliance_trend(assessed, ["duty"]),
    }


def refresh_duties(
    store: Store,
    *,
    force: str | None = None,
    as_at: dt.date | None = None,
    edition: str = "2020",
    before_in_force: bool = False,
) -> int:
    """Compute every duty and persist the open duties and the compliance tables; the run id."""
    result = compute(
        store, force=force, as_at=as_at, edition=edition, before_in_force=before_in_force
    )
    force = _forces(store, force)[0]
    with store.engine.connect() as conn:
        synthetic = bool(
            conn.execute(
                select(func.max(occurrences.c.synthetic)).where(occurrences.c.force == force)
            ).scalar()
        )
    return save_duties(
        store,
        result,
        force=force,
        synthetic=synthetic,
        sv=_sv_membership(store, force),
        before_in_force=before_in_force,
    )


def save_duties(
    store: Store,
    result: DutiesResult,
    *,
    force: str,
    synthetic: bool,
    sv: pd.DataFrame | None = None,
    before_in_force: bool = False,
) -> int:
    """Persist computed duties (open duties, compliance tables, trend test); the run id.
    ``sv``: (crime_ref, sv_type) serious violence membership."""
    d = result.duties.merge(_area_names(store), how="left", on="lsoa_code")
    if sv is None:
        sv = pd.DataFrame(
            {"crime_ref": pd.Series(dtype=object), "sv_type": pd.Series(dtype=object)}
        )
    frames = _compliance_frames(d, sv)
    open_ = d[d["status"].astype(str).isin(["overdue", "not_yet_due"])].reset_index(drop=True)
    frames["open"] = open_.drop(columns=["met_at"])
    trend = frames["trend"]
    test = trend_test(trend["on_time"], trend["due"])
    rules = load_rules(result.edition)
    overall = compliance_rates(d, [])
    summary = {
        "as_at": result.as_at.isoformat(),
        "force": force,
        "edition": result.edition,
        "synthetic": synthetic,
        "duties": int(len(d)),
        "overall": {
            k: (int(v) if k in ("due", "on_time", "late", "overdue", "not_yet_due") else _plain(v))
            for k, v in overall.iloc[0].items()
        },
        "trend_test": {
            "z": _plain(test.z),
            "p_value": _plain(test.p_value),
            "months": test.months,
            "direction": test.direction,
            "sentence": test.sentence(),
        },
        "not_assessed": result.not_assessed,
        "flags": list(result.flags),
        "rules": rules.as_dict(),
    }
    params = {
        "force": force,
        "as_at": result.as_at.isoformat(),
        "edition": result.edition,
        "before_in_force": before_in_force,
    }
    run_id: int = save_result(
        store, RESULT_KIND, RESULT_NAME, frames, params=params, summary=summary
    )
    return run_id


def _plain(v: Any) -> Any:
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.floating | float):
        return None if np.isnan(v) else float(v)
    return v


_CACHE: OrderedDict[tuple[str, int], Any] = OrderedDict()
_LOCK = threading.Lock()


def _latest(store: Store) -> Any:
    """The latest duties run (its open duties and tables kept in memory, at most two runs)."""
    try:
        head = latest_result(store, RESULT_KIND, RESULT_NAME, parts=[])
    except NotFoundError as exc:
        raise NotFoundError(
            "The Victims' Code duties have not been computed yet.",
            "Run: peelian victims duties --refresh",
        ) from exc
    key = (str(store.url), int(head.id))
    with _LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
    run = latest_result(store, RESULT_KIND, RESULT_NAME)
    open_ = run.frames["open"]
    for c in ("officer", "team", "command", "duty", "status"):
        open_[c] = open_[c].astype("category")
    open_["due"] = pd.to_datetime(open_["due"])
    with _LOCK:
        _CACHE[key] = run
        while len(_CACHE) > 2:
            _CACHE.popitem(last=False)
    return run


def _purpose(purpose: str | None) -> str:
    text = (purpose or "").strip()
    if not text:
        raise ParameterError(
            "A worklist names victims: say why you need it (the purpose is written to the "
            "audit log).",
            "E.g. 'victim care unit daily review', 'supervisor check of overdue updates'.",
        )
    return text[:2000]


def _bucket(due: pd.Series, as_at: dt.date) -> np.ndarray:
    day = pd.Timestamp(as_at)
    week_end = day + pd.Timedelta(days=6 - day.weekday())
    return np.select(
        [due < day, due == day, due <= week_end],
        ["overdue", "due_today", "due_this_week"],
        default="later",
    )


_BUCKET_LABELS = {
    "overdue": "Overdue",
    "due_today": "Due today",
    "due_this_week": "Due this week",
    "later": "Due later",
}


def worklist(
    store: Store,
    actor: Principal,
    *,
    purpose: str | None,
    officer: str | None = None,
    team: str | None = None,
    command: str | None = None,
    bucket: str | None = None,
    limit: int = 200,
    offset: int = 0,
    export: bool = False,
) -> dict[str, Any]:
    """Open duties (overdue, due today, due this week, later) for one officer, team or command
    (or all), most urgent first: overdue by working days overdue, enhanced rights first, then by
    due day. Person-level: needs the policy's read (``export``: its export) of ``victim`` and
    a purpose; audited."""
    require(actor, "export" if export else "read", "victim")
    why = _purpose(purpose)
    if bucket is not None and bucket not in _BUCKET_LABELS:
        raise ParameterError(
            f"There is no worklist section {bucket!r}.", f"Use one of {', '.join(_BUCKET_LABELS)}."
        )
    run = _latest(store)
    as_at = dt.date.fromisoformat(run.summary["as_at"])
    d = run.frames["open"]
    mask = np.ones(len(d), dtype=bool)
    for col, value in (("officer", officer), ("team", team), ("command", command)):
        if value:
            mask &= (d[col] == value).to_numpy(bool)
    sel = d[mask]
    buckets = _bucket(sel["due"], as_at)
    counts = {k: int((buckets == k).sum()) for k in _BUCKET_LABELS}
    if bucket:
        sel, buckets = sel[buckets == bucket], buckets[buckets == bucket]
    order = np.lexsort(
        (
            sel["crime_ref"].to_numpy(),
            sel["due"].to_numpy(),
            ~sel["enhanced"].to_numpy(bool),
            -sel["working_days_late"].to_numpy(),
        )
    )
    page = sel.iloc[order[offset : offset + limit]]
    pb = buckets[order[offset : offset + limit]]
    labels = load_rules(run.params.get("edition", "2020")).labels()
    rows = [_worklist_row(r, b, labels) for r, b in zip(page.to_dict("records"), pb, strict=True)]
    with write(store) as conn:
        append(
            conn,
            actor.username,
            "victim.export" if export else "victim.worklist",
            record_kind="victim",
            purpose=why,
            detail={
                "run_id": int(run.id),
                "filters": {
                    k: v
                    for k, v in (
                        ("officer", officer),
                        ("team", team),
                        ("command", command),
                        ("bucket", bucket),
                    )
                    if v
                },
                "crime_refs": [r["crime_ref"] for r in rows][:500],
            },
        )
    return {
        "as_at": as_at.isoformat(),
        "run_id": int(run.id),
        "synthetic": bool(run.summary.get("synthetic")),
        "filters": {"officer": officer, "team": team, "command": command, "bucket": bucket},
        "counts": counts,
        "total": int(len(sel)),
        "rows": rows,
        "flags": run.summary.get("flags", []),
    }


def _worklist_row(r: dict[str, Any], bucket: str, labels: dict[str, str]) -> dict[str, Any]:
    return {
        "urgency": _BUCKET_LABELS[bucket],
        "bucket": bucket,
        "crime_ref": r["crime_ref"],
        "person_ref": r["person_ref"],
        "duty": r["duty"],
        "duty_label": labels.get(r["duty"], r["duty"]),
        "due": pd.Timestamp(r["due"]).date().isoformat(),
        "status": r["status"],
        "status_label": STATUS_LABELS[str(r["status"])],
        "working_days_late": int(r["working_days_late"]),
        "enhanced": bool(r["enhanced"]),
        "preferred_channel": None if pd.isna(r["preferred_channel"]) else r["preferred_channel"],
        "preferred_channel_source": r["preferred_channel_source"],
        "update_every_days": int(r["update_every_days"]),
        "update_every_source": r["update_every_source"],
        "officer": None if pd.isna(r["officer"]) else r["officer"],
        "team": None if pd.isna(r["team"]) else r["team"],
        "command": None if pd.isna(r["command"]) else r["command"],
        "policeuk_category": r["policeuk_category"],
    }


def worklist_summary(store: Store, actor: Principal, *, by: str = "officer") -> dict[str, Any]:
    """The supervisor view: open duties per officer, team or command (overdue, due today, due
    this week, later; enhanced-rights overdue), most overdue first. Counts only (no victim is
    named), but the officers are staff: needs the policy's read of ``victim``; audited."""
    require(actor, "read", "victim")
    if by not in _GROUPS:
        raise ParameterError(
            f"Cannot group the worklist by {by!r}.", "Use officer, team or command."
        )
    run = _latest(store)
    as_at = dt.date.fromisoformat(run.summary["as_at"])
    d = run.frames["open"]
    b = _bucket(d["due"], as_at)
    frame = pd.DataFrame({"group": d[by].astype(object).fillna("(not recorded)").to_numpy()})
    for k in _BUCKET_LABELS:
        frame[k] = b == k
    frame["enhanced_overdue"] = (b == "overdue") & d["enhanced"].to_numpy(bool)
    g = frame.groupby("group").sum().astype(int).reset_index()
    g = g.sort_values(["overdue", "due_today", "group"], ascending=[False, False, True])
    with write(store) as conn:
        append(
            conn,
            actor.username,
            "victim.worklist_summary",
            record_kind="victim",
            purpose="supervisor view of open Victims' Code duties",
            detail={"run_id": int(run.id), "by": by},
        )
    return {
        "as_at": as_at.isoformat(),
        "by": by,
        "synthetic": bool(run.summary.get("synthetic")),
        "rows": g.to_dict("records"),
    }


def compliance(store: Store) -> dict[str, Any]:
    """The compliance tables and trend of the latest run (aggregates, not person-level)."""
    run = _latest(store)
    labels = load_rules(run.params.get("edition", "2020")).labels()
    tables = {}
    for name in (
        "by_duty",
        "by_category",
        "by_sv_type",
        "by_enhanced",
        "by_command",
        "by_duty_enhanced",
        "trend",
        "trend_by_duty",
    ):
        f = run.frames[name].copy()
        if "duty" in f.columns:
            f["duty_label"] = f["duty"].astype(str).map(labels)
        tables[name] = f.replace({np.nan: None}).to_dict("records")
    return {"run_id": int(run.id), "summary": run.summary, "tables": tables}
