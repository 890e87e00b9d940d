"""Can a better-specified model reach open_cp's 6.44 (violence, mean PAI at 5 %, 2022-03..08)?

    nice -n 10 .venv/bin/python benchmarks/forecast_violence_search.py --store sqlite:////tmp/x/peelian.sqlite

Issue 12 item 6 sets, for violence and sexual offences, the bar of open_cp's best mean PAI at 5 %
of the crime-possible cells over 2022-03..08 (6.44). The benchmark's best model (`learned`)
reaches 6.115. This script searches honestly for more, on the same cube, cells, coverage rule
(ties in expectation, events outside the crime-possible cells are misses) and rolling origins as
benchmarks/bench_forecast.py:

1. a family of recency-weighted, smoothed and context-informed count models: the cell's counts
   weighted by age with half-life ``h`` months (none = all history, open_cp's naive), mixed with a
   quartic kernel density of them (share ``a``, bandwidth ``b``), with the all-types police.uk
   history (share ``c``, half-life ``hc``) and with the same month a year before (share ``s``);
2. prospective hotspotting (Bowers, Johnson & Pease 2004) and retrospective KDE over bandwidths
   and time windows;
3. blends of the learned model with the family's best members (and with the all-history counts,
   which the collapsed self-exciting model equals).

**No peeking.** Every setting is chosen by mean PAI at 5 % over the six validation origins
2021-03..2021-08, which precede every test origin (2021-09..2022-08). The test-month means of
every candidate are printed as well, and the largest of them over the whole family is reported
as an *oracle* (a test-set choice, shown only to bound what the family can do).

Results: benchmarks/results/forecast_violence_search.md.
"""

from __future__ import annotations

import argparse
import pickle
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.special import gammaln

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_forecast as bf

from peelian.analysis.forecast import (
    ProspectiveHotspot,
    RetrospectiveKDE,
    crime_possible,
    flag_share,
    make_model,
)
from peelian.analysis.forecast._spatial import kernel_weights, smooth

CRIME = "Violence and sexual offences"
VAL = [str(p) for p in pd.period_range("2021-03", "2021-08", freq="M")]
TEST, LATE = bf.TEST, bf.LATE
H = [0, 3, 6, 12]  # half-lives in months (0: all history, equal weights)
A = [0.2, 0.35]
B = [400.0, 1000.0]
C = [0.2, 0.35]
HC = [0, 6]
S = [0.0, 0.1]


def score(expected: np.ndarray, observed: np.ndarray, area: np.ndarray, dom: np.ndarray) -> dict:
    """PAI at 1 % and 5 % of the crime-possible area (ties in expectation) and LL per event."""
    n = observed.sum()
    out = {f"pai{int(c * 100)}": float(flag_share(expected, area, c, dom) @ observed) / n / c
           for c in (0.01, 0.05)}  # fmt: skip
    lam = np.maximum(expected, 1e-4)
    out["ll"] = float(np.sum(observed * np.log(lam) - lam - gammaln(observed + 1))) / n
    return out


def ewm(counts: np.ndarray, h: float) -> np.ndarray:
    """Mean per period with weights 0.5 ** (age / h) (equal weights when h is 0)."""
    age = np.arange(counts.shape[1])[::-1] + 0.5
    w = 0.5 ** (age / h) if h else np.ones(counts.shape[1])
    return counts @ w / w.sum()


def family_rows(train, observed, dom, month: str) -> list[dict]:
    """Every member of the family at one origin."""
    kern = {b: kernel_weights("quartic", b, train.cell_size) for b in B}
    own = {h: ewm(train.counts, h) for h in H}
    sm = {(h, b): smooth(train, own[h], kern[b]) * train.area_fraction for h in H for b in B}
    ctx = {hc: ewm(train.context, hc) for hc in HC}
    lag = train.counts[:, -12] if train.n_periods >= 12 else None  # none before 2021-05
    rows = []
    for h in H:
        tot = own[h].sum()
        for a, b in [(0.0, 0.0)] + [(a, b) for a in A for b in B]:
            base = own[h] if not a else (1 - a) * own[h] + a * sm[(h, b)] * tot / sm[(h, b)].sum()
            for c, hc in [(0.0, 0)] + [(c, hc) for c in C for hc in HC]:
                e1 = base if not c else (1 - c) * base + c * ctx[hc] * tot / ctx[hc].sum()
                for s in S:
                    e = e1 if not s or lag is None else (1 - s) * e1 + s * lag * tot / lag.sum()
                    key = f"h={h} a={a:g} b={b:g} c={c:g} hc={hc} s={s:g}"
                    rows.append({"month": month, "model": key, "kind": "family",
                                 **score(e, observed, train.area, dom)})  # fmt: skip
    return rows


def family_member(train, key: str) -> np.ndarray:
    """One member of the family by its key (``h=6 a=0.35 b=400 c=0.35 hc=0 s=0.1``)."""
    p = {k: float(v) for k, v in (part.split("=") for part in key.split())}
    own = ewm(train.counts, p["h"])
    tot = own.sum()
    e = own
    if p["a"]:
        sm = smooth(train, own, kernel_weights("quartic", p["b"], train.cell_size))
        sm = sm * train.area_fraction
        e = (1 - p["a"]) * e + p["a"] * sm * tot / sm.sum()
    if p["c"]:
        ctx = ewm(train.context, p["hc"])
        e = (1 - p["c"]) * e + p["c"] * ctx * tot / ctx.sum()
    if p["s"] and train.n_periods >= 12:
        lag = train.counts[:, -12]
        e = (1 - p["s"]) * e + p["s"] * lag * tot / lag.sum()
    return e


def classic_models() -> dict:
    out = {f"prospective {bw:g} m, {tw:g} weeks": ProspectiveHotspot(bandwidth=bw, time_window=tw)
           for bw in (250.0, 400.0, 600.0) for tw in (8.0, 26.0, 52.0, 104.0)}  # fmt: skip
    out.update(
        {f"kde quartic {bw:g} m": RetrospectiveKDE(bandwidth=bw) for bw in (300.0, 400.0, 600.0)}
    )
    out.update({f"kde quartic {bw:g} m, last 12 months": RetrospectiveKDE(bandwidth=bw, window=12)
                for bw in (300.0, 400.0)})  # fmt: skip
    return out


def table(df: pd.DataFrame) -> pd.DataFrame:
    g = df.groupby("model")
    val = df[df["month"].isin(VAL)].groupby("model")
    test = df[df["month"].isin(TEST)].groupby("model")
    late = df[df["month"].isin(LATE)].groupby("model")
    out = pd.DataFrame({
        "validation PAI@5%": val["pai5"].mean(), "validation PAI@1%": val["pai1"].mean(),
        "test PAI@1%": test["pai1"].mean(), "test PAI@5%": test["pai5"].mean(),
        "test LL/event": test["ll"].mean(), "PAI@5% 2022-03..08": late["pai5"].mean(),
    })  # fmt: skip
    out.index.name = "model"
    return out.loc[g.size().index]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--store", required=True)
    ap.add_argument("--learned-cache", default=None,
                    help="pickle of the learned model's forecasts per origin: read if it exists, "
                    "else written (the learned fits are most of the run time)")  # fmt: skip
    args = ap.parse_args()
    cache = Path(args.learned_cache) if args.learned_cache else None
    learned: dict[str, np.ndarray] = (
        pickle.loads(cache.read_bytes()) if cache and cache.exists() else {}
    )
    t0 = time.perf_counter()
    cube, _ = bf.cube_for(CRIME, args.store, 250.0, {})
    rows: list[dict] = []
    classic = classic_models()
    for m in VAL + TEST:
        k = cube.index_of(m)
        train, obs = cube.window(k), cube.counts[:, k]
        dom, _ = crime_possible(train)
        rows += family_rows(train, obs, dom, m)
        for name, model in classic.items():
            e = type(model)(**model.get_params()).fit(train).predict().expected
            rows.append(
                {"month": m, "model": name, "kind": "classic", **score(e, obs, cube.area, dom)}
            )
        if m not in learned:
            learned[m] = make_model("learned").fit(train).predict().expected
            if cache:
                cache.write_bytes(pickle.dumps(learned))
        rows.append({"month": m, "model": "learned", "kind": "learned",
                     **score(learned[m], obs, cube.area, dom)})  # fmt: skip
        print(m, f"{time.perf_counter() - t0:.0f} s", flush=True)
    df = pd.DataFrame(rows)
    fam = table(df[df["kind"] == "family"])
    best_val = fam["validation PAI@5%"].idxmax()
    best_val1 = fam["validation PAI@1%"].idxmax()
    oracle = fam["PAI@5% 2022-03..08"].idxmax()
    # blends of the learned model with the validation-chosen members and the all-history counts
    members = {best_val: None, best_val1: None, "h=0 a=0 b=0 c=0 hc=0 s=0": None}
    blend_rows = []
    for m in VAL + TEST:
        k = cube.index_of(m)
        train, obs = cube.window(k), cube.counts[:, k]
        dom, _ = crime_possible(train)
        for name in members:
            e = family_member(train, name)
            for w in (0.25, 0.5, 0.75):
                mix = (1 - w) * learned[m] + w * e * learned[m].sum() / e.sum()
                blend_rows.append({"month": m, "model": f"learned x{1 - w:g} + [{name}] x{w:g}",
                                   **score(mix, obs, cube.area, dom)})  # fmt: skip
    blends = table(pd.DataFrame(blend_rows))
    rest = table(df[df["kind"] != "family"])
    everything = pd.concat([fam, rest, blends])
    chosen = everything["validation PAI@5%"].idxmax()
    lines = [
        "# Violence: searching for open_cp's 6.44 without peeking",
        "",
        f"Command: `nice -n 10 .venv/bin/python benchmarks/forecast_violence_search.py --store "
        f"{args.store}` ({time.perf_counter() - t0:.0f} s wall on the shared 2-core machine).",
        "",
        "Same cube, 250 m cells, crime-possible coverage rule and rolling origins as "
        "`bench_forecast.py` (see `forecast_crime_possible.md`). Settings chosen by mean PAI at 5 % "
        f"over the validation origins {VAL[0]}..{VAL[-1]} (all before the first test origin "
        f"{TEST[0]}). Family members: `h` half-life in months (0 = all history), `a` share of a "
        "quartic KDE of bandwidth `b` m, `c` share of the all-types police.uk history (half-life "
        "`hc`), `s` share of the same month a year before (at the validation origins 2021-03 and "
        "2021-04, with under 12 months of history, `s` has no effect).",
        "",
        f"- Family members searched: {len(fam)}; classic models: {len(rest) - 1}; blends: "
        f"{len(blends)}.",
        f"- Chosen on validation (all candidates): `{chosen}`: mean PAI at 5 %, 2022-03..08 = "
        f"{everything.loc[chosen, 'PAI@5% 2022-03..08']:.3f}.",
        f"- The learned model (the benchmark's best): "
        f"{everything.loc['learned', 'PAI@5% 2022-03..08']:.3f}; all-history counts: "
        f"{fam.loc['h=0 a=0 b=0 c=0 hc=0 s=0', 'PAI@5% 2022-03..08']:.3f}.",
        f"- **Oracle** (the family member best on the test months themselves, a peek shown only "
        f"as a bound): `{oracle}`: {fam.loc[oracle, 'PAI@5% 2022-03..08']:.3f}. The best of "
        f"every candidate on the test months: {everything['PAI@5% 2022-03..08'].max():.3f}.",
        f"- open_cp's best (issue 12): {bf.OPEN_CP_BEST[CRIME]:.2f}: "
        + ("reached" if everything.loc[chosen, "PAI@5% 2022-03..08"] >= 6.44 else "NOT reached"),
        "",
        "## Top 15 family members by validation PAI at 5 %",
        "",
        bf.markdown(fam.sort_values("validation PAI@5%", ascending=False).head(15)),
        "",
        "## Prospective hotspotting, retrospective KDE and the learned model",
        "",
        bf.markdown(rest.sort_values("validation PAI@5%", ascending=False)),
        "",
        "## Blends of the learned model (expected counts, member rescaled to the learned total)",
        "",
        bf.markdown(blends.sort_values("validation PAI@5%", ascending=False)),
        "",
    ]
    out = bf.RESULTS / "forecast_violence_search.md"
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines[:16]))
    print(f"written {out}")


if __name__ == "__main__":
    main()
