"""The synthetic force generator: :func:`generate_force` ties the steps together.

Randomness: one :class:`numpy.random.Generator` per step, seeded ``[seed, step]``, so a run is
reproducible for a seed and changing one step does not reshuffle the others.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from peelian.data.synthetic import _codes, _county_lines, _domestic, _people, _spatial, _temporal
from peelian.data.synthetic._calibration import Calibration, load_calibration
from peelian.data.synthetic._investigation import investigate, victim_contacts
from peelian.data.synthetic._survey import survey_responses
from peelian.errors import ParameterError
from peelian.schemas.months import check_month_range, parse_month

__all__ = ["SyntheticForce", "generate_force"]


_SERIOUS = ("1", "4.1", "2", "5D", "36", "106", "3B")
_OFFENDER_OUTCOMES = (1, 2, 3, 6, 7, 8, 22)
_WITNESS_CATEGORIES = ("Violence and sexual offences", "Public order", "Robbery")
#: A missing value for np.where: blank strings become None in an object array.
_NONE = np.array(None, dtype=object)


@dataclass(frozen=True)
class SyntheticForce:
    """A generated force: one frame per export file, plus provenance in ``meta``.

    Every frame refers to occurrences by ``crime_ref`` ("SYN-YYYY-NNNNNNN"), to persons by
    ``person_ref`` ("SYN-P...") and to addresses by ``address_ref`` ("SYN-A..."). Date-times are
    ``datetime64[ns]`` at minute precision; easting/northing are EPSG:27700 metres.
    ``obligations`` is the ground truth of the Victims' Code updates (not exported).
    """

    occurrences: pd.DataFrame
    persons: pd.DataFrame
    involvements: pd.DataFrame
    investigation_events: pd.DataFrame
    outcomes: pd.DataFrame
    victim_contacts: pd.DataFrame
    missing_episodes: pd.DataFrame
    addresses: pd.DataFrame
    intel_links: pd.DataFrame
    survey: pd.DataFrame
    obligations: pd.DataFrame
    meta: dict[str, Any] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        """Rows per frame."""
        names = (
            "occurrences",
            "persons",
            "involvements",
            "investigation_events",
            "outcomes",
            "victim_contacts",
            "missing_episodes",
            "addresses",
            "intel_links",
            "survey",
        )
        return {n: len(getattr(self, n)) for n in names}


@functools.lru_cache(maxsize=4)
def _calibration(path: str | None, mtime: float | None) -> Calibration:
    return load_calibration(path)


def _month_list(month_from: str, month_to: str) -> list[str]:
    for name, value in (("month_from", month_from), ("month_to", month_to)):
        parse_month(value, name)  # the vocabulary's one month parser
    check_month_range(month_from, month_to)
    months = pd.period_range(month_from, month_to, freq="M").strftime("%Y-%m").tolist()
    if len(months) > 240:
        raise ParameterError(
            f"The month range {month_from}..{month_to} spans {len(months)} months; at most 240.",
            "Generate at most 20 years at a time.",
        )
    return months


def _check(seed: object, scale: object) -> None:
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or int(seed) < 0:
        raise ParameterError(
            f"The 'seed' parameter of generate_force must be an integer >= 0. Got {seed!r}.",
            "Pass e.g. --seed 42.",
        )
    if not isinstance(scale, int | float) or not (0 < float(scale) <= 10):
        raise ParameterError(
            f"The 'scale' parameter of generate_force must be a number > 0 and <= 10. Got {scale!r}.",
            "1.0 is a Northumbria-sized force; 0.1 a tenth of it.",
        )


def generate_force(
    seed: int,
    month_from: str,
    month_to: str,
    calibrate_from: str | Path | Calibration | None = None,
    scale: float = 1.0,
) -> SyntheticForce:
    """Generate a synthetic force's records for ``month_from..month_to`` (inclusive).

    ``calibrate_from``: a police.uk zip (default: the bundled Northumbria download) or a
    :class:`Calibration` already loaded with :func:`load_calibration`;
    ``scale``: volume multiplier (1.0 = the calibration force). Deterministic for a seed.
    """
    _check(seed, scale)
    months = _month_list(month_from, month_to)
    if isinstance(calibrate_from, Calibration):
        cal = calibrate_from
    else:
        path = None if calibrate_from is None else str(Path(calibrate_from).resolve())
        mtime = Path(path).stat().st_mtime if path and Path(path).is_file() else None
        cal = _calibration(path, mtime)
    scale = float(scale)
    seed = int(seed)

    def rng(step: int) -> np.random.Generator:
        return np.random.default_rng([seed, step])

    start = np.datetime64(months[0], "D")
    end = np.datetime64(pd.Period(months[-1], "M").end_time.floor("min").to_datetime64(), "m")
    sk = _spatial.build_skeleton(cal, months, rng(1), scale)
    n = len(sk)
    month = _u(sk["month"], "U7")
    category = _u(sk["category"], "U40")
    lsoa = _u(sk["lsoa_code"], "U9")
    district = _u(sk["district"], "U40")
    codes = _codes.assign_codes(month, category, months, rng(2), scale)
    in_nte = sk["lsoa_code"].isin(cal.nte_lsoas).to_numpy()
    flags = _codes.assign_flags(codes, in_nte, rng(3), len(months) / 12, scale)
    da = flags["domestic_abuse"].to_numpy()
    public = flags["public_space"].to_numpy()
    mix = _codes.code_mix()
    profile = mix["profile"].reindex(codes).to_numpy().astype("U12")
    profile = np.where(da & np.isin(profile, ("violence", "daytime", "night")), "domestic", profile)
    profile = np.where((profile == "violence") & public & ~da & in_nte, "nte", profile)
    cf = _temporal.sample_times(month, profile, rng(4))
    window, delay, historic = _temporal.draw_durations(profile, codes, rng(5))
    e, nn = _spatial.locate(sk, cal, rng(6))
    e, nn, cf, nr_lsoa, nr_moved = _spatial.near_repeat(month, codes, e, nn, cf, cal, rng(7))
    lsoa = np.where(nr_moved, nr_lsoa, lsoa)
    year = np.array([int(m[:4]) for m in months])[np.searchsorted(months, month)]
    cf_m = cf.astype("datetime64[m]")

    # People.
    r8 = rng(8)
    book = _people.PersonBook(r8)
    p = {c: mix[c].reindex(codes).to_numpy(dtype=float) for c in ("p_victim", "p_suspect")}
    has_victim = r8.random(n) < p["p_victim"]
    child_code = np.isin(codes, _people.CHILD_VICTIM_CODES)
    da_idx = np.flatnonzero(da & has_victim & ~child_code)
    da_v, da_p, rel = _domestic.domestic_relationships(
        da_idx, lsoa, district, cf_m, year, rng(9), book
    )
    n_rel = int(rel.max()) + 1 if rel.size else 0
    first = np.full(n_rel, -1, dtype=np.int64)
    first[rel[::-1]] = da_idx[::-1]
    home = ~public[da_idx]
    e[da_idx[home]] = e[first[rel[home]]]
    nn[da_idx[home]] = nn[first[rel[home]]]
    victim = np.full(n, -1, dtype=np.int64)
    victim[da_idx] = da_v
    gen_v = np.flatnonzero(has_victim & (victim < 0))
    victim[gen_v] = _people.assign_victims(gen_v, codes, lsoa, year, r8, book)
    suspect_rows: list[pd.DataFrame] = []
    da_known = r8.random(da_idx.size) < 0.97
    suspect_rows.append(pd.DataFrame({"occ": da_idx[da_known], "person_id": da_p[da_known]}))
    has_s = r8.random(n) < p["p_suspect"]
    has_s[da_idx] = False
    # County lines take over some trafficking, weapons and modern slavery occurrences.
    cl = _county_lines.county_lines(
        codes, district, e, nn, lsoa, cf_m, year, start, rng(10), book, scale
    )
    e[cl.moved], nn[cl.moved], lsoa[cl.moved] = cl.moved_e, cl.moved_n, cl.moved_lsoa
    has_s[cl.occ] = False
    suspect_rows.append(cl.suspects)
    victim[cl.victims["occ"].to_numpy()] = cl.victims["person_id"].to_numpy()
    gen_s = np.flatnonzero(has_s)
    r11 = rng(11)
    co_inv, co_links, gang_idx = _people.co_offending(
        gen_s, district, codes, cf_m, r11, book, int(months[0][:4])
    )
    solo = np.setdiff1d(gen_s, co_inv["occ"].to_numpy())
    suspect_rows.append(
        pd.DataFrame(
            {
                "occ": solo,
                "person_id": _people.assign_suspects(solo, district, codes, year, r11, book),
            }
        )
    )
    suspect_rows.append(co_inv)
    wit_idx = np.flatnonzero(np.isin(category, _WITNESS_CATEGORIES) & (r11.random(n) < 0.15))
    wit = _people.witnesses(wit_idx, year, r11, book)
    persons = book.frame()
    suspects = pd.concat(suspect_rows, ignore_index=True).drop_duplicates()
    prim = suspects.drop_duplicates("occ")
    suspect = np.full(n, -1, dtype=np.int64)
    suspect[prim["occ"].to_numpy()] = prim["person_id"].to_numpy()
    birth = persons["birth_year"].to_numpy()
    sex = persons["sex"].to_numpy()
    s_age = np.where(suspect >= 0, year - birth[np.maximum(suspect, 0)], 99)
    v_age = np.where(victim >= 0, year - birth[np.maximum(victim, 0)], 99)

    cf2, ct2, rep = _temporal.finalise_times(month, cf, window, delay, historic)
    gang = np.zeros(n, dtype=bool)
    gang[gang_idx] = True
    gang[cl.occ] = True
    county = np.zeros(n, dtype=bool)
    county[cl.occ] = True
    drugs = flags["drugs"].to_numpy() | county
    hate = flags["hate_strands"].to_numpy() != ""
    sexual = np.isin(codes, _codes.SEXUAL_CODES)
    v_count = np.bincount(victim[victim >= 0], minlength=len(persons))
    enhanced = (victim >= 0) & (
        da
        | sexual
        | hate
        | np.isin(codes, _SERIOUS)
        | (v_age < 18)
        | (v_count[np.maximum(victim, 0)] >= 3)
    )
    vawg = (
        (victim >= 0)
        & (sex[np.maximum(victim, 0)] == "F")
        & (da | sexual | np.isin(codes, _codes.STALKING_CODES))
    )

    events, outcomes = investigate(codes, category, da, rep, suspect, s_age, end, rng(12))
    contacts, obligations = victim_contacts(
        events, outcomes, victim, rep, enhanced, da, end, rng(13)
    )
    charged = np.zeros(n, dtype=bool)
    charged[outcomes.loc[outcomes["outcome_code"] == 1, "occ"].to_numpy()] = True
    survey = survey_responses(
        category, da, hate, sexual, victim, rep, charged, obligations, end, rng(14)
    )
    missing = _county_lines.missing_episodes(cl, e, nn, start, end, rng(15), book, scale)
    persons = book.frame()

    # References: crime refs in order of report.
    order = np.lexsort((np.arange(n), rep))
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    rep_year = rep.astype("datetime64[Y]").astype(int) + 1970
    year_s = pc.binary_join_element_wise("SYN-", pa.array(rep_year).cast(pa.string()), "")
    crime_ref = pc.binary_join_element_wise(year_s, _make_refs("", rank + 1, 7), "-")
    person_ref = _make_refs("SYN-P", persons["person_id"].to_numpy(), 7)
    labels = _codes.code_labels()
    occ = pd.DataFrame(
        {
            "crime_ref": _str_array(crime_ref),
            "ho_code": codes,
            "offence_description": pd.Series({c: v[0] for c, v in labels.items()}, dtype=object)
            .reindex(codes)
            .fillna(pd.Series(codes))
            .to_numpy(),
            "policeuk_category": category,
            "reported_at": rep,
            "committed_from": cf2,
            "committed_to": ct2,
            "easting": e,
            "northing": nn,
            "lsoa_code": np.where(lsoa == "", _NONE, lsoa),
            "domestic_abuse": da,
            "knife": flags["knife"].to_numpy(),
            "firearm_discharged": flags["firearm_discharged"].to_numpy(),
            "alcohol": flags["alcohol"].to_numpy(),
            "drugs": drugs,
            "hate_strands": flags["hate_strands"].to_numpy(),
            "cyber": flags["cyber"].to_numpy(),
            "public_space": public,
            "vawg": vawg,
            "gang": gang,
            "county_lines": county,
            "month": month,
            "district": np.where(district == "", _NONE, district),
            "near_repeat_follow_on": nr_moved,
            "calibrated": sk["calibrated"].to_numpy(),
            "synthetic": True,
        }
    )
    occ = occ.iloc[order].reset_index(drop=True)
    for c in ("reported_at", "committed_from", "committed_to"):
        occ[c] = occ[c].astype("datetime64[ns]")

    inv_v = pd.DataFrame(
        {"occ": np.flatnonzero(victim >= 0), "person_id": victim[victim >= 0], "role": 0}
    )
    offender_occ = outcomes.loc[outcomes["outcome_code"].isin(_OFFENDER_OUTCOMES), "occ"].to_numpy()
    is_off = np.zeros(n, dtype=bool)
    is_off[offender_occ] = True
    inv_s = suspects.assign(role=np.where(is_off[suspects["occ"].to_numpy()], 2, 1))
    involvements = pd.concat([inv_v, inv_s, wit.assign(role=3)], ignore_index=True)
    involvements = involvements.iloc[
        np.lexsort((involvements["role"].to_numpy(), rank[involvements["occ"].to_numpy()]))
    ]
    involvements["role"] = pd.Categorical.from_codes(
        involvements["role"].to_numpy(), ["VIC", "SUS", "OFF", "WIT"]
    )
    involvements = _refs(involvements, crime_ref, person_ref)

    pers = pd.DataFrame(
        {
            "person_ref": _str_array(person_ref),
            "birth_year": persons["birth_year"].to_numpy(),
            "sex": persons["sex"].to_numpy(),
            "ethnicity": persons["ethnicity"].to_numpy(),
            "kind": persons["kind"].to_numpy(),
        }
    )
    address_ref = _np_refs(_make_refs("SYN-A", cl.addresses["address_id"].to_numpy(), 6))
    addresses = pd.DataFrame(
        {
            "address_ref": address_ref,
            "easting": cl.addresses["easting"].to_numpy(),
            "northing": cl.addresses["northing"].to_numpy(),
            "lsoa_code": cl.addresses["lsoa_code"].to_numpy(),
        }
    )
    co_links = co_links.assign(to_kind="PERSON")
    links = pd.concat([cl.links, co_links], ignore_index=True)
    to_person = links["to_kind"].to_numpy() == "PERSON"
    to_ids = links["to_id"].to_numpy().astype(np.int64)
    from_ids = links["from_id"].to_numpy().astype(np.int64)
    intel = pd.DataFrame(
        {
            "from_ref": _np_refs(person_ref.take(pa.array(from_ids))),
            "to_ref": np.where(
                to_person,
                _np_refs(person_ref.take(pa.array(np.where(to_person, to_ids, 0)))),
                address_ref[np.where(to_person, 0, to_ids)],
            ),
            "to_kind": links["to_kind"].to_numpy(),
            "link_type": links["link_type"].to_numpy(),
            "since": links["since"].to_numpy().astype("datetime64[ns]"),
        }
    )
    missing_out = pd.DataFrame(
        {
            "episode_ref": _np_refs(_make_refs("SYN-M", np.arange(1, len(missing) + 1), 6)),
            "person_ref": _np_refs(person_ref.take(pa.array(missing["person_id"].to_numpy()))),
        }
    ).join(missing.drop(columns="person_id"))
    so = survey["occ"].to_numpy()
    survey_out = pd.DataFrame(
        {
            "response_ref": _np_refs(_make_refs("SYN-S", np.arange(1, len(survey) + 1), 6)),
            "survey_date": survey["survey_date"].to_numpy().astype("datetime64[ns]"),
            "crime_ref": _np_refs(crime_ref.take(pa.array(so))),
            "crime_type": category[so],
            "domestic_abuse": da[so],
        }
    ).join(survey.drop(columns=["occ", "survey_date"]))
    meta = {
        "synthetic": True,
        "generator": "peelian.data.synthetic",
        "seed": seed,
        "month_from": months[0],
        "month_to": months[-1],
        "scale": scale,
        "calibration": {"source": cal.source, "sha256": cal.sha256} | cal.choices,
        "parameters": {
            "near_repeat_share": _spatial.NEAR_REPEAT_SHARE,
            "jitter_m": _spatial.JITTER_M,
            "p_repeat_victim": _people.P_REPEAT_VICTIM,
            "p_da_repeat": _domestic.P_DA_REPEAT,
            "p_serial_perpetrator": _domestic.P_SERIAL,
            "county_lines_networks": max(1, round(_county_lines.NETWORKS * scale)),
            "homicides_per_year": list(_codes.HOMICIDE_RANGE),
        },
    }
    result = SyntheticForce(
        occurrences=occ,
        persons=pers,
        involvements=involvements.reset_index(drop=True),
        investigation_events=_refs(events, crime_ref, person_ref),
        outcomes=_refs(outcomes, crime_ref, person_ref),
        victim_contacts=_refs(contacts, crime_ref, person_ref),
        missing_episodes=missing_out,
        addresses=addresses,
        intel_links=intel,
        survey=survey_out,
        obligations=_refs(obligations, crime_ref, person_ref),
        meta=meta,
    )
    result.meta["counts"] = result.counts()
    return result


def _refs(frame: pd.DataFrame, crime_ref: pa.Array, person_ref: pa.Array) -> pd.DataFrame:
    """Replace ``occ``/``person_id`` integer columns by references; datetimes to ns."""
    cols: dict[str, object] = {}
    for c in frame.columns:
        v = frame[c]
        if c == "occ":
            cols["crime_ref"] = _str_array(crime_ref.take(pa.array(v.to_numpy())))
        elif c == "person_id":
            ids = v.to_numpy().astype(np.int64)
            cols["person_ref"] = _str_array(person_ref.take(pa.array(ids, mask=ids < 0)))
        elif pd.api.types.is_datetime64_any_dtype(v.dtype) or np.issubdtype(
            np.asarray(v).dtype, np.datetime64
        ):
            cols[c] = np.asarray(v).astype("datetime64[ns]")
        else:
            cols[c] = v.to_numpy() if not isinstance(v.dtype, pd.CategoricalDtype) else v.array
    return pd.DataFrame(cols)


def _str_array(values: np.ndarray | pa.Array) -> pd.arrays.ArrowStringArray:
    """Strings as an Arrow-backed array, built without per-element pandas inference."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if not isinstance(values, pa.Array):
        values = pa.array(values, type=pa.string())
    return pd.arrays.ArrowStringArray(values)


def _np_refs(values: pa.Array) -> np.ndarray:
    return np.asarray(values.to_pylist(), dtype=object)


def _u(series: pd.Series, dtype: str) -> np.ndarray:
    """A categorical column as a fixed-width numpy string array ('' for missing)."""
    cat = series.array
    names = np.r_[np.asarray(cat.categories.astype(str)).astype(dtype), np.array([""], dtype=dtype)]
    return names[cat.codes]


def _make_refs(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    """``prefix`` + zero-padded numbers, built by Arrow compute (no Python loop)."""
    digits = pc.utf8_lpad(
        pa.array(np.asarray(numbers, dtype=np.int64)).cast(pa.string()), width, "0"
    )
    return pc.binary_join_element_wise(prefix, digits, "")
