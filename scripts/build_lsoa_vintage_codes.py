"""Regenerate ``src/peelian/data/ingest/lsoa_vintage_codes.csv`` from the ONS LSOA 2011 -> 2021
lookup: the LSOA codes that exist in only one vintage, which tell a police.uk file's vintage.

    .venv/bin/python scripts/build_lsoa_vintage_codes.py [/path/to/shared/data]
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "src/peelian/data/ingest/lsoa_vintage_codes.csv"
HEADER = (
    "# LSOA codes that exist in only one vintage (ONS LSOA 2011 -> 2021 lookup, OGL v3.0).\n"
    "# Used to tell which vintage a police.uk file uses. Regenerate: scripts/build_lsoa_vintage_codes.py\n"
)


def build(shared: Path) -> str:
    lookup = pd.read_csv(shared / "lookups" / "lookup_lsoa11_lsoa21_ltla22.csv", dtype=str)
    c11, c21 = set(lookup["lsoa11_code"]), set(lookup["lsoa21_code"])
    rows = [(c, 2011) for c in sorted(c11 - c21)] + [(c, 2021) for c in sorted(c21 - c11)]
    return HEADER + "code,vintage\n" + "".join(f"{c},{v}\n" for c, v in rows)


def main(argv: list[str]) -> int:
    shared = Path(argv[0]) if argv else ROOT.parent / "shared" / "data"
    TARGET.write_text(build(shared))
    print(f"wrote {TARGET}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
