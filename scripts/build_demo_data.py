"""Regenerate peelian's bundled demo data (``demo-data/``) from the real source files.

Usage::

    .venv/bin/python scripts/build_demo_data.py [SOURCE_DIR] [--out demo-data]

``SOURCE_DIR`` (default ``/work/shared/data``) holds the files described in its README.md:
police.uk zips, ONS boundaries and lookups, population, IMD and the CCHI weights. The output is
deterministic: the same sources give byte-identical files (the manifest records their sha256).

What is bundled (Northumbria Police, force code E23000007):

- ``policeuk/northumbria_2020-05_2022-08.zip``: the police.uk download exactly as published
  (street, outcomes, stop-and-search for 28 months), checked against its known sha256.
- ``boundaries/``: LSOA 2011 (generalised), LSOA 2021, wards 2022, the 6 local authorities (= the
  Community Safety Partnerships) and the Northumbria police force area, in WGS84 GeoJSON with
  coordinates rounded to 6 decimal places (about 0.1 m).
- ``lookups/``: the ONS lookups filtered to the LSOAs that Northumbria covers *plus* the
  cross-border LSOAs (Durham, Cumbria, ...) that appear in the police.uk zip, so that every LSOA
  code in the demo events maps to LSOA 2021, ward, local authority and force.
- ``population/``, ``deprivation/``: mid-2019 and mid-2020 population by single year of age,
  Census 2021 ethnicity, IMD 2019 and IMD 2025 (already Northumbria-only; copied as published).
- ``weights/cchi/``: the three Cambridge Crime Harm Index weight tables with their provenance.
- ``ATTRIBUTION.md`` (licence, sources, manifest) and ``manifest.json`` (the same manifest).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import shutil
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SOURCE = Path("/work/shared/data")
POLICEUK_ZIP = "northumbria_2020-05_2022-08.zip"
POLICEUK_SHA256 = "622add59d0d29ab911d71268b1dd4e080ce8fe3d717e6454ed7444d5cea157e4"
FORCE_CODE = "E23000007"
FORCE_NAME = "Northumbria"
MAX_TOTAL_BYTES = 40 * 1024 * 1024

#: (source path, destination path) of the boundary files
BOUNDARIES = [
    (
        "boundaries/northumbria/northumbria_lsoa2011_geographr.geojson",
        "boundaries/lsoa2011_northumbria.geojson",
    ),
    (
        "boundaries/northumbria/northumbria_lsoa2021.geojson",
        "boundaries/lsoa2021_northumbria.geojson",
    ),
    (
        "boundaries/northumbria/wards2022_northumbria.geojson",
        "boundaries/wards2022_northumbria.geojson",
    ),
    (
        "boundaries/northumbria/lad2024_northumbria.geojson",
        "boundaries/lad2024_northumbria.geojson",
    ),
    (
        "boundaries/northumbria/pfa2020_northumbria_durham_cleveland.geojson",
        "boundaries/pfa2020_northumbria.geojson",
    ),
]
COPIED = [
    "population/northumbria/population19_lsoa11_northumbria.csv",
    "population/northumbria/population20_lsoa11_northumbria.csv",
    "population/northumbria/ethnicity21_lsoa21_northumbria.csv",
    "deprivation/northumbria/imd2019_lsoa11_northumbria.csv",
    "deprivation/northumbria/imd2025_lsoa21_northumbria.csv",
    "weights/cchi/cchi_weights.csv",
    "weights/cchi/cchi_weights_by_category.csv",
    "weights/cchi/cchi_weights_by_force_category.csv",
]

CCHI_PROVENANCE = """\
# Cambridge Crime Harm Index weights (indicative)

Three tables of CCHI weights in *days of imprisonment-equivalent*:

| file | rows are |
|---|---|
| `cchi_weights.csv` | the 23 Home Office offence subgroups (`category`, `prc_subgroup`, `cchi_days`, `national_count_2024_25`) |
| `cchi_weights_by_category.csv` | the police.uk crime categories (`crime_type`, `cchi_days`) |
| `cchi_weights_by_force_category.csv` | force x police.uk category (`force`, `crime_type`, `cchi_days`) |

Provenance: medians derived by the public project `isthisben/cbl-realcrime` from the Cambridge
Crime Harm Index 2026 update (Sherman, Neyroud and Neyroud, "The Cambridge Crime Harm Index:
Measuring Total Harm from Crime Based on Sentencing Guidelines", Policing 10(3), 2016, and its
updates). They are **indicative, not official**: treat them as a versioned, replaceable table.
Anti-social behaviour has no CCHI weight (it is not a notifiable offence).

Version: as copied on the date of the demo-data build from the files above; replace the files
(same columns) to use another version.
"""


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def csv_rows(data: bytes) -> int:
    """Data rows of a CSV (header excluded), counted by the csv module (quoted newlines safe)."""
    reader = csv.reader(io.StringIO(data.decode("utf-8-sig")))
    return max(sum(1 for _ in reader) - 1, 0)


def zip_rows(path: Path) -> dict[str, int]:
    """Data rows per kind (street, outcomes, stop-and-search) over the CSV members of a zip."""
    out: dict[str, int] = {}
    with zipfile.ZipFile(path) as zf:
        for name in sorted(zf.namelist()):
            if not name.endswith(".csv"):
                continue
            kind = name.rsplit("/", 1)[-1][len("YYYY-MM-") :].split("-", 1)[1][: -len(".csv")]
            out[kind] = out.get(kind, 0) + csv_rows(zf.read(name))
    return out


def filter_csv(src: Path, dst: Path, column: str, keep: set[str]) -> int:
    """Copy the header and the lines whose ``column`` is in ``keep``, bytes as published."""
    raw = src.read_bytes().decode("utf-8")
    lines = raw.splitlines(keepends=True)
    header = next(csv.reader([lines[0]]))
    idx = header.index(column)
    kept = [lines[0]]
    for line in lines[1:]:
        row = next(csv.reader([line]))
        if row and row[idx] in keep:
            kept.append(line)
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.write_bytes("".join(kept).encode("utf-8"))
    return len(kept) - 1


def read_csv_dicts(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8-sig") as fh:
        return list(csv.DictReader(fh))


def write_geojson(src: Path, dst: Path, *, only_code: tuple[str, str] | None = None) -> int:
    """Round-trip a GeoJSON with coordinates rounded to 6 decimals; optional (column, value) filter."""
    import geopandas as gpd

    gdf = gpd.read_file(src)
    if only_code is not None:
        gdf = gdf[gdf[only_code[0]] == only_code[1]].reset_index(drop=True)
    dst.parent.mkdir(parents=True, exist_ok=True)
    if dst.exists():
        dst.unlink()
    gdf.to_file(
        dst,
        driver="GeoJSON",
        engine="pyogrio",
        layer_options={"COORDINATE_PRECISION": 6, "RFC7946": "NO", "WRITE_BBOX": "NO"},
    )
    return len(gdf)


def policeuk_lsoa11_codes(zip_path: Path) -> set[str]:
    """Every LSOA code in the street and outcomes files of the zip."""
    codes: set[str] = set()
    with zipfile.ZipFile(zip_path) as zf:
        for name in zf.namelist():
            if name.endswith(("-street.csv", "-outcomes.csv")):
                reader = csv.DictReader(io.StringIO(zf.read(name).decode("utf-8-sig")))
                codes.update(r["LSOA code"] for r in reader if r["LSOA code"])
    return codes


def build(source: Path, out: Path) -> dict[str, object]:
    src_zip = source / "policeuk" / POLICEUK_ZIP
    if not src_zip.exists():
        raise SystemExit(f"{src_zip} not found: pass the folder of the real data as SOURCE_DIR.")
    digest = sha256_of(src_zip)
    if digest != POLICEUK_SHA256:
        raise SystemExit(
            f"{src_zip} has sha256 {digest}, expected {POLICEUK_SHA256}: not the published file."
        )
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    manifest: list[dict[str, object]] = []

    dst_zip = out / "policeuk" / POLICEUK_ZIP
    dst_zip.parent.mkdir(parents=True)
    shutil.copyfile(src_zip, dst_zip)
    by_kind = zip_rows(dst_zip)
    manifest.append(
        {"file": f"policeuk/{POLICEUK_ZIP}", "rows": sum(by_kind.values()), "rows_by_kind": by_kind}
    )

    for src_rel, dst_rel in BOUNDARIES:
        only = ("pfa20_code", FORCE_CODE) if "pfa2020" in src_rel else None
        n = write_geojson(source / src_rel, out / dst_rel, only_code=only)
        manifest.append({"file": dst_rel, "rows": n})

    # Which LSOAs the demo needs: Northumbria's own plus the cross-border ones in its data.
    import geopandas as gpd

    own11 = set(gpd.read_file(source / BOUNDARIES[0][0])["lsoa11_code"])
    own21 = set(gpd.read_file(source / BOUNDARIES[1][0])["lsoa21_code"])
    seen11 = policeuk_lsoa11_codes(src_zip)
    cross11 = seen11 - own11
    lookups = source / "lookups"
    l11_21 = read_csv_dicts(lookups / "lookup_lsoa11_lsoa21_ltla22.csv")
    need11 = own11 | cross11
    need21 = own21 | {r["lsoa21_code"] for r in l11_21 if r["lsoa11_code"] in need11}
    l21_ward = read_csv_dicts(lookups / "lookup_lsoa21_ward24_ltla24.csv")
    need_ltla = {r["ltla24_code"] for r in l21_ward if r["lsoa21_code"] in need21}
    need_ltla |= {r["ltla22_code"] for r in l11_21 if r["lsoa11_code"] in need11}
    l11_ltla = read_csv_dicts(lookups / "lookup_lsoa11_ltla21.csv")
    need_ltla |= {r["ltla21_code"] for r in l11_ltla if r["lsoa11_code"] in need11}

    for name, column, keep in [
        ("lookup_lsoa11_lsoa21_ltla22.csv", "lsoa11_code", need11),
        ("lookup_lsoa11_ltla21.csv", "lsoa11_code", need11),
        ("lookup_lsoa21_ward24_ltla24.csv", "lsoa21_code", need21),
        ("lookup_ltla24_csp24_pfa24.csv", "ltla24_code", need_ltla),
        ("ruc11_lsoa11.csv", "lsoa11_code", need11),
        ("ruc21_lsoa21.csv", "lsoa21_code", need21),
    ]:
        n = filter_csv(lookups / name, out / "lookups" / name, column, keep)
        manifest.append({"file": f"lookups/{name}", "rows": n})

    for rel in COPIED:
        parts = rel.split("/")
        dst_rel = "/".join([parts[0], *parts[2:]]) if parts[1] == "northumbria" else rel
        dst = out / dst_rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source / rel, dst)
        manifest.append({"file": dst_rel, "rows": csv_rows(dst.read_bytes())})
    (out / "weights" / "cchi" / "PROVENANCE.md").write_text(CCHI_PROVENANCE)

    for entry in manifest:
        path = out / str(entry["file"])
        entry["sha256"] = sha256_of(path)
        entry["bytes"] = path.stat().st_size
    facts = {
        "force_code": FORCE_CODE,
        "force_name": FORCE_NAME,
        "policeuk_months": "2020-05..2022-08",
        "lsoa11_in_force": len(own11),
        "lsoa21_in_force": len(own21),
        "lsoa11_in_policeuk_data": len(seen11),
        "lsoa11_cross_border": len(cross11),
    }
    doc = {"dataset": "peelian demo data", "facts": facts, "files": manifest}
    (out / "manifest.json").write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n")
    (out / "ATTRIBUTION.md").write_text(attribution(doc))
    total = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    if total > MAX_TOTAL_BYTES:
        raise SystemExit(f"demo-data is {total} bytes, over the {MAX_TOTAL_BYTES} byte budget.")
    doc["total_bytes"] = total
    return doc


def attribution(doc: dict[str, object]) -> str:
    facts = doc["facts"]
    assert isinstance(facts, dict)
    lines = [
        "# peelian demo data: attribution, sources and manifest",
        "",
        "Contains public sector information licensed under the Open Government Licence v3.0",
        "(https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/).",
        "",
        "Boundaries: Contains OS data © Crown copyright and database right. Source: Office for",
        "National Statistics licensed under the Open Government Licence v3.0.",
        "",
        "## Sources",
        "",
        "| folder | publisher | obtained via |",
        "|---|---|---|",
        "| `policeuk/` | police.uk open data (Home Office), Northumbria Police | "
        "`TheArchimedean/NorthumbriaPoliceCrimeData` (committed as downloaded from data.police.uk) |",
        "| `boundaries/` | ONS Open Geography Portal (LSOA 2011 generalised, LSOA 2021, wards 2022, "
        "local authorities 2024, police force areas 2020) | `humaniverse/geographr` |",
        "| `lookups/` | ONS lookups (LSOA 2011 -> 2021 with change codes, LSOA 2021 -> ward 2024 -> "
        "local authority 2024, local authority -> CSP -> police force area, rural-urban "
        "classifications 2011 and 2021) | `humaniverse/geographr` |",
        "| `population/` | ONS mid-2019 and mid-2020 small-area population estimates (single year of "
        "age), Census 2021 ethnic group (TS021) | `humaniverse/demographr` |",
        "| `deprivation/` | MHCLG English Indices of Deprivation 2019 and 2025 | `humaniverse/IMD` |",
        "| `weights/cchi/` | Cambridge Crime Harm Index weights: indicative medians derived by "
        "`isthisben/cbl-realcrime` (see `weights/cchi/PROVENANCE.md`) | `isthisben/cbl-realcrime` |",
        "",
        "The police.uk data is published with location anonymised (points snapped to map points) "
        "and time to the month; peelian records that precision with every event.",
        "",
        "## Scope",
        "",
        f"Northumbria Police ({facts['force_code']}): {facts['lsoa11_in_force']} LSOAs (2011), "
        f"{facts['lsoa21_in_force']} LSOAs (2021). The police.uk data uses "
        f"{facts['lsoa11_in_policeuk_data']} LSOA 2011 codes, {facts['lsoa11_cross_border']} of "
        "them outside the force area (cross-border); the lookups include those too.",
        "",
        "Regenerate with `.venv/bin/python scripts/build_demo_data.py /path/to/shared/data`.",
        "",
        "## Manifest",
        "",
        "| file | rows | bytes | sha256 |",
        "|---|---:|---:|---|",
    ]
    files = doc["files"]
    assert isinstance(files, list)
    for entry in files:
        lines.append(
            f"| `{entry['file']}` | {entry['rows']} | {entry['bytes']} | `{entry['sha256']}` |"
        )
    lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", nargs="?", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--out", type=Path, default=REPO / "demo-data")
    args = parser.parse_args(argv)
    doc = build(args.source.resolve(), args.out.resolve())
    print(f"wrote {args.out} ({doc['total_bytes']} bytes, {len(doc['files'])} files)")  # type: ignore[arg-type]
    return 0


if __name__ == "__main__":
    sys.exit(main())
