"""The tamper-evident audit log (peelian.data.audit), on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import io
import json
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import delete, select, update

from peelian.data.accounts.users import audit, list_audit
from peelian.data.audit import (
    GENESIS,
    AuditFilter,
    canonical,
    count,
    export_csv,
    record,
    search,
    verify,
)
from peelian.data.tables import audit_log


def _fill(store, n: int = 5) -> None:
    for i in range(n):
        audit(
            store,
            f"user{i % 2}",
            "referral.read",
            record_kind="referral",
            record_id=i + 1,
            purpose=f"safeguarding review {i}",
            detail={"z": i, "a": [1, "two"]},
        )


def test_entries_chain_by_sha256_of_the_canonical_form(store) -> None:
    _fill(store, 3)
    rows = sorted(search(store), key=lambda e: e["id"])
    assert rows[0]["prev_hash"] == GENESIS
    assert [r["prev_hash"] for r in rows[1:]] == [r["hash"] for r in rows[:-1]]
    first = rows[0]
    expected = hashlib.sha256(
        (
            json.dumps(
                [
                    first["at"].isoformat(sep=" ", timespec="microseconds"),
                    "user0",
                    "referral.read",
                    None,
                    None,
                    "referral",
                    "1",
                    "safeguarding review 0",
                    GENESIS,
                ],
                separators=(",", ":"),
            )
            + '\n{"a": [1, "two"], "z": 0}'
        ).encode()
    ).hexdigest()
    assert first["hash"] == expected
    assert first["detail"] == {"a": [1, "two"], "z": 0}
    result = verify(store)
    assert (result.ok, result.checked, result.first_broken_id) == (True, 3, None)


def test_verify_names_the_first_edited_entry(store) -> None:
    _fill(store, 5)
    ids = sorted(e["id"] for e in search(store))
    with store.begin() as conn:
        conn.execute(update(audit_log).where(audit_log.c.id == ids[2]).values(purpose="nothing"))
    result = verify(store)
    assert (result.ok, result.first_broken_id, result.checked) == (False, ids[2], 2)
    assert "was edited" in result.reason


def test_verify_names_the_entry_after_a_removed_one(store) -> None:
    _fill(store, 5)
    ids = sorted(e["id"] for e in search(store))
    with store.begin() as conn:
        conn.execute(delete(audit_log).where(audit_log.c.id == ids[1]))
    result = verify(store)
    assert (result.ok, result.first_broken_id) == (False, ids[2])
    assert "removed" in result.reason


def test_verify_detects_entries_removed_from_the_end(store) -> None:
    _fill(store, 4)
    ids = sorted(e["id"] for e in search(store))
    with store.begin() as conn:
        conn.execute(delete(audit_log).where(audit_log.c.id == ids[-1]))
    result = verify(store)
    assert (result.ok, result.checked, result.first_broken_id) == (False, 3, ids[-1])
    assert "removed from the end" in result.reason


def test_verify_detects_a_rehashed_edit(store) -> None:
    """Recomputing the edited entry's own hash still breaks the link from the next entry."""
    _fill(store, 3)
    rows = sorted(search(store), key=lambda e: e["id"])
    e = rows[1]
    new_hash = hashlib.sha256(
        canonical(
            e["at"],
            "someone else",
            e["action"],
            e["target"],
            e["ip"],
            e["record_kind"],
            e["record_id"],
            e["purpose"],
            json.dumps(e["detail"], sort_keys=True),
            e["prev_hash"],
        )
    ).hexdigest()
    with store.begin() as conn:
        conn.execute(
            update(audit_log)
            .where(audit_log.c.id == e["id"])
            .values(username="someone else", hash=new_hash)
        )
    result = verify(store)
    assert (result.ok, result.first_broken_id) == (False, rows[2]["id"])


def test_an_empty_log_verifies(store) -> None:
    assert verify(store).ok and verify(store).checked == 0


def test_concurrent_appends_never_fork_the_chain(store) -> None:
    def work(i: int) -> None:
        for j in range(10):
            record(store, f"u{i}", "problem.read", record_kind="problem", record_id=j)

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(work, range(4)))
    result = verify(store)
    assert (result.ok, result.checked) == (True, 40)
    with store.engine.connect() as conn:
        prevs = conn.execute(select(audit_log.c.prev_hash)).scalars().all()
    assert len(set(prevs)) == 40  # no two entries chained to the same predecessor


def test_an_entry_is_written_only_with_its_transaction(store) -> None:
    from peelian.data.audit import append

    with pytest.raises(RuntimeError), store.begin() as conn:
        append(conn, "u", "person.update", record_kind="person", record_id=1)
        raise RuntimeError("the change failed")
    assert count(store) == 0
    audit(store, "u", "person.read", record_kind="person", record_id=1, purpose="check")
    assert verify(store).ok


def test_search_filters_and_export(store) -> None:
    _fill(store, 6)
    audit(store, "admin1", "user.add", target="x")
    assert count(store) == 7
    assert count(store, AuditFilter(username="user1")) == 3
    assert count(store, AuditFilter(action="referral")) == 6
    assert count(store, AuditFilter(text="REVIEW 4")) == 1
    assert [
        e["record_id"] for e in search(store, AuditFilter(record_kind="referral"), limit=2)
    ] == [
        "6",
        "5",
    ]
    out = io.StringIO()
    assert export_csv(store, out, AuditFilter(username="user0")) == 3
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("id,at,username,action,record_kind,record_id,target,purpose")
    assert len(lines) == 4 and ",user0,referral.read,referral,1," in lines[1]
    # the old helper still answers, newest first
    assert list_audit(store, limit=1)[0]["action"] == "user.add"


def test_nothing_in_peelian_updates_or_deletes_audit_entries() -> None:
    """A source scan: only peelian.data.audit writes audit_log, and only by insert."""
    from pathlib import Path

    import peelian

    root = Path(peelian.__file__).parent
    offenders = []
    for path in root.rglob("*.py"):
        src = path.read_text()
        for bad in (
            "update(audit_log",
            "delete(audit_log",
            "DELETE FROM audit_log",
            "UPDATE audit_log",
        ):
            if bad in src:
                offenders.append(f"{path.relative_to(root)}: {bad}")
    assert offenders == []


def test_parallel_verify_links_the_ranges_in_order(store) -> None:
    _fill(store, 10)
    result = verify(store, workers=2)
    assert (result.ok, result.checked) == (True, 10)
    ids = sorted(e["id"] for e in search(store))
    with store.begin() as conn:  # the first entry of the second range goes
        conn.execute(delete(audit_log).where(audit_log.c.id == ids[5]))
    result = verify(store, workers=2)
    assert (result.ok, result.first_broken_id, result.checked) == (False, ids[6], 5)
    with store.begin() as conn:  # an earlier edit, in the first range, is named first
        conn.execute(update(audit_log).where(audit_log.c.id == ids[2]).values(action="x"))
    assert verify(store, workers=2).first_broken_id == ids[2]
    assert verify(store, workers=1).first_broken_id == ids[2]


def test_the_database_builds_the_same_canonical_text_as_python(store) -> None:
    """Quotes, backslashes, non-ASCII, control characters and an emoji in every text field."""
    odd = 'Ségolène "the \\ boss" 🚓\tline\nbreak\x7f'
    audit(
        store,
        "o'neil",
        "person.read",
        target=odd,
        ip="::1",
        record_kind="person",
        record_id='7"',
        purpose=odd,
        detail={"note": odd, "n": 1.5},
    )
    entry = search(store, limit=1)[0]
    assert entry["purpose"] == 'Ségolène "the \\ boss" 🚓 line break'
    assert "\n" not in entry["purpose"] and "\t" not in entry["target"]
    assert entry["detail"] == {"n": 1.5, "note": odd}  # detail keeps its text exactly
    assert verify(store).ok and verify(store, workers=2).ok
