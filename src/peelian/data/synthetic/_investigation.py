"""Investigations, outcomes and victim contacts (with Victims' Code gaps).

**Investigation events.** An occurrence without an identified suspect is either screened out
(``NOT_INVESTIGATED``, outcome 18 within days) or investigated and closed with outcome 18
("investigation complete, no suspect identified") or 14 (victim does not support, suspect not
identified). With a suspect: an ``ARREST`` (share by offence group), an ``INTERVIEW`` (after
arrest the same day; otherwise a voluntary interview for 60%), then either an immediate decision
or release on pre-charge ``BAIL`` or ``RUI`` (released under investigation) and a decision weeks
to months later: ``CHARGE`` (outcome 1), an out-of-court disposal (outcomes 2, 3, 6, 7, 8, 22)
or ``NFA`` (outcomes 15, 16, 21). Shares are set so the charge rate and the evidential-difficulty
outcomes look like the Home Office *Crime outcomes in England and Wales* statistics (year ending
March 2022: charge/summons about 6% of outcomes overall; 15/16 the largest groups for violence
and domestic abuse; 18 for most burglary and vehicle crime). Anything after the end of the
window is still pending and not written.

**Victim contacts.** Every crime with a victim gets an ``INITIAL`` contact within hours and a
``REFERRAL`` to victim support (unless declined, 25%) due within 2 working days. Each key event
(arrest, interview, bail/RUI, charge, NFA, decision not to investigate) and the outcome must be
told to the victim within 5 working days, or 1 working day with enhanced rights (Victims' Code
2020, right 6). Each crime is handled by an officer whose reliability is Beta(8, 2.2) (mean
0.78): an update is on time with that probability (x0.85 when the deadline is 1 day), otherwise
late (60%: 1-15 working days past the deadline) or never made. Working days exclude weekends and
England and Wales bank holidays (:mod:`._calendar`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from peelian.data.synthetic._calendar import add_working_days, bank_holidays
from peelian.data.synthetic._codes import SEXUAL_CODES

__all__ = ["CHANNELS", "EVENT_TYPES", "PURPOSES", "investigate", "victim_contacts"]

EVENT_TYPES = ["ARREST", "INTERVIEW", "CHARGE", "BAIL", "RUI", "NFA", "NOT_INVESTIGATED"]
PURPOSES = ["INITIAL", "UPDATE", "OUTCOME", "REFERRAL"]
CHANNELS = ["PHONE", "EMAIL", "VISIT", "LETTER", "SMS"]

# group: p_screen_out (no suspect), p_arrest, p_charge, p_out_of_court, p_nfa_victim_unsupportive
_GROUPS = {
    "domestic": (0.05, 0.70, 0.14, 0.04, 0.65),
    "sexual": (0.05, 0.55, 0.06, 0.02, 0.45),
    "violence": (0.30, 0.55, 0.12, 0.10, 0.45),
    "acquisitive": (0.65, 0.70, 0.30, 0.10, 0.25),
    "retail": (0.50, 0.45, 0.40, 0.20, 0.20),
    "proactive": (0.00, 0.75, 0.40, 0.35, 0.05),
    "other": (0.40, 0.45, 0.25, 0.15, 0.30),
}
_ACQUISITIVE = (
    "Burglary",
    "Robbery",
    "Vehicle crime",
    "Theft from the person",
    "Bicycle theft",
    "Other theft",
)
_CHANNEL_P = np.array([0.55, 0.17, 0.12, 0.06, 0.10])


def _group(codes: np.ndarray, category: np.ndarray, da: np.ndarray) -> np.ndarray:
    g = np.full(codes.size, "other", dtype=object)
    g[category == "Violence and sexual offences"] = "violence"
    g[category == "Public order"] = "violence"
    g[np.isin(category, _ACQUISITIVE)] = "acquisitive"
    g[np.isin(codes, ("46", "49A"))] = "retail"
    g[np.isin(category, ("Drugs", "Possession of weapons"))] = "proactive"
    g[np.isin(codes, SEXUAL_CODES)] = "sexual"
    g[da] = "domestic"
    return g


def _minutes(x: np.ndarray) -> np.ndarray:
    return np.round(x).astype(np.int64).astype("timedelta64[m]")


def investigate(
    codes: np.ndarray,
    category: np.ndarray,
    da: np.ndarray,
    reported: np.ndarray,
    suspect: np.ndarray,
    suspect_age: np.ndarray,
    end: np.datetime64,
    rng: np.random.Generator,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(events [occ, person_id, event_type, at], outcomes [occ, outcome_code, at])."""
    n = codes.size
    grp = _group(codes, category, da)
    names = list(_GROUPS)
    table = np.array([_GROUPS[g] for g in names])
    par = table[pd.Index(names).get_indexer(grp)]  # n x 5
    has_s = suspect >= 0
    rep = reported.astype("datetime64[m]")
    ev: list[tuple[np.ndarray, int, np.ndarray]] = []

    def add(mask: np.ndarray, etype: str, at: np.ndarray) -> None:
        ev.append((np.flatnonzero(mask), EVENT_TYPES.index(etype), at[mask]))

    # No suspect.
    screen = ~has_s & (rng.random(n) < par[:, 0])
    t_screen = rep + _minutes(rng.uniform(120, 3 * 1440, n))
    add(screen, "NOT_INVESTIGATED", t_screen)
    t_closed = rep + _minutes(rng.lognormal(np.log(20 * 1440), 0.7, n))
    no_s_code = np.where(rng.random(n) < 0.8, 18, 14)
    # Suspect.
    arrest = has_s & (rng.random(n) < par[:, 1])
    med = np.where(da, 6 * 60, 2 * 1440)
    t_arrest = rep + _minutes(rng.lognormal(np.log(med), 0.9))
    add(arrest, "ARREST", t_arrest)
    voluntary = has_s & ~arrest & (rng.random(n) < 0.6)
    interview = arrest | voluntary
    t_int = np.where(
        arrest,
        t_arrest + _minutes(rng.uniform(120, 720, n)),
        rep + _minutes(rng.uniform(3, 30, n) * 1440),
    )
    add(interview, "INTERVIEW", t_int)
    path = rng.choice(3, n, p=[0.45, 0.2, 0.35])  # immediate, bail, RUI
    released = interview & (path > 0)
    t_rel = t_int + _minutes(rng.uniform(30, 180, n))
    add(released & (path == 1), "BAIL", t_rel)
    add(released & (path == 2), "RUI", t_rel)
    wait = np.where(
        path == 1,
        rng.lognormal(np.log(35 * 1440), 0.5, n),
        rng.lognormal(np.log(75 * 1440), 0.7, n),
    )
    t_dec = np.where(
        released,
        t_rel + _minutes(wait),
        np.where(
            interview,
            t_int + _minutes(rng.uniform(60, 480, n)),
            rep + _minutes(rng.uniform(10, 90, n) * 1440),
        ),
    )
    u = rng.random(n)
    charge = has_s & (u < par[:, 2])
    ooc = has_s & ~charge & (u < par[:, 2] + par[:, 3])
    nfa = has_s & ~charge & ~ooc
    add(charge, "CHARGE", t_dec)
    add(nfa, "NFA", t_dec)
    young = suspect_age < 18
    ooc_code = np.where(
        young,
        rng.choice([2, 22, 8], n, p=[0.3, 0.3, 0.4]),
        np.where(
            codes == "92E",
            rng.choice([7, 8, 6, 3], n, p=[0.45, 0.3, 0.1, 0.15]),
            rng.choice([3, 8, 6, 22], n, p=[0.35, 0.45, 0.1, 0.1]),
        ),
    )
    nfa_code = np.where(rng.random(n) < par[:, 4], 16, np.where(rng.random(n) < 0.85, 15, 21))
    out_code = np.where(charge, 1, np.where(ooc, ooc_code, np.where(nfa, nfa_code, 0)))
    out_code = np.where(~has_s, np.where(screen, 18, no_s_code), out_code)
    t_out = np.where(has_s, t_dec, np.where(screen, t_screen, t_closed))
    e_occ = np.concatenate([x[0] for x in ev])
    e_type = np.concatenate([np.full(x[0].size, x[1], dtype=np.int8) for x in ev])
    e_at = np.concatenate([x[2] for x in ev]).astype("datetime64[m]")
    end_m = end.astype("datetime64[m]")
    keep = e_at <= end_m
    e_occ, e_type, e_at = e_occ[keep], e_type[keep], e_at[keep]
    order = np.lexsort((e_at, e_occ))
    events = pd.DataFrame(
        {
            "occ": e_occ[order],
            "person_id": suspect[e_occ[order]],
            "event_type": pd.Categorical.from_codes(e_type[order], EVENT_TYPES),
            "at": e_at[order],
        }
    )
    done = t_out <= end_m
    outcomes = pd.DataFrame(
        {"occ": np.flatnonzero(done), "outcome_code": out_code[done], "at": t_out[done]}
    )
    return events.reset_index(drop=True), outcomes


def victim_contacts(
    events: pd.DataFrame,
    outcomes: pd.DataFrame,
    victim: np.ndarray,
    reported: np.ndarray,
    enhanced: np.ndarray,
    da: np.ndarray,
    end: np.datetime64,
    rng: np.random.Generator,
    n_officers: int = 2500,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(contacts [occ, person_id, at, channel, by, purpose, enhanced], obligations).

    Obligations (the ground truth of the Victims' Code gaps): one row per update or outcome the
    victim had to be told about -- occ, purpose, trigger, trigger_at, enhanced,
    deadline_working_days, due (last day), counted (due before the end of the window),
    on_time, late, missed.
    """
    n = victim.size
    has_v = victim >= 0
    officer = rng.integers(0, n_officers, n)
    reliability = rng.beta(8.0, 2.2, n_officers)[officer]
    collar = np.char.add("C", np.char.zfill((1000 + np.arange(n_officers) * 3).astype(str), 4))
    end_m = end.astype("datetime64[m]")
    years = reported.astype("datetime64[Y]").astype(int) + 1970
    hol = bank_holidays(int(years.min()) - 1, int(years.max()) + 2)
    rep = reported.astype("datetime64[m]")
    occ_v = np.flatnonzero(has_v)
    parts: list[
        tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
    ] = []  # occ, at, channel, purpose

    def part(
        o: np.ndarray, at: np.ndarray, channel: np.ndarray | int, purpose: np.ndarray | int
    ) -> None:
        k = o.size
        parts.append(
            (
                o,
                at.astype("datetime64[m]"),
                np.broadcast_to(np.asarray(channel, dtype=np.int8), (k,)),
                np.broadcast_to(np.asarray(purpose, dtype=np.int8), (k,)),
            )
        )

    # INITIAL contact within hours.
    t0 = rep[occ_v] + _minutes(rng.lognormal(np.log(90), 1.0, occ_v.size))
    visit = rng.random(occ_v.size) < np.where(da[occ_v], 0.7, 0.3)
    part(occ_v, t0, np.where(visit, 2, 0), 0)
    # REFERRAL within 2 working days unless declined.
    ref = occ_v[rng.random(occ_v.size) < np.where(da[occ_v], 0.95, 0.75)]
    lag = np.where(
        rng.random(ref.size) < 0.88, rng.integers(0, 3, ref.size), rng.integers(3, 11, ref.size)
    )
    day = add_working_days(rep[ref].astype("datetime64[D]"), lag, hol)
    part(ref, _office_time(day, rep[ref], rng), 1, 3)
    # UPDATE per key event, OUTCOME per outcome: Victims' Code deadlines.
    ev_o = events["occ"].to_numpy()
    ev_t = events["at"].to_numpy().astype("datetime64[m]")
    ev_k = events["event_type"].cat.codes.to_numpy().astype(np.int8)
    drop = (ev_k == EVENT_TYPES.index("ARREST")) & _followed_same_day(ev_o, ev_t)
    o = np.r_[ev_o[~drop], outcomes["occ"].to_numpy()]
    t_at = np.r_[ev_t[~drop], outcomes["at"].to_numpy().astype("datetime64[m]")]
    trig_kind = np.r_[ev_k[~drop], np.full(len(outcomes), len(EVENT_TYPES), dtype=np.int8)]
    purpose = np.where(trig_kind == len(EVENT_TYPES), 2, 1).astype(np.int8)
    sel = has_v[o]
    o, t_at, trig_kind, purpose = o[sel], t_at[sel], trig_kind[sel], purpose[sel]
    deadline = np.where(enhanced[o], 1, 5)
    p_on = reliability[o] * np.where(enhanced[o], 0.85, 1.0)
    u = rng.random(o.size)
    on_time = u < p_on
    late = ~on_time & (u < p_on + (1 - p_on) * 0.6)
    lag = np.where(
        on_time,
        (rng.random(o.size) * (deadline + 1)).astype(int),
        deadline + 1 + rng.geometric(0.25, o.size) - 1,
    )
    made = on_time | late
    day = add_working_days(t_at.astype("datetime64[D]"), lag, hol)
    at = _office_time(day, t_at, rng)
    # A contact made "on time" on the trigger's own day but after office hours slips a day.
    ok = made & (at <= end_m)
    ch = rng.choice(len(CHANNELS), o.size, p=_CHANNEL_P)
    part(o[ok], at[ok], ch[ok], purpose[ok])
    c_occ = np.concatenate([p[0] for p in parts])
    c_at = np.concatenate([p[1] for p in parts])
    c_ch = np.concatenate([p[2] for p in parts])
    c_pu = np.concatenate([p[3] for p in parts])
    keep = c_at <= end_m
    order = np.flatnonzero(keep)[np.lexsort((c_at[keep], c_occ[keep]))]
    co = c_occ[order]
    contacts = pd.DataFrame(
        {
            "occ": co,
            "person_id": victim[co],
            "at": c_at[order],
            "channel": pd.Categorical.from_codes(c_ch[order], CHANNELS),
            "by": pd.Categorical.from_codes(officer[co], collar),
            "purpose": pd.Categorical.from_codes(c_pu[order], PURPOSES),
            "enhanced": enhanced[co],
        }
    )
    due = add_working_days(t_at.astype("datetime64[D]"), deadline, hol)
    counted = due.astype("datetime64[m]") + np.timedelta64(1439, "m") <= end_m
    on_real = made & (at.astype("datetime64[D]") <= due)
    obligations = pd.DataFrame(
        {
            "occ": o,
            "purpose": pd.Categorical.from_codes(purpose, PURPOSES),
            "trigger": pd.Categorical.from_codes(trig_kind, [*EVENT_TYPES, "OUTCOME"]),
            "trigger_at": t_at,
            "enhanced": enhanced[o],
            "deadline_working_days": deadline,
            "due": due,
            "counted": counted,
            "on_time": on_real & counted,
            "late": made & ~on_real & counted,
            "missed": ~made & counted,
        }
    )
    return contacts, obligations


def _followed_same_day(occ: np.ndarray, at: np.ndarray) -> np.ndarray:
    """True where the next event (rows sorted by occ, time) is of the same occurrence and day."""
    nxt_occ = np.r_[occ[1:], -1]
    d = at.astype("datetime64[D]")
    nxt_d = np.r_[d[1:], np.datetime64("NaT")]
    return (nxt_occ == occ) & (nxt_d == d)


def _office_time(day: np.ndarray, after: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A time 09:00-19:00 on ``day``, and never before ``after`` + 20 minutes."""
    t = day.astype("datetime64[m]") + _minutes(rng.uniform(9 * 60, 19 * 60, day.size))
    return np.maximum(t, after.astype("datetime64[m]") + np.timedelta64(20, "m"))
