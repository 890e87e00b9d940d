"""Home Office offence codes and flags of synthetic occurrences.

Each calibrated occurrence has a police.uk category; this module gives it a Home Office offence
code from the code mix (``data/code_mix.csv``: relative shares within each category, or a fixed
annual count for rare codes) and sets the flags a force records (domestic abuse, knife or sharp
instrument, firearm discharged, alcohol, drugs, hate strands, cyber-enabled, public space).

Homicide (codes 1, 4.1, 4.2) is drawn by its own model: a rate per financial year drawn uniformly
between 15 and 25 (Northumbria recorded 13-25 homicides a year in 2015-2023, ONS *Homicide in
England and Wales*, Appendix table by police force area) spread over the months by systematic
sampling, so every run has a believable force-level homicide count.

Labels and the knife-flag eligibility come from :mod:`peelian.offences` (the project's taxonomy).
"""

from __future__ import annotations

import functools
from importlib import resources

import numpy as np
import pandas as pd

__all__ = [
    "FIREARM_CODES",
    "HATE_STRANDS",
    "HOMICIDE_CODES",
    "RESIDENTIAL_BURGLARY_CODES",
    "SEXUAL_CODES",
    "STALKING_CODES",
    "assign_codes",
    "assign_flags",
    "code_labels",
    "code_mix",
    "homicide_counts",
]

HOMICIDE_CODES = ("1", "4.1", "4.2")
_HOMICIDE_SPLIT = np.array([0.88, 0.115, 0.005])
#: Homicides per financial year are drawn uniformly from this range (per 1.0 scale).
HOMICIDE_RANGE = (15.0, 25.0)
RESIDENTIAL_BURGLARY_CODES = ("28E", "28F", "28G", "28H", "29A")
SEXUAL_CODES = (
    "19C", "19D", "19E", "19F", "19G", "19H", "17A", "17B", "20A", "20B", "21", "22B",
    "71", "88A", "88E",
)  # fmt: skip
STALKING_CODES = ("8L", "8M", "8Q", "8R")
#: Codes on which a firearm discharge is recorded, with relative weights.
FIREARM_CODES = {"2": 0.3, "5D": 0.25, "8N": 0.15, "58A": 0.15, "58C": 0.1, "1": 0.05}
#: Firearm discharges a year (per 1.0 scale); Northumbria's are in single figures to low teens.
FIREARM_DISCHARGES_PER_YEAR = 9.0
#: Hate crime strands and their shares (Home Office, *Hate crime, England and Wales, 2021 to
#: 2022*: race about 70%, sexual orientation 17%, religion 6%, disability 9%, transgender 4%;
#: strands overlap, so shares are normalised here).
HATE_STRANDS = {
    "race": 0.66,
    "sexual orientation": 0.15,
    "religion": 0.06,
    "disability": 0.09,
    "transgender": 0.04,
}


@functools.cache
def code_mix() -> pd.DataFrame:
    """The code mix table (one row per code; see ``data/code_mix.csv`` for the columns)."""
    text = resources.files(__package__).joinpath("data/code_mix.csv").read_text("utf-8")
    lines = [ln for ln in text.splitlines() if ln and not ln.startswith("#")]
    from io import StringIO

    mix = pd.read_csv(StringIO("\n".join(lines)), dtype={"code": str})
    mix["share"] = mix["share"].fillna(0.0)
    mix["annual"] = mix["annual"].fillna(0.0)
    return mix.set_index("code", drop=False)


@functools.cache
def code_labels() -> dict[str, tuple[str, bool]]:
    """Code -> (label, knife_flag_eligible), from :mod:`peelian.offences` when it has the code."""
    from peelian.offences import home_office_codes

    out: dict[str, tuple[str, bool]] = {}
    for row in home_office_codes().itertuples(index=False):
        out[str(row.code)] = (str(row.label), bool(row.knife_flag_eligible))
    return out


def homicide_counts(months: list[str], rng: np.random.Generator, scale: float) -> np.ndarray:
    """Homicides per month: a rate per financial year in ``HOMICIDE_RANGE``, spread systematically.

    Systematic sampling (a random start, then one homicide every 12/rate months) keeps every
    12-month window within one or two of that year's rate.
    """
    fy = np.array([int(m[:4]) - (int(m[5:7]) < 4) for m in months])
    years = np.unique(fy)
    rates = rng.uniform(*HOMICIDE_RANGE, size=years.size) * scale
    per_month = rates[np.searchsorted(years, fy)] / 12.0
    cum = np.cumsum(per_month) + rng.uniform()
    return np.diff(np.floor(np.concatenate([[cum[0] - per_month[0]], cum]))).astype(np.int64)


def assign_codes(
    month: np.ndarray,
    category: np.ndarray,
    months: list[str],
    rng: np.random.Generator,
    scale: float,
) -> np.ndarray:
    """A Home Office code for every occurrence (arrays aligned with ``month`` and ``category``)."""
    mix = code_mix()
    codes = np.empty(len(month), dtype="U5")
    hom = dict(zip(months, homicide_counts(months, rng, scale), strict=True))
    from peelian.data.synthetic._temporal import group_indices

    per_cat = {}
    for cat, sub in mix.groupby("category"):
        rare = sub[sub["annual"] > 0]
        shared = sub[sub["share"] > 0]
        per_cat[cat] = (
            rare["code"].to_numpy().astype("U5"),
            rare["annual"].to_numpy(dtype=float),
            shared["code"].to_numpy().astype("U5"),
            shared["share"].to_numpy(dtype=float),
        )
    for (m, cat), idx in group_indices(month, category):
        if cat not in per_cat:
            raise ValueError(f"code mix has no codes for category {cat!r}")
        rare_codes, rare_annual, shared_codes, p = per_cat[cat]
        n = len(idx)
        fixed_codes: list[str] = []
        fixed_counts: list[int] = []
        if cat == "Violence and sexual offences":
            h = rng.multinomial(hom[str(m)], _HOMICIDE_SPLIT)
            fixed_codes += list(HOMICIDE_CODES)
            fixed_counts += [int(x) for x in h]
        if rare_codes.size:
            fixed_codes += list(rare_codes)
            fixed_counts += [int(x) for x in rng.poisson(rare_annual * scale / 12)]
        counts = np.array(fixed_counts, dtype=np.int64)
        if counts.sum() > n:  # tiny scales: keep the total
            counts = np.floor(counts * n / counts.sum()).astype(np.int64)
        rest = rng.multinomial(n - counts.sum(), p / p.sum())
        all_codes = np.concatenate([np.array(fixed_codes, dtype="U5"), shared_codes])
        all_counts = np.concatenate([counts, rest])
        codes[idx] = rng.permutation(np.repeat(all_codes, all_counts))
    return codes


def _draw(p: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return rng.random(p.shape[0]) < p


def assign_flags(
    codes: np.ndarray, in_nte: np.ndarray, rng: np.random.Generator, years: float, scale: float
) -> pd.DataFrame:
    """Flags per occurrence: probabilities of the code, adjusted for domestic abuse and the NTE.

    Public-space violence is more likely, and more often alcohol-related, in the night-time
    economy centres; domestic abuse is rarely in public space.
    """
    mix = code_mix()
    n = len(codes)
    look = mix.reindex(codes)
    p = {c: look[c].to_numpy(dtype=float) for c in mix.columns if c.startswith("p_")}
    da = _draw(p["p_da"], rng)
    labels = code_labels()
    known = pd.Series({c: v[1] for c, v in labels.items()}, dtype=object)
    eligible = known.reindex(codes).fillna(True).to_numpy(dtype=bool)
    knife = _draw(p["p_knife"], rng) & eligible
    p_pub = np.where(da, 0.05, p["p_public"])
    p_pub = np.where(in_nte & ~da, 1 - (1 - p_pub) * 0.3, p_pub)
    public = _draw(p_pub, rng)
    p_alc = np.where(in_nte & public, np.maximum(p["p_alcohol"], 0.55), p["p_alcohol"])
    alcohol = _draw(p_alc, rng)
    drug_codes = np.isin(codes, ["92A", "92C", "92D", "92E"])
    drugs = drug_codes | _draw(
        np.where(np.isin(codes, ["5D", "2", "1", "34B", "10D"]), 0.12, 0.02), rng
    )
    cyber = _draw(p["p_cyber"], rng)
    hate = _draw(p["p_hate"], rng)
    strands = np.full(n, "", dtype=object)
    names = np.array(list(HATE_STRANDS), dtype=object)
    w = np.array(list(HATE_STRANDS.values()))
    hidx = np.flatnonzero(hate)
    first = rng.choice(len(names), size=hidx.size, p=w / w.sum())
    second = rng.choice(len(names), size=hidx.size, p=w / w.sum())
    two = (rng.random(hidx.size) < 0.06) & (second != first)
    s1 = names[first]
    s2 = np.where(two, ";" + names[second], "")
    strands[hidx] = s1 + s2
    firearm = np.zeros(n, dtype=bool)
    n_fire = rng.poisson(FIREARM_DISCHARGES_PER_YEAR * years * scale)
    fcodes = np.array(list(FIREARM_CODES))
    fw = np.array(list(FIREARM_CODES.values()))
    candidates = np.flatnonzero(np.isin(codes, fcodes))
    if candidates.size and n_fire:
        cw = pd.Series(dict(zip(fcodes, fw, strict=True))).reindex(codes[candidates]).to_numpy()
        pick = rng.choice(
            candidates, size=min(n_fire, candidates.size), replace=False, p=cw / cw.sum()
        )
        firearm[pick] = True
        public[pick] = public[pick] | (rng.random(pick.size) < 0.7)
        da[pick] = False
    return pd.DataFrame(
        {
            "domestic_abuse": da,
            "knife": knife,
            "firearm_discharged": firearm,
            "alcohol": alcohol,
            "drugs": drugs,
            "hate_strands": strands,
            "cyber": cyber,
            "public_space": public,
        }
    )
