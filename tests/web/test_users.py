"""Users: argon2 hashes, roles, verification, rate-limit counting, audit log, demo login."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from peelian.data.accounts.users import (
    add_user,
    ensure_demo_user,
    get_user,
    list_audit,
    list_users,
    recent_failures,
    remove_user,
    role_allows,
    verify_user,
)
from peelian.data.tables import users as users_table
from peelian.errors import AuthError, NotFoundError, ParameterError


def test_add_and_verify_user_stores_only_an_argon2_hash(store) -> None:
    user = add_user(store, "inspector.jones", "correct horse battery", "analyst")
    assert (user.username, user.role, user.enabled) == ("inspector.jones", "analyst", True)
    with store.engine.connect() as conn:
        stored = conn.execute(select(users_table.c.password_hash)).scalar_one()
    assert stored.startswith("$argon2id$")
    assert "correct horse" not in stored
    assert verify_user(store, "inspector.jones", "correct horse battery").role == "analyst"
    assert get_user(store, "inspector.jones").last_login_at is not None


def test_wrong_password_and_unknown_user_give_the_same_error(store) -> None:
    add_user(store, "viewer1", "a long passphrase", "viewer")
    with pytest.raises(AuthError) as wrong:
        verify_user(store, "viewer1", "not the passphrase", ip="10.0.0.1")
    with pytest.raises(AuthError) as unknown:
        verify_user(store, "nobody", "a long passphrase", ip="10.0.0.1")
    assert wrong.value.message == unknown.value.message
    window = dt.timedelta(minutes=15)
    assert recent_failures(store, "viewer1", "10.0.0.1", window) == 1
    assert recent_failures(store, "viewer1", "10.0.0.2", window) == 0
    verify_user(store, "viewer1", "a long passphrase", ip="10.0.0.1")
    assert recent_failures(store, "viewer1", "10.0.0.1", window) == 0  # reset by a success


def test_bad_input_is_refused_with_a_hint(store) -> None:
    with pytest.raises(ParameterError, match="role must be one of"):
        add_user(store, "x1", "a long passphrase", "superuser")
    with pytest.raises(ParameterError, match="too short"):
        add_user(store, "x1", "short", "viewer")
    with pytest.raises(ParameterError, match="not valid"):
        add_user(store, "bad name!", "a long passphrase", "viewer")
    add_user(store, "x1", "a long passphrase", "viewer")
    with pytest.raises(ParameterError, match="already exists"):
        add_user(store, "x1", "another passphrase", "admin")
    with pytest.raises(NotFoundError):
        remove_user(store, "nobody")


def test_roles_are_ordered() -> None:
    assert role_allows("admin", "analyst") and role_allows("analyst", "viewer")
    assert not role_allows("viewer", "analyst") and not role_allows("analyst", "admin")


def test_demo_user_is_created_then_reset_and_everything_is_audited(store) -> None:
    name, pw1 = ensure_demo_user(store)
    _, pw2 = ensure_demo_user(store)
    assert name == "demo" and pw1 != pw2 and len(pw2) >= 10
    assert verify_user(store, "demo", pw2).role == "admin"
    with pytest.raises(AuthError):
        verify_user(store, "demo", pw1)
    remove_user(store, "demo", actor="admin1")
    assert list_users(store) == []
    actions = [e["action"] for e in list_audit(store)]
    assert actions[:2] == ["user.remove", "login.failed"]
    assert actions.count("user.add") == 1 and actions.count("user.password") == 1
