"""Synthetic people: victims (with repeat victimisation), suspects, co-offending groups, witnesses.

* **Persons** have a birth year, sex and ethnicity (Northumbria's Census 2021 mix, about 93%
  White, 3.5% Asian, 1.2% Black, 1.3% Mixed, 1% Other; ONS TS021, aggregated to 5 groups).
* **Repeat victimisation**: within each LSOA, the crimes with a person victim are put in random
  order and cut into runs; a crime continues the previous victim's run with probability
  ``P_REPEAT_VICTIM`` (geometric run lengths), so about that share of non-domestic victims are
  repeat victims within the window (Farrell & Pease 1993, *Once bitten, twice bitten*, Home
  Office CPU paper 46: a small share of victims suffer a large share of crime).
* **Suspects** come from an offender pool per district whose activity weights are lognormal
  (sigma 1.1): most offenders appear once or twice, a few prolific offenders dozens of times
  (the "age-crime curve" gives ages: 14 + Gamma(2, 6.5), mode about 20).
* **Co-offending groups** (3-8 young people per group, 14-24) commit a share of robbery,
  burglary, vehicle taking and public-space violence together; 40% of groups carry a gang marker.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = [
    "CHILD_VICTIM_CODES",
    "ETHNICITY",
    "PersonBook",
    "assign_suspects",
    "assign_victims",
    "co_offending",
    "witnesses",
]

ETHNICITY = {"W": 0.930, "A": 0.035, "B": 0.012, "M": 0.013, "O": 0.010}
P_REPEAT_VICTIM = 0.14
CHILD_VICTIM_CODES = (
    "19D", "19E", "19G", "19H", "20B", "17B", "21", "22B", "71", "88A", "11A", "13", "4.7", "4.2",
)  # fmt: skip
_MALE_VICTIM_CODES = ("19F", "19G", "19H", "17A", "17B")
_FEMALE_VICTIM_CODES = ("19C", "19D", "19E", "20A", "20B")
_CO_OFFENDING_CODES = ("34B", "28E", "28F", "29A", "48", "37.2", "39", "62A", "5D", "8N", "9A")
CO_OFFENDING_SHARE = 0.12
_PROLIFIC_SIGMA = 1.1


class PersonBook:
    """Accumulates synthetic persons; ids are consecutive integers from 0."""

    def __init__(self, rng: np.random.Generator) -> None:
        self._rng = rng
        self._parts: list[pd.DataFrame] = []
        self.size = 0

    def add(
        self, age: np.ndarray, ref_year: np.ndarray | int, p_female: np.ndarray | float, kind: str
    ) -> np.ndarray:
        """Add ``len(age)`` persons; returns their ids."""
        n = len(age)
        rng = self._rng
        ids = np.arange(self.size, self.size + n, dtype=np.int64)
        female = rng.random(n) < np.broadcast_to(p_female, (n,))
        unknown = rng.random(n) < 0.004
        sex = np.where(unknown, "U", np.where(female, "F", "M"))
        eth = rng.choice(np.array(list(ETHNICITY)), n, p=np.array(list(ETHNICITY.values())))
        age = np.clip(np.asarray(age, dtype=float), 0, 100)  # no one older than 100
        birth = np.asarray(ref_year) - np.floor(age).astype(np.int64) - (rng.random(n) < 0.5)
        self._parts.append(
            pd.DataFrame(
                {"person_id": ids, "birth_year": birth, "sex": sex, "ethnicity": eth, "kind": kind}
            )
        )
        self.size += n
        return ids

    def frame(self) -> pd.DataFrame:
        if not self._parts:
            return pd.DataFrame(columns=["person_id", "birth_year", "sex", "ethnicity", "kind"])
        return pd.concat(self._parts, ignore_index=True)


def _runs(group_key: np.ndarray, p_continue: float, rng: np.random.Generator) -> np.ndarray:
    """Run ids after cutting rows (already ordered) into runs that never cross ``group_key``."""
    n = len(group_key)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    new = np.ones(n, dtype=bool)
    new[1:] = (group_key[1:] != group_key[:-1]) | (rng.random(n - 1) >= p_continue)
    return np.cumsum(new) - 1


def victim_age_sex(codes: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Age and probability of being female of a victim, by offence code."""
    n = len(codes)
    age = 16 + rng.gamma(2.2, 11.0, n)
    child = np.isin(codes, CHILD_VICTIM_CODES)
    age = np.where(child, rng.uniform(0, 16, n), age)
    young = np.isin(codes, ("34B", "39", "44"))
    age = np.where(young, 13 + rng.gamma(2.0, 7.0, n), age)
    p_f = np.full(n, 0.5)
    p_f = np.where(
        np.isin(codes, ("8N", "105A", "5D", "2", "1", "4.1", "34B", "104", "8S")), 0.38, p_f
    )
    p_f = np.where(np.isin(codes, ("8L", "8Q", "8R", "88E", "22B", "21", "71", "88A")), 0.8, p_f)
    p_f = np.where(np.isin(codes, _FEMALE_VICTIM_CODES), 1.0, p_f)
    p_f = np.where(np.isin(codes, _MALE_VICTIM_CODES), 0.0, p_f)
    return np.minimum(age, 95), p_f


def assign_victims(
    idx: np.ndarray,
    codes: np.ndarray,
    lsoa: np.ndarray,
    year: np.ndarray,
    rng: np.random.Generator,
    book: PersonBook,
    p_continue: float = P_REPEAT_VICTIM,
) -> np.ndarray:
    """Victim person id for each occurrence in ``idx`` (runs within LSOA = repeat victims)."""
    key = np.where(pd.isna(lsoa[idx]), "", lsoa[idx]).astype(str)
    order = np.lexsort((rng.random(idx.size), key))
    run = _runs(key[order], p_continue, rng)
    first = np.flatnonzero(np.r_[True, run[1:] != run[:-1]]) if run.size else run
    src = idx[order][first]
    age, p_f = victim_age_sex(codes[src], rng)
    ids = book.add(age, year[src], p_f, "victim")
    out = np.empty(idx.size, dtype=np.int64)
    out[order] = ids[run]
    return out


def offender_ages(n: int, rng: np.random.Generator) -> np.ndarray:
    """Ages following the age-crime curve (Farrington 1986, *Age and crime*): mode about 20."""
    return np.minimum(14 + rng.gamma(2.0, 6.5, n), 80)


def assign_suspects(
    idx: np.ndarray,
    district: np.ndarray,
    codes: np.ndarray,
    year: np.ndarray,
    rng: np.random.Generator,
    book: PersonBook,
) -> np.ndarray:
    """Suspect person id for each occurrence in ``idx``, from a prolific-tailed pool per district."""
    out = np.empty(idx.size, dtype=np.int64)
    dist = np.where(pd.isna(district[idx]), "", district[idx]).astype(str)
    for d in np.unique(dist):
        sel = np.flatnonzero(dist == d)
        pool = max(1, int(sel.size * 0.5))
        w = rng.lognormal(0.0, _PROLIFIC_SIGMA, pool)
        pick = rng.choice(pool, sel.size, p=w / w.sum())
        used, inv = np.unique(pick, return_inverse=True)
        first = np.zeros(used.size, dtype=np.int64)
        first[inv[::-1]] = np.arange(sel.size)[::-1]
        src = idx[sel][first]
        p_f = np.where(np.isin(codes[src], ("46", "49", "41", "40")), 0.35, 0.16)
        ids = book.add(offender_ages(used.size, rng), year[src], p_f, "offender")
        out[sel] = ids[inv]
    return out


def co_offending(
    idx: np.ndarray,
    district: np.ndarray,
    codes: np.ndarray,
    when: np.ndarray,
    rng: np.random.Generator,
    book: PersonBook,
    start_year: int,
) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    """Co-offending groups for a share of eligible suspect occurrences ``idx``.

    Returns (extra involvements [occ, person_id], intel links [from, to, link_type, since],
    gang mask over all occurrences of ``idx``'s universe as a set of occurrence indices).
    """
    eligible = idx[
        np.isin(codes[idx], _CO_OFFENDING_CODES) & (rng.random(idx.size) < CO_OFFENDING_SHARE)
    ]
    dist = np.where(pd.isna(district[eligible]), "", district[eligible]).astype(str)
    inv_rows: list[pd.DataFrame] = []
    links: list[pd.DataFrame] = []
    gang_occ: list[np.ndarray] = []
    for d in np.unique(dist):
        ev = eligible[dist == d]
        n_groups = max(1, round(ev.size / 15))
        sizes = rng.integers(3, 9, n_groups)
        members = book.add(
            np.minimum(14 + rng.gamma(2.0, 2.5, sizes.sum()), 24.9), start_year, 0.1, "group_member"
        )
        offsets = np.r_[0, np.cumsum(sizes)[:-1]]
        gang = rng.random(n_groups) < 0.4
        g = rng.integers(0, n_groups, ev.size)
        k = np.where(rng.random(ev.size) < 0.6, 2, 3)
        keys = rng.random((ev.size, 8))
        keys[np.arange(8)[None, :] >= sizes[g][:, None]] = np.inf
        pick = members[np.argsort(keys, axis=1)[:, :3] + offsets[g][:, None]]
        for j in range(3):
            sel = j < k
            inv_rows.append(pd.DataFrame({"occ": ev[sel], "person_id": pick[sel, j]}))
        for a, b in ((0, 1), (0, 2), (1, 2)):
            sel = k > max(a, b)
            links.append(
                pd.DataFrame(
                    {
                        "from_id": pick[sel, a],
                        "to_id": pick[sel, b],
                        "link_type": "COOFFENDER",
                        "since": when[ev[sel]],
                    }
                )
            )
        gang_occ.append(ev[gang[g]])
        a_idx, b_idx = np.triu_indices(8, 1)
        valid = b_idx[None, :] < sizes[:, None]  # groups x 28 possible pairs
        ga = (offsets[:, None] + a_idx[None, :])[valid]
        gb = (offsets[:, None] + b_idx[None, :])[valid]
        links.append(
            pd.DataFrame(
                {
                    "from_id": members[ga],
                    "to_id": members[gb],
                    "link_type": "ASSOCIATE",
                    "since": np.datetime64(f"{start_year}-01-01", "m"),
                }
            )
        )
    inv = (
        pd.concat(inv_rows, ignore_index=True)
        if inv_rows
        else pd.DataFrame(columns=["occ", "person_id"])
    )
    lk = (
        pd.concat(links, ignore_index=True)
        if links
        else pd.DataFrame(columns=["from_id", "to_id", "link_type", "since"])
    )
    if len(lk):
        lk = lk.sort_values("since").drop_duplicates(["from_id", "to_id", "link_type"])
    gang_idx = np.concatenate(gang_occ) if gang_occ else np.zeros(0, dtype=np.int64)
    return inv, lk, gang_idx


def witnesses(
    idx: np.ndarray, year: np.ndarray, rng: np.random.Generator, book: PersonBook
) -> pd.DataFrame:
    """One witness for the occurrences in ``idx`` (already selected)."""
    ids = book.add(16 + rng.gamma(2.2, 11.0, idx.size), year[idx], 0.5, "witness")
    return pd.DataFrame({"occ": idx, "person_id": ids})
