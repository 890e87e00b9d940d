"""Domestic abuse: relationships with repeat victimisation and serial perpetrators.

Domestic abuse (DA) occurrences are grouped into *relationships*: within each LSOA, DA crimes in
random order are cut into runs, each run continuing with probability ``P_DA_REPEAT``; a run is one
victim-perpetrator relationship at one home address (its crimes share the first crime's location,
except those in public space). Repeat victimisation is much higher for domestic abuse than for
other crime (ONS *Domestic abuse in England and Wales overview*: around a third to a half of DA
victims in police records are repeat victims within a year; SafeLives *Insights* dataset).

Perpetrators: relationships are ordered by district and start time; a relationship takes the
previous relationship's perpetrator with probability ``P_SERIAL`` when that one started within
three years, so some perpetrators abuse two or more victims within three years -- MATAC's *serial
perpetrator* definition (Northumbria's Multi-Agency Tasking and Coordination: a suspect on more
than one DA record against two or more victims, aged 16+, within 3 years). Victims are 16 or over
(the statutory definition of domestic abuse, Domestic Abuse Act 2021 s.1); about 74% female (ONS
*Domestic abuse victim characteristics*, year ending March 2022: 73% of DA-related crime victims
were female); perpetrators about 80% male, of a similar age.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from peelian.data.synthetic._people import PersonBook, _runs

__all__ = ["P_DA_REPEAT", "P_SERIAL", "domestic_relationships"]

P_DA_REPEAT = 0.5
P_SERIAL = 0.12
_THREE_YEARS = np.timedelta64(3 * 365 + 1, "D")


def domestic_relationships(
    idx: np.ndarray,
    lsoa: np.ndarray,
    district: np.ndarray,
    when: np.ndarray,
    year: np.ndarray,
    rng: np.random.Generator,
    book: PersonBook,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(victim id, perpetrator id, relationship id) for the DA occurrences ``idx``."""
    key = np.where(pd.isna(lsoa[idx]), "", lsoa[idx]).astype(str)
    order = np.lexsort((rng.random(idx.size), key))
    rel = np.empty(idx.size, dtype=np.int64)
    rel[order] = _runs(key[order], P_DA_REPEAT, rng)
    n_rel = int(rel.max()) + 1 if rel.size else 0
    start = np.full(n_rel, np.datetime64("2100-01-01", "m"))
    np.minimum.at(start, rel, when[idx].astype("datetime64[m]"))
    first = np.full(n_rel, -1, dtype=np.int64)
    first[rel[::-1]] = idx[::-1]
    first_year = np.full(n_rel, 10_000, dtype=np.int64)
    np.minimum.at(first_year, rel, year[idx])  # ages are 16+ at the relationship's first crime
    v_age = np.minimum(16 + rng.gamma(2.4, 9.0, n_rel), 90)
    victims = book.add(v_age, first_year, 0.74, "da_victim")
    rdist = np.where(pd.isna(district[first]), "", district[first]).astype(str)
    r_order = np.lexsort((start, rdist))
    s = start[r_order]
    d = rdist[r_order]
    cont = np.zeros(n_rel, dtype=bool)
    cont[1:] = (
        (d[1:] == d[:-1]) & (s[1:] - s[:-1] <= _THREE_YEARS) & (rng.random(n_rel - 1) < P_SERIAL)
    )
    perp_of_sorted = np.cumsum(~cont) - 1
    n_perp = int(perp_of_sorted.max()) + 1 if n_rel else 0
    p_first = np.zeros(n_perp, dtype=np.int64)
    p_first[perp_of_sorted[::-1]] = r_order[::-1]
    p_age = np.clip(v_age[p_first] + rng.normal(2.0, 6.0, n_perp), 16, 90)
    perps = book.add(p_age, first_year[p_first], 0.2, "da_perpetrator")
    perp_of_rel = np.empty(n_rel, dtype=np.int64)
    perp_of_rel[r_order] = perps[perp_of_sorted]
    return victims[rel], perp_of_rel[rel], rel
