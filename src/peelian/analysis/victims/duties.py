"""Victims' Code duties: for every victim of every crime, each duty's trigger, deadline and status.

Pure: frames in, a :class:`DutiesResult` out. One row per duty per victim (``crime_ref``,
``person_ref``): the acknowledgement and the referral (triggered by the report), one update per
key investigation event (arrest, interview, bail, released under investigation, charge, no further
action, decision not to investigate), the outcome, and the updates at the agreed frequency while
the case is open. The rules (:class:`~peelian.analysis.victims.rules.CodeRules`) say which duty
has which deadline and which contact purposes meet it.

**Deadlines.** A duty within N working days of a trigger on day T is due on the N-th working day
strictly after T (:mod:`peelian.analysis.victims.calendar`); N is the enhanced deadline when the
victim is entitled to enhanced rights. An update at the agreed frequency of F days is due F
calendar days after the previous contact with the victim; it lapses when the case is closed
(an outcome recorded) before it falls due, because the outcome duty then applies.

**Met.** A duty is met by the first contact with the victim, at or after the trigger, whose
purpose is one the rules accept (a contact with no ``person_ref`` counts for every victim of the
crime), provided it comes before the next key event of the case: an update made after the next
event is about that event, so the earlier one was never told (events within 24 hours of each
other, such as an arrest and the interview that follows it, are told together). Met on time when
that contact's day is on or before the due day, met late otherwise.
Not met as at the assessment date: overdue after the due day, not yet due until then. Contacts
and triggers after the assessment date are ignored, so a past date reproduces what was known
then.

**Enhanced rights.** The force's own flag (``victim_contacts.enhanced_rights``, any contact of
the victim on the crime); where none was recorded and the rules allow it, derived from the
offence (domestic abuse, hate crime, sexual offences and the Home Office codes the rules list).
``enhanced_source`` says which.

Source: Code of Practice for Victims of Crime in England and Wales (Ministry of Justice 2020),
rights 3, 4 and 6, as set out in the rules file with each duty's source and status.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from peelian.analysis.victims.calendar import add_working_days, working_days_between
from peelian.analysis.victims.rules import EVENT_TRIGGERS, CodeRules
from peelian.errors import ParameterError
from peelian.offences import offence_set

__all__ = [
    "DUTY_COLUMNS",
    "STATUSES",
    "STATUS_LABELS",
    "DutiesResult",
    "compute_duties",
]

STATUSES = ("met_on_time", "met_late", "overdue", "not_yet_due")
STATUS_LABELS = {
    "met_on_time": "Met on time",
    "met_late": "Met late",
    "overdue": "Overdue",
    "not_yet_due": "Not yet due",
}
#: Columns of :attr:`DutiesResult.duties`, in order.
DUTY_COLUMNS = (
    "crime_ref",
    "person_ref",
    "duty",
    "trigger_at",
    "enhanced",
    "enhanced_source",
    "working_days",
    "due",
    "met_at",
    "status",
    "working_days_late",
    "officer",
    "preferred_channel",
    "preferred_channel_source",
    "update_every_days",
    "update_every_source",
    "policeuk_category",
    "ho_code",
    "lsoa_code",
)
_REQUIRED = {
    "victims": ("crime_ref", "person_ref"),
    "occurrences": ("crime_ref", "reported_at", "ho_code", "policeuk_category"),
    "events": ("crime_ref", "event_type", "event_at"),
    "outcomes": ("crime_ref", "outcome_date"),
    "contacts": ("crime_ref", "person_ref", "contact_at", "channel", "contact_by", "purpose"),
}


@dataclass(frozen=True)
class DutiesResult:
    """The duties (columns :data:`DUTY_COLUMNS`), the assessment date, the rules' edition, and
    counts of what could not be assessed, with the reason (never dropped silently)."""

    duties: pd.DataFrame
    as_at: dt.date
    edition: str
    not_assessed: dict[str, int] = field(default_factory=dict)
    flags: tuple[str, ...] = ()


def _check(name: str, frame: pd.DataFrame) -> None:
    missing = [c for c in _REQUIRED[name] if c not in frame.columns]
    if missing:
        raise ParameterError(
            f"The {name} frame has no column {', '.join(missing)}.",
            "Read it with peelian.data.force_frames (the force records' read path).",
        )


def _factorize(*columns: pd.Series) -> tuple[list[np.ndarray], pd.Index]:
    """Integer codes for references shared by several frames (-1 for a missing one): every
    join below is on integers, not on text."""
    sizes = [len(c) for c in columns]
    joined = pd.concat([c.reset_index(drop=True) for c in columns], ignore_index=True)
    codes, uniques = pd.factorize(joined, use_na_sentinel=True)
    index = pd.Index(np.asarray(uniques, dtype=object), dtype=object)
    return list(np.split(codes.astype(np.int64), np.cumsum(sizes)[:-1])), index


def _category(values: pd.Series, *, lower: bool = False) -> pd.Categorical:
    """Text as a categorical (trimmed and lower-cased when ``lower``: 'Phone' is 'phone')."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    cats = pd.Index(np.asarray(uniques, dtype=object)).astype(str)
    if lower:
        cats = cats.str.strip().str.lower()
    if len(cats) == 0:
        return pd.Categorical.from_codes(np.full(len(codes), -1), pd.Index([], dtype=object))
    uniq, inverse = np.unique(np.asarray(cats, dtype=object), return_inverse=True)
    new = np.where(codes >= 0, inverse[np.maximum(codes, 0)], -1)
    return pd.Categorical.from_codes(new, pd.Index(uniq, dtype=object))


@dataclass
class _Frames:
    """The inputs with integer keys: cases (one per victim of a crime), occurrence attributes
    by crime code, contacts, events and outcomes keyed by case."""

    crimes: pd.Index
    people: pd.Index
    cases: pd.DataFrame  # vk, crime, person, reported_at
    occ: pd.DataFrame  # indexed by crime code
    contacts: pd.DataFrame  # vk, contact_at, purpose, channel, contact_by, enhanced_rights
    events: pd.DataFrame  # crime, event_type, event_at
    outcomes: pd.DataFrame  # crime, outcome_date
    unknown_victims: int


def _frames(
    victims: pd.DataFrame,
    occurrences: pd.DataFrame,
    events: pd.DataFrame,
    outcomes: pd.DataFrame,
    contacts: pd.DataFrame,
    as_at: np.datetime64,
) -> _Frames:
    (cv, co, ce, cout, cc), crimes = _factorize(
        victims["crime_ref"],
        occurrences["crime_ref"],
        events["crime_ref"],
        outcomes["crime_ref"],
        contacts["crime_ref"],
    )
    (pv, pc), people = _factorize(victims["person_ref"], contacts["person_ref"])
    occ = occurrences.drop(columns=["crime_ref"]).assign(crime=co)
    occ = occ[co >= 0].drop_duplicates("crime").set_index("crime").reindex(np.arange(len(crimes)))
    pairs = np.unique(np.stack([cv, pv], axis=1)[(cv >= 0) & (pv >= 0)], axis=0)
    known = occ["reported_at"].notna().to_numpy()[pairs[:, 0]] if len(pairs) else np.zeros(0, bool)
    pairs = pairs[known] if len(pairs) else pairs.reshape(0, 2)
    cases = pd.DataFrame({"vk": np.arange(len(pairs)), "crime": pairs[:, 0], "person": pairs[:, 1]})
    cases["reported_at"] = pd.to_datetime(occ["reported_at"].to_numpy()[cases["crime"]])
    # contacts -> cases (a contact without a person counts for every victim of the crime)
    at = pd.to_datetime(contacts["contact_at"], errors="coerce").to_numpy()
    c = pd.DataFrame(
        {
            "crime": cc,
            "person": pc,
            "contact_at": at,
            "purpose": _category(contacts["purpose"], lower=True),
            "channel": _category(contacts["channel"], lower=True),
            "contact_by": _category(contacts["contact_by"]),
        }
    )
    if "enhanced_rights" in contacts.columns:
        c["enhanced_rights"] = contacts["enhanced_rights"].astype("boolean").to_numpy()
    c = c[~np.isnat(at) & (at < (as_at + np.timedelta64(1, "D")).astype(at.dtype)) & (cc >= 0)]
    key = cases["crime"].to_numpy() * (len(people) + 1) + cases["person"].to_numpy()
    named = c[c["person"] >= 0]
    ck = named["crime"].to_numpy() * (len(people) + 1) + named["person"].to_numpy()
    pos = np.searchsorted(key, ck)
    pos = np.minimum(pos, max(len(key) - 1, 0))
    hit = (key[pos] == ck) if len(key) else np.zeros(len(ck), bool)
    named = named[hit].assign(vk=pos[hit])
    anon = c[c["person"] < 0].drop(columns="person").merge(cases[["crime", "vk"]], on="crime")
    cts = pd.concat([named.drop(columns="person"), anon], ignore_index=True)
    ev = pd.DataFrame(
        {
            "crime": ce,
            "event_type": _category(events["event_type"], lower=True),
            "event_at": pd.to_datetime(events["event_at"], errors="coerce").to_numpy(),
        }
    )
    oc = pd.DataFrame(
        {"crime": cout, "outcome_date": pd.to_datetime(outcomes["outcome_date"], errors="coerce")}
    )
    unknown = int(((cv >= 0) & (pv >= 0)).sum()) - int(
        np.isin(cv * (len(people) + 1) + pv, key).sum()
    )
    return _Frames(crimes, people, cases, occ, cts, ev[ce >= 0], oc[cout >= 0], unknown)


def _enhanced(f: _Frames, rules: CodeRules) -> tuple[np.ndarray, np.ndarray]:
    """(enhanced flags, source labels) per case (vk order)."""
    n = len(f.cases)
    has = np.zeros(n, dtype=bool)
    rec = np.zeros(n, dtype=bool)
    if "enhanced_rights" in f.contacts.columns and len(f.contacts):
        flag = f.contacts["enhanced_rights"]
        known = flag.notna().to_numpy(bool)
        vk = f.contacts["vk"].to_numpy()
        has[vk[known]] = True
        rec[vk[known & flag.fillna(False).to_numpy(bool)]] = True
    derived = np.zeros(n, dtype=bool)
    if rules.enhanced_derive:
        codes = set(rules.enhanced_ho_codes) | set(offence_set("sexual-offences").codes or ())
        o = f.occ
        by_crime = np.array(o["ho_code"].isin(codes).to_numpy(), dtype=bool)
        if "domestic_abuse" in o.columns:
            by_crime |= o["domestic_abuse"].astype("boolean").fillna(False).to_numpy(bool)
        if "hate_strands" in o.columns:
            by_crime |= o["hate_strands"].str.strip().str.len().fillna(0).to_numpy(float) > 0
        derived = by_crime[f.cases["crime"].to_numpy()]
    enhanced = np.where(has, rec, derived)
    source = np.where(has, "recorded", np.where(derived, "derived", "none"))
    return enhanced, source


def _triggers(f: _Frames, rules: CodeRules) -> pd.DataFrame:
    """Rows (vk, duty, t) for every deadline duty."""
    parts = []
    cases = f.cases
    for d in rules.duties:
        if d.trigger == "reported":
            parts.append(
                pd.DataFrame({"vk": cases["vk"], "duty": d.key, "t": cases["reported_at"]})
            )
    by_crime = cases[["crime", "vk"]]
    trigger_duty = {d.trigger: d.key for d in rules.duties if d.trigger in EVENT_TRIGGERS}
    ev = f.events.assign(duty=f.events["event_type"].astype(object).map(trigger_duty))
    ev = ev.dropna(subset=["duty"]).merge(by_crime, on="crime")
    parts.append(pd.DataFrame({"vk": ev["vk"], "duty": ev["duty"], "t": ev["event_at"]}))
    out_duty = [d.key for d in rules.duties if d.trigger == "outcome"]
    if out_duty and len(f.outcomes):
        oc = f.outcomes.merge(by_crime, on="crime")
        parts.append(pd.DataFrame({"vk": oc["vk"], "duty": out_duty[0], "t": oc["outcome_date"]}))
    trig = pd.concat(parts, ignore_index=True)
    trig["t"] = pd.to_datetime(trig["t"], errors="coerce")
    return trig


#: Key events this close to each other are told together (an arrest and the interview after it).
TOLD_TOGETHER = np.timedelta64(24, "h")


def _next_event(trig: pd.DataFrame) -> np.ndarray:
    """For each trigger, the time of the next key event of the same case that is not told
    together with it (more than :data:`TOLD_TOGETHER` after the previous one), or NaT."""
    t_all = trig["t"].to_numpy().astype("datetime64[ns]")
    if len(t_all) == 0:
        return t_all
    order = np.lexsort((t_all, trig["vk"].to_numpy()))
    vk = trig["vk"].to_numpy()[order]
    t = t_all[order]
    gap = np.r_[np.timedelta64(0, "ns"), t[1:] - t[:-1]]
    new = np.r_[True, (vk[1:] != vk[:-1]) | (gap[1:] > TOLD_TOGETHER)]
    gid = np.cumsum(new) - 1
    g_vk, g_t = vk[new], t[new]
    nxt = np.r_[g_t[1:], np.datetime64("NaT")].astype("datetime64[ns]")
    nxt[np.r_[g_vk[1:] != g_vk[:-1], True]] = np.datetime64("NaT")
    out = np.empty(len(order), dtype="datetime64[ns]")
    out[order] = nxt[gid]
    return out


def _match(trig: pd.DataFrame, contacts: pd.DataFrame, purposes: tuple[str, ...]) -> np.ndarray:
    """For each trigger row, the time of the first accepted contact at or after it and before
    the next key event not told together with it (or NaT)."""
    cts = contacts.loc[contacts["purpose"].isin(purposes), ["vk", "contact_at"]]
    left = trig[["vk", "t"]].reset_index().sort_values("t", kind="stable")
    right = cts.sort_values("contact_at", kind="stable")
    m = pd.merge_asof(left, right, left_on="t", right_on="contact_at", by="vk", direction="forward")
    met = np.array(m.set_index("index")["contact_at"].reindex(trig.index).to_numpy())
    met = met.astype("datetime64[ns]")
    nxt = _next_event(trig)
    met[~np.isnat(nxt) & (met >= nxt)] = np.datetime64("NaT")
    return met


def _status(
    due: np.ndarray, met: np.ndarray, as_at: np.datetime64
) -> tuple[np.ndarray, np.ndarray]:
    met_day = met.astype("datetime64[D]")
    is_met = ~np.isnat(met_day)
    status = np.where(
        is_met,
        np.where(met_day <= due, "met_on_time", "met_late"),
        np.where(as_at > due, "overdue", "not_yet_due"),
    )
    end = np.where(is_met, met_day, as_at)
    late = np.where(status == "not_yet_due", 0, working_days_between(due, end))
    return status, late


def _agreed_updates(
    f: _Frames, every: np.ndarray, rules: CodeRules, as_at: np.datetime64
) -> pd.DataFrame:
    """The periodic update duties (see the module docstring)."""
    cts = f.contacts.loc[
        f.contacts["purpose"].isin(rules.update_satisfied_by), ["vk", "contact_at"]
    ]
    order = np.lexsort((cts["contact_at"].to_numpy(), cts["vk"].to_numpy()))
    vk = cts["vk"].to_numpy()[order]
    at = cts["contact_at"].to_numpy()[order]
    nxt = np.r_[at[1:], np.datetime64("NaT")].astype(at.dtype)
    nxt[np.r_[vk[1:] != vk[:-1], True]] = np.datetime64("NaT")
    closed = np.full(len(f.crimes), np.datetime64("NaT"), dtype="datetime64[D]")
    if len(f.outcomes):
        first = f.outcomes.groupby("crime")["outcome_date"].min()
        closed[first.index.to_numpy()] = first.to_numpy().astype("datetime64[D]")
    end = closed[f.cases["crime"].to_numpy()[vk]]
    start_day = at.astype("datetime64[D]")
    due = start_day + every[vk].astype("timedelta64[D]")
    open_at_start = np.isnat(end) | (start_day < end)
    lapses = ~np.isnat(end) & (end <= due)
    keep = open_at_start & ~lapses & (start_day <= as_at)
    return pd.DataFrame(
        {"vk": vk[keep], "duty": "agreed_update", "t": at[keep], "due": due[keep], "met": nxt[keep]}
    )


def _preferences(f: _Frames, plans: pd.DataFrame | None, rules: CodeRules) -> pd.DataFrame:
    """Officer (of the latest contact), preferred channel and update frequency per case."""
    n = len(f.cases)
    c = f.contacts
    vk = c["vk"].to_numpy()
    order = np.lexsort((c["contact_at"].to_numpy(), vk))
    officer = np.full(n, -1, dtype=np.int64)
    officer[vk[order]] = c["contact_by"].cat.codes.to_numpy()[order]  # the last write wins
    ch = c["channel"].cat.codes.to_numpy()
    k = len(c["channel"].cat.categories)
    counts = (
        np.bincount(vk[ch >= 0] * k + ch[ch >= 0], minlength=n * k).reshape(n, k) if k else None
    )
    top = counts.argmax(axis=1) if counts is not None else np.full(n, -1)
    used = counts.max(axis=1) > 0 if counts is not None else np.zeros(n, bool)
    out = pd.DataFrame(
        {
            "officer": pd.Categorical.from_codes(officer, c["contact_by"].cat.categories),
            "preferred_channel": np.where(
                used,
                np.asarray(c["channel"].cat.categories, dtype=object)[np.maximum(top, 0)]
                if k
                else None,
                None,
            ),
            "preferred_channel_source": np.where(used, "most used", "none"),
            "update_every_days": np.full(n, rules.update_default_days, dtype=np.int64),
            "update_every_source": "default",
        }
    )
    if plans is not None and len(plans):
        (pcr,), _ = _factorize_into(plans["crime_ref"], f.crimes)
        (ppr,), _ = _factorize_into(plans["person_ref"], f.people)
        key = f.cases["crime"].to_numpy() * (len(f.people) + 1) + f.cases["person"].to_numpy()
        pk = pcr * (len(f.people) + 1) + ppr
        pos = np.minimum(np.searchsorted(key, pk), max(n - 1, 0))
        hit = (pcr >= 0) & (ppr >= 0) & (key[pos] == pk) if n else np.zeros(len(pk), bool)
        rows, p = pos[hit], plans[hit]
        chan = p["preferred_channel"].astype(object).to_numpy()
        has_ch = ~pd.isna(chan)
        out.loc[rows[has_ch], "preferred_channel"] = chan[has_ch]
        out.loc[rows[has_ch], "preferred_channel_source"] = "agreed"
        days = pd.to_numeric(p["update_every_days"], errors="coerce").to_numpy(float)
        has_f = ~np.isnan(days) & (days >= 1)
        out.loc[rows[has_f], "update_every_days"] = days[has_f].astype(np.int64)
        out.loc[rows[has_f], "update_every_source"] = "agreed"
    return out


def _factorize_into(values: pd.Series, index: pd.Index) -> tuple[list[np.ndarray], pd.Index]:
    return [np.asarray(index.get_indexer(values.astype(object)), dtype=np.int64)], index


def compute_duties(
    *,
    victims: pd.DataFrame,
    occurrences: pd.DataFrame,
    events: pd.DataFrame,
    outcomes: pd.DataFrame,
    contacts: pd.DataFrame,
    rules: CodeRules,
    as_at: dt.date,
    plans: pd.DataFrame | None = None,
    before_in_force: bool = False,
) -> DutiesResult:
    """Every duty of every victim of one force's crimes, with its status as at ``as_at``.

    ``victims``: crime_ref, person_ref (the ``victim`` involvements). ``plans`` (optional):
    crime_ref, person_ref, preferred_channel, update_every_days as agreed with the victim.
    Triggers before the Code's ``in_force_from`` are not assessed unless ``before_in_force``
    (they are counted in ``not_assessed``).
    """
    for name, frame in (
        ("victims", victims),
        ("occurrences", occurrences),
        ("events", events),
        ("outcomes", outcomes),
        ("contacts", contacts),
    ):
        _check(name, frame)
    day = np.datetime64(as_at, "D")
    f = _frames(victims, occurrences, events, outcomes, contacts, day)
    prefs = _preferences(f, plans, rules)
    enhanced, enhanced_source = _enhanced(f, rules)
    trig = _triggers(f, rules)
    not_assessed = {"victims of crimes not in the occurrences": f.unknown_victims}
    bad = trig["t"].isna()
    not_assessed["triggers without a date"] = int(bad.sum())
    trig = trig[~bad]
    trig = trig[trig["t"].to_numpy().astype("datetime64[D]") <= day].reset_index(drop=True)
    enh = enhanced[trig["vk"].to_numpy()]
    std = trig["duty"].map({d.key: d.standard_working_days for d in rules.duties}).to_numpy()
    short = trig["duty"].map({d.key: d.enhanced_working_days for d in rules.duties}).to_numpy()
    trig["wd"] = np.where(enh, short, std).astype(np.int64)
    met = np.full(len(trig), np.datetime64("NaT"), dtype="datetime64[ns]")
    for purposes in {d.satisfied_by for d in rules.duties}:
        sel = trig["duty"].isin([d.key for d in rules.duties if d.satisfied_by == purposes])
        sel_np = sel.to_numpy(bool)
        met[sel_np] = _match(trig[sel_np], f.contacts, purposes).astype("datetime64[ns]")
    trig["met"] = met
    trig["due"] = add_working_days(trig["t"].to_numpy().astype("datetime64[D]"), trig["wd"])
    every = prefs["update_every_days"].to_numpy(np.int64)
    upd = _agreed_updates(f, every, rules, day).assign(wd=-1)
    rows = pd.concat([trig, upd], ignore_index=True)
    if not before_in_force:
        early = (rows["t"] < pd.Timestamp(rules.in_force_from)).to_numpy(bool)
        not_assessed[f"triggers before the {rules.edition} Code was in force"] = int(early.sum())
        rows = rows[~early]
    met = pd.to_datetime(rows["met"]).to_numpy()
    met = np.where(met.astype("datetime64[D]") <= day, met, np.datetime64("NaT"))
    due = rows["due"].to_numpy().astype("datetime64[D]")
    status, late = _status(due, met, day)
    vk = rows["vk"].to_numpy()
    crime = f.cases["crime"].to_numpy()[vk]
    o = f.occ
    frame = pd.DataFrame(
        {
            "crime_ref": pd.Categorical.from_codes(crime, f.crimes),
            "person_ref": pd.Categorical.from_codes(f.cases["person"].to_numpy()[vk], f.people),
            "duty": pd.Categorical(rows["duty"], categories=[*rules.labels()]),
            "trigger_at": pd.to_datetime(rows["t"]).to_numpy(),
            "enhanced": enhanced[vk],
            "enhanced_source": pd.Categorical(enhanced_source[vk]),
            "working_days": rows["wd"].to_numpy(np.int64),
            "due": pd.to_datetime(due),
            "met_at": pd.to_datetime(met),
            "status": pd.Categorical(status, categories=list(STATUSES)),
            "working_days_late": late.astype(np.int64),
            "officer": prefs["officer"].to_numpy()[vk],
            "preferred_channel": pd.Categorical(prefs["preferred_channel"].to_numpy()[vk]),
            "preferred_channel_source": pd.Categorical(
                prefs["preferred_channel_source"].to_numpy()[vk]
            ),
            "update_every_days": every[vk],
            "update_every_source": pd.Categorical(prefs["update_every_source"].to_numpy()[vk]),
            "policeuk_category": pd.Categorical(o["policeuk_category"].to_numpy()[crime]),
            "ho_code": pd.Categorical(o["ho_code"].to_numpy()[crime]),
            "lsoa_code": pd.Categorical(
                o["lsoa_code"].to_numpy()[crime]
                if "lsoa_code" in o.columns
                else [None] * len(crime)
            ),
        }
    )
    frame["officer"] = pd.Categorical(frame["officer"])
    order = np.lexsort((frame["duty"].cat.codes, crime, due))
    frame = frame.iloc[order].reset_index(drop=True)
    return DutiesResult(
        duties=frame,
        as_at=as_at,
        edition=rules.edition,
        not_assessed={k: v for k, v in not_assessed.items() if v},
        flags=tuple(rules.flags()),
    )
