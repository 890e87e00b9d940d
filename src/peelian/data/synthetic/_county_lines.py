"""County-lines networks, cuckooed addresses, exploited young people and missing episodes.

A county line (Home Office 2018, *Criminal exploitation of children and vulnerable adults:
county lines guidance*) is a drug-supply network run on a dedicated phone line that uses children
and vulnerable adults to move and store drugs, often "cuckooing" (taking over) the homes of
vulnerable adults. Each synthetic network has

* a line holder (adult, 19-30) and 2-3 adult associates (SUPPLIES / ASSOCIATE links);
* 3-7 exploited young people aged 14-17 (EXPLOITS links, RESIDES at a home address), who go
  missing repeatedly (2-8 episodes each, MEDIUM/HIGH risk) and are found near the network's
  cuckooed addresses, often in another district;
* 2-5 cuckooed addresses, each the home of a vulnerable adult (RESIDES) taken over by the line
  holder (CUCKOOED link from the line holder to the address);
* about 40% of the trafficking (92A), 15% of the weapons (10C, 10D) and the modern slavery (106)
  occurrences of its district, flagged county lines, gang and drugs, with the young people and
  associates as suspects; a third of them at a cuckooed address.

Background missing episodes (not county lines) are also generated: about ``MISSING_PER_YEAR``
episodes a year, most by children, with repeat missing people (children in care go missing
repeatedly: NCA UK Missing Persons Bureau, *Missing persons data report 2020/21*).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from peelian.data.synthetic._people import PersonBook
from peelian.data.synthetic._spatial import disc_offsets

__all__ = ["MISSING_PER_YEAR", "NETWORKS", "CountyLines", "county_lines", "missing_episodes"]

#: County-lines networks active in a Northumbria-sized force (per 1.0 scale).
NETWORKS = 12
MISSING_PER_YEAR = 3000.0


@dataclass
class CountyLines:
    occ: np.ndarray  # occurrences linked to a network
    network_of_occ: np.ndarray
    suspects: pd.DataFrame  # occ, person_id
    victims: pd.DataFrame  # occ, person_id (modern slavery)
    moved: np.ndarray  # occurrence indices moved to a cuckooed address
    moved_e: np.ndarray
    moved_n: np.ndarray
    moved_lsoa: np.ndarray
    addresses: pd.DataFrame  # address_id, easting, northing, lsoa_code
    links: pd.DataFrame  # from_id, to_id, to_kind, link_type, since
    young: pd.DataFrame  # person_id, network, home_e, home_n, found_e, found_n (cuckooed area)


def county_lines(
    codes: np.ndarray,
    district: np.ndarray,
    easting: np.ndarray,
    northing: np.ndarray,
    lsoa: np.ndarray,
    when: np.ndarray,
    year: np.ndarray,
    start: np.datetime64,
    rng: np.random.Generator,
    book: PersonBook,
    scale: float,
) -> CountyLines:
    """Build the networks and attach them to existing occurrences."""
    dist = np.where(pd.isna(district), "", district).astype(str)
    located = np.isfinite(easting)
    # Networks go where trafficking is: weight districts by their 92A counts (by all located
    # crime when a small window has no trafficking at all).
    base = np.isin(codes, ["92A"]) & located & (dist != "")
    if not base.any():
        base = located & (dist != "")
    if not base.any():
        raise ValueError("no located occurrences to attach county lines to")
    districts, counts = np.unique(dist[base], return_counts=True)
    counts = counts.astype(float)
    k = max(1, round(NETWORKS * scale))
    net_d = districts[rng.choice(districts.size, k, p=counts / counts.sum())]
    holders = book.add(19 + rng.uniform(0, 11, k), int(str(start)[:4]), 0.08, "line_holder")
    n_assoc = rng.integers(2, 4, k)
    assoc = book.add(18 + rng.uniform(0, 8, n_assoc.sum()), int(str(start)[:4]), 0.15, "associate")
    n_young = rng.integers(3, 8, k)
    young = book.add(
        14 + rng.uniform(0, 3.99, n_young.sum()), int(str(start)[:4]), 0.2, "exploited"
    )
    n_addr = rng.integers(2, 6, k)
    vuln = book.add(
        30 + rng.uniform(0, 30, n_addr.sum()), int(str(start)[:4]), 0.45, "vulnerable_adult"
    )
    a_net = np.repeat(np.arange(k), n_assoc)
    y_net = np.repeat(np.arange(k), n_young)
    c_net = np.repeat(np.arange(k), n_addr)
    span = int((when.max().astype("datetime64[D]") - start).astype(int)) + 1
    since = start + rng.integers(0, max(1, min(180, span // 4)), k).astype("timedelta64[D]")
    # Cuckooed addresses: at trafficking locations in the network's district.
    addr_e = np.empty(c_net.size)
    addr_n = np.empty(c_net.size)
    addr_l = np.empty(c_net.size, dtype=object)
    for net in range(k):
        pool = np.flatnonzero(
            (dist == net_d[net]) & located & np.isin(codes, ["92A", "92D", "92E"])
        )
        if pool.size == 0:
            pool = np.flatnonzero((dist == net_d[net]) & located)
        pick = rng.choice(pool, int(n_addr[net]), replace=pool.size < n_addr[net])
        sel = c_net == net
        addr_e[sel], addr_n[sel], addr_l[sel] = easting[pick], northing[pick], lsoa[pick]
    # Young people's homes: random located occurrences anywhere (other districts too).
    homes = rng.choice(np.flatnonzero(located), young.size)
    n_addr_all = c_net.size + young.size
    addresses = pd.DataFrame(
        {
            "address_id": np.arange(n_addr_all),
            "easting": np.r_[addr_e, easting[homes]],
            "northing": np.r_[addr_n, northing[homes]],
            "lsoa_code": np.r_[addr_l, lsoa[homes]],
        }
    )
    home_addr = np.arange(c_net.size, n_addr_all)
    # Occurrences taken over by the networks.
    p_take = np.where(
        codes == "92A",
        0.40,
        np.where(np.isin(codes, ["10C", "10D"]), 0.15, np.where(codes == "106", 1.0, 0.0)),
    )
    cand = np.flatnonzero((p_take > 0) & (rng.random(codes.size) < p_take) & np.isin(dist, net_d))
    net_of = np.full(cand.size, -1)
    for d in np.unique(net_d):
        nets = np.flatnonzero(net_d == d)
        sel = dist[cand] == d
        net_of[sel] = rng.choice(nets, int(sel.sum()))
    occ = cand[net_of >= 0]
    net_of = net_of[net_of >= 0]
    active = when[occ] >= since[net_of].astype("datetime64[m]")
    occ, net_of = occ[active], net_of[active]
    # Suspects: one exploited young person (70%) or associate, sometimes both.
    y_off = np.r_[0, np.cumsum(n_young)[:-1]]
    a_off = np.r_[0, np.cumsum(n_assoc)[:-1]]
    y_pick = young[y_off[net_of] + (rng.random(occ.size) * n_young[net_of]).astype(int)]
    a_pick = assoc[a_off[net_of] + (rng.random(occ.size) * n_assoc[net_of]).astype(int)]
    use_y = rng.random(occ.size) < 0.7
    both = rng.random(occ.size) < 0.25
    ms = codes[occ] == "106"
    sus = pd.concat(
        [
            pd.DataFrame({"occ": occ[~ms], "person_id": np.where(use_y, y_pick, a_pick)[~ms]}),
            pd.DataFrame(
                {"occ": occ[both & ~ms], "person_id": np.where(use_y, a_pick, y_pick)[both & ~ms]}
            ),
            pd.DataFrame({"occ": occ[ms], "person_id": holders[net_of[ms]]}),
        ],
        ignore_index=True,
    )
    vic = pd.DataFrame({"occ": occ[ms], "person_id": y_pick[ms]})
    at_addr = rng.random(occ.size) < 1 / 3
    c_off = np.r_[0, np.cumsum(n_addr)[:-1]]
    a_i = c_off[net_of] + (rng.random(occ.size) * n_addr[net_of]).astype(int)
    dx, dy = disc_offsets(occ.size, 5.0, rng)
    moved = occ[at_addr]
    links = pd.concat(
        [
            pd.DataFrame(
                {
                    "from_id": holders[a_net],
                    "to_id": assoc,
                    "to_kind": "PERSON",
                    "link_type": "SUPPLIES",
                    "since": since[a_net],
                }
            ),
            pd.DataFrame(
                {
                    "from_id": holders[y_net],
                    "to_id": young,
                    "to_kind": "PERSON",
                    "link_type": "EXPLOITS",
                    "since": since[y_net],
                }
            ),
            pd.DataFrame(
                {
                    "from_id": assoc,
                    "to_id": young[(y_off[a_net])],
                    "to_kind": "PERSON",
                    "link_type": "ASSOCIATE",
                    "since": since[a_net],
                }
            ),
            pd.DataFrame(
                {
                    "from_id": holders[c_net],
                    "to_id": np.arange(c_net.size),
                    "to_kind": "ADDRESS",
                    "link_type": "CUCKOOED",
                    "since": since[c_net]
                    + rng.integers(0, 60, c_net.size).astype("timedelta64[D]"),
                }
            ),
            pd.DataFrame(
                {
                    "from_id": vuln,
                    "to_id": np.arange(c_net.size),
                    "to_kind": "ADDRESS",
                    "link_type": "RESIDES",
                    "since": start - np.timedelta64(365 * 3, "D"),
                }
            ),
            pd.DataFrame(
                {
                    "from_id": young,
                    "to_id": home_addr,
                    "to_kind": "ADDRESS",
                    "link_type": "RESIDES",
                    "since": start - np.timedelta64(365 * 5, "D"),
                }
            ),
        ],
        ignore_index=True,
    )
    links["since"] = pd.to_datetime(links["since"])
    first_addr = c_off[y_net] + (rng.random(young.size) * n_addr[y_net]).astype(int)
    yp = pd.DataFrame(
        {
            "person_id": young,
            "network": y_net,
            "since": since[y_net],
            "home_e": easting[homes],
            "home_n": northing[homes],
            "found_e": addr_e[first_addr],
            "found_n": addr_n[first_addr],
        }
    )
    return CountyLines(
        occ=occ,
        network_of_occ=net_of,
        suspects=sus,
        victims=vic,
        moved=moved,
        moved_e=np.round(addr_e[a_i[at_addr]] + dx[at_addr]),
        moved_n=np.round(addr_n[a_i[at_addr]] + dy[at_addr]),
        moved_lsoa=addr_l[a_i[at_addr]],
        addresses=addresses,
        links=links,
        young=yp,
    )


def missing_episodes(
    cl: CountyLines,
    easting: np.ndarray,
    northing: np.ndarray,
    start: np.datetime64,
    end: np.datetime64,
    rng: np.random.Generator,
    book: PersonBook,
    scale: float,
) -> pd.DataFrame:
    """Missing episodes: county-lines young people plus the background of missing people."""
    span_days = int((end.astype("datetime64[D]") - start.astype("datetime64[D]")).astype(int)) + 1
    years = span_days / 365.25
    # County lines: 2-8 episodes per exploited young person after the network started.
    n_ep = rng.integers(2, 9, len(cl.young))
    yp = cl.young.loc[np.repeat(cl.young.index.to_numpy(), n_ep)].reset_index(drop=True)
    first = (yp["since"].to_numpy().astype("datetime64[D]") - start).astype(int)
    first = np.clip(first, 0, span_days - 1)
    off = rng.uniform(first, span_days, len(yp)).astype(int)
    cl_rep = start + off.astype("timedelta64[D]")
    dx, dy = disc_offsets(len(yp), 300.0, rng)
    cl_frame = pd.DataFrame(
        {
            "person_id": yp["person_id"].to_numpy(),
            "day": cl_rep,
            "found_e": np.round(yp["found_e"].to_numpy() + dx),
            "found_n": np.round(yp["found_n"].to_numpy() + dy),
            "risk": rng.choice(np.array(["MEDIUM", "HIGH"]), len(yp), p=[0.45, 0.55]),
            "hours": rng.lognormal(np.log(40), 0.8, len(yp)),
        }
    )
    # Background: repeat missing people with lognormal propensity.
    n_bg = rng.poisson(MISSING_PER_YEAR * years * scale)
    pool = max(1, int(n_bg * 0.45))
    w = rng.lognormal(0, 1.0, pool)
    who = rng.choice(pool, n_bg, p=w / w.sum())
    used, inv = np.unique(who, return_inverse=True)
    child = rng.random(used.size) < 0.62
    ages = np.where(child, 12 + rng.uniform(0, 6, used.size), 18 + rng.gamma(2.0, 12.0, used.size))
    ids = book.add(ages, int(str(start)[:4]), 0.48, "missing")
    located = np.flatnonzero(np.isfinite(easting))
    home = rng.choice(located, used.size)
    dx, dy = disc_offsets(n_bg, 2000.0, rng)
    bg = pd.DataFrame(
        {
            "person_id": ids[inv],
            "day": start + rng.integers(0, span_days, n_bg).astype("timedelta64[D]"),
            "found_e": np.round(easting[home][inv] + dx),
            "found_n": np.round(northing[home][inv] + dy),
            "risk": rng.choice(np.array(["LOW", "MEDIUM", "HIGH"]), n_bg, p=[0.45, 0.45, 0.10]),
            "hours": rng.lognormal(np.log(10), 1.0, n_bg),
        }
    )
    ep = pd.concat([cl_frame, bg], ignore_index=True)
    hour = rng.choice(24, len(ep), p=_evening())
    reported = ep["day"].to_numpy().astype("datetime64[m]") + (
        hour * 60 + rng.integers(0, 60, len(ep))
    ).astype("timedelta64[m]")
    found = reported + np.round(ep["hours"].to_numpy() * 60).astype(np.int64).astype(
        "timedelta64[m]"
    )
    still = found > end.astype("datetime64[m]")
    ep = (
        pd.DataFrame(
            {
                "person_id": ep["person_id"].to_numpy(),
                "reported_missing": reported,
                "found": np.where(still, np.datetime64("NaT"), found).astype("datetime64[m]"),
                "risk_level": ep["risk"].to_numpy(),
                "found_easting": np.where(still, np.nan, ep["found_e"].to_numpy()),
                "found_northing": np.where(still, np.nan, ep["found_n"].to_numpy()),
            }
        )
        .sort_values("reported_missing", kind="stable")
        .reset_index(drop=True)
    )
    return ep


def _evening() -> np.ndarray:
    w = np.ones(24)
    w[15:24] = 3.0
    w[0:3] = 1.5
    return w / w.sum()
