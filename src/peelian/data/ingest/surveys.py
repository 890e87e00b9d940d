"""Import victim satisfaction survey CSVs into ``survey_responses``, with reconciliation.

Two layouts are recognised by their headers (case, spaces and punctuation ignored):

- the synthetic RMS export (``satisfaction_survey.csv``): ResponseRef, SurveyDate, CrimeRef,
  CrimeType, DomesticAbuse (Y/N), Overall, Contact, Actions, KeptInformed, Treatment;
- the generic layout (docs/guide/satisfaction.md): response_id, date, crime_ref (optional),
  crime_type, domestic_abuse (yes/no, true/false, 1/0, Y/N), overall, contact, actions,
  kept_informed, treatment.

Scores are whole numbers 1-5 (5 = very satisfied) or blank (not answered). Dates are ISO
(``2021-03-14``) or UK (``14/03/2021``, optionally with a time). Every row is either stored or
quarantined with a reason (bad_date, bad_score, bad_flag, missing_response_ref,
duplicate_response_ref); ``rows_read = rows_stored + rows_quarantined``. A response already in
the store (same response reference) is replaced by the newer file's row. A byte-identical file
is recorded as ``unchanged``. A folder holding ``SYNTHETIC_DATA_README.txt`` marks its rows
synthetic.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import delete, insert, select

from peelian.data.ingest.batch import QuarantinedRow, open_batch
from peelian.data.store import Store
from peelian.data.tables.surveys import SURVEY_ITEMS, survey_responses
from peelian.errors import IngestError, NotFoundError

__all__ = ["import_survey", "load_survey_responses", "survey_response_lsoas"]

_SYNONYMS = {
    "responseref": "response_ref",
    "responseid": "response_ref",
    "response": "response_ref",
    "id": "response_ref",
    "surveydate": "survey_date",
    "date": "survey_date",
    "crimeref": "crime_ref",
    "crimereference": "crime_ref",
    "crimetype": "crime_type",
    "category": "crime_type",
    "domesticabuse": "domestic_abuse",
    "da": "domestic_abuse",
    "overall": "overall",
    "overallsatisfaction": "overall",
    "contact": "contact",
    "initialcontact": "contact",
    "actions": "actions",
    "actionstaken": "actions",
    "keptinformed": "kept_informed",
    "followup": "kept_informed",
    "updates": "kept_informed",
    "treatment": "treatment",
}
_REQUIRED = ("response_ref", "survey_date", "overall")
_TRUE = {"y", "yes", "true", "1", "t"}
_FALSE = {"n", "no", "false", "0", "f"}


def _norm(header: str) -> str:
    return re.sub(r"[^a-z0-9]", "", header.lower())


def _date(text: str) -> dt.date | None:
    t = text.strip()
    for fmt in ("%Y-%m-%d", "%d/%m/%Y", "%d/%m/%Y %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S"):
        try:
            return dt.datetime.strptime(t, fmt).date()
        except ValueError:
            continue
    return None


def import_survey(store: Store, path: str | Path, *, command: str | None = None) -> dict[str, Any]:
    """Import one survey CSV; returns the batch report (with ``responses_replaced``)."""
    p = Path(path)
    if not p.is_file():
        raise NotFoundError(f"Survey file {p} does not exist.", "Check the path.")
    data = p.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise IngestError(
            f"{p} is not UTF-8 text.", "Save the survey export as UTF-8 CSV."
        ) from exc
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if not header:
        raise IngestError(f"{p} is empty.", "Export the survey with a header row.")
    cols = {i: _SYNONYMS.get(_norm(h)) for i, h in enumerate(header)}
    have = {c for c in cols.values() if c}
    missing = [c for c in _REQUIRED if c not in have]
    if missing:
        raise IngestError(
            f"{p.name} is not a recognised survey layout: no {', '.join(missing)} column "
            f"(header: {', '.join(header)}).",
            "Use the generic layout in docs/guide/satisfaction.md or the synthetic export.",
        )
    synthetic = (p.parent / "SYNTHETIC_DATA_README.txt").exists()
    with open_batch(store, source="survey", command=command) as batch:
        same = batch.identical_file(sha, "survey")
        rec = batch.add_file(str(p), "survey", sha256=sha, size_bytes=len(data))
        if same is not None:
            rec.finish(
                rows_read=0,
                rows_stored=0,
                action="unchanged",
                note=f"identical to file {same['id']}",
            )
            return batch.report
        rows: list[dict[str, Any]] = []
        bad: list[QuarantinedRow] = []
        seen: set[str] = set()
        n_read = 0
        for n_read, raw in enumerate(reader, start=1):
            line = ",".join(raw)
            rec_ = {cols[i]: v.strip() for i, v in enumerate(raw) if i in cols and cols[i]}
            ref = rec_.get("response_ref", "")
            if not ref:
                bad.append(
                    QuarantinedRow(n_read, "missing_response_ref", "No response reference.", line)
                )
                continue
            if ref in seen:
                bad.append(
                    QuarantinedRow(n_read, "duplicate_response_ref", f"{ref} appears twice.", line)
                )
                continue
            day = _date(rec_.get("survey_date", ""))
            if day is None:
                bad.append(
                    QuarantinedRow(
                        n_read, "bad_date", f"Date {rec_.get('survey_date')!r} is not a date.", line
                    )
                )
                continue
            scores: dict[str, int | None] = {}
            problem = None
            for item in SURVEY_ITEMS:
                v = rec_.get(item, "")
                if v == "":
                    scores[item] = None
                elif v.isdigit() and 1 <= int(v) <= 5:
                    scores[item] = int(v)
                else:
                    problem = f"{item} score {v!r} is not 1-5 or blank."
                    break
            if problem:
                bad.append(QuarantinedRow(n_read, "bad_score", problem, line))
                continue
            flag = rec_.get("domestic_abuse", "").lower()
            if flag and flag not in _TRUE | _FALSE:
                bad.append(
                    QuarantinedRow(n_read, "bad_flag", f"DomesticAbuse {flag!r} is not Y/N.", line)
                )
                continue
            seen.add(ref)
            rows.append(
                {
                    "response_ref": ref,
                    "survey_date": day,
                    "month": day.strftime("%Y-%m"),
                    "crime_ref": rec_.get("crime_ref") or None,
                    "crime_type": rec_.get("crime_type") or None,
                    "domestic_abuse": (flag in _TRUE) if flag else None,
                    **scores,
                    "synthetic": synthetic,
                    "file_id": rec.id,
                    "row_number": n_read,
                }
            )
        rec.quarantine(bad)
        replaced = 0
        refs = [r["response_ref"] for r in rows]
        for i in range(0, len(refs), 500):
            res = batch.conn.execute(
                delete(survey_responses).where(
                    survey_responses.c.response_ref.in_(refs[i : i + 500])
                )
            )
            replaced += res.rowcount or 0
        if rows:
            batch.conn.execute(insert(survey_responses), rows)
        rec.finish(
            rows_read=n_read,
            rows_stored=len(rows),
            action="loaded",
            extra={"responses_replaced": replaced, "synthetic": synthetic},
        )
        return batch.report


def load_survey_responses(store: Store) -> pd.DataFrame:
    """Every stored survey response: response_ref, survey_date, month, crime_ref, crime_type,
    domestic_abuse, the five items (nullable integers), synthetic."""
    cols = [c for c in survey_responses.c if c.name not in ("id", "file_id", "row_number")]
    frame = store.read_frame(select(*cols).order_by(survey_responses.c.survey_date))
    for item in SURVEY_ITEMS:
        frame[item] = pd.to_numeric(frame[item]).astype("Int64")
    frame["domestic_abuse"] = frame["domestic_abuse"].astype("boolean")
    return frame


def survey_response_lsoas(store: Store) -> pd.DataFrame:
    """response_ref, lsoa_code: the LSOA of the crime each response is about, through its crime
    reference in the force records (``occurrences.crime_ref``). Responses without a crime
    reference, or whose crime is not in the force records or has no LSOA, are not listed."""
    from peelian.data.tables import occurrences

    sr, oc = survey_responses, occurrences
    # driven by the responses, each looked up through the (force, crime_ref) index: a plain
    # join let SQLite scan every occurrence instead (1.2 s against 0.1 s on the demo)
    forces = select(oc.c.force).distinct().scalar_subquery()
    lsoa = (
        select(oc.c.lsoa_code)
        .where(oc.c.force.in_(forces), oc.c.crime_ref == sr.c.crime_ref)
        .where(oc.c.lsoa_code.is_not(None))
        .limit(1)
        .scalar_subquery()
    )
    q = select(sr.c.response_ref, lsoa.label("lsoa_code")).where(sr.c.crime_ref.is_not(None))
    frame = store.read_frame(q).dropna(subset=["lsoa_code"])
    return frame.drop_duplicates("response_ref").reset_index(drop=True)
