"""Issue 11 items 1, 5, 6, 7 (logins), 12 and 14: secrets, login throttling, server-side
sessions, cookies and headers, and the audit of security events.

Each test reproduces a finding of the security review against the real app: in-process through
TestClient and, for the address and throttling findings, against uvicorn on a loopback port
(served the way ``peelian serve`` serves it). Storage tests run on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import socket
import stat
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from itsdangerous import Signer, URLSafeTimedSerializer
from sqlalchemy import select, update
from web_seed import PASSWORD, login

from peelian.config import PLACEHOLDER_SECRET, SECRET_FILE, Settings
from peelian.data.accounts import login_throttle
from peelian.data.accounts.login_throttle import Backoff, TooManyAttempts, reserve_attempt
from peelian.data.accounts.users import add_user, list_audit, remove_user, set_enabled, set_password
from peelian.data.tables import login_attempts, sessions
from peelian.errors import ConfigError
from peelian.web import create_app

STRONG = "k" * 48


def _settings(tmp_path: Path, **kw: object) -> Settings:
    base: dict[str, object] = {"data_dir": tmp_path, "env": "test", "secret_key": STRONG}
    base.update(kw)
    return Settings(**base)  # type: ignore[arg-type]


@pytest.fixture
def users(store) -> None:
    for role in ("admin", "analyst", "viewer"):
        add_user(store, role + "1", PASSWORD, role)


@pytest.fixture
def app(store, users, tmp_path):
    return create_app(_settings(tmp_path), store=store)


@pytest.fixture(autouse=True)
def _fresh_throttle_memory() -> Iterator[None]:
    login_throttle.clear_blocked()
    yield
    login_throttle.clear_blocked()


@pytest.fixture
def slow_backoff(monkeypatch) -> None:
    """A 60 s first backoff step, so "refused now" does not depend on how fast the machine is."""
    monkeypatch.setattr(login_throttle, "ACCOUNT", Backoff(free=5, base=60.0, cap=900.0))
    monkeypatch.setattr(login_throttle, "ADDRESS", Backoff(free=20, base=60.0, cap=900.0))


def _client(app, username: str | None = None, **kw: object) -> TestClient:
    c = TestClient(app, raise_server_exceptions=False, **kw)  # type: ignore[arg-type]
    if username:
        assert login(c, username).status_code == 303
    return c


def _logout(c: TestClient) -> httpx.Response:
    return c.post(
        "/logout", data={"csrf_token": c.cookies.get("peelian_csrf")}, follow_redirects=False
    )


def _actions(store) -> list[dict]:
    return list_audit(store, limit=500)


# -- 1. the signing secret ----------------------------------------------------------------------
def test_a_random_secret_is_generated_kept_private_and_reused(tmp_path) -> None:
    first = Settings(data_dir=tmp_path / "a", secret_key=None).with_secret()
    path = tmp_path / "a" / SECRET_FILE
    assert path.exists()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert first.secret_key == path.read_text().strip()
    assert len(first.secret_key.encode()) >= 48 and first.secret_key != PLACEHOLDER_SECRET
    again = Settings(data_dir=tmp_path / "a", secret_key=None).with_secret()
    assert again.secret_key == first.secret_key  # reused on the next start
    other = Settings(data_dir=tmp_path / "b", secret_key=None).with_secret()
    assert other.secret_key != first.secret_key  # per installation
    given = Settings(data_dir=tmp_path / "c", secret_key=STRONG).with_secret()
    assert given.secret_key == STRONG and not (tmp_path / "c" / SECRET_FILE).exists()


@pytest.mark.parametrize(
    ("env", "host", "secret", "allowed"),
    [
        ("production", "127.0.0.1", "x", False),
        ("production", "0.0.0.0", PLACEHOLDER_SECRET, False),
        ("production", "127.0.0.1", "y" * 31, False),
        ("development", "0.0.0.0", PLACEHOLDER_SECRET, False),
        ("development", "10.1.2.3", "short", False),
        ("test", "dashboard.force.example", PLACEHOLDER_SECRET, False),
        ("development", "127.0.0.1", PLACEHOLDER_SECRET, True),
        ("development", "localhost", "short", True),
        ("test", "::1", "short", True),
        ("production", "0.0.0.0", "z" * 32, True),
    ],
)
def test_weak_secrets_are_refused_outside_loopback_development(
    tmp_path, env, host, secret, allowed
) -> None:
    settings = Settings(data_dir=tmp_path, env=env, host=host, secret_key=secret)
    if allowed:
        assert settings.with_secret().secret_key == secret
        return
    with pytest.raises(ConfigError) as err:
        settings.with_secret()
    assert "PEELIAN_SECRET_KEY" in err.value.message and "forge sessions" in err.value.message
    assert "secrets.token_urlsafe" in (err.value.hint or "")


def test_serving_on_a_network_address_with_the_placeholder_refuses(tmp_path, monkeypatch) -> None:
    from typer.testing import CliRunner

    from peelian.cli import app as cli
    from peelian.config import get_settings

    monkeypatch.setenv("PEELIAN_SECRET_KEY", PLACEHOLDER_SECRET)
    monkeypatch.setenv("PEELIAN_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    try:
        r = CliRunner().invoke(
            cli, ["serve", "--host", "0.0.0.0", "--db", f"sqlite:///{tmp_path / 's.sqlite'}"]
        )
    finally:
        get_settings.cache_clear()
    assert r.exit_code == 2, r.output
    assert "PEELIAN_SECRET_KEY is the development placeholder" in r.output
    assert "0.0.0.0" in r.output


def test_a_session_forged_with_the_old_placeholder_no_longer_reads_the_users(
    store, tmp_path
) -> None:
    from peelian.data.accounts.users import ensure_demo_user

    ensure_demo_user(store)
    # the defaults of a fresh installation: no PEELIAN_SECRET_KEY, development, loopback
    app = create_app(Settings(data_dir=tmp_path, secret_key=None), store=store)
    assert app.state.ctx.settings.secret_key != PLACEHOLDER_SECRET
    old_style = URLSafeTimedSerializer(PLACEHOLDER_SECRET, salt="peelian.session").dumps(
        {"u": "demo"}
    )
    new_style = Signer(PLACEHOLDER_SECRET, salt="peelian.session.v2").sign(b"demo").decode()
    # even with the real secret, a cookie names a session, not a user
    real_key = Signer(app.state.ctx.settings.secret_key, salt="peelian.session.v2")
    with_real_key = real_key.sign(b"demo").decode()
    with TestClient(app, raise_server_exceptions=False) as c:
        for forged in (old_style, new_style, with_real_key):
            c.cookies.set("peelian_session", forged)
            r = c.get("/admin/users.json")
            assert r.status_code == 401, (forged, r.status_code)
            assert "users" not in r.json()


# -- 5/7. login throttling -----------------------------------------------------------------------
def test_concurrent_wrong_passwords_are_mostly_refused_before_hashing(
    app, store, slow_backoff
) -> None:
    clients = [_client(app) for _ in range(20)]
    for c in clients:
        c.get("/login")

    def attempt(c: TestClient) -> int:
        token = c.cookies.get("peelian_csrf")
        return c.post(
            "/login",
            data={"username": "viewer1", "password": "wrong password!", "csrf_token": token},
            follow_redirects=False,
        ).status_code

    with ThreadPoolExecutor(20) as pool:
        codes = Counter(pool.map(attempt, clients))
    assert set(codes) <= {401, 429, 503}, codes
    assert codes[401] <= login_throttle.ACCOUNT.free, codes  # passwords actually checked
    assert codes[429] >= 15, codes
    with store.engine.connect() as conn:
        recorded = conn.execute(
            select(login_attempts.c.id).where(login_attempts.c.username == "viewer1")
        ).all()
    assert len(recorded) == codes[401] + codes[503]  # refused by the throttle: not recorded


def test_backoff_not_lockout_the_right_password_works_once_the_delay_has_passed(
    app, store, slow_backoff
) -> None:
    c = _client(app)
    for _ in range(5):
        r = login(c, "viewer1", "wrong password!")
        assert r.status_code == 401 and "not right" in r.text
    r = login(c, "viewer1")  # the right password, but within the backoff delay
    assert r.status_code == 429 and "Too many failed logins" in r.text
    assert 55 <= int(r.headers["retry-after"]) <= 60
    assert login(_client(app), "analyst1").status_code == 303  # other accounts unaffected
    # a refused attempt is not a failure: it neither counts nor restarts the delay
    with store.engine.connect() as conn:
        n = conn.execute(
            select(login_attempts.c.id).where(login_attempts.c.username == "viewer1")
        ).all()
    assert len(n) == 5
    # 61 seconds later (the rows are moved back in time) the right password works again
    with store.begin() as conn:
        conn.execute(
            update(login_attempts)
            .where(login_attempts.c.username == "viewer1")
            .values(at=login_attempts.c.at - dt.timedelta(seconds=61))
        )
    login_throttle.clear_blocked()  # and the process's memory of the wait (time moved on)
    assert login(c, "viewer1").status_code == 303
    # the next wrong password starts again from the free allowance
    assert login(_client(app), "viewer1", "wrong password!").status_code == 401


def test_the_backoff_doubles_and_is_capped() -> None:
    b = login_throttle.ACCOUNT
    assert [b.delay(n) for n in (0, 4, 5, 6, 7, 10)] == [0, 0, 1, 2, 4, 32]
    assert b.delay(40) == b.cap == 900  # at most 15 minutes: never a permanent lockout


def test_spraying_many_usernames_from_one_address_is_limited(app, store, slow_backoff) -> None:
    for i in range(login_throttle.ADDRESS.free):
        reserve_attempt(store, f"sprayed{i}", "testclient")  # pending attempts count as failures
    with pytest.raises(TooManyAttempts, match="this address") as err:
        reserve_attempt(store, "yet.another", "testclient")
    assert err.value.retry_after >= 1
    r = login(_client(app), "someone.new", "wrong password!")
    assert r.status_code == 429 and "this address" in r.text
    reserve_attempt(store, "yet.another", "10.9.9.9")  # another address is not limited


def test_a_full_hashing_gate_refuses_at_once_without_hashing(app, store, monkeypatch) -> None:
    import peelian.data.accounts.users as users_mod

    c = _client(app)
    gate = app.state.sessions.gate
    gate.max_waiting = 0
    while gate.enter():
        pass  # every slot taken, as by concurrent logins
    hashed = []
    monkeypatch.setattr(
        users_mod, "_check_password_hash", lambda *a: hashed.append(a) or (None, False)
    )
    r = login(c, "viewer1", "wrong password!")
    assert r.status_code == 503 and r.headers["retry-after"] == "1"
    assert "busy" in r.text and hashed == []
    with store.engine.connect() as conn:  # counted as a failure: a flood spends its allowance
        assert conn.execute(select(login_attempts.c.success)).scalars().all() == [False]
    assert app.state.ctx.settings.login_concurrency >= 1


def test_forwarded_for_is_believed_only_from_configured_proxies(store, users, tmp_path) -> None:
    spoofed = {"x-forwarded-for": "203.0.113.9"}
    app = create_app(_settings(tmp_path), store=store)
    c = _client(app)
    c.get("/login")
    c.post(
        "/login",
        data={"username": "viewer1", "password": "wrong!", "csrf_token": c.cookies["peelian_csrf"]},
        headers=spoofed,
    )
    failed = next(e for e in _actions(store) if e["action"] == "login.failed")
    assert failed["ip"] == "testclient"  # the peer, not the header
    # behind a configured proxy the client's address is the last untrusted hop
    proxied = create_app(_settings(tmp_path, trusted_proxies="10.0.0.0/8"), store=store)
    p = _client(proxied, client=("10.0.0.5", 4321))
    p.get("/login")
    p.post(
        "/login",
        data={"username": "viewer1", "password": "wrong!", "csrf_token": p.cookies["peelian_csrf"]},
        headers={"x-forwarded-for": "198.51.100.1, 203.0.113.7, 10.0.0.6"},
    )
    failed = next(e for e in _actions(store) if e["action"] == "login.failed")
    assert failed["ip"] == "203.0.113.7"
    with pytest.raises(ConfigError, match="PEELIAN_TRUSTED_PROXIES"):
        create_app(_settings(tmp_path, trusted_proxies="not-an-address"), store=store)


# -- served instance -----------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def served(store, users, tmp_path) -> Iterator[str]:
    """The app served as ``peelian serve`` serves it (uvicorn, loopback, random port)."""
    import uvicorn

    from peelian.cli.serve import server_config

    port = _free_port()
    config = server_config(_settings(tmp_path, port=port), store=store)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


def test_served_instance_throttles_rotating_forwarded_addresses_and_audits_the_peer(
    served, store, slow_backoff
) -> None:
    def attempt(i: int) -> int:
        with httpx.Client(base_url=served, timeout=30) as c:
            c.get("/login")
            return c.post(
                "/login",
                data={
                    "username": "viewer1",
                    "password": "wrong password!",
                    "csrf_token": c.cookies["peelian_csrf"],
                },
                headers={"x-forwarded-for": f"198.51.100.{i}"},  # a new "address" each time
            ).status_code

    with ThreadPoolExecutor(20) as pool:
        codes = Counter(pool.map(attempt, range(20)))
    assert codes[429] >= 15 and codes[401] <= 5, codes
    entries = [e for e in _actions(store) if e["action"].startswith("login")]
    assert entries and {e["ip"] for e in entries} == {"127.0.0.1"}
    assert any(e["action"] == "login.rate_limited" for e in entries)
    r = httpx.get(served + "/api/status")
    assert r.status_code == 401 and r.headers["cache-control"] == "no-store"
    assert "unsafe-eval" not in r.headers["content-security-policy"]


# -- 6. sessions ---------------------------------------------------------------------------------
def test_logout_revokes_the_session_on_the_server(app, store) -> None:
    c = _client(app, "viewer1")
    stolen = c.cookies.get("peelian_session")
    assert c.get("/api/status").status_code == 200
    r = _logout(c)
    assert r.status_code == 303
    thief = _client(app)
    thief.cookies.set("peelian_session", stolen)
    assert thief.get("/api/status").status_code == 401  # the copied cookie is dead too
    with store.engine.connect() as conn:
        row = conn.execute(select(sessions)).one()
    assert row.revoked_reason == "logout" and row.revoked_at is not None
    assert any(e["action"] == "logout" and e["username"] == "viewer1" for e in _actions(store))


def test_the_cookie_token_is_stored_only_hashed(app, store) -> None:
    c = _client(app, "viewer1")
    token = Signer(STRONG, salt="peelian.session.v2").unsign(c.cookies["peelian_session"]).decode()
    with store.engine.connect() as conn:
        row = conn.execute(select(sessions)).one()
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(tuple(row))
    assert row.username == "viewer1" and row.expires_at - row.created_at == dt.timedelta(hours=12)


@pytest.mark.parametrize("change", ["password", "disable", "remove"])
def test_password_change_disabling_or_removing_ends_every_session(app, store, change) -> None:
    a, b = _client(app, "viewer1"), _client(app, "viewer1")  # two browsers
    assert a.get("/api/status").status_code == 200 and b.get("/api/status").status_code == 200
    if change == "password":
        set_password(store, "viewer1", "a brand new passphrase", actor="admin1")
    elif change == "disable":
        set_enabled(store, "viewer1", False, actor="admin1")
    else:
        remove_user(store, "viewer1", actor="admin1")
    assert a.get("/api/status").status_code == 401
    assert b.get("/api/status").status_code == 401
    with store.engine.connect() as conn:
        reasons = conn.execute(select(sessions.c.revoked_reason)).scalars().all()
    assert len(reasons) == 2 and set(reasons) == {
        {"password": "password", "disable": "disabled", "remove": "removed"}[change]
    }
    entry = _actions(store)[0]
    assert entry["target"] == "viewer1" and entry["detail"]["sessions_revoked"] == 2


def test_sessions_expire_after_idleness_and_after_twelve_hours(app, store) -> None:
    c = _client(app, "viewer1")
    assert c.get("/api/status").status_code == 200
    with store.engine.connect() as conn:
        seen = conn.execute(select(sessions.c.last_seen_at)).scalar_one()
    for _ in range(3):
        c.get("/api/status")
    with store.engine.connect() as conn:  # no write on every request
        assert conn.execute(select(sessions.c.last_seen_at)).scalar_one() == seen
    # 2 minutes idle: still live, and the next request records the activity
    with store.begin() as conn:
        conn.execute(update(sessions).values(last_seen_at=seen - dt.timedelta(minutes=2)))
    app.state.sessions.cache.clear()
    assert c.get("/api/status").status_code == 200
    with store.engine.connect() as conn:
        assert conn.execute(select(sessions.c.last_seen_at)).scalar_one() >= seen
    # 31 minutes idle (the default limit is 30): the session has ended
    with store.begin() as conn:
        conn.execute(update(sessions).values(last_seen_at=seen - dt.timedelta(minutes=31)))
    app.state.sessions.cache.clear()
    assert c.get("/api/status").status_code == 401
    # an active session past its absolute lifetime has ended too
    d = _client(app, "analyst1")
    with store.begin() as conn:
        conn.execute(
            update(sessions)
            .where(sessions.c.username == "analyst1")
            .values(expires_at=dt.datetime.now(dt.UTC).replace(tzinfo=None))
        )
    app.state.sessions.cache.clear()
    assert d.get("/api/status").status_code == 401


def test_the_idle_limit_is_a_setting(store, users, tmp_path) -> None:
    app = create_app(_settings(tmp_path, session_idle_minutes=5), store=store)
    c = _client(app, "viewer1")
    with store.begin() as conn:
        seen = conn.execute(select(sessions.c.last_seen_at)).scalar_one()
        conn.execute(update(sessions).values(last_seen_at=seen - dt.timedelta(minutes=6)))
    app.state.sessions.cache.clear()
    assert c.get("/api/status").status_code == 401


# -- 12. cookies, CSRF and headers ---------------------------------------------------------------
def test_login_rotates_the_session_and_the_csrf_token_is_bound_to_it(app, store) -> None:
    c = _client(app, "viewer1")
    first_session, first_csrf = c.cookies["peelian_session"], c.cookies["peelian_csrf"]
    other = _client(app, "analyst1")
    # the analyst's token does not work with the viewer's session, even with a matching cookie
    c.cookies.set("peelian_csrf", other.cookies["peelian_csrf"])
    r = c.post(
        "/logout", data={"csrf_token": other.cookies["peelian_csrf"]}, follow_redirects=False
    )
    assert r.status_code == 403
    assert any(e["action"] == "forbidden" and e["username"] == "viewer1" for e in _actions(store))
    assert c.get("/api/status").status_code == 200  # not logged out
    # logging in again from a browser that still holds the old session: a new session and a
    # new CSRF token; the old session is revoked (no fixation)
    again = _client(app)
    again.get("/login")
    again.cookies.set("peelian_session", first_session, domain="testserver.local")
    r = again.post(
        "/login",
        data={
            "username": "viewer1",
            "password": PASSWORD,
            "csrf_token": again.cookies["peelian_csrf"],
        },
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert again.cookies["peelian_session"] != first_session
    assert again.cookies["peelian_csrf"] != first_csrf
    assert again.get("/api/status").status_code == 200
    thief = _client(app)
    thief.cookies.set("peelian_session", first_session)
    assert thief.get("/api/status").status_code == 401


def test_cookies_are_secure_by_deployment_not_by_host_header(store, users, tmp_path) -> None:
    def cookies(settings: Settings, base_url: str) -> list[str]:
        with TestClient(create_app(settings, store=store), base_url=base_url) as c:
            r = login(c, "viewer1")
            assert r.status_code == 303, r.text
            return r.headers.get_list("set-cookie")

    local = cookies(_settings(tmp_path), "https://dashboard.force.example")
    assert not any("Secure" in x for x in local)  # loopback development: Host is ignored
    deployed = _settings(tmp_path, env="production", host="0.0.0.0")
    set_cookies = cookies(deployed, "https://dashboard.force.example")
    assert {x.split("=")[0] for x in set_cookies} == {"peelian_session", "peelian_csrf"}
    assert all("Secure" in x and "HttpOnly" in x for x in set_cookies), set_cookies
    with TestClient(create_app(deployed, store=store), base_url="http://localhost") as c:
        first = c.get("/login").headers["set-cookie"]  # a plain-HTTP Host changes nothing
    assert first.startswith("peelian_csrf=") and "Secure" in first
    forced = cookies(_settings(tmp_path, secure_cookies=True), "https://testserver")
    assert all("Secure" in x for x in forced)


def test_security_headers_no_store_hsts_and_csp(app, store, users, tmp_path) -> None:
    c = _client(app, "viewer1")
    for path in ("/api/status", "/index.json", "/login", "/admin/users.json"):
        r = c.get(path)
        assert r.headers["cache-control"] == "no-store", path
        csp = r.headers["content-security-policy"]
        assert "unsafe-eval" not in csp and "script-src 'self';" in csp
        assert "strict-transport-security" not in r.headers
    plotly = c.get("/vendor/plotly.min.js")
    assert plotly.headers["cache-control"] == "public, max-age=86400"
    assert c.get("/static/app.css").headers.get("cache-control") != "no-store"
    docs = c.get("/docs")
    assert docs.status_code == 200 and "SwaggerUIBundle" in docs.text
    docs_csp = docs.headers["content-security-policy"]
    assert (
        "'sha256-" in docs_csp
        and "unsafe-inline" not in docs_csp.split("script-src")[1].split(";")[0]
    )
    hsts = create_app(_settings(tmp_path, hsts=True), store=store)
    with TestClient(hsts) as h:
        value = h.get("/login").headers["strict-transport-security"]
    assert value.startswith("max-age=31536000")


# -- 14. audit -----------------------------------------------------------------------------------
def test_audit_records_forbidden_rate_limited_logout_and_revocation(
    app, store, slow_backoff
) -> None:
    v = _client(app, "viewer1")
    assert v.get("/admin/users.json").status_code == 403
    assert v.get("/admin/users.json").status_code == 403  # a repeat within seconds is counted
    _logout(v)
    bad = _client(app)
    for _ in range(6):
        login(bad, "analyst1", "wrong password!")
    set_password(store, "analyst1", "another long passphrase", actor="admin1")
    entries = _actions(store)
    by_action = Counter(e["action"] for e in entries)
    assert by_action["forbidden"] == 1 and by_action["logout"] == 1
    assert by_action["login.failed"] == 5 and by_action["login.rate_limited"] == 1
    forbidden = next(e for e in entries if e["action"] == "forbidden")
    assert forbidden["username"] == "viewer1" and forbidden["target"] == "GET /admin/users.json"
    assert forbidden["ip"] == "testclient"
    limited = next(e for e in entries if e["action"] == "login.rate_limited")
    assert limited["username"] == "analyst1" and limited["detail"]["retry_after"] >= 55
    changed = next(e for e in entries if e["action"] == "user.password")
    assert changed["username"] == "admin1" and changed["target"] == "analyst1"
    assert "sessions_revoked" in changed["detail"]
    assert all(PASSWORD not in str(e) and "wrong password" not in str(e) for e in entries)


def test_admin_disables_a_user_from_the_users_page(app, store) -> None:
    admin, viewer = _client(app, "admin1"), _client(app, "viewer1")
    token = admin.cookies["peelian_csrf"]
    r = admin.post(
        "/admin/users/viewer1/disable", data={"csrf_token": token}, follow_redirects=False
    )
    assert r.status_code == 303 and "Disabled" in r.headers["location"]
    assert viewer.get("/api/status").status_code == 401
    assert login(_client(app), "viewer1").status_code == 401
    users = {u["username"]: u for u in admin.get("/admin/users.json").json()["users"]}
    assert users["viewer1"]["enabled"] is False
    r = admin.post(
        "/admin/users/viewer1/enable", data={"csrf_token": token}, follow_redirects=False
    )
    assert r.status_code == 303
    assert login(_client(app), "viewer1").status_code == 303
    assert viewer.post("/admin/users/admin1/disable", data={"csrf_token": "x"}).status_code in (
        401,
        403,
    )


def test_the_secret_file_is_not_world_readable_even_if_loosened(tmp_path) -> None:
    Settings(data_dir=tmp_path, secret_key=None).with_secret()
    path = tmp_path / SECRET_FILE
    os.chmod(path, 0o644)
    Settings(data_dir=tmp_path, secret_key=None).with_secret()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


# -- the CSP in a real browser --------------------------------------------------------------------
@pytest.mark.browser
def test_docs_and_charts_render_under_the_csp_without_violations(tmp_path) -> None:
    """Swagger UI (/docs) and Plotly charts and maps run under the CSP (no 'unsafe-eval', no
    inline script): no CSP violation and no JavaScript error in Chromium."""
    chromium = "/usr/bin/chromium"
    if not Path(chromium).exists():
        pytest.skip(f"Chromium is not installed at {chromium} (make browser)")
    import uvicorn
    from a11y import assert_accessible
    from playwright.sync_api import sync_playwright
    from web_seed import seed_all

    from peelian.data.store import open_store

    store = open_store(f"sqlite:///{tmp_path / 'b.sqlite'}")
    seed_all(store)
    add_user(store, "admin1", PASSWORD, "admin")
    port = _free_port()
    app = create_app(_settings(tmp_path), store=store)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    base = f"http://127.0.0.1:{port}"
    args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium, args=args)
            pg = browser.new_page()
            pg.set_default_timeout(20_000)
            problems: list[str] = []
            pg.on("pageerror", lambda e: problems.append(str(e)))
            pg.on(
                "console",
                lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None,
            )
            pg.goto(base + "/docs")
            pg.wait_for_selector(".swagger-ui .info .title")
            assert "peelian" in pg.locator(".swagger-ui .info .title").inner_text()
            pg.wait_for_selector(".opblock-tag", state="attached")
            assert_accessible(pg, context="/docs under the CSP")
            pg.goto(base + "/login")
            assert_accessible(pg, context="login page under the CSP")
            pg.get_by_label("Username").fill("admin1")
            pg.get_by_label("Password").fill(PASSWORD)
            pg.get_by_role("button", name="Log in").click()
            pg.wait_for_url(base + "/")
            pg.wait_for_selector("#trend .main-svg", state="attached")
            assert_accessible(pg, context="overview under the CSP")
            pg.goto(base + "/map")
            pg.wait_for_selector("#map canvas", state="attached")
            pg.wait_for_selector("#map[data-ready='true']", state="attached")
            assert_accessible(pg, context="map page under the CSP")
            browser.close()
        assert problems == [], problems[:5]
    finally:
        server.should_exit = True
        thread.join(10)
        store.dispose()
